"""Every quote in a citation is the guidance's own words: found in the cited source text.

The source texts are in ``../shared/seeds/`` beside the repository. The comparison
(:func:`planlang.audit.sources.found_in`, shared with the HTML report's quoted passages) ignores
only what does not change the words: layout, markup, and the style of quotation marks and dashes.
"""

from __future__ import annotations

import pytest

from planlang.audit.sources import found_in, normalise
from planlang.compiler import compile_pack

from conftest import POLICIES, ROOT

SEEDS = ROOT.parent / "shared" / "seeds"
PACKS = sorted(p for p in POLICIES.iterdir() if p.is_dir())
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
