"""The language server (``planlang lsp``): the compiler's findings in an editor, as you type.

A ``.plan`` file belongs to the pack of its folder: each change re-checks the whole pack, taking
open files' unsaved text over what is on disk, and publishes every file's diagnostics (quotes
checked as by ``planlang check``, where the documents are found). Hover, go to definition, find
references and completion work from :func:`planlang.compiler.analyse_sources`, which keeps all it
could check even when the pack has errors, so they help inside a broken file too.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import attrs
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import syntax as s
from ..checker import FUNCTIONS
from ..citations import check_quotes, source_folders
from ..compiler import Analysis, analyse_sources, read_policy_file
from ..diagnostics import Diagnostic, InputError
from ..parser import vocabulary
from ..printer import format_amendments, format_expr, format_scope, format_value_clause
from ..source import SourceFile, Span
from ..types import TYPES
from .stream import serve_stream

__all__ = ["build_server", "serve", "hover_text", "Workspace"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPLETION_KIND = {s.InputDecl: lsp.CompletionItemKind.Field, s.ParameterDecl: lsp.CompletionItemKind.Constant,
                    s.DefineDecl: lsp.CompletionItemKind.Variable, s.FlagDecl: lsp.CompletionItemKind.Event,
                    s.DeadlineDecl: lsp.CompletionItemKind.Value}


@attrs.frozen(eq=False)
class PackView:
    """One pack as last checked: its analysis, each name's declaration and uses, and what the
    checker does not report: files that could not be read, quotes not in their documents."""

    folder: Path
    analysis: Analysis
    uses: dict[str, tuple[Span, ...]]
    file_diagnostics: tuple[Diagnostic, ...]

    @property
    def declarations(self) -> dict[str, s.Decl]:
        return self.analysis.checked.declarations


def _range(span: Span) -> lsp.Range:
    return lsp.Range(lsp.Position(max(span.line - 1, 0), max(span.column - 1, 0)),
                     lsp.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0)))


def _name_span(span: Span, name: str) -> Span:
    """The first ``len(name)`` characters of a span: a test target's name, an amendment's name."""
    return Span(span.file, span.line, span.column, span.line, span.column + len(name))


def _uses(analysis: Analysis) -> dict[str, tuple[Span, ...]]:
    """Every place each name is written: its declaration, its uses, its amendments and the tests that name it."""
    found: dict[str, list[Span]] = {}
    checked = analysis.checked
    for name, decl in checked.declarations.items():
        found.setdefault(name, []).append(decl.name_span)
    for use in checked.uses:
        found.setdefault(use.name, []).append(use.span)
    for name, amendments in checked.amendments.items():
        found.setdefault(name, []).extend(a.name_span for a in amendments)
    for test in checked.tests:
        for target in (*(g.target for g in test.givens), *(e.target for e in test.expectations)):
            found.setdefault(target.name, []).append(_name_span(target.span, target.name))
    return {name: tuple(dict.fromkeys(spans)) for name, spans in found.items()}


class Workspace:
    """Packs by folder, re-checked from the editor's text and the disk."""

    def __init__(self, server: LanguageServer):
        self.server = server
        self.packs: dict[Path, PackView] = {}

    def _sources(self, folder: Path) -> tuple[list[SourceFile], list[Diagnostic]]:
        """The pack's files, open ones as the editor has them; the others read as ``planlang check``
        reads them (regular files of bounded size, no link out of the folder), or an error placed in each."""
        texts: dict[Path, str | None] = {path: None for path in sorted(folder.glob("*.plan"))}
        for uri, document in self.server.workspace.text_documents.items():
            path = _path(uri)
            if path is not None and path.parent == folder and path.suffix == ".plan":
                texts[path] = document.source
        sources, unread = [], []
        inside = folder.resolve()
        for path, text in sorted(texts.items()):
            if text is None:
                try:
                    text = read_policy_file(path, inside).text
                except InputError as error:
                    unread.append(Diagnostic("error", error.message, Span(str(path), 1, 1, 1, 1), error.suggestion))
                    continue
            sources.append(SourceFile(str(path), text))
        return sources, unread

    def refresh(self, uri: str) -> PackView | None:
        path = _path(uri)
        if path is None:
            return None
        sources, unread = self._sources(path.parent)
        analysis = analyse_sources(sources)
        quotes = () if analysis.checked.header is None else check_quotes(analysis.checked, source_folders(path.parent)).diagnostics
        view = PackView(path.parent, analysis, _uses(analysis), (*unread, *quotes))
        self.packs[path.parent] = view
        return view

    def view(self, uri: str) -> PackView | None:
        path = _path(uri)
        if path is None:
            return None
        return self.packs.get(path.parent) or self.refresh(uri)


def _path(uri: str) -> Path | None:
    """The file a ``file:`` URI names; None for any other URI, and for a relative path, which would
    make the server check whatever folder it was started in."""
    path = to_fs_path(uri)
    return Path(path) if path and os.path.isabs(path) else None


def _diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    severity = lsp.DiagnosticSeverity.Error if d.is_error else lsp.DiagnosticSeverity.Warning
    message = d.message + (f"\nhelp: {d.suggestion}" if d.suggestion else "")
    related = [lsp.DiagnosticRelatedInformation(lsp.Location(from_fs_path(n.span.file), _range(n.span)), n.message)
               for n in d.notes if n.span.line > 0]
    return lsp.Diagnostic(range=_range(d.span), message=message, severity=severity, source="planlang",
                          related_information=related or None)


