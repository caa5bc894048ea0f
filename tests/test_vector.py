"""The vectorised backend gives every figure the exact engine gives: on the example data, on random data
for all three packs (with values drawn on purpose to land exactly on thresholds, half pennies and
beyond int64), and on small policies that reach each of its paths."""

from __future__ import annotations

import datetime as dt
import json
import random
from fractions import Fraction

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planlang import syntax as s
from planlang.cli import main
from planlang.compiler import compile_pack
from planlang.data import Organisation, load_data, make_dataset
from planlang.explanation import explain
from planlang.periods import Period, parse_period, working_days
from planlang.plan import compile_plan
from planlang.render import explanation_json, run_json
from planlang.run import run
from planlang.scenario import scenario_from_sets
from planlang.values import Missing

from conftest import EXAMPLES, POLICIES

YEARS = ("2019_20", "2020_21", "2021_22")


def assert_same_results(exact, vector) -> int:
    """Every cell of both runs is the same value of the same type (missing with the same reasons); returns how many."""
    assert list(exact.scope) == list(vector.scope)
    checked = 0
    for name, cells in exact.scope.items():
        assert list(cells) == list(vector.scope[name])
        for entity, period in cells:
            x, y = exact.get(name, entity, period), vector.get(name, entity, period)
            where = (name, entity, str(period))
            if isinstance(x, Missing):
                assert isinstance(y, Missing) and x.describe() == y.describe(), where
            else:
                assert type(x) is type(y) and x == y, (where, x, y)
            checked += 1
    assert run_json(exact) == run_json(vector)
    return checked


@pytest.fixture(scope="module")
def plans():
    return {year: compile_plan(compile_pack(POLICIES / year)) for year in YEARS}


# ---- the example data ----

EXAMPLE_DATA = [("2019_20", "2019_20.xlsx"), ("2020_21", "2020_21.xlsx"), ("2021_22", "2021_22.xlsx"),
                ("2021_22", "erf_worked_example.json")]


@pytest.mark.parametrize("year, data", EXAMPLE_DATA)
def test_backends_agree_on_the_example_data(plans, year, data):
    plan = plans[year]
    dataset = load_data(EXAMPLES / data, plan.program)
    assert assert_same_results(run(plan, dataset), run(plan, dataset, backend="vector")) > 200


@pytest.mark.parametrize("year, data", EXAMPLE_DATA)
def test_run_prints_the_same_bytes_with_either_backend(capsys, year, data):
    outputs = []
    for backend in ("exact", "vector"):
        for extra in ([], ["--json"]):
            assert main(["run", str(POLICIES / year), "--data", str(EXAMPLES / data), "--backend", backend, *extra]) == 0
            outputs.append(capsys.readouterr().out)
    exact_text, exact_json, vector_text, vector_json = outputs
    assert exact_text == vector_text
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "receipt"}  # noqa: E731
    assert strip(exact_json) == strip(vector_json)


def test_the_vector_run_computes_columns_not_cells(plans):
    """On the ERF worked example every ERF figure comes from a column (the backend is doing the work)."""
    plan = plans["2021_22"]
    results = run(plan, load_data(EXAMPLES / "erf_worked_example.json", plan.program), backend="vector")
    column = results.run.column("erf_additional_funding", parse_period("2021-05"))
    assert column.kind == "num" and column.defer is None
    may_funding = results.get("erf_additional_funding", "EXAMPLE2", parse_period("2021-05"))
    index = results.run.index["EXAMPLE2"]
    assert may_funding == Fraction(int(column.num[index]), column.den if type(column.den) is int else int(column.den[index]))


# ---- random data for every pack ----

def _literals(program) -> tuple[list[Fraction], list[str]]:
    """The numbers and texts written in a pack: the values a rule compares with."""
    numbers, texts = set(), set()

    def visit(node):
        if isinstance(node, s.Literal):
            if type(node.value) is Fraction:
                numbers.add(node.value)
            elif type(node.value) is str:
                texts.add(node.value)
        for field in attrs.fields(type(node)):
            value = getattr(node, field.name)
            for child in value if isinstance(value, tuple) else (value,):
                if attrs.has(type(child)):
                    visit(child)

    for decl in program.declarations.values():
        visit(decl)
    return sorted(numbers), sorted(texts)


