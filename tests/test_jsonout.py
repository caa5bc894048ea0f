"""The JSON writer of `run --json` gives json.dumps(indent=2)'s bytes exactly, in pieces."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planlang.render.jsontext import json_text, write_json

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.text(max_size=12),
                     st.floats(allow_nan=False), st.sampled_from(["£1,000.50", "\u2028", "\x1b[2J", "é", "\ud800"]))
_KEYS = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.booleans(), st.none(), st.floats(allow_nan=False))
_DOCUMENTS = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                                                             st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(document=_DOCUMENTS)
def test_the_text_is_json_dumps_with_indent_2(document):
    assert json_text(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_a_large_document_is_written_in_pieces_that_join_to_the_same_text():
    document = {"results": {f"name{k}": {f"S{e:04d}": {"2021-04": "1.00", "2021-05": None} for e in range(500)}
                            for k in range(5)}, "flags": [], "missing": [{"output": "x", "values": {"a": True}}]}
    pieces: list[str] = []
    write_json(document, pieces.append)
    assert len(pieces) > 1 and max(map(len, pieces)) < 2 * 65536
    assert "".join(pieces) == json.dumps(document, indent=2, ensure_ascii=False)


def test_what_json_cannot_write_is_refused_as_json_refuses_it():
    with pytest.raises(TypeError):
        json_text({"a": object()})
    with pytest.raises(TypeError):
        json_text({(1, 2): 1})
