"""A run's results as an Excel workbook an auditor can file: every figure with its provenance.

Sheets: one per granularity laid out like the input workbook (code, name, period, one column per
output, grouped by scheme), then Totals (each year total with the periods it covers), Assumed
defaults, Flags, Missing, Rules and Inputs. Every result cell carries a
note (formula, operand values, the band or branch that applied and the margin, the inputs with
where they were read, the citation) and links to the Inputs row of the first input it rests on.

Numbers are written as exact decimal text in the file (money to the penny, which is a display
rounding only; other numbers to ten places); text that Excel would read as a formula (starting
``=``, ``+``, ``-`` or ``@``) is stored as text and shown with a quote prefix.
"""

from __future__ import annotations

import os
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from .. import syntax as s
from ..assumptions import assumed_defaults
from ..files import write_workbook_atomically
from ..render.run import flag_message, late_message
from ..render.values import format_value
from ..run import Results
from ..values import Missing
from .layout import (
    RULE_KINDS,
    Sheet,
    cells,
    less,
    result_sheets,
    rule_formula,
    rules,
    scheme_of,
    system_totals,
    unit_of,
    year_totals,
)
from .provenance import Tracer, note_text, origin_of
from .workbook import HEADER_FONT as _HEADER_FONT
from .workbook import NUMBER_FORMATS, excel_value
from .workbook import finish as _finish
from .workbook import formula as _formula
from .workbook import note as _note
from .workbook import number_format as _format
from .workbook import put as _put
from .workbook import table as _table

__all__ = ["write_workbook", "NUMBER_FORMATS"]

_MISSING_FONT = Font(italic=True, color="808080")
_SEVERITY_FILL = {"error": PatternFill("solid", fgColor="F4C7C3"), "warning": PatternFill("solid", fgColor="FCE8B2"),
                  "info": PatternFill("solid", fgColor="C9DAF8")}


class _Inputs:
    """The Inputs sheet: every input value read or assumed, with where it came from."""

    HEADINGS = ["input", "code", "organisation", "period", "value", "unit", "from"]

    def __init__(self, results: Results):
        self.results = results
        self.rows: list[list] = []
        self.units: list[str] = []
        self.places: dict[tuple, str] = {}
        for (name, code, period), value in results.dataset.values.items():
            self._add(name, code, period, value, results.dataset.origins.get((name, code, period), results.dataset.source))

    def _add(self, name, code, period, value, origin) -> None:
        decl = self.results.program.declarations[name]
        organisation = self.results.dataset.organisations.get(code)
        shown = "missing" if isinstance(value, Missing) else value
        self.rows.append([name, code, organisation.name if organisation else "", period, shown, unit_of(decl), origin])
        self.units.append(unit_of(decl))
        self.places[(name, code, period)] = f"Inputs!A{len(self.rows) + 1}"

    def place(self, leaf) -> str:
        """The Inputs cell of an input of a derivation, adding a row for a default the run assumed."""
        key = (leaf.label, leaf.entity, leaf.period)
        if key not in self.places:
            self._add(leaf.label, leaf.entity, leaf.period, leaf.value, origin_of(leaf))
        return self.places[key]

    def write(self, sheet) -> None:
        written = _table(sheet, self.HEADINGS, self.rows)
        for cells_, unit in zip(written, self.units):
            _format(cells_[4], unit)  # the value column: each row in its own input's unit


def _result_sheet(sheet, layout: Sheet, tracer, inputs: _Inputs) -> None:
    """``tracer`` is a :class:`Tracer`, or a function giving the tracer of a cell's own results."""
    tracer_of = tracer if callable(tracer) else (lambda results: tracer)
    headings = ["code", "name", "period"] + [c.heading for c in layout.columns]
    for k, heading in enumerate(headings, 1):
        _put(sheet, 1, k, heading).font = _HEADER_FONT
    for k, column in enumerate(layout.columns, 4):
        about = [column.description or "", f"unit: {column.unit}", f"scheme: {column.scheme}"]
        sheet.cell(row=1, column=k).comment = _note("\n".join(x for x in about if x))
    row_of = {row: r for r, row in enumerate(layout.rows, 2)}
    for row in layout.rows:
        r = row_of[row]
        _put(sheet, r, 1, row.code or "")
        _put(sheet, r, 2, row.organisation)
        _put(sheet, r, 3, row.period.label if row.period is not None else "")
    index = {c: k for k, c in enumerate(layout.columns, 4)}
    for row, column, found in cells(layout):
        if found is None:
            continue
        r, k = row_of[row], index[column]
        if found.results is None:  # a difference of two runs: its provenance is in its two runs' columns
            if column.of is not None and isinstance(found.value, Fraction):
                before, after = (f"{get_column_letter(index[c])}{r}" for c in column.of)
                cell = _formula(sheet, r, k, f"{after}-{before}", found.unit)
                cell.comment = _note(f"the scenario's value less the baseline's ({after} - {before}), over the figures "
                                     f"as the cells hold them; planlang's exact difference: "
                                     f"{format_value(found.value, found.unit)}")
            else:
                cell = _put(sheet, r, k, "missing" if isinstance(found.value, Missing) else found.value, found.unit)
                cell.comment = _note("the scenario's value less the baseline's (the two columns to the left)")
            continue
        provenance = tracer_of(found.results).of(found.name, found.entity, found.period)
        places = {(leaf.label, leaf.entity, leaf.period): inputs.place(leaf) for leaf in provenance.inputs}
        if isinstance(found.value, Missing):
            cell = _put(sheet, r, k, "missing")
            cell.font = _MISSING_FONT
        else:
            cell = _put(sheet, r, k, found.value, found.unit)
        cell.comment = _note(note_text(provenance, places))
        if provenance.inputs:
            first = provenance.inputs[0]
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=places[(first.label, first.entity, first.period)])
    _finish(sheet, "D2")


