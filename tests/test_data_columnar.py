"""Long-form .csv and .parquet data files: the same values and the same placed errors as JSON and Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planlang.cli import main
from planlang.compiler import compile_pack
from planlang.data import MAX_ERRORS, load_data
from planlang.diagnostics import DataErrors, InputError
from planlang.render import run_json
from planlang.run import evaluate

from conftest import EXAMPLES, POLICIES, compile_text

PACK_TEXT = '''
input amount : money
  per system monthly
  "An amount"
  cites "s.txt" §1
input share : percent
  per system monthly
  range 0% to 100%
  "A share of something"
  cites "s.txt" §1
input beds : count
  per trust quarterly
  "Beds open at the end of the quarter"
  cites "s.txt" §1
input open : bool
  per system monthly
  "Whether it was open"
  cites "s.txt" §1
input opened_on : date
  per trust annual
  "When it opened"
  cites "s.txt" §1
input remark : text
  per system monthly
  "A note"
  cites "s.txt" §1
deadline final_plans
  "Final plans"
  = 2021-06-03
  cites "s.txt" §1
'''
PROGRAM, _ = compile_text(PACK_TEXT)
assert PROGRAM is not None
ORGANISATIONS = [("S1", "North", "system", ""), ("S2", "South", "system", ""), ("T1", "North Trust", "trust", "S1")]
HEADING = ("code", "period", "input", "value")


def _csv_text(heading, rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([heading, *rows])  # lines end \r\n, so a value holding \r is quoted
    return buffer.getvalue()


def write_csv(tmp_path, rows, *, heading=HEADING, stem="d", organisations=ORGANISATIONS):
    """A values file and its organisations file; rows are tuples of text."""
    (tmp_path / f"{stem}.organisations.csv").write_text(_csv_text(("code", "name", "kind", "system"), organisations))
    path = tmp_path / f"{stem}.csv"
    path.write_text(_csv_text(heading, rows), encoding="utf-8", newline="")
    return path


def write_parquet(tmp_path, columns: dict, *, stem="d", organisations=ORGANISATIONS):
    (tmp_path / f"{stem}.organisations.csv").write_text(_csv_text(("code", "name", "kind", "system"), organisations))
    path = tmp_path / f"{stem}.parquet"
    pq.write_table(pa.table(columns), path)
    return path


def error_of(path, program=PROGRAM, **options) -> InputError:
    with pytest.raises(InputError) as caught:
        load_data(path, program, **options)
    return caught.value


# ---- round trips -----------------------------------------------------------------------------

def _long_form(document: dict) -> tuple[list, list]:
    """The values and organisations of a JSON data document, as long-form rows of text."""
    values = [(code, period, name, _as_text(raw))
              for name, by_code in document["inputs"].items()
              for code, by_period in by_code.items() for period, raw in by_period.items()]
    organisations = [(o["code"], o.get("name") or "", o["kind"], o.get("system") or "") for o in document["organisations"]]
    return values, organisations


def _as_text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _run_document(path, program) -> dict:
    document = run_json(evaluate(program, load_data(path, program)))
    document.pop("data")  # the file's name, which differs
    return document


@pytest.fixture(scope="module")
def erf_pack():
    return compile_pack(POLICIES / "2021_22")


def test_the_erf_worked_example_as_csv_and_parquet_gives_the_same_results_as_json(tmp_path, erf_pack):
    source = EXAMPLES / "erf_worked_example.json"
    values, organisations = _long_form(json.loads(source.read_text()))
    as_csv = write_csv(tmp_path, values, stem="erf", organisations=organisations)
    as_parquet = write_parquet(tmp_path, dict(zip(HEADING, zip(*values))), stem="erf_p", organisations=organisations)
    expected = _run_document(source, erf_pack)
    assert expected["results"]["erf_additional_funding"]["EXAMPLE2"]["2021-05"]  # the example has figures to compare
    assert _run_document(as_csv, erf_pack) == expected
    assert _run_document(as_parquet, erf_pack) == expected


def test_typed_parquet_columns_read_exactly(tmp_path):
    path = write_parquet(tmp_path, {
        "code": ["S1", "S1", "S2"], "period": ["2021-04", "2021-05", "2021-04"], "input": ["amount"] * 3,
        "value": pa.array([Decimal("26000000.10"), Decimal("0.01"), None], pa.decimal128(12, 2))})
    data = load_data(path, PROGRAM)
    assert [data.values[k] for k in sorted(data.values)] == [Fraction("26000000.10"), Fraction("0.01")]
    assert data.origins[sorted(data.values)[1]] == f"{path}: row 2, column value"
    floats = write_parquet(tmp_path, {"code": ["S1", "S1"], "period": ["2021-04", "2021-05"], "input": ["share", "amount"],
                                      "value": [0.7, 26000000.1]}, stem="f")
    assert sorted(load_data(floats, PROGRAM).values.values()) == [Fraction(7, 10), Fraction("26000000.1")]
    whole = write_parquet(tmp_path, {"code": pa.array([1], pa.int64()), "period": ["2021-04"], "input": ["amount"],
                                     "value": pa.array([5], pa.int32())}, stem="i", organisations=[("1", "", "system", "")])
    assert list(load_data(whole, PROGRAM).values.values()) == [5]


def test_a_date_column_bool_column_and_text_with_line_breaks(tmp_path):
    path = write_parquet(tmp_path, {"code": ["T1"], "period": ["2021/22"], "input": ["opened_on"],
                                    "value": pa.array([dt.date(2021, 6, 3)])})
    assert list(load_data(path, PROGRAM).values.values()) == [dt.date(2021, 6, 3)]
    text = write_csv(tmp_path, [("S1", "2021-04", "remark", "two\nlines, \"quoted\""), ("S1", "2021-04", "lots", "1")])
    # the second record starts on line 4 of the file, but is row 3, as a spreadsheet shows it
    assert str(error_of(text)).startswith(f"{text}: row 3, column input: 'lots' is not an input of the policy")


def test_submissions_sit_beside_the_values(tmp_path):
    path = write_csv(tmp_path, [("S1", "2021-04", "amount", "1")])
    (tmp_path / "d.submissions.csv").write_text("code,milestone,date\nS1,final_plans,2021-06-08\n")
    data = load_data(path, PROGRAM)
    assert data.submissions == {("S1", "final_plans"): dt.date(2021, 6, 8)}
    assert data.submission_origins == {("S1", "final_plans"): f"{tmp_path}/d.submissions.csv: row 2, column date"}
    assert data.companions == (f"{tmp_path}/d.organisations.csv", f"{tmp_path}/d.submissions.csv")


def test_a_bom_blank_rows_trailing_empty_cells_and_headings_in_any_case(tmp_path):
    path = write_csv(tmp_path, [])
    path.write_bytes("\ufeffCode , PERIOD,input,Value\r\nS1,2021-04,amount,£5\r\n,,,\r\n\r\nS1,2021-05,amount,6,,\r\n"
                     .encode())
    assert sorted(load_data(path, PROGRAM).values.values()) == [5, 6]
    write_csv(tmp_path, [], stem="empty")
    assert load_data(tmp_path / "empty.csv", PROGRAM).values == {}


def test_run_reads_a_parquet_file_end_to_end(tmp_path, capsys, erf_pack):
    source = EXAMPLES / "erf_worked_example.json"
    values, organisations = _long_form(json.loads(source.read_text()))
    path = write_parquet(tmp_path, dict(zip(HEADING, zip(*values))), stem="erf", organisations=organisations)
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(path)]) == 0
    from_parquet = capsys.readouterr().out
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(source)]) == 0
    from_json = capsys.readouterr().out
    assert "EXAMPLE2" in from_parquet and from_parquet.split("\n", 1)[1] == from_json.split("\n", 1)[1]


# ---- the layout's own errors -----------------------------------------------------------------

def test_without_an_organisations_file_the_error_says_what_to_add(tmp_path):
    path = tmp_path / "national.csv"
    path.write_text("code,period,input,value\n")
    assert str(error_of(path)) == (
        f"{path}: has no organisations file beside it (planlang looks for national.organisations.csv or "
        "national.organisations.parquet)\n"
        "  help: add national.organisations.csv with the heading row code,name,kind,system and a row for each "
        "organisation (a trust's or CCG's system is its system's code; a system's is empty)")


def test_two_organisations_files_or_the_organisations_file_as_data(tmp_path):
    path = write_csv(tmp_path, [])
    pq.write_table(pa.table({"code": ["S1"], "kind": ["system"]}), tmp_path / "d.organisations.parquet")
    assert str(error_of(path)) == (f"{path}: has both d.organisations.csv and d.organisations.parquet beside it, so which "
                                   "holds its organisations is unclear\n  help: keep one of them")
    organisations = tmp_path / "d.organisations.csv"
    assert str(error_of(organisations)) == (f"{organisations}: is the organisations file of a data file, not the data file "
                                            "itself\n  help: give --data d.csv: planlang reads d.organisations.csv beside it")


@pytest.mark.parametrize("text, expected", [
    ("", "{path}: is empty; a values file starts with the heading row code,period,input,value"),
    ("S1,2021-04,amount,5\n", "{path}: row 1, column 1: the first row should name the columns code,period,input,value; "
                              "found S1,2021-04,amount,5\n  help: add the heading row code,period,input,value at the top"),
    ("code;period;input;value\n", "{path}: row 1, column 1: the first row should name the columns code,period,input,value; "
                                  "found code;period;input;value\n  help: separate the columns with commas, not semicolons"),
    ("code,period,input,vlaue\n", "{path}: row 1, column vlaue: unknown column 'vlaue'; the values file has the columns "
                                  "code,period,input,value\n  help: did you mean `value`?"),
    ("code,period,input,value,unit\n", "{path}: row 1, column unit: unknown column 'unit'; the values file has the columns "
                                       "code,period,input,value\n  help: a .csv or .parquet data file has one row per "
                                       "value, naming its input in the column 'input' (one column per input is the "
                                       "layout of an .xlsx sheet)"),
    ("code,period,input,value,\n", "{path}: row 1, column 5: this column has no heading\n"
                                   "  help: the values file has the columns code,period,input,value"),
    ("code,period,Code,value\n", "{path}: row 1, column Code: the column 'code' appears twice (first as column 1)"),
    ("code,period,input\n", "{path}: row 1, column value: the values file needs a column headed 'value'; its columns "
                            "are code, period, input\n  help: its heading row is code,period,input,value"),
    ('code,period,input,value\nS1,2021-04,remark,"open\n', '{path}: row 2: is not well-formed CSV: unexpected end of data\n'
                                                        '  help: a value holding a comma, a quote or a line break is '
                                                        'written in double quotes, with each quote inside doubled'),
])
def test_a_csv_file_whose_heading_or_quoting_is_wrong(tmp_path, text, expected):
    path = write_csv(tmp_path, [])
    path.write_text(text)
    assert str(error_of(path)) == expected.format(path=path)


def test_rows_of_the_wrong_length_are_reported_together(tmp_path):
    path = write_csv(tmp_path, [("S1", "2021-04", "amount"), ("S1", "2021-05", "amount", "1", "2"),
                                ("S1", "2021-06", "amount", "1")])
    with pytest.raises(DataErrors) as caught:
        load_data(path, PROGRAM)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}: row 2, column value: this row has 3 values, but the heading row names 4 columns",
        f"{path}: row 3, column 5: this row has 5 values, but the heading row names 4 columns"]


def test_text_that_is_not_utf8_is_placed_at_its_row_and_column(tmp_path):
    path = write_csv(tmp_path, [])
    path.write_bytes(b"code,period,input,value\nS1,2021-04,amount,\xa35\n")  # a pound sign in Windows-1252
    assert str(error_of(path)) == (f"{path}: row 2, column value: is not UTF-8 text (invalid start byte: the byte 0xa3)\n"
                                   "  help: save it as UTF-8 (in Excel: CSV UTF-8 (Comma delimited))")


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = write_csv(tmp_path, [("S1", "2021-04", "amount", "1")] * 100)
    assert error_of(path, max_bytes=1000).message == "is larger than the 1,000 bytes planlang reads"
    parquet = write_parquet(tmp_path, {"code": ["S1"] * 1000, "period": ["2021-04"] * 1000, "input": ["amount"] * 1000,
                                       "value": [str(n) for n in range(1000)]}, stem="p")
    assert str(error_of(parquet, max_bytes=15_000)) == (
        f"{parquet}: refused: it holds 1,000 rows, more than the 937 planlang reads within a 15,000 bytes limit "
        "(one row for each 16 bytes)\n  help: `--max-data-mb N` raises the limit")


# ---- Parquet's own errors --------------------------------------------------------------------

def test_a_file_that_is_not_parquet(tmp_path):
    path = write_parquet(tmp_path, {"code": ["S1"]})
    path.write_bytes(b"PAR1 this is not a parquet file")
    error = error_of(path)
    assert error.where == str(path) and error.message.startswith("cannot be read as a Parquet file (")


@pytest.mark.parametrize("column, array, expected", [
    ("period", pa.array([202104]), "column period: the column holds int64; the values file's column 'period' holds text"),
    ("input", pa.array([True]), "column input: the column holds bool; the values file's column 'input' holds text"),
    ("value", pa.array([[1]]), "column value: the column holds list<element: int64>; the values file's column 'value' "
                               "holds text, integers, decimals, float64, booleans or dates"),
    ("value", pa.array([1.5], pa.float32()), "column value: the column holds float numbers, which keep only about 7 "
                                             "significant digits, too few for exact money\n  help: store it as decimal "
                                             "(such as decimal128(18, 2)), integer, float64 or text"),
])
def test_a_parquet_column_of_the_wrong_type_is_refused_before_any_row(tmp_path, column, array, expected):
    columns = {"code": ["S1"], "period": ["2021-04"], "input": ["amount"], "value": ["1"]} | {column: array}
    path = write_parquet(tmp_path, columns)
    assert str(error_of(path)) == f"{path}: {expected}"


def test_parquet_columns_are_named_like_csv_headings(tmp_path):
    path = write_parquet(tmp_path, {"code": ["S1"], "period": ["2021-04"], "input": ["amount"], "amount": ["1"]})
    assert str(error_of(path)) == (f"{path}: column amount: unknown column 'amount'; the values file has the columns "
                                   "code,period,input,value\n  help: a .csv or .parquet data file has one row per value, "
                                   "naming its input in the column 'input' (one column per input is the layout of an "
                                   ".xlsx sheet)")


def test_a_float_that_is_not_the_decimal_meant_is_refused(tmp_path):
    path = write_parquet(tmp_path, {"code": ["S1", "S1"], "period": ["2021-04", "2021-05"], "input": ["amount"] * 2,
                                    "value": [0.1 + 0.2, 123456789012.34]})
    assert str(error_of(path)) == (
        f"{path}: row 1, column value: found the float64 0.30000000000000004, which has 17 significant digits; a float64 "
        "keeps at most 15 exactly, so this may not be the value meant\n"
        "  help: store the column as decimal (such as decimal128(18, 2)) or as text")


# ---- the checks every reader shares, worded the same -----------------------------------------

def test_every_bad_row_is_reported_at_its_row_and_column(tmp_path):
    rows = [("S1", "2021-04", "amount", "lots"), ("S1", "2021-05", "amont", "1"), ("S9", "2021-04", "amount", "1"),
            ("T1", "2021-04", "amount", "1"), ("S1", "2022-04", "amount", "1"), ("S1", "2021/22 Q1", "amount", "1"),
            ("S1", "2021-04", "share", "120%"), ("S1", "2021-06", "amount", "1"), ("S1", "2021-06", "amount", "2"),
            ("", "2021-07", "amount", "1"), ("S1", "", "amount", "1"), ("S1", "2021-04", "", "1")]
    path = write_csv(tmp_path, rows)
    with pytest.raises(DataErrors) as caught:
        load_data(path, PROGRAM)
    assert [str(e).removeprefix(f"{path}: ") for e in caught.value.errors] == [
        "row 2, column value: expected an amount of money such as £1,000, found 'lots'",
        "row 3, column input: 'amont' is not an input of the policy\n  help: did you mean `amount`?",
        "row 4, column code: no organisation 'S9' is listed in the data's organisations",
        "row 5, column code: amount is given per system, but T1 is a trust",
        "row 6, column period: 2022-04 is outside the policy year 2021/22 (April 2021 to March 2022)",
        "row 7, column period: amount is monthly; 2021/22 Q1 is a quarter",
        "row 8, column value: share must be from 0% to 100% (its declared range), found 120%\n"
        "  help: the range is declared at t.plan:10",
        f"row 10, column value: amount for S1 in 2021-06 is given twice (first at {path}: row 9, column value)",
        "row 11, column code: the row has no organisation code",
        "row 12, column period: the row has no period",
        "row 13, column input: the row has no input name"]


def test_the_same_values_in_json_give_the_same_words(tmp_path):
    """The message after the place is the JSON reader's, word for word."""
    json_path = tmp_path / "d.json"
    json_path.write_text(json.dumps({"organisations": [{"code": "S1", "kind": "system"}],
                                     "inputs": {"share": {"S1": {"2021-04": "70"}}, "beds": {"S1": {"2021/22 Q1": 1}}}}))
    path = write_csv(tmp_path, [("S1", "2021-04", "share", "70"), ("S1", "2021/22 Q1", "beds", "1")])
    with pytest.raises(DataErrors) as from_json:
        load_data(json_path, PROGRAM)
    with pytest.raises(DataErrors) as from_csv:
        load_data(path, PROGRAM)
    assert [(e.message, e.suggestion) for e in from_csv.value.errors] == [
        (e.message, e.suggestion) for e in from_json.value.errors]


