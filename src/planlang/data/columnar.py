"""Columnar data: long-form ``.csv`` and ``.parquet`` files, one row per value, for national-scale inputs.

A data file and the organisations it names, side by side::

    national.csv                                national.organisations.csv
    code,period,input,value                     code,name,kind,system
    SYS1,2021-05,erf_actual,26000000.50         SYS1,North,system,
    SYS1,2021-05,erf_gateway_met,false          T1,North Trust,trust,SYS1

and, when the data records submissions, ``national.submissions.csv`` (code, milestone, date).
Either file may be ``.csv`` or ``.parquet``: values in Parquet beside organisations kept in CSV is
fine. A warehouse exports one query per table, and organisations are a different table from the
values (four columns against another four): two files of one shape each are simpler to write than
one file of two shapes.

Rows are numbered as a spreadsheet shows them: in CSV the heading is row 1 and the first value row
2; Parquet has no heading row, so its first row is row 1. Every problem names the file, the row and
the column (``national.csv: row 7, column value``), and is found by the same checks, worded the
same, as in a JSON file or a workbook (:class:`~planlang.data.Checker`).

CSV is read with Python's :mod:`csv` module rather than ``pyarrow.csv``: it counts records, not
physical lines (a quoted value may hold a line break), so every problem it meets -- an unclosed
quote, a row of the wrong length, a byte that is not UTF-8 -- is placed at the row an editor shows,
where ``pyarrow.csv`` reports a physical line or nothing. Its parse is a small part of the time;
converting each value exactly is most of it.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import operator
import os
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from ..diagnostics import InputError, suggest
from ..files import check_regular, megabytes, read_bytes
from .checks import RAISE_WITH, Checker
from .convert import SPACES
from .dataset import ORGANISATION_FIELDS, Dataset, Organisation, check_organisations

__all__ = ["load_columnar", "COMPANIONS", "VALUE_COLUMNS", "companions"]

VALUE_COLUMNS = ("code", "period", "input", "value")
_SUBMISSION_COLUMNS = ("code", "milestone", "date")
COMPANIONS = ("organisations", "submissions")  # <stem>.organisations.csv, <stem>.submissions.parquet, ...
_SUFFIXES = (".csv", ".parquet")

# A float64 keeps every decimal of at most 15 significant digits exactly (DBL_DIG); a value whose
# shortest decimal has more was most likely worked out in floating point, not the figure meant.
_FLOAT_DIGITS = 15
# Parquet compresses a column of repeated codes to almost nothing, so its size on disk does not bound
# what reading it costs. Its rows are bounded instead, at one per this many bytes of the size limit
# (a CSV row of a code, a period, an input and a value is rarely shorter), and so is its decoded size.
_BYTES_PER_ROW = 16
_EXPANSION = 4
_BATCH_ROWS = 65_536


@attrs.frozen
class _Layout:
    """What one kind of file holds: its columns, the ones it needs, and how to name it in messages."""

    what: str  # "values", "organisations", "submissions"
    columns: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def heading(self) -> str:
        return ",".join(self.columns)


_VALUES = _Layout("values", VALUE_COLUMNS, VALUE_COLUMNS)
_ORGANISATIONS = _Layout("organisations", ORGANISATION_FIELDS, ("code", "kind"))
_SUBMISSIONS = _Layout("submissions", _SUBMISSION_COLUMNS, _SUBMISSION_COLUMNS)

Rows = Iterator[tuple[int, "tuple | InputError"]]  # (row number, the layout's columns in order, None where absent)


def load_columnar(path: Path, display: str, program, max_bytes: int) -> Dataset:
    """Read a long-form ``.csv`` or ``.parquet`` data file and its organisations (and submissions) file."""
    with _collector_paused():
        return _load(path, display, program, max_bytes)


@contextlib.contextmanager
def _collector_paused():
    """Pause Python's cycle collector while a file is read. Each of a million rows leaves tuples behind,
    which would start a collection pass every few hundred, each walking every object read so far
    (a third of the time at a million rows); reading makes no cycles for it to find."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(path: Path, display: str, program, max_bytes: int) -> Dataset:
    _not_a_companion(path, display)
    check_regular(path, display, max_bytes, RAISE_WITH)
    organisations_path = _companion(path, display, "organisations")
    if organisations_path is None:
        stem = path.name[: -len(path.suffix)]
        raise InputError(f"has no organisations file beside it (planlang looks for {stem}.organisations.csv "
                         f"or {stem}.organisations.parquet)", display,
                         f"add {stem}.organisations.csv with the heading row code,name,kind,system and a row for "
                         f"each organisation (a trust's or CCG's system is its system's code; a system's is empty)")
    organisations_display = _display_beside(display, organisations_path)
    organisations, locate = _organisations(_rows(organisations_path, organisations_display, max_bytes, _ORGANISATIONS),
                                           organisations_display)
    checker = Checker(program, check_organisations(organisations, locate, organisations_display))
    _values(_rows(path, display, max_bytes, _VALUES), display, checker)
    submissions_path = _companion(path, display, "submissions")
    if submissions_path is not None:
        submissions_display = _display_beside(display, submissions_path)
        _submissions(_rows(submissions_path, submissions_display, max_bytes, _SUBMISSIONS), _place(submissions_display),
                     checker, submissions_display)
    dataset = checker.dataset(organisations, display, locate)
    companions = [organisations_display] + ([_display_beside(display, submissions_path)] if submissions_path else [])
    return attrs.evolve(dataset, companions=tuple(companions))


