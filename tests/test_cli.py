"""The command line is a contract: its exit codes, its JSON, and one clear line for every bad input.

Exit codes: 0 success; 1 the policy has errors or its tests fail; 2 bad data; 3 a missing input under
``--strict``; 64 a usage error (the command line itself). No input, however bad, shows a Python traceback.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from planlang.cli import main
from planlang.compiler import compile_pack

from conftest import POLICIES, ROOT


def _erf_pack() -> str:
    """The 2021/22 ERF rules alone, as their own pack: the example data holds only the ERF's inputs."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="planlang-erf-")) / "erf_2021_22"
    folder.mkdir()
    for name in ("policy.plan", "erf.plan", "erf_worked_example.plan", "assurance.toml"):
        shutil.copyfile(POLICIES / "2021_22" / name, folder / name)
    return str(folder)


PACK = _erf_pack()
EXAMPLE = "examples/erf_worked_example.json"
EXPLAIN = ["explain", PACK, "--data", EXAMPLE, "--entity", "EXAMPLE2", "--period", "2021-05"]


@pytest.fixture(autouse=True)
def at_repository_root(monkeypatch):
    """Paths in messages are shown as given; run from the repository root so they are stable."""
    monkeypatch.chdir(ROOT)


def cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in err
    return code, out, err


def assert_one_line_error(err: str, *needles: str) -> str:
    """One `planlang: error: ...` line, optionally followed by `  help: ...`; returns the error line."""
    lines = err.rstrip("\n").splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith("planlang: error: "), err
    assert all(line.startswith("  help: ") for line in lines[1:]), f"more than one line of error:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in:\n{err}"
    return lines[0]


# ---- data files written for a test ---------------------------------------------------------------

def two_systems() -> dict:
    """SYS1 and SYS2 for May and June 2021; SYS1 has no erf_actual for June."""
    return {
        "organisations": [
            {"code": "SYS1", "name": "System 1", "kind": "system", "system": None},
            {"code": "SYS2", "name": "System 2", "kind": "system", "system": None},
        ],
        "inputs": {
            "erf_baseline": {code: {"2021-05": "£30,000,000", "2021-06": "£30,000,000"} for code in ("SYS1", "SYS2")},
            "erf_actual": {
                "SYS1": {"2021-05": "£26,000,000"},
                "SYS2": {"2021-05": "£26,000,000", "2021-06": "£28,000,000"},
            },
        },
    }