def _flags_sheet(sheet, results: Results, tracer: Tracer) -> None:
    rows, severities = [], []
    organisations = results.dataset.organisations
    for flag in results.flags:
        if flag.fired is not True:
            continue
        decl = results.program.declarations[flag.name]
        provenance = tracer.of(flag.name, flag.entity, flag.period)
        values = "; ".join(f"{op.label} = {format_value(op.value, op.type)}" for op in provenance.operands)
        rows.append([flag.severity, flag.name, flag.entity, organisations[flag.entity].name,
                     flag.period.label if flag.period else "", flag_message(results, flag), values,
                     _citations(decl.citations)])
        severities.append(flag.severity)
    for late in results.late_submissions():
        decl = results.program.declarations[late.milestone]
        rows.append([late.severity, late.name, late.entity, organisations[late.entity].name, str(results.program.year),
                     late_message(results, late), f"submitted = {late.submitted}; deadline = {late.deadline}",
                     _citations(decl.citations)])
        severities.append(late.severity)
    written = _table(sheet, ["severity", "flag", "code", "organisation", "period", "message", "values", "citation"], rows)
    for cells_, severity in zip(written, severities):
        cells_[0].fill = _SEVERITY_FILL.get(severity, PatternFill())


def _totals_sheet(sheet, runs: list[tuple[str, Results]], only=None, *, systems: bool = False) -> None:
    """Each money and count output's year total by organisation (or, ``systems``, by system: the sum of its
    trusts' and CCGs'), with the periods it covers; with more than one run (a comparison), one column per
    run and the difference of each scenario from the first, a formula over the two columns."""
    first = runs[0][1]
    organisations = first.dataset.organisations

    def totals_of(results=None):
        found = year_totals(first, only=only, of=results)
        return system_totals(first, found) if systems else found

    others = [[t.value for t in totals_of(results)] for _, results in runs[1:]]
    headings = ["output", "system" if systems else "code", "name" if systems else "organisation", "year", "covers", runs[0][0] or "total"]
    for label, _ in runs[1:]:
        headings += [label, f"difference, {label}"]
    rows, units, exact = [], [], []
    for k, total in enumerate(totals_of()):
        values = [total.value]
        for scenario in others:
            values += [scenario[k], less(scenario[k], total.value)]
        rows.append([total.name, total.entity or "", organisations[total.entity].name if total.entity else "(whole pack)",
                     total.year.label, total.coverage.label()]
                    + ["missing" if isinstance(v, Missing) else excel_value(v, total.unit) for v in values])
        units.append(total.unit)
        exact.append(values)
    written = _table(sheet, headings, rows)
    for r, (cells_, unit, values) in enumerate(zip(written, units, exact), 2):
        for cell in cells_[5:]:
            _format(cell, unit)
        for s_ in range(len(others)):
            before, after, difference = 6, 7 + 2 * s_, 8 + 2 * s_
            if isinstance(values[2 + 2 * s_], Fraction):  # both present: Excel works it out
                cell = _formula(sheet, r, difference, f"{get_column_letter(after)}{r}-{get_column_letter(before)}{r}", unit)
                cell.comment = _note(f"planlang's exact difference: {format_value(values[2 + 2 * s_], unit)}")


def _defaults_sheet(sheet, runs: list[tuple[str, Results]]) -> None:
    """The declared defaults each run assumed, how often, and the outputs that rest on them."""
    rows = []
    for label, results in runs:
        for d in assumed_defaults(results):
            rows.append(([label] if len(runs) > 1 else []) + [
                d.input, d.default, d.type, d.assumed, d.of, ", ".join(d.outputs), _citations(d.citations), d.declared])
    headings = ["input", "default", "unit", "assumed for", "of entity-periods", "outputs that rest on it", "citation",
                "declared at"]
    _table(sheet, (["run"] if len(runs) > 1 else []) + headings, rows)


def _missing_sheet(sheet, results: Results) -> None:
    rows = []
    for name, entity, period, value in results.missing:
        for reason in sorted(value.reasons, key=lambda x: x.message):
            rows.append([name, entity or "", period.label if period else "", reason.message, reason.name or "",
                         reason.entity or "", reason.period or ""])
    _table(sheet, ["output", "code", "period", "because", "missing input", "for", "in"], rows)