def test_reading_stops_after_fifty_bad_rows(tmp_path):
    path = write_csv(tmp_path, [("S1", "2021-04", f"unknown_{n}", "1") for n in range(80)])
    with pytest.raises(DataErrors) as caught:
        load_data(path, PROGRAM)
    assert len(caught.value.errors) == MAX_ERRORS and caught.value.stopped
    assert caught.value.errors[-1].where == f"{path}: row {MAX_ERRORS + 1}, column input"


def test_bad_organisations_are_placed_in_the_organisations_file(tmp_path):
    path = write_csv(tmp_path, [], organisations=[("S1", "", "system", ""), ("T1", "", "trust", ""), ("S1", "", "sytem", "")])
    organisations = tmp_path / "d.organisations.csv"
    with pytest.raises(DataErrors) as caught:
        load_data(path, PROGRAM)
    assert [str(e) for e in caught.value.errors] == [
        f"{organisations}: row 4, column code: the organisation code 'S1' appears twice "
        f"(first at {organisations}: row 2, column code)",
        f"{organisations}: row 3, column system: trust T1 must name its system\n  help: the systems are S1"]
    path.with_name("d.organisations.csv").write_text("code,name,kind,region\n")
    assert str(error_of(path)) == (f"{organisations}: row 1, column region: unknown column 'region'; the organisations "
                                   "file has the columns code,name,kind,system")