def write_json(tmp_path: Path, document, name: str = "data.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def changed(change) -> dict:
    document = copy.deepcopy(two_systems())
    change(document)
    return document


# ---- the happy paths -----------------------------------------------------------------------------

def test_check_the_2021_22_pack(capsys):
    code, out, err = cli(capsys, "check", PACK)
    assert code == 0
    assert out.strip().splitlines()[-1] == f"{PACK}: ok: 0 errors, 0 warnings"
    assert err == ""


def test_the_2021_22_pack_passes_its_own_tests(capsys):
    code, out, _ = cli(capsys, "test", PACK)
    assert code == 0
    assert re.fullmatch(r"\d+ passed, 0 failed", out.strip().splitlines()[-1])
    assert "FAIL" not in out


def test_a_failing_policy_test_exits_1(tmp_path, capsys):
    pack = tmp_path / "pack"
    shutil.copytree(POLICIES / "2021_22", pack)
    with (pack / "erf_worked_example.plan").open("a", encoding="utf-8") as file:
        file.write('\ntest "a deliberately wrong expectation"\n  system WRONG\n  period 2021-05\n'
                   '  given erf_baseline = £30,000,000\n  expect erf_lower_threshold = £1\n')
    code, out, _ = cli(capsys, "test", pack)
    assert code == 1
    assert re.fullmatch(r"\d+ passed, 1 failed", out.strip().splitlines()[-1])
    assert "FAIL  a deliberately wrong expectation" in out


def run_json(capsys, *argv) -> dict:
    code, out, err = cli(capsys, "run", PACK, "--json", *argv)
    assert code == 0, err
    return json.loads(out)  # one JSON object and nothing else on stdout


def test_run_json_is_one_object_with_the_documented_keys(capsys):
    document = run_json(capsys, "--data", EXAMPLE)
    assert isinstance(document, dict)
    assert {"policy", "results", "flags", "missing", "defaults"} <= set(document)
    assert document["policy"] == "2021/22 priorities and operational planning guidance"
    assert document["flags"] == []
    assert document["missing"] == []


def test_run_json_money_is_a_string_to_the_penny(capsys):
    results = run_json(capsys, "--data", EXAMPLE)["results"]
    assert results["erf_lower_threshold"]["EXAMPLE2"]["2021-05"] == "19857142.86"
    assert results["erf_upper_threshold"]["EXAMPLE2"]["2021-05"] == "22571428.57"
    assert results["erf_additional_funding"]["EXAMPLE2"]["2021-05"] == "6828571.43"
    assert results["erf_additional_funding"]["EXAMPLE1"]["2021-04"] == "0.00"
    declarations = compile_pack(POLICIES / "2021_22").declarations
    money = [name for name, decl in declarations.items() if getattr(decl, "type", None) == "money" and name in results]
    assert len(money) >= 5
    for name in money:
        for by_period in results[name].values():
            for value in by_period.values():
                assert isinstance(value, str) and re.fullmatch(r"-?\d+\.\d\d", value), (name, value)


def test_run_json_percentages_and_ratios_are_decimal_strings(capsys):
    results = run_json(capsys, "--data", EXAMPLE)["results"]
    assert results["erf_threshold_pct"]["EXAMPLE2"]["2021-05"] == "0.75"
    ratio = results["erf_working_day_adjustment"]["EXAMPLE2"]["2021-05"]  # 19 / 21 working days
    assert isinstance(ratio, str) and re.fullmatch(r"\d+\.\d+", ratio)
    assert abs(Fraction(ratio) - Fraction(19, 21)) < Fraction(1, 10**9)
    for by_entity in results.values():  # no binary floating point anywhere in the results
        for by_period in by_entity.values():
            assert all(isinstance(v, (str, bool)) or v is None for v in by_period.values())


def test_run_text(capsys):
    code, out, _ = cli(capsys, "run", PACK, "--data", EXAMPLE)
    assert code == 0
    assert "erf_additional_funding" in out
    assert "£6,828,571.43" in out


def test_run_says_how_many_entity_periods_assumed_each_default(tmp_path, capsys):
    """Two systems for two months: the gateway is given once (3 of 4 assume it), the adjustment never."""
    document = changed(lambda d: d["inputs"].update({"erf_gateway_met": {"SYS1": {"2021-05": False}}}))
    path = write_json(tmp_path, document)
    code, out, _ = cli(capsys, "run", PACK, "--data", path)
    assert code == 0
    section = out[out.index("Assumed defaults"):].splitlines()
    assert "  erf_gateway_met = true: assumed for 3 of 4 entity-periods" in section
    assert "  erf_counting_coding_adjustment = £0: assumed for 4 of 4 entity-periods" in section
    defaults = {d["input"]: d for d in run_json(capsys, "--data", path)["defaults"]}
    assert defaults["erf_gateway_met"] == {"input": "erf_gateway_met", "default": "true", "assumed": 3, "of": 4}
    assert defaults["erf_counting_coding_adjustment"]["assumed"] == 4


def test_run_with_every_default_overridden_assumes_none(tmp_path, capsys):
    document = changed(lambda d: d["inputs"].update({
        "erf_gateway_met": {code: {"2021-05": True, "2021-06": True} for code in ("SYS1", "SYS2")},
        "erf_counting_coding_adjustment": {code: {"2021-05": "£0", "2021-06": "£0"} for code in ("SYS1", "SYS2")}}))
    defaults = run_json(capsys, "--data", write_json(tmp_path, document))["defaults"]
    assert sorted((d["input"], d["assumed"], d["of"]) for d in defaults) == [
        ("erf_counting_coding_adjustment", 0, 4), ("erf_gateway_met", 0, 4)]


def test_rules_lists_what_the_pack_does_not_encode(capsys):
    code, out, _ = cli(capsys, "rules", POLICIES / "2021_22")
    assert code == 0
    section = out[out.index("### In the source, not encoded in 2021/22"):]
    assert '- `002_0a239ee164b5232a.txt` §6.3: "by noon on the submission deadline"; why: submissions are recorded by date' in section
    listed = sum(len(source.unencoded) for source in compile_pack(POLICIES / "2021_22").sources.values())
    assert section.count("\n- `002_") == listed > 0


def test_explain_prints_the_tree_with_bands_citation_and_origin(capsys):
    code, out, _ = cli(capsys, *EXPLAIN, "erf_additional_funding")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "erf_additional_funding for EXAMPLE2 in 2021-05 = £6,828,571.43"
    assert "band 1: from £0.00 up to £19,857,142.86 (erf_lower_threshold) at 0%" in out
    assert "band 2: from £19,857,142.86 up to £22,571,428.57 (erf_upper_threshold) at 100%: £2,714,285.71 pays £2,714,285.71" in out
    assert re.search(r"band 3: .* at 120%: £3,428,571.43 pays £4,114,285.71  <- the amount ends in this band", out)
    assert 'cites 002_0a239ee164b5232a.txt §3 "There are no downside adjustments;' in out
    assert f"input from {EXAMPLE}: inputs.erf_actual.EXAMPLE2.2021-05" in out
    assert "input not in the data: the declared default is assumed" in out  # erf_gateway_met
    assert any(line.startswith(("├─ ", "└─ ")) for line in lines)


def test_explain_json_is_a_tree(capsys):
    code, out, _ = cli(capsys, *EXPLAIN, "--json", "erf_additional_funding")
    assert code == 0
    root = json.loads(out)
    assert root["label"] == "erf_additional_funding"
    assert root["value"] == "6828571.43"
    assert root["children"]

    def walk(node):
        yield node
        for child in node["children"]:
            yield from walk(child)

    nodes = list(walk(root))
    actual = next(n for n in nodes if n["label"] == "erf_actual")
    assert actual["detail"]["origin"] == f"{EXAMPLE}: inputs.erf_actual.EXAMPLE2.2021-05"
    bands = next(n for n in nodes if n["kind"] == "bands")
    assert [row["payment"] for row in bands["detail"]["rows"]] == ["0.00", "2714285.71", "4114285.71"]
    assert any(c["source"] == "002_0a239ee164b5232a.txt" and c["section"] == "§3.2" for c in root["citations"])


# ---- missing inputs --------------------------------------------------------------------------------

def test_strict_exits_3_naming_the_missing_input_entity_and_period(tmp_path, capsys):
    data = write_json(tmp_path, two_systems())
    code, out, err = cli(capsys, "run", PACK, "--data", data, "--strict", "--json")
    assert code == 3
    assert out == ""
    problem = next(line for line in err.splitlines() if "erf_actual" in line)
    assert "SYS1" in problem and "2021-06" in problem
    assert "SYS2" not in err


def test_without_strict_a_missing_input_is_reported_not_zero(tmp_path, capsys):
    data = write_json(tmp_path, two_systems())
    document = run_json(capsys, "--data", data)
    missing = document["missing"]
    funding = [m for m in missing if m["output"] == "erf_additional_funding"]
    assert funding == [{"output": "erf_additional_funding", "entity": "SYS1", "period": "2021-06",
                        "because": funding[0]["because"]}]
    assert "erf_actual" in funding[0]["because"] and "SYS1" in funding[0]["because"]
    assert {m["entity"] for m in missing} == {"SYS1"}
    results = document["results"]["erf_additional_funding"]
    assert results["SYS1"]["2021-06"] is None  # missing, never zero
    assert results["SYS1"]["2021-05"] == "6228571.43"  # the month with data still computes
    assert results["SYS2"] == {"2021-05": "6228571.43", "2021-06": "1600000.00"}  # other systems unaffected
    # the thresholds do not need erf_actual, so they are there for SYS1 in June
    assert document["results"]["erf_lower_threshold"]["SYS1"]["2021-06"] == "26400000.00"  # 80% x 22/20 x £30m


# ---- bad input: exit 2 (data) or 64 (usage) with one clear line, never a traceback -------------------------------------

def test_nonexistent_policy_folder(capsys):
    code, out, err = cli(capsys, "check", "policies/no_such_year")
    assert code == 2 and out == ""
    assert_one_line_error(err, "policies/no_such_year", "not a folder")


def test_policy_folder_without_plan_files(tmp_path, capsys):
    code, _, err = cli(capsys, "run", tmp_path, "--data", EXAMPLE)
    assert code == 2
    assert_one_line_error(err, str(tmp_path), "no .plan files")


def test_nonexistent_data_file(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    code, out, err = cli(capsys, "run", PACK, "--data", missing)
    assert code == 2 and out == ""
    assert_one_line_error(err, str(missing), "no such file")


def test_a_csv_data_file_laid_out_like_a_workbook_sheet(tmp_path, capsys):
    data = tmp_path / "data.csv"
    data.write_text("code,period,erf_actual\nSYS1,2021-05,26000000\n", encoding="utf-8")
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}: has no organisations file beside it", "add data.organisations.csv")
    (tmp_path / "data.organisations.csv").write_text("code,kind\nSYS1,system\n", encoding="utf-8")
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}: row 1, column erf_actual: unknown column 'erf_actual'",
                          "one row per value, naming its input in the column 'input'")


