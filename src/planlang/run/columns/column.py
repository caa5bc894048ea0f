"""The column: one value for every organisation, held exactly in NumPy arrays, with its bounds and masks.

A number is a rational ``num / den`` in int64 (``den`` one Python int for the whole column while
the data allow it, an array otherwise), so every value is exact by construction. What int64 cannot
hold is never wrapped round: each column carries a bound on its numerators, and an operation checks
the bound of its result before it computes (:func:`fitted`: tightening the bound from the data, then
cancelling common factors, when the static bound is too loose); what still does not fit is held in
Python integers (NumPy object arrays: exact, slower). A cell whose numbers pass :data:`BIG_BITS`
bits is *deferred*: left to the exact engine.

A column has two masks, None when no cell is masked:

- ``missing``: cells known to be missing (their reasons are the exact engine's to give);
- ``defer``: cells left to the exact engine; such a cell counts as "could be anything" in what uses
  it (``false and x`` is still false, ``x + 1`` is deferred too).

The functions here make, reshape and read columns; the operations on them are
:mod:`planlang.run.columns.kernels`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ... import ops
from ...values import Missing

__all__ = ["Column", "LIMIT", "BIG_BITS", "SCALAR", "NUM", "BOOL", "OBJ", "ABSENT", "any_of", "fits", "bound_of",
           "number", "measured", "over", "is_big", "scaled", "cross_sizes", "reduced", "numeric", "fitted", "as_big",
           "from_values", "numbers", "reshaped", "row", "masked_at", "value_at", "nonempty", "broadcast", "select",
           "full", "blank", "masked", "deferred", "stacked", "per_step"]

# Every numerator and denominator of a column stays at most LIMIT in size, so that one addition
# of two of them cannot pass int64's 2**63 - 1.
LIMIT = 1 << 62
# Beyond int64, a column holds Python integers; a cell whose numbers pass this many bits is left to
# the exact engine, so that a product of two stays within ops.MAX_BITS as the exact engine requires.
BIG_BITS = 1400

SCALAR, NUM, BOOL, OBJ = "scalar", "num", "bool", "obj"

ABSENT = object()  # no value in the data and no default
NO = np.False_


class Column:
    """One value for every organisation (a NumPy array over them), or one value for all (``SCALAR``).

    ``NUM``: ``num / den`` exactly, int64, with ``|num| <= bound`` and ``0 < den <= dbound`` in
    every cell, masked or not. ``BOOL``, ``OBJ``: ``num`` holds the values. ``SCALAR``: ``num`` is
    the exact engine's value itself (a Fraction, bool, date, text or Missing). Masks are None when
    no cell is masked. Over many steps (a sweep), arrays gain a leading axis over the steps.
    """

    __slots__ = ("kind", "num", "den", "bound", "dbound", "missing", "defer")

    def __init__(self, kind, num, den=1, bound=0, dbound=1, missing=None, defer=None):
        self.kind, self.num, self.den, self.bound, self.dbound = kind, num, den, bound, dbound
        self.missing, self.defer = missing, defer

    @classmethod
    def scalar(cls, value) -> "Column":
        return cls(SCALAR, value)

    @property
    def is_missing(self) -> bool:
        """Whether this is one missing value for every cell."""
        return self.kind == SCALAR and type(self.num) is Missing


# ---- masks and bounds ----

def any_of(*masks):
    """The union of masks, None standing for no cell."""
    found = None
    for mask in masks:
        if mask is not None:
            found = mask if found is None else found | mask
    return found


def nonempty(mask):
    return mask if mask.any() else None


def fits(value: int) -> bool:
    return -LIMIT <= value <= LIMIT


def bound_of(array) -> int:
    return int(np.abs(array).max(initial=0)) if isinstance(array, np.ndarray) else abs(int(array))


def number(value: Fraction) -> Column | None:
    """A scalar number as a NUM column, or None when it does not fit in int64."""
    if not (fits(value.numerator) and value.denominator <= LIMIT):
        return None
    return Column(NUM, value.numerator, value.denominator, abs(value.numerator), value.denominator)


def measured(column: Column) -> Column:
    """The column with its bounds measured from its cells, where the bounds carried can be loose."""
    if not isinstance(column.num, np.ndarray):
        return column
    dbound = column.dbound if type(column.den) is int else bound_of(column.den)
    return Column(NUM, column.num, column.den, bound_of(column.num), dbound, column.missing, column.defer)


def over(column: Column, den: int) -> Column:
    """The column written over the denominator ``den``, a multiple of its own."""
    factor = den // column.den
    return Column(NUM, scaled(column.num, factor), den, column.bound * factor, den, column.missing, column.defer)


def is_big(column: Column) -> bool:
    """Whether a column holds Python integers (numbers too large for int64) rather than int64."""
    return any(isinstance(x, np.ndarray) and x.dtype == object for x in (column.num, column.den))


_bits = np.frompyfunc(int.bit_length, 1, 1)


def scaled(num, factor: int):
    return num * factor if factor != 1 else num


def cross_sizes(a: Column, b: Column) -> tuple[int, int]:
    """The largest numerator and denominator of ``a`` and ``b`` brought to a common denominator (adding, comparing)."""
    if type(a.den) is int and type(b.den) is int:
        den = math.lcm(a.den, b.den)
        return a.bound * (den // a.den) + b.bound * (den // b.den), den
    return a.bound * b.dbound + b.bound * a.dbound, a.dbound * b.dbound


def reduced(column: Column) -> Column:
    """The column with the common factors of each cell's numerator and denominator cancelled."""
    if type(column.den) is int:
        g = math.gcd(column.den, int(np.gcd.reduce(column.num, axis=None))) if isinstance(column.num, np.ndarray) \
            else math.gcd(column.den, int(column.num))
        if g > 1:
            column = Column(NUM, column.num // g, column.den // g, column.bound // g, column.den // g,
                            column.missing, column.defer)
        return column
    g = np.gcd(column.num, column.den)
    num, den = column.num // g, column.den // g
    return Column(NUM, num, den, bound_of(num), bound_of(den), column.missing, column.defer)


