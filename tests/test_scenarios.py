"""What-if scenarios: settings layered over a run, compare, explain --compare, and every scenario error.

The published ERF worked example (002_0a239ee164b5232a.txt §3) is the fixed point: under "May at
70%" the rule gives EXAMPLE2 in May a lower threshold of £30,000,000 × 70% × 19/21 − £500,000 =
£18,500,000, an upper threshold of £22,571,428.57 (unchanged) and so funding of
£4,071,428.57 × 100% + £3,428,571.43 × 120% = £8,185,714.29.
"""

from __future__ import annotations

import json
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planlang import syntax as s
from planlang.cli import main
from planlang.compare import compare
from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.periods import parse_period
from planlang.plan import compile_plan
from planlang.run import run
from planlang.scenario import read_scenarios, scenario_from_sets
from planlang.values import money_text

ROOT = Path(__file__).resolve().parent.parent
WORKED = ROOT / "examples" / "erf_worked_example.json"
SCENARIOS = ROOT / "examples" / "scenarios"
GOLDEN = ROOT / "tests" / "golden" / "scenarios"
MAY = parse_period("2021-05")


@pytest.fixture(scope="module")
def worked():
    program = compile_pack(ROOT / "policies" / "2021_22")
    plan = compile_plan(program)
    data = load_data(WORKED, program)
    return plan, data, run(plan, data)


@pytest.fixture(scope="module", params=["2019_20", "2020_21", "2021_22"])
def year(request):
    program = compile_pack(ROOT / "policies" / request.param)
    plan = compile_plan(program)
    data = load_data(ROOT / "examples" / f"{request.param}.xlsx", program)
    return plan, data, run(plan, data)


def test_may_at_70_gives_the_hand_reckoning(worked):
    plan, data, baseline = worked
    scenario = read_scenarios(SCENARIOS / "2021_22" / "erf.plan", plan, data)["may_at_70"]
    results = run(plan, data, scenario, baseline=baseline)
    assert results.get("erf_lower_threshold", "EXAMPLE2", MAY) == Fraction(18_500_000)
    assert money_text(results.get("erf_upper_threshold", "EXAMPLE2", MAY)) == "22571428.57"
    assert money_text(results.get("erf_additional_funding", "EXAMPLE2", MAY)) == "8185714.29"
    assert money_text(baseline.get("erf_additional_funding", "EXAMPLE2", MAY)) == "6828571.43"  # the baseline is untouched


def test_a_setting_in_one_period_leaves_the_others(worked):
    plan, data, baseline = worked
    results = run(plan, data, scenario_from_sets(["erf_thresholds in 2021-05 = 70%"], plan, data), baseline=baseline)
    june = parse_period("2021-06")
    assert results.get("erf_additional_funding", "EXAMPLE2", june) == baseline.get("erf_additional_funding", "EXAMPLE2", june)


def test_a_setting_reads_baseline_values_even_of_its_own_target(worked):
    plan, data, baseline = worked
    results = run(plan, data, scenario_from_sets(["erf_actual = erf_actual * 103%"], plan, data), baseline=baseline)
    assert results.get("erf_actual", "EXAMPLE2", MAY) == baseline.get("erf_actual", "EXAMPLE2", MAY) * Fraction(103, 100)


def test_a_setting_for_one_entity(worked):
    plan, data, baseline = worked
    results = run(plan, data, scenario_from_sets(["erf_actual for EXAMPLE1 in 2021-05 = £0"], plan, data), baseline=baseline)
    assert results.get("erf_actual", "EXAMPLE1", MAY) == 0
    assert results.get("erf_actual", "EXAMPLE2", MAY) == baseline.get("erf_actual", "EXAMPLE2", MAY)


