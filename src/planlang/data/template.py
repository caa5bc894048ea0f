"""The blank input workbook of a pack (``planlang template``): the layout :mod:`.excel` reads, ready to fill.

One sheet per granularity of input (``monthly``, ``quarterly``, ``half-yearly``, ``annual``) with
the columns code, period, then one per input; the heading of each input carries a note with its
unit, description, the organisations it is given for, its default and range, and its citations.
Input cells are yellow, as in the NHS planning templates, and validated: money and ratios as
numbers, percentages as numbers shown as percentages, counts as whole numbers, booleans from a
list, dates as dates, codes from the organisations sheet. The periods the inputs are given for
(their ``during``) are laid out; with organisations (``--entities``), a row for each organisation
and period. A template no one has filled reads as data with nothing in it: a run on it says which
inputs are missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .. import syntax as s
from ..checker import fixed_value
from ..files import write_workbook_atomically
from ..periods import Period
from ..values import format_money, format_percent
from ..xlsxfile import put_text
from .checks import SHEET_OF, SHEETS
from .dataset import ORGANISATION_FIELDS, Organisation

__all__ = ["write_template", "INPUT_FILL", "input_note"]

INPUT_FILL = "FFFF99"  # the pale yellow of the NHS templates' cells to fill
_HEADING_FILL = "D9E1F2"
_FORMATS = {"money": '"£"#,##0.00;-"£"#,##0.00', "percent": "0.00%", "ratio": "0.0000", "count": "#,##0",
            "date": "yyyy-mm-dd"}
_ROWS_WITHOUT_ENTITIES = 200  # how far validation reaches down a sheet when no organisations are laid out


def write_template(path: str | os.PathLike, program, organisations: Iterable[Organisation] = ()) -> dict[str, int]:
    """Write the pack's blank input workbook to ``path`` atomically; the number of input columns per sheet."""
    import openpyxl

    organisations = list(organisations)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "organisations"
    _heading_row(sheet, ORGANISATION_FIELDS)
    for row, org in enumerate(organisations, 2):
        for column, value in enumerate((org.code, org.name, org.kind, org.system), 1):
            put_text(sheet.cell(row=row, column=column), value)
    _validate_list(sheet, '"system,trust,ccg"', f"C2:C{max(len(organisations) + 1, _ROWS_WITHOUT_ENTITIES)}")
    _widths(sheet, (14, 40, 10, 14))
    codes = f"organisations!$A$2:$A${max(len(organisations) + 1, _ROWS_WITHOUT_ENTITIES)}"
    written = {}
    inputs = program.of_kind(s.InputDecl)
    for word, kind in SHEETS.items():
        chosen = [decl for decl in inputs.values() if decl.granularity == kind]
        if chosen:
            _values_sheet(book.create_sheet(word), chosen, _periods(program, chosen, kind), organisations, codes)
            written[word] = len(chosen)
    write_workbook_atomically(Path(path), book)
    return written


def input_note(decl: s.InputDecl) -> str:
    """What a heading's note says about an input: unit, description, who gives it, default, range, citations."""
    lines = [f"{decl.name} ({decl.type}, {SHEET_OF[decl.granularity] if decl.granularity else 'no period'})"]
    if decl.description:
        lines.append(decl.description)
    if decl.kinds:
        lines.append(f"given per {' or '.join(decl.kinds)}")
    if decl.during:
        lines.append(f"during {decl.during[0]} to {decl.during[1]}")
    if decl.default is not None:
        lines.append(f"default when blank: {_shown(fixed_value(decl.default), decl.type)}")
    else:
        lines.append("no default: a blank cell is missing, never zero")
    if decl.range is not None:
        low, high = (fixed_value(end) for end in decl.range)
        lines.append(f"valid from {_shown(low, decl.type)} to {_shown(high, decl.type)}")
    lines += [f"cites {c.source} {c.section}" + (f' "{c.quote}"' if c.quote else "") for c in decl.citations]
    return "\n".join(lines)


