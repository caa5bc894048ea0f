"""Syntax highlighting: the Pygments lexer, found by name through its entry point, and the HTML docs.

The lexer's words come from the grammar, so every word of the grammar must come out as a keyword
and no planlang text in the repository (packs and documentation) may lex to an error token.
"""

from __future__ import annotations

import importlib.util
import re

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, Operator
from test_docs import fenced

from planlang.lexer import PlanlangLexer
from planlang.parser import vocabulary

from conftest import POLICIES, ROOT

DOCS = ROOT / "docs"
PLAN_TEXTS = [pytest.param(p.read_text(encoding="utf-8"), id=str(p.relative_to(ROOT))) for p in sorted(POLICIES.glob("*/*.plan"))]
PLAN_TEXTS += [pytest.param(text, id=f"{page.name}:{line}") for page in sorted(DOCS.glob("*.md"))
               for line, text in fenced(page, "planlang")]


def tokens(text: str):
    return [(kind, value) for kind, value in PlanlangLexer().get_tokens(text) if value.strip()]


def test_the_lexer_is_registered_with_pygments():
    assert isinstance(get_lexer_by_name("planlang"), PlanlangLexer)
    assert isinstance(get_lexer_for_filename("frf.plan"), PlanlangLexer)


@pytest.mark.parametrize("text", PLAN_TEXTS)
def test_no_planlang_text_lexes_to_an_error(text):
    assert [value for kind, value in PlanlangLexer().get_tokens(text) if kind in Error] == []


@pytest.mark.parametrize("word", vocabulary().keywords)
def test_every_word_of_the_grammar_is_a_keyword(word):
    [(kind, value)] = tokens(f"  {word}")
    assert kind in Keyword and value == word


def test_declarations_names_literals_and_comments():
    text = ('# Interpretation: why.\nparameter permit : percent monthly\n  2021-04 to 2021-09: 70%\n'
            '  cites "s.txt" §3.1 "q"\ndefine x : money\n  = round(£1,000.50 * permit, £0.01, half_up)\n')
    kinds: dict = {}
    for kind, value in tokens(text):
        kinds.setdefault(value, kind)  # a word's first appearance
    assert kinds["# Interpretation: why."] is Comment.Special
    assert kinds["parameter"] is Keyword.Declaration and kinds["permit"] is Name.Function
    assert kinds["percent"] is Keyword.Type and kinds["monthly"] is Keyword
    assert {kinds[v] for v in ("2021-04", "70%", "£1,000.50", "£0.01")} == {Number}
    assert kinds["§3.1"] is Name.Label and kinds["round"] is Name.Builtin and kinds["half_up"] is Name.Constant


def test_a_name_that_begins_with_a_keyword_is_a_name():
    assert tokens("  = permit + system_total - period_end") == [
        (Operator, "="), (Name, "permit"), (Operator, "+"), (Name, "system_total"), (Operator, "-"), (Name, "period_end")]


def test_the_docs_build_highlights_every_planlang_block(tmp_path):
    spec = importlib.util.spec_from_file_location("make_html", DOCS / "make_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.build(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{p.stem}.html" for p in DOCS.glob("*.md"))
    for page in DOCS.glob("*.md"):
        html = (tmp_path / f"{page.stem}.html").read_text(encoding="utf-8")
        blocks = re.findall(r'<code class="language-planlang">(.*?)</code>', html, flags=re.S)
        assert len(blocks) == len(fenced(page, "planlang")), page.name
        for block in blocks:
            assert 'class="err"' not in block and re.search(r'class="(kd|k|c1|cs)"', block), block[:200]
        assert "<script" not in html
    language = (tmp_path / "language.html").read_text(encoding="utf-8")
    assert "&lt;" in language and "<title>The planlang language</title>" in language
