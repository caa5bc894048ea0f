"""Static findings of `planlang check` (issue 20, item 2): one pack built to have each defect, and none on the
shipped packs beyond those their assurance register explains."""

from __future__ import annotations

import pytest

from planlang.assurance.register import REGISTER_FILE, read_register
from planlang.assurance.static import findings
from planlang.cli import main
from planlang.compiler import compile_pack
from planlang.plan import compile_plan

from conftest import POLICIES

HEADER = '''policy "static analysis" for 2021/22
source "s.txt" "S"

input m : money
  per system monthly
  cites "s.txt" §1

input share : percent
  per system monthly
  range 0% to 100%
  cites "s.txt" §1

input base : money
  per system monthly
  range £0 to £100,000,000
  cites "s.txt" §1
'''

DEFECTS = {
    "bands-cross": '''
parameter lower_pct : percent monthly
  2021-04 to 2021-08: 70%
  2021-09: 90%
  cites "s.txt" §1

parameter upper_pct : percent
  = 85%
  cites "s.txt" §1

define pay : money
  per system monthly during 2021-04 to 2021-09
  = bands on m
      up to base * lower_pct: 0%
      up to base * upper_pct: 100%
      above: 120%
  cites "s.txt" §1
''',
    "branch-never": '''
define x : money
  per system monthly
  = if share <= 100% then £1 else £2
  cites "s.txt" §1
''',
    "condition-fixed": '''
define y : bool
  per system monthly
  = present(m) and share > 150%
  cites "s.txt" §1
''',
    "taper-floor": '''
parameter allocation : money
  = £100
  cites "s.txt" §1

define t : money
  per system monthly
  = taper allocation by m at 100% floor £200
  cites "s.txt" §1
''',
    "schedule-hole": '''
parameter rate : percent monthly
  2021-04 to 2021-05: 10%
  2021-07 to 2021-09: 20%
  cites "s.txt" §1

define d : money
  per system monthly during 2021-04 to 2021-09
  = m * rate
  cites "s.txt" §1
''',
    "flag-never": '''
flag f
  per system monthly
  severity warning
  when share > 100%
  says "never"
  cites "s.txt" §1
''',
}


def _pack(tmp_path, body: str):
    (tmp_path / "rules.plan").write_text(HEADER + body, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("kind", sorted(DEFECTS))
def test_each_defect_is_found_with_an_example(kind, tmp_path):
    found = findings(compile_plan(compile_pack(_pack(tmp_path, DEFECTS[kind]))))
    assert [f.kind for f in found] == [kind], [f.message for f in found]
    assert found[0].example


def test_the_crossing_names_the_month_and_the_example_shows_it(tmp_path):
    (finding,) = findings(compile_plan(compile_pack(_pack(tmp_path, DEFECTS["bands-cross"]))))
    assert "(in 2021-09)" in finding.message
    assert finding.example == ("with base = £100,000,000.00, in 2021-09: `base * upper_pct` is £85,000,000.00, below "
                               "`base * lower_pct` at £90,000,000.00")
    assert finding.span.line == 31  # the band whose threshold falls


def test_the_hole_names_the_missing_month(tmp_path):
    (finding,) = findings(compile_plan(compile_pack(_pack(tmp_path, DEFECTS["schedule-hole"]))))
    assert "has no value in 2021-06" in finding.message and "2021-06" in finding.example


def test_a_condition_that_can_go_either_way_is_not_a_finding(tmp_path):
    body = '''
define x : money
  per system monthly
  = if share < 50% then £1 else £2
  cites "s.txt" §1

define z : money
  per system monthly
  = if m > £0 then m else £0
  cites "s.txt" §1
'''
    assert findings(compile_plan(compile_pack(_pack(tmp_path, body)))) == []


def test_a_condition_decided_by_the_period_only_in_some_periods_is_not_a_finding(tmp_path):
    body = '''
define x : money
  per system monthly
  = if period >= 2021-07 then £1 else £2
  cites "s.txt" §1
'''
    assert findings(compile_plan(compile_pack(_pack(tmp_path, body)))) == []


def test_check_prints_the_finding_as_a_warning_with_its_example(tmp_path, capsys):
    pack = _pack(tmp_path, DEFECTS["flag-never"])
    assert main(["check", str(pack)]) == 0
    out = capsys.readouterr().out
    assert "warning: the flag `f` can never be raised" in out and "[flag-never]" in out
    assert "help: for example, with share = 0%" in out
    assert out.strip().endswith("ok: 0 errors, 1 warning")


def test_an_explained_finding_is_not_reported(tmp_path, capsys):
    pack = _pack(tmp_path, DEFECTS["flag-never"])
    (pack / REGISTER_FILE).write_text('[[explained]]\nkind = "flag-never"\nrule = "f"\nreason = "kept for later years"\n')
    assert main(["check", str(pack)]) == 0
    assert capsys.readouterr().out.strip().endswith("ok: 0 errors, 0 warnings")


@pytest.mark.parametrize("year", ["2019_20", "2020_21", "2021_22"])
def test_the_shipped_packs_have_no_findings_but_those_explained(year):
    pack = POLICIES / year
    register = read_register(pack / REGISTER_FILE)
    found = findings(compile_plan(compile_pack(pack)))
    assert [f.message for f in found if not register.explains(f.kind, f.rule)] == []
    # every explanation is still needed
    assert all(any(f.kind == kind and f.rule == rule for f in found) for kind, rule, _ in register.explained)
