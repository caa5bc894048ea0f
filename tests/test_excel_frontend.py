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


# ---- 2. tolerant reading and the mapping file ---------------------------------------------------

WORKED = EXAMPLES / "erf_worked_example.json"
MONTHS = ("2021-04", "2021-05", "2021-06", "2021-07")

MAP = '''# the ERF planning template of each system: codes in column A, months across row 3, £000s
[defaults]
key_column = "A"
header_row = 3
scale = "£000s"

[[organisation]]
code = "EXAMPLE1"
name = "Worked example 1: activity below the lower threshold"
kind = "system"

[[organisation]]
code = "EXAMPLE2"
name = "Worked example 2: activity above the upper threshold"
kind = "system"

[[organisation]]
code = "EXAMPLE3"
name = "Worked example 3: activity between the thresholds"
kind = "system"

[[sheet]]
name = "Example 1"
organisation = "EXAMPLE1"

[[sheet]]
name = "Example 2"
organisation = "EXAMPLE2"

[[sheet]]
name = "Example 3"
organisation = "EXAMPLE3"

[[input]]
name = "erf_baseline"
row = "ERF01"

[[input]]
name = "erf_actual"
row = "ERF02"

[[input]]
name = "erf_counting_coding_adjustment"
row = "ERF03"
sign = -1

[[input]]
name = "erf_counting_coding_category"
row = "ERF04"
'''


def planning_template(path):
    """A workbook as a region might keep it: a sheet per system, row codes, months across as dates, £000s,
    the adjustment shown as a deduction, a Total column and a Notes sheet."""
    import datetime as dt

    worked = json.loads(WORKED.read_text())["inputs"]
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book["Notes"]["A1"] = "Figures in £000s. Deductions are shown negative."
    for number in (1, 2, 3):
        code = f"EXAMPLE{number}"
        sheet = book.create_sheet(f"Example {number}")
        sheet["A1"] = f"Elective recovery plan: {code}"
        sheet.append([])
        sheet.append(["Code", "Line", *(dt.datetime(2021, int(m[5:]), 1) for m in MONTHS), "Total"])
        for row_code, name, sign in (("ERF01", "erf_baseline", 1), ("ERF02", "erf_actual", 1),
                                     ("ERF03", "erf_counting_coding_adjustment", -1)):
            figures = [sign * int(str(worked[name][code][m]).replace("£", "").replace(",", "")) / 1000 for m in MONTHS]
            sheet.append([row_code, name, *figures, sum(figures)])
        sheet.append(["ERF04", "category", *(worked["erf_counting_coding_category"][code][m] for m in MONTHS)])
        for cell in sheet[3][2:6]:
            cell.number_format = "mmm-yy"
    book.save(path)
    return path


def test_a_planning_template_read_through_a_mapping_gives_the_json_examples_figures(tmp_path, capsys):
    from planlang.data.mapping import load_mapped

    program = compile_pack(POLICIES / "2021_22")
    book, mapping = planning_template(tmp_path / "book.xlsx"), tmp_path / "map.toml"
    mapping.write_text(MAP)
    mapped = load_mapped(book, mapping, program, 10**8)
    expected = load_data(WORKED, program)
    assert mapped.values == expected.values
    assert list(mapped.organisations) == list(expected.organisations)
    assert mapped.origins[("erf_actual", "EXAMPLE2", expected.periods("month")[1])] == f"{book}: Example 2!D5"
    assert mapped.warnings == (f"{book}: Notes: the sheet 'Notes' is not read: the mapping does not name it",)
    # the command line: the same figures as the JSON example, to the penny
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(WORKED), "--json", "--only", "erf_additional_funding"]) == 0
    from_json = json.loads(capsys.readouterr().out)["results"]
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(book), "--map", str(mapping), "--json",
                 "--only", "erf_additional_funding"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["results"] == from_json and "'Notes' is not read" in err


