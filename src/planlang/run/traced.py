"""Traced evaluation: a cell worked out by closures that tell a tracer what they find as they go.

Beside the plain closures of :func:`planlang.run.exact.compiled`, which bulk work runs and which
record nothing, :func:`traced` builds a second set from the same lowered IR, once per plan (weakly
cached, like the plain set; a scenario's settings once per scenario). A traced closure takes a
:class:`Recording` and a frame, ``closure(recording, frame)``: it works its value out with the same
semantics (the rows of :mod:`planlang.run.semantics`) and, when it is a step that decides
something, records a typed :class:`~planlang.run.tracer.Event` with the records of its operands'
steps as its children.

:func:`record` explains one cell: the named values it reads are recorded once per tracer (the
tracer recalls them) and their values read from the run, which remembers them; only the formula
being explained is evaluated again, traced. Values come from the run that computed the figure (a
vector run's steps from the exact run it holds), so an explanation cannot disagree with the figure
it explains.
"""

from __future__ import annotations

import datetime as dt
import itertools
import weakref
from collections.abc import Callable
from fractions import Fraction

from .. import ops
from .. import syntax as s
from ..periods import Period
from ..plan import Plan, formula_of
from ..scenario import Scenario
from ..values import Missing
from . import ir
from .exact import Compiled, Frame, compiled
from .lower import lower_expression, lower_scenario
from .semantics import strict
from .tracer import (
    Aggregate,
    BandMargin,
    BandRow,
    BandsApplied,
    Branch,
    Comparison,
    Event,
    Flag,
    InputOrigin,
    Logical,
    Member,
    NullTracer,
    ParameterUse,
    TaperApplied,
    Tolerance,
    Tracer,
)

__all__ = ["Traced", "traced", "Recording", "record"]

_KINDS = {s.FlagDecl: "flag", s.DeadlineDecl: "deadline", s.DefineDecl: "definition", s.InputDecl: "input",
          s.ParameterDecl: "parameter"}


def record(run, name: str, entity: str | None, period: Period | None, tracer: Tracer):
    """Record the cell (``name``, ``entity``, ``period``) of ``run`` with ``tracer``; returns its record.

    With a :class:`~planlang.run.tracer.NullTracer` nothing is traced: the cell is worked out by the
    plain closures and nothing is returned.
    """
    if isinstance(tracer, NullTracer):
        run.value(name, entity, period)
        return None
    return Recording(run, tracer).named(name, entity, period)


class Recording:
    """One traced evaluation: the run explained, the tracer told, and the steps found so far at the current level."""

    __slots__ = ("run", "exact", "tracer", "traced", "organisations", "steps")

    def __init__(self, run, tracer: Tracer):
        self.run = run
        self.exact = getattr(run, "exact", run)  # a vector run's steps are the exact run's it holds
        self.tracer = tracer
        self.traced = traced(run.plan)
        self.organisations = run.dataset.organisations
        self.steps: list = []

    def named(self, name: str, entity: str | None, period: Period | None):
        """The record of a named value: recalled, or recorded (with its formula's steps, evaluated traced)."""
        tracer, run = self.tracer, self.run
        found = tracer.recall((name, entity, period))
        if found is not None:
            return found
        decl = run.program.declarations[name]
        kind = _KINDS[type(decl)]
        value = run.value(name, entity, period)
        if kind == "input":
            origin = InputOrigin.of(run.input_origin(name, entity, period))
            return tracer.record(Event(kind, value, entity, period, decl, setting=origin.setting, detail=origin), [])
        if kind == "parameter":
            _, amendment, entry, setting = run.parameter_version(name, period)
            return tracer.record(Event(kind, value, None, period, decl, setting=setting,
                                       detail=ParameterUse(amendment, entry)), [])
        setting = run.setting(name, entity, period)
        formula = setting.value if setting is not None else formula_of(decl)
        event = Event(kind, value, entity, period, decl, formula=formula, setting=setting,
                      detail=Flag(decl.severity, decl.message) if kind == "flag" else None)
        if setting is not None and not setting.formula:
            return tracer.record(event, [])  # a value the scenario set: its derivation is the setting
        if isinstance(value, Missing) and not run.plan.applies(name, period):
            return tracer.record(event, [])
        closure = self.traced.setting(run.scenario, name, setting) if setting is not None else self.traced.formulas[name]
        outer = self.open()
        closure(self, Frame(entity, period))
        return tracer.record(event, self.close(outer))

    # ---- the steps of one level ----
    def open(self) -> list:
        """Start collecting the steps below a new step; returns the level above, for :meth:`close`."""
        outer, self.steps = self.steps, []
        return outer

    def close(self, outer: list) -> list:
        """The steps collected since :meth:`open` (a step found twice shown once), returning to the level above."""
        found, self.steps = self.steps, outer
        if len(found) < 2:
            return found
        key, seen, steps = self.tracer.key, set(), []
        for step in found:
            k = key(step)
            if k not in seen:
                seen.add(k)
                steps.append(step)
        return steps

    def add(self, event: Event, children: list) -> None:
        self.steps.append(self.tracer.record(event, children))


