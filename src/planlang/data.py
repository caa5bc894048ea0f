"""Organisation data: JSON or Excel in, a checked :class:`Dataset` out, every value exact and traceable.

JSON::

    {"organisations": [{"code": "SYS1", "name": "...", "kind": "system", "system": null}, ...],
     "inputs": {"erf_actual": {"SYS1": {"2021-05": "£26,000,000"}}}}

Excel: a sheet ``organisations`` (columns code, name, kind, system) and one sheet per period
granularity, ``monthly``, ``quarterly``, ``half-yearly``, ``annual``, with columns code, period,
then one column per input. Percent cells hold fractions of one (0.7 shown as 70%).

Every value remembers where it came from (a JSON path, or sheet!cell), and every problem is an
:class:`~planlang.diagnostics.InputError` naming that place. An empty cell or ``null`` is no
value: the evaluator reports what it makes missing; it is never read as zero.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from . import syntax as s
from .diagnostics import InputError, suggest
from .periods import GRANULARITIES, Period, PeriodError, parse_date, parse_period
from .values import AmountError, parse_amount

__all__ = ["Organisation", "Dataset", "make_dataset", "load_data", "convert_value", "write_workbook", "SHEETS"]

KINDS = ("system", "trust", "ccg")
SHEETS = {word: kind for word, kind in GRANULARITIES.items()}  # sheet name -> period kind
_MAX_UNCOMPRESSED = 256 * 1024 * 1024
_MAX_RATIO = 200


@attrs.frozen
class Organisation:
    code: str
    name: str
    kind: str  # system, trust or ccg
    system: str | None = None  # the code of its system; None for a system


@attrs.frozen(eq=False)
class Dataset:
    """Organisations and input values, keyed ``(input, organisation code, period)``."""

    source: str
    organisations: dict[str, Organisation]
    values: dict[tuple[str, str, Period], object]
    origins: dict[tuple[str, str, Period], str]
    _members: dict[str, tuple[str, ...]]
    _periods: dict[str, tuple[Period, ...]]

    def members(self, system: str) -> tuple[str, ...]:
        """The trusts and CCGs of a system, in file order."""
        return self._members.get(system, ())

    def periods(self, kind: str) -> tuple[Period, ...]:
        """The periods of a kind that the data gives values for, in order."""
        return self._periods.get(kind, ())

    def of_kinds(self, kinds: Iterable[str]) -> list[Organisation]:
        kinds = set(kinds)
        return [o for o in self.organisations.values() if o.kind in kinds]


def make_dataset(organisations: Iterable[Organisation], values: Mapping, origins: Mapping, source: str,
                 where: Mapping[str, str] | None = None) -> Dataset:
    """A dataset from checked parts; organisations are validated here (``where`` locates each by code)."""
    where = where or {}
    by_code: dict[str, Organisation] = {}
    for org in organisations:
        place = where.get(org.code, source)
        if org.code in by_code:
            raise InputError(f"the organisation code {org.code!r} appears twice", place)
        if org.kind not in KINDS:
            raise InputError(f"{org.code}: kind {org.kind!r} is not system, trust or ccg", place, suggest(org.kind, KINDS))
        by_code[org.code] = org
    members: dict[str, list[str]] = {}
    for org in by_code.values():
        place = where.get(org.code, source)
        if org.kind == "system":
            if org.system:
                raise InputError(f"{org.code} is a system, so it does not belong to a system (got {org.system!r})", place)
            continue
        parent = by_code.get(org.system or "")
        if parent is None or parent.kind != "system":
            systems = [o.code for o in by_code.values() if o.kind == "system"]
            raise InputError(f"{org.kind} {org.code} must name its system; {org.system!r} is not a system in the data",
                             place, suggest(org.system or "", systems))
        members.setdefault(parent.code, []).append(org.code)
    periods: dict[str, set[Period]] = {}
    for _, _, period in values:
        if period is not None:
            periods.setdefault(period.kind, set()).add(period)
    return Dataset(source, by_code, dict(values), dict(origins), {k: tuple(v) for k, v in members.items()},
                   {k: tuple(sorted(v, key=Period.sort_key)) for k, v in periods.items()})


# ---- values ----------------------------------------------------------------------------------

_TRUE, _FALSE = {"true", "yes", "y"}, {"false", "no", "n"}


def convert_value(raw, type_: str, where: str):
    """A raw JSON or cell value as a value of the input's type; None when there is no value."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if type_ in ("money", "percent", "ratio", "count"):
        return _number(raw, type_, where)
    if type_ == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise InputError(f"expected true or false, got {raw!r}", where)
    if type_ == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return parse_date(str(raw))
        except PeriodError as error:
            raise InputError(str(error), where) from None
    if isinstance(raw, str):
        return raw
    raise InputError(f"expected text, got {raw!r}", where)


