"""Lowering: a plan's syntax trees -> the lowered IR (:mod:`planlang.run.ir`), once per plan.

``lowered(plan)`` runs the one lowering pass over every formula, parameter value and input default
and keeps the result for as long as the plan lives (weakly: a plan no longer used takes its IR with
it). Each backend builds its own machinery from it once per plan, then takes a run's data as an
argument.

>>> relative_tolerance("percent"), relative_tolerance("money")
(True, False)
"""

from __future__ import annotations

import weakref
from typing import Protocol

from .. import syntax as s
from ..builtins import BUILTINS
from ..compiler import Program
from ..plan import Plan, formula_of
from ..scenario import Scenario
from ..types import DIMENSIONLESS
from . import ir
from .semantics import STRICT, operation_for


class Lowerings(Protocol):
    """What lowering asks of the machinery shared by a family of plans (:class:`planlang.run.shared.Shared`,
    which imports this module, so it is named here by what it does): a declaration lowered, or one it
    already lowered the same for another plan of the family."""

    def declaration(self, program: Program, name: str) -> ir.LoweredDeclaration: ...


__all__ = ["lowered", "lower_declaration", "lower_scenario", "lower_expression", "relative_tolerance"]


def relative_tolerance(type: str | None) -> bool:
    """Whether a tolerance of this type is a share of the reference (a percentage, ratio or plain number)
    rather than an amount in the reference's own unit."""
    return type in DIMENSIONLESS


_LOWERED: weakref.WeakKeyDictionary[Plan, ir.LoweredPlan] = weakref.WeakKeyDictionary()


def lowered(plan: Plan, shared: Lowerings | None = None) -> ir.LoweredPlan:
    """The plan's lowered IR, built on first use and shared by every run of the plan.

    Given ``shared`` (the machinery of a family of plans), a declaration it already lowered for
    another plan of the family, in the same surroundings, is taken from it rather than lowered again.
    """
    found = _LOWERED.get(plan)
    if found is None:
        found = _LOWERED[plan] = _lower_plan(plan, shared)
    return found


def _lower_plan(plan: Plan, shared: Lowerings | None) -> ir.LoweredPlan:
    program = plan.program
    pieces = {name: shared.declaration(program, name) if shared is not None else lower_declaration(program, name)
              for name in program.declarations}
    by_source: dict = {}
    for piece in pieces.values():
        by_source.update(piece.by_source)
    return ir.LoweredPlan({name: type(decl) for name, decl in program.declarations.items()},
                          {name: p.formula for name, p in pieces.items() if p.formula is not None},
                          tuple(node for p in pieces.values() for node in p.parameters),
                          {name: p.default for name, p in pieces.items() if p.default is not None}, by_source, pieces)


def lower_declaration(program: Program, name: str) -> ir.LoweredDeclaration:
    """One declaration of ``program`` lowered: its formula, a parameter's values or an input's default."""
    decl = program.declarations[name]
    amendments = tuple(program.amendments.get(name, ()))
    lowering = _Lowering(program, {})
    expr = formula_of(decl)
    formula = lowering.lower(expr) if expr is not None else None
    parameters: tuple[ir.Node, ...] = ()
    if isinstance(decl, s.ParameterDecl):
        parameters = tuple(lowering.lower(value) for version in (decl, *amendments)
                           for value in (version.value, *(e.value for e in version.schedule)) if value is not None)
    default = lowering.lower(decl.default) if isinstance(decl, s.InputDecl) and decl.default is not None else None
    return ir.LoweredDeclaration(name, decl, amendments, tuple(lowering.kinds_read.items()), tuple(lowering.flags_read.items()),
                                 formula, parameters, default, lowering.by_source)


def lower_scenario(program: Program, scenario: Scenario) -> ir.LoweredScenario:
    """A scenario's settings lowered against the plan's program."""
    lowering = _Lowering(program, {})
    settings = {name: tuple((x, lowering.lower(x.value)) for x in scenario.settings_for(name)) for name in scenario.names}
    return ir.LoweredScenario(settings, lowering.by_source)


def lower_expression(program: Program, expr: s.Expr) -> ir.Node:
    """One expression from outside the plan (a scenario's setting, a test's value), lowered against it."""
    return _Lowering(program, None).lower(expr)


