"""Reading the files people give planlang: regular files only, of a bounded size.

A FIFO would block a read forever and ``/dev/zero`` would fill memory, so anything that is not a
regular file is refused before it is opened, and a file is read at most one byte past its limit
(a file that grows while it is read cannot get past the limit either).

Writing output files is atomic: a reader (or a crash) never sees half a file.

Every writer (data workbooks, results workbooks, CSV, JSON receipts, HTML reports) writes beside
the target and renames over it, so a failure leaves the previous file, or none, in place; a device
or a pipe is written into, never replaced. A command refuses an output that is one of its inputs,
or another of its outputs, before it starts (:func:`refuse_overwrites`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import stat
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from .diagnostics import InputError, UsageError
from .source import not_utf8
from .xlsxfile import save_workbook

__all__ = ["read_bytes", "check_regular", "MAX_POLICY_BYTES", "MAX_DATA_BYTES", "megabytes", "write_atomically",
           "write_text_atomically", "write_workbook_atomically", "refuse_overwrites", "remove_temporaries"]

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
    """Call ``write(path)`` so that ``target`` ends up holding what it wrote, whole or not at all.

    A regular file (or a new one) is written beside the target and renamed over it; a link to a
    regular file has its target replaced, the link kept. A character device or a named pipe
    (``/dev/null``, ``/dev/stdout``, ``/proc/self/fd/1``) is written into directly: renaming over it
    would put a regular file in its place. A folder, a block device or a socket is refused.
    """
    display = str(target)
    try:
        mode = os.stat(target).st_mode
    except OSError:  # nothing there yet (or a link to nothing): a new file
        mode = None
    try:
        if mode is not None and (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            write(os.fspath(target))
            return
        if mode is not None and not stat.S_ISREG(mode):
            kind = next((word for test, word in _KINDS.items() if test(mode)), "not a regular file")
            raise InputError(f"is {kind}; planlang writes a regular file, a character device or a named pipe", display)
        real = Path(os.path.realpath(target))
        temporary = _temporary(real)
        try:
            write(temporary)
            # the temporary file is private: keep the mode of the file replaced, or make it readable by all
            os.chmod(temporary, stat.S_IMODE(mode) if mode is not None else 0o644)
            os.replace(temporary, real)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            _IN_FLIGHT.discard(temporary)
    except OSError as error:
        raise InputError(f"cannot be written: {error.strerror or error}", display) from None


# The temporary files being written now, for the signal handlers to remove before the process ends
# (they end it at once with os._exit, which runs no `finally`): a Ctrl-C leaves no `.name.1a2b.tmp`.
_IN_FLIGHT: set[str] = set()


def _temporary(beside: Path) -> str:
    """A new empty file in ``beside``'s folder, named after it; known to :func:`remove_temporaries` before it exists."""
    while True:
        path = os.path.join(beside.parent, f".{beside.name}.{secrets.token_hex(8)}.tmp")
        _IN_FLIGHT.add(path)  # first, so that no moment has the file on disk and unknown to the handler
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return path
        except FileExistsError:  # someone else's file: not ours to remove
            _IN_FLIGHT.discard(path)
        except OSError:
            _IN_FLIGHT.discard(path)
            raise


def remove_temporaries() -> None:
    """Remove the temporary files of every write under way (the process is about to end)."""
    for path in list(_IN_FLIGHT):
        with contextlib.suppress(OSError):
            os.unlink(path)


def refuse_overwrites(outputs: Iterable[tuple[str, str | os.PathLike]],
                      inputs: Iterable[tuple[str, str | os.PathLike]]) -> None:
    """Refuse, naming both, an output that is one of the command's inputs or another of its outputs.

    Each is a (what, path) pair, such as ("--receipt", "d.json") and ("--data", "d.json").
    Paths are the same file when they lead to the same inode (a link, a hard link, ``./d.json``) or,
    for files not yet made, to the same place. A character device takes any number of outputs
    (``/dev/null``) and is never an input.
    """
    seen: dict[tuple | None, str] = {}
    for what, path in inputs:
        seen.setdefault(_identity(path), f"{what} {os.fspath(path)}, which the command reads")
    for what, path in outputs:
        identity = _identity(path)
        if identity is None:
            continue
        if identity in seen:
            raise UsageError(f"is the same file as {seen[identity]}", f"{what} {os.fspath(path)}",
                             "give each output a name of its own: planlang does not write over what it reads, "
                             "nor two outputs into one file")
        seen[identity] = f"{what} {os.fspath(path)}, which the command also writes"


def _identity(path: str | os.PathLike) -> tuple | None:
    try:
        status = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    return None if stat.S_ISCHR(status.st_mode) else ("inode", status.st_dev, status.st_ino)


def write_text_atomically(target: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically (newlines as given)."""
    def write(path: str) -> None:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            try:
                handle.write(text)
            except UnicodeEncodeError as error:
                # data and the command line are refused when they are not UTF-8; what is left is the name of a
                # folder they are in (a receipt records the absolute path)
                raise InputError(f"cannot be written: it would record a file or folder name that is not UTF-8 text "
                                 f"({not_utf8(text[error.start:])})", str(target), "rename the folder or file") from None

    write_atomically(target, write)


def write_workbook_atomically(target: str | os.PathLike, book) -> None:
    """Save an openpyxl workbook atomically; a failure to write it is one message, as for any file."""
    def write(path: str) -> None:
        try:
            save_workbook(book, path)
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
