"""Evaluation: a run of a compiled :class:`~planlang.plan.Plan` over inputs and a scenario -> Results, exactly.

``run(plan, inputs, scenario)`` picks a backend from :data:`BACKENDS`; the exact backend
(:class:`ExactRun`) runs the plan's closures, built once per plan from its lowered IR
(:func:`compiled`; no ``eval``) and given the run as an argument, so a sweep step or a solver's
trial compiles nothing. Values are computed on demand and remembered, so the order of declarations
never matters; the plan's order drives the sweep over every entity and period.

Numbers are :class:`~fractions.Fraction`. A value that cannot be computed is a
:class:`~planlang.values.Missing` carrying its reasons; it spreads to whatever uses it, except
where the result is already settled (``false and x``, the branch of an ``if`` not taken).

What each operation means, and its rule for missing values, is the table of
:mod:`planlang.run.semantics` (pointing at :mod:`planlang.ops` and the built-ins' registry).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import ops
from .. import syntax as s
from ..compiler import Program
from ..data import Dataset, make_dataset
from ..periods import Period
from ..plan import Plan, compile_plan
from ..scenario import BASELINE, Scenario
from ..values import Missing
from . import ir
from .lower import lower_expression, lower_scenario, lowered
from .semantics import choose, strict

if TYPE_CHECKING:
    from .shared import Shared

__all__ = ["ExactRun", "Compiled", "compiled", "Frame", "constant_value"]


class Frame:
    """Where a value is being worked out: which organisation, which period."""

    __slots__ = ("entity", "period")

    def __init__(self, entity: str | None, period: Period | None):
        self.entity = entity
        self.period = period



_UNSET = object()


class Compiled:
    """A plan's expressions turned into Python closures, once per plan, shared by every run of it.

    Each closure takes the run and the frame, ``closure(run, frame)``, so it captures no data: a
    sweep step, a Shapley coalition or a solver's trial is a new :class:`ExactRun` over the same
    closures. Built from the lowered IR (:func:`planlang.run.lower.lowered`); a scenario's settings
    are compiled once per scenario (:meth:`settings`).
    """

    def __init__(self, plan: Plan, shared: Shared | None = None):
        self.program = plan.program
        self.during = dict(plan.during)
        self.lowered = lowered(plan, shared)
        # each lowered node (held here, so its id stays its own) -> its closure: the plan's, and each scenario's apart
        self._by_node: dict[int, tuple[ir.Node, Callable]] = {}
        self._into = None
        self.formulas: dict[str, Callable] = {}
        for name, piece in self.lowered.declarations.items():
            # a declaration another plan of the family compiled is taken with its closures (Shared says when)
            formula, by_node = shared.built("exact", piece, self._declaration) if shared is not None else self._declaration(piece)
            self._by_node.update(by_node)
            if formula is not None:
                self.formulas[name] = formula
        self._settings: weakref.WeakKeyDictionary[Scenario, tuple] = weakref.WeakKeyDictionary()

    def _declaration(self, piece: ir.LoweredDeclaration) -> tuple[Callable | None, dict]:
        """One declaration's closures: its formula's, and each of its nodes' by id."""
        self._into = by_node = {}
        try:
            formula = self.compile(piece.formula) if piece.formula is not None else None
            for node in (*piece.parameters, *(() if piece.default is None else (piece.default,))):
                self.compile(node)
        finally:
            self._into = None
        return formula, by_node

    def closure(self, expr: s.Expr, scenario: Scenario = BASELINE) -> Callable:
        """The closure of one of the plan's (or the scenario's) expressions, or of any other compiled afresh."""
        node = self.lowered.of(expr)
        if node is not None:
            return self._by_node[id(node)][1]
        if scenario.settings:
            _, lowered_scenario, by_node = self._scenario(scenario)
            node = lowered_scenario.of(expr)
            if node is not None:
                return by_node[id(node)][1]
        return self.compile(lower_expression(self.program, expr))

    def settings(self, scenario: Scenario) -> dict[str, tuple]:
        """Each name the scenario sets -> its (setting, closure) pairs, the one written last first."""
        return self._scenario(scenario)[0]

    def _scenario(self, scenario: Scenario):
        found = self._settings.get(scenario)
        if found is None:
            lowered_scenario = lower_scenario(self.program, scenario)
            self._into = by_node = {}
            try:
                closures = {name: tuple((x, self.compile(node)) for x, node in pairs)
                            for name, pairs in lowered_scenario.settings.items()}
            finally:
                self._into = None
            found = self._settings[scenario] = (closures, lowered_scenario, by_node)
        return found

    def applies(self, name: str, period: Period | None) -> bool:
        bounds = self.during.get(name)
        return bounds is None or period is None or (bounds[0] <= period.first_day and period.last_day <= bounds[1])

    def flag_periods(self, name: str, period: Period) -> list[Period]:
        """The periods of a flag inside ``period`` that its ``during`` allows."""
        decl = self.program.declarations[name]
        periods = [period] if period.kind == decl.granularity else period.parts(decl.granularity)
        return [p for p in periods if self.applies(name, p)]

    # ---- lowered nodes to closures ----
    def compile(self, node: ir.Node) -> Callable:
        fn = _COMPILERS[type(node)](self, node)
        if self._into is not None:
            self._into[id(node)] = (node, fn)
        return fn

    def _literal(self, node: ir.Literal):
        value = node.value
        return lambda run, f: value

    def _period(self, node: ir.Period):
        return lambda run, f: f.period

    def _ref(self, node: ir.Ref):
        name, kind, alignment = node.name, node.kind, node.alignment
        if node.system:
            cell = alignment.cell
            return lambda run, f: run.value(name, *cell(f.entity, f.period, run.dataset.organisations))
        if kind is s.ParameterDecl:
            return lambda run, f: run.parameter(name, f.period)
        granularity = alignment.granularity
        if granularity is None:
            if alignment.entity:
                return lambda run, f: run.value(name, f.entity, None)
            return lambda run, f: run.value(name, None, None)

        # the common case looked up inline: this closure runs for every use of a name
        def ref(run, f: Frame):
            period = f.period
            if period.kind != granularity:
                period = period.within(granularity)
            table, missing = run.tables[name]
            found = table.get((name, f.entity, period), missing)
            return found if found is not missing else run.value(name, f.entity, period)

        return ref

    def _apply(self, node: ir.Apply):
        args = list(map(self.compile, node.args))  # no comprehension's frame: a formula may nest hundreds deep
        if len(args) == 1:
            apply, (only,) = strict(node.function, 1), args
            return lambda run, f: apply(only(run, f))
        if len(args) == 2:
            apply, (left, right) = strict(node.function, 2), args
            return lambda run, f: apply(left(run, f), right(run, f))
        apply = strict(node.function)
        return lambda run, f: apply(*[a(run, f) for a in args])

    def _call(self, node: ir.Call):
        args, function = [self.compile(a) for a in node.args], node.function
        return lambda run, f: function([a(run, f) for a in args], None)

    def _error_flags(self, node: ir.ErrorFlags):
        flags, function, flag_periods = node.flags, node.function, self.flag_periods

        def any_error_flag(run, f: Frame):
            kind = run.dataset.organisations[f.entity].kind
            return function([run.value(name, f.entity, p) for name, kinds in flags if kind in kinds
                             for p in flag_periods(name, f.period)], None)

        return any_error_flag

    def _logical(self, node: ir.Logical):
        left, right, combine = self.compile(node.left), self.compile(node.right), node.operation.exact
        return lambda run, f: combine(left, right, run, f)

    def _if(self, node: ir.If):
        condition, then, otherwise = (self.compile(x) for x in (node.condition, node.then, node.otherwise))
        return lambda run, f: choose(condition, then, otherwise, run, f)

    def _within(self, node: ir.Within):
        value, tolerance, reference = (self.compile(x) for x in (node.value, node.tolerance, node.reference))
        within, relative = node.operation.exact, node.relative
        apply = strict(lambda v, t, r: within(v, t, r, relative))
        return lambda run, f: apply(value(run, f), tolerance(run, f), reference(run, f))

    def _bands(self, node: ir.Bands):
        amount, top = self.compile(node.amount), self.compile(node.top)
        uppers = [self.compile(u) for u in node.uppers]
        rates = [self.compile(r) for r in node.rates]
        bands, names, count = node.operation.exact, list(node.names), len(uppers)
        apply = strict(lambda a, *values: bands(a, values[:count], list(values[count:]), names))
        return lambda run, f: apply(amount(run, f), *[u(run, f) for u in uppers], *[r(run, f) for r in rates], top(run, f))

    def _taper(self, node: ir.Taper):
        parts = [self.compile(x) if x is not None else None for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)]
        apply = strict(node.operation.exact)
        return lambda run, f: apply(*[p(run, f) if p is not None else None for p in parts])

    def _aggregate(self, node: ir.Aggregate):
        inner, reduce, member_kinds = self.compile(node.inner), node.operation.exact, node.member_kinds
        if node.over == "members":
            kinds = set(member_kinds)

            def members(run, f):
                organisations = run.dataset.organisations
                return [inner(run, Frame(m, f.period)) for m in run.dataset.members(f.entity) if organisations[m].kind in kinds]

            return lambda run, f: reduce(members(run, f), ops.no_members(f.entity, member_kinds))
        part = {"months": "month", "quarters": "quarter"}[node.over]
        return lambda run, f: reduce([inner(run, Frame(f.entity, p)) for p in f.period.parts(part)], ("no_periods",))