def test_bad_submissions_are_placed_at_their_row(tmp_path):
    path = write_csv(tmp_path, [])
    (tmp_path / "d.submissions.csv").write_text("code,milestone,date\nS1,final_plan,2021-06-08\nS1,final_plans,soon\n")
    with pytest.raises(DataErrors) as caught:
        load_data(path, PROGRAM)
    where = f"{tmp_path}/d.submissions.csv"
    assert [e.where for e in caught.value.errors] == [f"{where}: row 2, column date", f"{where}: row 3, column date"]
    assert caught.value.errors[0].message == "'final_plan' is not a deadline of the policy"


# ---- JSON and columnar files of the same data load the same ----------------------------------

_MONTHS = [f"2021-{m:02d}" for m in range(4, 13)]
_VALUE = {
    "amount": st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False).map(str),
    "share": st.fractions(min_value=0, max_value=1, max_denominator=1000).map(
        lambda f: f"{Decimal(f.numerator) / Decimal(f.denominator) * 100:.4f}%"),
    "open": st.booleans(),
    "remark": st.text(st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\r,\""), max_size=12),
}


@st.composite
def _datasets(draw):
    entries = draw(st.dictionaries(st.tuples(st.sampled_from(sorted(_VALUE)), st.sampled_from(["S1", "S2"]),
                                             st.sampled_from(_MONTHS)), st.none(), max_size=25))
    return [(name, code, month, draw(_VALUE[name])) for name, code, month in entries]


