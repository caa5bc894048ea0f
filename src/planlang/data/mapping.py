"""An organisation's own workbook read through a mapping file (``--map map.toml``): their layout, planlang's inputs.

The mapping is TOML (read with :mod:`tomllib`)::

    [defaults]                      # what every [[input]] and [[sheet]] takes unless it says otherwise
    key_column = "A"                # where the row codes are
    header_row = 3                  # the row of period headings (2021-04, Apr-21 or a date cell; others ignored)
    scale = "£000s"                 # values are in thousands ("£m", "units", or a whole number, or "0.01")

    [[organisation]]                # the organisations, unless organisations_sheet names a sheet of them
    code = "SYS1"
    name = "North"
    kind = "system"                 # system, trust or ccg; a trust or CCG names its system = "..."

    [[sheet]]                       # whose figures a sheet holds
    name = "North plan"
    organisation = "SYS1"

    [[input]]
    name = "erf_actual"             # an input of the policy
    row = "ERF02"                   # the row whose key column holds this code, a column per period heading
    sign = -1                       # the workbook shows it negated (a deduction)

An input is found by exactly one of ``row`` (a code in the key column; a column per period
heading), ``cell`` with ``period``, or ``range`` (``C5:H5``, one row or column) with
``first_period`` (each cell the next period). It is read on its ``sheet``, or on every
``[[sheet]]`` when it names none, for the organisation of ``organisation`` or of its sheet.

Every problem with the mapping is placed in it (``map.toml:12:7``); every value keeps the cell of
*their* workbook it was read from (``book.xlsx: North plan!E5``), and every problem with a value
is placed there. The workbook is opened as safely as any (:func:`.excel.read_workbook`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from fractions import Fraction
from pathlib import Path

import attrs

from .. import syntax as s
from ..diagnostics import DataErrors, InputError, suggest
from ..files import MAX_DATA_BYTES, read_bytes
from ..periods import Period
from .checks import SHEET_OF, Checker
from .convert import SPACES, convert_value, describe
from .dataset import Dataset, Organisation, check_organisations
from .excel import _blank, _cell, _text, read_workbook, sheet_rows

__all__ = ["load_mapped", "read_mapped_figures", "read_mapping", "Mapping", "SCALES"]

SCALES = {"units": 1, "£": 1, "£000s": 1000, "£000": 1000, "£k": 1000, "£m": 1_000_000, "£ms": 1_000_000}
_TABLES = {"defaults": ("key_column", "header_row", "scale", "sign"),
           "organisation": ("code", "name", "kind", "system"),
           "sheet": ("name", "organisation", "key_column", "header_row", "scale", "sign"),
           "input": ("name", "sheet", "organisation", "row", "cell", "period", "range", "first_period", "key_column",
                     "header_row", "scale", "sign")}
_TOP = ("organisations_sheet",)
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_MONTH_HEADING = re.compile(r"([A-Za-z]{3})[a-z]*[\s\-/']*(\d{2}|\d{4})")
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")


class Mapping:
    """A parsed mapping file: its tables, and where each key's value is written (for placed errors)."""

    def __init__(self, display: str, text: str):
        self.display = display
        self.places = _places(text)
        try:
            self.document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
            where = f"{display}:{found[1]}:{found[2]}" if found else display
            raise InputError(f"is not TOML: {re.sub(r' [(]at line.*', '', str(error))}", where) from None

    def at(self, table: str, index: int | None, key: str | None = None) -> str:
        """``map.toml:line:col`` of a key's value (or of its table's heading when ``key`` is None)."""
        line, column = self.places.get((table, index, key)) or self.places.get((table, index, None)) or (1, 1)
        return f"{self.display}:{line}:{column}"


