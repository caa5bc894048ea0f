"""Excel data workbooks (.xlsx): read with every cell placed (``book.xlsx: monthly!D3``), and written.

A sheet ``organisations`` (code, name, kind, system) and a sheet per granularity of input that has
data -- ``monthly``, ``quarterly``, ``half-yearly``, ``annual`` -- with the columns code, period,
then one per input; optionally ``submissions`` (code, milestone, date). Workbooks are opened only
through defusedxml and refused when they would expand like a zip bomb.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from ..diagnostics import InputError, suggest
from ..files import check_regular, write_workbook_atomically
from ..periods import Period
from ..values import exact_decimal, format_money, terminates
from .checks import RAISE_WITH, SHEET_OF, SHEETS, Checker
from .convert import SPACES, PercentCell, describe
from .dataset import ORGANISATION_FIELDS, Dataset, Locate, Organisation, check_organisations

__all__ = ["load_xlsx", "read_workbook", "sheet_rows", "write_workbook"]

# Zip-bomb limits for workbooks: real planning workbooks are a few MB and compress perhaps 10-fold.
_MAX_UNCOMPRESSED = 256 * 1024 * 1024
_MAX_RATIO = 200


def load_xlsx(path: Path, display: str, program, max_bytes: int) -> Dataset:
    """A checked dataset from an Excel workbook of at most ``max_bytes``."""
    return read_workbook(path, display, max_bytes, lambda book, formulas: _read_book(book, display, program, formulas))


def read_workbook(path: Path, display: str, max_bytes: int, read: Callable):
    """``read(book, formulas)`` over an untrusted workbook opened safely: a regular file of at most ``max_bytes``,
    no zip bomb, XML parsed by defusedxml, read-only, links not followed; every failure an InputError."""
    check_regular(path, display, max_bytes, RAISE_WITH)
    openpyxl = _safe_openpyxl(display)
    _check_zip(path, display)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds of error on a damaged workbook
        raise InputError(f"cannot be read as an Excel workbook ({_reason(error)})", display) from None
    try:
        return read(book, _formula_cells(path, openpyxl))
    except InputError:
        raise
    except Exception as error:  # read-only mode parses sheets lazily, so damaged or refused XML surfaces here
        raise InputError(f"cannot be read as an Excel workbook ({_reason(error)})", display) from None
    finally:
        book.close()  # read-only mode keeps the file open until closed


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _formula_cells(path: Path, openpyxl) -> dict[str, dict[tuple[int, int], str]]:
    """Each sheet's formulas by (row, column), read in a second pass only when the workbook has any.

    The first pass reads the values Excel saved; a formula a program wrote and no spreadsheet has
    calculated has none, and would otherwise look like a blank cell.
    """
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(_FORMULA_TAG.search(archive.read(name)) for name in sheets):
            return {}
    book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    try:
        found = {}
        for sheet in book.worksheets:
            sheet.reset_dimensions()
            found[sheet.title] = {(number, column): str(cell.value)
                                  for number, row in enumerate(sheet.iter_rows(), start=1)
                                  for column, cell in enumerate(row, start=1) if cell.data_type == "f"}
        return found
    finally:
        book.close()


def _reason(error: BaseException) -> str:
    """The first cause of an error, which says more than openpyxl's wrapper (EntitiesForbidden, ParseError)."""
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    return f"{type(error).__name__}: {error}"


def _safe_openpyxl(display: str):
    """openpyxl, when it parses with defusedxml (no entity expansion, no external entities); else refuse."""
    import openpyxl
    import openpyxl.xml
    import openpyxl.xml.functions

    if not openpyxl.xml.DEFUSEDXML or not openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml"):
        raise InputError("refused: openpyxl is not parsing XML with defusedxml, so workbooks cannot be opened safely",
                         display, "install defusedxml and do not set OPENPYXL_DEFUSEDXML to False")
    return openpyxl


