"""The language server, driven by pygls' own client over stdio, as an editor would.

Each test starts `python -m planlang lsp` on a small pack in a temporary folder, opens a file,
and checks what comes back: diagnostics as the text changes, hover, definition, references and
completion, including inside a file that does not compile.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

POLICY = '''policy "lsp" for 2021/22
source "s.txt" "A source"
'''

RULES = '''parameter rate : percent
  "The share paid"
  = 50%
  cites "s.txt" §1 "half of it"

input amount : money
  per trust annual
  "What the trust spent"

# Interpretation: the share applies to the whole amount.
define paid : money
  per trust annual
  "What is paid back"
  = amount * rate
  cites "s.txt" §2

define doubled : money
  per trust annual
  = paid + paid
'''

TIMEOUT = 30
FORMULA = RULES.splitlines().index("  = amount * rate")  # 0-based lines, as the protocol counts
DOUBLED = RULES.splitlines().index("  = paid + paid")
DECLARED = RULES.splitlines().index("define paid : money")


@pytest.fixture
def pack(tmp_path):
    (tmp_path / "policy.plan").write_text(POLICY, encoding="utf-8")
    (tmp_path / "rules.plan").write_text(RULES, encoding="utf-8")
    return tmp_path


class Editor:
    """A pygls client attached to the server, remembering the diagnostics published for each file."""

    def __init__(self, client: LanguageClient, folder):
        self.client, self.folder = client, folder
        self.published: dict[str, list[lsp.Diagnostic]] = {}
        self.arrived = asyncio.Event()
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return from_fs_path(str(self.folder / name))

    async def diagnostics(self, name: str) -> list[lsp.Diagnostic]:
        """The diagnostics published for a file after the last edit."""
        while self.uri(name) not in self.published:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), TIMEOUT)
        return self.published[self.uri(name)]

    def open(self, name: str, text: str) -> None:
        self.published.clear()
        self.versions[name] = 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=self.uri(name), language_id="planlang", version=1, text=text)))

    def change(self, name: str, text: str) -> None:
        self.published.clear()
        self.versions[name] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=self.uri(name), version=self.versions[name]),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)]))


def run(folder, scenario):
    """Start the server, initialise it, run ``scenario(editor)``, shut it down; returns what the scenario returns."""

    async def session():
        client = LanguageClient("planlang-tests", "1")
        editor = Editor(client, folder)

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: lsp.PublishDiagnosticsParams):
            editor.published[params.uri] = params.diagnostics
            editor.arrived.set()

        await client.start_io(sys.executable, "-m", "planlang", "lsp")
        try:
            await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
                capabilities=lsp.ClientCapabilities(), root_uri=from_fs_path(str(folder)))), TIMEOUT)
            client.initialized(lsp.InitializedParams())
            return await asyncio.wait_for(scenario(editor), TIMEOUT * 2)
        finally:
            await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
            client.exit(None)
            await asyncio.wait_for(client.stop(), TIMEOUT)

    return asyncio.run(session())


def position(text: str, line: int, word: str) -> lsp.Position:
    return lsp.Position(line, text.splitlines()[line].index(word) + 1)


def test_diagnostics_follow_the_text_as_it_is_typed(pack):
    async def scenario(editor):
        editor.open("rules.plan", RULES)
        clean = await editor.diagnostics("rules.plan")
        editor.change("rules.plan", RULES.replace("= amount * rate", "= amount * rat"))
        misspelt = await editor.diagnostics("rules.plan")
        editor.change("rules.plan", RULES)
        fixed = await editor.diagnostics("rules.plan")
        return clean, misspelt, fixed

    clean, misspelt, fixed = run(pack, scenario)
    assert [d for d in clean if d.severity == lsp.DiagnosticSeverity.Error] == []
    [error] = [d for d in misspelt if d.severity == lsp.DiagnosticSeverity.Error]
    assert "rat" in error.message and "did you mean `rate`?" in error.message
    assert (error.range.start.line, error.range.start.character) == (FORMULA, len("  = amount * "))
    assert [d for d in fixed if d.severity == lsp.DiagnosticSeverity.Error] == []


def test_quotes_are_checked_where_the_document_is_beside_the_pack(pack):
    (pack / "s.txt").write_text("1. Rates\nNone of it is paid.\n2. Amounts\n", encoding="utf-8")

    async def scenario(editor):
        editor.open("rules.plan", RULES)
        return await editor.diagnostics("rules.plan")

    [warning] = [d for d in run(pack, scenario) if "quoted" in d.message]
    assert warning.severity == lsp.DiagnosticSeverity.Warning and "the quoted words are not in s.txt" in warning.message
    assert warning.range.start.line == RULES.splitlines().index('  cites "s.txt" §1 "half of it"')


def test_hover_shows_type_description_rule_citation_with_quote_and_interpretation(pack):
    async def scenario(editor):
        editor.open("rules.plan", RULES)
        await editor.diagnostics("rules.plan")
        doc = lsp.TextDocumentIdentifier(editor.uri("rules.plan"))
        rate = await editor.client.text_document_hover_async(lsp.HoverParams(doc, position(RULES, FORMULA, "rate")))
        paid = await editor.client.text_document_hover_async(lsp.HoverParams(doc, position(RULES, DOUBLED, "paid")))
        return rate.contents.value, paid.contents.value

    rate, paid = run(pack, scenario)
    assert rate.startswith("**rate** — parameter : percent")
    assert "The share paid" in rate and "= 50%" in rate and "cites s.txt §1: “half of it”" in rate
    assert paid.startswith("**paid** — definition : money, per trust annual")
    assert "= amount * rate" in paid and "*Interpretation: the share applies to the whole amount.*" in paid


def test_definition_and_references_across_files(pack):
    (pack / "more.plan").write_text("define tripled : money\n  per trust annual\n  = paid * 3\n", encoding="utf-8")

    async def scenario(editor):
        editor.open("rules.plan", RULES)
        await editor.diagnostics("rules.plan")
        doc = lsp.TextDocumentIdentifier(editor.uri("rules.plan"))
        where = position(RULES, DOUBLED, "paid")
        definition = await editor.client.text_document_definition_async(lsp.DefinitionParams(doc, where))
        references = await editor.client.text_document_references_async(
            lsp.ReferenceParams(context=lsp.ReferenceContext(include_declaration=True), text_document=doc, position=where))
        return definition, references

    definition, references = run(pack, scenario)
    assert definition.uri.endswith("/rules.plan") and definition.range.start.line == DECLARED
    places = sorted((r.uri.rsplit("/", 1)[1], r.range.start.line, r.range.start.character) for r in references)
    assert places == [("more.plan", 2, 4), ("rules.plan", DECLARED, 7), ("rules.plan", DOUBLED, 4),
                      ("rules.plan", DOUBLED, 11)]


def test_the_server_helps_inside_a_file_that_does_not_compile(pack):
    broken = RULES + "\ndefine broken : money\n  per trust annual\n  = paid +\n"

    async def scenario(editor):
        editor.open("rules.plan", broken)
        diagnostics = await editor.diagnostics("rules.plan")
        doc = lsp.TextDocumentIdentifier(editor.uri("rules.plan"))
        hover = await editor.client.text_document_hover_async(lsp.HoverParams(doc, position(broken, DOUBLED, "paid")))
        definition = await editor.client.text_document_definition_async(
            lsp.DefinitionParams(doc, position(broken, DOUBLED, "paid")))
        completion = await editor.client.text_document_completion_async(
            lsp.CompletionParams(doc, lsp.Position(len(broken.splitlines()) - 1, 10)))
        return diagnostics, hover, definition, completion

    diagnostics, hover, definition, completion = run(pack, scenario)
    assert any(d.severity == lsp.DiagnosticSeverity.Error and "ends too early" in d.message for d in diagnostics)
    assert hover.contents.value.startswith("**paid** — definition : money")
    assert definition.range.start.line == DECLARED
    labels = {item.label: item for item in completion.items}
    assert {"rate", "amount", "paid", "doubled"} <= labels.keys()
    assert {"define", "taper", "half-yearly", "true", "round", "money"} <= labels.keys()
    assert labels["rate"].detail == "parameter : percent"