def test_data_path_that_is_a_folder(tmp_path, capsys):
    code, _, err = cli(capsys, "run", PACK, "--data", tmp_path)
    assert code == 2
    line = assert_one_line_error(err, str(tmp_path))
    assert "folder" in line
    assert "suffix file" not in line


def test_malformed_json_gives_line_and_column(tmp_path, capsys):
    data = tmp_path / "data.json"
    data.write_text('{"organisations": [\n  {"code": "SYS1",}\n], "inputs": {}}\n', encoding="utf-8")
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}:2:", "not valid JSON")
    assert re.search(re.escape(str(data)) + r":2:\d+", err)


def test_unknown_entity_code_in_the_data(tmp_path, capsys):
    data = write_json(tmp_path, changed(lambda d: d["inputs"]["erf_actual"].update(SYS9={"2021-05": 1})))
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}: inputs.erf_actual.SYS9", "'SYS9'")


def test_unknown_input_name_with_did_you_mean(tmp_path, capsys):
    data = write_json(tmp_path, changed(lambda d: d["inputs"].update(erf_actaul=d["inputs"].pop("erf_actual"))))
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}: inputs.erf_actaul", "not an input", "did you mean `erf_actual`?")


def test_bad_period_in_the_data(tmp_path, capsys):
    data = write_json(tmp_path, changed(lambda d: d["inputs"]["erf_actual"]["SYS1"].update({"2021-13": 1})))
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}: inputs.erf_actual.SYS1.2021-13", "month 13")