class Traced:
    """A plan's traced closures, ``closure(recording, frame)``, built once per plan from its lowered IR."""

    def __init__(self, plan: Plan):
        # no reference to the plan: it is the key these closures are cached under, weakly
        self.plain: Compiled = compiled(plan)
        self.program = plan.program
        self.formulas = {name: self.compile(node) for name, node in self.plain.lowered.formulas.items()}
        self._settings: weakref.WeakKeyDictionary[Scenario, dict] = weakref.WeakKeyDictionary()

    def setting(self, scenario: Scenario, name: str, setting) -> Callable:
        """The traced closure of one of a scenario's settings (a replaced formula)."""
        found = self._settings.get(scenario)
        if found is None:
            lowered = lower_scenario(self.program, scenario)
            found = self._settings[scenario] = {name: tuple((x, self.compile(node)) for x, node in pairs)
                                                for name, pairs in lowered.settings.items()}
        closure = next((fn for x, fn in found.get(name, ()) if x is setting), None)
        # a setting the scenario does not hold itself (never expected): its value compiled afresh
        return closure if closure is not None else self.compile(lower_expression(self.program, setting.value))

    def compile(self, node: ir.Node) -> Callable:
        return _COMPILERS[type(node)](self, node)

    def _literal(self, node: ir.Literal):
        value = node.value
        return lambda r, f: value

    def _period(self, node: ir.Period):
        return lambda r, f: f.period

    def _ref(self, node: ir.Ref):
        plain, name, cell = self.plain.compile(node), node.name, node.alignment.cell

        def ref(r: Recording, f: Frame):
            r.steps.append(r.named(name, *cell(f.entity, f.period, r.organisations)))
            return plain(r.exact, f)

        return ref

    def _apply(self, node: ir.Apply):
        args = list(map(self.compile, node.args))  # no comprehension's frame: a formula may nest hundreds deep
        if type(node.source) is s.Compare:
            return self._compare(node, *args)
        if len(args) == 1:
            apply, (only,) = strict(node.function, 1), args
            return lambda r, f: apply(only(r, f))
        if len(args) == 2:
            apply, (left, right) = strict(node.function, 2), args
            return lambda r, f: apply(left(r, f), right(r, f))
        apply = strict(node.function)
        return lambda r, f: apply(*[a(r, f) for a in args])

    def _compare(self, node: ir.Apply, left, right):
        apply, source = strict(node.function, 2), node.source
        operand_type = source.left.type or source.right.type

        def compare(r: Recording, f: Frame):
            outer = r.open()
            a, b = left(r, f), right(r, f)
            children = r.close(outer)
            value = apply(a, b)
            if isinstance(a, Fraction) and isinstance(b, Fraction):
                detail = Comparison(a, b, operand_type, a - b)
            elif isinstance(a, dt.date) and isinstance(b, dt.date):
                detail = Comparison(a, b, "days", Fraction((a - b).days))
            else:
                detail = Comparison(a, b, operand_type)
            r.add(Event("comparison", value, f.entity, f.period, expr=source, detail=detail), children)
            return value

        return compare

    def _call(self, node: ir.Call):
        args, function = [self.compile(a) for a in node.args], node.function
        return lambda r, f: function([a(r, f) for a in args], None)

    def _error_flags(self, node: ir.ErrorFlags):
        plain, flags, flag_periods, source = self.plain.compile(node), node.flags, self.plain.flag_periods, node.source

        def any_error_flag(r: Recording, f: Frame):
            kind = r.organisations[f.entity].kind
            found = [r.named(name, f.entity, p) for name, kinds in flags if kind in kinds for p in flag_periods(name, f.period)]
            value = plain(r.exact, f)
            r.add(Event("aggregate", value, f.entity, f.period, expr=source, detail=Aggregate("error flags", "any")), found)
            return value

        return any_error_flag

    def _logical(self, node: ir.Logical):
        # a chain of one operator (``a and b and c``, parsed as pairs) is one step; every part is worked
        # out, even one the outcome did not need, so that the step can show each part's value
        op, source = node.source.op, node.source
        shape = _shape(node, op)
        parts = [self.compile(p) for p in _chain(node, op)]
        sources = tuple(p.source for p in _chain(node, op))
        settles = op == "or"

        def logical(r: Recording, f: Frame):
            outer = r.open()
            values = [part(r, f) for part in parts]
            children = r.close(outer)
            value = _combine(shape, values)
            if isinstance(value, Missing):
                decisive = [k for k, v in enumerate(values) if isinstance(v, Missing)]
            elif value is settles:
                decisive = [k for k, v in enumerate(values) if v is settles]
            else:
                decisive = list(range(len(values)))
            r.add(Event("logical", value, f.entity, f.period, expr=source,
                        detail=Logical(op, sources, tuple(values), tuple(decisive))), children)
            return value

        return logical

    def _if(self, node: ir.If):
        condition, then, otherwise = (self.compile(x) for x in (node.condition, node.then, node.otherwise))
        source = node.source

        def if_(r: Recording, f: Frame):
            outer = r.open()
            holds = condition(r, f)
            children = r.close(outer)
            if type(holds) is Missing:
                value, branch, because = holds, None, None
            else:
                outer = r.open()
                if holds:
                    value, branch, because = then(r, f), "then", source.then_because
                else:
                    value, branch, because = otherwise(r, f), "else", source.because
                children += r.close(outer)
            r.add(Event("condition", value, f.entity, f.period, expr=source,
                        detail=Branch(source.condition, holds, branch, because)), children)
            return value

        return if_

    def _within(self, node: ir.Within):
        parts = [self.compile(x) for x in (node.value, node.tolerance, node.reference)]
        within, relative, source = node.operation.exact, node.relative, node.source
        apply = strict(lambda v, t, ref: within(v, t, ref, relative))
        operand_type = source.value.type

        def tolerance(r: Recording, f: Frame):
            outer = r.open()
            values = [p(r, f) for p in parts]
            children = r.close(outer)
            value = apply(*values)
            detail = Tolerance(relative, values[1], operand_type)
            if not any(type(v) is Missing for v in values):
                found = ops.within(*values, relative)
                detail = Tolerance(relative, values[1], operand_type, found["difference"], found["limit"], found["within"],
                                   found["margin"], found.get("variance"))
            r.add(Event("tolerance", value, f.entity, f.period, expr=source, detail=detail), children)
            return value

        return tolerance

    def _bands(self, node: ir.Bands):
        amount, top = self.compile(node.amount), self.compile(node.top)
        # worked out in the order the source reads (each threshold, then its rate), so the steps come in that order
        pairs = [(self.compile(u), self.compile(rate)) for u, rate in zip(node.uppers, node.rates)]
        bands, names, count, source = node.operation.exact, list(node.names), len(pairs), node.source
        apply = strict(lambda a, *values: bands(a, values[:count], list(values[count:]), names))
        thresholds = [b.upper for b in source.bands]

        def bands_(r: Recording, f: Frame):
            outer = r.open()
            a = amount(r, f)
            uppers, rates = [], []
            for upper, rate in pairs:
                uppers.append(upper(r, f))
                rates.append(rate(r, f))
            rates.append(top(r, f))
            children = r.close(outer)
            value = apply(a, *uppers, *rates)
            detail = BandsApplied(a, source.amount)
            if not any(type(v) is Missing for v in (a, *uppers, *rates)):
                found = ops.bands(a, uppers, rates, thresholds)
                if "rows" in found:
                    rows = tuple(BandRow(x["from"], x["to"], x["rate"], x["portion"], x["payment"], x["threshold"])
                                 for x in found["rows"])
                    margins = tuple(BandMargin(x["threshold"], x["limit"], x["margin"]) for x in found["margins"])
                    detail = BandsApplied(a, source.amount, rows, found["applied"], margins)
            r.add(Event("bands", value, f.entity, f.period, expr=source, detail=detail), children)
            return value

        return bands_

    def _taper(self, node: ir.Taper):
        parts = [self.compile(x) if x is not None else None for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)]
        apply, source = strict(node.operation.exact), node.source

        def taper(r: Recording, f: Frame):
            outer = r.open()
            values = [p(r, f) if p is not None else None for p in parts]
            children = r.close(outer)
            value = apply(*values)
            detail = TaperApplied(*values)
            if not any(type(v) is Missing for v in values):
                found = ops.taper(*values)
                detail = TaperApplied(*values, found["reduction"], found["floored"], found["capped"])
            r.add(Event("taper", value, f.entity, f.period, expr=source, detail=detail), children)
            return value

        return taper

    def _aggregate(self, node: ir.Aggregate):
        inner, reduce, member_kinds, over = self.compile(node.inner), node.operation.exact, node.member_kinds, node.over
        source, member = node.source, node.source.args[0].value
        kinds = set(member_kinds)
        part = {"months": "month", "quarters": "quarter"}.get(over)

        def aggregate(r: Recording, f: Frame):
            if part is None:
                cells = [(m, f.period) for m in r.exact.dataset.members(f.entity) if r.organisations[m].kind in kinds]
                empty = ops.no_members(f.entity, member_kinds)
            else:
                cells, empty = [(f.entity, p) for p in f.period.parts(part)], ("no_periods",)
            values, members = [], []
            for entity, period in cells:
                outer = r.open()
                found = inner(r, Frame(entity, period))
                values.append(found)
                members.append(r.tracer.record(Event("member", found, entity, period, expr=member, detail=Member(over)),
                                               r.close(outer)))
            value = reduce(values, empty)
            r.add(Event("aggregate", value, f.entity, f.period, expr=source, detail=Aggregate(over, source.name)), members)
            return value

        return aggregate


