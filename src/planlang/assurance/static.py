"""Static findings: what interval reasoning proves about a pack's rules, each shown on an example input.

Every definition and flag is worked out abstractly for each period it applies in: an input is the
interval of its declared ``range`` (any number without one), a parameter is its value in force in
that period, a definition is what its formula gives, and a comparison is true, false, or either. From
that come six kinds of finding:

    bands-cross      a band threshold that can fall below the one before it (the value is then missing)
    branch-never     an ``if`` whose condition is the same in every period, so one branch never runs
    condition-fixed  a comparison that is always true or always false given the declared ranges
    taper-floor      a taper whose floor is above its base whatever the inputs (it always gives the floor)
    schedule-hole    a parameter without a value in a period inside a rule's ``during``, on a path that runs
    flag-never       a flag whose condition can never be true

Intervals over-approximate, so a finding is only reported once the exact engine has confirmed it on
an example input (found among a few candidate values of the inputs involved); where the analysis
cannot decide, or no example confirms it, it says nothing.

>>> Interval(Fraction(1), Fraction(2)) * Interval(Fraction(-1), None)
Interval(lo=None, hi=None)
>>> compare("<", Interval(Fraction(0), Fraction(1)), Interval(Fraction(2), Fraction(3)))
frozenset({True})
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from fractions import Fraction

import attrs
import networkx as nx

from .. import syntax as s
from ..data import Organisation, make_dataset
from ..diagnostics import Diagnostic
from ..periods import Period
from ..plan import Plan
from ..render.values import format_value
from ..run import ExactRun, constant_value
from ..values import Missing

__all__ = ["Finding", "findings", "Interval", "compare", "KINDS"]

KINDS = ("bands-cross", "branch-never", "condition-fixed", "taper-floor", "schedule-hole", "flag-never")
NUMBERS = frozenset({"money", "percent", "ratio", "count", "number"})
BOTH = frozenset({True, False})
_CANDIDATES = 48  # example inputs tried per finding
_BUDGET = 200_000  # abstract steps for the whole pack: a pack too large to reason about in time gets no findings past it


@attrs.frozen
class Interval:
    """The numbers from ``lo`` to ``hi``, both included; None is unbounded."""

    lo: Fraction | None
    hi: Fraction | None

    @staticmethod
    def point(value: Fraction) -> "Interval":
        return Interval(value, value)

    def join(self, other: "Interval") -> "Interval":
        lo = None if self.lo is None or other.lo is None else min(self.lo, other.lo)
        hi = None if self.hi is None or other.hi is None else max(self.hi, other.hi)
        return Interval(lo, hi)

    def __neg__(self) -> "Interval":
        return Interval(None if self.hi is None else -self.hi, None if self.lo is None else -self.lo)

    def __add__(self, other: "Interval") -> "Interval":
        return Interval(None if self.lo is None or other.lo is None else self.lo + other.lo,
                        None if self.hi is None or other.hi is None else self.hi + other.hi)

    def __sub__(self, other: "Interval") -> "Interval":
        return self + (-other)

    def __mul__(self, other: "Interval") -> "Interval":
        if None in (self.lo, self.hi, other.lo, other.hi):
            if self == Interval.point(Fraction(0)) or other == Interval.point(Fraction(0)):
                return Interval.point(Fraction(0))
            if _signed(self) and _signed(other):  # both of one sign: the sign of the product is known
                positive = (self.lo is not None and self.lo >= 0) == (other.lo is not None and other.lo >= 0)
                return Interval(Fraction(0), None) if positive else Interval(None, Fraction(0))
            return TOP_NUMBER
        products = [a * b for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval(min(products), max(products))

    def __truediv__(self, other: "Interval") -> "Interval":
        if other.lo is None or other.hi is None or other.lo <= 0 <= other.hi:
            return TOP_NUMBER
        return self * Interval(1 / other.hi, 1 / other.lo)


def _signed(x: Interval) -> bool:
    return (x.lo is not None and x.lo >= 0) or (x.hi is not None and x.hi <= 0)


TOP_NUMBER = Interval(None, None)


class _Top:
    def __repr__(self) -> str:
        return "TOP"


class _Missing:
    """No value at all (a parameter without one): nothing is known, and nothing is claimed."""

    def __repr__(self) -> str:
        return "MISSING"


TOP, MISSING = _Top(), _Missing()


@attrs.frozen
class Concrete:
    """One known value that is not a number or a truth value: a period, a date, a text."""

    value: object


def compare(op: str, a, b):
    """The truth values ``a op b`` can take, for abstract ``a`` and ``b``."""
    if isinstance(a, Interval) and isinstance(b, Interval):
        lt_always = a.hi is not None and b.lo is not None and a.hi < b.lo
        le_always = a.hi is not None and b.lo is not None and a.hi <= b.lo
        gt_always = a.lo is not None and b.hi is not None and a.lo > b.hi
        ge_always = a.lo is not None and b.hi is not None and a.lo >= b.hi
        equal = a.lo is not None and a.lo == a.hi == b.lo == b.hi
        apart = lt_always or gt_always
        decided = {"<": (lt_always, ge_always), "<=": (le_always, gt_always), ">": (gt_always, le_always),
                   ">=": (ge_always, lt_always), "==": (equal, apart), "!=": (apart, equal)}[op]
    elif isinstance(a, Concrete) and isinstance(b, Concrete):
        try:
            return frozenset({bool(_OPS[op](a.value, b.value))})
        except TypeError:
            return BOTH
    elif isinstance(a, frozenset) and isinstance(b, frozenset) and len(a) == len(b) == 1 and op in ("==", "!="):
        return frozenset({(a == b) == (op == "==")})
    else:
        return BOTH
    return frozenset({True}) if decided[0] else frozenset({False}) if decided[1] else BOTH


_OPS = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
        "==": lambda x, y: x == y, "!=": lambda x, y: x != y}


def _join(a, b):
    if a is MISSING:
        return b
    if b is MISSING:
        return a
    if isinstance(a, Interval) and isinstance(b, Interval):
        return a.join(b)
    if isinstance(a, frozenset) and isinstance(b, frozenset):
        return a | b
    return a if a == b else TOP


def _top(type_: str | None):
    return BOTH if type_ == "bool" else TOP_NUMBER if type_ in NUMBERS else TOP


def _abstract(value):
    if isinstance(value, Missing):
        return MISSING
    if isinstance(value, bool):
        return frozenset({value})
    if isinstance(value, Fraction):
        return Interval.point(value)
    return Concrete(value)


class _OutOfBudget(Exception):
    pass


class _Reasoner:
    """Works every definition and flag out abstractly, period by period, and records what it saw."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.run = ExactRun(plan, make_dataset([], {}, {}, "<static analysis>"))
        self.memo: dict[tuple[str, Period | None], object] = {}
        self.steps = 0
        self.rule: str | None = None
        self.outcomes: dict[int, list] = {}  # id(If, Compare, Within or flag condition) -> [(period, truth values)]
        self.bands: dict[int, list] = {}  # id(Bands) -> [(period, index of the threshold that may fall)]
        self.tapers: dict[int, list] = {}  # id(Taper) -> [period where the floor is above the base whatever the inputs]
        self.holes: dict[tuple[str, str], list] = {}  # (rule, parameter) -> [(period, span of the use)]
        self.ranges = {}
        for name, decl in plan.program.of_kind(s.InputDecl).items():
            self.ranges[name] = self._input(decl)

    def _input(self, decl: s.InputDecl):
        if decl.range is not None:
            low, high = (constant_value(self.plan, end) for end in decl.range)
            if isinstance(low, Fraction) and isinstance(high, Fraction):
                return Interval(low, high)
        return _top(decl.type)

    def named(self, name: str, period: Period | None):
        key = (name, period)
        if key not in self.memo:
            decl = self.plan.declarations[name]
            if not self.plan.applies(name, period):
                self.memo[key] = MISSING
            elif isinstance(decl, (s.DefineDecl, s.FlagDecl)):
                self.memo[key] = TOP  # a guard while it is worked out; the graph has no cycles
                outer, self.rule = self.rule, name
                try:
                    formula = self.plan.formulas[name]
                    value = self.expr(formula, period)
                    if isinstance(decl, s.FlagDecl) and isinstance(value, frozenset):
                        self.outcomes.setdefault(id(formula), []).append((period, value))
                    self.memo[key] = value
                finally:
                    self.rule = outer
            else:
                self.memo[key] = TOP
        return self.memo[key]

    def expr(self, node: s.Expr, period: Period | None):
        self.steps += 1
        if self.steps > _BUDGET:
            raise _OutOfBudget
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        return method(node, period) if method is not None else _top(node.type)

    # ---- the constructs ----
    def _literal(self, node: s.Literal, period):
        return _abstract(node.value)

    def _currentperiod(self, node, period):
        return TOP if period is None else Concrete(period)

    def _ref(self, node: s.Ref | s.SystemRef, period):
        decl = self.plan.declarations.get(node.name)
        if isinstance(decl, s.InputDecl):
            return self.ranges[node.name]
        if isinstance(decl, s.ParameterDecl):
            value = self.run.parameter(node.name, period)
            if isinstance(value, Missing) and self.rule is not None and decl.schedule:
                self.holes.setdefault((self.rule, node.name), []).append((period, node.span))
            return _abstract(value)
        if isinstance(decl, (s.DefineDecl, s.FlagDecl)):
            return self.named(node.name, _aligned(node, period))
        return _top(node.type)

    _systemref = _ref

    def _negate(self, node: s.Negate, period):
        x = self.expr(node.operand, period)
        return -x if isinstance(x, Interval) else x if x is MISSING else _top(node.type)

    def _not(self, node: s.Not, period):
        x = self.expr(node.operand, period)
        return frozenset(not v for v in x) if isinstance(x, frozenset) else x if x is MISSING else BOTH

    def _binary(self, node: s.Binary, period):
        a, b = self.expr(node.left, period), self.expr(node.right, period)
        if a is MISSING or b is MISSING:
            return MISSING
        if isinstance(a, Interval) and isinstance(b, Interval):
            return {"+": Interval.__add__, "-": Interval.__sub__, "*": Interval.__mul__, "/": Interval.__truediv__}[node.op](a, b)
        return _top(node.type)

    def _compare(self, node: s.Compare, period):
        a, b = self.expr(node.left, period), self.expr(node.right, period)
        if a is MISSING or b is MISSING:
            return MISSING
        found = compare(node.op, a, b)
        self.outcomes.setdefault(id(node), []).append((period, found))
        return found

    def _logical(self, node: s.Logical, period):
        a, b = self.expr(node.left, period), self.expr(node.right, period)
        decisive = node.op == "or"
        if frozenset({decisive}) in (a, b):
            return frozenset({decisive})
        if a is MISSING or b is MISSING:
            return MISSING
        if a == b == frozenset({not decisive}):
            return a
        return BOTH

    def _within(self, node: s.Within, period):
        values = [self.expr(x, period) for x in (node.value, node.tolerance, node.reference)]
        return MISSING if MISSING in values else BOTH

    def _if(self, node: s.If, period):
        condition = self.expr(node.condition, period)
        if condition is MISSING:
            return MISSING
        if not isinstance(condition, frozenset):
            condition = BOTH
        self.outcomes.setdefault(id(node), []).append((period, condition))
        result = MISSING
        if True in condition:
            result = _join(result, self.expr(node.then, period))
        if False in condition:
            result = _join(result, self.expr(node.otherwise, period))
        return result

    def _bands(self, node: s.Bands, period):
        self.expr(node.amount, period)
        limits = [self.expr(band.upper, period) for band in node.bands]
        for band in node.bands:
            self.expr(band.rate, period)
        self.expr(node.top_rate, period)
        for k in range(1, len(limits)):
            low, high = limits[k - 1], limits[k]
            if isinstance(low, Interval) and isinstance(high, Interval) and True in compare("<", high, low):
                self.bands.setdefault(id(node), []).append((period, k))
        return _top(node.type)

    def _taper(self, node: s.Taper, period):
        base = self.expr(node.base, period)
        for part in (node.shortfall, node.rate, node.cap):
            if part is not None:
                self.expr(part, period)
        if node.floor is not None:
            floor = self.expr(node.floor, period)
            if isinstance(base, Interval) and isinstance(floor, Interval) and compare(">", floor, base) == {True}:
                self.tapers.setdefault(id(node), []).append(period)
        return _top(node.type)

    def _call(self, node: s.Call, period):
        if any(arg.over for arg in node.args):  # over members, months or quarters: worked out cell by cell elsewhere
            return _top(node.type)
        values = [self.expr(arg.value, period) for arg in node.args]
        if node.name == "present":
            return frozenset({False}) if values and values[0] is MISSING else BOTH
        if MISSING in values:
            return MISSING
        if node.name in ("min", "max") and all(isinstance(v, Interval) for v in values):
            pick = min if node.name == "min" else max
            los, his = [v.lo for v in values], [v.hi for v in values]
            lo = None if (None in los and node.name == "min") else pick(x for x in los if x is not None) if any(
                x is not None for x in los) else None
            hi = None if (None in his and node.name == "max") else pick(x for x in his if x is not None) if any(
                x is not None for x in his) else None
            return Interval(lo, hi)
        if values and all(isinstance(v, Concrete) or (isinstance(v, Interval) and v.lo is not None and v.lo == v.hi) for v in values):
            # every argument known: the built-in itself says what it gives (working days, a period's start)
            value = self.run.evaluate(node, None, period)
            return TOP if isinstance(value, Missing) else _abstract(value)
        return _top(node.type)


