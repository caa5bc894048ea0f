"""Reading the files people give planlang: regular files only, of a bounded size.

A FIFO would block a read forever and ``/dev/zero`` would fill memory, so anything that is not a
regular file is refused before it is opened, and a file is read at most one byte past its limit
(a file that grows while it is read cannot get past the limit either).

Writing output files is atomic: a reader (or a crash) never sees half a file.

Every writer (data workbooks, results workbooks, CSV, JSON receipts, HTML reports) writes beside
the target and renames over it, so a failure leaves the previous file, or none, in place.
"""

from __future__ import annotations

import gc
import os
import stat
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

from .diagnostics import InputError

__all__ = ["read_bytes", "check_regular", "MAX_POLICY_BYTES", "MAX_DATA_BYTES", "megabytes", "write_atomically",
           "write_text_atomically", "write_workbook_atomically"]

MAX_POLICY_BYTES = 8 * 1024 * 1024  # a policy file: the shipped ones are a few kB
MAX_DATA_BYTES = 64 * 1024 * 1024  # a data file, unless the caller raises it (run --max-data-mb)

_KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def check_regular(path: Path, display: str, limit: int, raise_with: str | None = None) -> os.stat_result:
    """The file's status, once it is known to be a regular file of at most ``limit`` bytes."""
    try:
        status = path.stat()
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", display) from None
    if not stat.S_ISREG(status.st_mode):
        kind = next((word for test, word in _KINDS.items() if test(status.st_mode)), "not a regular file")
        raise InputError(f"is {kind}, not a regular file; planlang reads only regular files", display)
    if status.st_size > limit:
        raise _too_large(display, limit, raise_with)
    return status


def read_bytes(path: Path, display: str, limit: int, raise_with: str | None = None) -> bytes:
    """The contents of a regular file of at most ``limit`` bytes."""
    size = check_regular(path, display, limit, raise_with).st_size
    try:
        with open(path, "rb") as handle:
            # read(limit + 1) would allocate the whole limit first (a MemoryError under --max-data-mb 100000);
            # the file's size, and then small steps should it have grown since, reach the same answer
            data = handle.read(size + 1)
            while len(data) <= limit and (more := handle.read(min(limit + 1 - len(data), 1 << 20))):
                data += more
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", display) from None
    if len(data) > limit:
        raise _too_large(display, limit, raise_with)
    return data


def _too_large(display: str, limit: int, raise_with: str | None) -> InputError:
    return InputError(f"is larger than the {megabytes(limit)} planlang reads", display,
                      f"{raise_with} raises the limit" if raise_with else None)


def write_atomically(target: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(temporary_path)``, then rename the temporary file over ``target``."""
    target = Path(target)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(f"cannot be written: {error.strerror or error}", str(target)) from None
    os.close(handle)
    try:
        write(temporary)
        # mkstemp makes the file private: keep the mode of the file replaced, or make it readable by all
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644)
        os.replace(temporary, target)
    except OSError as error:
        raise InputError(f"cannot be written: {error.strerror or error}", str(target)) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text_atomically(target: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically (newlines as given)."""
    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            try:
                handle.write(text)
            except UnicodeEncodeError as error:
                # data and the command line are refused when they are not UTF-8; what is left is the name of a
                # folder they are in (a receipt records the absolute path)
                code = ord(text[error.start])  # U+DC80 to U+DCFF: Python's stand-in for a byte that is not UTF-8
                found = f"the byte 0x{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
                raise InputError(f"cannot be written: it would record a file or folder name that is not UTF-8 text "
                                 f"({found})", str(target), "rename the folder or file") from None

    write_atomically(target, write)


def write_workbook_atomically(target: str | os.PathLike, book) -> None:
    """Save an openpyxl workbook atomically; a failure to write it is one message, as for any file."""
    def write(path: str) -> None:
        try:
            book.save(path)
        except OSError as error:
            raise _after_quiet_cleanup(error) from None

    write_atomically(target, write)


def _after_quiet_cleanup(error: OSError) -> OSError:
    """``error`` without its traceback, once the objects it held are cleaned up without a word.

    On a full disk openpyxl leaves its ZipFile and a sheet's XML writer open; each tries to finish
    its file when collected, fails again, and Python prints that failure as "Exception ignored"
    with a traceback, after planlang's own message. They are collected here, while such failures
    are not printed; the first failure is the one reported.
    """
    reason = OSError(error.errno, error.strerror)
    previous, sys.unraisablehook = sys.unraisablehook, lambda unraisable: None
    try:
        traceback.clear_frames(error.__traceback__)
        error.__traceback__ = None
        del error
        gc.collect()
    finally:
        sys.unraisablehook = previous
    return reason
