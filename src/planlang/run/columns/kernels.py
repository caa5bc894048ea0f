"""The column kernels: each operation of the language on whole columns, by the name its semantics row gives.

``KERNELS[name](size, *operands, **options)`` takes the operands' columns (``size`` organisations
each, or scalars) and returns the result's column, or None when this data has no vector form (the
backend then lifts the expression to the exact engine, cell by cell). Every kernel is exact: it
gives, cell for cell, what the row's exact implementation (:mod:`planlang.run.semantics`) gives,
with the row's rule for missing values; a cell it cannot hold is deferred to the exact engine.

The rows name their kernels; a test proves every name a row gives is a key here and every key is
some row's (tests/test_vector_kernels.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from functools import partial

import numpy as np

from ... import ops
from ...builtins import BUILTINS
from ...values import Missing
from .column import (
    BIG_BITS,
    BOOL,
    LIMIT,
    NO,
    NUM,
    SCALAR,
    Column,
    any_of,
    as_big,
    broadcast,
    cross_sizes,
    fitted,
    full,
    is_big,
    masked,
    nonempty,
    numeric,
    scaled,
    select,
)

__all__ = ["KERNELS", "Kernel"]

Kernel = Callable[..., Column | None]


def _strict_missing(*columns: Column) -> Column | None:
    """The one missing value of a strict operation when an operand is missing for every cell, else None."""
    if any(x.is_missing for x in columns):
        return Column.scalar(ops.merge_missing(*(x.num for x in columns)))
    return None


# ---- arithmetic ----

def _add(a: Column | None, b: Column | None, sign: int) -> Column | None:
    if a is None or b is None:
        return None
    if a.is_missing or b.is_missing:
        return Column.scalar(ops.merge_missing(a.num, b.num))
    if a.kind == SCALAR and b.kind == SCALAR:
        return Column.scalar(a.num + sign * b.num) if type(a.num) is Fraction and type(b.num) is Fraction else None
    pair = fitted(a, b, cross_sizes)
    if pair is None:
        return None  # not numbers: no vector form
    a, b = pair
    masks = any_of(a.missing, b.missing), any_of(a.defer, b.defer)
    if type(a.den) is int and type(b.den) is int:
        den = math.lcm(a.den, b.den)
        ka, kb = den // a.den, den // b.den
        num = scaled(a.num, ka) + scaled(b.num, kb) * sign
        return Column(NUM, num, den, a.bound * ka + b.bound * kb, den, *masks)
    return Column(NUM, a.num * b.den + sign * b.num * a.den, a.den * b.den, a.bound * b.dbound + b.bound * a.dbound,
                  a.dbound * b.dbound, *masks)


def add(size: int, a: Column | None, b: Column | None) -> Column | None:
    return _add(a, b, 1)


def subtract(size: int, a: Column | None, b: Column | None) -> Column | None:
    return _add(a, b, -1)


def multiply(size: int, a: Column | None, b: Column | None) -> Column | None:
    if a is None or b is None:
        return None
    if a.is_missing or b.is_missing:
        return Column.scalar(ops.merge_missing(a.num, b.num))
    if a.kind == SCALAR and b.kind == SCALAR:
        return Column.scalar(a.num * b.num) if type(a.num) is Fraction and type(b.num) is Fraction else None
    pair = fitted(a, b, lambda a, b: (a.bound * b.bound, a.dbound * b.dbound))
    if pair is None:
        return None  # not numbers: no vector form
    a, b = pair
    return Column(NUM, a.num * b.num, a.den * b.den, a.bound * b.bound, a.dbound * b.dbound,
                  any_of(a.missing, b.missing), any_of(a.defer, b.defer))


def divide(size: int, a: Column | None, b: Column | None) -> Column | None:
    if a is None or b is None:
        return None
    if a.is_missing or b.is_missing:
        return Column.scalar(ops.merge_missing(a.num, b.num))
    if a.kind == SCALAR and b.kind == SCALAR:
        return Column.scalar(ops.divide(a.num, b.num, ""))  # a missing result is asked of the exact engine
    if b.kind == SCALAR:
        if type(b.num) is not Fraction:
            return None
        if b.num == 0:
            return Column.scalar(ops.divide(Fraction(0), b.num, ""))
        return multiply(size, a, Column.scalar(1 / b.num))
    pair = fitted(a, b, lambda a, b: (a.bound * b.dbound, b.bound * a.dbound))
    if pair is None:
        return None  # not numbers: no vector form
    a, b = pair
    masks = any_of(a.missing, b.missing), any_of(a.defer, b.defer)
    num, den = a.num * b.den, b.num * a.den
    negative, zero = den < 0, den == 0
    if negative.any():
        num, den = np.where(negative, -num, num), np.where(negative, -den, den)
    if zero.any():  # division by zero: missing, the reason asked of the exact engine
        num, den = np.where(zero, 0, num), np.where(zero, 1, den)
        masks = any_of(masks[0], zero), masks[1]
    return Column(NUM, num, den, a.bound * b.dbound, max(b.bound * a.dbound, 1), *masks)


def negate(size: int, x: Column) -> Column | None:
    if x.kind == SCALAR:
        return x if x.is_missing else Column.scalar(-x.num)
    if x.kind != NUM:
        return None
    return Column(NUM, -x.num, x.den, x.bound, x.dbound, x.missing, x.defer)


def absolute(size: int, x: Column | None) -> Column | None:
    if x is None:
        return None
    if x.kind == SCALAR:
        return x if x.is_missing or type(x.num) is not Fraction else Column.scalar(abs(x.num))
    if x.kind != NUM:
        return None
    return Column(NUM, np.abs(x.num), x.den, x.bound, x.dbound, x.missing, x.defer)


def variance(size: int, value: Column, reference: Column) -> Column | None:
    return divide(size, _add(value, reference, -1), reference)


def round_to(size: int, x: Column, step: Column, mode: str) -> Column | None:
    """``round(x, step, mode)``: x in whole units of ``step`` (a number written out), rounded with the mode."""
    if x.kind == SCALAR or step.kind != SCALAR or type(step.num) is not Fraction:
        if x.kind == SCALAR and step.kind == SCALAR:
            missing = _strict_missing(x, step)
            return missing or Column.scalar(BUILTINS["round"].implementation([x.num, step.num], "", mode=mode))
        return None
    step = step.num
    # the units of step: num * q / (den * p), rounded to a whole number with the mode
    p, q = step.numerator, step.denominator
    pair = fitted(x, Column.scalar(step), lambda a, b: (a.bound * q, a.dbound * p * 2))
    if pair is None:
        return None
    x = pair[0]
    top, bottom = x.num * q, x.den * p
    size_ = np.abs(top)
    whole, rest = size_ // bottom, size_ % bottom
    twice = rest * 2
    if mode == "half_up":
        whole = whole + (twice >= bottom)
    elif mode == "half_down":
        whole = whole + (twice > bottom)
    elif mode == "half_even":
        whole = whole + ((twice > bottom) | ((twice == bottom) & (whole % 2 == 1)))
    elif mode == "away_from_zero":
        whole = whole + (rest > 0)
    units = np.where(top < 0, -whole, whole)
    bound = (x.bound * q // max(1, int(np.min(bottom)) if isinstance(bottom, np.ndarray) else bottom) + 1) * p
    if bound > LIMIT and isinstance(units, np.ndarray):
        units = units.astype(object)  # the rounded figure in Python integers: int64 cannot hold it
    return Column(NUM, units * p, q, bound, q, x.missing, x.defer)


# ---- comparisons and logic ----

def compare(op: str, size: int, a: Column | None, b: Column | None) -> Column | None:
    if a is None or b is None:
        return None
    if a.is_missing or b.is_missing:
        return Column.scalar(ops.merge_missing(a.num, b.num))
    if a.kind == SCALAR and b.kind == SCALAR:
        return Column.scalar(ops.COMPARISONS[op](a.num, b.num))
    masks = any_of(a.missing, b.missing), any_of(a.defer, b.defer)
    pair = fitted(a, b, cross_sizes) if a.kind in (NUM, SCALAR) and b.kind in (NUM, SCALAR) else None
    if pair is not None:
        a, b = pair
        if type(a.den) is int and type(b.den) is int:
            den = math.lcm(a.den, b.den)
            x, y = scaled(a.num, den // a.den), scaled(b.num, den // b.den)
        else:
            x, y = a.num * b.den, b.num * a.den
    elif op in ("==", "!=") and {a.kind, b.kind} <= {"obj", SCALAR, BOOL} and a.kind != NUM and b.kind != NUM:
        x, y = a.num, b.num
    else:
        return None
    result = np.asarray(ops.COMPARISONS[op](x, y), dtype=bool)
    return Column(BOOL, np.broadcast_to(result, (size,)) if result.ndim == 0 else result, missing=masks[0],
                  defer=masks[1])


def not_(size: int, x: Column) -> Column | None:
    if x.kind == SCALAR:
        return x if x.is_missing else Column.scalar(not x.num)
    if x.kind != BOOL:
        return None
    return Column(BOOL, ~x.num, missing=x.missing, defer=x.defer)


def kleene(decisive: bool, size: int, a: Column | None, b: Column | None) -> Column | None:
    """``or`` (``decisive`` true) or ``and`` (false): the decisive value wins over missing and deferred cells."""
    if a is None or b is None:
        return None
    if a.kind == SCALAR and b.kind == SCALAR:
        if a.num is decisive or b.num is decisive:
            return Column.scalar(decisive)
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        return Column.scalar(not decisive)
    parts = []
    for x in (a, b):
        if x.kind == SCALAR:
            if x.num is decisive:
                return Column.scalar(decisive)
            if x.num is (not decisive):
                parts.append((np.bool_(not decisive), NO, NO))
                continue
            if not x.is_missing:
                return None
            parts.append((np.bool_(not decisive), np.True_, NO))
        elif x.kind == BOOL:
            parts.append((x.num, NO if x.missing is None else x.missing, NO if x.defer is None else x.defer))
        else:
            return None
    (va, ma, da), (vb, mb, db) = parts
    wins = ((va == decisive) & ~ma & ~da) | ((vb == decisive) & ~mb & ~db)
    defer = ~wins & (da | db)
    missing = ~wins & ~defer & (ma | mb)
    return Column(BOOL, np.asarray(wins if decisive else ~wins), missing=nonempty(missing), defer=nonempty(defer))


def choose(size: int, condition: Column, then: Column, otherwise: Column) -> Column | None:
    """``if`` over a column of conditions (a single condition picks its branch before any is worked out)."""
    if condition.kind == SCALAR:
        if condition.is_missing:
            return condition
        return then if condition.num else otherwise
    if condition.kind != BOOL:
        return None
    return masked(select(size, condition.num, then, otherwise), condition.missing, condition.defer)


def present(size: int, x: Column) -> Column:
    if x.kind == SCALAR:
        return Column.scalar(not x.is_missing)
    return Column(BOOL, ~x.missing if x.missing is not None else np.ones(size, dtype=bool), defer=x.defer)


# ---- min, max and the constructs built on them ----

def _extreme(pick, size: int, a: Column | None, b: Column | None) -> Column | None:
    """``min`` or ``max`` of two columns."""
    if a is None or b is None:
        return None
    if a.kind == SCALAR and b.kind == SCALAR:
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        return Column.scalar(pick(a.num, b.num))
    if a.is_missing or b.is_missing:
        return Column.scalar(ops.merge_missing(a.num, b.num))
    pair = numeric(a, b)
    if pair is not None and type(pair[0].den) is int and type(pair[1].den) is int:
        # one denominator for both: the smaller or larger numerator is the answer, in one pass
        pair = fitted(a, b, cross_sizes)
        if pair is None:
            return None  # not numbers: no vector form
        a, b = pair
        den = math.lcm(a.den, b.den)
        num = (np.minimum if pick is min else np.maximum)(scaled(a.num, den // a.den), scaled(b.num, den // b.den))
        return Column(NUM, num, den, max(a.bound * (den // a.den), b.bound * (den // b.den)), den,
                      any_of(a.missing, b.missing), any_of(a.defer, b.defer))
    first = compare("<=" if pick is min else ">=", size, a, b)
    if first is None or first.kind != BOOL:
        return first if first is not None and first.is_missing else None
    return masked(select(size, first.num, a, b), first.missing, first.defer)


def _extremes(pick, size: int, *values: Column) -> Column | None:
    found = values[0]
    for other in values[1:]:
        found = _extreme(pick, size, found, other)
    return found


def within(size: int, value: Column, tolerance: Column, reference: Column, *, relative: bool) -> Column | None:
    """``value within tolerance of reference``: a relative tolerance is a share of the reference's size."""
    difference = _add(value, reference, -1)
    limit = multiply(size, tolerance, absolute(size, reference)) if relative else tolerance
    return compare("<=", size, absolute(size, difference), limit)