def _citations(citations) -> str:
    return "\n".join(f"{c.source} {c.section}" + (f' "{c.quote}"' if c.quote else "") for c in citations)


def _parameter_values(results: Results, name: str, decl: s.ParameterDecl) -> str:
    """A parameter's value in each period of the year, runs of equal values joined: ``2021-04 to 2021-06: 70%``."""
    year = results.program.year
    periods = year.parts(decl.granularity) if decl.granularity and decl.granularity != "year" else [year]
    runs: list[list] = []
    for period in periods:
        shown = format_value(results.get(name, None, period), decl.type)
        if runs and runs[-1][2] == shown:
            runs[-1][1] = period
        else:
            runs.append([period, period, shown])
    if len(runs) == 1:
        return runs[0][2]
    return "\n".join(f"{first}{f' to {last}' if last != first else ''}: {shown}" for first, last, shown in runs)


def _rules_sheet(sheet, results: Results) -> None:
    program = results.program
    rows = []
    for name in rules(program):
        decl = program.declarations[name]
        values = _parameter_values(results, name, decl) if isinstance(decl, s.ParameterDecl) else ""
        interpretations = list(decl.interpretations)
        for amendment in program.amendments.get(name, ()):
            interpretations += amendment.interpretations
        rows.append([name, RULE_KINDS[type(decl)], scheme_of(decl), unit_of(decl), decl.description or "",
                     rule_formula(decl), values,
                     _citations(decl.citations + tuple(c for a in program.amendments.get(name, ()) for c in a.citations)),
                     "\n".join(interpretations), f"{decl.span.file}:{decl.span.line}"])
    _table(sheet, ["name", "kind", "scheme", "unit", "description", "formula", "values by period", "citation",
                   "interpretations", "declared at"], rows)


def build_workbook(results: Results, *, only=None) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    tracer = Tracer(results)
    inputs = _Inputs(results)
    for layout in result_sheets(results, only=only):
        _result_sheet(book.create_sheet(layout.title), layout, tracer, inputs)
    _totals_sheet(book.create_sheet("Totals"), [("", results)], only)
    _defaults_sheet(book.create_sheet("Assumed defaults"), [("", results)])
    _flags_sheet(book.create_sheet("Flags"), results, tracer)
    _missing_sheet(book.create_sheet("Missing"), results)
    _rules_sheet(book.create_sheet("Rules"), results)
    inputs.write(book.create_sheet("Inputs"))
    return book


def build_compare_workbook(comparisons) -> Workbook:
    """The baseline's sheets with each scenario's and the difference's columns (formulas over the two); then
    each scenario's settings, the year totals by organisation and by system, charts of the totals before and
    after and of the changes by organisation, the baseline's flags and the flags each scenario raises or clears, missing values, rules and inputs."""
    from .excel_charts import charts_sheet
    from .layout import compare_sheets

    baseline = comparisons[0].baseline
    book = Workbook()
    book.remove(book.active)
    tracers: dict[int, Tracer] = {}

    def tracer_of(results) -> Tracer:
        return tracers.setdefault(id(results), Tracer(results))

    inputs = _Inputs(baseline)
    for layout in compare_sheets(comparisons):
        _result_sheet(book.create_sheet(layout.title), layout, tracer_of, inputs)
    rows = [[c.scenario.scenario.name, x.text, str(x.span)] for c in comparisons for x in c.scenario.scenario.settings]
    _table(book.create_sheet("Scenarios"), ["scenario", "setting", "written at"], rows)
    runs = [("baseline", baseline)] + [(c.scenario.scenario.name, c.scenario) for c in comparisons]
    _totals_sheet(book.create_sheet("Totals"), runs)
    _totals_sheet(book.create_sheet("System totals"), runs, systems=True)
    charts_sheet(book.create_sheet("Charts"), runs)
    _defaults_sheet(book.create_sheet("Assumed defaults"), runs)
    changed = [[c.scenario.scenario.name, "raised", f.name, f.severity, f.entity, f.period.label if f.period else ""]
               for c in comparisons for f in c.flags_raised]
    changed += [[c.scenario.scenario.name, "cleared", f.name, f.severity, f.entity, f.period.label if f.period else ""]
                for c in comparisons for f in c.flags_cleared]
    _table(book.create_sheet("Flags changed"), ["scenario", "change", "flag", "severity", "code", "period"], changed)
    _flags_sheet(book.create_sheet("Flags"), baseline, tracer_of(baseline))
    _missing_sheet(book.create_sheet("Missing"), baseline)
    _rules_sheet(book.create_sheet("Rules"), baseline)
    inputs.write(book.create_sheet("Inputs"))
    return book


def write_compare_workbook(path: str | os.PathLike, comparisons) -> None:
    """Write the comparison workbook atomically."""
    write_workbook_atomically(path, build_compare_workbook(comparisons))


def write_workbook(path: str | os.PathLike, results: Results, *, only=None) -> None:
    """Write the results workbook atomically (a temporary file beside ``path``, then a rename)."""
    book = build_workbook(results, only=only)
    write_workbook_atomically(path, book)