# ---- the files beside a data file ------------------------------------------------------------

def _split(path: Path) -> tuple[str, str | None]:
    """A file name's stem and the companion it names: ``n.organisations.csv`` -> ("n", "organisations")."""
    stem = path.name[: -len(path.suffix)]
    for word in COMPANIONS:
        if stem.lower().endswith("." + word):
            return stem[: -len(word) - 1], word
    return stem, None


def _not_a_companion(path: Path, display: str) -> None:
    stem, word = _split(path)
    if word is None:
        return
    values = [path.with_name(stem + suffix) for suffix in _SUFFIXES]
    found = [candidate for candidate in values if candidate.exists()]
    shown = found[0].name if found else f"{stem}.csv or {stem}.parquet"
    raise InputError(f"is the {word} file of a data file, not the data file itself", display,
                     f"give --data {shown}: planlang reads {path.name} beside it")


def _companion(path: Path, display: str, word: str) -> Path | None:
    """The one ``<stem>.<word>.csv`` or ``.parquet`` beside ``path``, if there is one."""
    stem = path.name[: -len(path.suffix)]
    found = [candidate for suffix in _SUFFIXES if (candidate := path.with_name(f"{stem}.{word}{suffix}")).exists()]
    if len(found) > 1:
        raise InputError(f"has both {found[0].name} and {found[1].name} beside it, so which holds its {word} is unclear",
                         display, "keep one of them")
    return found[0] if found else None


def companions(path: Path) -> list[Path]:
    """The files beside the data file ``path`` that are read with it (its organisations and submissions files)."""
    stem = path.name[: -len(path.suffix)]
    return [candidate for word in COMPANIONS for suffix in _SUFFIXES
            if (candidate := path.with_name(f"{stem}.{word}{suffix}")).exists()]


def _display_beside(display: str, companion: Path) -> str:
    return os.path.join(os.path.dirname(display), companion.name)


# ---- places ----------------------------------------------------------------------------------

def _place(display: str) -> Callable[[int, str], str]:
    return lambda number, column: f"{display}: row {number}, column {column}"


def _text(cell) -> str:
    """A code, a period or a name as text; a Parquet integer code reads as its digits."""
    if cell is None:
        return ""
    return (cell if isinstance(cell, str) else str(cell)).strip(SPACES)


# ---- reading rows ----------------------------------------------------------------------------

def _rows(path: Path, display: str, max_bytes: int, layout: _Layout) -> Rows:
    """The rows of a file with a layout's columns, in order; a row of the wrong length comes as the
    :class:`InputError` that says so, for the reader to keep with the other problems."""
    if path.suffix.lower() == ".parquet":
        return _parquet_rows(path, display, max_bytes, layout)
    return _csv_rows(path, display, max_bytes, layout)


def _match_headings(headings: list[str | None], layout: _Layout, place: Callable[[int, str], str]) -> dict[str, int]:
    """Column name -> position, from the headings as written (case and surrounding spaces ignored;
    a heading given as None is skipped)."""
    columns: dict[str, int] = {}
    for index, text in enumerate(headings):
        if text is None:
            continue
        name = text.strip().lower()
        where = place(1, text.strip() or str(index + 1))
        if not name:
            raise InputError("this column has no heading", where, f"the {layout.what} file has the columns {layout.heading}")
        if name not in layout.columns:
            raise InputError(f"unknown column {text.strip()!r}; the {layout.what} file has the columns {layout.heading}",
                             where, suggest(name, layout.columns) or _wide_hint(layout))
        if name in columns:
            raise InputError(f"the column {name!r} appears twice (first as column {columns[name] + 1})", where)
        columns[name] = index
    for name in layout.required:
        if name not in columns:
            named = [text for text in headings if text is not None]
            raise InputError(f"the {layout.what} file needs a column headed {name!r}; its columns are "
                             f"{', '.join(named) or 'none'}", place(1, name), f"its heading row is {layout.heading}")
    return columns