def _missing_where(size: int, x: Column | None, condition: Column | None) -> Column | None:
    """``x`` missing in the cells where ``condition`` (bands whose thresholds are out of order) holds."""
    if x is None or condition is None:
        return None
    if condition.kind == SCALAR:
        return x if condition.num is False else Column.scalar(Missing.of("thresholds_out_of_order")) \
            if condition.num is True else condition
    if x.kind == SCALAR:
        x = broadcast(size, x) if not x.is_missing else x
        if x is None or x.is_missing:
            return x
    bad = condition.num
    if condition.missing is not None:
        bad = bad & ~condition.missing
    return masked(x, any_of(bad if bad.any() else None, condition.missing), condition.defer)


def bands(size: int, amount: Column, limits: list[Column], rates: list[Column]) -> Column | None:
    """Tiered payment: each band's ``rates[k]`` on the part of ``amount`` up to ``limits[k]``, the last rate above;
    missing where the thresholds are out of order."""
    missing = _strict_missing(amount, *limits, *rates)
    if missing is not None:
        return missing
    zero = Column.scalar(Fraction(0))
    disorder = None
    for k in range(1, len(limits)):
        out_of_order = compare("<", size, limits[k], limits[k - 1])
        disorder = kleene(True, size, disorder, out_of_order) if disorder is not None else out_of_order
    lower = _extreme(min, size, limits[0], zero) if limits else zero
    total = zero
    for upper, rate in zip(limits, rates):
        portion = _extreme(max, size, _add(_extreme(min, size, amount, upper), lower, -1), zero)
        total = _add(total, multiply(size, portion, rate), 1)
        lower = _extreme(max, size, lower, upper)
    total = _add(total, multiply(size, _extreme(max, size, _add(amount, lower, -1), zero), rates[-1]), 1)
    if disorder is None:
        return total
    return _missing_where(size, total, disorder)


