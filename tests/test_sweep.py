"""`planlang sweep`: grids of scenarios, draws of uncertain inputs, long-form output, and every bad input.

The reference for every figure is the run a step stands for: a step of
``--vary 'NAME [in PERIOD] = A to B step S'`` must give exactly what ``run --set 'NAME [in PERIOD] = value'``
gives, summed over every organisation and period; draws must give what the factored data gives.
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planlang.cli.progress import Progress
from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.plan import compile_plan
from planlang.render import json_value, longform
from planlang.run import bulk, run
from planlang.run.bulk import Step, step_results, total_of, with_factors
from planlang.scenario import BASELINE, scenario_from_sets
from planlang.sweep import FACTOR_GRID, draw_factors, parse_varies, percentile, steps
from planlang.values import Missing, decimal_text, format_money

from conftest import ROOT
from conftest import run_cli as cli

WORKED = ROOT / "examples" / "erf_worked_example.json"
ERF = ROOT / "policies" / "2021_22"
FRF = ROOT / "policies" / "2020_21"
FRF_DATA = ROOT / "examples" / "2020_21.xlsx"
FUNDING = "erf_additional_funding"


_SETUPS: dict = {}


def _setup(pack, data):
    """(plan, dataset, baseline results) of a pack on its data, made once per module."""
    if pack not in _SETUPS:
        program = compile_pack(pack)
        plan = compile_plan(program)
        dataset = load_data(data, program)
        _SETUPS[pack] = plan, dataset, run(plan, dataset)
    return _SETUPS[pack]


@pytest.fixture
def erf():
    return _setup(ERF, WORKED)


def sweep_json(capsys, *argv, pack=ERF, data=WORKED) -> dict:
    code, out, err = cli(capsys, "sweep", pack, "--data", data, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def run_total(capsys, output: str, *sets: str, pack=ERF, data=WORKED):
    """What `run --set ...` works out for ``output``, summed exactly over every organisation and period and written as
    `run --json` writes a figure (None if any cell is missing)."""
    plan, dataset, baseline = _setup(pack, data)
    results = run(plan, dataset, scenario_from_sets(list(sets), plan, dataset), baseline=baseline) if sets else baseline
    values = [results.get(output, *key) for key in results.scope[output]]
    if any(isinstance(v, Missing) for v in values):
        return None
    return json_value(sum(values), plan.declarations[output].type)


# ---- the grid -------------------------------------------------------------------------------------

def test_a_grid_step_totals_what_run_with_the_same_set_totals(capsys):
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 150% step 25%", "--output", FUNDING)
    assert [step["set"] for step in document["steps"]] == [{"erf_rate_above_upper": x} for x in ("1", "1.25", "1.5")]
    for step, rate in zip(document["steps"], ("100%", "125%", "150%")):
        assert step["totals"][FUNDING] == run_total(capsys, FUNDING, f"erf_rate_above_upper = {rate}")
    assert len({step["totals"][FUNDING] for step in document["steps"]}) == 3  # the rate moves the bill


def test_the_frf_taper_rate_swept_on_the_2020_21_workbook(capsys):
    document = sweep_json(capsys, "--vary", "frf_taper_rate = 0% to 100% step 50%", "--output", "frf_earned_year",
                          "frf_pdc_conversion", pack=FRF, data=FRF_DATA)
    assert document["outputs"] == ["frf_earned_year", "frf_pdc_conversion"]
    assert document["units"] == {"frf_earned_year": "money", "frf_pdc_conversion": "money"}
    for step, rate in zip(document["steps"], ("0%", "50%", "100%")):
        for output in document["outputs"]:
            expected = run_total(capsys, output, f"frf_taper_rate = {rate}", pack=FRF, data=FRF_DATA)
            assert step["totals"][output] == expected
    earned = [Fraction(step["totals"]["frf_earned_year"]) for step in document["steps"]]
    assert earned == sorted(earned, reverse=True) and earned[0] > earned[-1]  # a steeper taper earns less


def test_several_varies_make_the_product_grid_the_first_outermost(capsys):
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 120% step 20%",
                          "--vary", "erf_thresholds in 2021-05 = 70% to 80% step 5%", "--output", FUNDING)
    sets = [tuple(step["set"].values()) for step in document["steps"]]
    assert sets == [(rate, threshold) for rate in ("1", "1.2") for threshold in ("0.7", "0.75", "0.8")]
    assert [step["step"] for step in document["steps"]] == list(range(1, 7))
    assert [v["target"] for v in document["vary"]] == ["erf_rate_above_upper", "erf_thresholds in 2021-05"]
    step = document["steps"][4]  # 120%, May at 75%
    assert step["totals"][FUNDING] == run_total(capsys, FUNDING, "erf_rate_above_upper = 120%",
                                                          "erf_thresholds in 2021-05 = 75%")


def test_the_end_of_a_range_is_included_only_when_a_step_lands_on_it(erf):
    plan, data, _ = erf
    (exact,), _ = parse_varies(["erf_rate_above_upper = 100% to 110% step 5%"], plan, data)
    (short,), _ = parse_varies(["erf_rate_above_upper = 0% to 10% step 3%"], plan, data)
    assert exact.values == (1, Fraction(105, 100), Fraction(11, 10))
    assert short.values == (0, Fraction(3, 100), Fraction(6, 100), Fraction(9, 100))
    (thirds,), _ = parse_varies(["erf_rate_above_upper = 0% to 100% step 33.33333333%"], plan, data)
    assert all(type(x) is Fraction for x in thirds.values) and thirds.values[-1] == 3 * Fraction(3333333333, 10**10)


def test_set_and_scenario_apply_underneath_every_step(capsys):
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", FUNDING,
                          "--set", "erf_thresholds in 2021-05 = 70%")
    assert document["scenario"]["sets"] == ["erf_thresholds in 2021-05 = 70%"]
    for step, rate in zip(document["steps"], ("100%", "120%")):
        assert step["totals"][FUNDING] == run_total(capsys, FUNDING, "erf_thresholds in 2021-05 = 70%",
                                                              f"erf_rate_above_upper = {rate}")


def test_a_vary_overrides_a_set_of_the_same_name_as_a_later_set_does(capsys):
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 100% step 1%", "--output", FUNDING,
                          "--set", "erf_rate_above_upper = 150%")
    assert document["steps"][0]["totals"][FUNDING] == run_total(capsys, FUNDING, "erf_rate_above_upper = 150%",
                                                                          "erf_rate_above_upper = 100%")


def test_an_input_varied_for_every_entity_and_for_one(capsys):
    document = sweep_json(capsys, "--vary", "erf_actual in 2021-05 = £20,000,000 to £30,000,000 step £10,000,000",
                          "--vary", "erf_actual for EXAMPLE1 in 2021-06 = £1 to £1 step £1", "--output", FUNDING)
    for step, amount in zip(document["steps"], ("£20,000,000", "£30,000,000")):
        assert step["totals"][FUNDING] == run_total(capsys, FUNDING, f"erf_actual in 2021-05 = {amount}",
                                                              "erf_actual for EXAMPLE1 in 2021-06 = £1")


def test_a_total_over_missing_cells_is_null_with_the_count_and_the_rest_beside_it(capsys, erf):
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 100% step 1%", "--output", FUNDING,
                          "system_outpatient_attendances")
    step = document["steps"][0]
    _, _, baseline = erf
    cells = baseline.scope["system_outpatient_attendances"]
    assert all(isinstance(baseline.get("system_outpatient_attendances", *c), Missing) for c in cells)
    assert step["totals"]["system_outpatient_attendances"] is None
    assert step["missing"] == {"system_outpatient_attendances": {"cells": len(cells), "of": len(cells), "present_total": None}}
    code, text, _ = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 100% step 1%",
                        "--output", "system_outpatient_attendances")
    assert code == 0 and f"missing ({len(cells)} of {len(cells)} cells)" in text


def test_total_of_never_counts_a_missing_cell_as_zero():
    assert total_of([Fraction(1), Missing.because("x"), Fraction(2)]) == bulk.Total(None, Fraction(3), 1, 3)
    assert total_of([Missing.because("x")]) == bulk.Total(None, None, 1, 1)
    assert total_of([]) == bulk.Total(Fraction(0), Fraction(0), 0, 0)


def test_the_text_table_has_a_row_per_step(capsys):
    code, out, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 150% step 25%",
                         "--output", FUNDING)
    assert code == 0 and err == ""
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 150% step 25%", "--output", FUNDING)
    assert [r[1] for r in rows] == ["100%", "125%", "150%"]
    assert [r[2] for r in rows] == [format_money(Fraction(s["totals"][FUNDING])) for s in document["steps"]]


# ---- a step is exactly a `--set` (property) ----------------------------------------------------------

_RATES = st.integers(0, 30_000).map(lambda k: Fraction(k, 10_000))  # 0% to 300% by 0.01 percentage point
_TARGETS = st.sampled_from(["erf_rate_above_upper", "erf_rate_between_thresholds", "erf_thresholds in 2021-05",
                            "erf_funded_activity_pct", "erf_thresholds in 2021-04 to 2021-06"])


@settings(max_examples=25, deadline=None)
@given(target=_TARGETS, first=_RATES, width=st.integers(0, 3), stride=st.integers(1, 2_000))
def test_every_step_of_a_sweep_is_the_run_with_the_same_set(target, first, width, stride):
    plan, data, baseline = _setup(ERF, WORKED)
    step = Fraction(stride, 10_000)
    last = first + width * step
    text = f"{target} = {_percent(first)} to {_percent(last)} step {_percent(step)}"
    varies, sources = parse_varies([text], plan, data)
    results = list(step_results(plan, data, (s for _, s in steps(BASELINE, varies, [], sources, 1, 0)), [FUNDING]))
    assert len(results) == width + 1
    for k, result in enumerate(results):
        scenario = scenario_from_sets([f"{target} = {_percent(first + k * step)}"], plan, data)
        expected = run(plan, data, scenario, baseline=baseline)
        assert result.cells(FUNDING) == [(key, expected.get(FUNDING, *key)) for key in expected.scope[FUNDING]]
        assert result.total(FUNDING) == total_of(expected.get(FUNDING, *key) for key in expected.scope[FUNDING])


def _percent(x: Fraction) -> str:
    return f"{decimal_text(x * 100, 2)}%"


@settings(max_examples=15, deadline=None)
@given(rate=st.integers(0, 200).map(lambda k: Fraction(k, 100)))
def test_a_frf_step_is_the_run_with_the_same_set(rate):
    plan, data, baseline = _setup(FRF, FRF_DATA)
    text = f"frf_taper_rate = {rate * 100}% to {rate * 100}% step 1%"
    varies, sources = parse_varies([text], plan, data)
    (result,) = step_results(plan, data, [s for _, s in steps(BASELINE, varies, [], sources, 1, 0)], ["frf_earned_year"])
    expected = run(plan, data, scenario_from_sets([f"frf_taper_rate = {rate * 100}%"], plan, data), baseline=baseline)
    assert result.cells("frf_earned_year") == [(k, expected.get("frf_earned_year", *k)) for k in expected.scope["frf_earned_year"]]


# ---- uncertainty ----------------------------------------------------------------------------------

DRAW = "erf_actual = erf_actual * uniform(95%, 105%)"
RANGE = "erf_rate_above_upper = 100% to 200% step 100%"


def test_draws_are_reproducible_from_the_seed_and_differ_between_seeds(capsys):
    first = sweep_json(capsys, "--vary", DRAW, "--draws", "20", "--seed", "7", "--output", FUNDING)
    again = sweep_json(capsys, "--vary", DRAW, "--draws", "20", "--seed", "7", "--output", FUNDING)
    other = sweep_json(capsys, "--vary", DRAW, "--draws", "20", "--seed", "8", "--output", FUNDING)
    assert first == again
    assert first["steps"][0]["totals"] != other["steps"][0]["totals"]
    assert first["draws"]["count"] == 20 and first["draws"]["seed"] == 7


def test_each_cell_gets_its_own_factor_on_the_stated_grid_within_the_bounds(erf):
    plan, data, _ = erf
    (vary,), _ = parse_varies([DRAW], plan, data)
    assert len(vary.cells) == sum(1 for (name, *_rest) in data.values if name == "erf_actual")
    factors = draw_factors([vary], 3, 0)["erf_actual"]
    assert set(factors) == set(vary.cells)
    assert len(set(factors.values())) == len(factors)  # independent per cell, not one factor per draw
    for factor in factors.values():
        assert type(factor) is Fraction and (factor / FACTOR_GRID).denominator == 1
        assert Fraction(95, 100) <= factor <= Fraction(105, 100)
    assert draw_factors([vary], 3, 0) == draw_factors([vary], 3, 0) != draw_factors([vary], 3, 1)


def test_the_spread_is_the_exact_mean_and_percentiles_of_the_factored_runs(capsys, erf):
    plan, data, _ = erf
    (vary,), _ = parse_varies([DRAW], plan, data)
    document = sweep_json(capsys, "--vary", DRAW, "--draws", "9", "--seed", "11", "--output", FUNDING)
    totals = []
    for d in range(9):
        results = run(plan, with_factors(data, draw_factors([vary], 11, d)))
        totals.append(sum(results.get(FUNDING, *key) for key in results.scope[FUNDING]))
    spread = document["steps"][0]["totals"][FUNDING]
    assert spread["mean"] == json_value(sum(totals) / 9, "money")
    floats = np.percentile([float(t) for t in totals], [5, 50, 95])
    for label, approximate in zip(("p5", "p50", "p95"), floats):
        assert abs(Fraction(spread[label]) - Fraction(approximate)) < Fraction(1, 100)
    assert spread["p50"] == json_value(sorted(totals)[4], "money")


def test_normal_and_triangular_draws_and_a_grid_of_draws(capsys):
    for text in ("erf_actual = erf_actual * normal(100%, 2%)", "erf_actual in 2021-05 = erf_actual * triangular(90%, 100%, 110%)"):
        document = sweep_json(capsys, "--vary", text, "--vary", "erf_rate_above_upper = 100% to 120% step 20%",
                              "--draws", "5", "--output", FUNDING)
        assert [s["set"] for s in document["steps"]] == [{"erf_rate_above_upper": "1"}, {"erf_rate_above_upper": "1.2"}]
        low, high = (document["steps"][k]["totals"][FUNDING] for k in (0, 1))
        assert Fraction(low["p5"]) <= Fraction(low["p50"]) <= Fraction(low["p95"])
        assert Fraction(high["mean"]) > Fraction(low["mean"])  # the same draws, a higher rate above the upper threshold


@given(values=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=40), p=st.integers(0, 100))
def test_percentiles_are_numpys_linear_method_exactly(values, p):
    ordered = sorted(Fraction(v, 7) for v in values)
    exact = percentile(ordered, Fraction(p))
    assert min(ordered) <= exact <= max(ordered)
    assert abs(float(exact) - np.percentile([float(v) for v in ordered], p)) <= 1e-6 * max(1, abs(float(exact)))


# ---- long form --------------------------------------------------------------------------------------

def test_out_csv_holds_every_step_output_entity_and_period(capsys, tmp_path, erf):
    target = tmp_path / "steps.csv"
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", FUNDING,
                          "system_outpatient_attendances", "--out", target)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    _, _, baseline = erf
    cells = {name: len(baseline.scope[name]) for name in (FUNDING, "system_outpatient_attendances")}
    assert len(rows) == 2 * sum(cells.values())
    assert list(rows[0]) == ["step", "erf_rate_above_upper", "output", "entity", "period", "value", "unit", "missing_because"]
    plan, data, _ = erf
    for step, rate in zip(document["steps"], ("100%", "120%")):
        expected = run(plan, data, scenario_from_sets([f"erf_rate_above_upper = {rate}"], plan, data), baseline=baseline)
        mine = [r for r in rows if r["step"] == str(step["step"]) and r["output"] == FUNDING]
        assert [(r["entity"], r["period"], r["value"]) for r in mine] == \
            [(e, str(p), json_value(expected.get(FUNDING, e, p), "money")) for e, p in expected.scope[FUNDING]]
        assert {r["erf_rate_above_upper"] for r in mine} == {step["set"]["erf_rate_above_upper"]}
    missing = [r for r in rows if r["output"] == "system_outpatient_attendances"]
    assert all(r["value"] == "" and r["missing_because"] for r in missing)


def test_out_parquet_is_streamed_in_chunks_and_matches_the_csv(capsys, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(longform, "CHUNK_ROWS", 7)  # many chunks: the rows must come out whole and in order
    argv = ["--vary", DRAW, "--draws", "4", "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", FUNDING]
    sweep_json(capsys, *argv, "--out", tmp_path / "a.parquet")
    sweep_json(capsys, *argv, "--out", tmp_path / "a.csv")
    table = pq.read_table(tmp_path / "a.parquet")
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups > 1
    assert str(table.schema.field("step").type) == "int64" and str(table.schema.field("value").type) == "string"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text(encoding="utf-8"))))
    assert [{k: "" if v is None else str(v) for k, v in row.items()} for row in table.to_pylist()] == rows
    assert {(r["step"], r["draw"]) for r in rows} == {(str(s), str(d)) for s in (1, 2) for d in range(1, 5)}


def test_a_failed_sweep_leaves_no_file_behind(capsys, tmp_path):
    target = tmp_path / "steps.csv"
    code, _, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_abve_upper = 100% to 200% step 100%",
                       "--output", FUNDING, "--out", target)
    assert code == 2 and not target.exists() and list(tmp_path.iterdir()) == []
    code, _, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", RANGE,
                       "--output", FUNDING, "--out", tmp_path / "nowhere" / "steps.csv")
    assert code == 2 and "cannot be written" in err


# ---- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("vary, message, underlined", [
    ("erf_rate_abve_upper = 100% to 150% step 5%", "unknown name `erf_rate_abve_upper`", "erf_rate_abve_upper"),
    ("erf_rate_above_upper = 100% to 150% step 0.00%", "the step of a range is above zero", "0.00%"),
    ("erf_rate_above_upper = 100% to 150% step -5%", "the step of a range is above zero", "-5%"),
    ("erf_rate_above_upper = 150% to 100% step 5%", "a range runs from the lower value to the higher", "150% to 100%"),
    ("erf_rate_above_upper = 0% to 1000% step 0.0001%", "10,000,001 steps, more than the 1,000,000", "0% to 1000% step 0.0001%"),
    ("erf_rate_above_upper = 100% to 150%", "expected `NAME [in PERIOD] = A to B step S`", "100% to 150%"),
    ("erf_rate_above_upper 100% to 150% step 5%", "expected `=`", None),
    ("erf_rate_above_upper = 100% to\n150% step 5%", "a --vary is written on one line", None),
    ("erf_rate_above_upper = £1 to £2 step £1", "is money (£), but a percentage is declared", "£1"),
    ("erf_rate_above_upper = erf_funded_activity_pct to 150% step 5%", "a range runs between fixed values", "erf_funded_activity_pct"),
    ("erf_lower_threshold = £1 to £2 step £1", "a sweep varies inputs and parameters; `erf_lower_threshold` is a definition",
     "erf_lower_threshold"),
    ("erf_counting_coding_category = 1 to 2 step 1", "a sweep varies amounts, percentages and counts; "
     "`erf_counting_coding_category` is text", "erf_counting_coding_category"),
    ("erf_many_flags = 1 to 2 step 1", "unknown name", "erf_many_flags"),
    ("erf_thresholds in 2022-05 = 70% to 80% step 5%", "outside the policy year", None),
    ("erf_actual = erf_actual * unifrm(95%, 105%)", "unknown distribution `unifrm`", "unifrm"),
    ("erf_actual = erf_actual * uniform(105%, 95%)", "the low end is above the high end", "105%, 95%"),
    ("erf_actual = erf_actual * uniform(95%)", "uniform takes 2 values, LOW, HIGH; found 1", "95%"),
    ("erf_actual = erf_actual * normal(100%, £1)", "a factor is a percentage or a number", "£1"),
    ("erf_actual = erf_baseline * uniform(95%, 105%)", "a draw multiplies the value of `erf_actual` itself", "erf_baseline"),
    ("erf_rate_above_upper = erf_rate_above_upper * uniform(95%, 105%)", "draws multiply an input's values", None),
])
def test_a_bad_vary_is_a_placed_error_with_its_text_underlined(capsys, vary, message, underlined):
    extra = ["--draws", "2"] if "(" in vary else []
    code, out, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", vary, "--output", FUNDING, *extra)
    assert code == 2 and out == ""
    assert err.startswith("--vary:1:") and message in err, err
    if underlined is not None:
        source, marks = [line for line in err.splitlines() if line.startswith(("   1 |", "     "))][:2]
        start = source.index(vary) + vary.index(underlined)
        assert marks[start:].rstrip() == "^" * len(underlined), err


def test_a_misspelt_name_gets_a_suggestion(capsys):
    code, _, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_abve_upper = 100% to 200% step 100%", "--output", FUNDING)
    assert code == 2 and "did you mean `erf_rate_above_upper`?" in err
    code, _, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", RANGE,
                       "--output", "erf_additonal_funding")
    assert code == 64 and "did you mean `erf_additional_funding`?" in err


def test_every_bad_vary_is_reported_together(capsys):
    code, _, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_abve_upper = 100% to 200% step 100%",
                       "--vary", "erf_thresholds in 2021-05 = 70% to 80% step 0%", "--output", FUNDING)
    assert code == 2 and "--vary#1:1:1:" in err and "--vary#2:1:" in err and "2 errors" in err


@pytest.mark.parametrize("argv, code, message", [
    (["--vary", DRAW, "--output", FUNDING], 64, "needs --draws N"),
    (["--vary", RANGE, "--draws", "3", "--output", FUNDING], 64, "--draws samples inputs"),
    (["--vary", RANGE, "--output", "erf_threshold_pct"], 64, "`erf_threshold_pct` is percent"),
    (["--vary", RANGE, "--output", FUNDING, "--out", "x.ods"], 64, "give a file ending .parquet, .csv or .xlsx"),
    (["--vary", RANGE, "--output", FUNDING, "--backend", "fast"], 64, "invalid choice: 'fast'"),
    (["--vary", RANGE, "--output", FUNDING, "--workers", "2", "--scheduler", "tcp://x:1"], 64,
     "not allowed with argument"),
    (["--vary", RANGE, "--output", FUNDING, "--workers", "0"], 64, "from 1 to 256"),
    (["--vary", DRAW, "--draws", "0", "--output", FUNDING], 64, "expected a whole number of draws"),
    (["--vary", DRAW, "--draws", "600000", "--vary", RANGE, "--output", FUNDING], 2,
     "the sweep has 1,200,000 steps, more than the 1,000,000"),
    (["--vary", DRAW, "--draws", "2", "--set", "erf_actual = erf_actual * 2", "--output", FUNDING], 2,
     "the scenario sets `erf_actual` in every cell it draws"),
    (["--vary", DRAW, "--vary", "erf_actual = £1 to £2 step £1", "--draws", "2", "--output", FUNDING], 2,
     "a range sets `erf_actual` in every cell it draws"),
    (["--vary", "erf_actual = £1 to £2 step £1", "--vary", "erf_actual = £3 to £4 step £1", "--output", FUNDING], 2,
     "`erf_actual` is varied twice"),
])
def test_bad_options(capsys, argv, code, message):
    got, out, err = cli(capsys, "sweep", ERF, "--data", WORKED, *argv)
    assert (got, out) == (code, "") and message in err, err


def test_the_backend_option_offers_the_backends_of_bulk(capsys, monkeypatch):
    calls = []

    def spy(plan, dataset, steps_, outputs):
        calls.append(outputs)
        return bulk.BACKENDS["exact"](plan, dataset, steps_, outputs)

    monkeypatch.setitem(bulk.BACKENDS, "spy", spy)
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", FUNDING,
                          "--backend", "spy")
    reference = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", FUNDING)
    assert calls == [[FUNDING]] and document == reference


def test_step_results_refuses_an_unknown_backend(erf):
    plan, data, _ = erf
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        step_results(plan, data, [Step()], [FUNDING], backend="nope")


# ---- progress -----------------------------------------------------------------------------------------

def test_the_progress_bar_is_silent_when_standard_error_is_not_a_terminal(capsys):
    code, _, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 150% step 1%",
                       "--output", FUNDING)
    assert code == 0 and err == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_draws_on_a_terminal_and_clears_its_line():
    terminal = _Terminal()
    with Progress(3, "steps", terminal) as bar:
        for _ in range(3):
            bar.advance()
    text = terminal.getvalue()
    assert "3/3 steps" in text and "100%" in text and text.startswith("\r") and text.endswith("\r\x1b[K")
    quiet = io.StringIO()
    with Progress(3, "steps", quiet) as bar:
        bar.advance(3)
    assert quiet.getvalue() == ""


def test_a_scenario_file_applies_underneath_as_its_sets_would(capsys):
    may_at_70 = ROOT / "examples" / "scenarios" / "2021_22" / "erf.plan"
    document = sweep_json(capsys, "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", FUNDING,
                          "--scenario", f"{may_at_70}:may_at_70")
    assert document["scenario"]["name"] == "may_at_70"
    for step, rate in zip(document["steps"], ("100%", "120%")):
        sets = [text.removeprefix("set ") for text in document["scenario"]["sets"]]
        assert sets == ["erf_thresholds in 2021-05 = 70%"]
        assert step["totals"][FUNDING] == run_total(capsys, FUNDING, *sets, f"erf_rate_above_upper = {rate}")


def test_a_partly_missing_total_shows_what_the_rest_add_up_to():
    from planlang.render.sweep import sweep_json as document_of
    from planlang.render.sweep import sweep_text
    from planlang.sweep import Summary

    partial = total_of([Fraction(1000), Missing.because("no data"), Fraction(500)])
    summaries = [Summary(1, (), {"x": partial})]
    assert "missing (1 of 3 cells; £1,500.00 from the rest)" in sweep_text("t", [], [], ["x"], {"x": "money"}, summaries)
    step = document_of([], [], ["x"], {"x": "money"}, summaries)["steps"][0]
    assert step["totals"] == {"x": None}
    assert step["missing"] == {"x": {"cells": 1, "of": 3, "present_total": "1500.00"}}


def test_a_long_hostile_vary_is_refused_at_once(erf):
    import time

    from planlang.scenario import ScenarioError

    plan, data, _ = erf
    for text in ("erf_rate_above_upper = " + "a to " * 20_000 + " step", "erf_rate_above_upper = " + "to " * 30_000 + "step 1%"):
        start = time.perf_counter()
        with pytest.raises(ScenarioError):
            parse_varies([text], plan, data)
        assert time.perf_counter() - start < 5  # a pattern of three lazy parts took 34 s on the first
