"""The one exact total of an output's cells, and its one rule for missing values.

Every command that adds up figures — ``compare``'s totals, ``diff --data``'s impact, ``solve``'s
goal over all organisations, ``sweep`` and the bulk backends — adds them here, so they all mean
the same thing by a total:

- a missing cell is never counted as zero: :attr:`Total.value` is the exact sum only when every
  cell has a value, and :attr:`Total.figure` is otherwise a :class:`~planlang.values.Missing`
  carrying the cells' reasons;
- beside it, :attr:`Total.present` is the sum of the cells that have a value (None when none has)
  and :attr:`Total.missing` how many have none, for a reader who wants to say how far it got;
- a total of no cells at all is zero: nothing to add up (unlike the language's ``sum(x over
  members)``, whose empty case is a missing value with its reason).

Numbers are added per denominator first (whole numbers, no gcd at each step), then the few partial
sums as fractions: exact, and fast over many figures. A column backend's numerators (int64 arrays)
are added by :func:`integer_sum` and :func:`column_sum`: in int64 chunks each of which provably
fits (the chunk's length times the largest numerator stays within 2^62), then one Python integer
per chunk, so a total of many values is never worked value by value in Python.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

import attrs
import numpy as np

from ..values import Missing

__all__ = ["Total", "total_of", "integer_sum", "column_sum"]

# A chunk of int64 values is added in int64 only while its length times its largest magnitude stays
# within this: the sum, and every partial sum on the way, then fits with room to spare.
CHUNK_LIMIT = 1 << 62


@attrs.frozen
class Total:
    """An output's total over its cells.

    ``value`` is the exact sum when every cell has one, else None; ``present`` the sum of the cells
    that have a value (None when none has); ``missing`` how many have none, of ``cells``; ``why``
    the missing cells' reasons merged, where the summer saw them (a column backend counts them only).
    """

    value: Fraction | None
    present: Fraction | None
    missing: int
    cells: int
    why: Missing | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def of_sum(cls, present: Fraction, missing: int, cells: int, why: Missing | None = None) -> "Total":
        """The total of ``cells`` cells, ``missing`` of them without a value, the others adding up to ``present``.

        This is the rule, stated once: a backend that adds its cells its own way (the vector
        backend adds integer columns) hands the parts here.
        """
        return cls(present if missing == 0 else None, present if missing < cells or not cells else None, missing, cells, why)

    @property
    def figure(self) -> Fraction | Missing:
        """The total as a value of the language: the exact sum, or missing with the reasons of the cells that are.

        >>> total_of([Fraction(1), Missing.because("no data")]).figure.describe()
        'no data'
        >>> Total(None, Fraction(2), 3, 4).figure.describe()
        '3 of 4 figures in the total have no value'
        """
        if self.value is not None:
            return self.value
        return self.why if self.why is not None else Missing.of("incomplete_total", detail=(self.missing, self.cells))


def total_of(values: Iterable[object], *, why: bool = True) -> Total:
    """The :class:`Total` of some cells' values: numbers (:class:`~fractions.Fraction`) and missing values.

    A value that is neither (a flag's truth, a date) is not a figure to add and counts as missing.
    ``why=False`` counts the missing cells without gathering their reasons, for bulk work that
    keeps thousands of totals (a sweep's steps) and words none of them.

    >>> total_of([Fraction(1, 3), Fraction(1, 6), Fraction(5)])
    Total(value=Fraction(11, 2), present=Fraction(11, 2), missing=0, cells=3)
    >>> total_of([Fraction(2), Missing.because("no data")])
    Total(value=None, present=Fraction(2, 1), missing=1, cells=2)
    >>> total_of([])
    Total(value=Fraction(0, 1), present=Fraction(0, 1), missing=0, cells=0)
    """
    by_denominator: dict[int, int] = {}
    reasons: set = set()
    missing = cells = 0
    for value in values:
        cells += 1
        if type(value) is Fraction:
            by_denominator[value.denominator] = by_denominator.get(value.denominator, 0) + value.numerator
        else:
            missing += 1
            if why and type(value) is Missing:
                reasons |= value.reasons
    present = fraction_sum(by_denominator)
    return Total.of_sum(present, missing, cells, Missing(reasons) if reasons else None)


def _largest(num: np.ndarray) -> int:
    """The largest magnitude in an int64 array, as a Python int (no overflow at -2^63)."""
    return max(int(num.max()), -int(num.min())) if len(num) else 0


def _chunk_starts(num: np.ndarray, breaks=None) -> np.ndarray:
    """Where each int64 chunk of ``num`` starts: every chunk short enough that its sum fits (and at ``breaks``)."""
    per = max(1, CHUNK_LIMIT // max(1, _largest(num)))
    starts = np.arange(0, len(num), per)
    return starts if breaks is None else np.union1d(starts, breaks)


def integer_sum(num: np.ndarray) -> int:
    """The exact sum of an array of integers (int64, or Python integers in an object array), as a Python int.

    >>> integer_sum(np.array([2**62, 2**62, -1], dtype=np.int64)) == 2**63 - 1
    True
    >>> integer_sum(np.array([], dtype=np.int64))
    0
    """
    if num.dtype == object:
        return int(sum(num.tolist(), 0))
    if not len(num):
        return 0
    starts = _chunk_starts(num)
    if len(starts) == 1:
        return int(num.sum())
    return sum(np.add.reduceat(num, starts).tolist(), 0)


def column_sum(num: np.ndarray, den) -> Fraction:
    """The exact sum of the fractions ``num / den`` (``den`` one int, or an array with one per value):
    numerators added per denominator in int64 chunks that fit (:func:`integer_sum`), then the few
    partial sums over their least common multiple, in Python integers.

    >>> column_sum(np.array([1, 1, 3], dtype=np.int64), np.array([2, 3, 2], dtype=np.int64))
    Fraction(7, 3)
    """
    if type(den) is int:
        return Fraction(integer_sum(num), den)
    if not len(num):
        return Fraction(0)
    order = np.argsort(den, kind="stable")
    dens, nums = den[order], num[order]
    groups = np.flatnonzero(np.r_[True, dens[1:] != dens[:-1]])
    if nums.dtype == object:
        starts, sums = groups, np.add.reduceat(nums, groups).tolist()
    else:
        starts = _chunk_starts(nums, groups)
        sums = np.add.reduceat(nums, starts).tolist()
    by_denominator: dict[int, int] = {}
    for d, s in zip(dens[starts].tolist(), sums):
        by_denominator[d] = by_denominator.get(d, 0) + int(s)
    return fraction_sum(by_denominator)


def fraction_sum(by_denominator: dict[int, int]) -> Fraction:
    """The exact sum of ``numerator / denominator`` over ``{denominator: numerator}``, added in pairs, halves
    first (a balanced tree, each partial sum reduced): with thousands of distinct denominators (a share of
    each organisation's own allocation) the common multiple of them all, or a running sum, grows with
    every term and costs time quadratic in their number.

    >>> fraction_sum({2: 1, 3: 1, 6: -1})
    Fraction(2, 3)
    >>> fraction_sum({})
    Fraction(0, 1)
    """
    items = [(n, d) for d, n in by_denominator.items()]
    while len(items) > 1:
        paired = []
        for k in range(0, len(items) - 1, 2):
            (a, b), (c, d) = items[k], items[k + 1]
            g = math.gcd(b, d)
            num, den = a * (d // g) + c * (b // g), b // g * d
            h = math.gcd(num, den)
            paired.append((num // h, den // h))
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return Fraction(*items[0]) if items else Fraction(0)
