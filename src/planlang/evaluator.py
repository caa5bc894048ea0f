"""Evaluation: a compiled Program over a Dataset -> Results, exactly.

Each checked expression is turned once into a Python closure (no ``eval``: the closures are built
from the syntax tree). Values are computed on demand and remembered, so the order of declarations
never matters; the graph's order drives the sweep over every entity and period.

Numbers are :class:`~fractions.Fraction`. A value that cannot be computed is a
:class:`~planlang.values.Missing` carrying its reasons; it spreads to whatever uses it, except
where the result is already settled (``false and x``, the branch of an ``if`` not taken).

The semantic operations on values (bands, tapers, tolerances) live in :mod:`planlang.ops`, shared
with the explanations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction

import attrs

from . import ops
from . import syntax as s
from .compiler import Program
from .data import Dataset
from .periods import Period, add_working_days, working_days, working_days_between
from .values import Missing, round_to

__all__ = ["evaluate", "Engine", "Results", "FlagResult", "LateSubmission", "Frame", "periods_for"]

_MODES = {"half_up": "half_up", "half_even": "half_even", "half_down": "half_down",
          "toward_zero": "toward_zero", "away_from_zero": "away_from_zero"}


class Frame:
    """Where a value is being worked out: which organisation, which period."""

    __slots__ = ("entity", "period")

    def __init__(self, entity: str | None, period: Period | None):
        self.entity = entity
        self.period = period


@attrs.frozen
class FlagResult:
    name: str
    severity: str
    entity: str
    period: Period | None
    fired: bool | Missing


_UNSET = object()


@attrs.frozen
class LateSubmission:
    """A milestone an organisation submitted after its deadline: the built-in ``late_submission`` warning."""

    entity: str
    milestone: str
    submitted: dt.date
    deadline: dt.date
    working_days_late: int
    origin: str

    name = "late_submission"
    severity = "warning"


def _missing(x) -> bool:
    return type(x) is Missing


class Engine:
    """Compiles a program's expressions to closures and evaluates names for entities and periods."""

    def __init__(self, program: Program, dataset: Dataset):
        self.program = program
        self.dataset = dataset
        self.memo: dict[tuple, object] = {}
        self.closures: dict[int, Callable[[Frame], object]] = {}
        self.parameter_uses: dict[tuple[str, Period | None], tuple] = {}
        self.traces: dict[tuple, object] = {}  # explanations already built (explain.py), by name, entity, period
        self._compiled: dict[str, Callable[[Frame], object]] = {}
        self._kinds = {name: type(decl) for name, decl in program.declarations.items()}
        self._during = {name: (decl.during[0].first_day, decl.during[1].last_day)
                        for name, decl in program.declarations.items() if getattr(decl, "during", None)}
        for name, decl in program.declarations.items():
            expr = _value_expr(decl)
            if expr is not None:
                self._compiled[name] = self.compile(expr)
            if isinstance(decl, s.ParameterDecl):
                for version in (decl, *program.amendments.get(name, ())):
                    for value in (version.value, *(e.value for e in version.schedule)):
                        if value is not None:
                            self.compile(value)
        self._defaults = {name: self.compile(d.default)(Frame(None, None))
                          for name, d in program.of_kind(s.InputDecl).items() if d.default is not None}

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
        during = self._during.get(name)
        if during is not None and period is not None and not (during[0] <= period.first_day and period.last_day <= during[1]):
            first, last = self.program.declarations[name].during
            result = Missing.because(f"{name} applies only from {first} to {last}, not in {period}", name, entity, str(period))
        else:
            result = self._compiled[name](Frame(entity, period))
        self.memo[key] = result
        return result

    def input(self, name: str, entity: str, period: Period):
        value = self.dataset.values.get((name, entity, period))
        if value is not None:
            return value
        if name in self._defaults:
            return self._defaults[name]
        return Missing.because(f"{name} has no value for {entity} in {period}", name, entity, str(period))

    def is_default(self, name: str, entity: str, period: Period) -> bool:
        return (name, entity, period) not in self.dataset.values and name in self._defaults

    def parameter_version(self, name: str, period: Period | None):
        """(value, amendment or None, schedule entry or None) for a parameter in a period."""
        key = (name, period)
        if key in self.parameter_uses:
            return self.parameter_uses[key]
        decl = self.program.declarations[name]
        when = (period or self.program.year).first_day
        versions = [a for a in self.program.amendments.get(name, ()) if a.effective <= when]
        versions.sort(key=lambda a: a.effective, reverse=True)
        found = None
        for version in (*versions, decl):
            lookup = period.within(decl.granularity) if decl.granularity and period is not None else None
            if version.value is not None:
                found = (self.closures[id(version.value)](Frame(None, period)), version if version is not decl else None, None)
                break
            entry = next((e for e in version.schedule if lookup is not None and
                          e.first.sort_key() <= lookup.sort_key() <= e.last.sort_key()), None)
            if entry is not None:
                found = (self.closures[id(entry.value)](Frame(None, period)), version if version is not decl else None, entry)
                break
        if found is None:
            found = (Missing.because(f"the parameter {name} has no value for {period}", name, None, str(period)), None, None)
        self.parameter_uses[key] = found
        return found

    def parameter(self, name: str, period: Period | None):
        found = self.parameter_uses.get((name, period))
        return found[0] if found is not None else self.parameter_version(name, period)[0]

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
        decl = self.program.declarations[name]
        value = self.value
        if isinstance(decl, s.ParameterDecl):
            parameter = self.parameter
            return lambda f: parameter(name, f.period)
        granularity = getattr(decl, "granularity", None)
        per_entity = bool(getattr(decl, "kinds", ()))
        if granularity is None:
            return (lambda f: value(name, f.entity, None)) if per_entity else (lambda f: value(name, None, None))
        # the common cases looked up inline: this closure runs for every use of a name
        table = self.dataset.values if isinstance(decl, s.InputDecl) else self.memo
        missing = None if isinstance(decl, s.InputDecl) else _UNSET

        def ref(f: Frame):
            period = f.period
            if period.kind != granularity:
                period = period.within(granularity)
            found = table.get((name, f.entity, period), missing)
            return found if found is not missing else value(name, f.entity, period)

        return ref

    def _c_SystemRef(self, node: s.SystemRef):
        name = node.name
        decl = self.program.declarations[name]
        granularity = getattr(decl, "granularity", None)
        organisations = self.dataset.organisations
        value = self.value

        def system_ref(f: Frame):
            period = f.period
            if granularity is None:
                period = None
            elif period.kind != granularity:
                period = period.within(granularity)
            return value(name, organisations[f.entity].system, period)

        return system_ref

    def _c_Negate(self, node: s.Negate):
        operand = self.compile(node.operand)

        def negate(f):
            x = operand(f)
            return x if type(x) is Missing else -x

        return negate

    def _c_Not(self, node: s.Not):
        operand = self.compile(node.operand)

        def not_(f):
            x = operand(f)
            return x if type(x) is Missing else not x

        return not_

    def _c_Binary(self, node: s.Binary):
        left, right = self.compile(node.left), self.compile(node.right)
        op = ops.binary_operation(node.op, node.left.type, node.right.type)
        where = self.program.text_of(node.right.span)

        def binary(f):
            a, b = left(f), right(f)
            if type(a) is Missing or type(b) is Missing:
                return ops.merge_missing(a, b)
            return op(a, b, where)

        return binary

    def _c_Compare(self, node: s.Compare):
        left, right = self.compile(node.left), self.compile(node.right)
        op = ops.COMPARISONS[node.op]

        def compare(f):
            a, b = left(f), right(f)
            if type(a) is Missing or type(b) is Missing:
                return ops.merge_missing(a, b)
            return op(a, b)

        return compare

    def _c_Logical(self, node: s.Logical):
        left, right = self.compile(node.left), self.compile(node.right)
        combine = ops.kleene_and if node.op == "and" else ops.kleene_or
        return lambda f: combine(left, right, f)

    def _c_Within(self, node: s.Within):
        value, tolerance, reference = (self.compile(x) for x in (node.value, node.tolerance, node.reference))
        relative = node.tolerance.type in ("percent", "ratio", "number")

        def within(f):
            v, t, r = value(f), tolerance(f), reference(f)
            if _missing(v) or _missing(t) or _missing(r):
                return ops.merge_missing(v, t, r)
            return ops.within(v, t, r, relative)["within"]

        return within

    def _c_If(self, node: s.If):
        condition, then, otherwise = (self.compile(x) for x in (node.condition, node.then, node.otherwise))

        def if_(f):
            c = condition(f)
            if type(c) is Missing:
                return c
            return then(f) if c else otherwise(f)

        return if_

    def _c_Bands(self, node: s.Bands):
        amount = self.compile(node.amount)
        uppers = [self.compile(b.upper) for b in node.bands]
        rates = [self.compile(b.rate) for b in node.bands]
        top = self.compile(node.top_rate)
        names = [self.program.text_of(b.upper.span) for b in node.bands]

        def bands(f):
            a = amount(f)
            limits = [u(f) for u in uppers]
            rs = [r(f) for r in rates] + [top(f)]
            if _missing(a) or any(map(_missing, limits)) or any(map(_missing, rs)):
                return ops.merge_missing(a, *limits, *rs)
            for k in range(1, len(limits)):
                if limits[k] < limits[k - 1]:
                    return ops.bands(a, limits, rs, names)["value"]  # missing, with the thresholds named
            return ops.band_total(a, limits, rs)

        return bands

    def _c_Taper(self, node: s.Taper):
        parts = [self.compile(x) if x is not None else None for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)]

        def taper(f):
            values = [p(f) if p is not None else None for p in parts]
            if any(_missing(v) for v in values):
                return ops.merge_missing(*values)
            return ops.taper(*values)["value"]

        return taper

    def _c_DaySpan(self, node: s.DaySpan):
        count = self.compile(node.count)
        working = node.working

        def span(f):
            n = count(f)
            return n if _missing(n) else ops.day_span(n, working)

        return span

    def _c_Call(self, node: s.Call):
        if any(a.over for a in node.args):
            return self._aggregate(node)
        args = [self.compile(a.value) for a in node.args if not (node.name == "round" and a is node.args[2])]
        name = node.name
        if name == "round":
            mode = _MODES[node.args[2].value.name]
            value, step = args

            def round_(f):
                x, st = value(f), step(f)
                return x if _missing(x) else round_to(x, st, mode)

            return round_
        if name == "present":
            (arg,) = args
            return lambda f: not _missing(arg(f))
        if name == "any_error_flag":
            return self._any_error_flag(node)
        function = _FUNCTIONS[name]
        # variance divides by its reference, so a zero reference is what the message must name
        where = self.program.text_of(node.args[-1].value.span if name == "variance" else node.span)

        def call(f):
            values = [a(f) for a in args]
            for v in values:
                if type(v) is Missing:
                    return ops.merge_missing(*values)
            return function(values, where)

        return call

    def flag_periods(self, name: str, period: Period) -> list[Period]:
        """The periods of a flag inside ``period`` that its ``during`` allows."""
        decl = self.program.declarations[name]
        periods = [period] if period.kind == decl.granularity else period.parts(decl.granularity)
        during = self._during.get(name)
        if during is not None:
            periods = [p for p in periods if during[0] <= p.first_day and p.last_day <= during[1]]
        return periods

    def _any_error_flag(self, node: s.Call):
        flags = [(name, set(self.program.declarations[name].kinds)) for name in node.flags]
        organisations = self.dataset.organisations
        value = self.value

        def any_error_flag(f: Frame):
            kind = organisations[f.entity].kind
            raised = [value(name, f.entity, p) for name, kinds in flags if kind in kinds
                      for p in self.flag_periods(name, f.period)]
            return ops.AGGREGATES["any"](raised, "")

        return any_error_flag

    def _aggregate(self, node: s.Call):
        arg = node.args[0]
        inner = self.compile(arg.value)
        reduce = ops.AGGREGATES[node.name]
        if arg.over == "members":
            kinds = set(node.member_kinds)
            organisations = self.dataset.organisations
            members_of = self.dataset.members

            def members(f):
                return [inner(Frame(m, f.period)) for m in members_of(f.entity) if organisations[m].kind in kinds]

            return lambda f: reduce(members(f), ops.no_members(f.entity, node.member_kinds))
        part = {"months": "month", "quarters": "quarter"}[arg.over]
        return lambda f: reduce([inner(Frame(f.entity, p)) for p in f.period.parts(part)], "no periods")


