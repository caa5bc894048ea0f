"""The built-in functions: one registry entry each, holding everything any stage needs to know.

An entry gives the function's signature (for messages), its typing rule (used by the checker),
its implementation on exact values (used by the evaluator and by explanations) and how an
explanation shows it. Adding a built-in is one registry entry here plus one semantics row in
:mod:`planlang.run.semantics` (its missing-value rule and its column kernel, or a lift to exact);
no other module lists them, and the suite fails while an entry has no row.

>>> BUILTINS["variance"].implementation([Fraction(110), Fraction(100)], "reference")
Fraction(1, 10)
>>> sorted(name for name, entry in BUILTINS.items() if entry.aggregate is not None)
['all', 'any', 'count', 'max', 'min', 'sum']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from fractions import Fraction

import attrs

from . import ops
from . import syntax as s
from . import types as t
from .diagnostics import suggest
from .periods import Period, working_days, working_days_between
from .values import Missing, round_to

__all__ = ["Builtin", "BUILTINS", "ROUNDING"]

ROUNDING = ("half_up", "half_even", "half_down", "toward_zero", "away_from_zero")


@attrs.frozen
class Builtin:
    """A built-in function.

    ``typing(checker, node, args, types)`` reports misuse through the checker and returns the result
    type (None when it cannot be known). ``implementation(values, where)`` computes the result from
    argument values (all present unless its semantics row says otherwise); ``where`` is the source
    text a message about it names (the call, or its last argument when ``names_last_argument``).
    ``arguments`` is how many arguments are expressions to evaluate (None: all).
    ``reads`` is what the function looks at: its ``arguments``, or the organisation's ``error_flags``
    in the period (then the backend supplies the flags' values); a derivation shows the same.
    ``options(node)`` gives keyword arguments fixed by the call's text (round's mode).
    ``aggregate`` is the reduction used with ``over``. ``arity_message`` and ``arity_help`` replace
    the usual words when it is called with the wrong number of arguments.
    """

    name: str
    help: str
    arity: int | None = None
    typing: Callable | None = None
    implementation: Callable | None = None
    arguments: int | None = None
    names_last_argument: bool = False
    reads: str = "arguments"
    options: Callable | None = None
    aggregate: Callable | None = None
    arity_message: str | None = None
    arity_help: str | None = None

    def implementation_for(self, node: s.Call) -> Callable:
        """The implementation with the options the call fixes."""
        if self.options is None:
            return self.implementation
        return functools.partial(self.implementation, **self.options(node))

    @property
    def callable(self) -> bool:
        """Whether it can be called without ``over``."""
        return self.typing is not None


# ---- typing rules ----

def _known(rule):
    """A rule that needs its arguments' types: when one is unknown (an error already reported), so is the result."""

    def typing(checker, node, args, types):
        return None if None in types else rule(checker, node, args, types)

    return typing


def _extreme(checker, node, args, types):
    name = node.name
    if not args:
        checker.error(f"`{name}` needs at least one argument", node.span)
    result = types[0] if args else None
    for arg in args[1:]:
        if result is not None and t.unify(result, arg.value.type) is None:
            checker.error(f"`{name}` compares like with like; {t.describe(result)} and {t.describe(arg.value.type)} differ",
                          arg.span)
            result = None
        elif result is not None:
            result = t.unify(result, arg.value.type)
    if result and result not in t.NUMERIC | {"date"}:
        checker.error(f"`{name}` needs numbers, amounts or dates", node.span)
    return result


def _abs(checker, node, args, types):
    checker.expect_numeric(args[0].value, "the argument of abs")
    return types[0]


def _of_type(needed: str, result: str):
    def typing(checker, node, args, types):
        for arg in args:
            checker.expect_type(arg.value, needed, node.name)
        return result

    return typing


def _same_period(checker, node, args, types):
    checker.expect_type(args[0].value, "period", "same_period")
    year = args[1].value
    if not (isinstance(year, s.Literal) and isinstance(year.value, Period) and year.value.kind == "year"):
        checker.error("the second argument of same_period is a financial year such as 2019/20", args[1].span)
    return "period"


