"""Charts and roll-ups in the outputs (issue 19, item 4): `sweep --out x.xlsx`, the compare workbook's
formulas, system totals and charts, and `compare`'s per-organisation and per-system year totals."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest
from openpyxl.chart import BarChart, LineChart

import planlang
from planlang.cli import main
from planlang.xlsxfile import put_text

from conftest import EXAMPLES, POLICIES

FRF = str(POLICIES / "2020_21")
FRF_DATA = EXAMPLES / "2020_21.xlsx"
ERF = str(POLICIES / "2021_22")
WORKED = str(EXAMPLES / "erf_worked_example.json")
OUR_FORMULA = re.compile(r"=[A-Z]+[0-9]+-[A-Z]+[0-9]+")


def _cli(argv, capsys):
    code = main([str(x) for x in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _hostile_data(tmp_path, *, blank: bool):
    """The 2020/21 example with an organisation named like a formula and, ``blank``, one of TRUST_A1's inputs gone."""
    book = openpyxl.load_workbook(FRF_DATA)
    for row in book["organisations"].iter_rows(min_row=2):
        if row[0].value == "TRUST_A2":
            put_text(row[1], '=HYPERLINK("http://example.invalid","x")')  # a name, stored as text
    if blank:
        sheet = book["quarterly"]
        heading = [c.value for c in sheet[1]].index("financial_position")
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "TRUST_A1" and row[1].value == "2020/21 Q2":
                row[heading].value = None
    path = tmp_path / "data.xlsx"
    book.save(path)
    return path


def _every_text_cell_is_text(book) -> int:
    """Every cell that reads as a formula is one of ours (a difference of two cells); any other is stored as text."""
    ours = 0
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    if cell.data_type == "f":
                        assert OUR_FORMULA.fullmatch(cell.value), (sheet.title, cell.coordinate, cell.value)
                        ours += 1
                    else:
                        assert cell.data_type == "s"
    return ours


# ---- compare: per-organisation and per-system year totals ----------------------------------------

def _comparison(data=FRF_DATA, setting="frf_taper_rate = 50%"):
    pack = planlang.load(FRF)
    return pack.compare(pack.load_data(data), pack.scenario(setting))._comparison


def _year_sum(results, name, codes, year):
    values = [results.get(name, e, p) for e, p in results.scope[name] if e in codes and p.within("year") == year]
    if any(not isinstance(v, Fraction) for v in values):
        return None
    return sum(values, Fraction(0))


def test_year_totals_by_organisation_and_system_add_up_exactly():
    comparison = _comparison()
    assert comparison.by_organisation and comparison.by_system
    dataset = comparison.baseline.dataset
    for total in comparison.by_organisation:
        assert total.baseline == _year_sum(comparison.baseline, total.name, {total.entity}, total.period)
        assert total.scenario == _year_sum(comparison.scenario, total.name, {total.entity}, total.period)
    for total in comparison.by_system:
        assert dataset.organisations[total.entity].kind == "system"
        members = set(dataset.members(total.entity))
        assert total.baseline == _year_sum(comparison.baseline, total.name, members, total.period)
        assert total.difference == total.scenario - total.baseline != 0


def test_a_missing_figure_makes_its_organisations_and_systems_year_total_missing_not_smaller(tmp_path):
    from planlang.compare import _year_totals

    comparison = _comparison(_hostile_data(tmp_path, blank=True))
    baseline = comparison.baseline
    cells = [planlang.compare.Difference("frf_paid", p, "money", baseline.get("frf_paid", e, p),
                                         comparison.scenario.get("frf_paid", e, p), e)
             for e, p in baseline.scope["frf_paid"]]
    organisations, systems = _year_totals(baseline, "frf_paid", "money", cells, None)
    missing = {t.entity for t in organisations + systems if isinstance(t.baseline, planlang.values.Missing)}
    assert missing >= {"TRUST_A1", "SYS_A"} and not missing & {"TRUST_B1", "SYS_B"}  # a system shares its pool
    assert all(t.difference is None for t in organisations + systems if t.entity in missing)
    # missing under both runs is no change: the text and JSON, which list changes, leave it out
    listed = {t.entity for t in comparison.by_organisation + comparison.by_system if t.name == "frf_paid"}
    assert not listed & missing and {"TRUST_B1", "SYS_B"} <= listed