def taper(size: int, base: Column, shortfall: Column, rate: Column, floor: Column | None = None,
          cap: Column | None = None) -> Column | None:
    """``base`` less ``rate`` times the shortfall (none when negative), no lower than ``floor``, no higher than ``cap``."""
    value = _add(base, multiply(size, rate, _extreme(max, size, Column.scalar(Fraction(0)), shortfall)), -1)
    if floor is not None:
        value = _extreme(max, size, value, floor)
    if cap is not None:
        value = _extreme(min, size, value, cap)
    return value


def any_error_flag(size: int, flags: list[tuple[Column, np.ndarray]]) -> Column | None:
    """Whether any flag is raised: ``flags`` pairs each flag's column with the organisations it applies to
    (a flag that does not apply to the organisation's kind counts as not raised)."""
    found = Column.scalar(False)
    for flag, counted in flags:
        if flag.kind == SCALAR:
            flag = full(size, flag, Column.scalar(False))
        if flag is None or flag.kind != BOOL:
            return None
        found = kleene(True, size, found, Column(BOOL, flag.num & counted,
                                                 missing=None if flag.missing is None else flag.missing & counted,
                                                 defer=None if flag.defer is None else flag.defer & counted))
    return found


# ---- aggregates: over the months or quarters of a period, or over each organisation's members ----

