"""The table of operations: what each operation of the language means, stated once for every backend.

One :class:`Operation` row per operator of the syntax tree and per built-in (and per aggregate a
built-in offers with ``over``). A row names

- ``exact``: the implementation on exact values (Fractions, bools, dates, periods), taken from
  :mod:`planlang.ops` or the built-in's registry entry, never restated here;
- ``missing``: the rule for missing values, one of

  - :data:`STRICT`: missing when any operand is, with every operand's reasons merged (sqlglot's
    ``null_if_any``); ``exact`` is called with present values only (see :func:`strict`);
  - :data:`KLEENE`: ``and``/``or`` and their aggregates ``any``/``all``: a decisive operand settles
    it even when another is missing (see :func:`kleene`);
  - :data:`LAZY`: only the operands actually evaluated matter (``if``: the branch not taken is never
    worked out, see :func:`choose`); a missing operand is a value to ``exact`` (``present``);

- ``kernel``: the name of its column kernel in the vector backend
  (``planlang.run.columns.kernels.KERNELS``), or :data:`LIFT`: the vector backend works it out
  cell by cell with ``exact``.

Adding a built-in is one registry entry (:mod:`planlang.builtins`) plus one row here; the suite
fails while a built-in or an operator has no row.

>>> operation_for(s.Binary(span=None, op="+", left=None, right=None)).kernel
'add'
>>> OPERATIONS["working_days"].kernel
LIFT
>>> from fractions import Fraction
>>> strict(lambda a, b: a + b)(Fraction(1), Missing.of("division_by_zero", detail=("y",))) == Missing.of("division_by_zero", detail=("y",))
True
>>> kleene(False)(lambda: False, lambda: Missing.of("no_input", "x"))
False
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import attrs

from .. import ops
from .. import syntax as s
from ..builtins import BUILTINS, Builtin
from ..values import Missing

__all__ = ["Operation", "OPERATIONS", "STRICT", "KLEENE", "LAZY", "LIFT", "operation_for", "strict", "kleene", "choose",
           "BINARY", "COMPARE"]

STRICT = "strict"
KLEENE = "kleene"
LAZY = "lazy"


@attrs.frozen
class _Lift:
    """The marker for an operation with no column kernel: the vector backend lifts it to the exact engine."""

    def __repr__(self) -> str:
        return "LIFT"


LIFT = _Lift()


@attrs.frozen
class Operation:
    """One row of the table: an operation, its exact implementation, its missing rule and its column kernel."""

    name: str
    exact: Callable = attrs.field(validator=attrs.validators.is_callable())
    missing: str = attrs.field(validator=attrs.validators.in_((STRICT, KLEENE, LAZY)))
    kernel: str | _Lift = attrs.field(validator=attrs.validators.instance_of((str, _Lift)))
    builtin: Builtin | None = None


# ---- the missing rules ----

def strict(fn: Callable, arity: int | None = None) -> Callable:
    """``fn`` over present values, extended to values that may be missing: missing if any is, every reason kept.

    ``arity`` (1 or 2) gives a faster form for a fixed number of operands: the exact engine calls it
    for every step of arithmetic.
    """
    if arity == 1:
        return lambda a: a if type(a) is Missing else fn(a)
    if arity == 2:
        def apply2(a, b):
            if type(a) is Missing or type(b) is Missing:
                return ops.merge_missing(a, b)
            return fn(a, b)

        return apply2

    def apply(*values):
        for value in values:
            if type(value) is Missing:
                return ops.merge_missing(*values)
        return fn(*values)

    return apply


def kleene(decisive: bool) -> Callable:
    """``and`` (decisive false) or ``or`` (decisive true) over true, false and missing: the decisive
    value wins over missing, so ``false and missing`` is false and ``true or missing`` is true.

    The operands are given unevaluated, ``left(*args)`` and ``right(*args)``: the right one is not
    worked out when the left one settles it.
    """

    def combine(left, right, *args):
        a = left(*args)
        if a is decisive:
            return decisive
        b = right(*args)
        if b is decisive:
            return decisive
        if type(a) is Missing or type(b) is Missing:
            return ops.merge_missing(a, b)
        return not decisive

    return combine


def choose(condition, then, otherwise, *args):
    """``if``: missing when the condition is; otherwise only the branch taken is worked out."""
    c = condition(*args)
    if type(c) is Missing:
        return c
    return then(*args) if c else otherwise(*args)


# ---- the rows ----

BINARY = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
COMPARE = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}


def _within(value, tolerance, reference, relative: bool) -> bool:
    return ops.within(value, tolerance, reference, relative)["within"]


def _taper(base, shortfall, rate, floor, cap):
    return ops.taper(base, shortfall, rate, floor, cap)["value"]


def _bands(amount, limits, rates, names):
    for k in range(1, len(limits)):
        if limits[k] < limits[k - 1]:
            return ops.bands(amount, limits, rates, names)["value"]  # missing, with the thresholds named
    return ops.band_total(amount, limits, rates)


# a built-in whose implementation looks at missing values itself, and the rule it follows
_NOT_STRICT = {"present": LAZY, "any_error_flag": KLEENE}
# built-ins the vector backend has no column form for (dates and periods): worked out cell by cell
_LIFTED = frozenset({"working_days", "working_days_between", "same_period", "start_of", "end_of"})


def _operator_rows():
    for op, name in BINARY.items():
        yield Operation(name, ops.binary_operation(op, None, None), STRICT, name)
    for op, name in COMPARE.items():
        yield Operation(name, ops.COMPARISONS[op], STRICT, name)
    yield Operation("negate", operator.neg, STRICT, "negate")
    yield Operation("not", operator.not_, STRICT, "not")
    yield Operation("and", kleene(False), KLEENE, "and")
    yield Operation("or", kleene(True), KLEENE, "or")
    yield Operation("if", choose, LAZY, "if")
    yield Operation("within", _within, STRICT, "within")
    yield Operation("bands", _bands, STRICT, "bands")
    yield Operation("taper", _taper, STRICT, "taper")
    yield Operation("day_span", ops.day_span, STRICT, LIFT)


def _builtin_rows():
    for name, entry in BUILTINS.items():
        if entry.implementation is not None:
            yield Operation(name, entry.implementation, _NOT_STRICT.get(name, STRICT), LIFT if name in _LIFTED else name,
                            entry)
        if entry.aggregate is not None:
            yield Operation(f"{name} over", entry.aggregate, KLEENE if name in ("any", "all") else STRICT, f"{name}_over",
                            entry)


OPERATIONS: dict[str, Operation] = {row.name: row for row in (*_operator_rows(), *_builtin_rows())}

_BY_TYPE = {s.Negate: "negate", s.Not: "not", s.If: "if", s.Within: "within", s.Bands: "bands", s.Taper: "taper",
            s.DaySpan: "day_span"}


def operation_for(node: s.Expr) -> Operation | None:
    """The row of an expression node; None for a node that is not an operation (a literal, a name, the period)."""
    kind = type(node)
    if kind is s.Binary:
        return OPERATIONS[BINARY[node.op]]
    if kind is s.Compare:
        return OPERATIONS[COMPARE[node.op]]
    if kind is s.Logical:
        return OPERATIONS[node.op]
    if kind is s.Call:
        over = any(a.over for a in node.args)
        return OPERATIONS[f"{node.name} over" if over else node.name]
    name = _BY_TYPE.get(kind)
    return OPERATIONS[name] if name is not None else None