def test_replace_is_a_new_formula_reading_the_scenario(worked):
    plan, data, baseline = worked
    scenario = scenario_from_sets(["erf_actual in 2021-05 = £0"], plan, data)
    formula = read_scenarios_text(plan, data, "scenario r\n  set erf_actual in 2021-05 = £0\n"
                                  "  replace erf_additional_funding = erf_actual + £1\n")["r"]
    results = run(plan, data, formula, baseline=baseline)
    assert results.get("erf_additional_funding", "EXAMPLE2", MAY) == 1  # £0 set by the scenario, plus £1
    assert run(plan, data, scenario).get("erf_additional_funding", "EXAMPLE2", MAY) == 0
    assert scenario.settings[0].text == "erf_actual in 2021-05 = £0"


def read_scenarios_text(plan, data, text, tmp=None):
    path = Path(tmp or tempfile.gettempdir()) / f"planlang-scenario-{os.getpid()}.plan"
    path.write_text(text, encoding="utf-8")
    try:
        return read_scenarios(path, plan, data)
    finally:
        path.unlink()


def test_only_what_lies_downstream_is_worked_out_again(worked):
    plan, data, baseline = worked
    results = run(plan, data, scenario_from_sets(["erf_rate_above_upper = 150%"], plan, data), baseline=baseline)
    assert "erf_lower_threshold" not in results.run.changed
    assert "erf_additional_funding" in results.run.changed
    # the funding was worked out again; the thresholds it read are the baseline's own values, not recomputed
    assert not any(key[0] == "erf_lower_threshold" for key in results.run.memo)
    assert results.get("erf_lower_threshold", "EXAMPLE2", MAY) is baseline.run.memo[("erf_lower_threshold", "EXAMPLE2", MAY)]
    funding = [key for key in results.run.memo if key[0] == "erf_additional_funding"]
    assert funding and any(results.run.memo[key] != baseline.run.memo[key] for key in funding)


def _settable(plan):
    return sorted(name for name, decl in plan.declarations.items()
                  if isinstance(decl, (s.InputDecl, s.ParameterDecl, s.DefineDecl)) and getattr(decl, "type", None) != "text")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_setting_a_name_to_its_own_baseline_changes_nothing(year, data):
    plan, dataset, baseline = year
    name = data.draw(st.sampled_from(_settable(plan)))
    results = run(plan, dataset, scenario_from_sets([f"{name} = {name}"], plan, dataset), baseline=baseline)
    comparison = compare(baseline, results)
    assert comparison.differences == () and comparison.flags_raised == () and comparison.flags_cleared == ()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_compare_lists_exactly_the_cells_that_differ_and_totals_their_sums(year, data):
    plan, dataset, baseline = year
    names = [n for n in _settable(plan) if plan.declarations[n].type in ("money", "percent", "count")]
    name = data.draw(st.sampled_from(names))
    factor = data.draw(st.sampled_from(["50%", "97%", "103%", "200%", "0%"]))
    scenario = scenario_from_sets([f"{name} = {name} * {factor}"], plan, dataset)
    shared = run(plan, dataset, scenario, baseline=baseline)
    alone = run(plan, dataset, scenario)  # its own baseline: nothing shared with `baseline`
    comparison = compare(baseline, shared)
    listed = {(d.name, d.entity, d.period) for d in comparison.differences}
    differ = set()
    for key, value in baseline.values().items():
        if isinstance(plan.declarations[key[0]], s.DefineDecl) and repr(value) != repr(alone.get(*key)):
            differ.add(key)
    assert listed == differ
    for total in comparison.totals:
        cells = [d for d in comparison.differences if d.name == total.name and d.period is not None
                 and (d.period == total.period or (total.period.kind == "year" and total.period.contains(d.period)
                                                   and d.period.kind != "year"))]
        if isinstance(total.difference, Fraction) and all(isinstance(d.difference, Fraction) for d in cells):
            assert total.difference == sum((d.difference for d in cells), Fraction(0))


