"""Evaluation: a run of a compiled :class:`~planlang.plan.Plan` over inputs and a scenario -> Results, exactly.

``run(plan, inputs, scenario, tracer)`` picks a backend from :data:`BACKENDS`; the exact backend
(:class:`ExactRun`) turns each expression of the plan once per run into a Python closure (no
``eval``: the closures are built from the syntax tree). Values are computed on demand and
remembered, so the order of declarations never matters; the plan's order drives the sweep over
every entity and period.

Numbers are :class:`~fractions.Fraction`. A value that cannot be computed is a
:class:`~planlang.values.Missing` carrying its reasons; it spreads to whatever uses it, except
where the result is already settled (``false and x``, the branch of an ``if`` not taken).

The semantic operations on values (bands, tapers, tolerances) live in :mod:`planlang.ops`, shared
with the explanations.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

from .. import ops
from .. import syntax as s
from ..builtins import BUILTINS
from ..compiler import Program
from ..data import Dataset, make_dataset
from ..periods import Period
from ..plan import Plan, compile_plan
from ..scenario import BASELINE, Scenario
from ..values import Missing
from .semantics import STRICT, choose, operation_for, strict

__all__ = ["ExactRun", "Frame", "constant_value"]


class Frame:
    """Where a value is being worked out: which organisation, which period."""

    __slots__ = ("entity", "period")

    def __init__(self, entity: str | None, period: Period | None):
        self.entity = entity
        self.period = period



_UNSET = object()


class ExactRun:
    """The exact backend: one run of a plan over inputs under a scenario, computing on demand.

    Each expression of the plan is turned once per run into a closure over this run's data (no
    ``eval``: closures are built from the syntax tree). Values are remembered by (name, entity,
    period). Under a scenario, a name the scenario cannot change (nothing it sets is upstream) is
    read from the baseline run, so only what lies downstream of the settings is worked out again.
    """

    def __init__(self, plan: Plan, inputs: Dataset, scenario: Scenario = BASELINE, baseline: "ExactRun | None" = None):
        baseline = getattr(baseline, "exact", baseline)  # a vector run's baseline: the exact run it holds
        if scenario.settings and baseline is None:
            baseline = ExactRun(plan, inputs)
        self.plan = plan
        self.program = plan.program
        self.dataset = inputs
        self.scenario = scenario
        self.baseline = baseline
        self.memo: dict[tuple, object] = {}
        self.closures: dict[int, Callable[[Frame], object]] = {}
        self.parameter_uses: dict[tuple[str, Period | None], tuple] = {}
        self.changed = plan.downstream(scenario.names) if scenario.settings else frozenset()
        self._kinds = {name: type(decl) for name, decl in plan.declarations.items()}
        self._compiled = {name: self.compile(expr) for name, expr in plan.formulas.items()}
        for name, decl in plan.program.of_kind(s.ParameterDecl).items():
            for version in (decl, *plan.program.amendments.get(name, ())):
                for value in (version.value, *(e.value for e in version.schedule)):
                    if value is not None:
                        self.compile(value)
        self._defaults = {name: self.compile(d.default)(Frame(None, None))
                          for name, d in plan.program.of_kind(s.InputDecl).items() if d.default is not None}
        # a setting's value reads the baseline; a replaced formula reads this run
        self._settings = {name: tuple((x, (self if x.formula else baseline).compile(x.value))
                                      for x in scenario.settings_for(name)) for name in scenario.names}

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
            setting = self.setting(name, entity, period)
            result = (setting[1] if setting is not None else self._compiled[name])(Frame(entity, period))
        self.memo[key] = result
        return result

    def setting(self, name: str, entity: str | None, period: Period | None):
        """The scenario's (setting, closure) that decides this cell, or None."""
        for found in self._settings.get(name, ()):
            if found[0].covers(entity, period):
                return found
        return None

    def input(self, name: str, entity: str, period: Period):
        if name in self._settings:
            setting = self.setting(name, entity, period)
            if setting is not None:
                return setting[1](Frame(entity, period))
        value = self.dataset.values.get((name, entity, period))
        if value is not None:
            return value
        if name in self._defaults:
            return self._defaults[name]
        return Missing.of("no_input", name, entity, str(period))

    def work_out(self, name: str, keys, tracer=None) -> None:
        """Work out the cells ``keys`` of ``name``, telling ``tracer`` of each."""
        for entity, period in keys:
            value = self.value(name, entity, period)
            if tracer is not None:
                tracer.computed(name, entity, period, value)

    def is_default(self, name: str, entity: str, period: Period) -> bool:
        return ((name, entity, period) not in self.dataset.values and name in self._defaults
                and self.setting(name, entity, period) is None)

    def input_origin(self, name: str, entity: str, period: Period) -> dict:
        """Where an input's value came from: the scenario, the data (and where in it), a declared default, or nowhere."""
        setting = self.setting(name, entity, period)
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
        setting = self.setting(name, None, period)
        if setting is not None:
            found = (setting[1](Frame(None, period)), None, None, setting[0])
        else:
            found = self._declared_parameter(name, period)
        self.parameter_uses[key] = found
        return found

    def _declared_parameter(self, name: str, period: Period | None):
        decl = self.program.declarations[name]
        when = (period or self.program.year).first_day
        versions = [a for a in self.program.amendments.get(name, ()) if a.effective <= when]
        versions.sort(key=lambda a: a.effective, reverse=True)
        for version in (*versions, decl):
            lookup = period.within(decl.granularity) if decl.granularity and period is not None else None
            if version.value is not None:
                return self.closures[id(version.value)](Frame(None, period)), version if version is not decl else None, None, None
            entry = next((e for e in version.schedule if lookup is not None and
                          e.first.sort_key() <= lookup.sort_key() <= e.last.sort_key()), None)
            if entry is not None:
                return self.closures[id(entry.value)](Frame(None, period)), version if version is not decl else None, entry, None
        return Missing.of("no_parameter_value", name, None, str(period)), None, None, None

    def parameter(self, name: str, period: Period | None):
        found = self.parameter_uses.get((name, period))
        return found[0] if found is not None else self.parameter_version(name, period)[0]

    def text_of(self, span) -> str:
        """The source text of a span of the plan or of the scenario."""
        return self.program.text_of(span) or self.scenario.text_of(span)

    def evaluate(self, node: s.Expr, entity: str | None, period: Period | None):
        """The value of any expression of the plan for one cell: what explanations replay."""
        closure = self.closures.get(id(node))
        if closure is None:
            closure = self.compile(node)
        return closure(Frame(entity, period))

    # ---- compiling expressions to closures ----
    def compile(self, node: s.Expr) -> Callable[[Frame], object]:
        fn = getattr(self, "_c_" + type(node).__name__)(node)
        self.closures[id(node)] = fn
        return fn

    def _c_Literal(self, node: s.Literal):
        value = node.value
        return lambda f: value

    def _c_CurrentPeriod(self, node):
        return lambda f: f.period

    def _c_Ref(self, node: s.Ref):
        name = node.name
        kind = self._kinds[name]
        value = self.value
        if kind is s.ParameterDecl:
            parameter = self.parameter
            return lambda f: parameter(name, f.period)
        alignment = node.alignment
        granularity = alignment.granularity
        if granularity is None:
            return (lambda f: value(name, f.entity, None)) if alignment.entity else (lambda f: value(name, None, None))
        # the common cases looked up inline: this closure runs for every use of a name
        if kind is s.InputDecl:
            table, missing = ({} if name in self.scenario.names else self.dataset.values), None
        else:
            holder = self.baseline if self.baseline is not None and name not in self.changed else self
            table, missing = holder.memo, _UNSET

        def ref(f: Frame):
            period = f.period
            if period.kind != granularity:
                period = period.within(granularity)
            found = table.get((name, f.entity, period), missing)
            return found if found is not missing else value(name, f.entity, period)

        return ref

    def _c_SystemRef(self, node: s.SystemRef):
        name = node.name
        cell = node.alignment.cell
        organisations = self.dataset.organisations
        value = self.value

        def system_ref(f: Frame):
            return value(name, *cell(f.entity, f.period, organisations))

        return system_ref

    def _c_Negate(self, node: s.Negate):
        operand, apply = self.compile(node.operand), strict(operator.neg, 1)
        return lambda f: apply(operand(f))

    def _c_Not(self, node: s.Not):
        operand, apply = self.compile(node.operand), strict(operator.not_, 1)
        return lambda f: apply(operand(f))

    def _c_Binary(self, node: s.Binary):
        left, right = self.compile(node.left), self.compile(node.right)
        op = operation_for(node).exact
        where = self.program.text_of(node.right.span)
        apply = strict(lambda a, b: op(a, b, where), 2)
        return lambda f: apply(left(f), right(f))

    def _c_Compare(self, node: s.Compare):
        left, right = self.compile(node.left), self.compile(node.right)
        apply = strict(operation_for(node).exact, 2)
        return lambda f: apply(left(f), right(f))

    def _c_Logical(self, node: s.Logical):
        left, right = self.compile(node.left), self.compile(node.right)
        combine = operation_for(node).exact
        return lambda f: combine(left, right, f)

    def _c_Within(self, node: s.Within):
        value, tolerance, reference = (self.compile(x) for x in (node.value, node.tolerance, node.reference))
        relative = node.tolerance.type in ("percent", "ratio", "number")
        within = operation_for(node).exact
        apply = strict(lambda v, t, r: within(v, t, r, relative))
        return lambda f: apply(value(f), tolerance(f), reference(f))

    def _c_If(self, node: s.If):
        condition, then, otherwise = (self.compile(x) for x in (node.condition, node.then, node.otherwise))
        return lambda f: choose(condition, then, otherwise, f)

    def _c_Bands(self, node: s.Bands):
        amount = self.compile(node.amount)
        uppers = [self.compile(b.upper) for b in node.bands]
        rates = [self.compile(b.rate) for b in node.bands]
        top = self.compile(node.top_rate)
        names = [self.program.text_of(b.upper.span) for b in node.bands]
        bands, count = operation_for(node).exact, len(uppers)

        def apply(a, *values):
            return bands(a, values[:count], list(values[count:]), names)

        apply = strict(apply)
        return lambda f: apply(amount(f), *[u(f) for u in uppers], *[r(f) for r in rates], top(f))

    def _c_Taper(self, node: s.Taper):
        parts = [self.compile(x) if x is not None else None for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)]
        apply = strict(operation_for(node).exact)
        return lambda f: apply(*[p(f) if p is not None else None for p in parts])

    def _c_DaySpan(self, node: s.DaySpan):
        count = self.compile(node.count)
        working, day_span = node.working, operation_for(node).exact
        apply = strict(lambda n: day_span(n, working), 1)
        return lambda f: apply(count(f))

    def _c_Call(self, node: s.Call):
        if any(a.over for a in node.args):
            return self._aggregate(node)
        entry = BUILTINS[node.name]
        row = operation_for(node)
        function = entry.implementation_for(node)
        if entry.reads == "error_flags":
            return self._any_error_flag(node, function)
        count = len(node.args) if entry.arguments is None else entry.arguments
        args = [self.compile(a.value) for a in node.args[:count]]
        if row.missing is not STRICT:
            return lambda f: function([a(f) for a in args], None)
        # what a message about the call names: variance divides by its reference, so that is named
        where = self.program.text_of(node.args[-1].value.span if entry.names_last_argument else node.span)
        apply = strict(lambda *values: function(list(values), where))
        return lambda f: apply(*[a(f) for a in args])

    def flag_periods(self, name: str, period: Period) -> list[Period]:
        """The periods of a flag inside ``period`` that its ``during`` allows."""
        decl = self.program.declarations[name]
        periods = [period] if period.kind == decl.granularity else period.parts(decl.granularity)
        return [p for p in periods if self.plan.applies(name, p)]

    def _any_error_flag(self, node: s.Call, function):
        flags = [(name, set(self.program.declarations[name].kinds)) for name in node.flags]
        organisations = self.dataset.organisations
        value = self.value

        def any_error_flag(f: Frame):
            kind = organisations[f.entity].kind
            return function([value(name, f.entity, p) for name, kinds in flags if kind in kinds
                             for p in self.flag_periods(name, f.period)], None)

        return any_error_flag

    def _aggregate(self, node: s.Call):
        arg = node.args[0]
        inner = self.compile(arg.value)
        reduce = BUILTINS[node.name].aggregate
        if arg.over == "members":
            kinds = set(node.member_kinds)
            organisations = self.dataset.organisations
            members_of = self.dataset.members

            def members(f):
                return [inner(Frame(m, f.period)) for m in members_of(f.entity) if organisations[m].kind in kinds]

            return lambda f: reduce(members(f), ops.no_members(f.entity, node.member_kinds))
        part = {"months": "month", "quarters": "quarter"}[arg.over]
        return lambda f: reduce([inner(Frame(f.entity, p)) for p in f.period.parts(part)], ("no_periods",))


def constant_value(program: Program | Plan, expr: s.Expr):
    """The value of an expression that names nothing (a test's given or expected value)."""
    plan = program if isinstance(program, Plan) else compile_plan(program)
    return ExactRun(plan, make_dataset([], {}, {}, "<constant>")).evaluate(expr, None, None)
