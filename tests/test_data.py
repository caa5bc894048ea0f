"""Loading organisation data: exact values, checks against the policy, and precise error locations."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest

from planlang.compiler import compile_sources
from planlang.data import Dataset, Organisation, PercentCell, convert_value, load_data, make_dataset, write_workbook
from planlang.diagnostics import InputError
from planlang.periods import parse_period
from planlang.source import SourceFile

POLICY = '''policy "t" for 2021/22
source "s.txt" "S"
input amount : money
  per system monthly
  cites "s.txt" §1
input share : percent
  per trust annual
  cites "s.txt" §1
input ok : bool
  per system monthly
  default true
  cites "s.txt" §1
input beds : count
  per trust or ccg quarterly
  cites "s.txt" §1
input signed : date
  per system annual
  cites "s.txt" §1
input remark : text
  per system annual
  cites "s.txt" §1
'''

ORGS = [
    {"code": "SYS1", "name": "North", "kind": "system", "system": None},
    {"code": "T1", "name": "North Trust", "kind": "trust", "system": "SYS1"},
    {"code": "SYS2", "name": "South", "kind": "system"},
    {"code": "C1", "name": "South CCG", "kind": "ccg", "system": "SYS2"},
    {"code": "T2", "name": "Another North Trust", "kind": "trust", "system": "SYS1"},
]
ORGANISATIONS = [Organisation(o["code"], o["name"], o["kind"], o.get("system")) for o in ORGS]


@pytest.fixture(scope="module")
def program():
    compiled, diagnostics = compile_sources([SourceFile("t.plan", POLICY)])
    assert compiled is not None, diagnostics
    return compiled


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    # files are named relative to the working folder, so `where` reads as "d.json: ..."
    monkeypatch.chdir(tmp_path)


def write_json(inputs, organisations=ORGS, name="d.json", **extra) -> str:
    with open(name, "w", encoding="utf-8") as handle:
        json.dump({"organisations": organisations, "inputs": inputs, **extra}, handle)
    return name


def load_json_text(text: str, program, name="d.json") -> Dataset:
    with open(name, "w", encoding="utf-8") as handle:
        handle.write(text)
    return load_data(name, program)


def error_of(call, *args) -> InputError:
    with pytest.raises(InputError) as caught:
        call(*args)
    return caught.value


M = parse_period


# ---- JSON: values ----------------------------------------------------------------------------

def test_json_numbers_are_exact_fractions_never_floats(program):
    # 0.1 and 19857142.86 have no exact binary float; the loader must not pass through one
    # and 0.12345678901234567891 has more digits than any float holds
    text = ('{"organisations": %s, "inputs": {"amount": {"SYS1": {"2021-04": 0.1, "2021-05": 19857142.86, '
            '"2021-06": 30000000, "2021-07": 0.12345678901234567891}}}}')
    data = load_json_text(text % json.dumps(ORGS), program)
    values = {key[2].label: value for key, value in data.values.items()}
    assert values == {"2021-04": Fraction(1, 10), "2021-05": Fraction(1985714286, 100), "2021-06": Fraction(30_000_000),
                      "2021-07": Fraction(12345678901234567891, 10**20)}
    assert all(type(value) is Fraction for value in values.values())
    assert data.origins[("amount", "SYS1", M("2021-05"))] == "d.json: inputs.amount.SYS1.2021-05"
    assert data.source == "d.json"


def test_json_amount_and_percentage_text(program):
    path = write_json({
        "amount": {"SYS1": {"2021-04": "£1,000", "2021-05": "-£500", "2021-06": "30000000.50"}},
        "share": {"T1": {"2021/22": "70%"}, "T2": {"2021/22": 0.7}},
    })
    data = load_data(path, program)
    assert data.values[("amount", "SYS1", M("2021-04"))] == 1000
    assert data.values[("amount", "SYS1", M("2021-05"))] == -500
    assert data.values[("amount", "SYS1", M("2021-06"))] == Fraction(60_000_001, 2)
    # a percentage written as a number is a fraction of one: 0.7 is 70%
    assert data.values[("share", "T1", M("2021/22"))] == Fraction(7, 10)
    assert data.values[("share", "T2", M("2021/22"))] == Fraction(7, 10)


def test_json_other_types(program):
    path = write_json({
        "ok": {"SYS1": {"2021-04": True, "2021-05": "No", "2021-06": "yes"}},
        "beds": {"T1": {"2021/22 Q1": 120}, "C1": {"2021/22 Q2": "1,200"}},
        "signed": {"SYS2": {"2021/22": "2021-06-03"}},
        "remark": {"SYS2": {"2021/22": "agreed late"}},
    })
    data = load_data(path, program)
    assert [data.values[("ok", "SYS1", M(p))] for p in ("2021-04", "2021-05", "2021-06")] == [True, False, True]
    assert data.values[("beds", "T1", M("2021/22 Q1"))] == 120
    assert data.values[("beds", "C1", M("2021/22 Q2"))] == 1200
    assert data.values[("signed", "SYS2", M("2021/22"))] == dt.date(2021, 6, 3)
    assert data.values[("remark", "SYS2", M("2021/22"))] == "agreed late"


def test_null_means_no_value_not_zero(program):
    path = write_json({"amount": {"SYS1": {"2021-04": None, "2021-05": 5, "2021-06": ""}}})
    data = load_data(path, program)
    assert ("amount", "SYS1", M("2021-04")) not in data.values
    assert ("amount", "SYS1", M("2021-04")) not in data.origins
    assert ("amount", "SYS1", M("2021-06")) not in data.values
    assert list(data.values) == [("amount", "SYS1", M("2021-05"))]
    assert data.periods("month") == (M("2021-05"),)


def test_dataset_members_periods_and_kinds(program):
    path = write_json({
        "amount": {"SYS1": {"2021-06": 1, "2021-04": 2}, "SYS2": {"2021-05": 3}},
        "beds": {"T1": {"2021/22 Q3": 1, "2021/22 Q1": 2}},
    })
    data = load_data(path, program)
    assert list(data.organisations) == ["SYS1", "T1", "SYS2", "C1", "T2"]
    assert data.organisations["SYS2"].system is None
    assert data.members("SYS1") == ("T1", "T2")
    assert data.members("SYS2") == ("C1",)
    assert data.members("T1") == ()
    assert data.periods("month") == (M("2021-04"), M("2021-05"), M("2021-06"))
    assert data.periods("quarter") == (M("2021/22 Q1"), M("2021/22 Q3"))
    assert data.periods("year") == ()
    assert [o.code for o in data.of_kinds(["trust", "ccg"])] == ["T1", "C1", "T2"]
    assert [o.code for o in data.of_kinds(("system",))] == ["SYS1", "SYS2"]


def test_the_worked_example_still_loads():
    from pathlib import Path

    from planlang.compiler import compile_sources as compile_
    from planlang.compiler import read_pack

    root = Path(__file__).resolve().parents[1]
    erf, _ = compile_(read_pack(root / "policies" / "2021_22"))
    if erf is None or not (root / "examples" / "erf_worked_example.json").exists():
        pytest.skip("the ERF pack or its example is not available")
    data = load_data(root / "examples" / "erf_worked_example.json", erf)
    assert data.values[("erf_actual", "EXAMPLE1", M("2021-04"))] == 20_000_000


# ---- JSON: errors located by path ------------------------------------------------------------

@pytest.mark.parametrize("inputs, where, words", [
    ({"amout": {"SYS1": {"2021-04": 1}}}, "d.json: inputs.amout", "is not an input"),
    ({"amount": {"SYS9": {"2021-04": 1}}}, "d.json: inputs.amount.SYS9", "no organisation 'SYS9'"),
    ({"amount": {"T1": {"2021-04": 1}}}, "d.json: inputs.amount.T1", "amount is given per system, but T1 is a trust"),
    ({"beds": {"SYS1": {"2021/22 Q1": 1}}}, "d.json: inputs.beds.SYS1", "beds is given per trust or ccg, but SYS1 is a system"),
    ({"amount": {"SYS1": {"2021-13": 1}}}, "d.json: inputs.amount.SYS1.2021-13", "month 13 is not between 01 and 12"),
    ({"amount": {"SYS1": {"April": 1}}}, "d.json: inputs.amount.SYS1.April", "is not a period"),
    ({"amount": {"SYS1": {"2021/22 Q1": 1}}}, "d.json: inputs.amount.SYS1.2021/22 Q1", "amount is monthly; 2021/22 Q1 is a quarter"),
    ({"share": {"T1": {"2021-04": "5%"}}}, "d.json: inputs.share.T1.2021-04", "share is annual; 2021-04 is a month"),
    ({"amount": {"SYS1": {"2022-04": 1}}}, "d.json: inputs.amount.SYS1.2022-04", "outside the policy year 2021/22"),
    ({"amount": {"SYS1": {"2021-04": True}}}, "d.json: inputs.amount.SYS1.2021-04", "expected an amount of money"),
    ({"amount": {"SYS1": {"2021-04": "70%"}}}, "d.json: inputs.amount.SYS1.2021-04", "found the percentage '70%'"),
    ({"amount": {"SYS1": {"2021-04": "lots"}}}, "d.json: inputs.amount.SYS1.2021-04", "found 'lots'"),
    ({"share": {"T1": {"2021/22": "£5"}}}, "d.json: inputs.share.T1.2021/22", "found the amount of money '£5'"),
    ({"beds": {"T1": {"2021/22 Q1": 2.5}}}, "d.json: inputs.beds.T1.2021/22 Q1", "expected a whole number"),
    ({"ok": {"SYS1": {"2021-04": "maybe"}}}, "d.json: inputs.ok.SYS1.2021-04", "expected true or false"),
    ({"ok": {"SYS1": {"2021-04": 1}}}, "d.json: inputs.ok.SYS1.2021-04", "expected true or false"),
    ({"signed": {"SYS1": {"2021/22": "03/06/2021"}}}, "d.json: inputs.signed.SYS1.2021/22", "is not a date"),
    ({"remark": {"SYS1": {"2021/22": 5}}}, "d.json: inputs.remark.SYS1.2021/22", "expected text, found the number 5"),
    ({"amount": [1, 2]}, "d.json: inputs.amount", "expected an object of organisation codes, found a list"),
    ({"amount": {"SYS1": 5}}, "d.json: inputs.amount.SYS1", "expected an object of periods, found a number"),
])
def test_json_value_errors_name_the_path(program, inputs, where, words):
    error = error_of(load_data, write_json(inputs), program)
    assert error.where == where
    assert words in error.message


def test_unknown_names_get_a_did_you_mean(program):
    error = error_of(load_data, write_json({"amout": {"SYS1": {"2021-04": 1}}}), program)
    assert error.suggestion == "did you mean `amount`?"
    error = error_of(load_data, write_json({"amount": {"SYS11": {"2021-04": 1}}}), program)
    assert error.suggestion == "did you mean `SYS1`?"
    error = error_of(load_data, write_json({"zzz": {}}), program)
    assert "the inputs are amount, beds, ok, remark, share, signed" in error.suggestion


def test_json_syntax_error_gives_line_and_column(program):
    text = '{\n  "organisations": [],\n  "inputs": {,}\n}\n'
    error = error_of(load_json_text, text, program)
    assert error.where == "d.json:3:14"
    assert error.message.startswith("is not valid JSON")


@pytest.mark.parametrize("document, where, words", [
    ([], "d.json", "expected an object"),
    ({"organisations": [], "inputs": {}, "extra": 1}, "d.json: extra", 'the keys "organisations", "inputs" and "submissions"'),
    ({"organisations": []}, "d.json", 'expected the key "inputs"'),
    ({"organisations": {}, "inputs": {}}, "d.json: organisations", "expected a list of organisations, found an object"),
    ({"organisations": [], "inputs": []}, "d.json: inputs", "expected an object of inputs"),
    ({"organisations": ORGS[:2] + [{"code": "X", "name": "X", "kind": "hospital"}], "inputs": {}},
     "d.json: organisations[2].kind", "expected the kind system, trust or ccg, found 'hospital'"),
    ({"organisations": [{"code": "X", "kind": "system", "colour": "red"}], "inputs": {}},
     "d.json: organisations[0].colour", "unknown field 'colour'"),
    ({"organisations": [{"name": "X", "kind": "system"}], "inputs": {}}, "d.json: organisations[0].code", "expected text"),
    ({"organisations": [{"code": "X", "kind": "system", "system": 5}], "inputs": {}},
     "d.json: organisations[0].system", "expected text, found a number"),
    ({"organisations": ["SYS1"], "inputs": {}}, "d.json: organisations[0]", "expected an object with code"),
    ({"organisations": ORGS + [ORGS[1]], "inputs": {}}, "d.json: organisations[5].code", "'T1' appears twice"),
    ({"organisations": [{"code": "T9", "kind": "trust", "system": "SYS7"}], "inputs": {}},
     "d.json: organisations[0].system", "names the system 'SYS7', which is not in the data"),
])
def test_json_shape_errors_name_the_path(program, document, where, words):
    error = error_of(load_json_text, json.dumps(document), program)
    assert error.where == where
    assert words in error.message


def test_json_duplicate_keys_and_non_numbers_are_refused(program):
    text = '{"organisations": %s, "inputs": {"amount": {"SYS1": {"2021-04": 1, "2021-04": 2}}}}' % json.dumps(ORGS)
    error = error_of(load_json_text, text, program)
    assert "'2021-04' appears twice" in error.message
    text = '{"organisations": %s, "inputs": {"amount": {"SYS1": {"2021-04": NaN}}}}' % json.dumps(ORGS)
    assert "NaN" in error_of(load_json_text, text, program).message
    # an exponent like this would otherwise build an integer with a million digits
    text = '{"organisations": %s, "inputs": {"amount": {"SYS1": {"2021-04": 1e1000000}}}}' % json.dumps(ORGS)
    assert error_of(load_json_text, text, program).where == "d.json: inputs.amount.SYS1.2021-04"


def test_json_that_is_not_utf8_or_nests_too_deeply(program):
    with open("d.json", "wb") as handle:
        handle.write(b'{"organisations": [], "inputs": {"\xff": 1}}')
    assert "is not UTF-8" in error_of(load_data, "d.json", program).message
    assert "nest too deeply" in error_of(load_json_text, "[" * 100_000 + "]" * 100_000, program).message


def test_files_that_cannot_be_read(program, tmp_path):
    error = error_of(load_data, "d.txt", program)
    assert error.where == "d.txt" and error.suggestion == "give a .json, .xlsx, .csv or .parquet data file"
    assert "(save the workbook as .xlsx)" in error_of(load_data, "d.xls", program).suggestion
    assert error_of(load_data, "absent.json", program).message == "no such file"
    (tmp_path / "folder.json").mkdir()
    assert "folder" in error_of(load_data, "folder.json", program).message


# ---- convert_value ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, type_, expected", [
    (Decimal("0.1"), "money", Fraction(1, 10)),
    (0.1, "money", Fraction(1, 10)),  # an Excel float: the decimal it shows, not its binary value
    (19857142.86, "money", Fraction(1985714286, 100)),
    (7, "ratio", Fraction(7)),
    ("1.25%", "percent", Fraction(1, 80)),
    ("0.7", "percent", Fraction(7, 10)),
    ("  ", "money", None),
    (None, "text", None),
    ("FALSE", "bool", False),
    (dt.datetime(2021, 6, 3, 0, 0), "date", dt.date(2021, 6, 3)),
    (dt.date(2021, 6, 3), "date", dt.date(2021, 6, 3)),
    ("hello", "text", "hello"),
    (Decimal("3.0"), "count", Fraction(3)),
])
def test_convert_value(raw, type_, expected):
    value = convert_value(raw, type_, "here")
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("raw, type_", [
    (True, "money"), (False, "count"), ("70%", "money"), ("£5", "percent"), ("£5", "ratio"), ("5%", "count"),
    (float("nan"), "money"), (float("inf"), "ratio"), (Decimal("Infinity"), "money"), ([1], "money"),
    ("y", "bool"), (0, "bool"), (20210603, "date"), (True, "text"), (dt.date(2021, 1, 1), "money"),
    ("1,00", "money"),
])
def test_convert_value_refuses(raw, type_):
    error = error_of(convert_value, raw, type_, "cell X")
    assert error.where == "cell X"
    assert error.message.startswith("expected") or "is not" in error.message


# A bare number is a fraction of one (0.7 is 70%); beyond ±1 it is almost always a percentage typed
# without its sign, so it is refused with the reading it would have had.
@pytest.mark.parametrize("raw, expected", [
    (Decimal("0.7"), Fraction(7, 10)), (1, Fraction(1)), (Decimal("-1"), Fraction(-1)), ("0.935", Fraction(935, 1000)),
    ("150%", Fraction(3, 2)), ("-12.5%", Fraction(-1, 8)), (PercentCell(1.1), Fraction(11, 10)),
    (PercentCell(0.7), Fraction(7, 10)),
])
def test_percentages_as_fractions_of_one_or_with_their_sign(raw, expected):
    assert convert_value(raw, "percent", "here") == expected


@pytest.mark.parametrize("raw, found, reading, meant", [
    (70, "the number 70", "7000%", "write 70%"),
    (Decimal("1.5"), "the number 1.5", "150%", "write 1.5%"),
    (-5, "the number -5", "-500%", "write -5%"),
    (70.5, "the number 70.5", "7050%", "write 70.5%"),
    ("70", "'70'", "7000%", 'write "70%"'),
])
def test_a_bare_number_beyond_one_is_not_taken_as_a_percentage(raw, found, reading, meant):
    error = error_of(convert_value, raw, "percent", "cell X")
    assert error.message == f"expected a percentage such as 70% (or 0.7), found {found}, which would be {reading}"
    assert error.suggestion.startswith(meant) and f"write {reading} itself" in error.suggestion


def test_a_money_or_count_cell_formatted_as_a_percentage_is_refused():
    for type_ in ("money", "count"):
        error = error_of(convert_value, PercentCell(0.7), type_, "cell X")
        assert "found 70%, a cell formatted as a percentage" in error.message


# ---- make_dataset ----------------------------------------------------------------------------

def test_make_dataset_accepts_a_trust_listed_before_its_system():
    data = make_dataset([Organisation("T1", "t", "trust", "S"), Organisation("S", "s", "system")],
                        {("x", "S", M("2021-05")): Fraction(1), ("x", "S", M("2021-04")): Fraction(2)}, {}, "test")
    assert data.members("S") == ("T1",)
    assert data.periods("month") == (M("2021-04"), M("2021-05"))


@pytest.mark.parametrize("organisations, where, words", [
    ([Organisation("S", "s", "system"), Organisation("S", "again", "system")], "src: organisations[1].code", "appears twice"),
    ([Organisation("S", "s", "sytem")], "src: organisations[0].kind", "system, trust or ccg"),
    ([Organisation("S", "s", "system", "S2"), Organisation("S2", "s", "system")], "src: organisations[0].system",
     "is a system, so it belongs to no system"),
    ([Organisation("T", "t", "trust")], "src: organisations[0].system", "must name its system"),
    ([Organisation("S", "s", "system"), Organisation("T", "t", "trust", "T")], "src: organisations[1].system",
     "but T is a trust"),
    ([Organisation("", "s", "system")], "src: organisations[0].code", "expected an organisation code"),
])
def test_make_dataset_validates_organisations(organisations, where, words):
    error = error_of(make_dataset, organisations, {}, {}, "src")
    assert error.where == where
    assert words in error.message


def test_make_dataset_suggests_systems():
    error = error_of(make_dataset, [Organisation("SYS1", "s", "system"), Organisation("T", "t", "trust", "SYS2")], {}, {}, "x")
    assert error.suggestion == "did you mean `SYS1`?"
    error = error_of(make_dataset, [Organisation("S", "s", "systm")], {}, {}, "x")
    assert error.suggestion == "did you mean `system`?"


# ---- Excel -----------------------------------------------------------------------------------

def write_book(path="b.xlsx", organisations=ORGANISATIONS, rows=None, **kwargs) -> str:
    write_workbook(path, organisations, rows if rows is not None else {}, **kwargs)
    return path


def edit_book(path, change):
    """Change a saved workbook with openpyxl (things write_workbook does not do, such as cell formats)."""
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)


def test_excel_round_trip(program):
    rows = {
        "monthly": [
            {"code": "SYS1", "period": "2021-04", "amount": Fraction(1985714286, 100), "ok": True},
            {"code": "SYS1", "period": dt.datetime(2021, 5, 1), "amount": Fraction(1, 10), "ok": "no"},
            {},  # a blank row, skipped
            {"code": "SYS2", "period": M("2021-06"), "amount": Fraction(12345678901234567891, 10**20)},
            {"code": "SYS2", "period": "2021-07", "amount": Fraction(139_000_000, 7), "ok": None},
        ],
        "annual": [
            {"code": "T1", "period": "2021/22", "share": Fraction(7, 10)},
            {"code": "SYS1", "period": "2021/22", "signed": dt.date(2021, 6, 3), "remark": "late"},
        ],
        "quarterly": [{"code": "C1", "period": "2021/22 Q4", "beds": 40}],
    }
    path = write_book(rows=rows, percent_columns=["share"])
    edit_book(path, lambda book: setattr(book["annual"]["C2"], "number_format", "0%"))
    data = load_data(path, program)
    assert data.values == {
        ("amount", "SYS1", M("2021-04")): Fraction(1985714286, 100),
        ("ok", "SYS1", M("2021-04")): True,
        ("amount", "SYS1", M("2021-05")): Fraction(1, 10),
        ("ok", "SYS1", M("2021-05")): False,
        ("amount", "SYS2", M("2021-06")): Fraction(12345678901234567891, 10**20),  # too long for a float: text
        ("amount", "SYS2", M("2021-07")): Fraction(1985714286, 100),  # no exact decimal: written to the penny
        ("share", "T1", M("2021/22")): Fraction(7, 10),
        ("signed", "SYS1", M("2021/22")): dt.date(2021, 6, 3),
        ("remark", "SYS1", M("2021/22")): "late",
        ("beds", "C1", M("2021/22 Q4")): 40,
    }
    assert all(type(v) is Fraction for (name, *_), v in data.values.items() if name in ("amount", "share"))
    assert data.origins[("amount", "SYS1", M("2021-05"))] == "b.xlsx: monthly!C3"
    assert data.origins[("amount", "SYS2", M("2021-06"))] == "b.xlsx: monthly!C5"  # row 4 is the blank one
    assert data.origins[("share", "T1", M("2021/22"))] == "b.xlsx: annual!C2"
    assert data.members("SYS1") == ("T1", "T2")
    assert data.organisations == {o.code: o for o in ORGANISATIONS}
    book = openpyxl.load_workbook(path)
    assert book["annual"]["C2"].value == 0.7 and book["annual"]["C2"].number_format == "0%"
    assert isinstance(book["monthly"]["B3"].value, dt.datetime)
    assert book["monthly"]["C6"].value == "£19,857,142.86"


def test_excel_headings_ignore_case_and_spaces(program):
    path = write_book(rows={"monthly": [{"code": "SYS1", "period": "2021-04", "amount": 5}]})

    def shout(book):
        book["organisations"]["A1"] = " CODE "
        for cell, text in (("A1", "Code"), ("B1", " Period"), ("C1", "AMOUNT ")):
            book["monthly"][cell] = text
        book["monthly"].title = "renamed"  # openpyxl would call it Monthly1 if renamed in one step
        book["renamed"].title = " Monthly"

    edit_book(path, shout)
    data = load_data(path, program)
    assert data.values == {("amount", "SYS1", M("2021-04")): 5}
    assert data.origins[("amount", "SYS1", M("2021-04"))] == "b.xlsx:  Monthly!C2"


MONTH_ROW = {"code": "SYS1", "period": "2021-04", "amount": 5}


@pytest.mark.parametrize("rows, where, words", [
    ({"monthly": [{**MONTH_ROW, "amount": "lots"}]}, "b.xlsx: monthly!C2", "found 'lots'"),
    ({"monthly": [{**MONTH_ROW, "amount": True}]}, "b.xlsx: monthly!C2", "found true"),
    ({"monthly": [{**MONTH_ROW, "code": "SYS9"}]}, "b.xlsx: monthly!A2", "no organisation 'SYS9'"),
    ({"monthly": [{**MONTH_ROW, "code": "T1"}]}, "b.xlsx: monthly!C2", "amount is given per system, but T1 is a trust"),
    ({"monthly": [{**MONTH_ROW, "period": "2021/22 Q1"}]}, "b.xlsx: monthly!B2", "lists months; 2021/22 Q1 is a quarter"),
    ({"monthly": [{**MONTH_ROW, "period": "2022-05"}]}, "b.xlsx: monthly!B2", "outside the policy year 2021/22"),
    ({"monthly": [{**MONTH_ROW, "period": dt.datetime(2020, 5, 1)}]}, "b.xlsx: monthly!B2", "outside the policy year"),
    ({"monthly": [{**MONTH_ROW, "period": None}]}, "b.xlsx: monthly!B2", "no period"),
    ({"monthly": [{**MONTH_ROW, "code": None}]}, "b.xlsx: monthly!A2", "no organisation code"),
    ({"monthly": [MONTH_ROW, {**MONTH_ROW, "amount": 6}]}, "b.xlsx: monthly!C3", "given twice (first at b.xlsx: monthly!C2)"),
    ({"annual": [{"code": "SYS1", "period": dt.datetime(2021, 4, 1), "remark": "x"}]}, "b.xlsx: annual!B2",
     "expected a period such as 2021/22"),
    ({"monthly": [{**MONTH_ROW, "share": Fraction(1, 2)}]}, "b.xlsx: monthly!D1", "belongs on the sheet 'annual'"),
])
def test_excel_errors_name_the_cell(program, rows, where, words):
    error = error_of(load_data, write_book(rows=rows), program)
    assert error.where == where
    assert words in error.message


def test_unknown_sheet_and_heading_are_warnings_placed_with_a_did_you_mean(program):
    # tolerant reading (issue 19): an analyst's extra sheet or column is read past, and said so with its place
    data = load_data(write_book(rows={"montly": [MONTH_ROW]}), program)
    assert data.values == {} and data.warnings == (
        "b.xlsx: montly: the sheet 'montly' is not read (a data workbook reads the sheets organisations, monthly, "
        "quarterly, half-yearly, annual, submissions); did you mean `monthly`?",)
    data = load_data(write_book(rows={"monthly": [{**MONTH_ROW, "amout": 1}]}), program)
    assert data.values == {("amount", "SYS1", M("2021-04")): 5}
    assert data.warnings == ("b.xlsx: monthly!D1: the column 'amout' is not read: it is not an input of the policy; "
                             "did you mean `amount`?",)


def test_excel_organisations_sheet_is_checked(program):
    bad_kind = ORGANISATIONS[:2] + [Organisation("X", "X", "hospital", None)]
    error = error_of(load_data, write_book(organisations=bad_kind), program)
    assert error.where == "b.xlsx: organisations!C4" and "'hospital'" in error.message
    orphan = ORGANISATIONS[:2] + [Organisation("T9", "T9", "trust", "SYS7")]
    error = error_of(load_data, write_book(organisations=orphan), program)
    assert error.where == "b.xlsx: organisations!D4" and "'SYS7'" in error.message
    path = write_book()
    edit_book(path, lambda book: book["organisations"].cell(row=1, column=5, value="colour"))
    assert load_data(path, program).warnings == ("b.xlsx: organisations!E1: the column 'colour' is not read (the "
                                                 "organisations sheet reads code, name, kind and system)",)
    edit_book(path, lambda book: setattr(book["organisations"], "title", "orgs"))
    error = error_of(load_data, path, program)
    assert error.where == "b.xlsx" and "no sheet named 'organisations'" in error.message


def test_excel_percentages_are_read_by_their_cell_format(program):
    rows = {"annual": [{"code": "T1", "period": "2021/22", "share": Fraction(11, 10)},
                       {"code": "T2", "period": "2021/22", "share": 70}]}
    path = write_book(rows=rows)
    edit_book(path, lambda book: setattr(book["annual"]["C2"], "number_format", "0.0%"))
    error = error_of(load_data, path, program)
    assert error.where == "b.xlsx: annual!C3"
    assert error.message.endswith("found the number 70, which would be 7000%")
    assert "a cell formatted as a percentage" in error.suggestion
    edit_book(path, lambda book: setattr(book["annual"]["C3"], "value", 0.7))
    assert load_data(path, program).values == {("share", "T1", M("2021/22")): Fraction(11, 10),
                                                ("share", "T2", M("2021/22")): Fraction(7, 10)}


def test_excel_money_formatted_as_a_percentage_is_refused(program):
    path = write_book(rows={"monthly": [MONTH_ROW]})
    edit_book(path, lambda book: setattr(book["monthly"]["C2"], "number_format", "0%"))
    error = error_of(load_data, path, program)
    assert error.where == "b.xlsx: monthly!C2" and "a cell formatted as a percentage" in error.message


def _with_formulas(path, cells: dict[str, str]):
    """Write formulas into the monthly sheet, then set what a spreadsheet saved for each (raw cell XML)."""
    edit_book(path, lambda book: [book["monthly"].__setitem__(ref, "=1+1") for ref in cells])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = next(name for name in parts if name.startswith("xl/worksheets/") and b"<f>" in parts[name])
    text = parts[sheet].decode()
    for ref, saved in cells.items():
        text = re.sub(rf'<c r="{ref}"[^>]*>.*?</c>', f'<c r="{ref}"{saved}</c>', text)
    parts[sheet] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_excel_formulas_are_read_by_their_saved_values(program):
    rows = {"monthly": [MONTH_ROW, {**MONTH_ROW, "code": "SYS2"}]}
    path = _with_formulas(write_book(rows=rows), {"C2": "><f>2+40</f><v>42</v>", "C3": ' t="str"><f>""</f><v></v>'})
    data = load_data(path, program)
    assert data.values == {("amount", "SYS1", M("2021-04")): 42}  # SYS2's formula gave "": no value, not zero


def test_excel_formula_without_a_saved_value_is_an_error(program):
    path = _with_formulas(write_book(rows={"monthly": [MONTH_ROW]}), {"C2": "><f>2+40</f><v/>"})
    error = error_of(load_data, path, program)
    assert error.where == "b.xlsx: monthly!C2"
    assert error.message == "this cell holds the formula =2+40 but no saved value"
    assert "open the workbook in Excel and save it" in error.suggestion


def test_excel_needs_an_organisations_sheet(program):
    path = write_book(rows={"monthly": []})
    edit_book(path, lambda book: book.remove(book["organisations"]))
    assert "no sheet named 'organisations'" in error_of(load_data, path, program).message


def test_excel_data_sheet_needs_code_and_period_headings(program):
    path = write_book(rows={"monthly": [MONTH_ROW]})
    edit_book(path, lambda book: setattr(book["monthly"]["B1"], "value", None))
    error = error_of(load_data, path, program)
    assert error.where == "b.xlsx: monthly!A1" and "needs a column headed 'period'" in error.message


def rewrite_member(path, target, member, change):
    """Copy a workbook's zip archive to ``target`` with one member's text changed."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in source.infolist():
            data = source.read(item.filename)
            copy.writestr(item, change(data.decode("utf-8")) if item.filename == member else data)