def test_cells_and_ranges_and_a_sheet_of_organisations(tmp_path):
    from planlang.data.mapping import load_mapped

    program = compile_pack(POLICIES / "2021_22")
    book = openpyxl.Workbook()
    orgs = book.active
    orgs.title = "Who"
    orgs.append(["Code", "Name", "Kind", "System"])
    orgs.append(["SYS1", "North", "system", None])
    plan = book.create_sheet("Plan")
    plan["B2"], plan["C4"], plan["D4"], plan["E4"] = 30, 20.5, 21, 22
    book.save(tmp_path / "b.xlsx")
    (tmp_path / "m.toml").write_text('organisations_sheet = "Who"\n[[sheet]]\nname = "Plan"\norganisation = "SYS1"\n'
                                     '[[input]]\nname = "erf_baseline"\ncell = "B2"\nperiod = "2021-04"\nscale = "£m"\n'
                                     '[[input]]\nname = "erf_actual"\nrange = "C4:E4"\nfirst_period = "2021-04"\nscale = "£m"\n')
    data = load_mapped(tmp_path / "b.xlsx", tmp_path / "m.toml", program, 10**8)
    from fractions import Fraction

    from planlang.periods import parse_period
    assert data.values[("erf_baseline", "SYS1", parse_period("2021-04"))] == 30_000_000
    assert data.values[("erf_actual", "SYS1", parse_period("2021-06"))] == 22_000_000
    assert data.values[("erf_actual", "SYS1", parse_period("2021-04"))] == Fraction(20_500_000)
    assert data.origins[("erf_actual", "SYS1", parse_period("2021-05"))].endswith("b.xlsx: Plan!D4")


@pytest.mark.parametrize("change, where, words", [
    (("row = \"ERF02\"", "row = \"ERF09\""), "map.toml:40:7", "no row of the sheet 'Example 1' has the code 'ERF09'"),
    (("name = \"erf_actual\"", "name = \"erf_actul\""), "map.toml:39:8", "'erf_actul' is not an input"),
    (("sign = -1", "sign = 2"), "map.toml:45:8", "sign is 1 or -1"),
    (("scale = \"£000s\"", "scale = 0.001"), "map.toml:5:9", "scale is £000s"),
    (("name = \"Example 2\"", "name = \"Exmaple 2\""), "map.toml:27:8", "no sheet 'Exmaple 2'"),
    (("header_row = 3", "header_rows = 3"), "map.toml:4:1", "unknown key 'header_rows'"),
    (("[[input]]\nname = \"erf_baseline\"\nrow", "[[input]]\nname = \"erf_baseline\"\ncell = \"C4\"\nrow"), "map.toml:36:8",
     "needs exactly one of row, cell or range"),
    (("kind = \"system\"\n\n[[organisation]]\ncode = \"EXAMPLE2\"", "kind = \"sytem\"\n\n[[organisation]]\ncode = \"EXAMPLE2\""),
     "map.toml:10:8", "expected the kind system, trust or ccg"),
    (("[[sheet]]", "[sheet"), "map.toml:22:7", "is not TOML"),
])
def test_a_bad_mapping_gets_placed_errors(change, where, words, tmp_path, capsys):
    book, mapping = planning_template(tmp_path / "book.xlsx"), tmp_path / "map.toml"
    mapping.write_text(MAP.replace(*change, 1))
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(book), "--map", str(mapping)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/{where}" in err and words in err, err


def test_a_bad_value_in_their_workbook_is_placed_in_their_cell(tmp_path, capsys):
    book, mapping = planning_template(tmp_path / "book.xlsx"), tmp_path / "map.toml"
    mapping.write_text(MAP)
    edited = openpyxl.load_workbook(book)
    edited["Example 3"]["E5"] = "lots"
    edited.save(book)
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(book), "--map", str(mapping)]) == 2
    assert f"{book}: Example 3!E5: expected an amount of money" in capsys.readouterr().err


# ---- 3. the live Excel model, recalculated by LibreOffice -------------------------------------

LIBREOFFICE_HINT = ("no LibreOffice to recalculate the Excel model: install Debian's libreoffice-calc "
                    "(apt-get install libreoffice-calc) or put soffice on the PATH")
# each pack's example data, and a parameter changed in the model's Parameters sheet (with its new value)
MODELS = [("2019_20", "2019_20.xlsx", "rtt52_sanction_per_breach", "£7,500"),
          ("2020_21", "2020_21.xlsx", "frf_taper_rate", "40%"),
          ("2021_22", "2021_22.xlsx", "erf_rate_above_upper", "150%"),
          ("2021_22", "erf_worked_example.json", "erf_rate_above_upper", "150%")]


def _soffice() -> str:
    import shutil

    from conftest import _unavailable

    return shutil.which("soffice") or shutil.which("libreoffice") or _unavailable(LIBREOFFICE_HINT)


def recalculated(soffice: str, path, folder):
    """The workbook as LibreOffice computes it: every formula recalculated on load, saved, read back as values."""
    import subprocess

    profile = folder / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">'
        '<value>0</value></prop></item>\n</oor:items>\n')
    out = folder / "out"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx",
                           "--outdir", str(out), str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return openpyxl.load_workbook(out / path.name, data_only=True)