class _Lowering:
    def __init__(self, program: Program, by_source: dict | None):
        self.program = program
        # what the lowering read of the program besides the expression: what a shared declaration depends on
        self.kinds_read: dict[str, type] = {}
        self.flags_read: dict[str, s.Decl] = {}
        self.by_source = by_source
        self.methods = {s.Literal: self._literal, s.CurrentPeriod: self._period, s.Ref: self._ref, s.SystemRef: self._ref,
                        s.Negate: self._unary, s.Not: self._unary, s.Binary: self._binary, s.Compare: self._compare,
                        s.Logical: self._logical, s.If: self._if, s.Within: self._within, s.Bands: self._bands,
                        s.Taper: self._taper, s.DaySpan: self._day_span, s.Call: self._call}

    def lower(self, expr: s.Expr) -> ir.Node:
        node = self.methods[type(expr)](expr)
        if self.by_source is not None:
            self.by_source[id(expr)] = (expr, node)
        return node

    def text(self, span) -> str:
        return self.program.text_of(span)

    def _literal(self, expr: s.Literal):
        return ir.Literal(expr, frozenset(), expr.value)

    def _period(self, expr):
        return ir.Period(expr, frozenset())

    def _ref(self, expr):
        kind = self.kinds_read[expr.name] = type(self.program.declarations[expr.name])
        return ir.Ref(expr, frozenset({expr.name}), expr.name, kind, expr.alignment,
                      type(expr) is s.SystemRef)

    def _apply(self, expr, function, *args: ir.Node):
        return ir.Apply(expr, frozenset().union(*(a.reads for a in args)), operation_for(expr), function, args)

    def _unary(self, expr):
        return self._apply(expr, operation_for(expr).exact, self.lower(expr.operand))

    def _binary(self, expr: s.Binary):
        op, where = operation_for(expr).exact, self.text(expr.right.span)
        return self._apply(expr, lambda a, b: op(a, b, where), self.lower(expr.left), self.lower(expr.right))

    def _compare(self, expr: s.Compare):
        return self._apply(expr, operation_for(expr).exact, self.lower(expr.left), self.lower(expr.right))

    def _day_span(self, expr: s.DaySpan):
        day_span, working = operation_for(expr).exact, expr.working
        return self._apply(expr, lambda n: day_span(n, working), self.lower(expr.count))

    def _logical(self, expr: s.Logical):
        left, right = self.lower(expr.left), self.lower(expr.right)
        return ir.Logical(expr, left.reads | right.reads, operation_for(expr), left, right)

    def _if(self, expr: s.If):
        parts = [self.lower(x) for x in (expr.condition, expr.then, expr.otherwise)]
        return ir.If(expr, frozenset().union(*(p.reads for p in parts)), operation_for(expr), *parts)

    def _within(self, expr: s.Within):
        parts = [self.lower(x) for x in (expr.value, expr.tolerance, expr.reference)]
        return ir.Within(expr, frozenset().union(*(p.reads for p in parts)), operation_for(expr), *parts,
                         relative_tolerance(expr.tolerance.type))

    def _bands(self, expr: s.Bands):
        amount = self.lower(expr.amount)
        uppers = tuple(self.lower(b.upper) for b in expr.bands)
        rates = tuple(self.lower(b.rate) for b in expr.bands)
        top = self.lower(expr.top_rate)
        reads = frozenset().union(amount.reads, top.reads, *(x.reads for x in (*uppers, *rates)))
        return ir.Bands(expr, reads, operation_for(expr), amount, uppers, rates, top,
                        tuple(self.text(b.upper.span) for b in expr.bands))

    def _taper(self, expr: s.Taper):
        parts = [self.lower(x) if x is not None else None for x in (expr.base, expr.shortfall, expr.rate, expr.floor, expr.cap)]
        return ir.Taper(expr, frozenset().union(*(p.reads for p in parts if p is not None)), operation_for(expr), *parts)

    def _call(self, expr: s.Call):
        operation = operation_for(expr)
        entry = BUILTINS[expr.name]
        if any(a.over for a in expr.args):
            arg = expr.args[0]
            inner = self.lower(arg.value)
            return ir.Aggregate(expr, inner.reads, operation, entry, inner, arg.over, expr.member_kinds)
        function = entry.implementation_for(expr)
        if entry.reads == "error_flags":
            self.flags_read.update((name, self.program.declarations[name]) for name in expr.flags)
            flags = tuple((name, frozenset(self.program.declarations[name].kinds)) for name in expr.flags)
            return ir.ErrorFlags(expr, frozenset(expr.flags), operation, function, flags)
        count = len(expr.args) if entry.arguments is None else entry.arguments
        args = tuple(self.lower(a.value) for a in expr.args[:count])
        reads = frozenset().union(*(a.reads for a in args))
        if operation.missing is not STRICT:
            return ir.Call(expr, reads, operation, function, args)
        # what a message about the call names: variance divides by its reference, so that is named
        where = self.text(expr.args[-1].value.span if entry.names_last_argument else expr.span)
        return ir.Apply(expr, reads, operation, lambda *values: function(list(values), where), args)