def _is_heading(row: list[str], layout: _Layout, place) -> None:
    """Refuse a first row that names none of the columns: the heading row was left out."""
    if not any(text.strip().lower() in layout.columns for text in row):
        found = ",".join(row)
        other = next((name for mark, name in _SEPARATORS.items() if len(row) == 1 and mark in row[0]), None)
        raise InputError(f"the first row should name the columns {layout.heading}; found "
                         f"{found if len(found) <= 60 else found[:60] + '...'}", place(1, "1"),
                         f"separate the columns with commas, not {other}" if other
                         else f"add the heading row {layout.heading} at the top")


# what a spreadsheet set to another locale separates columns with
_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "bars"}


def _wide_hint(layout: _Layout) -> str | None:
    if layout is not _VALUES:
        return None
    return ("a .csv or .parquet data file has one row per value, naming its input in the column 'input' "
            "(one column per input is the layout of an .xlsx sheet)")


def _csv_rows(path: Path, display: str, max_bytes: int, layout: _Layout) -> Rows:
    text = _decode(read_bytes(path, display, max_bytes, RAISE_WITH), display)
    if not text.strip():
        raise InputError(f"is empty; a {layout.what} file starts with the heading row {layout.heading}", display)
    place = _place(display)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0  # the row before the one being read
    try:
        row = next(reader)
        number = 1
        _is_heading(row, layout, place)
        columns = _match_headings(row, layout, place)
        headings, width = [text.strip().lower() for text in row], len(row)
        indices = [columns.get(name) for name in layout.columns]
        pick = operator.itemgetter(*indices) if None not in indices else (
            lambda row: tuple(row[index] if index is not None else None for index in indices))
        for number, row in enumerate(reader, start=2):  # noqa: B007 (number places a csv.Error below)
            if not (row and row[0].strip()) and not any(cell.strip() for cell in row):
                continue  # blank rows are skipped, as in a workbook
            if len(row) != width and (problem := _ragged(row, headings, number, place)) is not None:
                yield number, problem
                continue
            yield number, pick(row)
    except csv.Error as error:
        raise InputError(f"is not well-formed CSV: {error}", f"{display}: row {number + 1}",
                         "a value holding a comma, a quote or a line break is written in double quotes, "
                         "with each quote inside doubled") from None


def _ragged(row: list[str], headings: list[str], number: int, place) -> InputError | None:
    width = len(headings)
    if len(row) > width and not any(cell.strip() for cell in row[width:]):
        return None  # trailing empty cells, as some exports write
    return InputError(f"this row has {len(row)} values, but the heading row names {width} columns",
                      place(number, headings[len(row)] if len(row) < width else str(width + 1)))


def _decode(data: bytes, display: str) -> str:
    try:
        return data.decode("utf-8-sig")  # -sig: the byte-order mark Excel writes before "CSV UTF-8"
    except UnicodeDecodeError as error:
        row, column = _position(data, error.start)
        raise InputError(f"is not UTF-8 text ({error.reason}: the byte 0x{data[error.start]:02x})",
                         f"{display}: row {row}, column {column}",
                         "save it as UTF-8 (in Excel: CSV UTF-8 (Comma delimited))") from None


def _position(data: bytes, offset: int) -> tuple[int, str]:
    """The row and column holding byte ``offset``, the column by its heading where the heading row reads."""
    marker = "\ue000"
    before = data[:offset].decode("utf-8-sig", errors="replace") + marker
    rows = list(csv.reader(io.StringIO(before, newline="")))
    for number, row in enumerate(rows, start=1):
        for index, cell in enumerate(row):
            if marker in cell:
                heading = rows[0][index].strip().lower() if number > 1 and index < len(rows[0]) else ""
                return number, heading or str(index + 1)
    return len(rows) or 1, "1"


# ---- Parquet ---------------------------------------------------------------------------------

