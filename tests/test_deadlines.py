"""Deadlines: `planlang deadlines` lists them, and a submission after its deadline is a late_submission warning."""

from __future__ import annotations

import json

from planlang.cli import main

PACK = '''policy "deadlines" for 2021/22
source "a.txt" "A"
deadline draft_plans
  "Draft plan submission"
  = 2021-05-06
  cites "a.txt" §1
deadline final_plans
  "Final plan submission"
  = 2021-06-03
  cites "a.txt" §1
input panel_date : date
  per trust annual
  cites "a.txt" §1
deadline findings
  "Written findings issued within two working days after the panel"
  per trust annual
  = panel_date + 2 working days
  cites "a.txt" §9
'''

DATA = {
    "organisations": [{"code": "S1", "name": "S1", "kind": "system"},
                      {"code": "T1", "name": "T1", "kind": "trust", "system": "S1"}],
    "inputs": {"panel_date": {"T1": {"2021/22": "2021-04-01"}}},
    "submissions": {"S1": {"final_plans": "2021-06-08", "draft_plans": "2021-05-06"},
                    "T1": {"findings": "2021-04-07"}},
}


def setup(tmp_path, data=DATA):
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "deadlines.plan").write_text(PACK, encoding="utf-8")
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    return str(tmp_path / "pack"), str(tmp_path / "data.json")


def test_deadlines_are_listed_in_date_order_with_working_days(tmp_path, capsys):
    pack, data = setup(tmp_path)
    assert main(["deadlines", pack, "--as-of", "2021-05-20", "--data", data]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in lines] == ["2021-04-07", "2021-05-06", "2021-06-03"]
    assert "past" in lines[1] and "10 wd ago" in lines[1]
    assert "upcoming (9 wd left)" in lines[2]  # Spring bank holiday, 31 May, is not a working day
    assert "findings [T1]" in lines[0]


def test_a_submission_after_its_deadline_is_a_late_submission_warning(tmp_path, capsys):
    pack, data = setup(tmp_path)
    assert main(["run", pack, "--data", data, "--json"]) == 0
    flags = json.loads(capsys.readouterr().out)["flags"]
    assert [{k: f[k] for k in ("flag", "severity", "entity", "period", "message", "values")} for f in flags] == [
        {"flag": "late_submission", "severity": "warning", "entity": "S1", "period": "2021/22",
         "message": "S1 submitted final_plans (Final plan submission) on 2021-06-08, 3 working days "
                    "after the deadline of 2021-06-03",
         "values": {"submitted": "2021-06-08", "deadline": "2021-06-03", "working_days_late": 3}}]


def test_a_submission_for_an_unknown_milestone_is_bad_data(tmp_path, capsys):
    pack, data = setup(tmp_path, {**DATA, "submissions": {"S1": {"final_plan": "2021-06-08"}}})
    assert main(["run", pack, "--data", data]) == 2
    err = capsys.readouterr().err
    assert "submissions.S1.final_plan" in err and "did you mean `final_plans`?" in err
