"""Exact totals in machine integers: int64 numerators added in chunks that provably fit, then one
Python integer per chunk, equal to the sum worked in Python integers for every array, at int64's
extremes too."""

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from planlang.run.totals import CHUNK_LIMIT, column_sum, integer_sum

INT64 = st.integers(-(2**63) + 1, 2**63 - 1)
NEAR_LIMIT = st.sampled_from([CHUNK_LIMIT, -CHUNK_LIMIT, CHUNK_LIMIT - 1, 2**63 - 1, -(2**63), 1, -1, 0])


@given(st.lists(st.one_of(INT64, NEAR_LIMIT, st.integers(-10**6, 10**6)), max_size=300))
def test_an_integer_sum_is_the_python_sum(values):
    assert integer_sum(np.array(values, dtype=np.int64)) == sum(values)


@given(st.lists(st.tuples(st.one_of(INT64, st.integers(-10**6, 10**6)), st.sampled_from([1, 2, 3, 100, 200, 2**61])),
                max_size=200))
def test_a_column_sum_is_the_fraction_sum(cells):
    num = np.array([n for n, _ in cells], dtype=np.int64)
    den = np.array([d for _, d in cells], dtype=np.int64)
    assert column_sum(num, den) == sum((Fraction(n, d) for n, d in cells), Fraction(0))
    if cells:
        assert column_sum(num, 200) == Fraction(sum(n for n, _ in cells), 200)


def test_many_large_values_are_added_in_chunks_not_one_by_one():
    num = np.full(20_000, 2**50, dtype=np.int64)  # 20,000 x 2^50 passes 2^62: more than one chunk
    assert integer_sum(num) == 20_000 * 2**50
    assert integer_sum(num.astype(object)) == 20_000 * 2**50