def test_rows_beyond_a_wrong_stated_dimension_are_read(program):
    # read-only openpyxl trusts the sheet's <dimension>; other programs sometimes write a wrong one
    path = write_book(rows={"monthly": [MONTH_ROW, {**MONTH_ROW, "period": "2021-05", "amount": 6}]})
    rewrite_member(path, "small.xlsx", "xl/worksheets/sheet2.xml",
                   lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:A1"', xml))
    data = load_data("small.xlsx", program)
    assert data.values == {("amount", "SYS1", M("2021-04")): 5, ("amount", "SYS1", M("2021-05")): 6}


def test_a_value_under_no_heading_is_an_error(program):
    path = write_book(rows={"monthly": [MONTH_ROW]})
    edit_book(path, lambda book: book["monthly"].cell(row=2, column=6, value=99))
    error = error_of(load_data, path, program)
    assert error.where == "b.xlsx: monthly!F2" and "no heading" in error.message


def test_a_file_that_is_not_a_workbook(program):
    with open("fake.xlsx", "w") as handle:
        handle.write("code,period\n")
    error = error_of(load_data, "fake.xlsx", program)
    assert error.where == "fake.xlsx" and "is not an Excel .xlsx workbook" in error.message
    with zipfile.ZipFile("plain.xlsx", "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "is not an Excel .xlsx workbook" in error_of(load_data, "plain.xlsx", program).message


def test_zip_bombs_are_refused_before_opening(program, monkeypatch):
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    with zipfile.ZipFile("bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))  # compresses ~1000-fold
    error = error_of(load_data, "bomb.xlsx", program)
    assert "zip bomb" in error.message and error.where == "bomb.xlsx"
    assert opened == []


def test_damaged_or_hostile_xml_is_an_input_error(program):
    path = write_book(rows={"monthly": [MONTH_ROW]})
    laughs = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>')
    for name, body, reason in (("broken.xlsx", "<worksheet><sheetData><row", "unclosed token"),
                               ("laughs.xlsx", laughs, "EntitiesForbidden")):  # defusedxml refuses entities
        rewrite_member(path, name, "xl/worksheets/sheet2.xml", lambda xml, body=body: body)
        error = error_of(load_data, name, program)
        assert error.where == name and "cannot be read as an Excel workbook" in error.message
        assert reason in error.message


def test_refuses_excel_without_defusedxml(program, monkeypatch):
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    error = error_of(load_data, write_book(), program)
    assert "defusedxml" in error.message


def test_the_workbook_is_closed_after_reading(program, monkeypatch):
    books = []
    real = openpyxl.load_workbook

    def recording(*args, **kwargs):
        assert kwargs == {"read_only": True, "data_only": True, "keep_links": False}
        book = real(*args, **kwargs)
        book.closed = False
        close = book.close
        book.close = lambda: (close(), setattr(book, "closed", True))
        books.append(book)
        return book

    monkeypatch.setattr(openpyxl, "load_workbook", recording)
    load_data(write_book(rows={"monthly": [MONTH_ROW]}), program)
    error_of(load_data, write_book(rows={"monthly": [{**MONTH_ROW, "amount": "x"}]}), program)
    assert len(books) == 2 and all(book.closed for book in books)


def test_write_workbook_is_atomic_and_replaces(tmp_path, program):
    write_book(rows={"monthly": [MONTH_ROW]})
    write_book(rows={"monthly": [{**MONTH_ROW, "amount": 7}]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx"]  # no temporary file left behind
    assert load_data("b.xlsx", program).values == {("amount", "SYS1", M("2021-04")): 7}
    error = error_of(write_workbook, "missing/b.xlsx", ORGANISATIONS, {})
    assert "cannot be written" in error.message

