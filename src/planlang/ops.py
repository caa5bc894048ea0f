"""The operations on values, shared by evaluation and explanation so both mean the same thing.

Bands, tapers and tolerances return a *detail* mapping (which band applied, by how much each
threshold was cleared or missed) beside their value; evaluation keeps the value, explanation the
detail.

>>> bands(Fraction(26), [Fraction(20), Fraction(25)], [Fraction(0), Fraction(1), Fraction(6, 5)], ["lower", "upper"])["value"]
Fraction(31, 5)
>>> taper(Fraction(100), Fraction(30), Fraction(1), Fraction(0), None)["value"]
Fraction(70, 1)
"""

from __future__ import annotations

import datetime as dt
import operator
from fractions import Fraction

import attrs

from .values import Missing

__all__ = ["bands", "band_total", "day_span", "no_members", "taper", "within", "divide", "merge_missing", "binary_operation", "COMPARISONS", "AGGREGATES",
           "DaySpan"]


@attrs.frozen
class DaySpan:
    """A number of days, or of working days, to add to a date."""

    days: int
    working: bool


def day_span(count, working: bool):
    """A whole number of days to add to a date; a fraction of a day is missing, never rounded away."""
    if count.denominator != 1:
        return Missing.of("fraction_of_a_day", detail=(count, working))
    return DaySpan(int(count), working)


def merge_missing(*values) -> Missing:
    found = None
    for value in values:
        if type(value) is Missing:
            found = value if found is None else found.merge(value)
    return found


# A worked-out number is kept exact while its fraction's numerator and denominator each stay below
# about 10^900: literals and data have at most 40 digits, so only runaway arithmetic (a product of
# hundreds of large factors) gets there, and beyond it Python cannot even print the number.
MAX_BITS = 3000
MAX_DIGITS_WORKED = 900


def _bounded(value, verb: str, where: str):
    if type(value) is Fraction and max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_BITS:
        return Missing.of("number_too_large", detail=(verb, where, MAX_DIGITS_WORKED))
    return value


def divide(a, b, where: str):
    if b == 0:
        return Missing.of("division_by_zero", detail=(where,))
    return _bounded(a / b, "dividing by", where)


def _add(a, b, where):
    if type(b) is DaySpan:
        return _shift(a, b.days, b.working)
    return _bounded(a + b, "adding", where)


def _subtract(a, b, where):
    if type(b) is DaySpan:
        return _shift(a, -b.days, b.working)
    if isinstance(a, dt.date):
        return Fraction((a - b).days)
    return _bounded(a - b, "subtracting", where)


def _multiply(a, b, where):
    return _bounded(a * b, "multiplying by", where)


def _shift(day: dt.date, days: int, working: bool):
    """The date ``days`` (working) days on, or missing when that leaves the supported dates."""
    from .periods import FIRST_DATE, LAST_DATE, PeriodError, add_working_days

    beyond = Missing.of("date_out_of_range", detail=(day, days, working))
    if abs(days) > (LAST_DATE - FIRST_DATE).days:
        return beyond
    try:
        moved = add_working_days(day, days) if working else day + dt.timedelta(days=days)
    except (PeriodError, OverflowError):
        return beyond
    return moved if FIRST_DATE <= moved <= LAST_DATE else beyond


def binary_operation(op: str, left_type: str | None, right_type: str | None):
    return {"+": _add, "-": _subtract, "*": _multiply, "/": divide}[op]


COMPARISONS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq,
               "!=": operator.ne}


def within(value, tolerance, reference, relative: bool) -> dict:
    """Whether ``value`` is within ``tolerance`` of ``reference`` (a share of it when ``relative``)."""
    difference = value - reference
    limit = tolerance * abs(reference) if relative else tolerance
    detail = {"difference": difference, "limit": limit, "within": abs(difference) <= limit,
              "margin": limit - abs(difference)}
    if relative and reference != 0:
        detail["variance"] = difference / reference
    return detail