def random_dataset(plan, organisations, seed: int):
    """A dataset for the plan's inputs: absent cells, ordinary values and values made to sit on boundaries."""
    rng = random.Random(seed)
    program = plan.program
    numbers, texts = _literals(program)
    year = program.year
    values = {}
    for decl in program.of_kind(s.InputDecl).values():
        periods = [year] if decl.granularity == "year" else year.parts(decl.granularity)
        for org in organisations:
            if org.kind not in decl.kinds:
                continue
            for period in periods:
                if rng.random() < 0.15:
                    continue  # absent: missing, or the declared default
                value = _value(rng, decl.type, numbers, texts, year, period, values, org.code)
                if value is not None:
                    values[(decl.name, org.code, period)] = value
    return make_dataset(organisations, values, {}, f"random-{seed}")


def _value(rng, type_, numbers, texts, year, period, values, code):
    if type_ == "bool":
        return rng.random() < 0.5
    if type_ == "text":
        return rng.choice(texts + ["something else"]) if texts else "something else"
    if type_ == "date":
        return year.first_day + dt.timedelta(days=rng.randrange(-30, 400))
    if type_ == "count":
        return Fraction(rng.choice([0, 1, 2, rng.randrange(0, 10**6)]))
    if type_ in ("percent", "ratio"):
        return rng.choice(numbers + [Fraction(rng.randrange(-50, 200), 100), Fraction(rng.randrange(0, 10**4), 10**4)])
    # money: pennies, half pennies, zero, figures too large for int64, and figures made from the cell's others
    # times a number the pack writes (and, for a month, a working-day ratio), which land on thresholds exactly
    same_cell = [v for (name, c, p), v in values.items() if c == code and p == period and type(v) is Fraction]
    choice = rng.random()
    if choice < 0.35 and same_cell:
        factor = rng.choice(numbers or [Fraction(1)])
        if period.kind == "month" and rng.random() < 0.5:
            factor *= Fraction(working_days(period), working_days(period.shift(years=-2)))
        return rng.choice(same_cell) * factor + rng.choice([0, 0, Fraction(1, 100), Fraction(-1, 100)])
    if choice < 0.45:
        return Fraction(2 * rng.randrange(-10**8, 10**8) + 1, 200)  # a half penny
    if choice < 0.5:
        return Fraction(0)
    if choice < 0.53:
        return Fraction(rng.randrange(10**20, 10**22))  # beyond what int64 holds in pennies: deferred
    return Fraction(rng.randrange(-10**11, 10**11), 100)


@pytest.fixture(scope="module")
def organisations():
    """Each pack's organisations as its example workbook has them (systems with trusts and CCGs)."""
    found = {}
    for year in YEARS:
        program = compile_pack(POLICIES / year)
        found[year] = list(load_data(EXAMPLES / f"{year}.xlsx", program).organisations.values())
    return found


@pytest.mark.parametrize("year", YEARS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_backends_agree_on_random_data(plans, organisations, year, seed):
    plan = plans[year]
    dataset = random_dataset(plan, organisations[year], seed)
    assert_same_results(run(plan, dataset), run(plan, dataset, backend="vector"))


# ---- the ERF rule on and beside its thresholds ----

MONTHS = [parse_period(f"2021-{m:02d}") for m in range(4, 10)]
PCT = {4: Fraction(70, 100), 5: Fraction(75, 100), 6: Fraction(80, 100)}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.integers(0, 10**11), st.integers(-10**8, 10**8), st.sampled_from(range(6)),
                                st.sampled_from(["lower", "upper", "between", "free"]), st.sampled_from([0, 1, -1]),
                                st.booleans()), min_size=1, max_size=40))
def test_erf_backends_agree_on_and_beside_the_thresholds(plans, cells):
    plan = plans["2021_22"]
    organisations, values = [], {}
    for k, (baseline, cc, m, where, pennies, gateway) in enumerate(cells):
        code = f"S{k:03d}"
        organisations.append(Organisation(code, code, "system"))
        month = MONTHS[m]
        base, adjustment = Fraction(baseline, 100), Fraction(cc, 100)
        ratio = Fraction(working_days(month), working_days(month.shift(years=-2)))
        lower = base * PCT.get(month.index, Fraction(85, 100)) * ratio - adjustment
        upper = base * Fraction(85, 100) * ratio - adjustment
        actual = {"lower": lower, "upper": upper, "between": (lower + upper) / 2, "free": base}[where]
        values.update({("erf_baseline", code, month): base, ("erf_actual", code, month): actual + Fraction(pennies, 100),
                       ("erf_counting_coding_adjustment", code, month): adjustment,
                       ("erf_gateway_met", code, month): gateway})
    dataset = make_dataset(organisations, values, {}, "thresholds")
    assert_same_results(run(plan, dataset), run(plan, dataset, backend="vector"))


