"""`run --output FILE.xlsx|.csv`: the results workbook read back with openpyxl, and the long-form CSV.

Each figure is checked against the run itself (never a number written here), its format against
its unit, and its note against the explanation tree it was taken from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from fractions import Fraction

import openpyxl
import openpyxl.writer.excel
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from planlang.audit.csvfile import csv_text, write_csv
from planlang.audit.excel import NUMBER_FORMATS, _note, _put, write_workbook
from planlang.audit.layout import result_sheets, unit_of
from planlang.cli import main
from planlang.data import Organisation, make_dataset
from planlang.periods import parse_period
from planlang.run import evaluate
from planlang.values import Missing, decimal_text, money_text

from conftest import ROOT


@pytest.fixture(scope="module")
def frf_book(frf_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "results.xlsx"
    write_workbook(path, frf_run)
    return openpyxl.load_workbook(path)


def _headings(sheet) -> list:
    return [c.value for c in sheet[1]]


def _read(value):
    """A cell's value as the run's value would be written: exact decimals, booleans and dates as they are."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _expected(value, unit):
    if isinstance(value, Fraction):
        return Decimal(money_text(value) if unit == "money" else decimal_text(value))
    return value


def test_one_sheet_per_granularity_then_totals_defaults_flags_missing_rules_inputs(frf_book, frf_run):
    titles = [sheet.title for sheet in result_sheets(frf_run)]
    assert frf_book.sheetnames == titles + ["Totals", "Assumed defaults", "Flags", "Missing", "Rules", "Inputs"]
    assert set(titles) <= {"monthly", "quarterly", "half-yearly", "annual", "whole year"}


def test_every_result_cell_holds_the_runs_value_in_its_units_format(frf_book, frf_run):
    program = frf_run.program
    checked = 0
    for layout in result_sheets(frf_run):
        sheet = frf_book[layout.title]
        assert _headings(sheet)[:3] == ["code", "name", "period"]
        names = _headings(sheet)[3:]
        for r, row in enumerate(sheet.iter_rows(min_row=2), 2):
            code, period = row[0].value, parse_period(row[2].value) if row[2].value else None
            for name, cell in zip(names, row[3:]):
                if cell.value is None:
                    continue
                value = frf_run.get(name, code, period)
                unit = unit_of(program.declarations[name])
                if isinstance(value, Missing):
                    assert cell.value == "missing" and "missing because" in cell.comment.text
                else:
                    assert _read(cell.value) == _expected(value, unit), (name, code, period)
                    if unit in NUMBER_FORMATS:
                        assert cell.number_format == NUMBER_FORMATS[unit]
                checked += 1
    assert checked == len(list(frf_run.outputs()))


def test_columns_follow_the_schemes_in_pack_order_then_declaration_order(frf_book, frf_run):
    program = frf_run.program
    files = list(program.files)
    for title in ("quarterly", "annual"):
        names = _headings(frf_book[title])[3:]
        keys = [(files.index(program.declarations[n].span.file), program.declarations[n].span.line) for n in names]
        assert keys == sorted(keys) and len(set(k[0] for k in keys)) >= 1


def test_header_frozen_autofilter_on_and_widths_fitted(frf_book):
    for sheet in frf_book.worksheets:
        assert sheet.freeze_panes in ("A2", "D2")
        assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}{sheet.max_row}"
        for k, heading in enumerate(_headings(sheet), 1):
            width = sheet.column_dimensions[openpyxl.utils.get_column_letter(k)].width
            assert len(str(heading)) < width <= 64, (sheet.title, heading, width)


