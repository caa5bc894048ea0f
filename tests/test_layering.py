"""The house's layering, read from the modules' own imports: no circles, nothing imports upward.

Every module of ``src/planlang`` is parsed (never imported) and each of its imports of another
planlang module becomes an arrow. An import inside a function is *lazy*: it still counts, because a
lazy import may put off a circle's first step but never removes the circle. An import under
``if TYPE_CHECKING:`` is *typing*: it never runs, so it makes no circle, but it still may not
point upward. ``import a.b.c`` (and ``from a.b.c import x``) runs ``a/b/__init__`` first, so it is
an arrow to each package on the way too, except to the importer's own packages, which are always
already running by the time it is: that is how a package's ``__init__`` re-exporting its own
submodules makes no circle with them.

:data:`LAYERS` is the house from the ground up. A module may import its own layer and those below;
the root ``planlang/__init__`` (the public door, which imports on first use) is exempt. A new module
fails :func:`test_every_module_has_a_layer` until it is placed.

The same arrows in words, for a reader: ``python tests/test_layering.py`` prints every module by
layer with what it imports.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import attrs
import networkx as nx
import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "planlang"
PACKAGE = "planlang"

# From the ground up. Each layer is a set of prefixes: "data" places planlang.data and everything
# under planlang/data/; "" is the root package's __init__ alone.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = tuple((name, frozenset(prefixes)) for name, prefixes in (
    ("foundation", {"source", "diagnostics", "files", "xlsxfile", "periods", "values", "types", "syntax",
                    "builtins", "ops", "citations"}),
    ("language", {"parser", "printer", "formatter"}),
    ("check", {"checker"}),
    ("compile", {"graph", "compiler", "plan"}),
    ("data", {"data"}),
    ("scenario", {"scenario"}),
    ("run", {"run", "explanation"}),
    ("analysis", {"assumptions", "coverage", "compare", "impact", "solve", "sweep", "rulediff"}),
    ("render", {"render", "audit"}),
    ("tools", {"testing", "lexer", "lsp", "api", "assurance"}),
    ("workbench", {"workbench"}),
    ("cli", {"cli", "__main__", ""}),
))

# Circles excused while a change takes them apart (none now); each entry is the set of modules of one
# circle, and a circle is excused only while it stays within one of them.
KNOWN_CIRCLES: tuple[frozenset[str], ...] = ()


@attrs.frozen
class Arrow:
    source: str
    target: str
    line: int
    how: str  # "eager", "lazy" (inside a function) or "typing" (under TYPE_CHECKING)
    implied: bool = False  # a package run on the way to the module imported, not named by the import


def modules(root: Path = SOURCE) -> dict[str, Path]:
    """Every module under ``root``, by dotted name (a package by its own name, for its ``__init__``)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = (PACKAGE, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_package(name: str, known: dict[str, Path]) -> bool:
    return known[name].name == "__init__.py"


def _ancestors(name: str) -> list[str]:
    """The packages that running ``name`` runs first, outermost first (the root package left out)."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(2, len(parts))]


class _Imports(ast.NodeVisitor):
    def __init__(self, name: str, known: dict[str, Path]):
        self.name, self.known = name, known
        self.package = name if _is_package(name, known) else name.rpartition(".")[0]
        self.depth = 0
        self.typing = False
        self.found: list[tuple[str, int, str, bool]] = []

    def _how(self) -> str:
        return "typing" if self.typing else "lazy" if self.depth else "eager"

    def _add(self, target: str, line: int) -> None:
        own = set(_ancestors(self.name)) | ({self.name} if _is_package(self.name, self.known) else set())
        for step in _ancestors(target):
            if step in self.known and step not in own:
                self.found.append((step, line, self._how(), True))
        if target in self.known or target == PACKAGE:  # named by the import: its own package's names too
            self.found.append((target, line, self._how(), False))

    def _function(self, node) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            was, self.typing = self.typing, True
            for child in node.body:
                self.visit(child)
            self.typing = was
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[:len(base) - (node.level - 1)]
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        if module != PACKAGE and not module.startswith(PACKAGE + "."):
            return
        for alias in node.names:
            submodule = f"{module}.{alias.name}"
            self._add(submodule if submodule in self.known else module, node.lineno)


def arrows(root: Path = SOURCE) -> list[Arrow]:
    """Every import of one planlang module by another, as arrows (a module importing itself left out)."""
    known = modules(root)
    found = []
    for name, path in known.items():
        visitor = _Imports(name, known)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        seen = set()
        for target, line, how, implied in visitor.found:
            if target != name and (target, how, implied) not in seen:
                seen.add((target, how, implied))
                found.append(Arrow(name, target, line, how, implied))
    return found


def layer_of(name: str) -> int | None:
    """The index in :data:`LAYERS` of the layer that places ``name``, by its longest matching prefix."""
    relative = name.removeprefix(PACKAGE).removeprefix(".")
    best, where = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = relative == prefix if prefix == "" else relative == prefix or relative.startswith(prefix + ".")
            if matches and len(prefix) > best:
                best, where = len(prefix), index
    return where


def _where(arrow: Arrow, known: dict[str, Path]) -> str:
    path = known[arrow.source].relative_to(SOURCE.parents[1])
    return f"{path}:{arrow.line}: {arrow.source} imports {arrow.target}" + ("" if arrow.how == "eager" else f" ({arrow.how})")


def test_every_module_has_a_layer():
    unplaced = [name for name in modules() if layer_of(name) is None]
    assert not unplaced, f"place these modules in a layer of LAYERS (tests/test_layering.py): {unplaced}"


def test_no_circles():
    known = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    found = [arrow for arrow in arrows() if arrow.how != "typing"]
    graph.add_edges_from((arrow.source, arrow.target) for arrow in found)
    circles = [set(component) for component in nx.strongly_connected_components(graph) if len(component) > 1]
    unexcused = [circle for circle in circles if not any(circle <= known_circle for known_circle in KNOWN_CIRCLES)]
    described = []
    for circle in unexcused:
        described.append(" ; ".join(_where(arrow, known) for arrow in found
                                    if arrow.source in circle and arrow.target in circle))
    assert not unexcused, "modules that import each other in a circle:\n" + "\n".join(described)


def test_nothing_imports_upward():
    known = modules()
    upward = [arrow for arrow in arrows()
              if arrow.source != PACKAGE and layer_of(arrow.source) is not None and layer_of(arrow.target) is not None
              and layer_of(arrow.target) > layer_of(arrow.source)]
    assert not upward, "imports from a lower layer to a higher one (LAYERS, tests/test_layering.py):\n" + "\n".join(
        f"{_where(arrow, known)}: {LAYERS[layer_of(arrow.source)][0]} -> {LAYERS[layer_of(arrow.target)][0]}"
        for arrow in upward)


def test_audit_takes_from_render_only_figures_and_words():
    """The audit outputs show figures as ``run`` shows them and a derivation's steps in ``explain``'s
    words, and ``receipt`` records ``run --json``: nothing else of :mod:`planlang.render`."""
    allowed = {f"{PACKAGE}.render.{name}" for name in ("values", "steps", "run")}
    taken = {(arrow.source, arrow.target) for arrow in arrows()
             if not arrow.implied and arrow.source.startswith(f"{PACKAGE}.audit") and layer_of(arrow.target) == layer_of(f"{PACKAGE}.render")
             and not arrow.target.startswith(f"{PACKAGE}.audit")}
    assert {target for _, target in taken} <= allowed, sorted(taken)


def test_every_package_says_what_it_owns():
    known = modules()
    packages = [name for name in known if _is_package(name, known)]
    folders = {path.parent for path in SOURCE.rglob("*.py")}
    assert all((folder / "__init__.py").exists() for folder in folders), "a folder of modules without an __init__.py"
    silent = [name for name in packages if not ast.get_docstring(ast.parse(known[name].read_text(encoding="utf-8")))]
    assert not silent, f"packages whose __init__ has no docstring saying what the package owns: {silent}"


@pytest.mark.parametrize("text, expected", [
    ("from .data import Dataset", ["planlang.data"]),
    ("from . import syntax as s", ["planlang.syntax"]),
    ("import planlang.run.totals", ["planlang.run", "planlang.run.totals"]),
    ("from .run import totals", ["planlang.run", "planlang.run.totals"]),
    ("def f():\n    from .run.totals import Total", ["planlang.run (lazy)", "planlang.run.totals (lazy)"]),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .run import Results", ["planlang.run (typing)"]),
])
def test_arrows_are_read_as_python_runs_them(tmp_path, text, expected):
    for name in ("run/__init__.py", "run/totals.py", "data.py", "syntax.py", "__init__.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text('"""A module."""\n')
    (tmp_path / "here.py").write_text(text)
    found = [arrow.target + ("" if arrow.how == "eager" else f" ({arrow.how})")
             for arrow in arrows(tmp_path) if arrow.source == "planlang.here"]
    assert found == expected


def test_a_module_taking_names_from_its_own_package_is_an_arrow(tmp_path):
    # the package's __init__ runs before its submodules, but a name it defines by importing one of them
    # may not be there yet: a circle
    (tmp_path / "run").mkdir()
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "run" / "__init__.py").write_text("from .exact import ExactRun\nfrom .totals import Total\n")
    (tmp_path / "run" / "exact.py").write_text("from . import Total\n")
    (tmp_path / "run" / "totals.py").write_text("from . import exact\n")
    found = {(arrow.source, arrow.target) for arrow in arrows(tmp_path) if not arrow.implied}
    assert ("planlang.run.exact", "planlang.run") in found and ("planlang.run.totals", "planlang.run") not in found


if __name__ == "__main__":
    known = modules()
    everything = arrows()
    for index, (layer, _) in reversed(list(enumerate(LAYERS))):
        print(f"{layer}")
        for name in sorted(n for n in known if layer_of(n) == index):
            targets = sorted({a.target + ("" if a.how == "eager" else f" ({a.how})") for a in everything if a.source == name})
            print(f"  {name.removeprefix(PACKAGE + '.')}: {', '.join(t.removeprefix(PACKAGE + '.') for t in targets)}",
                  file=sys.stdout)