# ---- each path of the backend, on small policies ----

ROUNDING = '''
input x : money per trust monthly
input y : money per trust monthly
define r_up : money per trust monthly = round(x, £0.01, half_up)
define r_even : money per trust monthly = round(x, £0.01, half_even)
define r_down : money per trust monthly = round(x, £0.01, half_down)
define r_zero : money per trust monthly = round(x, £1, toward_zero)
define r_away : money per trust monthly = round(x, £1, away_from_zero)
define share : ratio per trust monthly = x / y
define change : ratio per trust monthly = variance(x, y)
define close : bool per trust monthly = x within 5% of y
define near : bool per trust monthly = x within £10 of y
define biggest : money per trust monthly = max(x, y, £0)
define tapered : money per trust monthly = taper £1,000 by x at 50% floor £100 cap £900
define either : bool per trust monthly = x > £0 or y > £0
define both : bool per trust monthly = x > £0 and not (y > £0)
define known : bool per trust monthly = present(x)
define tiers : money per trust monthly
  = bands on x
      up to y: 10%
      up to £1,000: 50%
      above: 100%
define per_quarter : money per trust quarterly = sum(x over months)
define busy : count per trust quarterly = count(x > £0 over months)
define system_total : money per system monthly = sum(x over members)
define any_big : bool per system monthly = any(x > £1,000 over members)
define smallest : money per system monthly = min(y over members)
define share_of_system : ratio per trust monthly = x / system.system_total
'''


def _small_dataset(rng: random.Random, program):
    organisations = [Organisation("SYS1", "one", "system"), Organisation("SYS2", "two", "system"),
                     Organisation("SYS3", "empty", "system")]
    organisations += [Organisation(f"T{k}", f"trust {k}", "trust", f"SYS{1 + k % 2}") for k in range(8)]
    values = {}
    pool = [Fraction(0), Fraction(1, 200), Fraction(-1, 200), Fraction(5, 2), Fraction(-5, 2), Fraction(1000),
            Fraction(10**21), Fraction(-3, 7)]
    for org in organisations[3:]:
        for month in program.year.parts("month")[:6]:
            for name in ("x", "y"):
                if rng.random() < 0.85:
                    values[(name, org.code, month)] = rng.choice(pool + [Fraction(rng.randrange(-10**7, 10**7), 200)])
    return make_dataset(organisations, values, {}, "small")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_backends_agree_on_every_operation(compile_policy, seed):
    plan = compile_plan(compile_policy(ROUNDING))
    dataset = _small_dataset(random.Random(seed), plan.program)
    assert_same_results(run(plan, dataset), run(plan, dataset, backend="vector"))


def test_numbers_too_large_for_int64_are_kept_exactly_never_wrapped(compile_policy):
    """Beyond int64 a column holds Python integers; beyond what the exact engine allows a number, the
    cell is the exact engine's (which makes it missing: a number too large to keep exactly)."""
    plan = compile_plan(compile_policy(ROUNDING))
    month = plan.program.year.parts("month")[0]
    organisations = [Organisation("SYS1", "one", "system"), Organisation("T1", "t", "trust", "SYS1"),
                     Organisation("T2", "t", "trust", "SYS1"), Organisation("T3", "t", "trust", "SYS1")]
    big = Fraction(3 * 10**18, 7)  # fits in int64, but dividing it by thirds does not
    huge = Fraction(10**460)  # about 1,530 bits: a product of two passes the exact engine's 3,000
    values = {("x", "T1", month): big, ("y", "T1", month): Fraction(1, 3),
              ("x", "T2", month): Fraction(5), ("y", "T2", month): Fraction(7),
              ("x", "T3", month): huge, ("y", "T3", month): Fraction(1, huge)}
    dataset = make_dataset(organisations, values, {}, "big")
    vector = run(plan, dataset, backend="vector")
    share = vector.run.column("share", month)
    assert share.num.dtype == object  # Python integers, not int64 wrapped round
    assert vector.get("share", "T1", month) == big * 3 and vector.get("share", "T2", month) == Fraction(5, 7)
    assert share.defer is not None and share.defer[vector.run.index["T3"]]  # left to the exact engine
    assert vector.get("biggest", "T1", month) == big
    assert isinstance(vector.get("share", "T3", month), Missing)
    assert_same_results(run(plan, dataset), vector)


