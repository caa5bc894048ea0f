"""Data errors all at once (up to 50), each placed; declared input ranges checked as data is read."""

from __future__ import annotations

import json

import openpyxl
import pytest

from planlang.cli import main
from planlang.data import MAX_ERRORS, load_data
from planlang.diagnostics import DataErrors, InputError

from conftest import compile_text, render

PACK_TEXT = '''
input amount : money
  per system monthly
  "An amount"
  cites "s.txt" §1
input share : percent
  per system monthly
  range 0% to 100%
  "A share of something"
  cites "s.txt" §1
'''


@pytest.fixture
def program(compile_policy):
    return compile_policy(PACK_TEXT)


def _json(tmp_path, inputs) -> str:
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"organisations": [{"code": "S1", "kind": "system"}, {"code": "S2", "kind": "system"}],
                                "inputs": inputs}))
    return str(path)


def test_every_bad_value_of_a_json_file_is_reported(tmp_path, program):
    path = _json(tmp_path, {"amount": {"S1": {"2021-04": "lots", "2021-05": 5, "2021-13": 1}, "S9": {"2021-04": 1}},
                            "amont": {"S1": {"2021-04": 1}},
                            "share": {"S2": {"2021-04": "50%", "2021-05": "120%"}}})
    with pytest.raises(DataErrors) as caught:
        load_data(path, program)
    places = [e.where for e in caught.value.errors]
    assert places == [f"{path}: inputs.amount.S1.2021-04", f"{path}: inputs.amount.S1.2021-13",
                      f"{path}: inputs.amount.S9", f"{path}: inputs.amont", f"{path}: inputs.share.S2.2021-05"]
    assert "must be from 0% to 100% (its declared range), found 120%" in caught.value.errors[-1].message


def test_bad_submissions_are_reported_together_with_bad_values(tmp_path, compile_policy):
    program = compile_policy(PACK_TEXT + '''
deadline final_plans
  "Final plans"
  = 2021-06-03
  cites "s.txt" §1
''')
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"organisations": [{"code": "S1", "kind": "system"}],
                                "inputs": {"amount": {"S1": {"2021-04": "lots"}}},
                                "submissions": {"S1": {"final_plan": "2021-06-08", "final_plans": "soon"}}}))
    with pytest.raises(DataErrors) as caught:
        load_data(path, program)
    assert [e.where.split(": ", 1)[1] for e in caught.value.errors] == [
        "inputs.amount.S1.2021-04", "submissions.S1.final_plan", "submissions.S1.final_plans"]


def test_a_file_with_one_bad_value_reports_just_it(tmp_path, program):
    path = _json(tmp_path, {"amount": {"S1": {"2021-04": "lots"}}})
    with pytest.raises(InputError) as caught:
        load_data(path, program)
    assert not isinstance(caught.value, DataErrors) and caught.value.where.endswith("inputs.amount.S1.2021-04")


def test_reading_stops_after_fifty_problems(tmp_path, program):
    bad = {f"2021-{m:02d}": "x" for m in range(4, 13)}
    inputs = {"amount": {"S1": bad, "S2": bad}}
    inputs.update({f"unknown_{k}": {"S1": {"2021-04": 1}} for k in range(60)})
    with pytest.raises(DataErrors) as caught:
        load_data(_json(tmp_path, inputs), program)
    assert len(caught.value.errors) == MAX_ERRORS and caught.value.stopped
    assert "stopped after the first 50" in str(caught.value)


def test_every_bad_cell_of_a_workbook_is_reported_by_cell(tmp_path, program, capsys):
    book = openpyxl.Workbook()
    book.active.title = "organisations"
    book.active.append(["code", "name", "kind", "system"])
    book.active.append(["S1", "One", "system", None])
    sheet = book.create_sheet("monthly")
    sheet.append(["code", "period", "amount", "share"])
    sheet.append(["S1", "2021-04", "lots", 0.5])
    sheet.append(["S1", "2021-05", 10, 1.5])
    sheet.append(["S7", "2021-06", 10, 0.5])
    sheet["D3"].number_format = "0%"  # shown as 150%: a percentage, outside the declared range
    path = tmp_path / "book.xlsx"
    book.save(path)
    with pytest.raises(DataErrors) as caught:
        load_data(path, program)
    assert [e.where for e in caught.value.errors] == [f"{path}: monthly!C2", f"{path}: monthly!D3", f"{path}: monthly!A4"]
    assert "found 150%" in caught.value.errors[1].message


def test_the_command_line_prints_each_problem_then_a_count(tmp_path, capsys):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "policy.plan").write_text('policy "p" for 2021/22\nsource "s.txt" "S"\n')
    (pack / "rules.plan").write_text(PACK_TEXT)
    path = _json(tmp_path, {"amount": {"S1": {"2021-04": "lots", "2021-05": "more"}}})
    code = main(["run", str(pack), "--data", path])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert [line.split(": inputs.")[1].split(":")[0] for line in err[:2]] == ["amount.S1.2021-04", "amount.S1.2021-05"]
    assert err[-1] == f"planlang: {path}: 2 problems"


@pytest.mark.parametrize("clause, message", [
    ("range 100% to 0%", "the range starts above where it ends"),
    ("range £0 to £10", "the start of the range is money (£), but a percentage is declared"),
    ("range 0% to other", "a range runs between fixed values"),
])
def test_a_bad_range_is_a_placed_policy_error(clause, message):
    text = PACK_TEXT.replace("range 0% to 100%", clause)
    program, diagnostics = compile_text(text)
    assert program is None
    assert message in render(diagnostics, text)


def test_every_bad_organisation_is_reported_together(program, tmp_path):
    document = {"organisations": [{"code": "S1", "name": "a", "kind": "sistem"},
                                  {"code": "T1", "name": "b", "kind": "trust", "system": "S9"},
                                  {"code": "T1", "name": "c", "kind": "trust", "system": "S1"}],
                "inputs": {}}
    path = tmp_path / "d.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DataErrors) as caught:
        load_data(path, program)
    places = [str(error) for error in caught.value.errors]
    assert len(places) == 3
    assert any("organisations[0].kind" in p for p in places) and any("organisations[2].code" in p for p in places)
    assert any("organisations[1].system" in p and "'S9'" in p for p in places)
