"""Excel as a front end (issue 19): the pack's blank input template, tolerant reading, the mapping file for
an organisation's own workbook layout, and the live Excel model."""

from __future__ import annotations

import json

import openpyxl
import pytest

from planlang import syntax as s
from planlang.cli import main
from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.data.template import INPUT_FILL, write_template

from conftest import EXAMPLES, POLICIES

PACKS = ("2019_20", "2020_21", "2021_22")


# ---- 1. the blank template ----------------------------------------------------------------------

@pytest.mark.parametrize("year", PACKS)
def test_template_has_a_sheet_per_granularity_and_a_column_per_input_with_its_note(year, tmp_path):
    program = compile_pack(POLICIES / year)
    path = tmp_path / "inputs.xlsx"
    write_template(path, program, load_data(EXAMPLES / f"{year}.xlsx", program).organisations.values())
    book = openpyxl.load_workbook(path)
    inputs = program.of_kind(s.InputDecl)
    headed = {}
    for sheet in book.worksheets[1:]:
        heading = [c.value for c in sheet[1]]
        assert heading[:2] == ["code", "period"]
        for cell in sheet[1][2:]:
            decl = inputs[cell.value]
            headed[cell.value] = sheet.title
            assert decl.type in cell.comment.text and (decl.description or "") in cell.comment.text
            assert all(c.source in cell.comment.text for c in decl.citations)
        assert sheet.data_validations.dataValidation  # codes from the organisations sheet, values by type
        assert any(c.fill.fgColor.rgb.endswith(INPUT_FILL) for row in sheet.iter_rows(min_row=2) for c in row[2:])
    assert sorted(headed) == sorted(d.name for d in inputs.values() if d.granularity)


@pytest.mark.parametrize("entities", [False, True])
def test_a_template_run_unfilled_says_what_is_missing_not_that_the_workbook_is_malformed(entities, tmp_path, capsys):
    path = tmp_path / "inputs.xlsx"
    extra = ["--entities", str(EXAMPLES / "2021_22.xlsx")] if entities else []
    assert main(["template", str(POLICIES / "2021_22"), "-o", str(path), *extra]) == 0
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    if entities:
        assert {i for m in document["missing_rules"] for i in m["inputs"]} >= {"erf_baseline", "erf_actual"}
    else:
        assert "lists no organisation" in captured.err


def test_template_refuses_to_write_over_what_it_reads(tmp_path, capsys):
    target = tmp_path / "orgs.xlsx"
    target.write_bytes((EXAMPLES / "2021_22.xlsx").read_bytes())
    assert main(["template", str(POLICIES / "2021_22"), "-o", str(target), "--entities", str(target)]) == 64
    assert main(["template", str(POLICIES / "2021_22"), "-o", str(tmp_path / "x.csv")]) == 64


def test_template_codes_are_text_never_formulas(tmp_path):
    data = tmp_path / "orgs.json"
    data.write_text(json.dumps({"organisations": [{"code": "=HYPERLINK(1)", "name": "@SUM(A1)", "kind": "system"}],
                                "inputs": {}}))
    program = compile_pack(POLICIES / "2021_22")
    path = tmp_path / "inputs.xlsx"
    write_template(path, program, load_data(data, program).organisations.values())
    sheet = openpyxl.load_workbook(path)["organisations"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix and sheet["B2"].quotePrefix