def _check_zip(path: Path, display: str) -> None:
    """Refuse what is not an .xlsx, and zip bombs, before openpyxl sees the file.

    The sizes are those the archive declares; :mod:`zipfile` never inflates a member beyond its
    declared size, so a lying archive cannot get past these limits either.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise InputError("is not an Excel .xlsx workbook (it is not a zip archive)", display,
                         "save the workbook from Excel as .xlsx") from None
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", display) from None
    with archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if total > _MAX_UNCOMPRESSED:
            raise InputError(f"refused: it would expand to {total // (1024 * 1024)} MB, more than the "
                             f"{_MAX_UNCOMPRESSED // (1024 * 1024)} MB allowed", display)
        for member in members:
            if member.file_size and (not member.compress_size or member.file_size / member.compress_size > _MAX_RATIO):
                raise InputError(f"refused: {member.filename} would expand more than {_MAX_RATIO}-fold (a zip bomb?)", display)
        if "[Content_Types].xml" not in archive.namelist():
            raise InputError("is not an Excel .xlsx workbook (a zip archive without [Content_Types].xml)", display)


def _read_book(book, display: str, program, formulas: dict[str, dict[tuple[int, int], str]]) -> Dataset:
    warnings: list[str] = []
    sheets = _sheet_names(book.sheetnames, display, warnings)
    if "organisations" not in sheets:
        raise InputError("the workbook has no sheet named 'organisations'", display,
                         "add a sheet 'organisations' with the columns code, name, kind, system")

    def rows(word: str):
        return _rows(book[sheets[word]], display, formulas.get(sheets[word], {}))

    organisations, locate = _xlsx_organisations(sheets["organisations"], rows("organisations"), display, warnings)
    if not organisations:
        warnings.append(f"{display}: {sheets['organisations']}!A2: the organisations sheet lists no organisation, so there "
                        "is nothing to work out (fill in a row for each: code, name, kind, system)")
    checker = Checker(program, check_organisations(organisations, locate, display))
    for word in SHEETS:
        if word in sheets:
            _xlsx_values(sheets[word], rows(word), word, display, checker, warnings)
    if "submissions" in sheets:
        _xlsx_submissions(sheets["submissions"], rows("submissions"), display, checker)
    return attrs.evolve(checker.dataset(organisations, display, locate), warnings=tuple(warnings))


def _xlsx_submissions(title: str, rows, display: str, checker: Checker) -> None:
    """A sheet ``submissions`` with the columns code, milestone, date."""
    _, heading = next(rows, (1, ()))
    columns = {str(cell).strip().lower(): k for k, cell in enumerate(heading) if not _blank(cell)}
    for needed in ("code", "milestone", "date"):
        if needed not in columns:
            raise InputError(f"the sheet needs a column {needed!r} in its first row", f"{display}: {title}!A1")
    for number, row in rows:
        cell = lambda key: row[columns[key]] if columns[key] < len(row) else None  # noqa: E731
        where = f"{display}: {_cell(title, columns['date'], number)}"
        with checker.each(display):
            checker.submission(str(cell("code") or "").strip(), str(cell("milestone") or "").strip(), cell("date"), where)


def _sheet_names(names: list[str], display: str, warnings: list[str]) -> dict[str, str]:
    """Sheet names as matched (lower case, trimmed) -> as written; another sheet (notes, a chart) is passed over
    with a warning, which suggests the sheet it may have meant to be."""
    allowed = ["organisations", *SHEETS, "submissions"]
    found: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key not in allowed:
            hint = suggest(key, allowed)
            warnings.append(f"{display}: {name}: the sheet {name!r} is not read (a data workbook reads the sheets "
                            f"{', '.join(allowed)})" + (f"; {hint}" if hint else ""))
            continue
        if key in found:
            raise InputError(f"the sheets {found[key]!r} and {name!r} have the same name", f"{display}: {name}")
        found[key] = name
    return found


def sheet_rows(sheet, display: str, formulas: Mapping[tuple[int, int], str]) -> dict[int, tuple]:
    """Every row of a sheet that is not blank, by row number (from 1), each cell's value as read."""
    return dict(_rows(sheet, display, formulas))


def _rows(sheet, display: str, formulas: Mapping[tuple[int, int], str]):
    """(row number, cell values) for every row that is not blank, the heading row always first.

    A number in a cell formatted as a percentage comes as a :class:`PercentCell`, so that 70% typed
    in Excel and a bare 70 can be told apart; a formula with no saved value is an error.
    """
    sheet.reset_dimensions()  # another program may have written wrong dimensions; read every row there is
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        row = tuple(_read_cell(cell) for cell in cells)
        if formulas:
            _no_unsaved_formula(cells, row, number, formulas, display, sheet.title)
        if number == 1 or not all(_blank(cell) for cell in row):
            yield number, row