# ---- scenarios and explanations over the vector backend ----

def test_a_scenario_on_the_vector_backend_equals_the_exact_engine(plans):
    plan = plans["2021_22"]
    dataset = load_data(EXAMPLES / "erf_worked_example.json", plan.program)
    scenario = scenario_from_sets(["erf_actual = erf_actual * 103%", "erf_rate_above_upper = 150%",
                                   "erf_thresholds in 2021-05 = 70%"], plan, dataset)
    exact = run(plan, dataset, scenario, baseline=run(plan, dataset))
    base = run(plan, dataset, backend="vector")
    vector = run(plan, dataset, scenario, baseline=base, backend="vector")
    assert vector.run.baseline is base.run  # unchanged names are read from the baseline's columns
    assert_same_results(exact, vector)
    may = parse_period("2021-05")
    assert vector.get("erf_additional_funding", "EXAMPLE2", may) != base.get("erf_additional_funding", "EXAMPLE2", may)


def test_an_explanation_of_a_vector_run_is_the_exact_engines(plans):
    plan = plans["2021_22"]
    dataset = load_data(EXAMPLES / "erf_worked_example.json", plan.program)
    may = parse_period("2021-05")
    trees = [explanation_json(explain(run(plan, dataset, backend=b), "erf_additional_funding", "EXAMPLE2", may))
             for b in ("exact", "vector")]
    assert trees[0] == trees[1]


def test_a_period_outside_the_data_is_missing_in_both(plans):
    plan = plans["2021_22"]
    dataset = load_data(EXAMPLES / "erf_worked_example.json", plan.program)
    october = Period("month", 2021, 10)
    found = [run(plan, dataset, backend=b).get("erf_additional_funding", "EXAMPLE2", october) for b in ("exact", "vector")]
    assert all(isinstance(x, Missing) for x in found) and found[0].describe() == found[1].describe()


# ---- many steps at once ----

def _steps_agree(plan, dataset, batched, exact_runs):
    checked = 0
    for k, exact in enumerate(exact_runs):
        for name, cells in exact.scope.items():
            if not isinstance(plan.declarations[name], (s.DefineDecl, s.FlagDecl)):
                continue
            for entity, period in cells:
                x, y = exact.get(name, entity, period), batched.value_at(k, name, entity, period)
                if isinstance(x, Missing):
                    assert isinstance(y, Missing) and x.describe() == y.describe(), (k, name, entity, period)
                else:
                    assert type(x) is type(y) and x == y, (k, name, entity, str(period), x, y)
                checked += 1
    return checked


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rates=st.lists(st.integers(0, 300), min_size=1, max_size=6), seed=st.integers(0, 2**32))
def test_many_steps_at_once_equal_each_step_alone(plans, organisations, rates, seed):
    """A grid of settings worked out as one run over a steps' axis gives each step's exact figures."""
    plan = plans["2021_22"]
    dataset = random_dataset(plan, organisations["2021_22"], seed)
    steps = [scenario_from_sets([f"erf_rate_above_upper = {r}%", f"erf_actual = erf_actual * {100 + r}%",
                                 "erf_thresholds in 2021-05 = 70%"], plan, dataset) for r in rates]
    from planlang.run.vector import VectorRun

    base = VectorRun(plan, dataset)
    batched = VectorRun(plan, dataset, baseline=base, steps=steps)
    exact_base = run(plan, dataset)
    exact_runs = [run(plan, dataset, step, baseline=exact_base) for step in steps]
    assert _steps_agree(plan, dataset, batched, exact_runs) > 0
    if len(set(rates)) > 1:  # the steps were worked out along an axis, not one by one
        assert any(c.kind != "scalar" and c.num.ndim == 2 for c in batched._columns.values())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), draws=st.integers(1, 5))
