"""Explanations an auditor can use: --depth, flags with their margin, the deciding parts of and/or,
percentage points, the --period hint, and --all."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from planlang.cli import main
from planlang.data import Organisation, make_dataset
from planlang.explanation import explain
from planlang.periods import parse_period
from planlang.render import explanation_json, explanation_text, format_value
from planlang.run import evaluate

from conftest import EXAMPLES, POLICIES

FRF = [str(POLICIES / "2020_21"), "--data", str(EXAMPLES / "2020_21.xlsx")]


def _cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _count(node, seen=None) -> int:
    """Distinct steps below a node, counted recursively (the renderer walks a stack)."""
    seen = set() if seen is None else seen
    for child in node.children:
        if id(child) not in seen:
            seen.add(id(child))
            _count(child, seen)
    return len(seen)


@pytest.fixture(scope="module")
def frf():
    from planlang.compiler import compile_pack
    from planlang.data import load_data

    program = compile_pack(POLICIES / "2020_21")
    return evaluate(program, load_data(EXAMPLES / "2020_21.xlsx", program))


def test_depth_summarises_deeper_steps_as_one_line_with_their_value(frf):
    trace = explain(frf, "frf_pdc_conversion", "TRUST_A1", parse_period("2020/21"))
    full = explanation_text(trace)
    cut = explanation_text(trace, 1)
    assert len(cut.splitlines()) < len(full.splitlines()) / 10
    for child in trace.children:
        line = next(x for x in cut.splitlines() if x.startswith(("├─ ", "└─ ")) and f"{child.label} " in x)
        assert f"(+{_count(child)} step" in line
        assert line.split(" = ", 1)[1].startswith(format_value(child.value, child.type) + "  (+")
    assert not any(x.startswith(("│  ├─", "│  └─", "   ├─", "   └─")) for x in cut.splitlines())  # nothing at level 2
    document = explanation_json(trace, 1)
    assert all(c["children"] == [] and c["steps_below"] == _count(n) for c, n in zip(document["children"], trace.children))
    assert explanation_text(trace, 100) == full


def test_depth_must_be_a_whole_number(capsys):
    code, _, err = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "--period", "2020/21", "--depth", "two",
                        "frf_pdc_conversion")
    assert code == 64 and "expected a whole number of levels" in err


def _flagged(compile_policy, text: str, values: dict):
    program = compile_policy(text)
    month = parse_period("2021-04")
    dataset = make_dataset([Organisation("S1", "System 1", "system")], {(n, "S1", month): v for n, v in values.items()},
                           {}, "made.json")
    return evaluate(program, dataset), month


_TWO_TESTS = '''
input a : money
  per system monthly
  "A"
input b : money
  per system monthly
  "B"
flag both_high
  per system monthly
  severity warning
  when a > £100 and b > £100
  says "both high"
'''


def test_a_flag_not_raised_says_why_with_the_margin_of_the_part_that_decided(compile_policy):
    results, month = _flagged(compile_policy, _TWO_TESTS, {"a": Fraction(90), "b": Fraction(500)})
    text = explanation_text(explain(results, "both_high", "S1", month))
    assert "warning flag: not raised, because its condition is false" in text
    assert "margin: £90.00 is £10.00 below £100.00" in text
    assert "a > £100 is false  <- decides the outcome" in text
    assert "b > £100 is true\n" in text + "\n" and "b > £100 is true  <-" not in text


def test_a_flag_raised_marks_every_part_of_an_and(compile_policy):
    results, month = _flagged(compile_policy, _TWO_TESTS, {"a": Fraction(150), "b": Fraction(500)})
    text = explanation_text(explain(results, "both_high", "S1", month))
    assert "warning flag: raised, because its condition is true" in text
    assert "margin: £150.00 is £50.00 above £100.00" in text
    assert text.count("<- decides the outcome") == 2


def test_in_an_or_only_the_true_part_decides(compile_policy):
    results, month = _flagged(compile_policy, _TWO_TESTS.replace("a > £100 and b", "a > £100 or b"),
                              {"a": Fraction(90), "b": Fraction(500)})
    text = explanation_text(explain(results, "both_high", "S1", month))
    assert "b > £100 is true  <- decides the outcome" in text and "a > £100 is false  <-" not in text
    assert "margin: £500.00 is £400.00 above £100.00" in text


def test_percentage_differences_are_percentage_points(compile_policy):
    results, month = _flagged(compile_policy, '''
input rate : percent
  per system monthly
  "A rate"
flag low_rate
  per system monthly
  severity warning
  when rate < 70%
  says "low"
''', {"rate": Fraction(69, 100)})
    text = explanation_text(explain(results, "low_rate", "S1", month))
    assert "69% is 1 percentage point below 70%" in text and "1% below" not in text


def test_missing_period_hint_is_of_the_values_own_granularity_in_the_packs_year(capsys):
    code, _, err = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "frf_org_earned")
    assert code == 64 and "as in --period 2020/21 Q1" in err
    code, _, err = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "frf_pdc_conversion")
    assert code == 64 and "as in --period 2020/21" in err


def test_all_explains_every_value_of_one_entity_and_period(capsys, frf, tmp_path):
    period = parse_period("2020/21 Q1")
    expected = [n for n, e, p, _ in frf.outputs() if (e, p) == ("TRUST_A1", period)]
    expected += [f.name for f in frf.flags if (f.entity, f.period) == ("TRUST_A1", period)]
    code, out, _ = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "--period", "2020/21 Q1", "--all", "--json")
    document = json.loads(out)
    assert code == 0 and [t["label"] for t in document["explanations"]] == expected and expected
    target = tmp_path / "all.html"
    code, _, err = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "--period", "2020/21 Q1", "--all",
                        "--html", target)
    text = target.read_text(encoding="utf-8")
    assert code == 0 and all(f'data-search="{name}"' in text for name in expected)
    code, _, err = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "--all")
    assert code == 64 and "no value is worked out for TRUST_A1" in err
    code, _, err = _cli(capsys, "explain", *FRF, "--entity", "TRUST_A1", "--period", "2020/21", "--all", "frf_earned")
    assert code == 64 and "not both" in err


def test_an_explanation_under_a_setting_is_json_naming_the_setting(capsys):
    """explain --json --set crashed: the setting that decided a value is a Setting object, which JSON
    cannot hold. It is written as its text, where it was written, and what it decides."""
    code, out, err = _cli(capsys, "explain", POLICIES / "2021_22", "--data", EXAMPLES / "erf_worked_example.json",
                          "--entity", "EXAMPLE2", "--period", "2021-05", "erf_additional_funding", "--json",
                          "--set", "erf_thresholds = erf_thresholds - 5%")
    assert code == 0, err

    def settings(node):
        found = [node["detail"]["setting"]] if "setting" in node["detail"] else []
        return found + [x for child in node["children"] for x in settings(child)]

    document = json.loads(out)
    found = settings(document.get("explanation", document))
    assert found and found[0]["text"] == "erf_thresholds = erf_thresholds - 5%"
    assert found[0]["span"]["file"] == "--set" and found[0]["formula"] is False and found[0]["periods"] is None