def _as_count(x: Column | None) -> Column | None:
    """A condition as the number it adds to a count: 1 when true."""
    if x is None:
        return None
    if x.kind == SCALAR:
        return x if x.is_missing else Column.scalar(Fraction(1 if x.num else 0))
    if x.kind != BOOL:
        return None
    return Column(NUM, x.num.astype(np.int64), 1, 1, 1, x.missing, x.defer)


def _common_den(x: Column) -> Column | None:
    """The column with one denominator for every cell, when one fits."""
    if type(x.den) is int:
        return x
    dens = [int(d) for d in np.unique(x.den)]
    den = 1
    for d in dens:
        den = math.lcm(den, d)
        if den.bit_length() > BIG_BITS:
            return None
    big = den > LIMIT or is_big(x)
    scale = den // (x.den.astype(object) if big else x.den)  # past int64, in Python integers: never wrapped or refused
    bound = x.bound * int(scale.max(initial=1))
    if bound > LIMIT or big:
        x, scale = as_big([x])[0], scale.astype(object)
    return Column(NUM, x.num * scale, den, bound, den, x.missing, x.defer)


def _over_members(reduce: str, size: int, inner: Column, groups) -> Column | None:
    order, starts, systems, largest = groups
    if not len(order):
        return Column.scalar(Missing.of("no_members"))  # no organisation has members of these kinds
    none = np.ones(size, dtype=bool)
    none[systems] = False  # organisations with no members of these kinds: missing (no_members)
    if inner.kind == SCALAR:
        if inner.is_missing:
            return inner  # missing for every member, and for an organisation with none
        inner = broadcast(size, inner)
        if inner is None:
            return None
    if reduce == "count":
        inner = _as_count(inner)
        if inner is None:
            return None

    def grouped(array, ufunc, fill):
        out = np.full(array.shape[:-1] + (size,), fill, dtype=array.dtype)
        out[..., systems] = ufunc.reduceat(array[..., order], starts, axis=-1)
        return out

    def gathered(mask):
        return None if mask is None else grouped(mask, np.logical_or, False)

    missing, defer = gathered(inner.missing), gathered(inner.defer)
    if reduce in ("any", "all"):
        if inner.kind != BOOL:
            return None
        decisive = reduce == "any"
        known = inner.num == decisive
        if inner.missing is not None:
            known &= ~inner.missing
        if inner.defer is not None:
            known &= ~inner.defer
        wins = grouped(known, np.logical_or, False)
        defer = None if defer is None else defer & ~wins
        missing = None if missing is None else missing & ~wins & (~defer if defer is not None else True)
        value = wins if decisive else ~wins
        return Column(BOOL, value, missing=any_of(missing, none if none.any() else None), defer=defer)
    if inner.kind != NUM:
        return None
    inner = _common_den(inner)
    if inner is None:
        return None
    if reduce in ("sum", "count"):
        bound = inner.bound * max(largest, 1)
        if bound > LIMIT and not is_big(inner):
            inner = as_big([inner])[0]  # the sums in Python integers: int64 cannot hold them
        num = grouped(inner.num, np.add, 0)
    else:
        bound = inner.bound
        num = grouped(inner.num, np.minimum if reduce == "min" else np.maximum, 0)
    return Column(NUM, num, inner.den, bound, inner.den, any_of(missing, none if none.any() else None), defer)