def _value_expr(decl: s.Decl) -> s.Expr | None:
    match decl:
        case s.DefineDecl(value=v) | s.DeadlineDecl(value=v):
            return v
        case s.FlagDecl(when=w):
            return w
    return None


def _same_period(values, where):
    period, year = values
    if period.kind == "month":
        calendar_year = year.year if period.index >= 4 else year.year + 1
        return Period("month", calendar_year, period.index)
    return Period(period.kind, year.year, period.index)


_FUNCTIONS = {
    "min": lambda v, w: min(v),
    "max": lambda v, w: max(v),
    "abs": lambda v, w: abs(v[0]),
    "working_days": lambda v, w: Fraction(working_days(v[0])),
    "working_days_between": lambda v, w: Fraction(working_days_between(v[0], v[1])),
    "same_period": _same_period,
    "start_of": lambda v, w: v[0].first_day,
    "end_of": lambda v, w: v[0].last_day,
    "variance": lambda v, w: ops.divide(v[0] - v[1], v[1], w),
}


@attrs.frozen(eq=False)
class Results:
    """Every computed value, flag and missing value of one run, and the engine that computed them."""

    engine: Engine
    scope: dict[str, tuple[tuple[str | None, Period | None], ...]]

    @property
    def program(self) -> Program:
        return self.engine.program

    @property
    def dataset(self) -> Dataset:
        return self.engine.dataset

    def get(self, name: str, entity: str | None, period: Period | None):
        return self.engine.value(name, entity, period)

    def outputs(self):
        """(name, entity, period, value) for every definition, in evaluation order."""
        for name, keys in self.scope.items():
            if isinstance(self.program.declarations[name], s.DefineDecl):
                for entity, period in keys:
                    yield name, entity, period, self.get(name, entity, period)

    @property
    def flags(self) -> list[FlagResult]:
        out = []
        for name, keys in self.scope.items():
            decl = self.program.declarations[name]
            if isinstance(decl, s.FlagDecl):
                out += [FlagResult(name, decl.severity, e, p, self.get(name, e, p)) for e, p in keys]
        return out

    @property
    def missing(self) -> list[tuple[str, str | None, Period | None, Missing]]:
        out = []
        for name, keys in self.scope.items():
            for entity, period in keys:
                value = self.get(name, entity, period)
                if _missing(value):
                    out.append((name, entity, period, value))
        return out

    def deadline_for(self, milestone: str, entity: str | None):
        """The date of a deadline, for an organisation when it differs by organisation."""
        decl = self.program.declarations[milestone]
        period = self.program.year if decl.granularity == "year" else None
        return self.get(milestone, entity if decl.kinds else None, period)

    def late_submissions(self) -> list[LateSubmission]:
        """Every submission the data records after its milestone's deadline."""
        late = []
        for (entity, milestone), submitted in self.dataset.submissions.items():
            deadline = self.deadline_for(milestone, entity)
            if isinstance(deadline, dt.date) and submitted > deadline:
                days = working_days_between(add_working_days(deadline, 1), submitted)
                late.append(LateSubmission(entity, milestone, submitted, deadline, days,
                                           self.dataset.submission_origins.get((entity, milestone), self.dataset.source)))
        return sorted(late, key=lambda x: (x.deadline, x.entity))

    def missing_inputs(self) -> list:
        """Every input, entity and period whose absence made something missing."""
        inputs = self.program.of_kind(s.InputDecl)
        reasons = {r for *_, m in self.missing for r in m.reasons if r.name in inputs}
        return sorted(reasons, key=lambda r: (r.name or "", r.entity or "", r.period or ""))


