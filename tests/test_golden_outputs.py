"""Golden tests of outputs: what `run`, `explain`, `sweep` and `compare` print, checked whole against reviewed files.

Each case in ``CASES`` is one command line over the shipped packs and example data, and
``tests/golden/outputs/<case>.expected`` is its exact standard output. These pin every figure,
flag, missing value and derivation, so a change in evaluation shows up as a diff to review.

To accept new output after a deliberate change, run

    .venv/bin/pytest tests/test_golden_outputs.py --update-goldens

and review ``git diff tests/golden/outputs``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planlang.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "outputs"
WORKED = "examples/erf_worked_example.json"
ERF_SCENARIOS = "examples/scenarios/2021_22/erf.plan"

CASES = {
    "run_2019_20": ["run", "policies/2019_20", "--data", "examples/2019_20.xlsx"],
    "run_2020_21": ["run", "policies/2020_21", "--data", "examples/2020_21.xlsx"],
    "run_2021_22": ["run", "policies/2021_22", "--data", "examples/2021_22.xlsx"],
    "run_2020_21_json": ["run", "policies/2020_21", "--data", "examples/2020_21.xlsx", "--json"],
    "run_2021_22_json": ["run", "policies/2021_22", "--data", "examples/2021_22.xlsx", "--json"],
    "run_worked_example": ["run", "policies/2021_22", "--data", WORKED],
    # every missing value one by one, as `run` printed them before rules missing for want of data were summarised
    "run_worked_example_all_missing": ["run", "policies/2021_22", "--data", WORKED, "--all-missing"],
    "run_worked_example_json": ["run", "policies/2021_22", "--data", WORKED, "--json"],
    "explain_erf_example2": ["explain", "policies/2021_22", "--data", WORKED, "--entity", "EXAMPLE2", "--period", "2021-05",
                             "erf_additional_funding"],
    "explain_erf_example1_json": ["explain", "policies/2021_22", "--data", WORKED, "--entity", "EXAMPLE1", "--period",
                                  "2021-05", "erf_additional_funding", "--json"],
    "explain_frf_org_earned": ["explain", "policies/2020_21", "--data", "examples/2020_21.xlsx", "--entity", "TRUST_A1",
                               "--period", "2020/21 Q3", "frf_org_earned"],
    "sweep_frf_taper": ["sweep", "policies/2020_21", "--data", "examples/2020_21.xlsx", "--vary",
                        "frf_taper_rate = 0% to 100% step 25%", "--output", "frf_earned_year", "frf_pdc_conversion"],
    "sweep_erf_grid_json": ["sweep", "policies/2021_22", "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 120% step 20%",
                            "--vary", "erf_thresholds in 2021-05 = 70% to 75% step 5%", "--output", "erf_additional_funding",
                            "system_outpatient_attendances", "--json"],
    "sweep_erf_draws_json": ["sweep", "policies/2021_22", "--data", WORKED, "--vary",
                             "erf_actual = erf_actual * uniform(95%, 105%)", "--draws", "50", "--seed", "2021",
                             "--output", "erf_additional_funding", "--json"],
    # compare, whole: one scenario from a file, every scenario of a file, and a --set scenario on the 2020/21 workbook
    "compare_erf_may_at_70": ["compare", "policies/2021_22", "--data", WORKED, "--scenario", f"{ERF_SCENARIOS}:may_at_70"],
    "compare_erf_may_at_70_json": ["compare", "policies/2021_22", "--data", WORKED, "--scenario", f"{ERF_SCENARIOS}:may_at_70",
                                   "--json"],
    "compare_erf_every_scenario": ["compare", "policies/2021_22", "--data", WORKED, "--scenario", ERF_SCENARIOS],
    "compare_frf_taper_set": ["compare", "policies/2020_21", "--data", "examples/2020_21.xlsx", "--set", "frf_taper_rate = 50%"],
    "compare_frf_taper_set_json": ["compare", "policies/2020_21", "--data", "examples/2020_21.xlsx", "--set",
                                   "frf_taper_rate = 50%", "--json"],
    "explain_submission_ready_json": ["explain", "policies/2020_21", "--data", "examples/2020_21.xlsx", "--entity",
                                      "TRUST_A2", "--period", "2020/21", "submission_ready", "--json"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_is_the_reviewed_one(case, monkeypatch, capsys, golden):
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    code = main(CASES[case])
    out, err = capsys.readouterr()
    assert code == 0, err
    if "--json" in CASES[case] and CASES[case][0] == "run":
        # the receipt names its creation time and the installed versions: tests/test_audit_receipt.py checks it
        document = json.loads(out)
        document.pop("receipt")
        out = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    golden.check(GOLDEN / f"{case}.expected", out)
