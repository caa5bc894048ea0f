"""Tracing: the replay of one cell on a run, reported to a tracer as typed events.

An explanation is recorded, not reconstructed: :func:`replay` walks the expression a cell is
worked out by and, step by step, tells a :class:`Tracer` what it found: each named value (a
definition, flag, deadline, input or parameter, with where its value came from) and each step
that decides something (a condition, comparison, bands, taper, tolerance or aggregate, with its
detail). Values come from the run itself (:meth:`ExactRun.evaluate`), so an explanation cannot
disagree with the figure it explains, and it is the same whatever backend produced the figure.

A tracer turns events into whatever it records: :class:`planlang.explanation.TreeTracer` builds the
derivation tree that renderers show. Nothing here formats text.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any, Protocol

import attrs

from .. import ops
from .. import syntax as s
from ..builtins import BUILTINS
from ..periods import Period
from ..plan import formula_of
from ..values import Missing
from .lower import relative_tolerance

__all__ = ["Event", "Tracer", "replay"]


@attrs.frozen
class Event:
    """What the replay found at one step.

    ``kind`` is a named value's kind (definition, flag, deadline, input, parameter) or a step's
    (condition, logical, comparison, bands, taper, tolerance, aggregate, member). A named value has its
    ``decl``; a step has its ``expr`` (a member of an aggregate has the aggregated ``expr``).
    ``formula`` is the expression a named value was worked out by (a scenario may replace it);
    ``setting`` is the scenario setting that decided the value, if one did.
    """

    kind: str
    value: Any
    entity: str | None
    period: Period | None
    decl: s.Decl | None = None
    expr: s.Expr | None = None
    formula: s.Expr | None = None
    setting: Any = None
    detail: dict = attrs.field(factory=dict)


class Tracer(Protocol):
    def recall(self, key: tuple) -> Any:
        """What was recorded for the named value ``key`` (name, entity, period) already, or None."""

    def record(self, event: Event, children: list) -> Any:
        """Record one event whose sub-steps recorded ``children``; returns the record."""

    def key(self, record) -> Any:
        """What makes two records the same step, so that a step found twice in one expression is shown once."""


_KINDS = {s.FlagDecl: "flag", s.DeadlineDecl: "deadline", s.DefineDecl: "definition", s.InputDecl: "input",
          s.ParameterDecl: "parameter"}


def replay(run, name: str, entity: str | None, period: Period | None, tracer: Tracer):
    """Replay the cell (``name``, ``entity``, ``period``) of ``run``, reporting to ``tracer``; returns its record."""
    return _Replay(run, tracer).named(name, entity, period)


class _Replay:
    def __init__(self, run, tracer: Tracer):
        self.run = run
        self.tracer = tracer
        self.program = run.program
        self.organisations = run.dataset.organisations

    def value_of(self, node: s.Expr, entity, period):
        return self.run.evaluate(node, entity, period)

    # ---- named values ----
    def named(self, name: str, entity: str | None, period: Period | None):
        key = (name, entity, period)
        found = self.tracer.recall(key)
        if found is not None:
            return found
        decl = self.program.declarations[name]
        kind = _KINDS[type(decl)]
        value = self.run.value(name, entity, period)
        if kind == "input":
            origin = self.run.input_origin(name, entity, period)
            return self.tracer.record(Event(kind, value, entity, period, decl, setting=origin.pop("setting", None),
                                            detail=origin), [])
        if kind == "parameter":
            return self.tracer.record(self._parameter(decl, period, value), [])
        setting = self.run.setting(name, entity, period)
        expr = setting.value if setting is not None else formula_of(decl)
        detail = {"severity": decl.severity, "message": decl.message} if kind == "flag" else {}
        event = Event(kind, value, entity, period, decl, formula=expr, setting=setting, detail=detail)
        if setting is not None and not setting.formula:
            return self.tracer.record(event, [])  # a value the scenario set: its derivation is the setting
        if isinstance(value, Missing) and not self.run.plan.applies(name, period):
            return self.tracer.record(event, [])
        return self.tracer.record(event, self.expr(expr, entity, period))

    def _parameter(self, decl: s.ParameterDecl, period, value) -> Event:
        _, amendment, entry, setting = self.run.parameter_version(decl.name, period)
        detail: dict[str, Any] = {"effective": amendment.effective if amendment else None}
        if amendment is not None:
            detail["amendment"] = amendment.span
            detail["citations"] = amendment.citations
        if entry is not None:
            detail["schedule"] = (entry.first, entry.last)
            detail["entry"] = entry.span
        return Event("parameter", value, None, period, decl, setting=setting, detail=detail)

    # ---- expressions: the steps worth showing ----
    def expr(self, node: s.Expr, entity, period) -> list:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is not None:
            return method(node, entity, period)
        return self._flatten(s.children(node), entity, period)

    def _flatten(self, nodes, entity, period) -> list:
        out, seen = [], set()
        for child in nodes:
            for step in self.expr(child, entity, period):
                key = self.tracer.key(step)
                if key not in seen:
                    seen.add(key)
                    out.append(step)
        return out

    def _Ref(self, node: s.Ref, entity, period):
        return [self.named(node.name, *node.alignment.cell(entity, period, self.organisations))]

    _SystemRef = _Ref

    def _step(self, kind, node, entity, period, detail, children):
        return self.tracer.record(Event(kind, self.value_of(node, entity, period), entity, period, expr=node,
                                        detail=detail), children)

    def _Compare(self, node: s.Compare, entity, period):
        left, right = self.value_of(node.left, entity, period), self.value_of(node.right, entity, period)
        detail = {"left": left, "right": right, "operand_type": node.left.type or node.right.type}
        if isinstance(left, Fraction) and isinstance(right, Fraction):
            detail["margin"] = left - right
        elif isinstance(left, dt.date) and isinstance(right, dt.date):
            detail["margin"] = Fraction((left - right).days)
            detail["operand_type"] = "days"
        return [self._step("comparison", node, entity, period, detail,
                           self._flatten((node.left, node.right), entity, period))]

    def _Logical(self, node: s.Logical, entity, period):
        parts = list(_chain(node, node.op))
        values = [self.value_of(p, entity, period) for p in parts]
        result = self.value_of(node, entity, period)
        # in an `or` a true part settles it, in an `and` a false one; otherwise every part counted
        settles = node.op == "or"
        if isinstance(result, Missing):
            decisive = [k for k, v in enumerate(values) if isinstance(v, Missing)]
        elif result is settles:
            decisive = [k for k, v in enumerate(values) if v is settles]
        else:
            decisive = list(range(len(parts)))
        detail = {"op": node.op, "parts": tuple(parts), "values": tuple(values), "decisive": tuple(decisive)}
        return [self._step("logical", node, entity, period, detail, self._flatten(parts, entity, period))]

    def _If(self, node: s.If, entity, period):
        condition = self.value_of(node.condition, entity, period)
        detail = {"condition": node.condition, "holds": condition}
        children = self.expr(node.condition, entity, period)
        if condition is True:
            detail["branch"] = "then"
            if node.then_because:
                detail["because"] = node.then_because
            children += self.expr(node.then, entity, period)
        elif condition is False:
            detail["branch"] = "else"
            if node.because:
                detail["because"] = node.because
            children += self.expr(node.otherwise, entity, period)
        return [self._step("condition", node, entity, period, detail, children)]

    def _Bands(self, node: s.Bands, entity, period):
        amount = self.value_of(node.amount, entity, period)
        limits = [self.value_of(b.upper, entity, period) for b in node.bands]
        rates = [self.value_of(b.rate, entity, period) for b in node.bands] + [self.value_of(node.top_rate, entity, period)]
        detail: dict[str, Any] = {"amount": amount, "amount_expr": node.amount}
        if not any(isinstance(v, Missing) for v in (amount, *limits, *rates)):
            detail.update(ops.bands(amount, limits, rates, [b.upper for b in node.bands]))
            detail.pop("value")
        return [self._step("bands", node, entity, period, detail, self._flatten(s.children(node), entity, period))]

    def _Taper(self, node: s.Taper, entity, period):
        values = [self.value_of(x, entity, period) if x is not None else None
                  for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)]
        detail = dict(zip(("base", "shortfall", "rate", "floor", "cap"), values))
        if not any(isinstance(v, Missing) for v in values):
            detail.update(ops.taper(*values))
            detail.pop("value")
        return [self._step("taper", node, entity, period, detail, self._flatten(s.children(node), entity, period))]

    def _Within(self, node: s.Within, entity, period):
        values = [self.value_of(x, entity, period) for x in (node.value, node.tolerance, node.reference)]
        detail: dict[str, Any] = {"relative": relative_tolerance(node.tolerance.type),
                                  "tolerance": values[1], "operand_type": node.value.type}
        if not any(isinstance(v, Missing) for v in values):
            detail.update(ops.within(*values, detail["relative"]))
        return [self._step("tolerance", node, entity, period, detail, self._flatten(s.children(node), entity, period))]

    def _Call(self, node: s.Call, entity, period):
        entry = BUILTINS[node.name]
        if entry.reads == "error_flags":
            kind = self.organisations[entity].kind
            flags = [self.named(name, entity, p) for name in node.flags
                     if kind in self.program.declarations[name].kinds
                     for p in self.run.flag_periods(name, period)]
            return [self._step("aggregate", node, entity, period, {"over": "error flags", "function": "any"}, flags)]
        if not any(a.over for a in node.args):
            count = len(node.args) if entry.arguments is None else entry.arguments
            return self._flatten([a.value for a in node.args[:count]], entity, period)
        arg = node.args[0]
        if arg.over == "members":
            cells = [(m, period) for m in self.run.dataset.members(entity)
                     if self.organisations[m].kind in node.member_kinds]
        else:
            part = {"months": "month", "quarters": "quarter"}[arg.over]
            cells = [(entity, p) for p in period.parts(part)]
        members = [self.tracer.record(Event("member", self.value_of(arg.value, e, p), e, p, expr=arg.value,
                                            detail={"over": arg.over}), self.expr(arg.value, e, p)) for e, p in cells]
        return [self._step("aggregate", node, entity, period, {"over": arg.over, "function": node.name}, members)]


def _chain(node: s.Expr, op: str):
    """The parts of ``a and b and c`` (parsed as nested pairs), left to right."""
    if isinstance(node, s.Logical) and node.op == op:
        yield from _chain(node.left, op)
        yield from _chain(node.right, op)
    else:
        yield node