def _variance(checker, node, args, types):
    a, b = types
    if t.unify(a, b) is None or a not in t.NUMERIC:
        checker.error(f"variance compares like with like, not {t.describe(a)} and {t.describe(b)}", node.span)
    return "ratio"


def _round(checker, node, args, types):
    value, step, mode = (a.value for a in args)
    if not (isinstance(step, s.Literal) and step.type in t.NUMERIC and step.value > 0):
        checker.error("the step to round to is a positive amount written out, such as £0.01 or £1", step.span)
    elif value.type and t.unify(value.type, step.type) is None and not (value.type == "percent" and step.type == "percent"):
        checker.error(f"cannot round {t.describe(value.type)} to a step of {t.describe(step.type)}", step.span)
    if not (isinstance(mode, s.Ref) and mode.name in ROUNDING):
        checker.error("the third argument of round is a rounding mode", mode.span,
                      suggest(getattr(mode, "name", ""), ROUNDING) or f"the modes are {', '.join(ROUNDING)}")
    return value.type


def _any_error_flag(checker, node, args, types):
    return "bool"


# ---- implementations on exact values ----

def _same_period_value(values, where):
    period, year = values
    if period.kind == "month":
        calendar_year = year.year if period.index >= 4 else year.year + 1
        return Period("month", calendar_year, period.index)
    return Period(period.kind, year.year, period.index)


def _round_value(values, where, mode):
    value, step = values
    return round_to(value, step, mode)


def _rounding_mode(node: s.Call) -> dict:
    return {"mode": node.args[2].value.name}


def _any_error_flag_value(values, where):
    return ops.AGGREGATES["any"](values, ())


_ENTRIES = (
    Builtin("min", "the smallest of its arguments", typing=_known(_extreme), implementation=lambda v, w: min(v),
            aggregate=ops.AGGREGATES["min"]),
    Builtin("max", "the largest of its arguments", typing=_known(_extreme), implementation=lambda v, w: max(v),
            aggregate=ops.AGGREGATES["max"]),
    Builtin("abs", "the size of a value", 1, _known(_abs), lambda v, w: abs(v[0])),
    Builtin("round", "round(x, £0.01, half_up): round to a step with a named mode", 3, _round, _round_value, arguments=2,
            options=_rounding_mode, arity_message="round takes three arguments: round(x, £0.01, half_up)",
            arity_help=f"the rounding modes are {', '.join(ROUNDING)}"),
    Builtin("working_days", "working_days(period): weekdays less England bank holidays", 1, _known(_of_type("period", "count")),
            lambda v, w: Fraction(working_days(v[0]))),
    Builtin("working_days_between", "working_days_between(first, last): working days between two dates, inclusive", 2,
            _known(_of_type("date", "count")), lambda v, w: Fraction(working_days_between(v[0], v[1]))),
    Builtin("same_period", "same_period(period, 2019/20): the same month or quarter in another financial year", 2,
            _known(_same_period), _same_period_value),
    Builtin("start_of", "start_of(period): its first day", 1, _known(_of_type("period", "date")), lambda v, w: v[0].first_day),
    Builtin("end_of", "end_of(period): its last day", 1, _known(_of_type("period", "date")), lambda v, w: v[0].last_day),
    Builtin("variance", "variance(value, reference): (value - reference) / reference", 2, _known(_variance),
            lambda v, w: ops.divide(v[0] - v[1], v[1], w), names_last_argument=True),
    Builtin("present", "present(x): true when x has a value", 1, _known(lambda c, n, a, ts: "bool"),
            lambda v, w: not isinstance(v[0], Missing)),
    Builtin("any_error_flag",
            "any_error_flag(): whether any error flag is raised for the organisation in the period (or a period within it)",
            0, _any_error_flag, _any_error_flag_value, reads="error_flags",
            arity_message="any_error_flag() takes no arguments"),
    Builtin("sum", "sum(x over members)", aggregate=ops.AGGREGATES["sum"]),
    Builtin("count", "count(condition over members)", aggregate=ops.AGGREGATES["count"]),
    Builtin("any", "any(condition over members)", aggregate=ops.AGGREGATES["any"]),
    Builtin("all", "all(condition over members)", aggregate=ops.AGGREGATES["all"]),
)

BUILTINS: dict[str, Builtin] = {entry.name: entry for entry in _ENTRIES}