def _parquet_rows(path: Path, display: str, max_bytes: int, layout: _Layout) -> Rows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_regular(path, display, max_bytes, RAISE_WITH)
    try:
        parquet = pq.ParquetFile(path)
        metadata, schema = parquet.metadata, parquet.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(f"cannot be read as a Parquet file ({error})", display) from None
    with parquet:
        _bounded(metadata, display, max_bytes)
        place = lambda number, column: f"{display}: column {column}"  # noqa: E731 (a Parquet heading has no row)
        skipped = _pandas_index(schema)
        columns = _match_headings([None if name in skipped else name for name in schema.names], layout, place)
        for name, position in columns.items():
            _column_type(name, schema.field(position).type, layout, display)
        yield from _batches(parquet, display, layout, columns, schema)


def _batches(parquet, display: str, layout: _Layout, columns: dict[str, int], schema) -> Rows:
    import pyarrow as pa

    wanted = [name for name in layout.columns if name in columns]
    number = 1
    try:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=[schema.names[columns[n]] for n in wanted],
                                          use_pandas_metadata=False):
            lists = dict(zip(wanted, (column.to_pylist() for column in batch.columns)))
            absent = [None] * batch.num_rows
            for offset, row in enumerate(zip(*(lists.get(name, absent) for name in layout.columns))):
                if (None not in row and "" not in row) or any(cell is not None and cell != "" for cell in row):
                    yield number + offset, row
            number += batch.num_rows
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(f"cannot be read as a Parquet file ({error})", f"{display}: row {number}") from None


def _pandas_index(schema) -> set[str]:
    """The columns pandas wrote for a DataFrame's index (``__index_level_0__``), which are not data."""
    try:
        listed = (schema.pandas_metadata or {}).get("index_columns", [])
    except (ValueError, TypeError, AttributeError):  # metadata that is not pandas' JSON
        return set()
    return {name for name in listed if isinstance(name, str)} if isinstance(listed, list) else set()


def _bounded(metadata, display: str, max_bytes: int) -> None:
    rows, most_rows = metadata.num_rows, max_bytes // _BYTES_PER_ROW
    if rows > most_rows:
        raise InputError(f"refused: it holds {rows:,} rows, more than the {most_rows:,} planlang reads within a "
                         f"{megabytes(max_bytes)} limit (one row for each {_BYTES_PER_ROW} bytes)", display,
                         f"{RAISE_WITH} raises the limit")
    decoded = sum(metadata.row_group(index).total_byte_size for index in range(metadata.num_row_groups))
    if decoded > _EXPANSION * max_bytes:
        raise InputError(f"refused: it would expand to {megabytes(decoded)}, more than {_EXPANSION} times the "
                         f"{megabytes(max_bytes)} limit", display, f"{RAISE_WITH} raises the limit")


def _column_type(name: str, type_, layout: _Layout, display: str) -> None:
    """Refuse a Parquet column whose type cannot hold what the column means, before any row is read."""
    import pyarrow as pa

    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    text = pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_string_view(type_)
    where = f"{display}: column {name}"
    if pa.types.is_null(type_) or text:
        return
    if name == "code" and pa.types.is_integer(type_):
        return
    if name in ("value", "date") and (pa.types.is_date(type_) or (name == "value" and (
            pa.types.is_integer(type_) or pa.types.is_decimal(type_) or pa.types.is_boolean(type_)
            or pa.types.is_float64(type_)))):
        return
    if name == "value" and pa.types.is_floating(type_):
        raise InputError(f"the column holds {type_} numbers, which keep only about {7 if type_.bit_width == 32 else 3} "
                         f"significant digits, too few for exact money", where,
                         "store it as decimal (such as decimal128(18, 2)), integer, float64 or text")
    if name == "value":
        accepted = "text, integers, decimals, float64, booleans or dates"
    elif name == "date":
        accepted = "dates or text such as 2021-06-03"
    else:
        accepted = "text" + (" or integers" if name == "code" else "")
    raise InputError(f"the column holds {type_}; the {layout.what} file's column {name!r} holds {accepted}", where)


def _float_digits(value: float) -> int:
    return len(Decimal(repr(value)).normalize().as_tuple().digits)


def _exact_float(value: float, where: str) -> None:
    """Refuse a float64 that is probably not the decimal meant: read through its shortest decimal, a
    float64 of at most 15 significant digits is exactly the number that was stored."""
    if value == value and value not in (float("inf"), float("-inf")) and _float_digits(value) > _FLOAT_DIGITS:
        raise InputError(f"found the float64 {value!r}, which has {_float_digits(value)} significant digits; a float64 "
                         f"keeps at most {_FLOAT_DIGITS} exactly, so this may not be the value meant", where,
                         "store the column as decimal (such as decimal128(18, 2)) or as text")