def periods_for(program: Program, dataset: Dataset, decl: s.Decl) -> list[Period | None]:
    """The periods a run works a declaration out for: those the data speaks of, within the policy year."""
    granularity = getattr(decl, "granularity", None)
    if granularity is None:
        return [None]
    year = program.year
    if granularity == "year":
        candidates = [year]
    else:
        candidates = [p for p in dataset.periods(granularity) if year.contains(p)] or year.parts(granularity)
    during = getattr(decl, "during", None)
    if during is not None:
        candidates = [p for p in candidates if during[0].first_day <= p.first_day and p.last_day <= during[1].last_day]
    return candidates


def evaluate(program: Program, dataset: Dataset) -> Results:
    """Work out every definition, flag and deadline for every organisation and period in scope."""
    engine = Engine(program, dataset)
    scope = {}
    for name in program.order:
        decl = program.declarations[name]
        if not isinstance(decl, (s.DefineDecl, s.FlagDecl, s.DeadlineDecl)):
            continue
        entities = [o.code for o in dataset.of_kinds(decl.kinds)] if decl.kinds else [None]
        periods = periods_for(program, dataset, decl)
        keys = tuple((e, p) for e in entities for p in periods)
        for entity, period in keys:
            engine.value(name, entity, period)
        scope[name] = keys
    return Results(engine, scope)

