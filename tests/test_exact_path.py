"""The exact path of `run`, end to end: rules missing for want of data said once, and the grammar's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from planlang import parser as planlang_parser
from planlang.cli import main

from conftest import EXAMPLES, POLICIES

WORKED = EXAMPLES / "erf_worked_example.json"


def _run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, out


def _json(capsys, *argv) -> dict:
    code, out = _run(capsys, "run", POLICIES / "2021_22", *argv, "--json")
    assert code == 0
    return json.loads(out)


def _cells(document) -> set[tuple[str, str, str]]:
    return {(m["output"], m["entity"], m["period"]) for m in document["missing"]}


def test_a_rule_with_no_data_is_said_once_and_all_missing_lists_its_cells(capsys):
    short = _json(capsys, "--data", WORKED)
    full = _json(capsys, "--data", WORKED, "--all-missing")
    rules = {r["output"]: r for r in short["missing_rules"]}
    assert short["missing_rules"] == full["missing_rules"] and rules
    # every cell of a summarised rule is in the full list, none in the short one, and the counts agree
    for name, rule in rules.items():
        listed = {c for c in _cells(full) if c[0] == name}
        assert len(listed) == rule["entity_periods"] > 0
        assert not {c for c in _cells(short) if c[0] == name}
    assert _cells(short) | {c for c in _cells(full) if c[0] in rules} == _cells(full)
    assert rules["system_outpatient_attendances"]["member_kinds"] == ["trust"]
    assert rules["non_elective_demand_off_assumption"]["inputs"] == ["non_elective_demand_2019_20",
                                                                     "non_elective_demand_plan"]
    # the figures themselves do not change
    assert short["results"] == full["results"]


def test_a_rule_whose_input_is_given_for_some_organisations_is_listed_cell_by_cell(capsys, tmp_path):
    data = json.loads(WORKED.read_text(encoding="utf-8"))
    data["inputs"]["covid_ga_bed_occupancy_pct"] = {"EXAMPLE1": {"2021-04": "3%"}}
    path = tmp_path / "some.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    document = _json(capsys, "--data", path)
    assert "covid_ga_bed_occupancy_above_assumption" not in {r["output"] for r in document["missing_rules"]}
    listed = {c for c in _cells(document) if c[0] == "covid_ga_bed_occupancy_above_assumption"}
    assert ("covid_ga_bed_occupancy_above_assumption", "EXAMPLE2", "2021-04") in listed
    assert ("covid_ga_bed_occupancy_above_assumption", "EXAMPLE1", "2021-04") not in listed


def test_entity_selection_counts_only_the_cells_shown(capsys):
    document = _json(capsys, "--data", WORKED, "--entity", "EXAMPLE1")
    everyone = _json(capsys, "--data", WORKED)
    mine = {r["output"]: r["entity_periods"] for r in document["missing_rules"]}
    for rule in everyone["missing_rules"]:
        assert mine[rule["output"]] * 3 == rule["entity_periods"]  # the example has three systems


def test_the_receipt_is_the_same_with_and_without_all_missing(capsys, tmp_path):
    short = _json(capsys, "--data", WORKED)
    full = _json(capsys, "--data", WORKED, "--all-missing")
    assert short["receipt"]["digest"] == full["receipt"]["digest"]
    for name, document in (("short", short), ("full", full)):
        saved = tmp_path / f"{name}.json"
        saved.write_text(json.dumps(document), encoding="utf-8")
        code, out = _run(capsys, "verify", saved)
        assert code == 0 and "identical" in out, out


def test_a_receipt_listing_every_missing_cell_still_verifies(capsys, tmp_path):
    # a receipt written before rules missing for want of data were summarised lists each of their cells
    receipt_path = tmp_path / "receipt.json"
    code, _ = _run(capsys, "run", POLICIES / "2021_22", "--data", WORKED, "--receipt", receipt_path)
    assert code == 0
    receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    full = _json(capsys, "--data", WORKED, "--all-missing")
    receipt["outcome"]["missing"] = sorted(f"{m['output']} [{m['entity']}, {m['period']}]" for m in full["missing"])
    del receipt["receipt_digest"]  # a receipt that old had no digest of itself
    assert not any("[all " in item for item in receipt["outcome"]["missing"])
    receipt_path.write_text(json.dumps(receipt), encoding="utf-8")
    code, out = _run(capsys, "verify", receipt_path)
    assert code == 0 and "identical" in out, out
    # and a cell taken out of that list is still found
    receipt["outcome"]["missing"].pop(0)
    receipt_path.write_text(json.dumps(receipt), encoding="utf-8")
    code, out = _run(capsys, "verify", receipt_path)
    assert code == 1 and ": new" in out, out


def test_strict_still_names_every_missing_input(capsys):
    capsys.readouterr()
    code = main(["run", str(POLICIES / "2021_22"), "--data", str(WORKED), "--strict"])
    err = capsys.readouterr().err
    assert code == 3
    assert "input cgm_offered_pct has no value for EXAMPLE1 in 2021/22" in err


# ---- the grammar's cache ----

@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PLANLANG_NO_CACHE", raising=False)
    return tmp_path / "cache"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="the cache is kept only where files have owners")
def test_the_cache_folder_is_private_and_a_file_others_could_write_is_never_read(cache_home):
    path = planlang_parser._cache_file("k")
    assert path is not None and path.startswith(str(cache_home))
    assert os.stat(cache_home / "planlang").st_mode & 0o777 == 0o700
    with open(path, "wb") as planted:
        planted.write(b"not a pickle of ours")
    os.chmod(path, 0o666)
    assert planlang_parser._cache_file("k") is None
    os.unlink(path)
    os.symlink(cache_home / "elsewhere", path)
    assert planlang_parser._cache_file("k") is None
    os.unlink(path)
    os.chmod(cache_home / "planlang", 0o777)
    assert planlang_parser._cache_file("k") is None


def test_an_unwritable_cache_place_means_no_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder would go
    assert planlang_parser._cache_file("k") is None


def test_the_cached_parser_reads_as_the_one_built(tmp_path):
    script = ("from planlang.parser import vocabulary, parse_source; from planlang.source import SourceFile;"
              "from pathlib import Path; p = Path(r'%s');"
              "print(vocabulary()); print(parse_source(SourceFile(str(p), p.read_text(encoding='utf-8')))[0])"
              % (POLICIES / "2021_22" / "erf.plan"))
    outputs = []
    for no_cache in (True, False, False):  # built; built and written to the cache; read from the cache
        env = {k: v for k, v in os.environ.items() if k != "PLANLANG_NO_CACHE"} | {"XDG_CACHE_HOME": str(tmp_path)}
        env |= {"PLANLANG_NO_CACHE": "1"} if no_cache else {}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2] and outputs[0]
    assert list((tmp_path / "planlang").glob("grammar-*.lark"))


# ---- where a JSON value was read ----

def test_a_json_value_s_place_is_the_period_as_written(tmp_path):
    from planlang.compiler import compile_pack
    from planlang.data import load_data
    from planlang.periods import parse_period

    data = json.loads(WORKED.read_text(encoding="utf-8"))
    data["inputs"]["erf_actual"]["EXAMPLE1"] = {" 2021-04": 1, "2021-05": 2}
    path = tmp_path / "written.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    dataset = load_data(path, compile_pack(POLICIES / "2021_22"))
    april, may = (("erf_actual", "EXAMPLE1", parse_period(p)) for p in ("2021-04", "2021-05"))
    assert dataset.origins[april] == f"{path}: inputs.erf_actual.EXAMPLE1. 2021-04"
    assert dataset.origins[may] == f"{path}: inputs.erf_actual.EXAMPLE1.2021-05"
    assert dataset.origins.get(("erf_actual", "NOWHERE", may[2]), "none") == "none"
    assert set(dataset.origins) == set(dataset.values)
