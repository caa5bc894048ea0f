"""Writing a file atomically: a reader (or a crash) never sees half of it."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .diagnostics import InputError

__all__ = ["write_atomically"]


def write_atomically(target: Path, save: Callable[[str], None]) -> None:
    """``save(path)`` writes the content to a file beside ``target``, which is then renamed over it."""
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(f"cannot be written: {error.strerror or error}", str(target)) from None
    os.close(handle)
    try:
        save(temporary)
        # mkstemp makes the file private: keep the mode of the file replaced, or make it readable by all
        os.chmod(temporary, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644)
        os.replace(temporary, target)
    except OSError as error:
        raise InputError(f"cannot be written: {error.strerror or error}", str(target)) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
