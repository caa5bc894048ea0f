"""Writing output files atomically: a reader (or a crash) never sees half a file.

Every writer (data workbooks, results workbooks, CSV, JSON receipts, HTML reports) writes beside
the target and renames over it, so a failure leaves the previous file, or none, in place.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .diagnostics import InputError

__all__ = ["write_atomically", "write_text_atomically"]


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
            handle.write(text)

    write_atomically(target, write)
