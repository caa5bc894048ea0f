"""Baseline against scenario: what a scenario changed, as data (renderers word it).

:func:`compare` takes the results of the same plan and inputs under the baseline and under a
scenario, and lists every definition, entity and period whose value changed (largest £ change
first), the totals of money and count outputs over all entities for each period (and for the
financial year, where the periods are months or quarters), the flags raised and cleared, and
the values that became missing or present.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from . import syntax as s
from .coverage import Coverage, coverage, year_coverage
from .periods import Period
from .plan import Plan
from .run import FlagResult, Results
from .run.totals import total_of
from .values import Missing

__all__ = ["Difference", "TotalDifference", "YearTotalDifference", "Comparison", "compare", "MAX_COMPARED"]

# every scenario's results are kept until all are shown (JSON, the workbook and the receipt need them
# together); a hundred side by side is more than anyone reads, and `sweep` runs grids of many
MAX_COMPARED = 100


@attrs.frozen
class _Both:
    """A figure under the baseline and under the scenario: numbers, other values, or missing."""

    name: str
    period: Period | None
    type: str
    baseline: object
    scenario: object

    @property
    def difference(self):
        """scenario - baseline for numbers both present; None otherwise."""
        if isinstance(self.baseline, Fraction) and isinstance(self.scenario, Fraction):
            return self.scenario - self.baseline
        return None

    @property
    def change(self) -> str:
        """``changed``, ``became missing`` or ``became present``."""
        if isinstance(self.scenario, Missing) and not isinstance(self.baseline, Missing):
            return "became missing"
        if isinstance(self.baseline, Missing) and not isinstance(self.scenario, Missing):
            return "became present"
        return "changed"


@attrs.frozen
class Difference(_Both):
    """One output's cell that the scenario changed."""

    entity: str | None = None


@attrs.frozen
class TotalDifference(_Both):
    """A money or count output's :class:`~planlang.totals.Total` over every entity, for one period (or the
    year of its periods), under each run: each side its :attr:`~planlang.totals.Total.figure`, missing
    when any of its cells is. A year's total says which of the year's periods (those the rule's
    ``during`` allows) it adds up: data for part of a year makes a total of part of a year."""

    covers: Coverage | None = None


@attrs.frozen
class YearTotalDifference(_Both):
    """A money or count output's year total for one organisation (``kind`` ``organisation``) or one
    system (``system``: the sum over its trusts and CCGs), under each run, each side the exact
    :class:`~planlang.run.totals.Total`'s figure (missing when any cell is). ``covers`` says which of
    the year's periods it adds: for a system, those every member has."""

    entity: str = ""
    kind: str = "organisation"
    covers: Coverage | None = None


@attrs.frozen
class Comparison:
    baseline: Results
    scenario: Results
    differences: tuple[Difference, ...]
    totals: tuple[TotalDifference, ...]
    flags_raised: tuple
    flags_cleared: tuple
    by_organisation: tuple[YearTotalDifference, ...] = ()
    by_system: tuple[YearTotalDifference, ...] = ()


def _same(a, b) -> bool:
    if isinstance(a, Missing) or isinstance(b, Missing):
        return isinstance(a, Missing) and isinstance(b, Missing)
    return type(a) is type(b) and a == b


def _size(difference: Difference):
    """Sort key: the largest £ change first, then other numbers by size, then the rest in output order.

    The order is for reading only, so the size is compared as a float (exact figures are kept).
    """
    d = difference.difference
    return (0 if difference.type == "money" and d is not None else 1 if d is not None else 2, -abs(float(d)) if d is not None else 0)


