"""`planlang mutate` (issue 20, item 3): a weak test misses a mutant, named at its file:line; a stronger test kills it."""

from __future__ import annotations

import json

from planlang.assurance.mutate import KILLED, SURVIVED, mutants, mutate, pack_digest
from planlang.assurance.register import Register, read_register_text
from planlang.cli import main
from planlang.compiler import compile_pack

RULES = '''policy "mutation" for 2021/22
source "s.txt" "S"

input m : money
  per system monthly
  cites "s.txt" §1

define bonus : money
  per system monthly
  = if m > £100 then m * 10% else £0
  cites "s.txt" §1
'''

WEAK = '''
test "a large amount earns the bonus"
  system S
  period 2021-04
  given m = £500
  expect bonus = £50
'''

STRONG = WEAK + '''
test "the boundary: £100 earns nothing, a penny more earns"
  system S
  system T
  period 2021-04
  given m for S = £100
  given m for T = £100.01
  expect bonus for S = £0
  expect bonus for T = £10.001
'''


def _pack(tmp_path, tests: str):
    (tmp_path / "rules.plan").write_text(RULES + tests, encoding="utf-8")
    return tmp_path


def test_the_mutants_of_a_rule(tmp_path):
    found = {m.change for m in mutants(compile_pack(_pack(tmp_path, WEAK)))}
    assert found == {"`>` -> `>=`", "`£100` -> `£99`", "`£100` -> `£101`", "`10%` -> `9%`", "`10%` -> `11%`",
                     "`£0` -> `-£1`", "`£0` -> `£1`"}


def test_a_weak_test_misses_the_boundary_and_a_stronger_one_kills_it(tmp_path):
    weak = mutate(compile_pack(_pack(tmp_path, WEAK)), Register(), workers=1)
    survivors = {o.mutant.change: o.mutant for o in weak.survivors}
    assert "`>` -> `>=`" in survivors and "`£100` -> `£101`" in survivors
    assert survivors["`>` -> `>=`"].line == 10 and survivors["`>` -> `>=`"].after.strip() == "= if m >= £100 then m * 10% else £0"
    assert all(o.status == KILLED for o in weak.outcomes if "10%" in o.mutant.change)
    strong = mutate(compile_pack(_pack(tmp_path, STRONG)), Register(), workers=1)
    statuses = {o.mutant.change: o.status for o in strong.outcomes}
    assert statuses["`>` -> `>=`"] == KILLED and statuses["`£100` -> `£101`"] == KILLED
    assert statuses["`£0` -> `£1`"] == KILLED and strong.score() > weak.score()


def test_parallel_and_in_process_give_the_same_report(tmp_path):
    program = compile_pack(_pack(tmp_path, WEAK))
    assert mutate(program, Register(), workers=2) == mutate(program, Register(), workers=1)


def test_an_equivalent_mutant_in_the_register_is_reported_apart(tmp_path):
    program = compile_pack(_pack(tmp_path, WEAK))
    file = program.tests[0].span.file
    register = read_register_text('[[equivalent]]\nfile = "rules.plan"\nline = 10\nmutant = "`>` -> `>=`"\n'
                                  'reason = "at exactly £100 ten per cent is £10 either way"\n', "a.toml")
    report = mutate(program, register, workers=1)
    (outcome,) = [o for o in report.outcomes if o.mutant.change == "`>` -> `>=`"]
    assert outcome.status == SURVIVED and outcome.equivalent and outcome not in report.survivors
    assert file.endswith("rules.plan")


def test_the_command_lists_survivors_as_one_line_diffs_with_file_and_line(tmp_path, capsys):
    pack = _pack(tmp_path, WEAK)
    capsys.readouterr()
    assert main(["mutate", str(pack), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "rules.plan:10:10: `>` -> `>=`\n  - = if m > £100 then m * 10% else £0\n  + = if m >= £100 then m * 10% else £0" in out
    assert main(["mutate", str(pack), "--workers", "1", "--fail-under", "100"]) == 1
    capsys.readouterr()
    assert main(["mutate", str(pack), "--workers", "1", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["files"][0]["counts"]["survived"] >= 2
    assert document["digest"] == pack_digest(compile_pack(pack), Register())


def test_the_digest_is_of_the_files_and_the_equivalents_not_of_where_the_pack_is(tmp_path):
    for name in "abc":
        (tmp_path / name).mkdir()
    weak, elsewhere, strong = (_pack(tmp_path / name, tests) for name, tests in (("a", WEAK), ("b", WEAK), ("c", STRONG)))
    register = read_register_text('[[equivalent]]\nfile = "rules.plan"\nline = 10\nmutant = "`>` -> `>=`"\n'
                                  'reason = "r"\n', "a.toml")
    digest = pack_digest(compile_pack(weak), Register())
    assert digest.startswith("sha256:") and digest == pack_digest(compile_pack(elsewhere), Register())
    assert digest != pack_digest(compile_pack(strong), Register())
    assert digest != pack_digest(compile_pack(weak), register)
