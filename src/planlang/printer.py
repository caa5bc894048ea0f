"""Printing: a syntax tree's expression back to planlang text that parses to the same tree.

The output is canonical: one line, single spaces, and parentheses exactly where precedence needs
them, so two expressions that mean the same print the same (a basis for formatting and for
comparing rules across years). ``if``, ``bands`` and ``taper`` are parenthesised wherever they are
an operand, which keeps a trailing ``because`` or ``else`` with the construct it belongs to.

>>> from planlang.source import Span
>>> at = Span("x.plan", 1, 1, 1, 1)
>>> a, b, c = (s.Ref(span=at, name=n) for n in "abc")
>>> format_expr(s.Binary(span=at, op="-", left=a, right=s.Binary(span=at, op="-", left=b, right=c)))
'a - (b - c)'
>>> format_expr(s.Binary(span=at, op="*", left=s.Binary(span=at, op="+", left=a, right=b), right=c))
'(a + b) * c'
"""

from __future__ import annotations

from . import syntax as s
from .periods import GRANULARITIES

__all__ = ["format_expr", "format_amendments", "format_value_clause", "format_scope", "GRANULARITY_WORDS"]

GRANULARITY_WORDS = {kind: word for word, kind in GRANULARITIES.items()}  # "month" -> "monthly"

# how tightly each form binds, loosest first, as in grammar/planlang.lark
_CONSTRUCT, _OR, _AND, _NOT, _COMPARISON, _SUM, _PRODUCT, _UNARY, _POSTFIX, _ATOM = range(10)
_BINARY = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT}


def format_expr(node: s.Expr) -> str:
    """Planlang text for an expression."""
    return _format(node)[0]


def _at(node: s.Expr, level: int) -> str:
    """``node`` as an operand where at least ``level`` binds: in parentheses if it binds more loosely."""
    text, own = _format(node)
    return text if own >= level else f"({text})"


def _quoted(text: str) -> str:
    """A quoted text as the lexer reads it: a backslash escapes the character after it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(node: s.Expr) -> tuple[str, int]:
    match node:
        case s.Literal(type="text"):
            return _quoted(node.value), _ATOM
        case s.Literal():
            return node.text, _ATOM
        case s.Ref():
            return node.name, _ATOM
        case s.SystemRef():
            return f"system.{node.name}", _ATOM
        case s.CurrentPeriod():
            return "period", _ATOM
        case s.Call():
            args = ", ".join(_at(a.value, _CONSTRUCT) + (f" over {a.over}" if a.over else "") for a in node.args)
            return f"{node.name}({args})", _ATOM
        case s.DaySpan():
            return f"{_at(node.count, _ATOM)} {'working days' if node.working else 'days'}", _POSTFIX
        case s.Negate():
            return f"-{_at(node.operand, _UNARY)}", _UNARY
        case s.Binary():
            level = _BINARY[node.op]
            return f"{_at(node.left, level)} {node.op} {_at(node.right, level + 1)}", level
        case s.Compare():
            return f"{_at(node.left, _SUM)} {node.op} {_at(node.right, _SUM)}", _COMPARISON
        case s.Within():
            return (f"{_at(node.value, _SUM)} within {_at(node.tolerance, _SUM)} of {_at(node.reference, _SUM)}",
                    _COMPARISON)
        case s.Not():
            return f"not {_at(node.operand, _NOT)}", _NOT
        case s.Logical():
            level = _OR if node.op == "or" else _AND
            return f"{_at(node.left, level)} {node.op} {_at(node.right, level + 1)}", level
        case s.If():
            then, otherwise = (_at(branch, _OR) + ("" if why is None else f" because {_quoted(why)}")
                               for branch, why in ((node.then, node.then_because), (node.otherwise, node.because)))
            return f"if {_at(node.condition, _OR)} then {then} else {otherwise}", _CONSTRUCT
        case s.Bands():
            bands = " ".join(f"up to {_at(b.upper, _OR)}: {_at(b.rate, _OR)}" for b in node.bands)
            return f"bands on {_at(node.amount, _OR)} {bands} above: {_at(node.top_rate, _OR)}", _CONSTRUCT
        case s.Taper():
            limits = "".join(f" {word} {_at(limit, _OR)}" for word, limit in (("floor", node.floor), ("cap", node.cap))
                             if limit is not None)
            return (f"taper {_at(node.base, _OR)} by {_at(node.shortfall, _OR)} at {_at(node.rate, _OR)}{limits}",
                    _CONSTRUCT)
    raise TypeError(f"cannot print {type(node).__name__}")


def _range(first, last) -> str:
    return str(first) if last == first else f"{first} to {last}"


def format_value_clause(decl) -> str | None:
    """A parameter's or amendment's value: ``= 5%``, or its schedule as ``2021-04: 70%; 2021-05: 75%``."""
    if getattr(decl, "value", None) is not None:
        return "= " + format_expr(decl.value)
    entries = getattr(decl, "schedule", ())
    return "; ".join(f"{_range(e.first, e.last)}: {format_expr(e.value)}" for e in entries) or None


def format_scope(decl) -> str | None:
    """Whom and how often a declaration is worked out for: ``per trust or ccg monthly during 2021-04 to 2021-09``."""
    words = []
    if getattr(decl, "kinds", ()):
        words.append("per " + " or ".join(decl.kinds))
    if getattr(decl, "granularity", None):
        words.append(GRANULARITY_WORDS[decl.granularity])
    if getattr(decl, "during", None):
        words.append("during " + _range(*decl.during))
    return " ".join(words) or None


def format_amendments(amendments) -> str | None:
    """A parameter's amendments, each as ``from 2019-10-01 = 1.25%``."""
    return "; ".join(f"from {a.effective} {format_value_clause(a)}" for a in amendments) or None