def _number(raw, type_: str, where: str) -> Fraction:
    if isinstance(raw, bool):
        raise InputError(f"expected {'an amount' if type_ == 'money' else 'a number'}, got {str(raw).lower()}", where)
    if isinstance(raw, float):
        value = Fraction(Decimal(repr(raw)))  # the shortest decimal that is this float: what the cell shows
    elif isinstance(raw, (int, Decimal)):
        value = Fraction(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if type_ == "money" and text.endswith("%"):
            raise InputError(f"expected an amount of money, got the percentage {raw!r}", where)
        if type_ != "money" and "£" in text:
            raise InputError(f"expected {'a percentage' if type_ == 'percent' else 'a number'}, got the amount {raw!r}", where)
        try:
            value = parse_amount(text)
        except AmountError as error:
            raise InputError(str(error), where) from None
    else:
        raise InputError(f"expected a number, got {raw!r}", where)
    if type_ == "count" and value.denominator != 1:
        raise InputError(f"expected a whole number, got {raw!r}", where)
    return value


class _Inputs:
    """Checks each value against the policy's declared inputs and collects it with its origin."""

    def __init__(self, program, organisations: dict[str, Organisation]):
        self.declared: dict[str, s.InputDecl] = program.of_kind(s.InputDecl)
        self.year: Period = program.year
        self.organisations = organisations
        self.values: dict = {}
        self.origins: dict = {}

    def declaration(self, name: str, where: str) -> s.InputDecl:
        decl = self.declared.get(name)
        if decl is None:
            raise InputError(f"{name!r} is not an input of the policy", where,
                             suggest(name, self.declared) or f"the inputs are {', '.join(sorted(self.declared)) or 'none'}")
        return decl

    def add(self, name: str, code: str, period_text, raw, where: str, granularity_where: str | None = None):
        decl = self.declaration(name, where)
        org = self.organisations.get(code)
        if org is None:
            raise InputError(f"no organisation {code!r} in the data's organisations", where, suggest(code, self.organisations))
        if org.kind not in decl.kinds:
            raise InputError(f"{name} is given per {' or '.join(decl.kinds)}, but {code} is a {org.kind}", where)
        period = self.period(period_text, where)
        if period.kind != decl.granularity:
            word = {v: k for k, v in GRANULARITIES.items()}[decl.granularity]
            raise InputError(f"{name} is {word}; {period} is a {period.kind}", granularity_where or where)
        value = convert_value(raw, decl.type, where)
        if value is None:
            return
        key = (name, code, period)
        if key in self.values:
            raise InputError(f"{name} for {code} in {period} is given twice (first at {self.origins[key]})", where)
        self.values[key] = value
        self.origins[key] = where

    def period(self, text, where: str) -> Period:
        if isinstance(text, (dt.date, dt.datetime)):
            period = Period.month_of(text)
        else:
            try:
                period = parse_period(str(text))
            except PeriodError as error:
                raise InputError(str(error), where) from None
        if not self.year.contains(period):
            raise InputError(f"{period} is outside the policy year {self.year}", where)
        return period


# ---- JSON ------------------------------------------------------------------------------------

def _load_json(path: Path, display: str, program) -> Dataset:
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InputError(f"is not valid JSON: {error.msg}", f"{display}:{error.lineno}:{error.colno}") from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", display) from None
    if not isinstance(document, dict):
        raise InputError("expected an object with \"organisations\" and \"inputs\"", display)
    unknown = set(document) - {"organisations", "inputs"}
    if unknown:
        raise InputError(f"unknown key {sorted(unknown)[0]!r}; the keys are \"organisations\" and \"inputs\"", display)
    organisations, where = [], {}
    listed = document.get("organisations")
    if not isinstance(listed, list):
        raise InputError("expected a list of organisations", f"{display}: organisations")
    for k, item in enumerate(listed):
        place = f"{display}: organisations[{k}]"
        if not isinstance(item, dict):
            raise InputError("expected an object with code, name, kind and system", place)
        for key in ("code", "kind"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise InputError(f"expected a text {key}", f"{place}.{key}")
        extra = set(item) - {"code", "name", "kind", "system"}
        if extra:
            raise InputError(f"unknown field {sorted(extra)[0]!r}; the fields are code, name, kind, system", place)
        code = item["code"].strip()
        organisations.append(Organisation(code, str(item.get("name") or code), item["kind"].strip().lower(),
                                          (item.get("system") or None)))
        where[code] = place
    shell = make_dataset(organisations, {}, {}, display, where)
    inputs = _Inputs(program, shell.organisations)
    given = document.get("inputs", {})
    if not isinstance(given, dict):
        raise InputError("expected an object of inputs", f"{display}: inputs")
    for name, by_org in given.items():
        place = f"{display}: inputs.{name}"
        inputs.declaration(name, place)
        if not isinstance(by_org, dict):
            raise InputError("expected an object of organisation codes", place)
        for code, by_period in by_org.items():
            if not isinstance(by_period, dict):
                raise InputError("expected an object of periods", f"{place}.{code}")
            for period, raw in by_period.items():
                inputs.add(name, code, period, raw, f"{place}.{code}.{period}")
    return make_dataset(organisations, inputs.values, inputs.origins, display, where)


# ---- Excel -----------------------------------------------------------------------------------

def _check_zip(path: Path, display: str) -> None:
    """Refuse what is not an .xlsx, and zip bombs, before openpyxl sees the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for member in archive.infolist():
                total += member.file_size
                if member.compress_size and member.file_size / member.compress_size > _MAX_RATIO:
                    raise InputError(f"refused: {member.filename} expands {member.file_size // member.compress_size}-fold "
                                     "(a zip bomb?)", display)
            if total > _MAX_UNCOMPRESSED:
                raise InputError(f"refused: it expands to {total // (1024 * 1024)} MB", display)
            if "[Content_Types].xml" not in archive.namelist():
                raise InputError("is not an Excel .xlsx workbook", display)
    except (zipfile.BadZipFile, OSError):
        raise InputError("is not an Excel .xlsx workbook", display) from None


def _header(cells, sheet: str, display: str, required: tuple[str, ...]) -> dict[str, int]:
    columns = {}
    for k, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        name = str(cell).strip()
        key = name.lower() if name.lower() in required else name
        if key in columns:
            raise InputError(f"the column {name!r} appears twice", f"{display}: {sheet}!{_column(k)}1")
        columns[key] = k
    for column in required:
        if column not in columns:
            raise InputError(f"the sheet needs a column {column!r} in its first row", f"{display}: {sheet}!A1")
    return columns


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _rows(sheet):
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > 1 and all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        yield number, row


def _load_xlsx(path: Path, display: str, program) -> Dataset:
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # openpyxl parses with defusedxml when it is installed; without it, refuse
        raise InputError("cannot open workbooks safely: the defusedxml package is not installed", display)
    _check_zip(path, display)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds of error on a damaged workbook
        raise InputError(f"cannot be read as a workbook ({type(error).__name__}: {error})", display) from None
    try:
        return _read_book(book, display, program)
    finally:
        book.close()


def _read_book(book, display: str, program) -> Dataset:
    names = {name.strip().lower(): name for name in book.sheetnames}
    for lowered, name in names.items():
        if lowered != "organisations" and lowered not in SHEETS:
            raise InputError(f"unknown sheet {name!r}; the sheets are organisations, {', '.join(SHEETS)}", display,
                             suggest(lowered, ["organisations", *SHEETS]))
    if "organisations" not in names:
        raise InputError("the workbook needs a sheet named 'organisations'", display)
    sheet_name = names["organisations"]
    organisations, where = [], {}
    rows = _rows(book[sheet_name])
    _, header = next(rows, (1, ()))
    columns = _header(header, sheet_name, display, ("code", "name", "kind", "system"))
    for number, row in rows:
        cell = lambda key: row[columns[key]] if columns[key] < len(row) else None  # noqa: E731
        place = f"{display}: {sheet_name}!A{number}"
        code = str(cell("code") or "").strip()
        if not code:
            raise InputError("the organisation has no code", place)
        system = str(cell("system")).strip() if cell("system") not in (None, "") else None
        organisations.append(Organisation(code, str(cell("name") or code).strip(), str(cell("kind") or "").strip().lower(),
                                          system))
        where[code] = place
    shell = make_dataset(organisations, {}, {}, display, where)
    inputs = _Inputs(program, shell.organisations)
    for word, kind in SHEETS.items():
        if word not in names:
            continue
        sheet_name = names[word]
        rows = _rows(book[sheet_name])
        _, header = next(rows, (1, ()))
        columns = _header(header, sheet_name, display, ("code", "period"))
        for name, index in columns.items():
            if name in ("code", "period"):
                continue
            decl = inputs.declaration(name, f"{display}: {sheet_name}!{_column(index)}1")
            if decl.granularity != kind:
                right = {v: k for k, v in SHEETS.items()}[decl.granularity]
                raise InputError(f"{name} is {right}, so its column belongs on the sheet {right!r}",
                                 f"{display}: {sheet_name}!{_column(index)}1")
        for number, row in rows:
            code = row[columns["code"]] if columns["code"] < len(row) else None
            period = row[columns["period"]] if columns["period"] < len(row) else None
            if code is None or period is None:
                raise InputError("each row needs a code and a period",
                                 f"{display}: {sheet_name}!{_column(columns['code' if code is None else 'period'])}{number}")
            for name, index in columns.items():
                if name in ("code", "period") or index >= len(row):
                    continue
                inputs.add(name, str(code).strip(), period, row[index], f"{display}: {sheet_name}!{_column(index)}{number}",
                           f"{display}: {sheet_name}!{_column(columns['period'])}{number}")
    return make_dataset(organisations, inputs.values, inputs.origins, display, where)


def load_data(path: str | os.PathLike, program) -> Dataset:
    """Read a ``.json`` or ``.xlsx`` data file for a compiled policy, checking every value."""
    path = Path(path)
    display = os.path.relpath(path) if not os.path.isabs(str(path)) else str(path)
    if not path.is_file():
        raise InputError("no such file", display)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _load_json(path, display, program)
    if suffix == ".xlsx":
        return _load_xlsx(path, display, program)
    raise InputError(f"cannot read {suffix or 'a file without a suffix'}: give a .json or .xlsx data file", display)


def write_workbook(path: str | os.PathLike, organisations: Iterable[Organisation], rows: Mapping[str, list[dict]],
                   percent_columns: Iterable[str] = ()) -> None:
    """Write a data workbook (sheet -> rows of dicts with code, period and inputs), atomically."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "organisations"
    sheet.append(["code", "name", "kind", "system"])
    for org in organisations:
        sheet.append([org.code, org.name, org.kind, org.system])
    percent = set(percent_columns)
    for name, entries in rows.items():
        sheet = book.create_sheet(name)
        columns = ["code", "period"] + sorted({k for e in entries for k in e} - {"code", "period"})
        sheet.append(columns)
        for entry in entries:
            sheet.append([_cell(entry.get(c)) for c in columns])
            for k, column in enumerate(columns):
                if column in percent:
                    sheet.cell(row=sheet.max_row, column=k + 1).number_format = "0.00%"
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".xlsx.tmp")
    os.close(handle)
    try:
        book.save(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _cell(value):
    """Numbers a float holds exactly go in as numbers; others as decimal text, which is read back exactly."""
    if isinstance(value, Fraction):
        as_float = float(value)
        return as_float if Fraction(Decimal(repr(as_float))) == value else f"{Decimal(value.numerator) / Decimal(value.denominator)}"
    if isinstance(value, Period):
        return str(value)
    return value
