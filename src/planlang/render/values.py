"""One value for people (``£1,234.50``, ``70%``, ``true``) and for JSON (money a string to the penny).

Money is shown to the penny; this rounding is for display only and never feeds a calculation. The
only part of :mod:`planlang.render` that :mod:`planlang.audit` needs for its figures.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from .. import syntax as s
from ..periods import Period
from ..source import printable
from ..values import Missing, decimal_text, format_money, format_percent, money_text

__all__ = ["format_value", "json_value", "difference_text", "period_label", "value_type"]


def format_value(value, type_: str | None) -> str:
    """A value for people: £1,234.50, 70%, 0.9047619048 (a ratio or a number), true, 2021-06-03."""
    if isinstance(value, Missing):
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        if type_ == "money":
            return format_money(value)
        if type_ == "percent":
            return format_percent(value)
        # a ratio is shown once, as a decimal: a figure wanted as a percentage is declared `percent`
        return decimal_text(value)
    if isinstance(value, (dt.date, Period)):
        return str(value)
    if isinstance(value, str):
        return f'"{printable(value)}"'  # one line, whatever the data held
    return str(value)


def json_value(value, type_: str | None):
    """A value for JSON: money a string of pounds to the penny, other numbers decimal strings, missing null."""
    # isinstance is quick for a value of the class itself; for any other, Fraction's abstract base
    # class makes it slow, so missing values (most cells of a large pack on little data) go first
    if type(value) is Missing or value is None:
        return None
    if isinstance(value, Fraction):
        return money_text(value) if type_ == "money" else decimal_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (dt.date, Period)):
        return str(value)
    return value


def value_type(decl: s.Decl) -> str | None:
    """The type a declaration's values are shown as: a flag's are true or false, a deadline's dates."""
    if isinstance(decl, s.FlagDecl):
        return "bool"
    if isinstance(decl, s.DeadlineDecl):
        return "date"
    return getattr(decl, "type", None)



def period_label(period) -> str:
    """A period as a table or JSON key shows it; ``-`` for a value that has none."""
    return str(period) if period is not None else "-"


def difference_text(amount, type_) -> str:
    """A difference between two values: percentages differ by percentage points, not by a percentage.

    >>> difference_text(Fraction(1, 100), "percent"), difference_text(Fraction(5, 1000), "percent")
    ('1 percentage point', '0.5 percentage points')
    >>> difference_text(Fraction(3, 2), "money")
    '£1.50'
    """
    if type_ == "percent" and isinstance(amount, Fraction):
        points = decimal_text(amount * 100, 2)
        return f"{points} percentage point{'s' * (points != '1')}"
    return format_value(amount, type_)

