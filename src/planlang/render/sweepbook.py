"""A sweep as an Excel workbook (``sweep --out x.xlsx``): the long table, each output's total per step,
and a native line chart of each total across the steps.

Sheets: ``Sweep`` (the long form's columns, a row per step, output, organisation and period, written
as the sweep goes: openpyxl's write-only mode keeps memory bounded), ``Totals`` (a row per step — per
draw with ``--draws`` — the varied values and each output's exact :class:`~planlang.run.totals.Total`
over every organisation and period, empty where any cell is missing, with a column saying how many
are) and ``Charts`` (a line chart of each output's total per step). A missing total is a gap in the
line, never a zero. Money is written to the penny (the cell's display), other numbers to ten places,
as the results workbook writes them; codes and reasons from the data are text, never formulas.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font

from ..audit.workbook import NUMBER_FORMATS, excel_value
from ..diagnostics import InputError
from ..run.bulk import StepResult
from ..values import Missing
from ..xlsxfile import put_text, save_workbook

__all__ = ["SweepBook", "MAX_ROWS"]

MAX_ROWS = 1_048_576  # an Excel sheet's rows, its heading row among them
_BOLD = Font(bold=True)
_CHART_ROWS = 18  # a chart's height in rows, so that charts stack without overlapping


class SweepBook:
    """Built step by step (:meth:`add`), saved once (:meth:`save`)."""

    def __init__(self, columns: Sequence[str], types: Sequence[str], units: dict[str, str], draws: bool):
        self.types, self.units, self.draws = tuple(types), units, draws
        self.book = Workbook(write_only=True)
        self.long = self.book.create_sheet("Sweep")
        self.long.freeze_panes = "A2"
        self.long.append([self._text(self.long, x, bold=True) for x in columns])
        self.written = 1
        self.heads = list(columns[:columns.index("output")])
        self.totals: list[tuple[list, dict]] = []  # (the step's head, {output: Total})

    def _text(self, sheet, value, bold: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet)
        put_text(cell, excel_value(value, None))
        if bold:
            cell.font = _BOLD
        return cell

    def _number(self, sheet, value, unit: str | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, excel_value(value, unit))
        if unit in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[unit]
        return cell

    def add(self, point, result: StepResult) -> None:
        sheet = self.long
        head = [point.index, *([point.draw] if self.draws else []), *point.values]
        cells = [WriteOnlyCell(sheet, point.index), *([WriteOnlyCell(sheet, point.draw)] if self.draws else []),
                 *(self._number(sheet, x, t) for x, t in zip(point.values, self.types))]
        for name, found in result.by_output.items():
            unit = self.units[name]
            for (entity, period), value in found:
                self.written += 1
                if self.written > MAX_ROWS:
                    raise InputError(f"would need more than the {MAX_ROWS - 1:,} rows an Excel sheet holds for the "
                                     f"sweep's every figure", "--out", "write it as .parquet or .csv")
                missing = type(value) is Missing
                sheet.append([*cells, self._text(sheet, name), self._text(sheet, entity),
                              self._text(sheet, period.label if period is not None else None),
                              None if missing else self._number(sheet, value, unit), self._text(sheet, unit),
                              self._text(sheet, value.describe() if missing else None)])
        self.totals.append((head, {name: result.total(name) for name in result.by_output}))

    def discard(self) -> None:
        """Close the long table's stream and remove its temporary file (the sweep stopped): left open,
        the stream would be finished by the garbage collector, which prints a traceback."""
        self.long.close()
        self.long._writer.cleanup()

    def save(self, path: str) -> None:
        self._totals_sheet()
        save_workbook(self.book, path)

    def _totals_sheet(self) -> None:
        sheet = self.book.create_sheet("Totals")
        outputs = list(self.units)
        sheet.freeze_panes = "A2"
        sheet.append([self._text(sheet, x, bold=True) for x in [*self.heads, *outputs, "missing"]])
        lead = len(self.heads)
        for head, totals in self.totals:
            row = [WriteOnlyCell(sheet, x) for x in head[:1 + self.draws]]
            row += [self._number(sheet, x, t) for x, t in zip(head[1 + self.draws:], self.types)]
            for name in outputs:
                total = totals.get(name)
                row.append(self._number(sheet, total.value, self.units[name]) if total and total.value is not None
                           else None)
            gaps = [f"{name}: {t.missing:,} of {t.cells:,} figures missing" for name in outputs
                    if (t := totals.get(name)) is not None and t.value is None]
            row.append(self._text(sheet, "; ".join(gaps) or None))
            sheet.append(row)
        charts = self.book.create_sheet("Charts")
        last = len(self.totals) + 1
        for k, name in enumerate(outputs):
            chart = LineChart()
            chart.title = f"{name}: total per step"
            chart.x_axis.title = "step (and draw)" if self.draws else "step"
            chart.y_axis.title = "£" if self.units[name] == "money" else self.units[name]
            chart.y_axis.number_format = NUMBER_FORMATS.get(self.units[name], "General")
            chart.y_axis.delete = chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told
            column = lead + 1 + k
            chart.add_data(Reference(sheet, min_col=column, min_row=1, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))
            chart.display_blanks = "gap"
            chart.width, chart.height = 20, 8
            charts.add_chart(chart, f"A{1 + k * _CHART_ROWS}")
