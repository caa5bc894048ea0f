"""`planlang diff`: what changed between two rulebooks, matched by name, with renames found.

Each test edits a copy of a pack (or writes two small ones) and checks the typed changes, then the
three renderings of the real case: the 2020/21 FRF taper cut from 100% to 50%.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction

import pytest

from planlang.cli import main
from planlang.compiler import compile_pack, compile_sources
from planlang.render.diff import diff_markdown, diff_text, marked_words
from planlang.rulediff import diff_programs
from planlang.source import SourceFile

from conftest import HEADER, POLICIES, render

FRF = POLICIES / "2020_21"


def program(text: str):
    compiled, diagnostics = compile_sources([SourceFile("t.plan", HEADER + text)])
    assert compiled is not None, render(diagnostics, text)
    return compiled


def copy_with(tmp_path, pack, file, old, new):
    target = tmp_path / pack.name
    shutil.copytree(pack, target)
    text = (target / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {file}"
    (target / file).write_text(text.replace(old, new), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def taper_at_half(tmp_path_factory):
    return copy_with(tmp_path_factory.mktemp("taper"), FRF, "frf.plan",
                     '"FRF lost for each £1 of underperformance against the FIT"\n  = 100%',
                     '"FRF lost for each £1 of underperformance against the FIT"\n  = 50%')


def test_the_taper_cut_is_the_one_change_with_its_values_month_by_month(taper_at_half):
    diff = diff_programs(compile_pack(FRF), compile_pack(taper_at_half))
    [change] = diff.changes
    assert (change.name, change.kind, change.declaration) == ("frf_taper_rate", "changed", "parameter")
    assert change.replaces == ("frf_taper_rate",) and change.introduces == ("frf_taper_rate",)
    [value] = change.values
    assert (str(value.first), str(value.last), value.old, value.new) == ("2020-04", "2021-03", Fraction(1), Fraction(1, 2))
    [field] = change.fields
    assert (field.field, field.old, field.new) == ("value", "= 100%", "= 50%")


def test_the_same_pack_laid_out_differently_has_no_changes(tmp_path):
    relaid = copy_with(tmp_path, FRF, "frf.plan", "  = frf_allocation * frf_organisational_share",
                       "  = (frf_allocation)\n      * frf_organisational_share   # the same rule")
    respelt = copy_with(tmp_path / "respelt", relaid, "frf.plan", "= max(£0, frf_fit_plan_year - frf_projected_position)",
                        "= max(£0.00, frf_fit_plan_year - frf_projected_position)")
    assert diff_programs(compile_pack(FRF), compile_pack(respelt)).changes == ()


def test_a_changed_definition_shows_both_expressions_with_the_changed_words():
    old = program('define d : money\n  per system annual\n  = max(£0, £5 - £1)\n')
    new = program('define d : money\n  per system annual\n  = max(£0, £5 - £2)\n')
    [change] = diff_programs(old, new).changes
    [field] = change.fields
    assert (field.old, field.new) == ("max(£0, £5 - £1)", "max(£0, £5 - £2)")
    assert "[-£1-]{+£2+})" in diff_text(diff_programs(old, new))
    assert "~~£1~~**£2**)" in diff_markdown(diff_programs(old, new))


def test_a_near_identical_removed_and_added_pair_is_a_rename():
    body = '  "The system total"\n  per system annual\n  = £100 + £200\n'
    old = program("define system_total : money\n" + body + 'define other : money\n  per system annual\n  = £1\n')
    new = program("define total_for_system : money\n" + body + 'define fresh : count\n  per trust annual\n  = 7\n')
    kinds = {(c.kind, c.name, c.old_name) for c in diff_programs(old, new).changes}
    assert kinds == {("renamed", "total_for_system", "system_total"), ("removed", "other", None),
                     ("added", "fresh", None)}
    renamed = next(c for c in diff_programs(old, new).changes if c.kind == "renamed")
    assert renamed.replaces == ("system_total",) and renamed.introduces == ("total_for_system",)
    assert renamed.fields == ()


def test_a_declaration_that_changed_only_by_following_a_rename_says_so():
    body = '  "The system total"\n  per system annual\n  = £100 + £200\n'
    user = 'define {name} : money\n  per system annual\n  = {total} * 2\n'
    old = program("define system_total : money\n" + body + user.format(name="twice", total="system_total")
                  + user.format(name="other", total="system_total + £1"))
    new = program("define total_for_system : money\n" + body + user.format(name="twice", total="total_for_system")
                  + user.format(name="other", total="total_for_system + £2"))
    changes = {c.name: c for c in diff_programs(old, new).changes}
    assert changes["twice"].follows_renames == ("system_total",)
    assert changes["other"].follows_renames == ()  # its £1 became £2 as well
    assert "(changed only by the rename of system_total)" in diff_text(diff_programs(old, new))


def test_citations_and_interpretations_that_changed_are_listed():
    old = program('parameter p : percent\n  = 5%\n  cites "s.txt" §1 "five"\n')
    new = program('# Interpretation: five is a floor.\nparameter p : percent\n  = 5%\n  cites "s.txt" §2 "five"\n')
    [change] = diff_programs(old, new).changes
    assert [str(c) for c in change.citations_added] == ["s.txt §2"]
    assert [str(c) for c in change.citations_removed] == ["s.txt §1"]
    assert change.interpretations_added == ("Interpretation: five is a floor.",)
    assert change.fields == () and change.values == ()


def test_an_amendment_changes_only_the_months_from_its_date():
    old = program('parameter p : percent\n  = 5%\n')
    new = program('parameter p : percent\n  = 5%\namend p from 2021-10-01\n  = 6%\n')
    [change] = diff_programs(old, new).changes
    [value] = change.values
    assert (str(value.first), str(value.last), value.old, value.new) == ("2021-10", "2022-03", Fraction(5, 100),
                                                                          Fraction(6, 100))
    assert [(f.field, f.old, f.new) for f in change.fields] == [("amendments", None, "from 2021-10-01 = 6%")]


def test_packs_for_different_years_pair_the_months_and_say_so():
    diff = diff_programs(compile_pack(FRF), compile_pack(POLICIES / "2021_22"))
    assert not diff.same_year
    assert "paired month by month (2020-04 with 2021-04" in diff_text(diff)
    assert {c.kind for c in diff.changes} >= {"added", "removed"}


def test_marked_words_rebuild_both_texts():
    old, new = "if a > £1 then b else c", "if a >= £1 then b * 2 else c"
    pieces = marked_words(old, new)
    assert "".join(t for op, t in pieces if op != "new") == old
    assert "".join(t for op, t in pieces if op != "old") == new
    assert ("old", ">") in [(op, t.strip()) for op, t in pieces]


def test_the_cli_prints_text_json_and_markdown(taper_at_half, capsys):
    assert main(["diff", str(FRF), str(taper_at_half), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [change] = document["changes"]
    assert change["name"] == "frf_taper_rate" and change["kind"] == "changed"
    assert change["values"] == [{"first": "2020-04", "last": "2021-03", "old": "1", "new": "0.5"}]
    assert change["fields"][0]["marked"] == "= [-100%-]{+50%+}"
    assert main(["diff", str(FRF), str(taper_at_half), "--markdown"]) == 0
    paper = capsys.readouterr().out
    assert "## changed parameter frf_taper_rate" in paper and "| 2020-04 to 2021-03 | 100% | 50% |" in paper
    assert main(["diff", str(FRF), str(taper_at_half)]) == 0
    assert "value in 2020-04 to 2021-03: 100% -> 50%" in capsys.readouterr().out


def test_a_pack_that_does_not_compile_is_named(tmp_path, capsys):
    broken = copy_with(tmp_path, FRF, "frf.plan", "  = 100%", "  = 100% +")
    assert main(["diff", str(FRF), str(broken)]) == 1
    assert f"{broken}: the policy does not compile" in capsys.readouterr().err


def test_rules_shows_each_formula_and_each_parameters_values_and_amendments(taper_at_half, capsys):
    assert main(["rules", str(taper_at_half)]) == 0
    rows = {line.split(" | ")[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("| `")}
    assert "| `= 50%` |" in rows["| `frf_taper_rate`"]
    assert "| `= frf_allocation * frf_organisational_share` |" in rows["| `frf_org_element`"]
    amended = program('parameter p : percent\n  = 5%\n  cites "s.txt" §1\namend p from 2021-10-01\n  = 6%\n'
                      'flag f\n  per system annual\n  severity warning\n  when p > 5%\n  says "high"\n')
    from planlang.render import rulebook_markdown

    rows = {line.split(" | ")[0]: line for line in rulebook_markdown(amended).splitlines() if line.startswith("| `")}
    assert "| `= 5%; amended from 2021-10-01 = 6%` |" in rows["| `p`"]
    assert "| `when p > 5%` |" in rows["| `f`"]


@pytest.mark.parametrize("pack", sorted(p for p in POLICIES.iterdir() if p.is_dir()), ids=lambda p: p.name)
def test_a_shipped_pack_laid_out_anew_has_no_changes(pack, tmp_path):
    """Layout is never a change: every file scrambled (indents, spaces, blank lines) diffs as nothing."""
    from test_formatter import _scrambled

    copy = tmp_path / pack.name
    shutil.copytree(pack, copy)
    for seed, path in enumerate(sorted(copy.glob("*.plan"))):
        path.write_text(_scrambled(path.read_text(encoding="utf-8"), seed), encoding="utf-8")
    assert diff_programs(compile_pack(pack), compile_pack(copy)).changes == ()