@settings(max_examples=40, deadline=None)
@given(_datasets(), st.dictionaries(st.sampled_from(["S1", "S2", "T1"]), st.dates(dt.date(2021, 4, 1), dt.date(2021, 9, 30)),
                                    max_size=3))
def test_a_dataset_written_as_json_csv_and_parquet_loads_the_same(tmp_path_factory, entries, submitted):
    folder = tmp_path_factory.mktemp("same")
    inputs: dict = {}
    for name, code, month, raw in entries:
        inputs.setdefault(name, {}).setdefault(code, {})[month] = raw
    document = {"organisations": [{"code": c, "name": n, "kind": k, "system": s or None} for c, n, k, s in ORGANISATIONS],
                "inputs": inputs, "submissions": {code: {"final_plans": str(day)} for code, day in submitted.items()}}
    (folder / "d.json").write_text(json.dumps(document))
    (folder / "d.submissions.csv").write_text(_csv_text(("code", "milestone", "date"),
                                                        [(code, "final_plans", str(day)) for code, day in submitted.items()]))
    rows = [(code, month, name, _as_text(raw)) for name, code, month, raw in entries]
    write_csv(folder, rows)
    write_parquet(folder, {column: pa.array(list(values), pa.string()) for column, values in zip(HEADING, zip(*rows))}
                  if rows else {column: pa.array([], pa.string()) for column in HEADING})
    loaded = [load_data(folder / name, PROGRAM) for name in ("d.json", "d.csv", "d.parquet")]
    for other in loaded[1:]:
        assert other.values == loaded[0].values
        assert other.organisations == loaded[0].organisations
        assert other.submissions == loaded[0].submissions


