"""The compiler: a folder of policy files -> a checked program with its dependency graph.

The pipeline, one pure function per stage::

    read_pack     folder -> SourceFile per .plan file
    parse_source  SourceFile -> syntax tree (syntax.PolicyFile)        parser.py
    check         syntax trees -> checked declarations and name uses   checker/
    build_graph   declarations and uses -> networkx dependency graph   graph.py
    find_cycles   graph -> a diagnostic per circular definition        graph.py
                  -> Analysis (all that could be checked, errors or not: for editors)
                  -> Program (when there are no errors)

and after it, a package or module per concept, each importing only what comes before it here::

    compile_plan  Program -> Plan, built once                          plan.py
    load_data     a .json, .xlsx, .csv or .parquet file -> Dataset      data/
    Scenario      --set and scenario files, checked against the pack    scenario.py
    run           Plan, Dataset, Scenario -> Results                    run/
    explain       Results, one cell -> its derivation (TraceNode)       explanation.py
    compare, impact, solve, sweep, rulediff                             the analyses
    renderers     text, JSON, Markdown, CSV, Parquet                    render/
                  Excel, HTML reports, receipts                         audit/
    the door      planlang.load and its Pack (api.py); lsp/; and the command line at the edge (cli)

tests/test_layering.py holds these layers against the modules' imports.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import attrs
import networkx as nx

from . import syntax as s
from .checker import Checked, check
from .diagnostics import Diagnostic, InputError, PolicyError, has_errors
from .files import MAX_POLICY_BYTES, read_bytes
from .graph import build_graph, evaluation_order, find_cycles
from .parser import parse_source
from .source import SourceFile, Span

__all__ = ["Program", "Analysis", "compile_pack", "read_pack", "read_policy_file", "compile_sources", "analyse_sources",
           "span_text"]


@attrs.frozen(eq=False)
class Program:
    """A compiled policy pack: checked declarations, parameter amendments, tests and the graph."""

    directory: str
    header: s.PolicyHeader
    sources: dict[str, s.Source]
    declarations: dict[str, s.Decl]
    amendments: dict[str, tuple[s.AmendDecl, ...]]
    tests: tuple[s.TestDecl, ...]
    graph: nx.DiGraph
    order: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, SourceFile]

    @property
    def title(self) -> str:
        return self.header.name

    @property
    def year(self):
        return self.header.year

    def text_of(self, span: Span) -> str:
        """The source text a span covers, on one line."""
        return _text_of(self, span)

    def of_kind(self, kind: type) -> dict[str, s.Decl]:
        return {name: decl for name, decl in self.declarations.items() if isinstance(decl, kind)}


@functools.lru_cache(maxsize=65536)
def _span_text(source: SourceFile, span: Span) -> str:
    lines = list(source.lines[span.line - 1: span.end_line])
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.column - 1: span.end_column - 1]
    lines[0] = lines[0][span.column - 1:]
    lines[-1] = lines[-1][: span.end_column - 1]
    return " ".join(line.strip() for line in lines if line.strip())


def _text_of(program: "Program", span: Span) -> str:
    source = program.files.get(span.file)
    return "" if source is None else _span_text(source, span)


def span_text(source: SourceFile, span: Span) -> str:
    """The text a span of ``source`` covers, on one line."""
    return _span_text(source, span)


def _display_name(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def read_pack(directory: str | os.PathLike) -> list[SourceFile]:
    """Every ``.plan`` file in a folder, in name order.

    Only regular files of at most :data:`~planlang.files.MAX_POLICY_BYTES` are read, and a link
    that leads out of the folder is refused with its target named: what the folder shows is what runs.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError("is not a folder of policy files", str(directory), "give the folder that holds the pack's .plan files")
    paths = sorted(folder.glob("*.plan"))
    if not paths:
        raise InputError("holds no .plan files", str(directory))
    inside = folder.resolve()
    return [read_policy_file(path, inside) for path in paths]


def read_policy_file(path: str | os.PathLike, inside: Path | None = None) -> SourceFile:
    """One ``.plan`` file's text, named as messages show it: a regular file of bounded size, and, when
    ``inside`` is given, not a link leading out of that folder."""
    path = Path(path)
    display = _display_name(path)
    if any("\udc80" <= char <= "\udcff" for char in path.name):  # how Python decodes a byte of a name that is not UTF-8
        # the file's name is written into receipts, reports and workbooks, which are UTF-8
        raise InputError("has a name that is not UTF-8 text; planlang writes file names into its outputs", display,
                         "rename the file")
    if inside is not None and path.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links
            raise InputError("is a link that leads nowhere (a loop of links)", display) from None
        if not target.is_relative_to(inside):
            raise InputError(f"refused: it is a link to {target}, outside the policy folder", display,
                             "copy the file into the folder if it belongs to the pack")
    data = read_bytes(path, display, MAX_POLICY_BYTES)
    try:
        text = data.decode("utf-8-sig")  # -sig: tolerate the byte-order mark some editors write
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text ({error.reason} at byte {error.start})", display) from None
    return SourceFile(display, text)


@attrs.frozen(eq=False)
class Analysis:
    """What the checker made of a pack's files, errors or not: every declaration it could read, and
    every use of a name, for an editor to help with inside a file that does not compile yet."""

    checked: Checked
    graph: nx.DiGraph
    diagnostics: tuple[Diagnostic, ...]
    files: dict[str, SourceFile]


def analyse_sources(sources: list[SourceFile]) -> Analysis:
    """Parse, check and look for cycles, keeping all that could be checked whatever the errors."""
    diagnostics: list[Diagnostic] = []
    parsed = []
    for source in sources:
        tree, errors = parse_source(source)
        parsed.append(tree)
        diagnostics += errors
    checked = check(parsed)
    diagnostics += checked.diagnostics
    graph = build_graph(checked.declarations, checked.uses)
    diagnostics += find_cycles(graph)
    diagnostics.sort(key=lambda d: (d.span.file, d.span.line, d.span.column, d.severity))
    return Analysis(checked, graph, tuple(diagnostics), {source.name: source for source in sources})


def compile_sources(sources: list[SourceFile], directory: str = ".") -> tuple[Program | None, list[Diagnostic]]:
    """Run the pipeline; returns the program (None when there are errors) and every diagnostic."""
    analysis = analyse_sources(sources)
    checked, graph, diagnostics = analysis.checked, analysis.graph, list(analysis.diagnostics)
    if has_errors(diagnostics):
        return None, diagnostics
    program = Program(str(directory), checked.header, checked.sources, checked.declarations, checked.amendments,
                      checked.tests, graph, evaluation_order(graph), tuple(diagnostics), analysis.files)
    return program, diagnostics


def compile_pack(directory: str | os.PathLike) -> Program:
    """Compile a policy pack, raising :class:`PolicyError` with every diagnostic if it has errors."""
    sources = read_pack(directory)
    program, diagnostics = compile_sources(sources, str(directory))
    if program is None:
        raise PolicyError(diagnostics, {source.name: source for source in sources})
    return program