# ---- what the rows mean ----------------------------------------------------------------------

def _organisations(rows: Rows, display: str) -> tuple[list[Organisation], Callable[[int, str], str]]:
    place = _place(display)
    organisations, numbers = [], []
    for number, row in rows:
        if isinstance(row, InputError):
            raise row
        code, name, kind, system = (_text(cell) for cell in row)
        if not code:
            raise InputError("the organisation has no code", place(number, "code"))
        organisations.append(Organisation(code, name or code, kind.lower(), system or None))
        numbers.append(number)

    def locate(index: int, field: str) -> str:
        return place(numbers[index], field)

    return organisations, locate


# Plain decimal text ("26000000.50") is, for a money, ratio or count input, exactly the Fraction of
# its digits over a power of ten, the value convert_value gives it; made directly, it costs a sixth.
# Any other text (a £ sign, separators, a sign of another kind, %) takes convert_value and its messages.
_PLAIN = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?")
_PLAIN_TYPES = ("money", "ratio", "count")
_POWERS = [10**digits for digits in range(41)]


def _plain(raw, type_: str):
    """``raw`` as a Fraction when it is plain decimal text, an int or a Decimal that ``type_`` reads as it
    is; else None, and convert_value reads it."""
    if raw.__class__ is int:  # a Parquet integer column (bool is refused by convert_value)
        return Fraction(raw) if -10**40 < raw < 10**40 else None
    if raw.__class__ is Decimal:  # a Parquet decimal column
        if not raw.is_finite() or raw.adjusted() >= 40 or -raw.as_tuple().exponent > 40:
            return None
        value = Fraction(raw)
        return value if type_ != "count" or value.denominator == 1 else None
    if raw.__class__ is not str or not _PLAIN.fullmatch(raw):
        return None
    whole, _, decimals = raw.partition(".")
    if decimals and type_ == "count":
        return None  # convert_value reads "1.0" as a count and words the refusal of "1.5"
    return Fraction(int(whole + decimals), _POWERS[len(decimals)])


def _values(rows: Rows, display: str, checker: Checker) -> None:
    """Check and keep each row's value. A large file names each (organisation, input) pair and each
    period many times, so each is checked once, where it first appears."""
    checked: dict = {}  # (code, input) as written -> the same trimmed, once both are known good
    periods: dict = {}  # (input, period as written) -> Period
    plain = {name: decl.type for name, decl in checker.declared.items() if decl.type in _PLAIN_TYPES}
    add, keep, place = checker.add, checker.keep, _place(display)
    for number, row in rows:
        try:
            if row.__class__ is not tuple:
                raise row  # the reader's InputError for a row of the wrong length
            code, period, name, raw = row
            names = checked.get((code, name))
            if names is None:
                names = checked[code, name] = _check_pair(_text(code), _text(name), number, place, checker)
            code, name = names
            found = periods.get((name, period))
            if found is None:
                text, where = _text(period), place(number, "period")
                if not text:
                    raise InputError("the row has no period", where)
                found = periods[name, period] = checker.period(name, text, where)
            where = f"{display}: row {number}, column value"
            if name in plain and (value := _plain(raw, plain[name])) is not None:
                keep(name, code, found, value, where)
                continue
            if raw.__class__ is float:
                _exact_float(raw, where)
            add(name, code, found, raw, where)
        except InputError as error:
            _note(checker, error, display)


def _check_pair(code: str, name: str, number: int, place, checker: Checker) -> tuple[str, str]:
    if not name:
        raise InputError("the row has no input name", place(number, "input"))
    checker.declaration(name, place(number, "input"))
    if not code:
        raise InputError("the row has no organisation code", place(number, "code"))
    checker.organisation(name, code, place(number, "code"))
    return code, name


def _note(checker: Checker, error: InputError, display: str) -> None:
    """Keep a problem with the others, as the other readers do (stopping at MAX_ERRORS)."""
    with checker.each(display):
        raise error


def _submissions(rows: Rows, place, checker: Checker, display: str) -> None:
    for number, row in rows:
        try:
            if row.__class__ is not tuple:
                raise row
            code, milestone, date = row
            checker.submission(_text(code), _text(milestone), date, place(number, "date"))
        except InputError as error:
            _note(checker, error, display)

