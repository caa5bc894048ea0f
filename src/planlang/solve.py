"""Goal seek: the value of one input or parameter that makes an output reach a target, exactly.

planlang's rules are piecewise linear in any one value (sums, products by constants, bands,
tapers, min and max, branches), so the search runs on the exact grid of the varied value's unit
(a penny for money, 0.01 percentage point for percentages, one for counts) with exact arithmetic:
first a bracket, by doubling steps away from the baseline value in both directions, then
interpolation along the line through the bracket's ends (exact on a linear piece), falling back to
halving so that every step narrows the bracket. The answer is the smallest value on the grid at
which the output has reached the target, coming from below (for an output that rises with the
value, the smallest value giving at least the target; for one that falls, at most); for a flag,
the value nearest the baseline's at which it flips. It is checked by re-running with it and with
one unit less. The search assumes the output is monotone between the baseline value and the
bracket's far end; where it is not, the answer is still checked, and still reaches the target.

When no value tried reaches the goal, that proves nothing about the values between them: a rule may
rise and fall between two of them (a tent, a band paid only in a window). So ``solve`` says
"unreachable" only when it is proved, here when the goal does not depend on the varied name at all
(its value is then the same for every value), and otherwise "inconclusive", with the range searched
and the output seen at its ends and at the baseline value.
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import ceil, floor

import attrs

from . import syntax as s
from .checker import ExpressionChecker
from .diagnostics import InputError, UsageError, suggest
from .parser import parse_setting
from .periods import Period, period_in_year
from .run import ExactRun, Results, constant_value
from .run.totals import total_of
from .scenario import Scenario, ScenarioError, Setting, check_setting
from .source import SourceFile, Span

__all__ = ["Goal", "Solution", "solve", "UNITS", "REACHED", "UNREACHABLE", "INCONCLUSIVE", "read_vary", "read_goal"]

UNITS = {"money": Fraction(1, 100), "percent": Fraction(1, 10_000), "ratio": Fraction(1, 10_000), "count": Fraction(1),
         "number": Fraction(1, 100)}
_SPAN = Span("--vary", 1, 1, 1, 1)
_DOUBLINGS = 40


@attrs.frozen
class Goal:
    """What to reach: an output cell (or the total of an output over all entities) equal to ``value``,
    or a flag raised (``raised`` True) or cleared (False)."""

    name: str
    entity: str | None
    period: Period | None
    value: Fraction | None = None
    total: bool = False
    raised: bool | None = None


REACHED, UNREACHABLE, INCONCLUSIVE = "reached", "unreachable", "inconclusive"


@attrs.frozen
class Solution:
    value: Fraction | None  # None: no value tried reaches the goal
    baseline_value: object
    achieved: object
    below: object  # the goal's measure one unit below the answer
    reach: tuple  # (lowest, highest) measure seen over the values tried
    tried: tuple  # (lowest, highest) value tried
    evaluations: int
    outcome: str = REACHED  # or UNREACHABLE (proved) or INCONCLUSIVE (not reached at any value tried)
    seen: tuple = ()  # (value, measure) at the lowest value tried, the baseline value and the highest
    monotone: bool = True  # whether the measures seen, in the order of the values tried, rise or fall only


def solve(baseline: Results, scenario: Scenario, name: str, entity: str | None, periods, type_: str, goal: Goal) -> Solution:
    """The value of ``name`` (for ``entity`` in ``periods``, None for all) that reaches ``goal`` under ``scenario``."""
    unit = UNITS[type_]
    # the value the varied name has under the scenario, before it is varied (a parameter's in the goal's period
    # when it is varied in all of them)
    under = ExactRun(baseline.plan, baseline.dataset, scenario, baseline.run) if scenario.settings else baseline.run
    start = under.value(name, entity, periods[0] if periods else goal.period)
    x0 = Fraction(round(start / unit)) * unit if isinstance(start, Fraction) else Fraction(0)
    cache: dict[Fraction, object] = {}

    def measure(x: Fraction):
        if x not in cache:
            setting = Setting(_SPAN, name, s.Literal(span=_SPAN, value=x, text=str(x), type=type_), entity, periods)
            trial = Scenario("solve", scenario.settings + (setting,), sources=scenario.sources)
            cache[x] = _measure(ExactRun(baseline.plan, baseline.dataset, trial, baseline.run), baseline, goal)
        return cache[x]

    def distance(x: Fraction):
        """Signed distance to the goal (0 when reached exactly); None when the measure is missing."""
        m = measure(x)
        if goal.raised is not None:
            return None if not isinstance(m, bool) else (0 if m is goal.raised else 1)
        return m - goal.value if isinstance(m, Fraction) else None

    d0 = distance(x0)
    if d0 == 0:
        return _solution(x0, measure, unit, cache, start)
    if not _depends(baseline.plan, scenario, name, goal.name):
        return _solution(None, measure, unit, cache, start, UNREACHABLE)
    x1 = _bracket(x0, unit, d0, distance)
    if x1 is None:
        return _solution(None, measure, unit, cache, start, INCONCLUSIVE)
    if goal.raised is not None:  # a flag: the value nearest the baseline's at which it flips
        return _solution(_boundary(x0, x1, unit, lambda x: distance(x) == 0, None), measure, unit, cache, start)
    low, high = sorted((x0, x1))
    increasing = measure(high) > measure(low)

    def reached(x):
        d = distance(x)
        return d is not None and (d >= 0 if increasing else d <= 0)

    if reached(low):
        return _solution(low, measure, unit, cache, start)
    return _solution(_boundary(low, high, unit, reached, distance), measure, unit, cache, start)


def _depends(plan, scenario: Scenario, name: str, goal: str) -> bool:
    """Whether the goal may depend on ``name``; False is a proof that varying ``name`` cannot change it."""
    # a new formula (`replace`) may read names its declaration does not, so the graph proves nothing then
    return any(x.formula for x in scenario.settings) or goal in plan.downstream({name})


def _measure(trial: ExactRun, baseline: Results, goal: Goal):
    if goal.total:
        return total_of(trial.value(goal.name, e, p) for e, p in baseline.scope[goal.name]
                        if goal.period is None or p == goal.period).figure
    return trial.value(goal.name, goal.entity, goal.period)


def _crossed(d0, d) -> bool:
    """Whether ``d`` is on the other side of the goal from ``d0``, or on it."""
    if d is None:
        return False
    return d == 0 or (d0 is not None and d0 != 1 and (d > 0) != (d0 > 0)) if isinstance(d, Fraction) else d == 0


def _bracket(x0: Fraction, unit: Fraction, d0, distance) -> Fraction | None:
    """A grid value across the goal from ``x0``, the nearest first in either direction; None when none is found."""
    step = max(unit, abs(x0) / 100)
    for k in range(_DOUBLINGS):
        for sign in (1, -1):
            x = Fraction(round((x0 + sign * step * 2 ** k) / unit)) * unit
            if _crossed(d0, distance(x)):
                return x
    return None


def _boundary(near: Fraction, far: Fraction, unit: Fraction, reached, distance) -> Fraction:
    """The grid value next to the boundary on ``far``'s side, between ``near`` (not reached) and ``far`` (reached).

    Each round tries the root of the line through the two ends (exact on a linear piece), then the
    midpoint, so the bracket at least halves every round.
    """
    while abs(far - near) > unit:
        candidates = []
        if distance is not None:
            dn, df = distance(near), distance(far)
            if isinstance(dn, Fraction) and isinstance(df, Fraction) and df != dn:
                root = near + (far - near) * (-dn) / (df - dn)
                grid = ceil(root / unit) if far > near else floor(root / unit)
                candidates.append(Fraction(grid) * unit)
        candidates.append(Fraction(round((near + far) / 2 / unit)) * unit)
        for x in candidates:
            if abs(far - near) <= unit or not (min(near, far) < x < max(near, far)):
                continue
            if reached(x):
                far = x
            else:
                near = x
    return far


def _solution(answer, measure, unit, cache, start, outcome: str = REACHED) -> Solution:
    measures = [m for m in cache.values() if isinstance(m, Fraction)]
    values = sorted(cache)
    below = measure(answer - unit) if answer is not None else None
    ends = sorted({values[0], next(iter(cache)), values[-1]})  # the first value measured is the baseline's
    ordered = [cache[x] for x in values if isinstance(cache[x], Fraction)]
    steps = {(b > a) - (b < a) for a, b in zip(ordered, ordered[1:])} - {0}
    return Solution(answer, start, measure(answer) if answer is not None else None, below,
                    (min(measures), max(measures)) if measures else (None, None), (values[0], values[-1]), len(cache),
                    outcome, tuple((x, cache[x]) for x in ends), len(steps) < 2)


_FLAG_GOAL = re.compile(r"^\s*flag\s+(?P<name>\w+)\s+for\s+(?P<entity>\S+)\s+in\s+(?P<period>.+?)\s+(?P<state>raised|cleared)\s*$")
_TOTAL_GOAL = re.compile(r"^\s*total\s+")


def read_vary(text: str, plan, dataset, where: str = "--vary"):
    """(name, entity, periods, type) of what a goal seek varies: one input cell (``NAME for CODE in PERIOD``),
    or a parameter (in one period or all); errors name ``where``."""
    source = SourceFile(where, text)
    target, errors = parse_setting(source, start="target_only")
    if errors:
        raise ScenarioError(errors, {source.name: source})
    decl = plan.declarations.get(target.name)
    clause = s.SetClause(span=target.span, target=target, value=s.Ref(span=target.name_span, name=target.name))
    checked = check_setting(clause, source, plan, dataset)
    if isinstance(decl, s.InputDecl) and (checked.entity is None or checked.periods is None or len(checked.periods) != 1):
        raise InputError("an input is varied for one organisation in one period: NAME for CODE in PERIOD", where)
    if not isinstance(decl, (s.InputDecl, s.ParameterDecl)):
        raise InputError(f"`{target.name}` is not an input or a parameter; solve varies one of those", where)
    if checked.periods is not None and len(checked.periods) != 1:
        raise InputError("vary a parameter in one period, or in all of them", where)
    if decl.type not in UNITS:  # a search moves a number up and down: there is no next bool, text or date
        raise UsageError(f"`{target.name}` is a {decl.type} {'input' if isinstance(decl, s.InputDecl) else 'parameter'}; "
                         f"solve varies numbers ({', '.join(UNITS)})", where)
    return checked.name, checked.entity, checked.periods, decl.type


def read_goal(text: str, plan, dataset, where: str = "--until") -> tuple[Goal, str]:
    """The goal of a goal seek (``NAME for CODE in PERIOD = VALUE``, ``total NAME [in PERIOD] = VALUE`` or
    ``flag NAME for CODE in PERIOD raised|cleared``) and the type of what it measures; errors name ``where``."""
    flag = _FLAG_GOAL.match(text)
    if flag:
        decl = plan.declarations.get(flag["name"])
        if not isinstance(decl, s.FlagDecl):
            raise InputError(f"`{flag['name']}` is not a flag", where, suggest(flag["name"], plan.program.of_kind(s.FlagDecl)))
        entity = dataset.known(flag["entity"], where)
        period = _goal_period(plan, decl, period_in_year(flag["period"], plan.year, where), where)
        return Goal(decl.name, entity, period, raised=flag["state"] == "raised"), "bool"
    total = _TOTAL_GOAL.match(text)
    source = SourceFile(where, text[total.end():] if total else text)
    clause, errors = parse_setting(source)
    if errors:
        raise ScenarioError(errors, {source.name: source})
    target = clause.target
    decl = plan.declarations.get(target.name)
    if not isinstance(decl, s.DefineDecl):
        raise InputError(f"`{target.name}` is not a definition; solve reaches a definition's value or a flag", where,
                         suggest(target.name, plan.program.of_kind(s.DefineDecl)))
    period = target.periods[0] if target.periods else None
    if target.periods and target.periods[0] != target.periods[1]:
        raise InputError("the goal is in one period", where)
    if not total:
        if decl.kinds and target.entity is None:
            raise InputError(f"say which organisation: {target.name} for CODE in PERIOD (or `total {target.name}`)", where)
        if decl.kinds:
            dataset.known(target.entity, where)
        if decl.granularity and period is None:
            raise InputError(f"`{target.name}` is {decl.granularity}ly: name one {decl.granularity} with `in`", where)
    if period is not None:
        _goal_period(plan, decl, period, where)
    if decl.type not in UNITS:
        raise InputError(f"`{target.name}` is {decl.type}; solve reaches amounts, percentages and counts", where)
    value, errors, _ = ExpressionChecker(plan.declarations).check(clause.value, target.name, (), None, decl.type,
                                                                   f"the goal for `{target.name}`")
    if errors:
        raise ScenarioError(errors, {source.name: source})
    goal_value = constant_value(plan, value)
    if not isinstance(goal_value, Fraction):
        raise InputError("the goal is a fixed amount, percentage or count", where)
    return Goal(decl.name, None if total else target.entity, period, goal_value, total=bool(total)), decl.type


def _goal_period(plan, decl, period, where: str):
    """``period`` if the goal's name has a value in it; otherwise a search could only ever see it missing."""
    if not plan.year.contains(period):
        raise UsageError(f"{period} is outside the policy year {plan.year}", where)
    if decl.granularity and period.kind != decl.granularity:
        raise UsageError(f"`{decl.name}` is {decl.granularity}ly; {period} is a {period.kind}", where,
                         f"name one {decl.granularity} with `in`")
    if not plan.applies(decl.name, period):
        first, last = decl.during
        raise UsageError(f"`{decl.name}` applies only from {first} to {last}, not in {period}", where)
    return period
