"""Every quote in a citation is the guidance's own words: found in the cited source text.

The source texts are in ``../shared/seeds/`` beside the repository. Comparison ignores only what
does not change the words: line breaks and runs of spaces, Markdown and HTML markup, and the style
of quotation marks and dashes. `` … `` in a quote marks words left out; each piece must be found,
in order.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from planlang.compiler import compile_pack

from conftest import POLICIES, ROOT

SEEDS = ROOT.parent / "shared" / "seeds"
PACKS = sorted(p for p in POLICIES.iterdir() if p.is_dir())
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    """The words of a text, without layout, markup or typographic variants.

    >>> normalise("If you have not received a login by 6<sup>th</sup>\\n April")
    'If you have not received a login by 6th April'
    >>> normalise("**significant** counting – and coding")
    'significant counting - and coding'
    """
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    text = re.sub(r"</?[A-Za-z][A-Za-z0-9]*>", "", text)
    text = re.sub(r"[*_]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def found_in(quote: str, source: str) -> bool:
    """Whether each piece of a quote (split at ``…``) appears in the source, in order.

    >>> found_in("70% for April 2021 … then 85%", "- 70% for April 2021 - 75% - then 85% from July")
    True
    >>> found_in("then 85% … 70% for April 2021", "- 70% for April 2021 - then 85% from July")
    False
    """
    at = 0
    for piece in (normalise(p) for p in quote.split("…")):
        at = source.find(piece, at)
        if at < 0:
            return False
        at += len(piece)
    return True


def _quotes():
    for pack in PACKS:
        program = compile_pack(pack)
        for name, decl in program.declarations.items():
            for citation in decl.citations:
                if citation.quote is not None:
                    yield pytest.param(citation, id=f"{pack.name}: {name} {citation}")
        for test in program.tests:
            for citation in test.citations:
                if citation.quote is not None:
                    yield pytest.param(citation, id=f"{pack.name}: test {test.name!r} {citation}")


@pytest.fixture(scope="module")
def seeds():
    if not SEEDS.is_dir():
        pytest.skip(f"the source texts are not beside the repository ({SEEDS})")
    return {path.name: normalise(path.read_text(encoding="utf-8")) for path in SEEDS.glob("*.txt")}


@pytest.mark.parametrize("citation", list(_quotes()))
def test_quote_is_the_guidance_word_for_word(citation, seeds):
    assert citation.source in seeds, f"{citation.source} is not among the source texts"
    assert found_in(citation.quote, seeds[citation.source]), (
        f"{citation.span.file}:{citation.span.line}: the quote is not in {citation.source}: {citation.quote!r}")
