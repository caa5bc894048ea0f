"""Every quote in a citation is the guidance's own words: found in the cited source text.

The source texts are found as :func:`conftest.need_sources` says (``../shared/seeds/`` in CI). The comparison is the one
``planlang check`` makes (:mod:`planlang.citations`): it ignores only what does not change the
words, and `` … `` in a quote marks words left out.
"""

from __future__ import annotations

import pytest

from planlang.citations import cited, found_in, normalise, overlap
from planlang.compiler import compile_pack

from conftest import POLICIES, need_sources

PACKS = sorted(p for p in POLICIES.iterdir() if p.is_dir())


def _quotes():
    for pack in PACKS:
        for citation in cited(compile_pack(pack)):
            if citation.quote is not None:
                yield pytest.param(citation, id=f"{citation.span.file}:{citation.span.line}: {citation}")


@pytest.fixture(scope="module")
def seeds():
    return {path.name: normalise(path.read_text(encoding="utf-8")) for path in need_sources().glob("*.txt")}


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
