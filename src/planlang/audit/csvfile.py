"""A run's results as CSV in long form: one row per value (output, entity, period, value, unit).

Values are written as JSON writes them (money to the penny, other numbers as exact decimals, missing
empty with its reason in the ``missing_because`` column), so a tool reads them without guessing.
Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-`` or ``@``, or a tab, a
carriage return or a line feed, which some spreadsheets skip before reading the formula behind it) gets
a leading apostrophe, the usual guard against formula injection (OWASP's list); numbers are never changed.
"""

from __future__ import annotations

import csv
import io
import os

from ..files import write_text_atomically
from ..render.values import json_value
from ..run import Results
from ..values import Missing
from .layout import cells, result_sheets

__all__ = ["csv_text", "write_csv", "HEADINGS", "guard_formula"]

HEADINGS = ("output", "entity", "organisation", "period", "value", "unit", "missing_because")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def guard_formula(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(results: Results, *, only=None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for sheet in result_sheets(results, only=only):
        for row, column, cell in cells(sheet):
            if cell is None:
                continue
            value = json_value(cell.value, cell.unit)
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, str) and cell.unit in ("text",):
                value = guard_formula(value)
            because = cell.value.describe() if isinstance(cell.value, Missing) else ""
            writer.writerow([cell.name, guard_formula(row.code or ""), guard_formula(row.organisation),
                             row.period.label if row.period else "", "" if value is None else value, cell.unit,
                             guard_formula(because)])
    return out.getvalue()


def write_csv(path: str | os.PathLike, results: Results, *, only=None) -> None:
    write_text_atomically(path, csv_text(results, only=only))