def bands(amount, limits, rates, names) -> dict:
    """Tiered payment: each band pays its rate on the part of ``amount`` inside it.

    The first band starts at zero (or at its own threshold, if that is below zero) and the last
    (``above``) has no top, so a part above a threshold is always the amount less the threshold.
    Thresholds must not fall: one below the one before it makes the value missing, with both named.
    """
    for k in range(1, len(limits)):
        if limits[k] < limits[k - 1]:
            return {"value": Missing.of("thresholds_out_of_order", detail=(names[k], limits[k], names[k - 1], limits[k - 1]))}
    rows, total, lower = [], Fraction(0), min(Fraction(0), limits[0]) if limits else Fraction(0)
    applied = next((k for k, limit in enumerate(limits) if amount <= limit), len(limits))
    for k, rate in enumerate(rates):
        upper = limits[k] if k < len(limits) else None
        top = amount if upper is None else min(amount, upper)
        portion = max(Fraction(0), top - lower)
        payment = portion * rate
        total += payment
        rows.append({"from": lower, "to": upper, "rate": rate, "portion": portion, "payment": payment,
                     "threshold": names[k] if k < len(names) else None})
        if upper is not None:
            lower = max(lower, upper)
    margins = [{"threshold": names[k], "limit": limits[k], "margin": amount - limits[k]} for k in range(len(limits))]
    return {"value": total, "rows": rows, "applied": applied, "margins": margins}


def band_total(amount, limits, rates):
    """The value of :func:`bands` alone, without the detail (evaluation's fast path)."""
    for k in range(1, len(limits)):
        if limits[k] < limits[k - 1]:
            return bands(amount, limits, rates, [str(x) for x in limits])["value"]
    total = 0
    lower = limits[0] if limits and limits[0] < 0 else 0
    for upper, rate in zip(limits, rates):
        top = amount if amount < upper else upper
        if top > lower:
            total += (top - lower) * rate
        if upper > lower:
            lower = upper
    if amount > lower:
        total += (amount - lower) * rates[-1]
    return Fraction(total)


def taper(base, shortfall, rate, floor, cap) -> dict:
    """``base`` less ``rate`` for every unit of ``shortfall`` (a negative shortfall counts as none), then floor and cap."""
    reduction = rate * max(Fraction(0), shortfall)
    value = base - reduction
    floored = floor is not None and value < floor
    if floored:
        value = floor
    capped = cap is not None and value > cap
    if capped:
        value = cap
    return {"value": value, "reduction": reduction, "floored": floored, "capped": capped}


def no_members(entity: str, kinds) -> tuple:
    """Why an aggregate over a system's members has no value (the arguments of ``Missing.of``): it has
    none of the kinds counted.

    >>> Missing.of(*no_members("SYS1", ("ccg", "trust"))).describe()
    'SYS1 has no member trusts or CCGs'
    """
    return ("no_members", None, entity, None, (tuple(kinds),))


def _or_missing(values, compute):
    missing = merge_missing(*values)
    return missing if missing is not None else compute()


# Over no values at all an aggregate is missing, with the reason ``empty`` (the arguments of Missing.of): a system with no member
# trusts has no outpatient attendances to sum, not zero of them (a later division would blame zero).
# With no reason (any_error_flag where no flag applies) an empty set is simply none raised.
def _sum(values, empty):
    if not values:
        return Missing.of(*empty)
    return _or_missing(values, lambda: sum(values, Fraction(0)))


def _count(values, empty):
    if not values:
        return Missing.of(*empty)
    return _or_missing(values, lambda: Fraction(sum(1 for v in values if v)))


def _any(values, empty):
    """True if any member's is true, even when others are missing."""
    if not values and empty:
        return Missing.of(*empty)
    if any(v is True for v in values):
        return True
    return _or_missing(values, lambda: False)


def _all(values, empty):
    """False if any member's is false, even when others are missing."""
    if not values and empty:
        return Missing.of(*empty)
    if any(v is False for v in values):
        return False
    return _or_missing(values, lambda: True)


def _extreme(pick):
    def reduce(values, empty):
        if not values:
            return Missing.of(*empty)
        return _or_missing(values, lambda: pick(values))

    return reduce


AGGREGATES = {"sum": _sum, "count": _count, "any": _any, "all": _all, "min": _extreme(min), "max": _extreme(max)}