def _agrees(excel, exact, unit: str) -> bool:
    import datetime as dt
    from fractions import Fraction

    from planlang.values import Missing

    if type(exact) is Missing:
        return isinstance(excel, str) and excel.startswith("#")
    if isinstance(exact, bool):
        return excel is exact
    if isinstance(exact, Fraction):
        if isinstance(excel, bool) or not isinstance(excel, (int, float)):
            return False
        if unit == "money":
            return abs(Fraction(excel) - exact) < Fraction(1, 200)  # to the penny
        return abs(Fraction(excel) - exact) <= max(abs(exact), 1) * Fraction(1, 10**9)
    if isinstance(exact, dt.date):
        return isinstance(excel, dt.datetime) and excel.date() == exact
    return excel == exact


def _disagreements(book, results) -> list[str]:
    from planlang.periods import parse_period

    wrong, seen = [], 0
    for name, code, period, value, unit, how in book["Model"].iter_rows(min_row=2, values_only=True):
        exact = results.get(name, code, parse_period(period) if period else None)
        seen += 1
        if not _agrees(value, exact, unit):
            wrong.append(f"{name} {code} {period}: Excel {value!r}, planlang {exact!r} ({how})")
    assert seen > 100
    return wrong


@pytest.mark.parametrize("year, data, parameter, value", MODELS)
def test_the_excel_model_recalculated_by_libreoffice_agrees_to_the_penny_before_and_after_a_parameter_change(
        year, data, parameter, value, tmp_path, capsys):
    from planlang.data.convert import convert_value
    from planlang.plan import compile_plan
    from planlang.run import run
    from planlang.scenario import scenario_from_sets

    soffice = _soffice()
    model = tmp_path / "model.xlsx"
    assert main(["export", str(POLICIES / year), "--data", str(EXAMPLES / data), "--excel-model", str(model)]) == 0
    assert "formulas" in capsys.readouterr().err
    plan = compile_plan(compile_pack(POLICIES / year))
    dataset = load_data(EXAMPLES / data, plan.program)
    baseline = run(plan, dataset, backend="exact")
    book = openpyxl.load_workbook(model)
    formulas = [row for row in book["Model"].iter_rows(min_row=2) if row[5].value == "formula"]
    assert len(formulas) > 0.8 * (book["Model"].max_row - 1)  # what is not a formula is a deadline, listed
    listed = {row[1] for row in book["Not expressed"].iter_rows(min_row=2, values_only=True)}
    static = {f"{r[0].value} for {r[1].value} in {r[2].value}" if r[1].value else f"{r[0].value} in {r[2].value}"
              if r[2].value else r[0].value for r in book["Model"].iter_rows(min_row=2) if r[5].value != "formula"}
    assert static <= listed
    assert _disagreements(recalculated(soffice, model, tmp_path / "before"), baseline) == []
    # change the parameter in Excel, in every period it has a cell for: every figure follows
    decl = plan.program.declarations[parameter]
    changed = [row for row in book["Parameters"].iter_rows(min_row=2) if row[0].value == parameter]
    assert changed
    for row in changed:
        row[2].value = float(convert_value(value, decl.type, "test"))
    book.save(model)
    scenario = scenario_from_sets([f"{parameter} = {value}"], plan, dataset)
    after = run(plan, dataset, scenario, baseline=baseline, backend="exact")
    assert any(after.get(n, e, p) != baseline.get(n, e, p) for n, keys in after.scope.items() for e, p in keys)
    assert _disagreements(recalculated(soffice, model, tmp_path / "after"), after) == []


def test_the_model_keeps_text_as_text_and_reopens(tmp_path):
    model = tmp_path / "model.xlsx"
    data = tmp_path / "d.json"
    worked = json.loads(WORKED.read_text())
    worked["organisations"][0]["name"] = "=HYPERLINK(\"http://x\")"
    worked["inputs"]["erf_counting_coding_category"]["EXAMPLE1"]["2021-04"] = "=1+1"
    data.write_text(json.dumps(worked))
    assert main(["export", str(POLICIES / "2021_22"), "--data", str(data), "--excel-model", str(model)]) == 0
    book = openpyxl.load_workbook(model)
    texts = [c for row in book["Inputs"].iter_rows(min_row=2) for c in row if c.value == "=1+1"]
    assert texts and all(c.data_type == "s" and c.quotePrefix for c in texts)
    assert main(["export", str(POLICIES / "2021_22"), "--data", str(data), "--excel-model", str(tmp_path / "m.csv")]) == 64