_COMPILERS = {ir.Literal: Compiled._literal, ir.Period: Compiled._period, ir.Ref: Compiled._ref, ir.Apply: Compiled._apply,
              ir.Call: Compiled._call, ir.ErrorFlags: Compiled._error_flags, ir.Logical: Compiled._logical, ir.If: Compiled._if,
              ir.Within: Compiled._within, ir.Bands: Compiled._bands, ir.Taper: Compiled._taper,
              ir.Aggregate: Compiled._aggregate}

_COMPILED: weakref.WeakKeyDictionary[Plan, Compiled] = weakref.WeakKeyDictionary()


def compiled(plan: Plan, shared: Shared | None = None) -> Compiled:
    """The plan's closures, compiled on first use and shared by every exact run of it.

    Given ``shared`` (the machinery of a family of plans), a declaration compiled for another plan of
    the family, in the same surroundings, brings its closures along rather than being compiled again.
    """
    found = _COMPILED.get(plan)
    if found is None:
        found = _COMPILED[plan] = Compiled(plan, shared)
    return found


class ExactRun:
    """The exact backend: one run of a plan over inputs under a scenario, computing on demand.

    A run holds data only (the dataset, the scenario, the baseline, what it has worked out); the
    closures it runs are the plan's (:func:`compiled`), given the run as an argument. Values are
    remembered by (name, entity, period). Under a scenario, a name the scenario cannot change
    (nothing it sets is upstream) is read from the baseline run, so only what lies downstream of the
    settings is worked out again.
    """

    def __init__(self, plan: Plan, inputs: Dataset, scenario: Scenario = BASELINE, baseline: "ExactRun | None" = None):
        baseline = getattr(baseline, "exact", baseline)  # a vector run's baseline: the exact run it holds
        if scenario.settings and baseline is None:
            baseline = ExactRun(plan, inputs)
        self.plan = plan
        self.program = plan.program
        self.compiled = compiled(plan)
        self.dataset = inputs
        self.scenario = scenario
        self.baseline = baseline
        self.memo: dict[tuple, object] = {}
        self.parameter_uses: dict[tuple[str, Period | None], tuple] = {}
        self.changed = plan.downstream(scenario.names) if scenario.settings else frozenset()
        self._kinds = self.compiled.lowered.kinds
        self._formulas = self.compiled.formulas
        closure = self.compiled.closure
        self._defaults = {name: closure(d.default)(self, Frame(None, None))
                          for name, d in plan.program.of_kind(s.InputDecl).items() if d.default is not None}
        # a setting's value reads the baseline; a replaced formula reads this run
        self._settings = {name: tuple((x, fn, self if x.formula else baseline) for x, fn in found)
                          for name, found in self.compiled.settings(scenario).items()} if scenario.settings else {}
        # where the closures look a name's cells up before asking for them: the data, or what a run remembers
        self.tables = {}
        for name, kind in self._kinds.items():
            if kind is s.InputDecl:
                self.tables[name] = ({} if name in self._settings else inputs.values), None
            elif kind is not s.ParameterDecl:
                holder = baseline if baseline is not None and name not in self.changed else self
                self.tables[name] = holder.memo, _UNSET

    # ---- looking values up ----
    def value(self, name: str, entity: str | None, period: Period | None):
        kind = self._kinds[name]
        # inputs and parameters are already held in dicts: only worked-out values are remembered
        if kind is s.InputDecl:
            return self.input(name, entity, period)
        if kind is s.ParameterDecl:
            return self.parameter(name, period)
        key = (name, entity, period)
        result = self.memo.get(key, _UNSET)
        if result is not _UNSET:
            return result
        if self.baseline is not None and name not in self.changed:
            result = self.baseline.value(name, entity, period)
        elif not self.plan.applies(name, period):
            first, last = self.program.declarations[name].during
            result = Missing.of("outside_during", name, entity, str(period), (first, last))
        else:
            setting = self._setting(name, entity, period)
            frame = Frame(entity, period)
            result = setting[1](setting[2], frame) if setting is not None else self._formulas[name](self, frame)
        self.memo[key] = result
        return result

    def _setting(self, name: str, entity: str | None, period: Period | None):
        for found in self._settings.get(name, ()):
            if found[0].covers(entity, period):
                return found
        return None

    def setting(self, name: str, entity: str | None, period: Period | None):
        """The scenario's setting that decides this cell, or None."""
        found = self._setting(name, entity, period)
        return found[0] if found is not None else None

    def input(self, name: str, entity: str, period: Period):
        if name in self._settings:
            setting = self._setting(name, entity, period)
            if setting is not None:
                return setting[1](setting[2], Frame(entity, period))
        value = self.dataset.values.get((name, entity, period))
        if value is not None:
            return value
        if name in self._defaults:
            return self._defaults[name]
        return Missing.of("no_input", name, entity, str(period))

    def work_out(self, name: str, keys, on_computed=None) -> None:
        """Work out the cells ``keys`` of ``name``, calling ``on_computed(name, entity, period, value)`` for each."""
        for entity, period in keys:
            value = self.value(name, entity, period)
            if on_computed is not None:
                on_computed(name, entity, period, value)

    def is_default(self, name: str, entity: str, period: Period) -> bool:
        return ((name, entity, period) not in self.dataset.values and name in self._defaults
                and self._setting(name, entity, period) is None)

    def input_origin(self, name: str, entity: str, period: Period) -> dict:
        """Where an input's value came from: the scenario, the data (and where in it), a declared default, or nowhere."""
        setting = self._setting(name, entity, period)
        if setting is not None:
            return {"setting": setting[0]}
        key = (name, entity, period)
        if key in self.dataset.values:
            return {"origin": self.dataset.origins.get(key, self.dataset.source)}
        if name in self._defaults:
            return {"assumed": True}
        return {}

    def parameter_version(self, name: str, period: Period | None):
        """(value, amendment or None, schedule entry or None, setting or None) for a parameter in a period."""
        key = (name, period)
        if key in self.parameter_uses:
            return self.parameter_uses[key]
        setting = self._setting(name, None, period)
        if setting is not None:
            found = (setting[1](setting[2], Frame(None, period)), None, None, setting[0])
        else:
            found = self._declared_parameter(name, period)
        self.parameter_uses[key] = found
        return found

    def _declared_parameter(self, name: str, period: Period | None):
        decl = self.program.declarations[name]
        when = (period or self.program.year).first_day
        versions = [a for a in self.program.amendments.get(name, ()) if a.effective <= when]
        versions.sort(key=lambda a: a.effective, reverse=True)
        closure = self.compiled.closure
        for version in (*versions, decl):
            lookup = period.within(decl.granularity) if decl.granularity and period is not None else None
            if version.value is not None:
                return closure(version.value)(self, Frame(None, period)), version if version is not decl else None, None, None
            entry = next((e for e in version.schedule if lookup is not None and
                          e.first.sort_key() <= lookup.sort_key() <= e.last.sort_key()), None)
            if entry is not None:
                return closure(entry.value)(self, Frame(None, period)), version if version is not decl else None, entry, None
        return Missing.of("no_parameter_value", name, None, str(period)), None, None, None

    def parameter(self, name: str, period: Period | None):
        found = self.parameter_uses.get((name, period))
        return found[0] if found is not None else self.parameter_version(name, period)[0]

    def text_of(self, span) -> str:
        """The source text of a span of the plan or of the scenario."""
        return self.program.text_of(span) or self.scenario.text_of(span)

    def evaluate(self, node: s.Expr, entity: str | None, period: Period | None):
        """The value of any expression of the plan (or from elsewhere) for one cell."""
        return self.compiled.closure(node, self.scenario)(self, Frame(entity, period))

    def closure(self, node: s.Expr) -> Callable:
        """The plan's closure of an expression: call it as ``closure(run, frame)``."""
        return self.compiled.closure(node, self.scenario)

    def flag_periods(self, name: str, period: Period) -> list[Period]:
        """The periods of a flag inside ``period`` that its ``during`` allows."""
        return self.compiled.flag_periods(name, period)


def constant_value(program: Program | Plan, expr: s.Expr):
    """The value of an expression that names nothing (a test's given or expected value)."""
    plan = program if isinstance(program, Plan) else compile_plan(program)
    return ExactRun(plan, make_dataset([], {}, {}, "<constant>")).evaluate(expr, None, None)
