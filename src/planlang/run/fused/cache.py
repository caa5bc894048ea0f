"""Fused loops compiled by numba, kept on disk so that a later process loads them instead of compiling.

A loop's source (:mod:`planlang.run.fused.emit`) is written once to ``<cache>/k<digest>.py``, named by
the digest of its text, and imported from there with ``@njit(cache=True)``: numba keeps the machine
code beside it (``__pycache__``), keyed by that file. A plan whose formulas change keeps the loops
whose shape it still has. The folder is ``$PLANLANG_CACHE`` when set, else
``$XDG_CACHE_HOME/planlang/kernels`` (``~/.cache/planlang/kernels``).

numba is optional (the ``fast`` extra): :func:`available` says whether it can be imported, and it is
imported only when a loop is first wanted, so a run that never fuses never pays numba's start-up.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["available", "kernel_for", "cache_dir"]

HEADER = "# A fused planlang loop, generated: see planlang.run.fused.emit. Safe to delete.\nfrom numba import njit\n\n\n"

_loaded: dict[str, object] = {}
_available: list[bool] = []


def available() -> bool:
    """Whether numba can be imported here (looked up once; not imported)."""
    if not _available:
        _available.append(importlib.util.find_spec("numba") is not None)
    return _available[0]


def cache_dir() -> Path:
    given = os.environ.get("PLANLANG_CACHE")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "planlang" / "kernels"


def kernel_for(source: str):
    """The compiled loop of ``source`` (a ``def kernel(...)``): from this process, else from disk, else compiled."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    found = _loaded.get(digest)
    if found is not None:
        return found
    folder = cache_dir()
    path = folder / f"k{digest}.py"
    text = HEADER + "@njit(cache=True, nogil=True)\n" + source
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False, encoding="utf-8") as handle:
                handle.write(text)
            os.replace(handle.name, path)  # whole or not at all: another process may be reading it
        spec = importlib.util.spec_from_file_location(f"planlang_kernel_{digest}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # numba's cache finds the loop's module again by name
        spec.loader.exec_module(module)
    except OSError:  # no writable cache: compile in memory, for this process only
        module = type(sys)(f"planlang_kernel_{digest}")
        exec(compile(HEADER + "@njit(nogil=True)\n" + source, f"<kernel {digest}>", "exec"), module.__dict__)
    found = _loaded[digest] = module.kernel
    return found
