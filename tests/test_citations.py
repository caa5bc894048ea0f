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


def located(quote: str, source: str) -> list[tuple[int, int]] | None:
    """Where each piece of a quote (split at ``…``) is in the (normalised) source, in order; None if one is not.

    >>> located("70% for April 2021 … then 85%", "- 70% for April 2021 - 75% - then 85% from July")
    [(2, 20), (29, 37)]
    """
    at, spans = 0, []
    for piece in (normalise(p) for p in quote.split("…")):
        at = source.find(piece, at)
        if at < 0:
            return None
        spans.append((at, at + len(piece)))
        at += len(piece)
    return spans


def found_in(quote: str, source: str) -> bool:
    """Whether each piece of a quote (split at ``…``) appears in the source, in order.

    >>> found_in("70% for April 2021 … then 85%", "- 70% for April 2021 - 75% - then 85% from July")
    True
    >>> found_in("then 85% … 70% for April 2021", "- 70% for April 2021 - then 85% from July")
    False
    """
    return located(quote, source) is not None


def overlap(a: str, b: str, source: str) -> bool:
    """Whether two quotes share words of the source: a piece of one overlaps a piece of the other.

    >>> text = "FRF will be paid quarterly. Payments will depend on current performance and forecast out-turn."
    >>> overlap("Payments will depend on current performance", "current performance and forecast out-turn.", text)
    True
    >>> overlap("FRF will be paid quarterly.", "Payments will depend … forecast out-turn.", text)
    False
    """
    spans_a, spans_b = located(a, source) or [], located(b, source) or []
    return any(start < other_end and other_start < end for start, end in spans_a for other_start, other_end in spans_b)


def _quotes():
    for pack in PACKS:
        program = compile_pack(pack)
        for name, decl in program.declarations.items():
            for citation in decl.citations:
                if citation.quote is not None:
                    yield pytest.param(citation, id=f"{pack.name}: {name} {citation}")
        for source in program.sources.values():
            for passage in source.unencoded:
                yield pytest.param(passage.citation, id=f"{pack.name}: unencoded {passage.citation}")
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


def _rule_citations(program):
    for name, decl in program.declarations.items():
        yield name, decl.citations
    for name, amendments in program.amendments.items():
        for amend in amendments:
            yield f"{name} (amended from {amend.effective})", amend.citations


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_no_rule_cites_a_passage_the_pack_lists_as_not_encoded(pack, seeds):
    """The list of what a pack does not encode is honest: no rule of the pack quotes any of its words."""
    program = compile_pack(pack)
    clashes = []
    for source in program.sources.values():
        for passage in source.unencoded:
            for name, citations in _rule_citations(program):
                clashes += [f"{name} ({c.span.file}:{c.span.line}) cites words that {passage.span.file}:{passage.span.line} "
                            f"lists as not encoded: {passage.citation.quote!r}"
                            for c in citations if c.source == passage.citation.source and c.quote is not None
                            and overlap(c.quote, passage.citation.quote, seeds[c.source])]
    assert clashes == []


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_every_pack_lists_what_it_does_not_encode(pack):
    program = compile_pack(pack)
    assert any(source.unencoded for source in program.sources.values()), f"{pack.name} lists nothing as not encoded"