def test_a_note_gives_formula_operands_band_margin_inputs_and_citation(tmp_path, erf_run):
    path = tmp_path / "erf.xlsx"
    write_workbook(path, erf_run)
    book = openpyxl.load_workbook(path)
    sheet = book["monthly"]
    column = _headings(sheet).index("erf_additional_funding") + 1
    row = next(r for r in range(2, sheet.max_row + 1)
               if sheet.cell(r, 1).value == "EXAMPLE1" and sheet.cell(r, 3).value == "2021-05")
    cell = sheet.cell(row, column)
    note = cell.comment.text
    decl = erf_run.program.declarations["erf_additional_funding"]
    assert Decimal(str(cell.value)) == Decimal(money_text(erf_run.get("erf_additional_funding", "EXAMPLE1",
                                                                      parse_period("2021-05"))))
    assert "= " + erf_run.program.text_of(decl.value.span) in note
    assert "erf_gateway_met for EXAMPLE1 in 2021-05 = true (input)" in note
    assert "<- the amount ends in this band" in note  # the band that applied
    assert "above erf_lower_threshold" in note and "below erf_upper_threshold" in note  # the margins
    assert decl.citations[0].quote in note
    # the link goes to the Inputs row of the first input, which keeps the original cell or path
    target_sheet, target_cell = cell.hyperlink.location.split("!")
    inputs = book[target_sheet]
    target_row = inputs[target_cell].row
    origin = inputs.cell(target_row, _headings(inputs).index("from") + 1).value
    name = inputs.cell(target_row, 1).value
    assert f"{name} for EXAMPLE1 in 2021-05" in note and origin in note
    assert origin.startswith("examples/erf_worked_example.json: inputs.") or "default" in origin


def test_inputs_sheet_copies_every_value_read_with_its_origin(frf_book, frf_run):
    sheet = frf_book["Inputs"]
    rows = {(r[0].value, r[1].value, r[3].value): r for r in sheet.iter_rows(min_row=2)}
    dataset = frf_run.dataset
    for (name, code, period), value in dataset.values.items():
        row = rows[(name, code, period.label)]
        assert row[6].value == dataset.origins[(name, code, period)]
        unit = unit_of(frf_run.program.declarations[name])
        assert _expected(value, unit) == _read(row[4].value)
        if unit == "percent":
            assert row[4].number_format == NUMBER_FORMATS["percent"]


def test_flags_sheet_has_severity_colour_values_and_citation(frf_book, frf_run):
    sheet = frf_book["Flags"]
    raised = [f for f in frf_run.flags if f.fired is True]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(raised) + len(frf_run.late_submissions()) and rows
    for row in rows:
        assert row[0].fill.fgColor.rgb.endswith({"error": "F4C7C3", "warning": "FCE8B2", "info": "C9DAF8"}[row[0].value])
    first = raised[0]
    decl = frf_run.program.declarations[first.name]
    row = next(r for r in rows if (r[1].value, r[2].value) == (first.name, first.entity))
    assert decl.citations[0].section in row[7].value
    assert " = " in row[6].value  # the values the condition used


def test_missing_sheet_has_one_typed_reason_per_row(frf_book, frf_run):
    rows = [[c.value for c in r] for r in frf_book["Missing"].iter_rows(min_row=2)]
    expected = sum(len(v.reasons) for *_, v in frf_run.missing)
    assert len(rows) == expected
    for output, code, period, because, name, entity, in_period in rows:
        assert because and name and (name in because)


def test_rules_sheet_has_canonical_formula_parameter_values_and_interpretations(frf_book, frf_run):
    rows = {r[0].value: [c.value for c in r] for r in frf_book["Rules"].iter_rows(min_row=2)}
    headings = _headings(frf_book["Rules"])
    program = frf_run.program
    share = rows["frf_organisational_share"]
    assert share[headings.index("values by period")] == "50%"
    conversion = rows["frf_pdc_conversion"]
    assert conversion[headings.index("formula")] == "frf_unearned_in_year"  # for trusts only (the 2020/21 pack's reading)
    decl = program.declarations["frf_pdc_conversion"]
    assert conversion[headings.index("interpretations")] == "\n".join(decl.interpretations)
    assert decl.citations[0].quote in conversion[headings.index("citation")]


def _hostile_run(compile_policy):
    program = compile_policy('''
input remark : text
  per system annual
  "A note"
define remark_out : text
  per system annual
  "The note, echoed"
  = remark
''')
    year = parse_period("2021/22")
    organisations = [Organisation("=CODE", '=HYPERLINK("http://x")', "system"), Organisation("SYS", "@SUM(A1)", "system")]
    values = {("remark", "=CODE", year): "+1+1", ("remark", "SYS", year): "-2"}
    return evaluate(program, make_dataset(organisations, values, {k: "made.json" for k in values}, "made.json"))