def _places(text: str) -> dict[tuple, tuple[int, int]]:
    """(table, index of an array table or None, key) -> (line, column) of the value, read line by line.

    tomllib keeps no positions; the mapping's flat layout (tables of plain keys) is all this needs.
    """
    places: dict[tuple, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    table, index = "", None
    for number, line in enumerate(text.splitlines(), 1):
        if m := re.match(r"\s*\[\[\s*([\w.-]+)\s*\]\]", line):
            table = m[1]
            index = counts[table] = counts.get(table, -1) + 1
            places[(table, index, None)] = (number, m.start(1) + 1)
        elif m := re.match(r"\s*\[\s*([\w.-]+)\s*\]", line):
            table, index = m[1], None
            places[(table, None, None)] = (number, m.start(1) + 1)
        elif m := re.match(r"\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=\s*", line):
            places.setdefault((table, index, m[1].strip('"')), (number, m.end() + 1))
    return places


def read_mapping(path: str | os.PathLike, max_bytes: int = MAX_DATA_BYTES) -> Mapping:
    display = os.fspath(path)
    if not Path(path).exists():
        raise InputError("no such file", display)
    data = read_bytes(Path(path), display, max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text (byte {error.start + 1})", display) from None
    return Mapping(display, text)


def load_mapped(path: str | os.PathLike, mapping_path: str | os.PathLike, program, max_bytes: int) -> Dataset:
    """The dataset of an ``.xlsx`` workbook in the organisation's own layout, read through a mapping file."""
    display = os.fspath(path)
    if Path(path).suffix.lower() != ".xlsx":
        raise InputError("a mapping reads .xlsx workbooks only", display, "save the workbook as .xlsx, or drop --map")
    mapping = read_mapping(mapping_path, max_bytes)
    errors: list[InputError] = []
    _check_keys(mapping, program, errors)
    if errors:
        raise errors[0] if len(errors) == 1 else DataErrors(errors, mapping.display)
    return read_workbook(Path(path), display, max_bytes,
                         lambda book, formulas: _Reader(mapping, program, book, formulas, display).read())


def read_mapped_figures(path: str | os.PathLike, mapping_path: str | os.PathLike, program, organisations,
                        max_bytes: int) -> list[tuple[str, str, Period | None, object, Fraction, str]]:
    """Figures to reconcile (``reconcile --expected-map``): (name, organisation, period, cell value, scale x sign, cell)
    of each filled cell an ``[[input]]`` names, where it may name a definition or flag of the pack as well as an
    input; the organisations are the data's unless the mapping lists its own."""
    display = os.fspath(path)
    if Path(path).suffix.lower() != ".xlsx":
        raise InputError("a mapping reads .xlsx workbooks only", display, "save the workbook as .xlsx, or drop --expected-map")
    mapping = read_mapping(mapping_path, max_bytes)
    errors: list[InputError] = []
    _check_keys(mapping, program, errors, figures=True)
    if errors:
        raise errors[0] if len(errors) == 1 else DataErrors(errors, mapping.display)
    return read_workbook(Path(path), display, max_bytes, lambda book, formulas: _FigureReader(
        mapping, program, book, formulas, display, organisations).read())


def _check_keys(mapping: Mapping, program, errors: list[InputError], figures: bool = False) -> None:
    """Every table and key known, every value of the right kind: placed in the mapping, all reported together."""
    document = mapping.document
    for key, value in document.items():
        if key in _TOP:
            if not isinstance(value, str):
                errors.append(InputError(f"{key} is the name of a sheet, found {describe(value)}", mapping.at("", None, key)))
            continue
        if key not in _TABLES:
            errors.append(InputError(f"unknown table or key {key!r}; a mapping has [defaults], [[organisation]], [[sheet]], "
                                     "[[input]] and organisations_sheet", mapping.at(key, None) if (key, None, None) in
                                     mapping.places else mapping.at(key, 0), suggest(key, [*_TABLES, *_TOP])))
            continue
        tables = [value] if key == "defaults" else value
        if key == "defaults" and not isinstance(value, dict) or key != "defaults" and not isinstance(value, list):
            errors.append(InputError(f"{key} is written as [{key}]" if key == "defaults" else f"{key} is written as [[{key}]]",
                                     mapping.at("", None, key)))
            continue
        for index, table in enumerate(tables):
            number = None if key == "defaults" else index
            for field, given in table.items():
                where = mapping.at(key, number, field)
                if field not in _TABLES[key]:
                    errors.append(InputError(f"unknown key {field!r} in [{key}]", where, suggest(field, _TABLES[key])
                                             or f"it takes {', '.join(_TABLES[key])}"))
                elif field in ("header_row",) and (not isinstance(given, int) or isinstance(given, bool) or given < 1):
                    errors.append(InputError(f"header_row is a row number such as 3, found {describe(given)}", where))
                elif field == "sign" and given not in (1, -1):
                    errors.append(InputError(f"sign is 1 or -1, found {describe(given)}", where,
                                             "write sign = -1 when the workbook shows the figure negated"))
                elif field == "scale":
                    try:
                        _scale(given)
                    except ValueError as error:
                        errors.append(InputError(str(error), where))
                elif field not in ("header_row", "sign") and not isinstance(given, str):
                    errors.append(InputError(f"{field} is text, found {describe(given)}", where, f'write {field} = "{given}"'))
            if key == "input" and isinstance(table.get("name"), str):
                _check_input(mapping, program, index, table, errors, figures)
    if not figures and "organisation" not in document and "organisations_sheet" not in document:
        errors.append(InputError("the mapping names no organisations", f"{mapping.display}:1:1",
                                 "list each as [[organisation]] (code, name, kind, system), or name a sheet of them "
                                 "with organisations_sheet"))


def _check_input(mapping: Mapping, program, index: int, table: dict, errors: list[InputError],
                 figures: bool = False) -> None:
    inputs = program.of_kind((s.InputDecl, s.DefineDecl, s.FlagDecl) if figures else s.InputDecl)
    name = table["name"]
    if name not in inputs:
        errors.append(InputError(f"{name!r} is not {'a definition, flag or input' if figures else 'an input'} of the policy",
                                 mapping.at("input", index, "name"), suggest(name, inputs)))
        return
    ways = [way for way in ("row", "cell", "range") if way in table]
    if len(ways) != 1:
        errors.append(InputError(f"input {name} needs exactly one of row, cell or range; found "
                                 f"{', '.join(ways) if ways else 'none'}", mapping.at("input", index, ways[1] if len(ways) > 1
                                                                                     else None)))
        return
    if "cell" in table and "period" not in table and inputs[name].granularity is not None:
        errors.append(InputError(f"input {name} is read from one cell, so it needs the period the cell gives "
                                 f"(period = \"{_example(inputs[name].granularity)}\")", mapping.at("input", index, "cell")))
    if "range" in table and "first_period" not in table and inputs[name].granularity is not None:
        errors.append(InputError(f"input {name} is read from a range, so it needs the period of its first cell "
                                 f"(first_period = \"{_example(inputs[name].granularity)}\")", mapping.at("input", index, "range")))
    for key in ("cell", "range"):
        if isinstance(table.get(key), str):
            try:
                _cells(table[key], single=key == "cell")
            except ValueError as error:
                errors.append(InputError(str(error), mapping.at("input", index, key)))


def _example(granularity: str) -> str:
    return {"month": "2021-04", "quarter": "2021/22 Q1", "half": "2021/22 H1", "year": "2021/22"}[granularity]


def _scale(given) -> Fraction:
    """A scale: a named one (£000s), a whole number, or a decimal written as text ("0.01"); never a binary float."""
    if isinstance(given, bool) or isinstance(given, float):
        raise ValueError(f"scale is £000s, £m, units, a whole number or a decimal in quotes (\"0.01\"), found {describe(given)}")
    if isinstance(given, int):
        if given == 0:
            raise ValueError("scale may not be 0")
        return Fraction(given)
    if isinstance(given, str):
        if given.strip() in SCALES:
            return Fraction(SCALES[given.strip()])
        try:
            value = Fraction(given.strip())
        except ValueError:
            pass
        else:
            if value:
                return value
    raise ValueError(f"scale is £000s, £m, units, a whole number or a decimal in quotes (\"0.01\"), found {describe(given)}")


def _cells(text: str, *, single: bool) -> list[tuple[int, int]]:
    """(row, column) of a cell ``C5`` or of each cell of a one-row or one-column range ``C5:H5``."""
    from openpyxl.utils import column_index_from_string

    parts = text.strip().split(":")
    if len(parts) != (1 if single else 2) or not all(_CELL.fullmatch(p) for p in parts):
        raise ValueError(f"expected {'a cell such as C5' if single else 'a range such as C5:H5'}, found {text!r}")
    ends = [(int(m[2]), column_index_from_string(m[1].upper())) for m in (_CELL.fullmatch(p) for p in parts)]
    if single:
        return ends
    (r1, c1), (r2, c2) = ends
    if r1 != r2 and c1 != c2:
        raise ValueError(f"a range is one row or one column, found {text!r}")
    if (r2, c2) < (r1, c1):
        raise ValueError(f"a range runs left to right or top to bottom, found {text!r}")
    return [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def heading_period(cell, checker: Checker, where: str) -> Period | None:
    """The period a column heading names (``2021-04``, ``2021/22 Q1``, ``Apr-21``, ``April 2021``, a date), or None."""
    if isinstance(cell, (dt.date, dt.datetime)):
        return Period.month_of(cell)
    text = _text(cell)
    if not text:
        return None
    if m := _MONTH_HEADING.fullmatch(text):
        month = _MONTHS.get(m[1].lower())
        if month is not None:
            year = int(m[2]) if len(m[2]) == 4 else 2000 + int(m[2])
            return Period("month", year, month)
    try:
        return checker.parse_period(text, where)
    except InputError:
        return None  # Code, Description, Total: headings of the analyst's own


class _Reader:
    def __init__(self, mapping: Mapping, program, book, formulas, display: str):
        self.mapping, self.program, self.book, self.formulas, self.display = mapping, program, book, formulas, display
        self.document = mapping.document
        self.defaults = self.document.get("defaults", {})
        self.rows: dict[str, dict[int, tuple]] = {}
        self.errors: list[InputError] = []
        self.warnings: list[str] = []

    def sheet(self, name: str, where: str) -> dict[int, tuple]:
        if name not in self.rows:
            if name not in self.book.sheetnames:
                raise InputError(f"the workbook {self.display} has no sheet {name!r}", where,
                                 suggest(name, self.book.sheetnames) or f"its sheets are {', '.join(self.book.sheetnames)}")
            self.rows[name] = sheet_rows(self.book[name], self.display, self.formulas.get(name, {}))
        return self.rows[name]

    def read(self) -> Dataset:
        organisations, locate = self.organisations()
        checker = self.checker(check_organisations(organisations, locate, self.display))
        sheets = self.document.get("sheet", [])
        for index, table in enumerate(sheets):
            try:
                self.sheet(table.get("name", ""), self.mapping.at("sheet", index, "name"))
                if "organisation" in table and table["organisation"] not in checker.organisations:
                    raise InputError(f"no organisation {table['organisation']!r} is listed", self.mapping.at("sheet", index, "organisation"),
                                     suggest(table["organisation"], checker.organisations))
            except InputError as error:
                self.errors.append(error)
        if not self.errors:
            for index, table in enumerate(self.document.get("input", [])):
                for sheet_index, sheet in self._sheets_of(table, sheets):
                    try:
                        self.read_input(index, table, sheet_index, sheet, checker)
                    except DataErrors:
                        raise
                    except InputError as error:
                        checker.keep_error(error, self.display)
        checker.errors[:0] = self.errors
        used = {t.get("name") for t in sheets} | {t.get("sheet") for t in self.document.get("input", [])}
        used.add(self.document.get("organisations_sheet"))
        self.warnings += [f"{self.display}: {name}: the sheet {name!r} is not read: the mapping does not name it"
                          for name in self.book.sheetnames if name not in used]
        return self.result(checker, organisations, locate)

    def checker(self, organisations) -> Checker:
        return Checker(self.program, organisations)

    def result(self, checker: Checker, organisations, locate):
        dataset = checker.dataset(organisations, self.display, locate)
        return attrs.evolve(dataset, warnings=tuple(self.warnings), companions=(self.mapping.display,))

    def _sheets_of(self, table: dict, sheets: list[dict]):
        if "sheet" in table:
            found = [(k, s) for k, s in enumerate(sheets) if s.get("name") == table["sheet"]]
            return found or [(None, {"name": table["sheet"]})]
        return list(enumerate(sheets))

    def organisations(self):
        listed = self.document.get("organisation", [])
        if "organisations_sheet" in self.document:
            return self._organisations_sheet(self.document["organisations_sheet"])
        organisations = [Organisation(t.get("code", ""), t.get("name") or t.get("code", ""), str(t.get("kind", "")).lower(),
                                      t.get("system") or None) for t in listed]

        def locate(index: int, field: str) -> str:
            return self.mapping.at("organisation", index, field)

        return organisations, locate

    def _organisations_sheet(self, name: str):
        rows = self.sheet(name, self.mapping.at("", None, "organisations_sheet"))
        numbers = sorted(rows)
        heading = {str(c).strip().lower(): k for k, c in enumerate(rows.get(numbers[0], ()) if numbers else ()) if not _blank(c)}
        organisations, places = [], []
        for number in numbers[1:]:
            row = rows[number]
            field = {f: _text(row[heading[f]]) if heading.get(f) is not None and heading[f] < len(row) else ""
                     for f in ("code", "name", "kind", "system")}
            if field["code"]:
                organisations.append(Organisation(field["code"], field["name"] or field["code"], field["kind"].lower(),
                                                  field["system"] or None))
                places.append(number)

        def locate(index: int, f: str) -> str:
            return f"{self.display}: {_cell(name, heading.get(f, 0), places[index])}"

        return organisations, locate

    def setting(self, table: dict, sheet: dict, key: str, default=None):
        return table.get(key, sheet.get(key, self.defaults.get(key, default)))

    def read_input(self, index: int, table: dict, sheet_index, sheet: dict, checker: Checker) -> None:
        at = lambda key: self.mapping.at("input", index, key)  # noqa: E731
        name = table["name"]
        decl = checker.declared[name]
        title = sheet["name"]
        rows = self.sheet(title, at("sheet") if "sheet" in table else self.mapping.at("sheet", sheet_index, "name"))
        code = self.setting(table, sheet, "organisation")
        if code is None:
            raise InputError(f"input {name} on the sheet {title!r} has no organisation: say whose figures it is",
                             at("name"), "write organisation = \"CODE\" in the [[sheet]] or the [[input]]")
        if code not in checker.organisations:
            raise InputError(f"no organisation {code!r} is listed", at("organisation") if "organisation" in table else
                             self.mapping.at("sheet", sheet_index, "organisation"), suggest(code, checker.organisations))
        factor = _scale(self.setting(table, sheet, "scale", 1)) * self.setting(table, sheet, "sign", 1)
        for row, column, period in self.places(index, table, sheet, rows, decl, checker):
            raw = rows.get(row, ())[column - 1] if column - 1 < len(rows.get(row, ())) else None
            if _blank(raw):
                continue
            where = f"{self.display}: {_cell(title, column - 1, row)}"
            with checker.each(self.display):
                if period.kind != decl.granularity:
                    raise InputError(f"{name} is {SHEET_OF[decl.granularity]}; {period} is a {period.kind}", where)
                checker.organisation(name, code, where)
                checker.in_year(period, where)
                value = self.convert(raw, decl.type, factor, where)
                if value is not None:
                    checker.keep(name, code, period, value, where)

    def convert(self, raw, type_: str, factor: Fraction, where: str):
        if factor == 1 or type_ not in ("money", "percent", "ratio", "count"):
            return convert_value(raw, type_, where)
        value = convert_value(raw, "ratio" if type_ == "percent" else type_ if type_ != "count" else "ratio", where) * factor
        if type_ == "count" and value.denominator != 1:
            raise InputError(f"expected a whole number, found {describe(raw)} (x {factor})", where)
        return value

    def places(self, index: int, table: dict, sheet: dict, rows: dict, decl, checker: Checker):
        """(row, column, period) of each cell the input is read from."""
        at = lambda key: self.mapping.at("input", index, key)  # noqa: E731
        if "cell" in table:
            period = checker.parse_period(table["period"], at("period")) if "period" in table else None
            (row, column), = _cells(table["cell"], single=True)
            return [(row, column, period)]
        if "range" in table:
            period = checker.parse_period(table["first_period"], at("first_period"))
            found = []
            for row, column in _cells(table["range"], single=False):
                found.append((row, column, period))
                period = period.next()
            return found
        from openpyxl.utils import column_index_from_string

        key_column = self.setting(table, sheet, "key_column", "A")
        if not re.fullmatch(r"[A-Za-z]{1,3}", key_column):
            raise InputError(f"key_column is a column letter such as A, found {key_column!r}", at("key_column"))
        key = column_index_from_string(key_column.upper()) - 1
        header_row = self.setting(table, sheet, "header_row")
        if header_row is None:
            raise InputError(f"input {name_of(table)} is found by its row code, so the mapping needs header_row: the row "
                             "of period headings", at("row"), "write header_row = 3 in [defaults], the [[sheet]] or the [[input]]")
        code = table["row"].strip(SPACES)
        matches = [number for number, cells in rows.items() if key < len(cells) and _text(cells[key]) == code]
        if not matches:
            raise InputError(f"no row of the sheet {sheet['name']!r} has the code {code!r} in column {key_column}", at("row"),
                             suggest(code, [_text(cells[key]) for cells in rows.values() if key < len(cells)]))
        if len(matches) > 1:
            raise InputError(f"the code {code!r} is in column {key_column} of the sheet {sheet['name']!r} more than once "
                             f"(rows {', '.join(map(str, matches))})", at("row"))
        heading = rows.get(header_row, ())
        columns = []
        for column, cell in enumerate(heading, 1):
            period = heading_period(cell, checker, f"{self.display}: {_cell(sheet['name'], column - 1, header_row)}")
            if period is not None and period.kind == decl.granularity and checker.year.contains(period):
                columns.append((matches[0], column, period))
        if not columns:
            raise InputError(f"row {header_row} of the sheet {sheet['name']!r} has no heading naming a "
                             f"{decl.granularity} of {checker.year}", at("row") if "header_row" not in table else at("header_row"),
                             f"headings such as {_example(decl.granularity)} or a date cell name the columns")
        return columns


class _FigureChecker(Checker):
    """A checker of figures: the pack's definitions and flags as well as its inputs; a value kept as read."""

    def __init__(self, program, organisations):
        super().__init__(program, organisations)
        self.declared = program.of_kind((s.InputDecl, s.DefineDecl, s.FlagDecl))

    def keep(self, name: str, code: str, period: Period, value, where: str) -> None:
        key = (name, code, period)
        if key in self.values:
            raise InputError(f"{name} for {code} in {period} is read twice (first at {self.origins[key]})", where)
        self.values[key] = value
        self.origins[key] = where


class _FigureReader(_Reader):
    def __init__(self, mapping: Mapping, program, book, formulas, display: str, organisations):
        super().__init__(mapping, program, book, formulas, display)
        self.known = list(organisations)

    def organisations(self):
        if "organisation" in self.document or "organisations_sheet" in self.document:
            return super().organisations()
        return self.known, lambda index, field: self.mapping.display

    def checker(self, organisations) -> Checker:
        return _FigureChecker(self.program, organisations)

    def convert(self, raw, type_: str, factor: Fraction, where: str):
        return raw, factor  # parsed by the reconciliation, which keeps the precision their figure is written to

    def result(self, checker: Checker, organisations, locate):
        if len(checker.errors) == 1:
            raise checker.errors[0]
        if checker.errors:
            raise DataErrors(checker.errors, self.display)
        return [(name, code, period, raw, factor, checker.origins[name, code, period])
                for (name, code, period), (raw, factor) in checker.values.items()]


def name_of(table: dict) -> str:
    return str(table.get("name", "?"))