def _no_unsaved_formula(cells, row, number: int, formulas: Mapping[tuple[int, int], str], display: str,
                        title: str) -> None:
    for column, (cell, value) in enumerate(zip(cells, row), start=1):
        if value is None and cell.data_type != "str" and (number, column) in formulas:  # "str": it calculated to ""
            raise InputError(f"this cell holds the formula {formulas[number, column]} but no saved value",
                             f"{display}: {_cell(title, column - 1, number)}",
                             "a program wrote the formula and nothing has calculated it: open the workbook in "
                             "Excel and save it, or enter the value itself")


def _read_cell(cell):
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
        return PercentCell(value)
    return value


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _cell(title: str, index: int, number: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{title}!{get_column_letter(index + 1)}{number}"


def _get(row, index: int):
    return row[index] if index < len(row) else None  # rows stop at their last filled cell


def _text(cell) -> str:
    """A cell as text; a whole number typed into a code column reads as 123, not 123.0."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip(SPACES)


def _headings(row, title: str, display: str, known: Callable[[str, str], str | None], required: tuple[str, ...],
              ignored: list[int] | None = None) -> dict[str, int]:
    """Column name -> index from the first row; ``known(text, where)`` names a heading, raises, or (None) passes
    over a column whose index then goes into ``ignored``."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(row or ()):
        if _blank(cell):
            continue
        where = f"{display}: {_cell(title, index, 1)}"
        name = known(str(cell).strip(), where)
        if name is None:
            if ignored is not None:
                ignored.append(index)
            continue
        if name in columns:
            raise InputError(f"the column {name!r} appears twice (first at {_cell(title, columns[name], 1)})", where)
        columns[name] = index
    for name in required:
        if name not in columns:
            raise InputError(f"the sheet needs a column headed {name!r} in its first row", f"{display}: {title}!A1")
    return columns


def _unheaded(row, columns: dict[str, int], title: str, number: int, display: str, ignored=()) -> None:
    # a value in a column without a heading would otherwise be ignored without a word
    used = set(columns.values()) | set(ignored)
    for index, cell in enumerate(row):
        if index not in used and not _blank(cell):
            raise InputError(f"this cell holds {describe(cell)}, but its column has no heading",
                             f"{display}: {_cell(title, index, number)}")


def _xlsx_organisations(title: str, rows, display: str, warnings: list[str]) -> tuple[list[Organisation], Locate]:

    def known(text: str, where: str) -> str | None:
        if text.lower() not in ORGANISATION_FIELDS:
            hint = suggest(text.lower(), ORGANISATION_FIELDS)
            warnings.append(f"{where}: the column {text!r} is not read (the organisations sheet reads code, name, kind "
                            "and system)" + (f"; {hint}" if hint else ""))
            return None
        return text.lower()

    _, heading = next(rows, (1, ()))
    ignored: list[int] = []
    columns = _headings(heading, title, display, known, ("code", "kind"), ignored)
    organisations, numbers = [], []
    for number, row in rows:
        _unheaded(row, columns, title, number, display, ignored)
        field = {name: _text(_get(row, index)) for name, index in columns.items()}
        code = field["code"]
        if not code:
            raise InputError("the organisation has no code", f"{display}: {_cell(title, columns['code'], number)}")
        organisations.append(Organisation(code, field.get("name") or code, field["kind"].lower(), field.get("system") or None))
        numbers.append(number)

    def locate(index: int, name: str) -> str:
        return f"{display}: {_cell(title, columns.get(name, columns['code']), numbers[index])}"

    return organisations, locate


def _xlsx_values(title: str, rows, word: str, display: str, checker: Checker, warnings: list[str]) -> None:
    kind = SHEETS[word]

    def known(text: str, where: str) -> str | None:
        if text.lower() in ("code", "period"):
            return text.lower()
        try:
            name = checker.heading(text, where)
        except InputError as error:  # a column of the analyst's own (a note, a check total): read past, said once
            warnings.append(f"{where}: the column {text!r} is not read: it is not an input of the policy"
                            + (f"; {error.suggestion}" if error.suggestion and "did you mean" in error.suggestion else ""))
            return None
        granularity = checker.declared[name].granularity
        if granularity != kind:
            raise InputError(f"{name} is {SHEET_OF[granularity]}, so its column belongs on the sheet "
                             f"{SHEET_OF[granularity]!r}, not {title!r}", where)
        return name

    _, heading = next(rows, (1, ()))
    ignored: list[int] = []
    columns = _headings(heading, title, display, known, ("code", "period"), ignored)
    inputs = {name: index for name, index in columns.items() if name not in ("code", "period")}
    for number, row in rows:
        with checker.each(display):
            _xlsx_row(row, number, title, word, columns, inputs, display, checker, ignored)


def _xlsx_row(row, number: int, title: str, word: str, columns: dict, inputs: dict, display: str, checker: Checker,
              ignored=()):
    _unheaded(row, columns, title, number, display, ignored)
    code_at = f"{display}: {_cell(title, columns['code'], number)}"
    period_at = f"{display}: {_cell(title, columns['period'], number)}"
    code = _text(_get(row, columns["code"]))
    if not code and all(_blank(_get(row, index)) for index in inputs.values()):
        return  # a template's row not filled in (a period laid out, nothing else): it says nothing
    if not code:
        raise InputError("the row has no organisation code", code_at)
    if code not in checker.organisations:
        raise InputError(f"no organisation {code!r} is listed on the organisations sheet", code_at,
                         suggest(code, checker.organisations))
    period = _row_period(_get(row, columns["period"]), word, period_at, checker)
    for name, index in inputs.items():
        raw = _get(row, index)
        if _blank(raw):
            continue  # rows are shared by inputs of different kinds of organisation, so blanks are normal
        where = f"{display}: {_cell(title, index, number)}"
        with checker.each(display):
            checker.organisation(name, code, where)
            checker.add(name, code, period, raw, where)


def _row_period(cell, word: str, where: str, checker: Checker) -> Period:
    kind = SHEETS[word]
    if _blank(cell):
        raise InputError("the row has no period", where)
    if isinstance(cell, (dt.date, dt.datetime)):
        # Excel turns a typed 2021-04 into a date; on the monthly sheet a date means its month
        if kind != "month":
            raise InputError(f"expected a period such as {_EXAMPLE_PERIOD[kind]}, found {describe(cell)}", where,
                             "a date names a month, and months belong on the sheet 'monthly'")
        return checker.in_year(Period.month_of(cell), where)
    period = checker.parse_period(_text(cell), where)
    if period.kind != kind:
        raise InputError(f"the sheet {word!r} lists {kind}s; {period} is a {period.kind}", where,
                         f"put it on the sheet {SHEET_OF[period.kind]!r}")
    return period


_EXAMPLE_PERIOD = {"month": "2021-04", "quarter": "2021/22 Q1", "half": "2021/22 H1", "year": "2021/22"}


# ---- writing a workbook ----------------------------------------------------------------------

def write_workbook(path: str | os.PathLike, organisations: Iterable[Organisation], rows: Mapping[str, list[dict]],
                   percent_columns: Iterable[str] = ()) -> None:
    """Write a data workbook that :func:`~planlang.data.load_data` reads back, atomically.

    ``rows`` maps a sheet name (``monthly`` ...) to rows, each a dict with ``code``, ``period`` and
    values by input name. Columns follow the order inputs first appear. Fractions that a float holds
    exactly are written as numbers; other terminating decimals as exact text; the rest (such as
    139000000/7) cannot be written exactly and are written as money to the penny. Cells of
    ``percent_columns`` are shown as percentages.
    """
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "organisations"
    sheet.append(list(ORGANISATION_FIELDS))
    for org in organisations:
        sheet.append([org.code, org.name, org.kind, org.system])
    percent = set(percent_columns)
    for title, entries in rows.items():
        sheet = book.create_sheet(title)
        columns = ["code", "milestone", "date"] if title == "submissions" else ["code", "period"]
        for entry in entries:
            columns += [name for name in entry if name not in columns]
        sheet.append(columns)
        for entry in entries:
            sheet.append([_cell_value(entry.get(name)) for name in columns])
            for index, name in enumerate(columns):
                if name in percent:
                    sheet.cell(row=sheet.max_row, column=index + 1).number_format = "0.00%"
    write_workbook_atomically(Path(path), book)


def _cell_value(value):
    if isinstance(value, Decimal):
        value = Fraction(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        as_float = float(value)
        if Fraction(Decimal(repr(as_float))) == value:  # the float reads back as exactly this value
            return as_float
        if terminates(value):
            return exact_decimal(value)  # text that parse_amount reads back exactly
        return format_money(value)
    if isinstance(value, Period):
        return value.label
    return value


