"""Running the tests written in a policy pack.

Each ``test`` declaration lists organisations, gives input values and expects results. An
expected amount is compared at the precision it is written to: ``£19,857,143`` is compared to
the pound, ``£19,857,142.86`` to the penny, ``90%`` to the whole percent.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from . import syntax as s
from .compiler import Program
from .data import Organisation, make_dataset
from .periods import Period, period_range
from .plan import compile_plan
from .render.values import format_value
from .run import constant_value, evaluate
from .scenario import BASELINE, read_scenarios
from .values import Missing, decimal_places, round_to

__all__ = ["TestOutcome", "run_tests"]


@attrs.frozen
class TestOutcome:
    test: s.TestDecl
    failures: tuple[str, ...]
    checked: int

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def notes(self) -> tuple[s.TestNote, ...]:
        return self.test.notes


def _periods(target: s.Target, test: s.TestDecl, decl: s.Decl) -> list[Period | None]:
    granularity = getattr(decl, "granularity", None)
    if granularity is None:
        return [None]
    if target.period is not None:
        return [target.period]
    first, last = test.period
    periods = period_range(first, last)
    if first.kind == granularity:
        return periods
    rank = ("month", "quarter", "half", "year")
    if rank.index(granularity) > rank.index(first.kind):
        return sorted({p.within(granularity) for p in periods}, key=Period.sort_key)
    return sorted({q for p in periods for q in p.parts(granularity)}, key=Period.sort_key)


def _entity(target: s.Target, test: s.TestDecl, decl: s.Decl, organisations: dict[str, Organisation]) -> str | None:
    if not getattr(decl, "kinds", ()):
        return None
    if target.entity is not None:
        return target.entity
    candidates = [code for code, org in organisations.items() if org.kind in decl.kinds]
    return candidates[0] if candidates else next(iter(organisations))


def _organisations(test: s.TestDecl, program: Program) -> dict[str, Organisation]:
    if test.entities:
        return {e.code: Organisation(e.code, e.code, e.kind, e.system) for e in test.entities}
    names = [g.target.name for g in test.givens] + [x.target.name for x in test.expectations]
    kinds = next((program.declarations[n].kinds for n in names if getattr(program.declarations.get(n), "kinds", ())), ("system",))
    return {"TEST": Organisation("TEST", "TEST", kinds[0], None)}


def _matches(expected, actual, text: str) -> bool:
    if isinstance(expected, Fraction) and isinstance(actual, Fraction):
        step = Fraction(1, 10 ** decimal_places(text))
        return round_to(actual, step, "half_up") == expected
    return expected == actual


def run_test(program: Program, test: s.TestDecl, scenarios: str | None = None, plan=None, checked=None) -> TestOutcome:
    """Run one test; a test written ``under`` a scenario runs under it, read from ``scenarios`` (its file or folder).

    ``plan``, when given, is the program's compiled plan, shared by every test of a run (compiled here otherwise).
    ``checked``, when given, is told each cell the test checks: ``checked(results, name, entity, period)``
    (coverage records them: :mod:`planlang.assurance.coverage`).
    """
    organisations = _organisations(test, program)
    plan = plan if plan is not None else compile_plan(program)
    values, origins = {}, {}
    for given in test.givens:
        decl = program.declarations[given.target.name]
        value = constant_value(plan, given.value)
        entity = _entity(given.target, test, decl, organisations)
        for period in _periods(given.target, test, decl):
            values[(decl.name, entity, period)] = value
            origins[(decl.name, entity, period)] = f"{given.span} (test {test.name!r})"
    dataset = make_dataset(organisations.values(), values, origins, f"test {test.name!r}")
    scenario = BASELINE
    if test.under is not None:
        # checked again against the test's own organisations, which its settings may name
        scenario = read_scenarios(scenarios, plan, dataset)[test.under[0]]
    results = evaluate(plan, dataset, scenario)
    failures, count = [], 0
    for expectation in test.expectations:
        decl = program.declarations[expectation.target.name]
        entity = _entity(expectation.target, test, decl, organisations)
        type_ = "bool" if isinstance(decl, s.FlagDecl) else "date" if isinstance(decl, s.DeadlineDecl) else decl.type
        for period in _periods(expectation.target, test, decl):
            count += 1
            if checked is not None:
                checked(results, decl.name, entity, period)
            actual = results.get(decl.name, entity, period)
            where = f"{expectation.span}: {decl.name} for {entity} in {period}"
            if expectation.kind == "missing":
                if not isinstance(actual, Missing):
                    failures.append(f"{where}: expected missing, got {format_value(actual, type_)}")
                continue
            if isinstance(actual, Missing):
                failures.append(f"{where}: missing because {actual.describe()}")
                continue
            if expectation.kind in ("flag", "no_flag"):
                wanted = expectation.kind == "flag"
                if actual is not wanted:
                    failures.append(f"{where}: expected the flag {'raised' if wanted else 'not raised'}, but it was "
                                    f"{'raised' if actual else 'not raised'}")
                continue
            expected = constant_value(plan, expectation.value)
            text = results.run.text_of(expectation.value.span)  # a test in a scenario file: the scenario holds its text
            if not _matches(expected, actual, text):
                failures.append(f"{where}: expected {text}, got {format_value(actual, type_)}")
    return TestOutcome(test, tuple(failures), count)


def run_tests(program: Program) -> list[TestOutcome]:
    """Run every test of a pack, in the order they are written, on one compiled plan."""
    plan = compile_plan(program)
    return [run_test(program, test, plan=plan) for test in program.tests]


def run_scenario_tests(program: Program, scenarios: str, dataset) -> list[TestOutcome]:
    """Run every test written under a scenario in ``scenarios`` (a file or folder), each under its scenario.

    ``dataset`` is what the scenarios are first checked against (the tests bring their own organisations).
    """
    plan = compile_plan(program)
    found = read_scenarios(scenarios, plan, dataset)
    return [run_test(program, test, scenarios, plan) for scenario in found.values() for test in scenario.tests]