def test_the_files_the_docs_show_load(tmp_path, erf_pack):
    from test_docs import DOCS, fenced

    values, organisations = (text for _, text in fenced(DOCS / "language.md", "csv"))
    (tmp_path / "national.csv").write_text(values)
    (tmp_path / "national.organisations.csv").write_text(organisations)
    data = load_data(tmp_path / "national.csv", erf_pack)
    assert sorted(map(str, data.values.values())) == ["26000000", "30000000", "53000001/2", "False"]
    assert [org.kind for org in data.organisations.values()] == ["system", "trust", "ccg"]


def test_a_receipt_covers_the_files_beside_the_data(tmp_path, capsys):
    source = EXAMPLES / "erf_worked_example.json"
    values, organisations = _long_form(json.loads(source.read_text()))
    path = write_csv(tmp_path, values, stem="erf", organisations=organisations)
    receipt = tmp_path / "receipt.json"
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(path), "--receipt", str(receipt)]) == 0
    assert set(json.loads(receipt.read_text())["data"]["beside"]) == {"erf.organisations.csv"}
    assert main(["verify", str(receipt)]) == 0
    beside = tmp_path / "erf.organisations.csv"
    beside.write_text(beside.read_text().replace("Worked example 1", "Example one"))
    (tmp_path / "erf.submissions.csv").write_text("code,milestone,date\n")
    capsys.readouterr()
    assert main(["verify", str(receipt)]) == 1
    out = capsys.readouterr().out
    assert f"data file {beside}: changed (sha256 " in out and f"data file {tmp_path}/erf.submissions.csv: added" in out


