"""JSON that tools can consume (units, flags with values and citations) and run receipts that replay."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from planlang.cli import main
from planlang.compiler import compile_pack
from planlang.periods import bank_holidays

from conftest import EXAMPLES, POLICIES, ROOT


def _run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, out, err


@pytest.fixture
def copied(tmp_path):
    """The 2020/21 pack and its workbook, copied so that a test may change them."""
    pack = tmp_path / "pack"
    shutil.copytree(POLICIES / "2020_21", pack)
    data = tmp_path / "data.xlsx"
    shutil.copyfile(EXAMPLES / "2020_21.xlsx", data)
    return pack, data


def test_json_has_a_unit_for_every_result(capsys):
    code, out, _ = _run(capsys, "run", POLICIES / "2021_22", "--data", EXAMPLES / "erf_worked_example.json", "--json")
    document = json.loads(out)
    program = compile_pack(POLICIES / "2021_22")
    assert set(document["units"]) == set(document["results"])
    for name, unit in document["units"].items():
        assert unit == program.declarations[name].type
    assert document["units"]["erf_additional_funding"] == "money"


def test_json_flags_carry_their_values_and_citation(capsys):
    code, out, _ = _run(capsys, "run", POLICIES / "2020_21", "--data", EXAMPLES / "2020_21.xlsx", "--json")
    document = json.loads(out)
    program = compile_pack(POLICIES / "2020_21")
    assert document["flags"]
    for flag in document["flags"]:
        decl = program.declarations[flag["flag"]] if flag["flag"] != "late_submission" else None
        assert flag["values"], flag
        if decl is not None:
            assert flag["citations"] == [{"source": c.source, "section": c.section, "quote": c.quote}
                                         for c in decl.citations]
            # every value named is one the flag's condition uses
            assert set(flag["values"]) <= set(program.graph.predecessors(flag["flag"])), flag


def test_receipt_records_hashes_versions_holidays_command_and_digest(capsys, copied, tmp_path):
    pack, data = copied
    receipt_path = tmp_path / "receipt.json"
    code, _, err = _run(capsys, "run", pack, "--data", data, "--receipt", receipt_path)
    assert code == 0 and str(receipt_path) in err
    receipt = json.loads(receipt_path.read_text())
    assert receipt["policy"]["files"] == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in pack.glob("*.plan")}
    assert receipt["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert set(receipt["versions"]) == {"planlang", "lark", "holidays"}
    assert receipt["command"] == ["planlang", "run", str(pack), "--data", str(data), "--receipt", str(receipt_path)]
    assert "2020-12-25" in receipt["bank_holidays"] and "2021-04-02" in receipt["bank_holidays"]
    assert set(receipt["bank_holidays"]) == {str(d) for y in (2020, 2021) for d in bank_holidays(y)}
    assert receipt["digest"].startswith("sha256:")
    assert receipt["outcome"]["results"]["frf_org_element"]["TRUST_A1"]["2020/21 Q1"]


def test_verify_says_identical_when_nothing_changed(capsys, copied, tmp_path):
    pack, data = copied
    _run(capsys, "run", pack, "--data", data, "--receipt", tmp_path / "r.json")
    code, out, _ = _run(capsys, "verify", tmp_path / "r.json")
    assert code == 0 and "identical" in out


def test_verify_names_the_policy_file_and_each_figure_that_changed(capsys, copied, tmp_path):
    pack, data = copied
    _run(capsys, "run", pack, "--data", data, "--receipt", tmp_path / "r.json")
    before = json.loads((tmp_path / "r.json").read_text())["outcome"]["results"]
    frf = pack / "frf.plan"
    frf.write_text(frf.read_text().replace("  = 50%\n", "  = 40%\n", 1))
    (pack / "extra.plan").write_text("# nothing\n")
    code, out, _ = _run(capsys, "verify", tmp_path / "r.json")
    assert code == 1
    assert "policy file frf.plan: changed" in out and "policy file extra.plan: added" in out
    # the organisational element is 50% of the allocation: at 40% every non-zero one changes
    changed = [(e, p) for e, by in before["frf_org_element"].items() for p, v in by.items() if v not in ("0.00", None)]
    assert changed
    for entity, period in changed:
        assert f"figure frf_org_element for {entity} in {period}: {before['frf_org_element'][entity][period]} -> " in out


def test_verify_names_a_changed_data_file_and_works_from_run_json(capsys, copied, tmp_path):
    pack, data = copied
    code, out, _ = _run(capsys, "run", pack, "--data", data, "--json")
    (tmp_path / "run.json").write_text(out)
    assert "outcome" not in json.loads(out)["receipt"]  # the figures are the document's own
    code, verified, _ = _run(capsys, "verify", tmp_path / "run.json")
    assert code == 0, verified
    import openpyxl

    book = openpyxl.load_workbook(data)
    sheet = book["quarterly"]
    column = [c.value for c in sheet[1]].index("frf_allocation") + 1
    sheet.cell(2, column).value = 3_000_000
    book.save(data)
    code, verified, _ = _run(capsys, "verify", tmp_path / "run.json")
    assert code == 1 and f"data file {data}: changed" in verified and "figure frf_org_element" in verified


@pytest.mark.parametrize("text", ["{", "[]", '{"format": "something else"}'])
def test_verify_of_a_file_that_is_not_a_receipt_is_one_error(capsys, tmp_path, text):
    (tmp_path / "r.json").write_text(text)
    code, _, err = _run(capsys, "verify", tmp_path / "r.json")
    assert code == 2 and err.startswith("planlang: error: ") and "receipt" in err


@pytest.mark.parametrize("change", [
    lambda r: r["outcome"].update(results=[]),
    lambda r: r["outcome"]["results"].update(x=5),
    lambda r: r["outcome"].update(flags="x"),
    lambda r: r["policy"].update(files={"a.plan": 5}),
    lambda r: r["data"].update(sha256=None),
    lambda r: r["policy"].update(directory=5),
    lambda r: r.pop("outcome"),
], ids=["results a list", "a figure not by entity", "flags not a list", "a hash not text", "no data hash",
        "directory a number", "no outcome"])
def test_verify_of_a_malformed_receipt_is_one_error(capsys, copied, tmp_path, change):
    pack, data = copied
    _run(capsys, "run", pack, "--data", data, "--receipt", tmp_path / "r.json")
    receipt = json.loads((tmp_path / "r.json").read_text())
    change(receipt)
    (tmp_path / "r.json").write_text(json.dumps(receipt))
    code, _, err = _run(capsys, "verify", tmp_path / "r.json")
    assert code == 2 and err.startswith("planlang: error: ") and "receipt" in err


def test_verify_of_a_receipt_whose_files_are_gone(capsys, copied, tmp_path):
    pack, data = copied
    _run(capsys, "run", pack, "--data", data, "--receipt", tmp_path / "r.json")
    data.unlink()
    code, _, err = _run(capsys, "verify", tmp_path / "r.json")
    assert code == 2 and "gone" in err


def test_receipt_is_in_the_repository_root_independent_form(monkeypatch, capsys, tmp_path):
    """A receipt written with relative paths verifies from another folder too (it keeps absolute ones)."""
    monkeypatch.chdir(ROOT)
    _run(capsys, "run", "policies/2021_22", "--data", "examples/erf_worked_example.json", "--receipt", tmp_path / "r.json")
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "verify", "r.json")
    assert code == 0 and "identical" in out
