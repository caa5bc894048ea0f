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

import ast
import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["available", "kernel_for", "cache_dir", "generated"]

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


# What a generated loop may hold: numbers, the generator's own names, arithmetic, comparisons and
# control flow over them, ``out.shape``, and these calls. A policy's text (names, quoted strings,
# citations) never becomes source: constants go in through the ``k`` array, and this check holds it.
_CALLS = frozenset({"range", "min", "max", "abs"})
_FORBIDDEN = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.AsyncFunctionDef, ast.Lambda, ast.Global, ast.Nonlocal,
              ast.With, ast.Try, ast.Raise, ast.Delete, ast.Await, ast.Yield, ast.YieldFrom, ast.JoinedStr,
              ast.Starred, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def generated(source: str) -> str:
    r"""``source`` itself, once it is shown to be a loop :mod:`.emit` could have written: one ``def kernel``
    over whole numbers and the generator's names, nothing from a policy's text.

    >>> generated("def kernel(a0, m0, k, out, miss, defer):\n    for i in range(out.shape[0]):\n        out[i] = a0[i]\n")[:10]
    'def kernel'
    >>> generated("def kernel(k, out, miss, defer):\n    out[0] = __import__('os')\n")
    Traceback (most recent call last):
    ValueError: not a generated loop: a call of __import__
    """
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef) or tree.body[0].name != "kernel":
        raise ValueError("not a generated loop: one def kernel(...) expected")
    for node in ast.walk(tree):
        if isinstance(node, _FORBIDDEN) or isinstance(node, ast.FunctionDef) and node is not tree.body[0]:
            raise ValueError(f"not a generated loop: {type(node).__name__}")
        if isinstance(node, ast.Constant) and type(node.value) not in (int, bool):
            raise ValueError(f"not a generated loop: the constant {node.value!r}")
        if isinstance(node, ast.Attribute) and node.attr != "shape":
            raise ValueError(f"not a generated loop: the attribute {node.attr}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _CALLS):
            raise ValueError(f"not a generated loop: a call of {ast.unparse(node.func)}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ValueError(f"not a generated loop: the name {node.id}")
    return source


def kernel_for(source: str):
    """The compiled loop of ``source`` (a ``def kernel(...)``, checked by :func:`generated`): from this process,
    else from disk, else compiled."""
    generated(source)
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