def numeric(a: Column, b: Column):
    """Both columns as NUM (a scalar number made one), or None when either is not a number."""
    out = []
    for x in (a, b):
        if x.kind == SCALAR:
            if type(x.num) is not Fraction:
                return None
            x = number(x.num)
            if x is None:
                return None
        elif x.kind != NUM:
            return None
        out.append(x)
    return out


def fitted(a: Column, b: Column, sizes):
    """Both as NUM columns whose ``sizes(a, b)`` (the largest numerator and denominator the operation can
    make) fit in int64: as they are, else with their bounds measured from their cells, else with common
    factors cancelled; else both as columns of Python integers (:func:`as_big`). None when either is not
    a number."""
    pair = numeric(a, b)
    if pair is None:
        return None
    if not any(map(is_big, pair)):
        for step in (None, measured, reduced):
            if step is not None:
                pair = [step(x) for x in pair]
            if max(sizes(*pair)) <= LIMIT:
                return pair
    return as_big(pair)


def as_big(pair: list[Column]) -> list[Column]:
    """The columns with Python integers in place of int64 (slower, never too small). A cell whose numbers
    pass :data:`BIG_BITS` bits is deferred, so that what one operation makes of two stays below the exact
    engine's limit on a number (ops.MAX_BITS): that cell is then the exact engine's to work out."""
    out = []
    for x in pair:
        num = x.num.astype(object) if isinstance(x.num, np.ndarray) else x.num
        den = x.den.astype(object) if isinstance(x.den, np.ndarray) else x.den
        out.append(Column(NUM, num, den, x.bound, x.dbound, x.missing, x.defer))
    too_big = None
    for x in out:
        for part in (x.num, x.den):
            if isinstance(part, np.ndarray) and max(x.bound, x.dbound) >= 1 << BIG_BITS:
                found = _bits(np.abs(part)) > BIG_BITS
                too_big = found if too_big is None else too_big | found
    if too_big is not None and too_big.any():
        out = [Column(NUM, np.where(too_big, 0, x.num) if isinstance(x.num, np.ndarray) else x.num,
                      np.where(too_big, 1, x.den) if isinstance(x.den, np.ndarray) else x.den, x.bound, x.dbound,
                      x.missing, any_of(x.defer, too_big)) for x in out]
    return out


# ---- columns from exact values ----