def test_based_on_equals_applying_both(worked):
    plan, data, baseline = worked
    scenarios = read_scenarios(SCENARIOS / "2021_22" / "erf.plan", plan, data)
    stacked = run(plan, data, scenarios["may_at_70_and_activity_up"], baseline=baseline)
    both = run(plan, data, scenario_from_sets(["erf_thresholds in 2021-05 = 70%", "erf_actual = erf_actual * 103%"], plan, data))
    assert stacked.values() == both.values()
    assert scenarios["may_at_70_and_activity_up"].based_on == ("may_at_70", "activity_up_3pct")


def test_frf_taper_at_50_pays_more_and_converts_less(tmp_path):
    program = compile_pack(ROOT / "policies" / "2020_21")
    plan = compile_plan(program)
    data = load_data(ROOT / "examples" / "2020_21.xlsx", program)
    baseline = run(plan, data)
    scenario = read_scenarios(SCENARIOS / "2020_21" / "frf.plan", plan, data)["frf_taper_50"]
    comparison = compare(baseline, run(plan, data, scenario, baseline=baseline), {"frf_earned_year"})
    assert comparison.differences and all(d.difference > 0 for d in comparison.differences)


# ---- the command line ----

def _cli(args, capsys):
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_run_with_set_prints_a_run_and_the_scenario(capsys):
    code, out, err = _cli(["run", ROOT / "policies/2021_22", "--data", WORKED, "--json", "--set",
                           "erf_thresholds in 2021-05 = 70%"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["scenario"] == {"name": "--set", "sets": ["erf_thresholds in 2021-05 = 70%"]}
    assert result["results"]["erf_additional_funding"]["EXAMPLE2"]["2021-05"] == "8185714.29"
    code, baseline, _ = _cli(["run", ROOT / "policies/2021_22", "--data", WORKED, "--json"], capsys)
    assert set(json.loads(baseline)) | {"scenario"} == set(result)
    recorded = result["receipt"]["scenario"]
    assert (recorded["name"], recorded["origin"], recorded["files"], recorded["sets"]) == (
        "--set", None, {}, ["erf_thresholds in 2021-05 = 70%"])


def test_compare_json_has_the_contracted_shape(capsys):
    code, out, err = _cli(["compare", ROOT / "policies/2021_22", "--data", WORKED, "--json", "--scenario",
                           f"{SCENARIOS / '2021_22' / 'erf.plan'}:may_at_70"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert set(result["baseline"]) == {"results", "flags", "missing"}
    (scenario,) = result["scenarios"]
    assert scenario["name"] == "may_at_70" and scenario["sets"] == ["set erf_thresholds in 2021-05 = 70%"]
    assert scenario["differences"]["erf_additional_funding"]["EXAMPLE2"]["2021-05"] == {
        "baseline": "6828571.43", "scenario": "8185714.29", "difference": "1357142.86"}
    assert scenario["totals"]["erf_additional_funding"]["2021-05"]["difference"] == "4071428.57"
    assert "erf_actual" not in scenario["differences"]


def test_explain_compare_names_the_setting_and_the_changed_band(capsys):
    code, out, err = _cli(["explain", ROOT / "policies/2021_22", "--data", WORKED, "--entity", "EXAMPLE1", "--period",
                           "2021-05", "erf_additional_funding", "--compare", "--set", "erf_thresholds in 2021-05 = 70%"], capsys)
    assert code == 0, err
    assert "= £1,500,000.00  (baseline £142,857.14)" in out.splitlines()[0]
    assert "set by the scenario (--set:1:1): erf_thresholds in 2021-05 = 70%, baseline 75%" in out
    assert "(unchanged)" in out


@pytest.mark.parametrize("option", ["erf_thresholds in 2021-05 = ", "nonsense = 1", "erf_thresholds in 2021-05 = £5",
                                    "erf_actual in 2021/22 Q9 = £1", "= 5", "erf_actual for X = £1\x00"])
def test_a_bad_set_is_a_placed_error_exit_2(option, capsys):
    code, out, err = _cli(["run", ROOT / "policies/2021_22", "--data", WORKED, "--set", option], capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err and "internal error" not in err
    assert err.startswith("--set:1:") and "^" in err


def test_run_refuses_several_scenarios(capsys):
    code, _, err = _cli(["run", ROOT / "policies/2021_22", "--data", WORKED, "--scenario", SCENARIOS / "2021_22"], capsys)
    assert code == 2 and "use `planlang compare`" in err


# ---- golden errors ----

CASES = sorted(p.stem for p in GOLDEN.glob("*.plan"))


@pytest.mark.parametrize("case", CASES)
def test_scenario_error_is_the_reviewed_one(case, capsys, monkeypatch, golden):
    monkeypatch.chdir(ROOT)  # relative names in the messages, whatever the clone's folder
    code, out, err = _cli(["run", "policies/2021_22", "--data", "examples/erf_worked_example.json", "--scenario",
                           f"tests/golden/scenarios/{case}.plan"], capsys)
    assert code == 2 and out == ""
    assert "Traceback" not in err
    golden.check(GOLDEN / f"{case}.expected", err)


def test_every_golden_scenario_error_is_placed(capsys, monkeypatch):
    assert len(CASES) >= 12
    for case in CASES:
        text = (GOLDEN / f"{case}.expected").read_text(encoding="utf-8")
        assert text.startswith(f"tests/golden/scenarios/{case}.plan:"), case


# ---- solve ----

def test_solve_finds_the_issue_s_example_to_the_penny(capsys):
    code, out, err = _cli(["solve", ROOT / "policies/2021_22", "--data", WORKED, "--vary", "erf_actual for EXAMPLE2 in 2021-05",
                           "--until", "erf_additional_funding for EXAMPLE2 in 2021-05 = £1,000,000", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out) == {"vary": "erf_actual for EXAMPLE2 in 2021-05",
                               "until": "erf_additional_funding for EXAMPLE2 in 2021-05 = £1,000,000",
                               "value": "20857142.86", "baseline_value": "26000000.00", "achieved": "1000000.00",
                               "reached": True}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.integers(min_value=1, max_value=9_000_000_00), code=st.sampled_from(["EXAMPLE1", "EXAMPLE2", "EXAMPLE3"]))
def test_solve_s_answer_reaches_the_target_and_a_penny_less_does_not(worked, target, code):
    from planlang.scenario import BASELINE
    from planlang.solve import Goal, solve

    plan, data, baseline = worked
    goal = Goal("erf_additional_funding", code, MAY, Fraction(target, 100))
    solution = solve(baseline, BASELINE, "erf_actual", code, (MAY,), "money", goal)
    assert solution.value is not None
    assert solution.achieved >= goal.value > solution.below  # funding rises with activity


def test_solve_says_when_nothing_reaches_the_target(capsys):
    code, out, err = _cli(["solve", ROOT / "policies/2021_22", "--data", WORKED, "--vary", "erf_actual for EXAMPLE2 in 2021-05",
                           "--until", "erf_additional_funding for EXAMPLE2 in 2021-05 = -£5"], capsys)
    assert code == 1 and out.startswith("no value of erf_actual") and "ran from £0.00" in out


def test_solve_flips_a_flag_at_its_boundary(capsys):
    code, out, err = _cli(["solve", ROOT / "policies/2020_21", "--data", ROOT / "examples/2020_21.xlsx", "--vary",
                           "financial_position for TRUST_A2 in 2020/21 Q4", "--until",
                           "flag frf_converted_to_pdc for TRUST_A2 in 2020/21 cleared"], capsys)
    assert code == 0, err
    assert "cleared: false" in out and "one step less gives true" in out


@pytest.mark.parametrize("vary, until", [("nonsense for EXAMPLE2 in 2021-05", "erf_additional_funding for EXAMPLE2 in 2021-05 = £1"),
                                         ("erf_actual", "erf_additional_funding for EXAMPLE2 in 2021-05 = £1"),
                                         ("erf_actual for EXAMPLE2 in 2021-05", "erf_additional_funding = £1"),
                                         ("erf_actual for EXAMPLE2 in 2021-05", "erf_additional_funding for EXAMPLE2 in 2021-05 = 5%"),
                                         ("erf_actual for EXAMPLE2 in 2021-05", "flag nope for EXAMPLE2 in 2021-05 raised")])
def test_solve_refuses_bad_targets_with_exit_2(vary, until, capsys):
    code, out, err = _cli(["solve", ROOT / "policies/2021_22", "--data", WORKED, "--vary", vary, "--until", until], capsys)
    assert code == 2 and "Traceback" not in err and "internal error" not in err, err


# ---- policy tests under a scenario ----

def test_the_shipped_scenario_tests_pass(capsys):
    code, out, err = _cli(["test", ROOT / "policies/2021_22", "--scenario", SCENARIOS / "2021_22" / "erf.plan"], capsys)
    assert code == 0, out + err
    assert out.rstrip().endswith("2 passed, 0 failed")


def test_a_scenario_test_runs_under_its_scenario_and_can_fail(tmp_path, capsys):
    scenario = ("scenario top_150\n  set erf_rate_above_upper = 150%\n\n"
                'test "above the upper threshold pays 150%"\n  under top_150\n  system S1\n  period 2021-05\n'
                "  given erf_baseline = £30,000,000\n  given erf_actual = £26,000,000\n"
                "  given erf_counting_coding_adjustment = £0\n  expect erf_additional_funding = {}\n")
    # lower 30m x 75% x 19/21, upper 30m x 85% x 19/21: 100% between, 150% above
    lower, upper = Fraction(30_000_000) * Fraction(3, 4) * Fraction(19, 21), Fraction(30_000_000) * Fraction(17, 20) * Fraction(19, 21)
    right = (upper - lower) + (Fraction(26_000_000) - upper) * Fraction(3, 2)
    for expected, code_wanted in ((f"£{money_text(right)}", 0), ("£1.00", 1)):
        (tmp_path / "s.plan").write_text(scenario.format(expected), encoding="utf-8")
        code, out, err = _cli(["test", ROOT / "policies/2021_22", "--scenario", tmp_path / "s.plan"], capsys)
        assert code == code_wanted, out + err


def test_a_pack_test_cannot_run_under_a_scenario(tmp_path, capsys):
    pack = tmp_path / "pack"
    pack.mkdir()
    for path in (ROOT / "policies" / "2021_22").glob("*.plan"):
        (pack / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (pack / "extra_tests.plan").write_text('test "t"\n  under x\n  system S1\n  period 2021-05\n'
                                           "  expect erf_rate_above_upper = 120%\n", encoding="utf-8")
    code, out, err = _cli(["check", pack], capsys)
    assert code == 1 and "a test that runs under a scenario is written in the scenario's file" in out


def test_compare_writes_a_workbook_with_baseline_scenario_and_difference_columns(tmp_path, capsys):
    import openpyxl

    target = tmp_path / "compare.xlsx"
    code, out, err = _cli(["compare", ROOT / "policies/2021_22", "--data", WORKED, "--scenario",
                           f"{SCENARIOS / '2021_22' / 'erf.plan'}:may_at_70", "--output", target, "--json"], capsys)
    assert code == 0, err
    differences = json.loads(out)["scenarios"][0]["differences"]["erf_additional_funding"]
    book = openpyxl.load_workbook(target)
    assert {"monthly", "Scenarios", "Flags changed", "Inputs"} <= set(book.sheetnames)
    sheet = book["monthly"]
    headings = [c.value for c in sheet[1]]
    base, scenario, difference = (headings.index(f"erf_additional_funding ({x})") for x in
                                  ("baseline", "may_at_70", "difference, may_at_70"))
    assert "erf_gateway_met (difference, may_at_70)" not in headings  # no difference of true and false
    seen = 0
    for row in sheet.iter_rows(min_row=2):
        code_, period = row[0].value, row[2].value
        if period == "2021-05":
            expected = differences[code_]["2021-05"]
            assert f"{row[base].value:.2f}" == expected["baseline"] and f"{row[scenario].value:.2f}" == expected["scenario"]
            # the difference is Excel's: a formula over the two columns, the exact figure in its note
            r = row[0].row
            letter = openpyxl.utils.get_column_letter
            assert row[difference].value == f"={letter(scenario + 1)}{r}-{letter(base + 1)}{r}"
            assert f"{row[scenario].value - row[base].value:.2f}" == expected["difference"]
            assert row[difference].comment.text.endswith(f"£{float(expected['difference']):,.2f}")
            # each column's note is the derivation of its own run's figure
            assert row[scenario].comment.text.startswith(f"erf_additional_funding for {code_} in 2021-05 = £")
            assert f"{float(expected['scenario']):,.2f}" in row[scenario].comment.text.splitlines()[0]
            assert f"{float(expected['baseline']):,.2f}" in row[base].comment.text.splitlines()[0]
            seen += 1
    assert seen == 3
    assert [c.value for c in book["Scenarios"][2]][:2] == ["may_at_70", "set erf_thresholds in 2021-05 = 70%"]


def test_receipts_of_scenario_runs_and_comparisons_replay_and_name_a_changed_scenario_file(tmp_path, capsys):
    scenario = tmp_path / "s.plan"
    scenario.write_text((SCENARIOS / "2021_22" / "erf.plan").read_text(encoding="utf-8"), encoding="utf-8")
    run_receipt, compare_receipt = tmp_path / "run.json", tmp_path / "compare.json"
    assert _cli(["run", ROOT / "policies/2021_22", "--data", WORKED, "--scenario", f"{scenario}:may_at_70",
                 "--set", "erf_rate_above_upper = 130%", "--receipt", run_receipt], capsys)[0] == 0
    assert _cli(["compare", ROOT / "policies/2021_22", "--data", WORKED, "--scenario", scenario,
                 "--receipt", compare_receipt], capsys)[0] == 0
    for receipt in (run_receipt, compare_receipt):
        code, out, _ = _cli(["verify", receipt], capsys)
        assert code == 0 and "identical" in out
    scenario.write_text(scenario.read_text(encoding="utf-8").replace("= 70%", "= 72%"), encoding="utf-8")
    code, out, _ = _cli(["verify", run_receipt], capsys)
    assert code == 1 and "  scenario file " in out and "s.plan: changed (sha256 " in out
    # May at 70% and the top rate at 130%: £4,071,428.57 between the thresholds + £3,428,571.43 x 130%
    assert "figure erf_additional_funding for EXAMPLE2 in 2021-05: 8528571.43 ->" in out
    code, out, _ = _cli(["verify", compare_receipt], capsys)
    assert code == 1 and "scenario may_at_70: figure erf_additional_funding for EXAMPLE2 in 2021-05: 8185714.29 ->" in out
    assert "scenario activity_up_3pct: figure" not in out  # that scenario reads nothing that changed


def test_a_setting_for_some_periods_covers_those_and_the_periods_within_them_only():
    from planlang.scenario import Setting
    from planlang.source import NO_SPAN

    setting = Setting(NO_SPAN, "x", s.Literal(span=NO_SPAN, value=Fraction(1), text="1", type="number"),
                      periods=(parse_period("2021/22 Q1"),))
    assert setting.covers(None, parse_period("2021-05")) and setting.covers(None, parse_period("2021/22 Q1"))
    assert not setting.covers(None, parse_period("2021-07")) and not setting.covers(None, None)
    assert not setting.covers(None, parse_period("2021/22"))  # the year is longer than the quarter set


def test_on_computed_given_to_run_hears_of_every_value_worked_out(worked):
    plan, data, baseline = worked

    class Counting:
        def __init__(self):
            self.heard = {}

        def computed(self, name, entity, period, value):
            self.heard[(name, entity, period)] = value

    tracer = Counting()
    results = run(plan, data, on_computed=tracer.computed)
    assert tracer.heard == results.values() == baseline.values()
