"""Explanations: the derivation of one value as a tree of data (:class:`TraceNode`).

The tree is built from the compiled program and the run's results, using the same closures that
computed the value, so an explanation can never disagree with the figure it explains. Renderers
(text, JSON) turn it into words; nothing here formats text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs

from . import ops
from . import syntax as s
from .evaluator import Frame, Results
from .periods import Period
from .source import Span
from .values import Missing

__all__ = ["TraceNode", "explain"]


@attrs.frozen
class TraceNode:
    """One step of a derivation: a named value, or an operation that decides something."""

    kind: str  # definition, flag, deadline, input, parameter, condition, comparison, logical, bands, taper, tolerance, aggregate, member
    label: str
    value: Any
    type: str | None = None
    entity: str | None = None
    period: Period | None = None
    span: Span | None = None
    formula: str | None = None
    description: str | None = None
    citations: tuple[s.Citation, ...] = ()
    interpretations: tuple[str, ...] = ()
    detail: Mapping[str, Any] = attrs.field(factory=dict)
    children: tuple["TraceNode", ...] = ()


class _Explainer:
    def __init__(self, results: Results):
        self.results = results
        self.engine = results.engine
        self.program = results.program
        # trace nodes are immutable, so a named value's derivation is built once and shared
        self.named_nodes: dict[tuple, TraceNode] = results.engine.traces

    def value_of(self, node: s.Expr, frame: Frame):
        return self.engine.closures[id(node)](frame)

    def named(self, name: str, entity: str | None, period: Period | None) -> TraceNode:
        key = (name, entity, period)
        node = self.named_nodes.get(key)
        if node is None:
            node = self.named_nodes[key] = self._named(name, entity, period)
        return node

    def _named(self, name: str, entity: str | None, period: Period | None) -> TraceNode:
        decl = self.program.declarations[name]
        value = self.engine.value(name, entity, period)
        common = dict(label=name, value=value, entity=entity, period=period, span=decl.name_span,
                      description=decl.description, citations=decl.citations, interpretations=decl.interpretations)
        if isinstance(decl, s.InputDecl):
            return TraceNode("input", type=decl.type, detail=self.input_detail(name, entity, period, value), **common)
        if isinstance(decl, s.ParameterDecl):
            detail = self.parameter_detail(name, period)
            # an amendment in force is cited first: it is where the value came from
            common["citations"] = tuple(detail.pop("citations", ())) + decl.citations
            return TraceNode("parameter", type=decl.type, detail=detail, **common)
        expr = decl.when if isinstance(decl, s.FlagDecl) else decl.value
        kind = {s.FlagDecl: "flag", s.DeadlineDecl: "deadline"}.get(type(decl), "definition")
        type_ = "bool" if kind == "flag" else "date" if kind == "deadline" else decl.type
        detail = {"severity": decl.severity, "message": decl.message} if kind == "flag" else {}
        during = getattr(decl, "during", None)
        if during is not None and period is not None and isinstance(value, Missing) and not (
                during[0].first_day <= period.first_day and period.last_day <= during[1].last_day):
            return TraceNode(kind, type=type_, formula=self.program.text_of(expr.span), detail=detail, **common)
        children = self.expr(expr, Frame(entity, period))
        return TraceNode(kind, type=type_, formula=self.program.text_of(expr.span), detail=detail,
                         children=tuple(children), **common)

    def input_detail(self, name, entity, period, value) -> dict:
        key = (name, entity, period)
        if key in self.results.dataset.values:
            return {"origin": self.results.dataset.origins.get(key, self.results.dataset.source)}
        if self.engine.is_default(name, entity, period):
            return {"assumed": True}
        return {}

    def parameter_detail(self, name, period) -> dict:
        value, amendment, entry = self.engine.parameter_version(name, period)
        detail: dict[str, Any] = {"effective": amendment.effective if amendment else None}
        if amendment is not None:
            detail["amendment"] = amendment.span
            detail["citations"] = amendment.citations
        if entry is not None:
            detail["schedule"] = (entry.first, entry.last)
            detail["entry"] = entry.span
        return detail

    # ---- expressions: the steps worth showing ----
    def expr(self, node: s.Expr, frame: Frame) -> list[TraceNode]:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is not None:
            return method(node, frame)
        return self._flatten(s.children(node), frame)

    def _flatten(self, nodes, frame) -> list[TraceNode]:
        out, seen = [], set()
        for child in nodes:
            for step in self.expr(child, frame):
                key = (step.kind, step.label, step.entity, step.period)
                if key not in seen:
                    seen.add(key)
                    out.append(step)
        return out

    def _Ref(self, node: s.Ref, frame):
        decl = self.program.declarations[node.name]
        granularity = getattr(decl, "granularity", None)
        period = frame.period
        if granularity is None and not isinstance(decl, s.ParameterDecl):
            period = None
        elif granularity is not None and period is not None and period.kind != granularity:
            period = period.within(granularity)
        entity = frame.entity if getattr(decl, "kinds", ()) else None
        return [self.named(node.name, entity, period)]

    def _SystemRef(self, node: s.SystemRef, frame):
        decl = self.program.declarations[node.name]
        period = frame.period
        if decl.granularity and period is not None and period.kind != decl.granularity:
            period = period.within(decl.granularity)
        system = self.results.dataset.organisations[frame.entity].system
        return [self.named(node.name, system, period)]

    def _label(self, node: s.Expr) -> str:
        """A short name for a step: the start of its formula, not all of it (the definition shows that)."""
        text = self.program.text_of
        match node:
            case s.If():
                return f"if {text(node.condition.span)}"
            case s.Bands():
                return f"bands on {text(node.amount.span)}"
            case s.Taper():
                return f"taper {text(node.base.span)} by {text(node.shortfall.span)}"
        return text(node.span)

    def _step(self, kind, node, frame, detail, children) -> TraceNode:
        return TraceNode(kind, label=self._label(node), value=self.value_of(node, frame), type=node.type,
                         entity=frame.entity, period=frame.period, span=node.span, detail=detail, children=tuple(children))

    def _Compare(self, node: s.Compare, frame):
        left, right = self.value_of(node.left, frame), self.value_of(node.right, frame)
        detail = {"left": left, "right": right, "operand_type": node.left.type or node.right.type}
        if isinstance(left, Fraction) and isinstance(right, Fraction):
            detail["margin"] = left - right
        elif isinstance(left, dt.date) and isinstance(right, dt.date):
            detail["margin"] = Fraction((left - right).days)
            detail["operand_type"] = "days"
        return [self._step("comparison", node, frame, detail, self._flatten((node.left, node.right), frame))]

    def _Logical(self, node: s.Logical, frame):
        parts = list(_chain(node, node.op))
        values = [self.value_of(p, frame) for p in parts]
        result = self.value_of(node, frame)
        # in an `or` a true part settles it, in an `and` a false one; otherwise every part counted
        settles = node.op == "or"
        if isinstance(result, Missing):
            decisive = [k for k, v in enumerate(values) if isinstance(v, Missing)]
        elif result is settles:
            decisive = [k for k, v in enumerate(values) if v is settles]
        else:
            decisive = list(range(len(parts)))
        detail = {"op": node.op, "parts": tuple(self.program.text_of(p.span) for p in parts), "values": tuple(values),
                  "decisive": tuple(decisive)}
        return [self._step("logical", node, frame, detail, self._flatten(parts, frame))]

    def _If(self, node: s.If, frame):
        condition = self.value_of(node.condition, frame)
        detail = {"condition": self.program.text_of(node.condition.span), "holds": condition}
        children = self.expr(node.condition, frame)
        if condition is True:
            detail["branch"] = "then"
            if node.then_because:
                detail["because"] = node.then_because
            children += self.expr(node.then, frame)
        elif condition is False:
            detail["branch"] = "else"
            if node.because:
                detail["because"] = node.because
            children += self.expr(node.otherwise, frame)
        return [self._step("condition", node, frame, detail, children)]

    def _Bands(self, node: s.Bands, frame):
        amount = self.value_of(node.amount, frame)
        limits = [self.value_of(b.upper, frame) for b in node.bands]
        rates = [self.value_of(b.rate, frame) for b in node.bands] + [self.value_of(node.top_rate, frame)]
        names = [self.program.text_of(b.upper.span) for b in node.bands]
        detail: dict[str, Any] = {"amount": amount, "amount_label": self.program.text_of(node.amount.span)}
        if not any(isinstance(v, Missing) for v in (amount, *limits, *rates)):
            detail.update(ops.bands(amount, limits, rates, names))
            detail.pop("value")
        return [self._step("bands", node, frame, detail, self._flatten(s.children(node), frame))]

    def _Taper(self, node: s.Taper, frame):
        values = [self.value_of(x, frame) if x is not None else None
                  for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)]
        detail = dict(zip(("base", "shortfall", "rate", "floor", "cap"), values))
        if not any(isinstance(v, Missing) for v in values):
            detail.update(ops.taper(*values))
            detail.pop("value")
        return [self._step("taper", node, frame, detail, self._flatten(s.children(node), frame))]

    def _Within(self, node: s.Within, frame):
        values = [self.value_of(x, frame) for x in (node.value, node.tolerance, node.reference)]
        detail: dict[str, Any] = {"relative": node.tolerance.type in ("percent", "ratio", "number"),
                                  "tolerance": values[1], "operand_type": node.value.type}
        if not any(isinstance(v, Missing) for v in values):
            detail.update(ops.within(*values, detail["relative"]))
        return [self._step("tolerance", node, frame, detail, self._flatten(s.children(node), frame))]

    def _Call(self, node: s.Call, frame):
        if node.name == "any_error_flag":
            kind = self.results.dataset.organisations[frame.entity].kind
            flags = [self.named(name, frame.entity, p) for name in node.flags
                     if kind in self.program.declarations[name].kinds
                     for p in self.engine.flag_periods(name, frame.period)]
            return [self._step("aggregate", node, frame, {"over": "error flags", "function": "any"}, flags)]
        if not any(a.over for a in node.args):
            return self._flatten([a.value for a in node.args if not (node.name == "round" and a is node.args[-1])], frame)
        arg = node.args[0]
        if arg.over == "members":
            organisations = self.results.dataset.organisations
            frames = [Frame(m, frame.period) for m in self.results.dataset.members(frame.entity)
                      if organisations[m].kind in node.member_kinds]
        else:
            part = {"months": "month", "quarters": "quarter"}[arg.over]
            frames = [Frame(frame.entity, p) for p in frame.period.parts(part)]
        members = [TraceNode("member", label=f.entity if arg.over == "members" else str(f.period),
                             value=self.value_of(arg.value, f), type=arg.value.type, entity=f.entity, period=f.period,
                             children=tuple(self.expr(arg.value, f))) for f in frames]
        return [self._step("aggregate", node, frame, {"over": arg.over, "function": node.name}, members)]


def _chain(node: s.Expr, op: str):
    """The parts of ``a and b and c`` (parsed as nested pairs), left to right."""
    if isinstance(node, s.Logical) and node.op == op:
        yield from _chain(node.left, op)
        yield from _chain(node.right, op)
    else:
        yield node


def explain(results: Results, name: str, entity: str | None, period: Period | None) -> TraceNode:
    """The derivation of ``name`` for ``entity`` in ``period``, down to the inputs and parameters."""
    return _Explainer(results).named(name, entity, period)