# ---- hostile files: a dataset or an InputError, never a traceback ----------------------------

_CSV_PIECES = st.sampled_from(["code", "period", "input", "value", ",", "\n", "\r\n", '"', "S1", "T1", "2021-04",
                               "2021/22", "amount", "share", "opened_on", "£1,0", "70%", "\ufeff", " ", "\x00", "\u2028"])


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=120), st.lists(_CSV_PIECES, max_size=40).map(lambda p: "".join(p).encode())))
def test_any_bytes_as_a_csv_file_load_or_give_one_placed_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("csv")
    path = write_csv(folder, [])
    path.write_bytes(b"code,period,input,value\n" + data if data[:1] == b"S" else data)
    try:
        load_data(path, PROGRAM)
    except InputError as error:
        assert str(error).startswith(str(path))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4), st.booleans())
def test_a_damaged_parquet_file_gives_one_error(tmp_path_factory, changes, truncate):
    folder = tmp_path_factory.mktemp("parquet")
    path = write_parquet(folder, {"code": ["S1", "T1"], "period": pa.array(["2021-04", "2021/22"]).dictionary_encode(),
                                  "input": ["share", "opened_on"], "value": ["50%", "2021-06-03"]})
    data = bytearray(path.read_bytes())
    for offset, byte in changes:
        data[offset % len(data)] = byte
    path.write_bytes(bytes(data[: changes[0][0] % len(data)] if truncate else data))
    try:
        load_data(path, PROGRAM)
    except InputError as error:
        assert str(error).startswith(str(path))