def test_text_that_starts_like_a_formula_is_written_as_text(tmp_path, compile_policy):
    results = _hostile_run(compile_policy)
    path = tmp_path / "hostile.xlsx"
    write_workbook(path, results)
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    sheet = book["annual"]
    values = {(r[0].value, r[1].value, r[3].value) for r in sheet.iter_rows(min_row=2)}
    assert values == {("=CODE", '=HYPERLINK("http://x")', "+1+1"), ("SYS", "@SUM(A1)", "-2")}
    rows = list(csv.reader(io.StringIO(csv_text(results))))[1:]
    assert {(r[1], r[2], r[4]) for r in rows} == {("'=CODE", "'=HYPERLINK(\"http://x\")", "'+1+1"),
                                                  ("SYS", "'@SUM(A1)", "'-2")}


def test_csv_is_long_form_with_units_and_numbers_as_json_writes_them(tmp_path, erf_run):
    path = tmp_path / "erf.csv"
    write_csv(path, erf_run)
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    assert len(rows) == len(list(erf_run.outputs()))
    program = erf_run.program
    for row in rows:
        decl = program.declarations[row["output"]]
        assert row["unit"] == unit_of(decl)
        value = erf_run.get(row["output"], row["entity"] or None, parse_period(row["period"]) if row["period"] else None)
        if isinstance(value, Missing):
            assert row["value"] == "" and row["missing_because"] == value.describe()
        elif isinstance(value, Fraction):
            assert Fraction(Decimal(row["value"])) == Fraction(Decimal(money_text(value) if row["unit"] == "money"
                                                                         else decimal_text(value)))


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, erf_run, monkeypatch):
    path = tmp_path / "erf.xlsx"
    path.write_bytes(b"previous")
    monkeypatch.setattr(openpyxl.writer.excel.ExcelWriter, "save",
                        lambda self: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(Exception, match="No space left"):
        write_workbook(path, erf_run)
    assert path.read_bytes() == b"previous" and sorted(p.name for p in tmp_path.iterdir()) == ["erf.xlsx"]


def test_cli_output_writes_the_file_and_filters(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    target = tmp_path / "some.xlsx"
    code = main(["run", "policies/2021_22", "--data", "examples/erf_worked_example.json", "--output", str(target),
                 "--only", "erf_additional_funding", "--entity", "EXAMPLE2"])
    out, err = capsys.readouterr()
    assert code == 0 and str(target) in err
    sheet = openpyxl.load_workbook(target)["monthly"]
    assert _headings(sheet)[3:] == ["erf_additional_funding"]
    assert {r[0].value for r in sheet.iter_rows(min_row=2)} == {"EXAMPLE2"}
    code = main(["run", "policies/2021_22", "--data", "examples/erf_worked_example.json", "--output", str(tmp_path / "x.pdf")])
    assert code == 64 and "give a file ending .xlsx or .csv" in capsys.readouterr().err
    code = main(["run", "policies/2021_22", "--data", "examples/erf_worked_example.json", "--only", "erf_additonal_funding"])
    assert code == 64 and "erf_additional_funding" in capsys.readouterr().err


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12))
@example("a\ufffeb\uffff")  # non-characters openpyxl's pattern lets through; the sheet's XML cannot hold them
def test_any_text_is_stored_as_text_and_read_back(tmp_path_factory, text):
    """Data text of any kind (formulas, error codes, control characters, U+FFFE) is kept as text in a cell and a note."""
    book = openpyxl.Workbook()
    cell = _put(book.active, 1, 1, text)
    cell.comment = _note(text)
    path = tmp_path_factory.mktemp("text") / "t.xlsx"
    book.save(path)
    back = openpyxl.load_workbook(path).active["A1"]
    # XML keeps line ends as \n, so a carriage return reads back as a line feed
    expected = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text).replace("\ufffe", "\ufffd").replace("\uffff", "\ufffd")
    expected = expected.replace("\r\n", "\n").replace("\r", "\n")
    assert back.data_type in ("s", "inlineStr") and (back.value or "") == expected  # never "f" or "e"
    assert back.quotePrefix == expected.startswith(("=", "+", "-", "@"))
