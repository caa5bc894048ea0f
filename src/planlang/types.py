"""Types and units, and the algebra the checker enforces: £ + % is an error, £ × % is £.

A bare number written in a policy (``number``) fits wherever a count or a ratio does, but never
money: ``£5`` must say it is money.

>>> add("money", "money"), multiply("money", "percent"), divide("money", "money")
('money', 'money', 'ratio')
>>> add("money", "percent") is None, compare("money", "count")
(True, False)
"""

from __future__ import annotations

__all__ = ["TYPES", "NUMERIC", "add", "subtract", "multiply", "divide", "compare", "unify", "describe"]

TYPES = ("money", "percent", "ratio", "count", "bool", "date", "text")
NUMERIC = {"money", "percent", "ratio", "count", "number"}
DIMENSIONLESS = {"percent", "ratio", "number"}

_WORDS = {
    "money": "money (£)", "percent": "a percentage", "ratio": "a ratio", "count": "a count", "number": "a number",
    "bool": "true/false", "date": "a date", "text": "text", "period": "a period", "days": "a number of days",
    "working_days": "a number of working days",
}


def describe(type_: str | None) -> str:
    return _WORDS.get(type_ or "", type_ or "unknown")


def _dimensionless(a: str, b: str) -> str:
    if "ratio" in (a, b):
        return "ratio"
    if "percent" in (a, b):
        return "percent"
    return "number"


def unify(a: str, b: str) -> str | None:
    """The type of a value that may be either ``a`` or ``b`` (the branches of an if, the arguments of min)."""
    if a == b:
        return a
    if {a, b} <= DIMENSIONLESS:
        return _dimensionless(a, b)
    if {a, b} == {"count", "number"}:
        return "count"
    return None


def add(a: str, b: str) -> str | None:
    if a == "date" and b in ("days", "working_days"):
        return "date"
    return unify(a, b) if a in NUMERIC and b in NUMERIC else None


def subtract(a: str, b: str) -> str | None:
    if a == "date" and b == "date":
        return "count"
    return add(a, b)


def multiply(a: str, b: str) -> str | None:
    if a not in NUMERIC or b not in NUMERIC:
        return None
    pair = {a, b}
    if "money" in pair:
        other = b if a == "money" else a
        return "money" if other in DIMENSIONLESS | {"count"} and a != b else None
    if "count" in pair:
        return "count"
    if "ratio" in pair:
        return "ratio"
    return "percent" if "percent" in pair else "number"


def divide(a: str, b: str) -> str | None:
    if a not in NUMERIC or b not in NUMERIC:
        return None
    if a == "money":
        return "ratio" if b == "money" else "money"
    if b == "money":
        return None
    if a == "count":
        return "ratio" if b == "count" else "count"
    if b == "count":
        return None
    if a == "percent" and b == "number":
        return "percent"
    return "ratio" if "number" not in (a, b) or a != b else "number"


def compare(a: str, b: str, op: str = "<") -> bool:
    """Whether values of types ``a`` and ``b`` can be compared with ``op``."""
    if op in ("==", "!=") and a == b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return unify(a, b) is not None
    return a == b and a in ("date", "period")
