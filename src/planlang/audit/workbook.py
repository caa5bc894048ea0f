"""The cells of planlang's workbooks, written one way everywhere: exact decimal numbers with their
unit's format, text that is never run as a formula, notes, formulas built from coordinates only,
headed tables and their column widths. The results and compare workbooks (:mod:`.excel`), their
charts (:mod:`.excel_charts`) and the sweep workbook (:mod:`planlang.render.sweepbook`) use these.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..periods import Period
from ..values import decimal_text, money_text

__all__ = ["NUMBER_FORMATS", "HEADER_FONT", "excel_value", "put", "formula", "number_format", "note", "table", "finish",
           "storable"]

NUMBER_FORMATS = {"money": '"£"#,##0.00;-"£"#,##0.00', "percent": "0.00%", "ratio": "0.0000",
                  "count": "#,##0", "number": "#,##0.##########", "date": "yyyy-mm-dd"}
_FORMULA_START = ("=", "+", "-", "@")
HEADER_FONT = Font(bold=True)
_MAX_WIDTH = 60
_NOTE_AUTHOR = "planlang"


_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def storable(text: str) -> str:
    r"""Text as a workbook can hold it: what XML 1.0 forbids becomes U+FFFD — control characters
    (openpyxl's pattern), lone surrogates and the non-characters U+FFFE and U+FFFF (which openpyxl's
    pattern lets through, and which then fail when the sheet is written as UTF-8 XML).

    >>> storable("a\x01b\ufffec\ud800")
    'a\ufffdb\ufffdc\ufffd'
    """
    return _NOT_XML.sub("\ufffd", ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))


def excel_value(value, unit: str | None):
    """A value as a cell holds it: exact decimal text for numbers, native booleans and dates."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, Fraction):
        return Decimal(money_text(value) if unit == "money" else decimal_text(value))
    if isinstance(value, Period):
        return value.label
    return value


def put(sheet, row: int, column: int, value, unit: str | None = None):
    cell = sheet.cell(row=row, column=column)
    cell.value = excel_value(value, unit)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never a formula (nor an error code such as #N/A): text is shown, not run
        cell.quotePrefix = cell.value.startswith(_FORMULA_START)
    number_format(cell, unit)
    return cell


def formula(sheet, row: int, column: int, formula: str, unit: str | None):
    """A formula cell over cells of this workbook (``formula`` without its ``=``, made here from coordinates only)."""
    cell = sheet.cell(row=row, column=column)
    cell.value = "=" + formula
    cell.data_type = "f"
    if unit in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[unit]
    return cell


def number_format(cell, unit: str | None) -> None:
    if unit in NUMBER_FORMATS and isinstance(cell.value, (Decimal, dt.date)):
        cell.number_format = NUMBER_FORMATS[unit]


def note(text: str) -> Comment:
    text = storable(text)
    lines = text.splitlines() or [""]
    comment = Comment(text[:32_000], _NOTE_AUTHOR)
    comment.width = min(900, 60 + 7 * max(len(line) for line in lines))
    comment.height = min(900, 30 + 16 * len(lines))
    return comment


def table(sheet, headings: list[str], rows: list[list], units: list[str | None] | None = None, *, freeze: str = "A2"):
    """Write a header and rows; returns the cells of the rows for notes and styles."""
    for k, heading in enumerate(headings, 1):
        put(sheet, 1, k, heading).font = HEADER_FONT
    written = []
    for r, values in enumerate(rows, 2):
        written.append([put(sheet, r, k, v, units[k - 1] if units else None) for k, v in enumerate(values, 1)])
    finish(sheet, freeze)
    return written


def finish(sheet, freeze: str) -> None:
    sheet.freeze_panes = freeze
    if sheet.max_row >= 1 and sheet.max_column >= 1:
        sheet.auto_filter.ref = f"A1:{get_column_letter(sheet.max_column)}{max(sheet.max_row, 1)}"
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            # a formatted number is a few characters wider than its digits (£, separators)
            shown = str(cell.value) + "   " * isinstance(cell.value, Decimal)
            widths[cell.column] = max(widths.get(cell.column, 0), max(len(x) for x in shown.splitlines() or [""]))
    for column, width in widths.items():
        # room for the autofilter's button beside the heading
        sheet.column_dimensions[get_column_letter(column)].width = min(_MAX_WIDTH, width + 4)