def test_an_organisations_file_that_is_a_folder(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("code,period,input,value\n")
    (tmp_path / "d.organisations.csv").mkdir()
    assert error_of(path).message == "is a folder, not a regular file; planlang reads only regular files"


def test_an_unclosed_quote_in_the_heading_row_is_placed_there(tmp_path):
    path = write_csv(tmp_path, [])
    path.write_text('code,"period\n')
    assert error_of(path).where == f"{path}: row 1"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.from_regex(r"-?[0-9]{1,42}(\.[0-9]{0,42})?", fullmatch=True), st.integers(-10**41, 10**41),
                 st.text(max_size=8), st.decimals(), st.decimals(places=2),
                 st.builds(Decimal, st.from_regex(r"-?[0-9]{1,3}E[-+]?[0-9]{1,2}", fullmatch=True))),
       st.sampled_from(["money", "ratio", "count"]))
def test_the_shortcut_for_plain_numbers_gives_what_convert_value_gives(raw, type_):
    from planlang.data import convert_value
    from planlang.data.columnar import _plain

    shortcut = _plain(raw, type_)
    if shortcut is not None:
        assert shortcut == convert_value(raw, type_, "w") and type(shortcut) is Fraction


def test_the_index_pandas_writes_is_not_a_column(tmp_path):
    table = pa.table({"code": ["S1"], "period": ["2021-04"], "input": ["amount"], "value": ["5"], "__index_level_0__": [7]})
    pandas = {"index_columns": ["__index_level_0__"], "columns": []}
    path = write_parquet(tmp_path, {"code": ["S1"]})
    pq.write_table(table.replace_schema_metadata({b"pandas": json.dumps(pandas).encode()}), path)
    assert list(load_data(path, PROGRAM).values.values()) == [5]
    pq.write_table(table, path)  # without pandas' note, it is a column like any other
    assert error_of(path).message.startswith("unknown column '__index_level_0__'")


def test_a_fifo_as_the_data_or_beside_it_is_refused_without_hanging(tmp_path):
    import os

    os.mkfifo(tmp_path / "f.csv")
    assert error_of(tmp_path / "f.csv").message.startswith("is a named pipe (FIFO), not a regular file")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"code": ["S1"], "period": ["2021-04"], "input": ["amount"], "value": ["1"]}), path)
    os.mkfifo(tmp_path / "d.organisations.parquet")
    error = error_of(path)
    assert error.where == f"{tmp_path}/d.organisations.parquet" and "named pipe" in error.message