def publish(server: LanguageServer, view: PackView) -> None:
    by_file: dict[str, list[lsp.Diagnostic]] = {name: [] for name in view.analysis.files}
    by_file.update((d.span.file, []) for d in view.file_diagnostics)
    for d in (*view.analysis.diagnostics, *view.file_diagnostics):
        if d.span.file in by_file:
            by_file[d.span.file].append(_diagnostic(d))
    for name, diagnostics in by_file.items():
        server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=from_fs_path(name), diagnostics=diagnostics))


def _word_at(view: PackView | None, uri: str, position: lsp.Position) -> str | None:
    # the text the pack was checked from: pygls' own copy of a file not open reads it from disk, whatever it is
    path = _path(uri)
    source = None if view is None or path is None else view.analysis.files.get(str(path))
    if source is None:
        return None
    lines = source.text.splitlines()
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    for match in _WORD.finditer(line):
        if match.start() <= position.character <= match.end():
            return match[0]
    return None


def _type_words(decl: s.Decl) -> str:
    shape = {s.FlagDecl: lambda d: f"flag, severity {d.severity}", s.DeadlineDecl: lambda d: "deadline (a date)"}
    head = shape.get(type(decl), lambda d: f"{s.RULE_KINDS[type(d)]} : {d.type}")(decl)
    scope = format_scope(decl)
    return head + (f", {scope}" if scope else "")


def hover_text(view: PackView, name: str) -> str | None:
    """Markdown for a name: its type and scope, description, rule, citations with quotes, interpretations."""
    decl = view.declarations.get(name)
    if decl is None or type(decl) not in s.RULE_KINDS:
        return f"`{name}(...)`: {FUNCTIONS[name]}" if name in FUNCTIONS else None
    lines = [f"**{name}** — {_type_words(decl)}"]
    if decl.description:
        lines += ["", decl.description]
    rule = None
    if isinstance(decl, s.ParameterDecl):
        amended = format_amendments(view.analysis.checked.amendments.get(name, ()))
        rule = (format_value_clause(decl) or "") + (f"; amended {amended}" if amended else "")
    elif isinstance(decl, s.FlagDecl):
        rule = f"when {format_expr(decl.when)}"
    elif isinstance(decl, (s.DefineDecl, s.DeadlineDecl)):
        rule = f"= {format_expr(decl.value)}"
    elif isinstance(decl, s.InputDecl) and decl.default is not None:
        rule = f"default {format_expr(decl.default)}"
    if rule:
        lines += ["", "```planlang", rule, "```"]
    for citation in decl.citations:
        lines += ["", f"cites {citation.source} {citation.section}" + (f": “{citation.quote}”" if citation.quote else "")]
    for text in decl.interpretations:
        lines += ["", f"*{text}*"]
    return "\n".join(lines)


def build_server() -> LanguageServer:
    server = LanguageServer("planlang", "0.1.0")
    workspace = Workspace(server)

    def changed(ls: LanguageServer, uri: str) -> None:
        view = workspace.refresh(uri)
        if view is not None:
            publish(ls, view)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        changed(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        changed(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        changed(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: LanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        view = workspace.view(params.text_document.uri)
        name = _word_at(view, params.text_document.uri, params.position)
        text = None if view is None or name is None else hover_text(view, name)
        return None if text is None else lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: LanguageServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        view = workspace.view(params.text_document.uri)
        name = _word_at(view, params.text_document.uri, params.position)
        decl = None if view is None or name is None else view.declarations.get(name)
        return None if decl is None else lsp.Location(from_fs_path(decl.name_span.file), _range(decl.name_span))

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: LanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        view = workspace.view(params.text_document.uri)
        name = _word_at(view, params.text_document.uri, params.position)
        if view is None or name is None:
            return []
        decl = view.declarations.get(name)
        spans = [span for span in view.uses.get(name, ())
                 if params.context.include_declaration or decl is None or span != decl.name_span]
        return [lsp.Location(from_fs_path(span.file), _range(span)) for span in spans]

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION)
    def completion(ls: LanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        view = workspace.view(params.text_document.uri)
        items = [lsp.CompletionItem(label=name, kind=_COMPLETION_KIND[type(decl)], detail=_type_words(decl),
                                    documentation=decl.description)
                 for name, decl in (view.declarations.items() if view else ()) if type(decl) in s.RULE_KINDS]
        words = vocabulary()
        items += [lsp.CompletionItem(label=word, kind=lsp.CompletionItemKind.Keyword)
                  for word in (*words.declarations, *words.keywords, *words.constants)]
        items += [lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Function, detail=text)
                  for name, text in FUNCTIONS.items()]
        items += [lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.TypeParameter) for name in TYPES]
        return lsp.CompletionList(is_incomplete=False, items=items)

    return server


def serve() -> int:
    """Serve the language server protocol on standard input and output until the editor ends it;
    the exit status, 0 after a ``shutdown`` (see :mod:`planlang.lsp.stream`).

    The protocol is bytes on the process's own streams, not text for a terminal: the command line's
    escaping wrapper of ``sys.stdout`` must not touch it.
    """
    if sys.__stdin__ is None or sys.__stdout__ is None:
        raise InputError("needs its standard input and output open: an editor speaks to it through them", "planlang lsp")
    return serve_stream(build_server().protocol, sys.__stdin__.buffer, sys.__stdout__.buffer, sys.__stderr__)
