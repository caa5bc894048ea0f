"""Impact attribution in `planlang diff --data --output`: Shapley shares of a change among the rule changes.

The shares are checked against packs written out and compiled from files (not the hybrid programs
the attribution builds), and against the Shapley formula worked by hand over those runs.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from itertools import permutations

import pytest

from planlang.cli import main
from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.impact import attribute
from planlang.rulediff import diff_programs
from planlang.run import evaluate

from conftest import ROOT

PACK = ROOT / "policies" / "2020_21"
DATA = ROOT / "examples" / "2020_21.xlsx"
OUTPUT = "frf_earned_year"
EDITS = {  # the three changes: (old text, new text) in frf.plan
    "frf_taper_rate": ("  = 100%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"Trusts and CCGs will lose",
                       "  = 50%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"Trusts and CCGs will lose"),
    "frf_organisational_share": ("  = 50%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"50% of FRF",
                                 "  = 60%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"50% of FRF"),
    "frf_system_share": ("  = 50%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"The other 50%",
                         "  = 40%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"The other 50%"),
}


def pack_with(tmp_path, names, label: str):
    folder = tmp_path / label
    shutil.copytree(PACK, folder)
    text = (folder / "frf.plan").read_text(encoding="utf-8")
    for name in names:
        old, new = EDITS[name]
        assert text.count(old) == 1, name
        text = text.replace(old, new)
    (folder / "frf.plan").write_text(text, encoding="utf-8")
    return folder


def total(folder) -> Fraction:
    program = compile_pack(folder)
    results = evaluate(program, load_data(DATA, program))
    return sum((results.get(OUTPUT, e, p) for e, p in results.scope[OUTPUT]), Fraction(0))


def test_the_taper_at_50pct_takes_the_whole_change(tmp_path, capsys):
    new = pack_with(tmp_path, ["frf_taper_rate"], "taper")
    capsys.readouterr()
    assert main(["diff", str(PACK), str(new), "--data", str(DATA), "--output", OUTPUT, "--json"]) == 0
    impact = json.loads(capsys.readouterr().out)["impact"][OUTPUT]
    assert impact["by_change"] == {"frf_taper_rate": impact["difference"]}
    assert Fraction(impact["difference"]) == total(new) - total(PACK) != 0


def test_three_changes_share_the_difference_as_the_shapley_formula_says(tmp_path):
    names = sorted(EDITS)
    new = pack_with(tmp_path, names, "all")
    old_program, new_program = compile_pack(PACK), compile_pack(new)
    impacts = attribute(diff_programs(old_program, new_program), load_data(DATA, old_program),
                        load_data(DATA, new_program), [OUTPUT])
    shares = impacts[0].by_player
    assert set(shares) == set(names)
    assert sum(shares.values(), Fraction(0)) == impacts[0].difference == total(new) - total(PACK)
    # the formula by hand: the average marginal effect over the 6 orders, each run from packs on disk
    value = {}
    for size in range(len(names) + 1):
        for subset in permutations(names, size):
            key = frozenset(subset)
            if key not in value:
                value[key] = total(pack_with(tmp_path, sorted(key), "-".join(sorted(key)) or "none"))
    for name in names:
        by_hand = Fraction(0)
        for order in permutations(names):
            before = frozenset(order[:order.index(name)])
            by_hand += value[before | {name}] - value[before]
        assert shares[name] == by_hand / 6, name


def test_the_shares_do_not_depend_on_the_order_the_changes_are_written_in(tmp_path):
    names = sorted(EDITS)
    new = pack_with(tmp_path, names, "in_place")
    moved = pack_with(tmp_path, [], "moved")
    # the same three new parameters, declared in a file of their own that sorts first, removed from frf.plan
    text = (moved / "frf.plan").read_text(encoding="utf-8")
    blocks = []
    for name in reversed(names):
        start = text.index(f"parameter {name} ")
        end = text.index("\n\n", start) + 2
        block = text[start:end]
        old, edited = EDITS[name]
        blocks.append(block.replace(old, edited))
        text = text[:start] + text[end:]
    (moved / "frf.plan").write_text(text, encoding="utf-8")
    (moved / "aa_parameters.plan").write_text("".join(blocks), encoding="utf-8")
    old_program = compile_pack(PACK)
    results = []
    for folder in (new, moved):
        program = compile_pack(folder)
        (impact,) = attribute(diff_programs(old_program, program), load_data(DATA, old_program),
                              load_data(DATA, program), [OUTPUT])
        results.append(dict(impact.by_player))
    assert results[0] == results[1]


def test_packs_of_different_years_are_not_set_side_by_side(capsys):
    capsys.readouterr()
    code = main(["diff", str(ROOT / "policies" / "2019_20"), str(PACK), "--data", str(DATA), "--output", OUTPUT])
    _, err = capsys.readouterr()
    assert code == 2 and "different years" in err


@pytest.mark.parametrize("argv", [["--data", str(DATA)], ["--output", OUTPUT]])
def test_impact_needs_both_data_and_outputs(argv, capsys):
    assert main(["diff", str(PACK), str(PACK), *argv]) == 64
