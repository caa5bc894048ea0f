"""Runtime values: exact numbers, missing values with reasons, parsing and formatting of amounts.

Every number planlang computes with is a :class:`fractions.Fraction`, so no £ figure carries
binary-float error; rounding happens only where a policy calls ``round``.

>>> parse_amount("£30,000,000")
Fraction(30000000, 1)
>>> parse_amount("70%")
Fraction(7, 10)
>>> money_text(Fraction(139_000_000, 7))
'19857142.86'
>>> format_money(Fraction(-1_108_696))
'-£1,108,696.00'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

import attrs

__all__ = [
    "Missing",
    "Reason",
    "REASON_KINDS",
    "reason_text",
    "kinds_text",
    "parse_amount",
    "AmountError",
    "MAX_DIGITS",
    "shown",
    "round_to",
    "ROUNDING_MODES",
    "money_text",
    "format_money",
    "decimal_text",
    "format_percent",
    "decimal_places",
]


@attrs.frozen
class Reason:
    """Why a value is missing, as data: what kind of cause, and the input, entity and period it concerns.

    ``kind`` is one of :data:`REASON_KINDS`; ``detail`` holds what that kind needs besides (for
    ``division_by_zero``, the source text of the divisor). The words are a renderer's job
    (:func:`reason_text`), so the evaluator builds no sentences.
    """

    kind: str
    name: str | None = None
    entity: str | None = None
    period: str | None = None
    detail: tuple = ()

    @property
    def message(self) -> str:
        return reason_text(self)


def _outside(r: Reason) -> str:
    first, last = r.detail
    return f"{r.name} applies only from {first} to {last}, not in {r.period}"


def _out_of_order(r: Reason) -> str:
    name, limit, previous_name, previous = r.detail
    return f"band thresholds out of order: {name} ({decimal_text(limit, 2)}) is below {previous_name} ({decimal_text(previous, 2)})"


_PLURAL = {"trust": "trusts", "ccg": "CCGs", "system": "systems", "organisation": "organisations"}


def kinds_text(kinds) -> str:
    """Kinds of organisation in the plural, trusts first: ``trusts or CCGs``."""
    return " or ".join(sorted((_PLURAL.get(kind, kind) for kind in kinds), key=lambda w: (w != "trusts", w)))


def _no_members(r: Reason) -> str:
    kinds = r.detail[0] if r.detail else ()
    return f"{r.entity} has no member {kinds_text(kinds) or 'organisations'}"


def _fraction_of_a_day(r: Reason) -> str:
    count, working = r.detail
    return f"a number of {'working days' if working else 'days'} is whole; {decimal_text(count, 2)} is not"


def _number_too_large(r: Reason) -> str:
    verb, where, digits = r.detail
    shown = where if len(where) <= 60 else where[:57] + "..."
    return f"{verb} {shown} gives a number too large to keep exactly (more than {digits} digits)"


def _date_out_of_range(r: Reason) -> str:
    from .periods import DATE_RANGE

    day, days, working = r.detail
    unit = "working days" if working else "days"
    return f"{day} {'+' if days >= 0 else '-'} {abs(days):,} {unit} is outside the dates planlang supports, {DATE_RANGE}"


# one wording per kind of reason; a new kind of cause is a new line here
_REASON_WORDS = {
    "no_input": lambda r: f"{r.name} has no value for {r.entity} in {r.period}",
    "no_parameter_value": lambda r: f"the parameter {r.name} has no value for {r.period}",
    "outside_during": _outside,
    "division_by_zero": lambda r: f"division by zero: {r.detail[0]} is zero",
    "thresholds_out_of_order": _out_of_order,
    "no_members": _no_members,
    "no_periods": lambda r: "no periods",
    "fraction_of_a_day": _fraction_of_a_day,
    "number_too_large": _number_too_large,
    "date_out_of_range": _date_out_of_range,
    "incomplete_total": lambda r: f"{r.detail[0]:,} of {r.detail[1]:,} figures in the total have no value",
    "message": lambda r: r.detail[0],
}
REASON_KINDS = tuple(_REASON_WORDS)


def reason_text(reason: Reason) -> str:
    """A reason in words, for people."""
    return _REASON_WORDS[reason.kind](reason)


class Missing:
    """A value that could not be computed. Missing is never zero: it propagates with its reasons.

    Immutable, and equal to another with the same :attr:`reasons`. A run of a large pack on little
    data holds a missing value in most of its cells, nearly all with one reason each, so one reason
    is held alone and the frozenset made only when asked for (an empty frozenset is 216 bytes, more
    than the reason itself).
    """

    __slots__ = ("_held",)

    def __init__(self, reasons: Iterable[Reason]):
        reasons = frozenset(reasons)
        object.__setattr__(self, "_held", next(iter(reasons)) if len(reasons) == 1 else reasons)

    @property
    def reasons(self) -> frozenset[Reason]:
        held = self._held
        return frozenset((held,)) if type(held) is Reason else held

    @classmethod
    def of(cls, kind: str, name=None, entity=None, period=None, detail: tuple = ()) -> "Missing":
        missing = object.__new__(cls)
        object.__setattr__(missing, "_held", Reason(kind, name, entity, period, tuple(detail)))
        return missing

    def __eq__(self, other) -> bool:
        if type(other) is not Missing:
            return NotImplemented
        return self._held == other._held or self.reasons == other.reasons

    def __hash__(self) -> int:
        return hash(self.reasons)

    def __repr__(self) -> str:
        return f"Missing(reasons={self.reasons!r})"

    def __setattr__(self, name, value):
        raise attrs.exceptions.FrozenInstanceError()

    def __delattr__(self, name):
        raise attrs.exceptions.FrozenInstanceError()

    def __reduce__(self):
        return Missing, (self.reasons,)

    @classmethod
    def because(cls, message: str, name=None, entity=None, period=None) -> "Missing":
        """A missing value whose cause is only words (data readers and tests; the evaluator uses :meth:`of`)."""
        return cls.of("message", name, entity, period, (message,))

    def merge(self, other: "Missing") -> "Missing":
        if other is self or other._held == self._held:  # the same cause reached by two paths
            return self
        return Missing(self.reasons | other.reasons)

    def describe(self) -> str:
        return "; ".join(sorted(reason_text(r) for r in self.reasons))

    def __bool__(self) -> bool:  # pragma: no cover - guards against truthiness bugs
        raise TypeError("a missing value has no truth value")


class AmountError(ValueError):
    """Text that is not a number, amount or percentage; ``why`` says what rule it broke, when one did."""

    def __init__(self, message: str, why: str | None = None):
        super().__init__(message)
        self.why = why


# Digits are the ASCII 0-9 only: Python's \\d and int() also read Arabic-Indic and other digits, which
# a reviewer would not recognise as the same number.
_DIGITS = re.compile(r"(?P<digits>[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<pct>%?)")
_SIGNS = "-−"
# The largest number written in a policy or data file: far beyond any amount of money, and small
# enough that no arithmetic on such numbers runs into Python's 4,300-digit limit on printing them.
MAX_DIGITS = 40


def parse_amount(text: str) -> Fraction:
    """Parse ``£1,000.50``, ``-£500``, ``70%``, ``1.25%`` or ``0.7`` exactly.

    A percentage becomes its fraction of one (``70%`` is ``7/10``). At most :data:`MAX_DIGITS`
    digits before the decimal point and as many after it. Read in one pass (a pattern with spaces
    on both sides of an optional sign took quadratic time on a long run of spaces).

    >>> parse_amount("£٣٠")
    Traceback (most recent call last):
    ...
    planlang.values.AmountError: '£٣٠' is not a number, an amount such as £1,000 or a percentage such as 70% (digits are 0 to 9)
    """
    text = str(text)  # a Lark token is a str whose repr is not
    rest = text.strip()
    sign = rest[:1] in _SIGNS and rest[:1] != ""
    rest = rest[sign:].lstrip()
    pound = rest.startswith("£")
    rest = rest[pound:].lstrip()
    sign2 = rest[:1] in _SIGNS and rest[:1] != ""
    match = _DIGITS.fullmatch(rest[sign2:])
    if not match or (pound and match["pct"]):
        why = "digits are 0 to 9" if any(c.isdigit() and not "0" <= c <= "9" for c in text) else None
        raise AmountError(f"{shown(text)} is not a number, an amount such as £1,000 or a percentage such as 70%"
                          + (f" ({why})" if why else ""), why)
    digits = match["digits"]
    if "," in digits and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?", digits):
        raise AmountError(f"{shown(text)} has misplaced thousands separators")
    whole, _, decimals = digits.replace(",", "").partition(".")
    if len(whole.lstrip("0")) > MAX_DIGITS or len(decimals) > MAX_DIGITS:
        why = f"planlang reads at most {MAX_DIGITS} digits before the decimal point and {MAX_DIGITS} after it"
        raise AmountError(f"{shown(text)} has too many digits: {why}", why)
    if sign and sign2:
        raise AmountError(f"{shown(text)} has two minus signs")
    value = Fraction(int(whole or "0") * 10 ** len(decimals) + int(decimals or "0"), 10 ** len(decimals))
    if sign or sign2:
        value = -value
    if match["pct"]:
        value /= 100
    return value


def shown(text: str) -> str:
    """Text quoted in a message, cut short when long: a 40,000-character cell need not be echoed whole."""
    return repr(text) if len(text) <= 60 else repr(text[:40]) + f"... ({len(text):,} characters)"


def _quantize(value: Fraction, step: Fraction, direction) -> Fraction:
    units = value / step
    return direction(units) * step


def _half_up(units: Fraction) -> int:
    # ties away from zero, the convention of money tables and of Excel's ROUND
    whole = abs(units)
    rounded = int(whole + Fraction(1, 2)) if whole.denominator != 1 else int(whole)
    return rounded if units >= 0 else -rounded


def _half_even(units: Fraction) -> int:
    return round(units)


def _half_down(units: Fraction) -> int:
    whole = abs(units)
    floor = int(whole)
    rounded = floor + 1 if whole - floor > Fraction(1, 2) else floor
    return rounded if units >= 0 else -rounded


def _away_from_zero(units: Fraction) -> int:
    whole = abs(units)
    rounded = int(whole) + (0 if whole.denominator == 1 else 1)
    return rounded if units >= 0 else -rounded


def _toward_zero(units: Fraction) -> int:
    return int(units)


ROUNDING_MODES = {
    "half_up": _half_up,
    "half_even": _half_even,
    "half_down": _half_down,
    "toward_zero": _toward_zero,
    "away_from_zero": _away_from_zero,
}


def round_to(value: Fraction, step: Fraction, mode: str) -> Fraction:
    """Round ``value`` to a multiple of ``step`` with a named mode.

    >>> round_to(Fraction(5, 2), Fraction(1), "half_up"), round_to(Fraction(5, 2), Fraction(1), "half_even")
    (Fraction(3, 1), Fraction(2, 1))
    >>> round_to(Fraction(-5, 2), Fraction(1), "half_up")
    Fraction(-3, 1)
    """
    return _quantize(value, step, ROUNDING_MODES[mode])


def decimal_places(text: str) -> int:
    """How many decimal places a written amount has: ``£1,000.50`` has 2, ``70%`` has 2 as a fraction."""
    digits = re.sub(r"[^\d.]", "", text)
    places = len(digits.split(".", 1)[1]) if "." in digits else 0
    return places + (2 if text.strip().endswith("%") else 0)


def _fixed(value: Fraction, places: int) -> str:
    """``value`` rounded half up to ``places`` decimals, in plain digits (no exponent, any size).

    The same digits as ``round_to(value, Fraction(1, 10**places), "half_up")``, worked out on the
    numerator and denominator by one integer division: a run prints every figure through here, and
    the Fraction arithmetic of ``round_to`` cost about ten times as much a value.
    """
    numerator, denominator = value.numerator, value.denominator
    units, remainder = divmod(abs(numerator) * 10**places, denominator)
    if 2 * remainder >= denominator:  # half up: a tie goes away from zero
        units += 1
    sign = "-" if numerator < 0 and units else ""
    digits = str(units).rjust(places + 1, "0")
    whole, fraction = digits[: len(digits) - places], digits[len(digits) - places:]
    return f"{sign}{whole}.{fraction}" if places else f"{sign}{whole}"


def money_text(value: Fraction) -> str:
    """Pounds to the penny as a plain string (rounded half up for display only)."""
    return _fixed(value, 2)


def format_money(value: Fraction) -> str:
    """Pounds to the penny with a £ sign and thousands separators."""
    text = money_text(value)
    sign = "-" if text.startswith("-") else ""
    whole, pence = text.lstrip("-").split(".")
    return f"{sign}£{int(whole):,}.{pence}"


def decimal_text(value: Fraction, places: int = 10) -> str:
    """Exact decimal when it terminates within ``places``; otherwise rounded half up to ``places``.

    >>> decimal_text(Fraction(7, 10)), decimal_text(Fraction(19, 21))
    ('0.7', '0.9047619048')
    """
    text = _fixed(value, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def terminates(value: Fraction) -> bool:
    """Whether the fraction has a finite decimal expansion (its denominator has no factor but 2 and 5).

    >>> terminates(Fraction(3, 8)), terminates(Fraction(1, 3))
    (True, False)
    """
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1


def exact_decimal(value: Fraction) -> str:
    """Every digit of a fraction that :func:`terminates`, as decimal text (no rounding, no exponent).

    >>> exact_decimal(Fraction(-3, 8)), exact_decimal(Fraction(12))
    ('-0.375', '12')
    """
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
    scaled = abs(value.numerator * 10**digits // value.denominator)
    whole, fraction = divmod(scaled, 10**digits)
    return f"{'-' if value < 0 else ''}{whole}" + (f".{fraction:0{digits}d}" if digits else "")


def format_percent(value: Fraction, places: int = 2) -> str:
    """A fraction of one as a percentage for people: ``19/21`` is ``90.48%``."""
    return decimal_text(value * 100, places) + "%"
