"""Raw values as a reader hands them over (a JSON number, a cell, a text) made exact and typed.

Numbers become exact :class:`~fractions.Fraction` (a percentage as a fraction of one), never a
binary float; ``null``, an empty string or an empty cell is no value (None), never zero. Every
refusal is an :class:`~planlang.diagnostics.InputError` naming the place the reader gives.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from fractions import Fraction

import attrs

from ..diagnostics import InputError
from ..periods import PeriodError, check_date, parse_date
from ..source import UNSAFE, character_name
from ..values import MAX_DIGITS, AmountError, format_percent, parse_amount, shown

__all__ = ["convert_value", "PercentCell", "LongNumber", "JsonConstant", "describe", "identifier", "writable_text", "SPACES"]

# Codes and periods are trimmed of these only: str.strip() would also drop U+2028, U+0085 and the
# like, silently, which are refused instead
SPACES = " \t"


def identifier(text, what: str, where: str) -> None:
    """Refuse a code holding a control, line-breaking or bidirectional character, or a lone surrogate.

    Codes are identifiers that reach reports and terminals: one holding ``\\x1b[2J`` would clear the
    screen, one holding a newline could forge a report line ("Flags: none raised").
    """
    found = UNSAFE.search(text) if isinstance(text, str) else None
    if found:
        raise InputError(f"{what} is an identifier and may not hold the character {character_name(found[0])}; "
                         f"found {describe(text)}", where)


# What no XML document, and so no workbook or report, can hold (XML 1.0 §2.2): the C0 controls but
# tab, newline and carriage return; the surrogates, which are halves of a pair and no character alone
# (JSON's "\ud800" escape makes one); and U+FFFE and U+FFFF, which are not characters either
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def writable_text(text, what: str, where: str) -> None:
    """Refuse a name or a text value that outputs could not write (an ``.xlsx`` Excel would have to repair).

    Refused where it is read, with its place, rather than met later by each writer in turn.
    """
    found = _NOT_XML.search(text) if isinstance(text, str) else None
    if found:
        char = found[0]
        if "\ud800" <= char <= "\udfff":
            reason = f"a lone surrogate U+{ord(char):04X} is not a character"
        elif char in "\ufffe\uffff":
            reason = f"U+{ord(char):04X} is not a character"
        else:
            reason = f"U+{ord(char):04X} is a control character"
        raise InputError(f"{what} holds {describe(text)}; {reason}, and no workbook or report can hold it", where,
                         "remove it, or write the text without it")


_TRUE, _FALSE = {"true", "yes"}, {"false", "no"}
_EXPECTED = {
    "money": "an amount of money such as £1,000",
    "percent": "a percentage such as 70% (or 0.7)",
    "ratio": "a number",
    "count": "a whole number",
}


def convert_value(raw, type_: str, where: str):
    """A raw JSON or cell value as a value of the input type ``type_``; None when it holds no value.

    Numbers become exact :class:`~fractions.Fraction` (a percentage as a fraction of one), ``bool``
    stays ``bool``, dates become :class:`datetime.date`, text stays ``str``.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if type_ in _EXPECTED:
        return _number(raw, type_, where)
    if type_ == "bool":
        return _bool(raw, where)
    if type_ == "date":
        return _date(raw, where)
    if type_ == "text":
        if isinstance(raw, str):
            writable_text(raw, "the text", where)
            return raw
        raise InputError(f"expected text, found {describe(raw)}", where, f"write it as text: \"{raw}\"")
    raise InputError(f"cannot read values of the type {type_!r}", where)


@attrs.frozen
class PercentCell:
    """A number in an Excel cell formatted as a percentage: 0.7 shown as 70%."""

    value: int | float

    def __str__(self) -> str:
        return format_percent(Fraction(Decimal(repr(self.value))))


def _number(raw, type_: str, where: str) -> Fraction:
    expected = _EXPECTED[type_]
    shown_as_percent = isinstance(raw, PercentCell)
    if shown_as_percent:
        if type_ in ("money", "count"):
            raise InputError(f"expected {expected}, found {raw}, a cell formatted as a percentage", where,
                             "format the cell as a number")
        raw = raw.value
    if isinstance(raw, bool):  # bool is an int in Python, but true is not an amount
        raise InputError(f"expected {expected}, found {describe(raw)}", where)
    if isinstance(raw, JsonConstant):
        raise InputError(f"expected {expected}, found {raw.text}, which is not a number planlang accepts", where)
    if isinstance(raw, (int, LongNumber)):
        value = _bounded(Decimal(raw.text if isinstance(raw, LongNumber) else raw), raw, expected, where)
    elif isinstance(raw, Decimal):  # a JSON number, parsed exactly
        if not raw.is_finite():
            raise InputError(f"expected {expected}, found {raw}", where)
        value = _bounded(raw, raw, expected, where)
    elif isinstance(raw, float):  # an Excel cell: take the shortest decimal that is this float, as Excel shows it
        if not math.isfinite(raw):
            raise InputError(f"expected {expected}, found {raw}", where)
        value = _bounded(Decimal(repr(raw)), raw, expected, where)
    elif isinstance(raw, str):
        value = _number_text(raw, type_, where)
        shown_as_percent = "%" in raw
    else:
        raise InputError(f"expected {expected}, found {describe(raw)}", where)
    if type_ == "count" and value.denominator != 1:
        raise InputError(f"expected a whole number, found {describe(raw)}", where)
    if type_ == "percent" and not shown_as_percent:
        _bare_percentage(value, raw, where)
    return value


def _bounded(number: Decimal, raw, expected: str, where: str) -> Fraction:
    """``number`` exactly, if it has at most MAX_DIGITS digits before the point and after it.

    Checked on the decimal's digits and exponent, so 1e999999999 is refused without being expanded.
    """
    _, digits, exponent = number.as_tuple()
    whole = len(digits) + exponent if digits != (0,) else 0
    if whole > MAX_DIGITS or -exponent > MAX_DIGITS:
        shown = raw.text if isinstance(raw, LongNumber) else str(raw)
        shown = shown if len(shown) <= 40 else f"{shown[:20]}... ({len(shown):,} characters)"
        raise InputError(f"expected {expected}, found the number {shown}, which has more digits than planlang reads "
                         f"(at most {MAX_DIGITS} before the decimal point and {MAX_DIGITS} after it)", where)
    return Fraction(number)


def _number_text(raw: str, type_: str, where: str) -> Fraction:
    text = raw.strip()
    # a £ or % sign says what the writer meant; if it is not what the input is, the data is wrong
    if "%" in text and type_ in ("money", "count"):
        raise InputError(f"expected {_EXPECTED[type_]}, found the percentage {raw!r}", where)
    if "£" in text and type_ != "money":
        raise InputError(f"expected {_EXPECTED[type_]}, found the amount of money {raw!r}", where)
    try:
        return parse_amount(text)
    except AmountError as error:
        why = f"; {error.why}" if error.why else ""
        raise InputError(f"expected {_EXPECTED[type_]}, found {shown(raw)}{why}", where) from None


def _bare_percentage(value: Fraction, raw, where: str) -> None:
    """Refuse a percentage written as a bare number beyond ±1: 70 would be 7000%, almost always 70% mistyped.

    A bare number is a fraction of one (0.7 is 70%); a percentage above 100% is written with its sign.
    """
    if abs(value) > 1:
        meant, reading = (f'"{raw.strip()}%"' if isinstance(raw, str) else f"{raw}%"), format_percent(value)
        raise InputError(f"expected {_EXPECTED['percent']}, found {describe(raw)}, which would be {reading}", where,
                         f"write {meant} if that is meant (in Excel, a cell formatted as a percentage); "
                         f"write {reading} itself for a percentage above 100%")


def _bool(raw, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise InputError(f"expected true or false (or yes or no), found {describe(raw)}", where)


def _date(raw, where: str) -> dt.date:
    if isinstance(raw, dt.date):  # an Excel date cell
        day = raw.date() if isinstance(raw, dt.datetime) else raw
        try:
            return check_date(day)
        except PeriodError as error:
            raise InputError(str(error), where) from None
    if not isinstance(raw, str):
        raise InputError(f"expected a date written as 2021-06-03, found {describe(raw)}", where)
    try:
        return parse_date(raw)
    except PeriodError as error:
        raise InputError(str(error), where) from None


def describe(raw) -> str:
    """A found value as the data's author would recognise it."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "nothing"
    if isinstance(raw, str):
        return repr(raw)
    if isinstance(raw, PercentCell):
        return f"the percentage {raw}"
    if isinstance(raw, (LongNumber, JsonConstant)):
        return f"the number {raw.text[:20]}" + ("..." if len(raw.text) > 20 else "")
    if isinstance(raw, (int, float, Decimal)):
        return f"the number {raw}"
    if isinstance(raw, (dt.date, dt.time)):
        return f"the {'date' if isinstance(raw, dt.date) else 'time'} {raw.isoformat()}"
    return {list: "a list", dict: "an object"}.get(type(raw), repr(raw))


@attrs.frozen
class LongNumber:
    """A JSON integer too long to convert (Python refuses beyond 4,300 digits); refused where it is used."""

    text: str


@attrs.frozen
class JsonConstant:
    """NaN, Infinity or -Infinity, which JSON does not have but Python's reader accepts; refused where used."""

    text: str

