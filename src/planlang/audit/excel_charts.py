"""The compare workbook's Charts sheet: native Excel bar charts of the year totals before and after, and
of each output's change by organisation, each drawn from a small table on the same sheet.

A missing total is an empty cell with a note saying why (a gap in the chart), never a zero. The
tables hold the figures as the workbook shows them (money to the penny); the exact figures are on the
Totals sheets.
"""

from __future__ import annotations

from fractions import Fraction

from openpyxl.chart import BarChart, Reference

from ..run import Results
from ..run.totals import total_of
from ..values import Missing
from .layout import less, year_totals
from .workbook import HEADER_FONT, finish, note, put, storable

__all__ = ["charts_sheet", "MAX_CHANGE_CHARTS"]

# one chart of changes by organisation per changed output and year; past this many, the Totals sheet has the rest
MAX_CHANGE_CHARTS = 40
_CHART_COLUMN = "J"  # the charts stand to the right of their tables
_CHART_ROWS = 20  # a chart's height in rows (7.5 cm at the default row height), so charts never overlap
_UNIT_AXIS = {"money": "£", "count": "count"}


def charts_sheet(sheet, runs: list[tuple[str, Results]]) -> None:
    """``runs``: the baseline's label and results first, then each scenario's."""
    first = runs[0][1]
    by_run = [year_totals(first, of=results if k else None) for k, (_, results) in enumerate(runs)]
    labels = [label for label, _ in runs]
    row = 1
    put(sheet, row, 1, "Year totals over all organisations, before and after").font = HEADER_FONT
    row += 1
    for unit in ("money", "count"):
        keys = list(dict.fromkeys((t.name, t.year) for t in by_run[0] if t.unit == unit))
        if not keys:
            continue
        figures = [[_sum(totals, name, year) for totals in by_run] for name, year in keys]
        rows = [(f"{name} {year.label}", values) for (name, year), values in zip(keys, figures)]
        row = _chart(sheet, row, rows, labels, unit, f"Year totals ({_UNIT_AXIS[unit]}): baseline and scenarios")
    changed = _changes(first, by_run)
    if changed:
        put(sheet, row, 1, "Changes by organisation (scenario less baseline, year totals)").font = HEADER_FONT
        row += 1
    for (name, year, unit), rows in changed[:MAX_CHANGE_CHARTS]:
        row = _chart(sheet, row, rows, labels[1:], unit, f"{name} {year.label}: change by organisation")
    if len(changed) > MAX_CHANGE_CHARTS:
        put(sheet, row, 1, f"{len(changed) - MAX_CHANGE_CHARTS:,} more outputs changed: see the Totals sheet")
    finish(sheet, "A2")
    sheet.auto_filter.ref = None  # stacked tables, not one list to filter


def _sum(totals, name, year):
    return total_of(t.value for t in totals if t.name == name and t.year == year).figure


def _changes(first: Results, by_run: list[list]) -> list:
    """For each output and year some scenario changed: a row per organisation, its change under each scenario."""
    organisations = first.dataset.organisations
    found: dict[tuple, list] = {}
    for k, total in enumerate(by_run[0]):
        if total.entity is None:
            continue
        changes = [less(totals[k].value, total.value) for totals in by_run[1:]]
        found.setdefault((total.name, total.year, total.unit), []).append(
            (f"{total.entity} {organisations[total.entity].name}", changes))
    return [(key, rows) for key, rows in found.items()
            if any(not (isinstance(c, Fraction) and c == 0) for _, changes in rows for c in changes)]


def _chart(sheet, top: int, rows: list[tuple[str, list]], series: list[str], unit: str, title: str) -> int:
    """A table at ``top`` (a heading row, then one row per category) and a clustered bar chart of it beside it;
    the next free row below both."""
    put(sheet, top, 1, "").font = HEADER_FONT
    for k, label in enumerate(series, 2):
        put(sheet, top, k, label).font = HEADER_FONT
    for r, (category, values) in enumerate(rows, top + 1):
        put(sheet, r, 1, category)
        for k, value in enumerate(values, 2):
            if isinstance(value, Fraction):
                put(sheet, r, k, value, unit)
            else:  # an empty cell is a gap in the chart; zero would be a figure
                sheet.cell(row=r, column=k).comment = note(
                    "missing: " + (value.describe() if isinstance(value, Missing) else "no value"))
    bottom = top + len(rows)
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.title = storable(title)
    chart.y_axis.title = _UNIT_AXIS.get(unit, unit)
    chart.y_axis.number_format = '"£"#,##0' if unit == "money" else "#,##0"
    chart.y_axis.delete = chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told
    chart.add_data(Reference(sheet, min_col=2, max_col=1 + len(series), min_row=top, max_row=bottom), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=bottom))
    chart.width, chart.height = 18, 7.5
    sheet.add_chart(chart, f"{_CHART_COLUMN}{top}")
    return top + max(len(rows) + 2, _CHART_ROWS) + 1