def _aligned(node, period: Period | None) -> Period | None:
    alignment = node.alignment
    if alignment is None or alignment.period is None or period is None:
        return None if alignment is not None and alignment.period is None else period
    if alignment.period == "containing" and period.kind != alignment.granularity:
        return period.within(alignment.granularity)
    return period


def _periods(plan: Plan, decl: s.Scoped) -> list[Period | None]:
    if decl.granularity is None:
        return [None]
    year = plan.year
    found = [year] if decl.granularity == "year" else year.parts(decl.granularity)
    return [p for p in found if plan.applies(decl.name, p)]


# ---- findings ------------------------------------------------------------------------------------


@attrs.frozen
class Finding:
    """One static finding: its kind, the rule it is in, where, what, and the example that shows it."""

    kind: str
    rule: str
    span: s.Span
    message: str
    example: str

    def diagnostic(self) -> Diagnostic:
        return Diagnostic("warning", f"{self.message} [{self.kind}]", self.span, f"for example, {self.example}")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "rule": self.rule, "span": self.span.as_dict(), "message": self.message,
                "example": self.example}


def findings(plan: Plan) -> list[Finding]:
    """Every static finding of a plan, in source order, each confirmed on an example input."""
    reasoner = _Reasoner(plan)
    rules = {name: decl for name, decl in plan.declarations.items() if isinstance(decl, (s.DefineDecl, s.FlagDecl))}
    try:
        for name, decl in rules.items():
            for period in _periods(plan, decl):
                reasoner.named(name, period)
    except _OutOfBudget:
        return []
    owner = {id(node): name for name, formula in plan.formulas.items() if name in rules for node in s.walk(formula)}
    nodes = {id(node): node for name, formula in plan.formulas.items() if name in rules for node in s.walk(formula)}
    examples = _Examples(plan)
    found: list[Finding] = []
    covered: list[s.Span] = []  # conditions already reported as a branch or a flag: their parts are not reported again
    for name, decl in rules.items():
        if isinstance(decl, s.FlagDecl):
            fixed = _fixed(reasoner.outcomes.get(id(decl.when), ()))
            if fixed is False:
                example = examples.showing(name, decl.when, decl.when, _period_of(reasoner, decl.when), lambda v: v is False)
                if example:
                    covered.append(decl.when.span)
                    found.append(Finding("flag-never", name, decl.when.span,
                                         f"the flag `{name}` can never be raised: its condition is false in every period "
                                         "it applies in, given the declared ranges and the parameters", example))
    for key, seen in reasoner.outcomes.items():
        node = nodes.get(key)
        if not isinstance(node, s.If):
            continue
        fixed = _fixed(seen)
        if fixed is None:
            continue
        rule = owner[key]
        period = seen[0][0]
        example = examples.showing(rule, node, node.condition, period, lambda v, fixed=fixed: v is fixed)
        if example:
            covered.append(node.condition.span)
            branch = "else" if fixed else "then"
            found.append(Finding("branch-never", rule, (node.otherwise if fixed else node.then).span,
                                 f"the {branch} branch of `{rule}` can never run: its condition "
                                 f"`{plan.program.text_of(node.condition.span)}` is {'true' if fixed else 'false'} in every "
                                 "period, given the declared ranges and the parameters", example))
    for key, seen in reasoner.outcomes.items():
        node = nodes.get(key)
        if not isinstance(node, (s.Compare, s.Within)) or any(_inside(node.span, span) for span in covered):
            continue
        fixed = _fixed(seen)
        if fixed is None or _literal_only(node):
            continue
        rule = owner[key]
        example = examples.showing(rule, node, node, seen[0][0], lambda v, fixed=fixed: v is fixed)
        if example:
            found.append(Finding("condition-fixed", rule, node.span,
                                 f"`{plan.program.text_of(node.span)}` is always {'true' if fixed else 'false'} in `{rule}`, "
                                 "given the declared ranges and the parameters", example))
    for key, seen in reasoner.bands.items():
        node, rule = nodes[key], owner[key]
        for period, k in seen:
            upper, lower = node.bands[k].upper, node.bands[k - 1].upper
            example = examples.crossing(rule, upper, lower, period)
            if example:
                found.append(Finding("bands-cross", rule, node.bands[k].span,
                                     f"the band thresholds of `{rule}` can cross: `{plan.program.text_of(upper.span)}` can fall "
                                     f"below `{plan.program.text_of(lower.span)}` (in {period}), and the value is then missing",
                                     example))
                break
    for key, periods in reasoner.tapers.items():
        node, rule = nodes[key], owner[key]
        example = examples.floored(rule, node, periods[0])
        if example:
            found.append(Finding("taper-floor", rule, node.floor.span,
                                 f"the floor of the taper in `{rule}` is above its base whatever the inputs "
                                 f"(in {_listed(periods)}), so the taper always gives the floor", example))
    for (rule, parameter), uses in reasoner.holes.items():
        periods = sorted({period for period, _ in uses}, key=Period.sort_key)
        decl = rules[rule]
        example = examples.hole(rule, parameter, periods[0])
        if example:
            during = f"during {decl.during[0]} to {decl.during[1]}" if decl.during else f"in {plan.year}"
            found.append(Finding("schedule-hole", rule, uses[0][1],
                                 f"the parameter `{parameter}` has no value in {_listed(periods)}, where `{rule}` applies "
                                 f"({during}) and uses it", example))
    found.sort(key=lambda f: (f.span.file, f.span.line, f.span.column, f.kind))
    return found


