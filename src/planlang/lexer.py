"""Syntax highlighting: a Pygments lexer for planlang, built from the grammar's own words and terminals.

Registered as the Pygments lexer ``planlang`` (entry point ``pygments.lexers`` in pyproject.toml),
so ``pygmentize -l planlang``, Markdown's code highlighting and Sphinx find it by name. Keywords,
literals and the section mark come from ``grammar/planlang.lark`` and built-in functions from the
checker's registry, types from ``types.py``; nothing is listed here again.
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from .checker import FUNCTIONS, ROUNDING
from .parser import vocabulary
from .types import TYPES

__all__ = ["PlanlangLexer"]

_WORDS = vocabulary()
_NAME = _WORDS.pattern("NAME")
# longest first, so that `2021-04-01` is a date before it is a month and `£1,000` money before a number
_LITERALS = [(_WORDS.pattern(t), token) for t, token in (
    ("DATE", Number), ("FY_PERIOD", Number), ("MONTH", Number), ("MONEY", Number), ("PERCENT", Number),
    ("NUMBER", Number))]


def _any(words) -> str:
    """A regular expression for any one of ``words``, whole words only (``half-yearly`` is one word)."""
    return r"(?<![\w-])(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w-])"


class PlanlangLexer(RegexLexer):
    name = "planlang"
    aliases = ["planlang", "plan"]
    filenames = ["*.plan"]
    mimetypes = ["text/x-planlang"]
    flags = re.MULTILINE

    tokens = {
        "root": [
            (r"[ \t]+|\n", Whitespace),
            (r"#\s?Interpretation:.*$", Comment.Special),
            (r"#.*$", Comment.Single),
            # possessive, as the grammar's STRING: a plain `*` costs memory per character of a long text
            (r'"(?:[^"\\\n]|\\.)*+"', String.Double),
            (_WORDS.pattern("SECTION"), Name.Label),
            *_LITERALS,
            # a declaration's keyword starts its line; the name after it is what it declares
            ("^" + _any(_WORDS.declarations) + r"(\s+)(" + _NAME + ")", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            ("^" + _any(_WORDS.declarations), Keyword.Declaration),
            (_any(_WORDS.constants), Keyword.Constant),
            (_any(_WORDS.keywords), Keyword),
            (_any(FUNCTIONS) + r"(?=\s*\()", Name.Builtin),
            (_any(ROUNDING), Name.Constant),
            (r"(:)(\s*)" + _any(TYPES), bygroups(Punctuation, Whitespace, Keyword.Type)),
            (_NAME, Name),
            (_WORDS.pattern("COMPARE") + "|" + _WORDS.pattern("MUL_OP") + r"|[+=\-−]", Operator),
            (r"[():,.]", Punctuation),
            (r".", Text),
        ],
    }