def test_non_numeric_amount_in_the_data(tmp_path, capsys):
    data = write_json(tmp_path, changed(lambda d: d["inputs"]["erf_actual"]["SYS1"].update({"2021-05": "lots"})))
    code, _, err = cli(capsys, "run", PACK, "--data", data)
    assert code == 2
    assert_one_line_error(err, f"{data}: inputs.erf_actual.SYS1.2021-05", "'lots'")


def test_strict_with_bad_data_is_still_a_data_error(tmp_path, capsys):
    data = write_json(tmp_path, changed(lambda d: d["inputs"]["erf_actual"]["SYS1"].update({"2021-05": "lots"})))
    code, _, err = cli(capsys, "run", PACK, "--data", data, "--strict")
    assert code == 2
    assert_one_line_error(err, "'lots'")


def test_explain_unknown_name_with_did_you_mean(capsys):
    code, out, err = cli(capsys, *EXPLAIN, "erf_additonal_funding")
    assert code == 64 and out == ""
    assert_one_line_error(err, "`erf_additonal_funding` is not declared", "did you mean `erf_additional_funding`?")


def test_explain_unknown_entity(capsys):
    argv = ["explain", PACK, "--data", EXAMPLE, "--entity", "EXAMPEL2", "--period", "2021-05", "erf_additional_funding"]
    code, _, err = cli(capsys, *argv)
    assert code == 64
    assert_one_line_error(err, "--entity", "'EXAMPEL2'", "did you mean `EXAMPLE2`?")