def _shown(value, type_: str) -> str:
    if value is None:
        return "worked out"
    if type_ == "money":
        return format_money(value)
    if type_ == "percent":
        return format_percent(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _periods(program, inputs: list[s.InputDecl], kind: str) -> list[Period]:
    """The periods of ``kind`` in the policy year that any of ``inputs`` is given for."""
    found = []
    for period in program.year.parts(kind) if kind != "year" else [program.year]:
        if any(d.during is None or (d.during[0].first_day <= period.first_day and period.last_day <= d.during[1].last_day)
               for d in inputs):
            found.append(period)
    return found


def _values_sheet(sheet, inputs: list[s.InputDecl], periods: list[Period], organisations: list[Organisation],
                  codes: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    _heading_row(sheet, ["code", "period", *(d.name for d in inputs)])
    for column, decl in enumerate(inputs, 3):
        note = input_note(decl)
        comment = Comment(note, "planlang")
        comment.width, comment.height = 420, min(600, 40 + 16 * len(note.splitlines()))
        sheet.cell(row=1, column=column).comment = comment
    kinds = {kind for d in inputs for kind in d.kinds}
    who = [org for org in organisations if org.kind in kinds]
    rows = [(org.code, period) for org in who for period in periods] if who else [(None, p) for p in periods]
    fill = PatternFill("solid", fgColor=INPUT_FILL)
    for row, (code, period) in enumerate(rows, 2):
        put_text(sheet.cell(row=row, column=1), code)
        put_text(sheet.cell(row=row, column=2), period.label)
        for column, decl in enumerate(inputs, 3):
            cell = sheet.cell(row=row, column=column)
            if code is None or _given_for(decl, code, organisations, period):
                cell.fill = fill
            if decl.type in _FORMATS:
                cell.number_format = _FORMATS[decl.type]
    last = max(len(rows) + 1, _ROWS_WITHOUT_ENTITIES if not who else 2)
    _validate_list(sheet, f"={codes}", f"A2:A{last}")
    for column, decl in enumerate(inputs, 3):
        _validate_input(sheet, decl, f"{get_column_letter(column)}2:{get_column_letter(column)}{last}")
    sheet.freeze_panes = "C2"
    _widths(sheet, (14, 12, *(max(14, min(40, len(d.name) + 2)) for d in inputs)))


def _given_for(decl: s.InputDecl, code: str, organisations: list[Organisation], period: Period) -> bool:
    org = next(o for o in organisations if o.code == code)
    during = decl.during
    return org.kind in decl.kinds and (during is None or during[0].first_day <= period.first_day <= during[1].last_day)


def _validate_input(sheet, decl: s.InputDecl, cells: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    kind, low, high = {"money": ("decimal", -10**15, 10**15), "ratio": ("decimal", -10**9, 10**9),
                       "percent": ("decimal", -100, 100), "count": ("whole", -10**12, 10**12)}.get(decl.type, (None, 0, 0))
    if decl.range is not None:
        low, high = (float(fixed_value(end)) for end in decl.range)
    if kind is not None:
        rule = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(high), allow_blank=True)
        rule.error = f"{decl.name} takes {'a whole number' if kind == 'whole' else 'a number'} from {low} to {high}"
    elif decl.type == "bool":
        rule = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
        rule.error = f"{decl.name} is TRUE or FALSE"
    elif decl.type == "date":
        rule = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
        rule.error = f"{decl.name} is a date"
    else:
        return
    rule.errorTitle, rule.showErrorMessage = "planlang", True
    sheet.add_data_validation(rule)
    rule.add(cells)


def _validate_list(sheet, formula: str, cells: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    rule = DataValidation(type="list", formula1=formula, allow_blank=True)
    sheet.add_data_validation(rule)
    rule.add(cells)


def _heading_row(sheet, headings) -> None:
    from openpyxl.styles import Font, PatternFill

    for column, text in enumerate(headings, 1):
        cell = sheet.cell(row=1, column=column)
        put_text(cell, text)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor=_HEADING_FILL)


def _widths(sheet, widths) -> None:
    from openpyxl.utils import get_column_letter

    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
