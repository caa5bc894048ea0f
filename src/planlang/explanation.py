"""Explanations: the derivation of one value as a tree of data (:class:`TraceNode`).

:func:`explain` records the cell on the run that computed it with a :class:`TreeTracer`: the cell's
formula is evaluated by the plan's traced closures (:func:`planlang.run.traced.record`), which tell
the tracer each typed event (:mod:`planlang.run.tracer`) as they find it, and the tracer makes each
a node: the named values the cell depends on, down to the inputs and parameters, and every step
that decided something. A node's ``detail`` is the mapping view of the typed detail it keeps as
``recorded``. Renderers (text, JSON) turn the tree into words; nothing here formats a sentence.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import attrs

from . import syntax as s
from .periods import Period
from .run import Results
from .run.traced import record
from .run.tracer import Detail, Event
from .source import Span

__all__ = ["TraceNode", "TreeTracer", "explain"]


@attrs.frozen
class TraceNode:
    """One step of a derivation: a named value, or an operation that decides something."""

    kind: str  # definition, flag, deadline, input, parameter, condition, logical, comparison, bands, taper, tolerance, aggregate, member
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
    recorded: Detail | None = None  # the typed detail recorded; ``detail`` is its view, with expressions as their text


class TreeTracer:
    """Records a traced evaluation as :class:`TraceNode` s; a named value's node is built once and shared."""

    def __init__(self, results: Results):
        self.text_of = results.run.text_of
        self.named: dict[tuple, TraceNode] = {}

    def recall(self, key: tuple) -> TraceNode | None:
        return self.named.get(key)

    def key(self, node: TraceNode) -> tuple:
        return node.kind, node.label, node.entity, node.period

    def record(self, event: Event, children: list) -> TraceNode:
        if event.decl is not None:
            node = self._named(event, children)
            self.named[(node.label, event.entity, event.period)] = node
            return node
        if event.kind == "member":
            label = event.entity if event.detail.over == "members" else str(event.period)
            return TraceNode("member", label=label, value=event.value, type=event.expr.type, entity=event.entity,
                             period=event.period, children=tuple(children), recorded=event.detail)
        return TraceNode(event.kind, label=self._label(event.expr), value=event.value, type=event.expr.type,
                         entity=event.entity, period=event.period, span=event.expr.span,
                         detail=event.detail.as_detail(self.text_of), children=tuple(children), recorded=event.detail)

    def _named(self, event: Event, children: list) -> TraceNode:
        decl = event.decl
        detail = event.detail.as_detail(self.text_of) if event.detail is not None else {}
        citations = decl.citations
        if event.setting is not None:
            detail["setting"] = event.setting
        if event.kind == "parameter" and event.detail.amendment is not None:
            # an amendment in force is cited first: it is where the value came from
            citations = tuple(event.detail.amendment.citations) + decl.citations
        type_ = "bool" if event.kind == "flag" else "date" if event.kind == "deadline" else decl.type
        formula = self.text_of(event.formula.span) if event.formula is not None else None
        return TraceNode(event.kind, label=decl.name, value=event.value, type=type_, entity=event.entity,
                         period=event.period, span=decl.name_span, formula=formula, description=decl.description,
                         citations=citations, interpretations=decl.interpretations, detail=detail,
                         children=tuple(children), recorded=event.detail)

    def _label(self, node: s.Expr) -> str:
        """A short name for a step: the start of its formula, not all of it (the definition shows that)."""
        text = self.text_of
        match node:
            case s.If():
                return f"if {text(node.condition.span)}"
            case s.Bands():
                return f"bands on {text(node.amount.span)}"
            case s.Taper():
                return f"taper {text(node.base.span)} by {text(node.shortfall.span)}"
        return text(node.span)


_TRACERS: "weakref.WeakKeyDictionary[Results, TreeTracer]" = weakref.WeakKeyDictionary()


def explain(results: Results, name: str, entity: str | None, period: Period | None) -> TraceNode:
    """The derivation of ``name`` for ``entity`` in ``period``, down to the inputs and parameters.

    Derivations of one run share their nodes, so explaining many cells of a run costs each named
    value's derivation once.
    """
    tracer = _TRACERS.get(results)
    if tracer is None:
        tracer = _TRACERS[results] = TreeTracer(results)
    return record(results.run, name, entity, period, tracer)
