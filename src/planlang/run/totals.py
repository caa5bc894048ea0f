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
sums as fractions: exact, and fast over many figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import attrs

from ..values import Missing

__all__ = ["Total", "total_of"]


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
    present = sum((Fraction(n, d) for d, n in by_denominator.items()), Fraction(0))
    return Total.of_sum(present, missing, cells, Missing(reasons) if reasons else None)