def test_factored_steps_at_once_equal_each_factored_dataset(plans, organisations, seed, draws):
    """Uncertainty draws (a factor per cell) worked out together give each draw's exact figures."""
    from planlang.run.columns import with_factors
    from planlang.run.vector import VectorRun

    plan = plans["2021_22"]
    dataset = random_dataset(plan, organisations["2021_22"], seed)
    rng = random.Random(seed)
    cells = [(e, p) for (name, e, p) in dataset.values if name == "erf_actual"]
    factors = [{"erf_actual": {cell: Fraction(rng.randrange(9500, 10500), 10000) for cell in cells if rng.random() < 0.9}}
               for _ in range(draws)]
    batched = VectorRun(plan, dataset, factors=factors)
    exact_runs = [run(plan, with_factors(dataset, f)) for f in factors]
    assert _steps_agree(plan, dataset, batched, exact_runs) > 0
    # with a scenario over the draws: its settings read each draw's own data
    scenario = scenario_from_sets(["erf_rate_above_upper = 150%"], plan, dataset)
    over = VectorRun(plan, dataset, scenario, baseline=batched)
    exact_over = [run(plan, with_factors(dataset, f), scenario) for f in factors]
    assert _steps_agree(plan, dataset, over, exact_over) > 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), rates=st.lists(st.integers(0, 200), min_size=1, max_size=5),
       chunk=st.sampled_from([1, 7, 1 << 21]))
def test_the_vector_bulk_backend_gives_the_exact_totals_and_cells(plans, organisations, seed, rates, chunk):
    from planlang.run.bulk import Step, step_results
    from planlang.run.vector.steps import vector_steps

    plan = plans["2021_22"]
    dataset = random_dataset(plan, organisations["2021_22"], seed)
    rng = random.Random(seed)
    cells = [(e, p) for (name, e, p) in dataset.values if name == "erf_actual"]
    steps = [Step(scenario_from_sets([f"erf_rate_above_upper = {r}%"], plan, dataset)) for r in rates]
    steps += [Step(factors={"erf_actual": {c: Fraction(rng.randrange(95, 106), 100) for c in cells}}) for _ in rates]
    outputs = ["erf_additional_funding", "erf_lower_threshold", "erf_counting_coding_permitted"]
    exact = list(step_results(plan, dataset, steps, outputs, "exact"))
    vector = list(vector_steps(plan, dataset, steps, outputs, chunk_cells=chunk))
    for a, b in zip(exact, vector, strict=True):
        for name in outputs:
            assert a.total(name) == b.total(name)
            assert [(key, v.describe() if isinstance(v, Missing) else v) for key, v in a.cells(name)] == \
                [(key, v.describe() if isinstance(v, Missing) else v) for key, v in b.cells(name)]


def test_steps_that_change_what_has_no_vector_form_are_worked_out_step_by_step(plans):
    """A date the steps set reaches a comparison of dates and a deadline (lifted to the exact engine):
    each step gets its own values, not the baseline's."""
    from planlang.run.vector import VectorRun

    plan = plans["2020_21"]
    dataset = load_data(EXAMPLES / "2020_21.xlsx", plan.program)
    # organisations whose panel date the data give (so the baseline's own values are not missing)
    dated = sorted({code for (name, code, _) in dataset.values if name == "arbitration_panel_date"})
    trust = dated[0]
    steps = [scenario_from_sets([f"arbitration_panel_date for {trust} = {day}"], plan, dataset)
             for day in ("2020-04-20", "2020-05-20", "2020-03-01")]
    batched = VectorRun(plan, dataset, baseline=VectorRun(plan, dataset), steps=steps)
    year = plan.program.year
    exact_base = run(plan, dataset)
    seen = set()
    for k, step in enumerate(steps):
        exact = run(plan, dataset, step, baseline=exact_base)
        for name in ("arbitration_panel_outside_window", "arbitration_findings_issued"):
            x, y = exact.get(name, trust, year), batched.value_at(k, name, trust, year)
            assert type(x) is type(y) and x == y, (k, name, x, y)
            seen.add((name, y))
    assert len(seen) > 3  # the steps did differ
    flags = batched.column("arbitration_panel_outside_window", year)
    assert flags.defer is None and flags.missing is None  # from the columns, not asked of the exact engine