def compare(baseline: Results, scenario: Results, only: set[str] | None = None, entities: set[str] | None = None) -> Comparison:
    """What ``scenario`` changed against ``baseline`` (the same plan and inputs), for the outputs and entities asked."""
    program = baseline.program
    differences, totals, by_organisation, by_system = [], [], [], []
    # a scenario run that reads from this baseline can differ from it only in the names it changed
    shared = scenario.run.baseline is baseline.run
    for name, keys in baseline.scope.items():
        decl = program.declarations[name]
        if not isinstance(decl, s.DefineDecl) or (only and name not in only) or (shared and name not in scenario.run.changed):
            continue
        keys = [(e, p) for e, p in keys if not entities or e in entities]
        found = [Difference(name, p, decl.type, baseline.get(name, e, p), scenario.get(name, e, p), e) for e, p in keys]
        differences += [d for d in found if not _same(d.baseline, d.scenario)]
        if decl.type in ("money", "count"):
            totals += _totals(baseline.plan, name, decl.type, found)
            organisations, systems = _year_totals(baseline, name, decl.type, found, entities)
            by_organisation += organisations
            by_system += systems
    differences.sort(key=_size)  # stable: output order within equal sizes
    raised, cleared = [], []
    for flag in _flags(scenario, scenario.run.changed if shared else None):
        if entities and flag.entity not in entities:
            continue
        was = baseline.get(flag.name, flag.entity, flag.period)
        if flag.fired is True and was is not True:
            raised.append(flag)
        elif was is True and flag.fired is not True:
            cleared.append(flag)
    return Comparison(baseline, scenario, tuple(differences), _changed(totals), tuple(raised), tuple(cleared),
                      _changed(by_organisation), _changed(by_system))


def _flags(results: Results, names) -> list:
    """The flags of a run, or of the ``names`` among them alone (those a scenario sharing its baseline can change)."""
    if names is None:
        return results.flags
    program = results.program
    return [FlagResult(name, decl.severity, e, p, results.get(name, e, p)) for name, keys in results.scope.items()
            if name in names and isinstance(decl := program.declarations[name], s.FlagDecl) for e, p in keys]


def _changed(totals: list) -> tuple:
    return tuple(t for t in totals if not _same(t.baseline, t.scenario))


def _both(group) -> tuple:
    return total_of(c.baseline for c in group).figure, total_of(c.scenario for c in group).figure


def _year_totals(baseline: Results, name: str, type_: str, cells: list[Difference],
                 entities: set[str] | None) -> tuple[list, list]:
    """Each organisation's and each system's year totals of one output worked out by month, quarter or half;
    a system's only when every member is among the ``entities`` asked (a part of a system is not its total)."""
    plan, dataset = baseline.plan, baseline.dataset
    organisations = dataset.organisations
    by_entity: dict[tuple, list[Difference]] = {}
    for cell in cells:
        if cell.entity is not None and cell.period is not None and cell.period.kind in ("month", "quarter", "half"):
            by_entity.setdefault((cell.entity, cell.period.within("year")), []).append(cell)
    order = {code: k for k, code in enumerate(organisations)}

    def expected(year: Period, kind: str) -> list[Period]:
        return [p for p in year.parts(kind) if plan.applies(name, p)]

    found = []
    for (entity, year), group in sorted(by_entity.items(), key=lambda x: (order[x[0][0]], x[0][1].sort_key())):
        covers = coverage([c.period for c in group], expected(year, group[0].period.kind))
        found.append(YearTotalDifference(name, year, type_, *_both(group), entity, "organisation", covers))
    by_system: dict[tuple, list[list[Difference]]] = {}
    for (entity, year), group in by_entity.items():
        system = organisations[entity].system
        if system is not None and (not entities or set(dataset.members(system)) <= entities):
            by_system.setdefault((system, year), []).append(group)
    systems = []
    for (system, year), groups in sorted(by_system.items(), key=lambda x: (order[x[0][0]], x[0][1].sort_key())):
        # a period counts only where every member has it: a system's year is no fuller than its emptiest member's
        shared = set.intersection(*({c.period for c in group} for group in groups))
        covers = coverage(shared, expected(year, groups[0][0].period.kind))
        systems.append(YearTotalDifference(name, year, type_, *_both([c for g in groups for c in g]), system, "system", covers))
    return found, systems


def _totals(plan: Plan, name: str, type_: str, cells: list[Difference]) -> list[TotalDifference]:
    by_period: dict = {}
    for cell in cells:
        by_period.setdefault(cell.period, []).append(cell)
    years: dict = {}
    for period, group in by_period.items():
        if period is not None and period.kind in ("month", "quarter"):
            years.setdefault(period.within("year"), {}).setdefault(period, group)

    totals = [TotalDifference(name, period, type_, *_both(group)) for period, group in by_period.items()]
    totals += [TotalDifference(name, year, type_, *_both([c for group in parts.values() for c in group]),
                               year_coverage(plan, name, parts))
               for year, parts in years.items()]
    return totals