def test_compare_json_and_text_carry_the_year_totals(capsys):
    code, out, _ = _cli(["compare", FRF, "--data", FRF_DATA, "--set", "frf_taper_rate = 50%", "--json"], capsys)
    assert code == 0
    scenario = json.loads(out)["scenarios"][0]
    paid = scenario["totals_by_system"]["frf_paid"]["SYS_A"]["2020/21"]
    assert paid["baseline"] == "9985714.29" and paid["difference"] == "1614285.71"
    assert paid["covers"]["of"] == 4 and len(paid["covers"]["periods"]) == 4
    assert scenario["totals_by_organisation"]["frf_paid"]["TRUST_A1"]["2020/21"]["scenario"] == "7164285.71"
    code, out, _ = _cli(["compare", FRF, "--data", FRF_DATA, "--set", "frf_taper_rate = 50%"], capsys)
    assert "Year totals by organisation:" in out and "Year totals by system (its trusts and CCGs):" in out
    assert "frf_paid [SYS_A, 2020/21]" in out


def test_a_system_has_no_total_when_entity_names_only_part_of_it(capsys):
    code, out, _ = _cli(["compare", FRF, "--data", FRF_DATA, "--set", "frf_taper_rate = 50%", "--entity", "TRUST_A1",
                         "--json"], capsys)
    assert code == 0
    scenario = json.loads(out)["scenarios"][0]
    assert scenario["totals_by_system"] == {} and "TRUST_A1" in scenario["totals_by_organisation"]["frf_paid"]


# ---- the compare workbook ------------------------------------------------------------------------

def test_compare_workbook_has_formulas_system_totals_and_charts(tmp_path, capsys):
    target = tmp_path / "compare.xlsx"
    code, out, err = _cli(["compare", FRF, "--data", FRF_DATA, "--set", "frf_taper_rate = 50%", "--output", target,
                           "--json"], capsys)
    assert code == 0, err
    by_system = json.loads(out)["scenarios"][0]["totals_by_system"]
    book = openpyxl.load_workbook(target)
    assert {"Totals", "System totals", "Charts"} <= set(book.sheetnames)
    for title in ("Totals", "System totals"):
        sheet = book[title]
        headings = [c.value for c in sheet[1]]
        assert headings[5:] == ["baseline", "--set", "difference, --set"]
        for row in sheet.iter_rows(min_row=2):
            r = row[0].row
            if isinstance(row[5].value, (int, float)):
                assert row[7].value == f"=G{r}-F{r}" and row[7].comment.text.startswith("planlang's exact difference")
    systems = book["System totals"]
    seen = 0
    for row in systems.iter_rows(min_row=2, values_only=True):
        name, code_, _, year, _, before, after, _ = row
        if name in by_system and code_ in by_system[name]:
            entry = by_system[name][code_][year]
            assert f"{Decimal(str(before)):.2f}" == entry["baseline"] and f"{Decimal(str(after)):.2f}" == entry["scenario"]
            seen += 1
    assert seen == sum(len(x) for x in by_system.values())
    # each system's total is its members' totals added up
    totals = book["Totals"]
    members = {}
    organisations = {r[0]: r[3] for r in openpyxl.load_workbook(FRF_DATA)["organisations"].iter_rows(min_row=2, values_only=True)}
    for row in totals.iter_rows(min_row=2, values_only=True):
        if organisations.get(row[1]):
            members.setdefault((row[0], organisations[row[1]]), []).append(Decimal(str(row[5])))
    for row in systems.iter_rows(min_row=2, values_only=True):
        assert abs(sum(members[(row[0], row[1])]) - Decimal(str(row[5]))) < Decimal("0.01") * len(members[(row[0], row[1])])
    charts = book["Charts"]._charts
    assert charts and all(isinstance(c, BarChart) for c in charts)
    assert _every_text_cell_is_text(book) > 0


