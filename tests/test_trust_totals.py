"""One exact total, one rule for missing values, and `compare` on figures present in one run only.

"Thresholds 5 points higher" on the ERF worked example makes July's funding missing (its lower
threshold passes the upper), so a figure and its totals are present in the baseline and missing in
the scenario; a `--set` that fills a missing input does the opposite. Both used to end in an
internal error (two classes called ``Total``, one without ``change``).
"""

from __future__ import annotations

import ast
import json
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from planlang.compare import compare
from planlang.compiler import compile_pack
from planlang.coverage import year_coverage
from planlang.data import load_data
from planlang.periods import parse_period
from planlang.plan import compile_plan
from planlang.run import run
from planlang.run.totals import Total, total_of
from planlang.scenario import scenario_from_sets
from planlang.sweep import spread_of
from planlang.values import Missing

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
PACK = ROOT / "policies" / "2021_22"
WORKED = ROOT / "examples" / "erf_worked_example.json"
HIGHER = "erf_thresholds = erf_thresholds + 5%"


@pytest.mark.parametrize("setting", [HIGHER, "erf_thresholds in 2021-07 = 90%"])
def test_compare_text_says_a_total_became_missing(capsys, setting):
    code, out, err = run_cli(capsys, "compare", PACK, "--data", WORKED, "--set", setting, "--only", "erf_additional_funding")
    assert code == 0, err
    july = next(line for line in out.splitlines() if line.strip().startswith("erf_additional_funding [2021-07]")
                and "became missing" in line and "EXAMPLE" not in line)
    assert "£1,330,434.78" in july and "missing" in july


def test_compare_json_and_workbook_with_a_total_present_in_one_run_only(capsys, tmp_path):
    code, out, err = run_cli(capsys, "compare", PACK, "--data", WORKED, "--set", HIGHER, "--only",
                             "erf_additional_funding", "--json")
    assert code == 0, err
    totals = json.loads(out)["scenarios"][0]["totals"]["erf_additional_funding"]
    assert totals["2021-07"] == {"baseline": "1330434.78", "scenario": None, "difference": None}
    book = tmp_path / "c.xlsx"
    code, out, err = run_cli(capsys, "compare", PACK, "--data", WORKED, "--set", HIGHER, "--output", book)
    assert code == 0, err
    assert "became missing" in out and load_workbook(book, read_only=True).sheetnames


def test_a_setting_that_fills_a_missing_input_makes_figures_present(capsys, tmp_path):
    data = json.loads(WORKED.read_text(encoding="utf-8"))
    del data["inputs"]["erf_actual"]["EXAMPLE1"]["2021-05"]
    path = tmp_path / "gap.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = run_cli(capsys, "compare", PACK, "--data", path, "--set", "erf_actual for EXAMPLE1 in 2021-05 = £20,000,000",
                             "--only", "erf_additional_funding")
    assert code == 0, err
    rows = [line for line in out.splitlines() if "[2021-05]" in line or "[2021/22]" in line]
    assert rows and all("became present" in line for line in rows)
    code, out, err = run_cli(capsys, "compare", PACK, "--data", path, "--set", "erf_actual for EXAMPLE1 in 2021-05 = £20,000,000",
                             "--only", "erf_additional_funding", "--json")
    scenario = json.loads(out)["scenarios"][0]
    assert scenario["totals"]["erf_additional_funding"]["2021-05"]["baseline"] is None
    assert {"output": "erf_additional_funding", "entity": "EXAMPLE1", "period": "2021-05"} in scenario["became_present"]


def test_compare_totals_are_the_one_total_of_each_side():
    program = compile_pack(PACK)
    plan = compile_plan(program)
    data = load_data(WORKED, program)
    baseline = run(plan, data)
    scenario = run(plan, data, scenario_from_sets([HIGHER], plan, data), baseline=baseline)
    comparison = compare(baseline, scenario, only={"erf_additional_funding"})
    july = parse_period("2021-07")
    total = next(t for t in comparison.totals if t.period == july)
    cells = [(e, p) for e, p in baseline.scope["erf_additional_funding"] if p == july]
    expected = total_of(scenario.get("erf_additional_funding", e, p) for e, p in cells)
    assert expected.value is None and total.scenario == expected.figure
    assert total.change == "became missing"
    # the missing side keeps the cells' own reasons, not a made-up zero
    assert total.scenario.describe() == expected.why.describe()


values = st.lists(st.one_of(st.fractions(max_denominator=1000), st.just(Missing.because("no data"))), max_size=30)


@given(values)
def test_the_rule_for_missing_cells(cells):
    total = total_of(cells)
    numbers = [v for v in cells if isinstance(v, Fraction)]
    assert total.cells == len(cells) and total.missing == len(cells) - len(numbers)
    if total.missing:
        assert total.value is None and isinstance(total.figure, Missing)
        assert total.present == (sum(numbers, Fraction(0)) if numbers else None)
    else:
        assert total.value == total.present == sum(numbers, Fraction(0)) == total.figure
    # a column backend hands its parts over and gets the same total
    assert Total.of_sum(sum(numbers, Fraction(0)), total.missing, total.cells) == total


@given(st.lists(st.fractions(max_denominator=100), min_size=1, max_size=10), st.integers(0, 3))
def test_a_spread_is_missing_when_any_draw_is(values, gaps):
    totals = [total_of([v]) for v in values] + [total_of([Missing.because("gap")])] * gaps
    spread = spread_of(totals)
    assert (spread.mean is None) == (gaps > 0) and spread.missing_draws == gaps
    if not gaps:
        assert spread.mean == sum(values, Fraction(0)) / len(values)


def test_one_class_called_total():
    """Two classes of one name, one of them without ``change``, were how compare crashed."""
    defined = []
    for path in (ROOT / "src" / "planlang").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined += [path.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == "Total"]
    assert defined == ["totals.py"]


def test_a_year_total_over_part_of_the_year_says_which_part(capsys):
    """The worked example has April to July; the ERF runs April to September (its `during`)."""
    args = ("--data", WORKED, "--set", HIGHER, "--only", "erf_additional_funding")
    code, out, _ = run_cli(capsys, "compare", PACK, *args)
    assert "erf_additional_funding [2021/22: April–July 2021 (4 of 6 months)]" in out
    code, out, _ = run_cli(capsys, "compare", PACK, *args, "--json")
    year = json.loads(out)["scenarios"][0]["totals"]["erf_additional_funding"]["2021/22"]
    assert year["covers"] == {"periods": ["2021-04", "2021-05", "2021-06", "2021-07"], "of": 6,
                              "label": "April–July 2021 (4 of 6 months)"}
    sweep = ("sweep", PACK, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 110% step 10%",
             "--output", "erf_additional_funding")
    code, out, _ = run_cli(capsys, *sweep)
    assert code == 0 and "erf_additional_funding totals cover April–July 2021 (4 of 6 months)" in out
    code, out, _ = run_cli(capsys, *sweep, "--json")
    assert json.loads(out)["covers"]["erf_additional_funding"]["of"] == 6


def test_a_whole_year_total_has_no_note():
    plan = compile_plan(compile_pack(PACK))
    months = parse_period("2021/22").parts("month")
    assert year_coverage(plan, "erf_additional_funding", months[:6]).complete  # April to September is all of its `during`
    assert not year_coverage(plan, "erf_additional_funding", months[:4]).complete
    assert year_coverage(plan, "erf_additional_funding", [parse_period("2021/22")]) is None