def test_explain_bad_period(capsys):
    argv = ["explain", PACK, "--data", EXAMPLE, "--entity", "EXAMPLE2", "--period", "2021-13", "erf_additional_funding"]
    code, _, err = cli(capsys, *argv)
    assert code == 64
    assert_one_line_error(err, "--period", "2021-13")


def test_explain_period_of_the_wrong_granularity(capsys):
    argv = ["explain", PACK, "--data", EXAMPLE, "--entity", "EXAMPLE2", "--period", "2021/22 Q1", "erf_additional_funding"]
    code, _, err = cli(capsys, *argv)
    assert code == 64
    assert_one_line_error(err, "--period", "monthly", "2021/22 Q1", "quarter")


@pytest.mark.parametrize("argv, option", [
    (["run", PACK], "--data"),
    (["frobnicate", PACK], "frobnicate"),
    (["explain", PACK, "--data", EXAMPLE, "erf_actual", "extra"], "extra"),
], ids=["run without --data", "unknown command", "explain with two names"])
def test_usage_errors_exit_64(argv, option, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 64
    assert "usage: planlang" in err
    assert option in err.splitlines()[-1]
    assert "Traceback" not in out + err


def test_explain_without_name_asks_for_one_or_all(capsys):
    code, _, err = cli(capsys, "explain", PACK, "--data", EXAMPLE, "--entity", "EXAMPLE2", "--period", "2021-05")
    assert code == 64
    assert_one_line_error(err, "NAME", "--all")


def test_explain_asks_for_an_entity_only_when_the_value_has_one(capsys):
    code, _, err = cli(capsys, "explain", PACK, "--data", EXAMPLE, "--period", "2021-05", "erf_actual")
    assert code == 64
    assert_one_line_error(err, "--entity", "per system")
    code, out, _ = cli(capsys, "explain", PACK, "--data", EXAMPLE, "--period", "2021-05", "erf_thresholds")
    assert code == 0 and out.startswith("erf_thresholds in 2021-05 = 75%")


def test_a_pack_with_a_syntax_error_makes_run_exit_1(tmp_path, capsys):
    pack = tmp_path / "pack"
    shutil.copytree(POLICIES / "2021_22", pack)
    with (pack / "erf.plan").open("a", encoding="utf-8") as file:
        file.write('\ndefine broken : money\n  per system monthly\n  = erf_actual * * 2\n'
                   '  cites "002_0a239ee164b5232a.txt" §3\n')
    lines = (pack / "erf.plan").read_text(encoding="utf-8").splitlines()
    line = lines.index("  = erf_actual * * 2") + 1
    code, out, err = cli(capsys, "run", pack, "--data", EXAMPLE)
    assert code == 1
    assert out == ""
    assert re.search(rf"erf\.plan:{line}:18: error: unexpected `\*`", err)
    assert "  = erf_actual * * 2" in err
    assert err.rstrip().endswith("the policy does not compile: 1 error, 0 warnings")


# ---- through a real process ------------------------------------------------------------------------

def run_process(*argv) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "planlang.cli", *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert "Traceback" not in done.stdout + done.stderr
    return done


def test_process_check_and_run_json():
    done = run_process("check", PACK)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok: 0 errors, 0 warnings")
    done = run_process("run", PACK, "--data", EXAMPLE, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"]["erf_lower_threshold"]["EXAMPLE2"]["2021-05"] == "19857142.86"


def test_process_bad_data_exits_2_with_one_line(tmp_path):
    done = run_process("run", PACK, "--data", tmp_path / "nope.json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert_one_line_error(done.stderr, "no such file")



# ---- depth: long expressions and long chains of definitions ----------------------------------------

def _deep_pack(tmp_path: Path, value: str, *extra: str) -> Path:
    pack = tmp_path / "deep"
    pack.mkdir()
    definitions = [f'define total : money\n  per system monthly\n  "total"\n  = {value}\n  cites "s.txt" §1', *extra]
    (pack / "rules.plan").write_text('policy "deep" for 2021/22\nsource "s.txt" "S"\n' + "\n".join(definitions) + "\n",
                                     encoding="utf-8")
    return pack


def test_a_sum_of_thousands_of_terms_is_checked_run_and_explained(tmp_path, capsys):
    pack = _deep_pack(tmp_path, " + ".join(["£1"] * 3000))
    data = write_json(tmp_path, {"organisations": [{"code": "S", "kind": "system"}], "inputs": {}})
    assert cli(capsys, "check", pack)[0] == 0
    code, out, _ = cli(capsys, "run", pack, "--data", data, "--json")
    assert code == 0
    assert json.loads(out)["results"]["total"]["S"]["2021-04"] == "3000.00"
    code, out, _ = cli(capsys, "explain", pack, "--data", data, "--entity", "S", "--period", "2021-04", "total")
    assert code == 0 and out.startswith("total for S in 2021-04 = £3,000.00")


def test_a_long_chain_of_definitions_is_explained(tmp_path, capsys):
    chain = [f'define step{k} : money\n  per system monthly\n  "step"\n  = {f"step{k - 1}" if k else "£0"} + £1\n'
             f'  cites "s.txt" §1' for k in range(1500)]
    pack = _deep_pack(tmp_path, "step1499", *chain)
    data = write_json(tmp_path, {"organisations": [{"code": "S", "kind": "system"}], "inputs": {}})
    code, out, _ = cli(capsys, "explain", pack, "--data", data, "--entity", "S", "--period", "2021-04", "total")
    assert code == 0
    assert out.startswith("total for S in 2021-04 = £1,500.00")
    # the drawing stops 60 levels down (each level indents it further) and says where to go on from
    assert max(map(len, out.splitlines())) < 400
    cut = re.search(r"└─ … ([\d,]+) deeper steps not drawn: the drawing stops 60 levels down "
                    r"\(explain (step\d+) to continue from here\)", out)
    assert cut, out[-500:]
    code, rest, _ = cli(capsys, "explain", pack, "--data", data, "--entity", "S", "--period", "2021-04", cut[2])
    assert code == 0 and rest.startswith(f"{cut[2]} for S in 2021-04 = ")
    step = int(cut[2].removeprefix("step"))
    assert rest.startswith(f"{cut[2]} for S in 2021-04 = £{step + 1:,}.00")


def test_nesting_beyond_any_stack_is_a_placed_error(tmp_path, capsys):
    pack = _deep_pack(tmp_path, "-" * 60_000 + "£1")
    code, out, err = cli(capsys, "check", pack)
    assert code == 1 and err == ""
    first = out.splitlines()[0]
    assert re.fullmatch(r"\S+rules\.plan:6:\d+: error: this expression nests more than 10,000 levels deep, .*", first), first
    assert "help: split it into named definitions" in out
