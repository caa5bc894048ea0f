"""Rule coverage (issue 20, item 1): a pack whose tests miss one band names that band at its file:line;
``--fail-under`` for CI; the JSON shape; the same from a data file and in the HTML report."""

from __future__ import annotations

import json

from planlang.assurance.coverage import covered_by_tests, parts_of
from planlang.cli import main
from planlang.compiler import compile_pack

RULES = '''policy "coverage" for 2021/22
source "s.txt" "S"

input m : money
  per system monthly
  cites "s.txt" §1

define payment : money
  per system monthly
  = bands on m
      up to £100: 0%
      up to £200: 50%
      above: 100%
  cites "s.txt" §1

flag large
  per system monthly
  severity warning
  when payment > £50
  says "a large payment"
  cites "s.txt" §1
'''

TESTS = '''
test "below the first threshold nothing is paid"
  system S
  period 2021-04
  given m = £50
  expect payment = £0
  expect no flag large

test "between the thresholds half is paid"
  system S
  period 2021-04
  given m = £150
  expect payment = £25

test "on the upper threshold"
  system S
  period 2021-04
  given m = £200
  expect payment = £50
'''

DATA = {"organisations": [{"code": "S", "name": "S", "kind": "system"}],
        "inputs": {"m": {"S": {"2021-04": "£300"}}}}


def _pack(tmp_path):
    (tmp_path / "rules.plan").write_text(RULES + TESTS, encoding="utf-8")
    return tmp_path


def test_the_band_no_test_reaches_is_named_with_file_and_line(tmp_path):
    outcomes, report = covered_by_tests(compile_pack(_pack(tmp_path)))
    assert all(o.passed for o in outcomes)
    uncovered = {(p.kind, p.outcome, p.span.line) for p in report.uncovered}
    # above £200 is never reached, nor £100 exactly, nor the flag raised; every band step's missing path too
    assert uncovered == {("band", "band 2", 10), ("band", "on 0", 10), ("flag", "raised", 16),
                         ("missing", "missing", 10), ("missing", "missing", 16)}
    assert report.counts("band") == (3, 5)
    assert len(parts_of(compile_pack(tmp_path))) == 9


def test_the_command_prints_the_uncovered_parts_and_fails_under_a_threshold(tmp_path, capsys):
    pack = _pack(tmp_path)
    assert main(["test", str(pack), "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "3 passed, 0 failed" in out and "4 of 9 parts, 44.4%" in out
    assert "rules.plan:10:5: payment: band: above £200" in out
    assert "rules.plan:10:5: payment: band: exactly on the threshold £100" in out
    assert "rules.plan:16:1: large: flag: raised" in out
    assert main(["test", str(pack), "--coverage", "--fail-under", "45"]) == 1
    assert main(["test", str(pack), "--coverage", "--fail-under", "44"]) == 0
    capsys.readouterr()
    assert main(["test", str(pack), "--fail-under", "44"]) == 64


def test_the_json_shape(tmp_path, capsys):
    assert main(["test", str(_pack(tmp_path)), "--coverage", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["tests"] == {"passed": 3, "failed": 0}
    coverage = found["coverage"]
    assert set(coverage) == {"by", "cells", "covered", "total", "score", "kinds", "parts"}
    assert coverage["kinds"]["band"] == {"covered": 3, "total": 5, "score": 0.6}
    above = next(p for p in coverage["parts"] if p["outcome"] == "band 2")
    assert above == {"rule": "payment", "kind": "band", "outcome": "band 2", "description": "above £200",
                     "file": above["file"], "line": 10, "column": 5, "hits": 0, "covered": False}
    assert above["file"].endswith("rules.plan")


def test_coverage_by_a_data_file_and_in_the_report(tmp_path, capsys):
    pack = _pack(tmp_path)
    data = tmp_path / "data.json"
    data.write_text(json.dumps(DATA), encoding="utf-8")
    assert main(["coverage", str(pack), "--data", str(data), "--json"]) == 0
    coverage = json.loads(capsys.readouterr().out)["coverage"]
    covered = {(p["kind"], p["outcome"]) for p in coverage["parts"] if p["covered"]}
    assert covered == {("band", "band 2"), ("flag", "raised")}
    assert main(["coverage", str(pack), "--data", str(data), "--fail-under", "50"]) == 1
    report = tmp_path / "report.html"
    assert main(["report", str(pack), "--data", str(data), "-o", str(report), "--coverage"]) == 0
    html = report.read_text(encoding="utf-8")
    assert 'id="coverage"' in html and "above £200" in html