_COMPILERS = {ir.Literal: Traced._literal, ir.Period: Traced._period, ir.Ref: Traced._ref, ir.Apply: Traced._apply,
              ir.Call: Traced._call, ir.ErrorFlags: Traced._error_flags, ir.Logical: Traced._logical, ir.If: Traced._if,
              ir.Within: Traced._within, ir.Bands: Traced._bands, ir.Taper: Traced._taper,
              ir.Aggregate: Traced._aggregate}


def _chain(node: ir.Node, op: str):
    """The parts of ``a and b and c`` (parsed as nested pairs), left to right."""
    if isinstance(node, ir.Logical) and node.source.op == op:
        yield from _chain(node.left, op)
        yield from _chain(node.right, op)
    else:
        yield node


def _shape(node: ir.Node, op: str):
    """The chain's nesting, with each part as its index: (combine, left, right) for a pair."""
    parts = itertools.count()

    def walk(n):
        if isinstance(n, ir.Logical) and n.source.op == op:
            return (n.operation.exact, walk(n.left), walk(n.right))
        return next(parts)

    return walk(node)


def _combine(shape, values: list):
    """The chain's value from its parts' values, combined pair by pair as the plain closures combine them."""
    if isinstance(shape, int):
        return values[shape]
    combine, left, right = shape
    return combine(lambda: _combine(left, values), lambda: _combine(right, values))


_TRACED: weakref.WeakKeyDictionary[Plan, Traced] = weakref.WeakKeyDictionary()


def traced(plan: Plan) -> Traced:
    """The plan's traced closures, compiled on first use (the first explanation) and shared by every run of it."""
    found = _TRACED.get(plan)
    if found is None:
        found = _TRACED[plan] = Traced(plan)
    return found