def from_values(values: list) -> Column:
    """A column holding exact values (Fractions, bools, text, dates; Missing or ABSENT where none)."""
    present = [v for v in values if v is not ABSENT and type(v) is not Missing]
    missing = np.array([v is ABSENT or type(v) is Missing for v in values], dtype=bool)
    if not present:
        first = next((v for v in values if type(v) is Missing), None)
        return Column.scalar(first if first is not None else Missing.of("no_input"))
    mask = missing if missing.any() else None
    if all(type(v) is bool for v in present):
        return Column(BOOL, np.array([v is True for v in values], dtype=bool), missing=mask)
    if all(type(v) is Fraction for v in present):
        return numbers(values, mask)
    return Column(OBJ, np.array([None if v is ABSENT or type(v) is Missing else v for v in values], dtype=object),
                  missing=mask)


def numbers(values: list, missing) -> Column:
    """A NUM column of Fractions (anything else a blank cell), over one denominator when one fits."""
    den = 1
    for v in values:
        if type(v) is Fraction and den % v.denominator:
            den = math.lcm(den, v.denominator)
            if den > LIMIT:
                break
    if den <= LIMIT:
        nums = [v.numerator * (den // v.denominator) if type(v) is Fraction else 0 for v in values]
        dens = None
    else:  # no common denominator fits: one per cell
        nums = [v.numerator if type(v) is Fraction else 0 for v in values]
        dens = [v.denominator if type(v) is Fraction else 1 for v in values]
    defer = [not fits(n) or (dens is not None and d > LIMIT) for n, d in zip(nums, dens or [1] * len(nums))]
    if any(defer):
        nums = [0 if d else n for n, d in zip(nums, defer)]
        dens = [1 if d else x for x, d in zip(dens, defer)] if dens is not None else None
    num = np.array(nums, dtype=np.int64)
    return Column(NUM, num, den if dens is None else np.array(dens, dtype=np.int64), bound_of(num),
                  den if dens is None else max(dens), missing, np.array(defer) if any(defer) else None)


# ---- shapes: over organisations, over steps ----

def reshaped(column: Column, shape: tuple) -> Column:
    def fit(x):
        return x.reshape(shape) if isinstance(x, np.ndarray) else x

    if column.kind == SCALAR:
        return column
    return Column(column.kind, fit(column.num), fit(column.den), column.bound, column.dbound, fit(column.missing),
                  fit(column.defer))


def row(column: Column, k: int) -> Column:
    """Step ``k``'s part of a column over many steps (a column over one step is its own row)."""
    if column.kind == SCALAR or np.ndim(column.num) < 2:
        return column

    def take(x):
        return x[k] if isinstance(x, np.ndarray) and x.ndim == 2 else x

    return Column(column.kind, take(column.num), take(column.den), column.bound, column.dbound, take(column.missing),
                  take(column.defer))


def _at(x, k: int, index: int):
    """Step ``k``'s entry for an organisation of an array over organisations, over steps (one row
    per step, or one column every organisation shares), or of a scalar."""
    if not isinstance(x, np.ndarray):
        return x
    if x.ndim == 2:
        return x[k if x.shape[0] > 1 else 0, index if x.shape[1] > 1 else 0]
    return x[index if x.shape[0] > 1 else 0]


def masked_at(column: Column, k: int, index: int) -> bool:
    """Whether step ``k``'s cell of an organisation is missing or deferred (``k`` 0 for a run of one step)."""
    return any(m is not None and bool(_at(m, k, index)) for m in (column.missing, column.defer))


def value_at(column: Column, k: int, index: int):
    """The exact value of step ``k``'s cell of an organisation (not masked)."""
    if column.kind == NUM:
        return Fraction(int(_at(column.num, k, index)), int(_at(column.den, k, index)))
    if column.kind == BOOL:
        return bool(_at(column.num, k, index))
    return _at(column.num, k, index)


def broadcast(size: int, x: Column) -> Column | None:
    """A scalar as a column with the same value in every cell."""
    if type(x.num) is bool:
        return Column(BOOL, np.full(size, x.num, dtype=bool))
    if type(x.num) is Fraction:
        found = number(x.num)
        if found is None:
            return None
        return Column(NUM, np.full(size, found.num, dtype=np.int64), found.den, found.bound, found.dbound)
    return Column(OBJ, np.array([x.num] * size, dtype=object))


def select(size: int, where, a: Column | None, b: Column | None) -> Column | None:
    """``a`` where ``where`` is true, else ``b``, masks included."""
    if a is None or b is None:
        return None
    if a.is_missing and b.is_missing:
        return Column.scalar(ops.merge_missing(a.num, b.num))
    a, b = full(size, a, b), full(size, b, a)
    if a is None or b is None or a.kind != b.kind:
        return None

    def pick(x, y):
        if x is None and y is None:
            return None
        return np.where(where, NO if x is None else x, NO if y is None else y)

    missing, defer = pick(a.missing, b.missing), pick(a.defer, b.defer)
    if a.kind != NUM:
        return Column(a.kind, np.where(where, a.num, b.num), missing=missing, defer=defer)
    if type(a.den) is int and type(b.den) is int and a.den != b.den:
        # one denominator for both, so that the column keeps one (cheaper than one per cell)
        den = math.lcm(a.den, b.den)
        if den <= LIMIT and a.bound * (den // a.den) <= LIMIT and b.bound * (den // b.den) <= LIMIT:
            a, b = over(a, den), over(b, den)
    den = a.den if type(a.den) is int and type(b.den) is int and a.den == b.den else np.where(where, a.den, b.den)
    return Column(NUM, np.where(where, a.num, b.num), den, max(a.bound, b.bound), max(a.dbound, b.dbound), missing, defer)


def full(size: int, x: Column, other: Column) -> Column | None:
    """``x`` as a column over every organisation: a scalar repeated, one missing value a blank all missing."""
    if x.kind != SCALAR:
        return x
    if not x.is_missing:
        return broadcast(size, x)
    like = other if other.kind != SCALAR else broadcast(size, other)
    if like is None:
        return None
    empty = blank(size, like)
    return Column(empty.kind, empty.num, empty.den, empty.bound, empty.dbound, np.ones(size, dtype=bool))


def blank(size: int, like: Column) -> Column:
    if like.kind == NUM:
        return Column(NUM, np.zeros(size, dtype=np.int64), like.den if type(like.den) is int else 1, 0,
                      like.den if type(like.den) is int else 1)
    if like.kind == BOOL:
        return Column(BOOL, np.zeros(size, dtype=bool))
    return Column(OBJ, np.full(size, None, dtype=object))


def masked(x: Column | None, missing, defer) -> Column | None:
    """``x`` with more cells masked (the masks of a condition that decided it)."""
    if x is None:
        return None
    return Column(x.kind, x.num, x.den, x.bound, x.dbound, any_of(x.missing, missing), any_of(x.defer, defer))


def deferred(size: int, missing, kind=NUM) -> Column:
    """Every cell left to the exact engine (except those known missing): int64 cannot hold the result."""
    zeros = np.zeros(size, dtype=np.int64 if kind == NUM else bool)
    return Column(kind, zeros, 1, 0, 1, missing, np.ones(size, dtype=bool))


def per_step(width: int, values: list) -> Column:
    """One exact value per step, as a column over steps that every organisation shares."""
    if all(type(v) is type(values[0]) and v == values[0] for v in values):
        return Column.scalar(values[0])
    return reshaped(from_values(values), (width, 1))


def stacked(size: int, columns: list[Column]) -> Column:
    """One column per step, stacked along the steps' axis."""
    first = columns[0]
    if all(c.kind == SCALAR and type(c.num) is type(first.num) and c.num == first.num for c in columns):
        return first
    like = next((c for c in columns if c.kind != SCALAR), None) or \
        broadcast(size, next((c for c in columns if not c.is_missing), first))
    every = [full(size, c, like) for c in columns]
    if any(c is None or c.kind != like.kind for c in every):
        return deferred(size, None, like.kind if like.kind != OBJ else NUM)
    shape = (size,)
    if like.kind == NUM and all(type(c.den) is int for c in every):
        den = 1
        for c in every:
            den = math.lcm(den, c.den)
        if den > LIMIT or any(c.bound * (den // c.den) > LIMIT for c in every):
            return deferred(size, None)
        every = [over(c, den) for c in every]
    nums = np.stack([np.broadcast_to(c.num, shape) for c in every])
    masks = []
    for part in ("missing", "defer"):
        found = [getattr(c, part) for c in every]
        masks.append(None if all(m is None for m in found) else
                     np.stack([np.broadcast_to(m if m is not None else NO, shape) for m in found]))
    if like.kind != NUM:
        return Column(like.kind, nums, missing=masks[0], defer=masks[1])
    den = every[0].den if type(every[0].den) is int else np.stack([np.broadcast_to(c.den, shape) for c in every])
    return Column(NUM, nums, den, max(c.bound for c in every), max(c.dbound for c in every), *masks)