def test_compare_workbook_keeps_missing_as_missing_and_names_as_text(tmp_path, capsys):
    target = tmp_path / "compare.xlsx"
    data = _hostile_data(tmp_path, blank=True)
    code, _, err = _cli(["compare", FRF, "--data", data, "--set", "frf_taper_rate = 50%", "--output", target], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(target)
    _every_text_cell_is_text(book)
    totals = book["Totals"]
    rows = [r for r in totals.iter_rows(min_row=2) if r[1].value == "TRUST_A1" and r[0].value == "frf_paid"]
    assert rows and all(c.value == "missing" for c in rows[0][5:])
    names = [r[2] for r in totals.iter_rows(min_row=2) if r[1].value == "TRUST_A2"]
    assert names and all(c.data_type == "s" and c.value.startswith("=HYPERLINK") for c in names)
    # in the charts' tables a missing total is an empty cell with its reason, never a zero
    gaps = [c for row in book["Charts"].iter_rows() for c in row if c.value is None and c.comment is not None]
    assert gaps and all(c.comment.text.startswith("missing: ") for c in gaps)


# ---- sweep --out x.xlsx --------------------------------------------------------------------------

SWEEP = ["sweep", ERF, "--data", WORKED, "--vary", "erf_thresholds in 2021-05 = 70% to 80% step 5%",
         "--output", "erf_additional_funding", "erf_lower_threshold"]


def test_sweep_writes_a_workbook_with_the_long_table_totals_and_a_line_chart_each(tmp_path, capsys):
    target, long = tmp_path / "sweep.xlsx", tmp_path / "sweep.csv"
    code, out, err = _cli([*SWEEP, "--out", target, "--json"], capsys)
    assert code == 0, err
    assert _cli([*SWEEP, "--out", long], capsys)[0] == 0
    steps = json.loads(out)["steps"]
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Sweep", "Totals", "Charts"]
    with open(long, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    table = list(book["Sweep"].iter_rows(values_only=True))
    assert list(table[0]) == rows[0] and len(table) == len(rows)
    for mine, theirs in zip(table[1:], rows[1:]):
        value = theirs[rows[0].index("value")]
        assert f"{Decimal(str(mine[rows[0].index('value')])):.2f}" == value
        assert mine[2:5] == tuple(theirs[2:5])
    totals = list(book["Totals"].iter_rows(values_only=True))
    assert list(totals[0]) == ["step", "erf_thresholds in 2021-05", "erf_additional_funding", "erf_lower_threshold",
                               "missing"]
    for row, step in zip(totals[1:], steps):
        assert row[0] == step["step"]
        assert [f"{Decimal(str(x)):.2f}" for x in row[2:4]] == [step["totals"]["erf_additional_funding"],
                                                                 step["totals"]["erf_lower_threshold"]]
    charts = book["Charts"]._charts
    assert len(charts) == 2 and all(isinstance(c, LineChart) for c in charts)
    _every_text_cell_is_text(book)


def test_sweep_workbook_leaves_a_missing_total_empty_and_says_why(tmp_path, capsys):
    target = tmp_path / "sweep.xlsx"
    data = _hostile_data(tmp_path, blank=True)
    code, _, err = _cli(["sweep", FRF, "--data", data, "--vary", "frf_taper_rate = 0% to 100% step 50%",
                         "--output", "frf_paid", "--out", target], capsys)
    assert code == 0, err
    book = openpyxl.load_workbook(target)
    totals = list(book["Totals"].iter_rows(min_row=2, values_only=True))
    assert len(totals) == 3 and all(row[2] is None and row[3].startswith("frf_paid: ") for row in totals)
    long = list(book["Sweep"].iter_rows(min_row=2, values_only=True))
    assert any(row[5] is None and row[7] for row in long)
    _every_text_cell_is_text(book)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_sweep_workbook_past_a_sheets_rows_is_refused_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    import gc

    from planlang.render import sweepbook

    monkeypatch.setattr(sweepbook, "MAX_ROWS", 10)
    target = tmp_path / "sweep.xlsx"
    code, _, err = _cli([*SWEEP, "--out", target], capsys)
    gc.collect()  # nothing left half-written for the collector to finish (and print a traceback about)
    assert code != 0 and "rows an Excel sheet holds" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".ods", ".xls"])
def test_sweep_refuses_other_spreadsheets(tmp_path, capsys, suffix):
    code, _, err = _cli([*SWEEP, "--out", tmp_path / f"x{suffix}"], capsys)
    assert code == 64 and "give a file ending .parquet, .csv or .xlsx" in err


def test_the_compare_workbooks_difference_formulas_recalculate_to_planlangs_differences(tmp_path, capsys):
    from test_excel_frontend import _soffice, recalculated

    soffice = _soffice()
    target = tmp_path / "compare.xlsx"
    code, out, err = _cli(["compare", FRF, "--data", FRF_DATA, "--set", "frf_taper_rate = 50%", "--output", target],
                          capsys)
    assert code == 0, err
    comparison = _comparison()
    exact = {(t.name, t.entity): t.difference for t in comparison.by_organisation + comparison.by_system}
    book = recalculated(soffice, target, tmp_path)
    checked = 0
    for title in ("Totals", "System totals"):
        for row in book[title].iter_rows(min_row=2, values_only=True):
            name, code_, *_, before, after, difference = row
            if isinstance(before, (int, float)) and isinstance(after, (int, float)):
                # the formula works on the figures as shown (to the penny): within a penny of the exact difference
                assert abs(Fraction(difference) - exact.get((name, code_), Fraction(0))) <= Fraction(1, 100) + Fraction(1, 10**6)
                checked += 1
    assert checked > 20
