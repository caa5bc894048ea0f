"""Trust, third pass (issue 16, class 8): answers and exit codes that must not mislead.

- `solve` says "unreachable" only when it has proved it; a goal not met at the values it tried is
  "inconclusive", with the range searched and the output seen.
- A goal in a period where it has no value is a usage error naming `--until`.
- An unknown `--entity` or `--only` is a usage error (64) on every command that takes it.
- `--strict --only NAME` fails only on the inputs NAME depends on.
- A setting in a period where nothing reads the name, and it has no value, is a placed error.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from conftest import EXAMPLES, HEADER, POLICIES, run_cli

WORKED = EXAMPLES / "erf_worked_example.json"
ERF = POLICIES / "2021_22"

# a payment that is paid only in a window of activity: nothing up to £1,000, rising to £5 at £1,005,
# falling to nothing at £1,010 (a tent), so it rises and then falls as activity grows
TENT = HEADER + '''
input activity : money
  per system monthly
  "Activity in the month"

define window_payment : money
  per system monthly
  "Paid only for activity in a window"
  = max(£0, min(activity - £1,000, £1,010 - activity))
  cites "s.txt" §1 "paid in a window"
'''


@pytest.fixture
def tent(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "t.plan").write_text(TENT, encoding="utf-8")
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"organisations": [{"code": "T1", "name": "System", "kind": "system", "system": None}],
                                "inputs": {"activity": {"T1": {"2021-05": "£0"}}}}), encoding="utf-8")
    return pack, data


def _solve(capsys, pack, data, vary, until, *more):
    return run_cli(capsys, "solve", pack, "--data", data, "--vary", vary, "--until", until, *more)


# ---- solve: "unreachable" only when proved ----

def test_a_target_reached_only_between_the_values_tried_is_inconclusive_not_unreachable(tent, capsys):
    pack, data = tent
    vary, until = "activity for T1 in 2021-05", "window_payment for T1 in 2021-05 = £3"
    # £3 is reached at £1,003 (and £1,007): the target is reachable, but only in the middle of the tent
    code, out, err = _solve(capsys, pack, data, vary, until, "--set", "activity for T1 in 2021-05 = £1,003")
    assert code == 0 and "= £1,003.00" in out, out + err
    code, out, err = _solve(capsys, pack, data, vary, until)
    assert code == 1, out + err
    assert "inconclusive" in out and "unreachable" not in out
    assert "may still reach the goal" in out
    code, out, err = _solve(capsys, pack, data, vary, until, "--json")
    document = json.loads(out)
    assert document["reached"] is False and document["outcome"] == "inconclusive"
    low, high = (Fraction(x) for x in document["tried"])
    assert low < 1003 < high  # the range searched holds the answer it did not find
    seen = {Fraction(x["value"]): x["output"] for x in document["seen"]}
    assert Fraction(0) in seen and seen[Fraction(0)] == "0.00" and set(seen) >= {low, high}


def test_a_monotone_goal_not_met_is_still_not_called_unreachable(capsys):
    code, out, err = _solve(capsys, ERF, WORKED, "erf_actual for EXAMPLE2 in 2021-05",
                            "erf_additional_funding for EXAMPLE2 in 2021-05 = -£5")
    assert code == 1 and "inconclusive" in out and "ran from £0.00" in out, out + err


def test_a_goal_that_does_not_depend_on_what_is_varied_is_proved_unreachable(capsys):
    code, out, err = _solve(capsys, ERF, WORKED, "erf_rate_above_upper",
                            "erf_threshold_pct for EXAMPLE2 in 2021-05 = 5%")
    assert code == 1 and "unreachable" in out and "75%" in out, out + err
    assert "tried 81" not in out  # no search: one run proves it


# ---- solve: a goal in a period where it has no value is a usage error ----

@pytest.mark.parametrize("until, said", [
    ("erf_additional_funding for EXAMPLE2 in 2022-05 = £1", "outside the policy year"),
    ("erf_additional_funding for EXAMPLE2 in 2021-11 = £1", "applies only from 2021-04 to 2021-09, not in 2021-11"),
    ("total erf_additional_funding in 2021-11 = £1", "applies only from 2021-04 to 2021-09"),
    ("total erf_additional_funding in 2021/22 = £1", "is monthly; 2021/22 is a year"),
    ("flag erf_gateway_not_met for EXAMPLE2 in 2021-11 raised", "applies only from 2021-04 to 2021-09"),
    ("flag erf_gateway_not_met for EXAMPLE2 in 2021/22 Q1 raised", "is monthly"),
])
def test_a_goal_in_a_period_where_it_has_no_value_is_a_usage_error_naming_until(until, said, capsys):
    code, out, err = _solve(capsys, ERF, WORKED, "erf_actual for EXAMPLE2 in 2021-05", until)
    assert code == 64 and "--until" in err and said in err and out == "", out + err


# ---- an unknown --entity or --only: a usage error on every command ----

_SET = ("--set", "erf_thresholds in 2021-05 = 70%")


@pytest.mark.parametrize("argv", [
    ("run", ERF, "--data", WORKED, "--entity", "NOPE"),
    ("compare", ERF, "--data", WORKED, "--entity", "NOPE", *_SET),
    ("explain", ERF, "--data", WORKED, "--entity", "NOPE", "--period", "2021-05", "erf_additional_funding"),
    ("explain", ERF, "--data", WORKED, "--entity", "NOPE", "--period", "2021-05", "--all"),
    ("solve", ERF, "--data", WORKED, "--vary", "erf_actual for EXAMPLE2 in 2021-05",
     "--until", "erf_additional_funding for NOPE in 2021-05 = £1"),
    ("solve", ERF, "--data", WORKED, "--vary", "erf_actual for EXAMPLE2 in 2021-05",
     "--until", "flag erf_gateway_not_met for NOPE in 2021-05 raised"),
])
def test_an_unknown_organisation_on_the_command_line_is_64_everywhere(argv, capsys):
    code, out, err = run_cli(capsys, *argv)
    assert code == 64 and "no organisation 'NOPE'" in err, out + err


@pytest.mark.parametrize("command, more", [("run", ()), ("compare", _SET)])
def test_an_unknown_only_name_is_64_everywhere(command, more, capsys):
    code, out, err = run_cli(capsys, command, ERF, "--data", WORKED, "--only", "erf_additional_fundin", *more)
    assert code == 64 and "--only" in err and "erf_additional_funding" in err, out + err


# ---- --strict --only: only the inputs the chosen outputs are worked out from ----

def test_strict_only_considers_the_inputs_the_chosen_outputs_depend_on(tmp_path, capsys):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "t.plan").write_text(HEADER + "".join(f'''
input {x}_in : money
  per system monthly
  "An input"

define {x}_out : money
  per system monthly
  "An output"
  = {x}_in
  cites "s.txt" §1 "an output"
''' for x in ("given", "absent")), encoding="utf-8")
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"organisations": [{"code": "S1", "name": "System", "kind": "system", "system": None}],
                                "inputs": {"given_in": {"S1": {"2021-05": "£1"}}}}), encoding="utf-8")
    code, out, err = run_cli(capsys, "run", pack, "--data", data, "--strict", "--only", "given_out")
    assert code == 0, out + err
    for only in (("--only", "absent_out"), ("--only", "given_out", "absent_out"), ()):
        code, out, err = run_cli(capsys, "run", pack, "--data", data, "--strict", *only)
        assert code == 3 and "input absent_in has no value for S1" in err and "given_in" not in err, out + err


# ---- a setting in a period where nothing reads the name ----

def test_a_set_in_a_period_nothing_reads_is_a_placed_error(capsys):
    code, out, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--set", "erf_thresholds in 2021-11 = 90%")
    assert code == 2 and err.startswith("--set:1:1: error: nothing reads `erf_thresholds` in 2021-11"), out + err
    assert "erf_threshold_pct (during 2021-04 to 2021-09)" in err
    # the same setting in a month that is read is accepted, and so is a range that reaches one
    for period in ("2021-05", "2021-09 to 2021-12"):
        code, out, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--set", f"erf_thresholds in {period} = 90%")
        assert code == 0, out + err


def test_a_scenario_file_setting_a_period_nothing_reads_gets_the_same_placed_error(tmp_path, capsys):
    scenario = tmp_path / "s.plan"
    scenario.write_text("scenario late\n  set erf_rate_above_upper = 150%\n  set erf_actual in 2021-10 to 2021-12 = £1\n",
                        encoding="utf-8")
    code, out, err = run_cli(capsys, "compare", ERF, "--data", WORKED, "--scenario", scenario)
    # the file is named as the command line gave it, or relative to where planlang runs
    assert code == 2 and "s.plan:3:7: error" in err and "nothing reads `erf_actual` in 2021-10 to 2021-12" in err, out + err
    assert "erf_additional_funding (during 2021-04 to 2021-09)" in err