def _fixed(seen) -> bool | None:
    """True or False when every period saw the same single truth value; None otherwise."""
    values = {value for _, value in seen}
    if len(values) == 1:
        (only,) = values
        if len(only) == 1:
            return next(iter(only))
    return None


def _period_of(reasoner: _Reasoner, node) -> Period | None:
    seen = reasoner.outcomes.get(id(node))
    return seen[0][0] if seen else None


def _inside(inner: s.Span, outer: s.Span) -> bool:
    return inner.file == outer.file and (outer.line, outer.column) <= (inner.line, inner.column) and (
        inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


def _literal_only(node: s.Expr) -> bool:
    """A comparison of fixed values alone (``1 < 2``) is plainly written, not a finding of the analysis."""
    return all(not isinstance(x, (s.Ref, s.SystemRef, s.CurrentPeriod, s.Call)) for x in s.walk(node))


def _listed(periods: Iterable) -> str:
    periods = list(periods)
    return str(periods[0]) if len(periods) == 1 else f"{periods[0]} to {periods[-1]} ({len(periods)} periods)"


# ---- examples ------------------------------------------------------------------------------------

_PREFIX = {"system": "S", "trust": "T", "ccg": "C"}


class _Examples:
    """Example inputs, tried in the exact engine: a finding stands only when one of them shows it."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.graph: nx.DiGraph = plan.program.graph
        self.inputs = plan.program.of_kind(s.InputDecl)

    def _candidates(self, decl: s.InputDecl) -> list:
        values = []
        if decl.range is not None:
            values += [constant_value(self.plan, end) for end in decl.range]
        if decl.default is not None:
            values.append(constant_value(self.plan, decl.default))
        values += {"money": [Fraction(1_000_000), Fraction(0), Fraction(-1_000_000)],
                   "percent": [Fraction(1, 2), Fraction(0), Fraction(1)], "ratio": [Fraction(1, 2), Fraction(0), Fraction(1)],
                   "count": [Fraction(10), Fraction(0)], "bool": [True, False], "text": ["example"],
                   "date": [self.plan.year.first_day, self.plan.year.last_day]}.get(decl.type, [])
        if decl.range is not None and decl.type in NUMBERS:
            low, high = values[0], values[1]
            values = [v for v in values if isinstance(v, Fraction) and low <= v <= high]
        return list(dict.fromkeys(values))

    def _inputs_of(self, nodes: Iterable[s.Expr]) -> list[str]:
        names = {x.name for node in nodes for x in s.walk(node) if isinstance(x, (s.Ref, s.SystemRef))}
        found = set()
        for name in names:
            if name in self.graph:
                found |= {n for n in nx.ancestors(self.graph, name) | {name} if n in self.inputs}
        return sorted(found)

    def _assignments(self, names: list[str]) -> list[dict]:
        choices = [self._candidates(self.inputs[name]) for name in names]
        if not names or any(not c for c in choices):
            return [{}] if not names else []
        first = {name: c[0] for name, c in zip(names, choices)}
        tried = [first]
        for name, c in zip(names, choices):
            tried += [{**first, name: value} for value in c[1:]]
        total = 1
        for c in choices:
            total *= len(c)
        if total <= _CANDIDATES:
            tried += [dict(zip(names, combo)) for combo in itertools.product(*choices)]
        else:
            draw = random.Random(0)  # the same examples every time: findings are deterministic
            tried += [{name: draw.choice(c) for name, c in zip(names, choices)} for _ in range(_CANDIDATES)]
        unique = list({tuple(sorted((k, repr(v)) for k, v in a.items())): a for a in tried}.values())
        return unique[:_CANDIDATES]

    def _run(self, rule: str, assignments: list[dict]):
        """An exact run over one organisation of ``rule``'s kind per assignment (in a system with a trust and a CCG)."""
        decl = self.plan.declarations[rule]
        kind = decl.kinds[0] if decl.kinds else "system"
        organisations, values = [], {}
        for index, assignment in enumerate(assignments):
            codes = {k: f"{p}{index}" for k, p in _PREFIX.items()}
            organisations += [Organisation(codes["system"], codes["system"], "system"),
                              Organisation(codes["trust"], codes["trust"], "trust", codes["system"]),
                              Organisation(codes["ccg"], codes["ccg"], "ccg", codes["system"])]
            for name, value in assignment.items():
                input_ = self.inputs[name]
                periods = [self.plan.year] if input_.granularity == "year" else self.plan.year.parts(input_.granularity)
                for org_kind in input_.kinds:
                    for period in periods:
                        values[(name, codes[org_kind], period)] = value
        dataset = make_dataset(organisations, values, {}, "<example>")
        return ExactRun(self.plan, dataset), [f"{_PREFIX[kind]}{index}" for index in range(len(assignments))]

    def _first(self, rule: str, nodes, period, test):
        """The first assignment (with its run and entity) for which ``test(run, entity)`` holds, or None."""
        assignments = self._assignments(self._inputs_of(nodes))
        if not assignments:
            return None
        run, entities = self._run(rule, assignments)
        for assignment, entity in zip(assignments, entities):
            if test(run, entity):
                return assignment, run, entity
        return None

    def _said(self, assignment: dict, period) -> str:
        if not assignment:
            return f"whatever the data, in {period}" if period is not None else "whatever the data"
        given = ", ".join(f"{name} = {format_value(value, self.inputs[name].type)}" for name, value in assignment.items())
        return f"with {given}" + (f", in {period}" if period is not None else "")

    def showing(self, rule: str, node, probe: s.Expr, period, wanted) -> str | None:
        """An example on which ``probe`` (a condition) has the value ``wanted`` accepts."""
        found = self._first(rule, [node], period, lambda run, e: wanted(run.evaluate(probe, e, period)))
        if found is None:
            return None
        assignment, run, entity = found
        value = run.evaluate(probe, entity, period)
        return f"{self._said(assignment, period)}: `{self.plan.program.text_of(probe.span)}` is {format_value(value, 'bool')}"

    def crossing(self, rule: str, upper: s.Expr, lower: s.Expr, period) -> str | None:
        def crossed(run, entity):
            a, b = run.evaluate(upper, entity, period), run.evaluate(lower, entity, period)
            return isinstance(a, Fraction) and isinstance(b, Fraction) and a < b

        found = self._first(rule, [upper, lower], period, crossed)
        if found is None:
            return None
        assignment, run, entity = found
        text, type_ = self.plan.program.text_of, upper.type
        return (f"{self._said(assignment, period)}: `{text(upper.span)}` is {format_value(run.evaluate(upper, entity, period), type_)}, "
                f"below `{text(lower.span)}` at {format_value(run.evaluate(lower, entity, period), type_)}")

    def floored(self, rule: str, node: s.Taper, period) -> str | None:
        def above(run, entity):
            base, floor = run.evaluate(node.base, entity, period), run.evaluate(node.floor, entity, period)
            return isinstance(base, Fraction) and isinstance(floor, Fraction) and floor > base

        found = self._first(rule, [node.base, node.floor], period, above)
        if found is None:
            return None
        assignment, run, entity = found
        text, type_ = self.plan.program.text_of, node.type
        return (f"{self._said(assignment, period)}: the base `{text(node.base.span)}` is "
                f"{format_value(run.evaluate(node.base, entity, period), type_)} and the floor "
                f"{format_value(run.evaluate(node.floor, entity, period), type_)}")

    def hole(self, rule: str, parameter: str, period) -> str | None:
        formula = self.plan.formulas[rule]

        def missing_for_it(run, entity):
            value = run.value(rule, entity, period)
            return isinstance(value, Missing) and any(
                r.kind == "no_parameter_value" and r.name == parameter for r in value.reasons)

        found = self._first(rule, [formula], period, missing_for_it)
        if found is None:
            return None
        assignment, _, _ = found
        return f"{self._said(assignment, period)}: `{rule}` is missing (the parameter {parameter} has no value for {period})"