_FOLD = {"sum": add, "count": add, "min": partial(_extreme, min), "max": partial(_extreme, max),
         "any": partial(kleene, True), "all": partial(kleene, False)}


def aggregate(reduce: str, size: int, parts: list[Column | None], groups=None) -> Column | None:
    """``reduce`` (sum, count, min, max, any, all) ``over``: with ``groups`` (:meth:`Layout.groups`), of the
    one column ``parts[0]`` over each organisation's members; else of the columns ``parts``, one per month
    or quarter of the period."""
    if groups is not None:
        return _over_members(reduce, size, parts[0], groups)
    if not parts:
        return None
    if reduce == "count":
        parts = [_as_count(x) for x in parts]
    fold = _FOLD[reduce]
    found = parts[0]
    for other in parts[1:]:
        if found is None or other is None:
            return None
        found = fold(size, found, other)
    return found


KERNELS: dict[str, Kernel] = {
    "add": add, "subtract": subtract, "multiply": multiply, "divide": divide, "negate": negate,
    "lt": partial(compare, "<"), "le": partial(compare, "<="), "gt": partial(compare, ">"),
    "ge": partial(compare, ">="), "eq": partial(compare, "=="), "ne": partial(compare, "!="),
    "not": not_, "and": partial(kleene, False), "or": partial(kleene, True), "if": choose,
    "within": within, "bands": bands, "taper": taper,
    # built-ins, by their registry names (planlang.builtins)
    "min": partial(_extremes, min), "max": partial(_extremes, max), "abs": absolute, "round": round_to,
    "variance": variance, "present": present, "any_error_flag": any_error_flag,
    **{f"{name}_over": partial(aggregate, name) for name in ("sum", "count", "min", "max", "any", "all")},
}
