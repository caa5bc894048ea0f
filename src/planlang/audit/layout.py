"""The shape of a run's results as tables: one sheet per granularity, one row per organisation and
period, one column per output, grouped by scheme.

Writers (Excel, CSV, HTML) read this shape and never walk the results themselves. A column is a
*column set* member: today one run gives one set; a scenario run will add a second set from its
own :class:`~planlang.evaluator.Results`, and a difference set computed from the two, without the
writers changing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import PurePath

import attrs

from .. import syntax as s
from ..coverage import Coverage, coverage
from ..ops import merge_missing
from ..periods import GRANULARITIES, Period
from ..printer import format_expr
from ..run import Results
from ..run.totals import total_of
from ..values import Missing

__all__ = ["Column", "Row", "Sheet", "Cell", "result_sheets", "unit_of", "scheme_of", "scheme_order",
           "SHEET_FOR_NO_PERIOD", "cells", "RULE_KINDS", "rules", "rule_formula", "YearTotal", "year_totals",
           "system_totals", "less"]

# the sheet names of the input workbook ("monthly", ...), and one for values that have no period
_SHEET_OF = {kind: word for word, kind in GRANULARITIES.items()}
SHEET_FOR_NO_PERIOD = "whole year"
_SHEET_ORDER = (*GRANULARITIES, SHEET_FOR_NO_PERIOD)


def unit_of(decl: s.Decl) -> str:
    """The unit a declaration's values are in: money, percent, ratio, count, bool, date, text."""
    if isinstance(decl, s.FlagDecl):
        return "bool"
    if isinstance(decl, s.DeadlineDecl):
        return "date"
    return decl.type


RULE_KINDS = {s.InputDecl: "input", s.ParameterDecl: "parameter", s.DefineDecl: "definition", s.FlagDecl: "flag",
              s.DeadlineDecl: "deadline"}


def rules(program) -> list[str]:
    """The names of every rule (input, parameter, definition, flag, deadline), grouped by scheme."""
    return scheme_order(program, [n for n, d in program.declarations.items() if type(d) in RULE_KINDS])


def rule_formula(decl: s.Decl) -> str:
    """A definition's or deadline's value, or a flag's condition, in canonical planlang; empty otherwise."""
    expr = getattr(decl, "when", None) if isinstance(decl, s.FlagDecl) else getattr(decl, "value", None)
    return format_expr(expr) if isinstance(decl, (s.DefineDecl, s.DeadlineDecl, s.FlagDecl)) else ""


def scheme_of(decl: s.Decl) -> str:
    """The scheme a declaration belongs to: its policy file's name (by convention, one scheme a file)."""
    return PurePath(decl.span.file).stem


def scheme_order(program, names) -> list[str]:
    """Names grouped by scheme, schemes in the pack's order (its files by name), each in declaration order."""
    files = list(program.files)
    return sorted(names, key=lambda n: (files.index(program.declarations[n].span.file),
                                        program.declarations[n].span.line))


@attrs.frozen
class Cell:
    """One value of a table, with what is needed to explain it."""

    value: object
    unit: str
    name: str  # the declaration it is a value of
    entity: str | None
    period: Period | None
    results: Results = attrs.field(eq=False, repr=False)


@attrs.frozen
class Column:
    """One column of a sheet: an output, from one column set (``run`` is empty for a lone run)."""

    heading: str
    name: str
    unit: str
    scheme: str
    description: str | None
    cell: Callable[[str | None, Period | None], Cell | None] = attrs.field(eq=False, repr=False)
    run: str = ""
    # a difference column: the (baseline, scenario) columns it is the difference of, for a formula over them
    of: tuple["Column", "Column"] | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Row:
    code: str | None  # None for a value of the whole pack, not of one organisation
    organisation: str
    period: Period | None


@attrs.frozen
class Sheet:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]


def _column(results: Results, name: str, scope: set, run: str = "") -> Column:
    decl = results.program.declarations[name]
    unit = unit_of(decl)

    def cell(entity, period) -> Cell | None:
        # a trust-only output has no value on a CCG's row: the cell stays empty, it is not missing
        if (entity, period) not in scope:
            return None
        return Cell(results.get(name, entity, period), unit, name, entity, period, results)

    return Column(name if not run else f"{name} ({run})", name, unit, scheme_of(decl), decl.description, cell, run)


def result_sheets(results: Results, *, only: Callable[[str, str | None], bool] | None = None) -> list[Sheet]:
    """The run's outputs laid out as sheets, in the order of the input workbook's sheets.

    ``only(name, entity)`` keeps a subset (``run --only``, ``--entity``).
    """
    program, dataset = results.program, results.dataset
    keys: dict[str, dict[str, set]] = {}
    scope: dict[str, set] = {}
    for name, entity, period, _ in results.outputs():
        if only is not None and not only(name, entity):
            continue
        title = _SHEET_OF[period.kind] if period is not None else SHEET_FOR_NO_PERIOD
        names, rows = keys.setdefault(title, {"names": {}, "rows": set()}).values()
        names[name] = None
        rows.add((entity, period))
        scope.setdefault(name, set()).add((entity, period))
    position = {code: k for k, code in enumerate(dataset.organisations)}
    sheets = []
    for title in _SHEET_ORDER:
        if title not in keys:
            continue
        columns = tuple(_column(results, name, scope[name]) for name in scheme_order(program, keys[title]["names"]))
        ordered = sorted(keys[title]["rows"], key=lambda r: (-1 if r[0] is None else position[r[0]],
                                                             r[1].sort_key() if r[1] is not None else ()))
        rows = tuple(Row(code, dataset.organisations[code].name if code is not None else "(whole pack)", period)
                     for code, period in ordered)
        sheets.append(Sheet(title, columns, rows))
    return sheets


def compare_sheets(comparisons) -> list[Sheet]:
    """The baseline's sheets with, after each output's baseline column, each scenario's value and its difference."""
    baseline = comparisons[0].baseline
    sheets = []
    for sheet in result_sheets(baseline):
        columns = []
        for column in sheet.columns:
            base = attrs.evolve(column, heading=f"{column.name} (baseline)", run="baseline")
            columns.append(base)
            for comparison in comparisons:
                label = comparison.scenario.scenario.name
                scope = set(baseline.scope[column.name])
                scenario = _column(comparison.scenario, column.name, scope, run=label)
                columns.append(scenario)
                if column.unit in _NUMBERS:
                    columns.append(_difference(base, scenario, label))
        sheets.append(attrs.evolve(sheet, columns=tuple(columns)))
    return sheets


_NUMBERS = ("money", "percent", "ratio", "count", "number")


def _difference(base: Column, scenario: Column, label: str) -> Column:
    """Scenario less baseline, for numbers both present; missing when either is; empty otherwise."""

    def cell(entity, period) -> Cell | None:
        before, after = base.cell(entity, period), scenario.cell(entity, period)
        if before is None or after is None:
            return None
        if isinstance(before.value, Missing) or isinstance(after.value, Missing):
            value = before.value if isinstance(before.value, Missing) else after.value
        elif isinstance(before.value, Fraction) and isinstance(after.value, Fraction):
            value = after.value - before.value
        else:
            return None
        return Cell(value, base.unit, base.name, entity, period, None)

    return attrs.evolve(base, heading=f"{base.name} (difference, {label})", cell=cell, run=f"difference {label}",
                        of=(base, scenario))


def cells(sheet: Sheet) -> Iterator[tuple[Row, Column, Cell | None]]:
    """Every (row, column, cell or None where the output has no value for the row), row by row."""
    for row in sheet.rows:
        for column in sheet.columns:
            yield row, column, column.cell(row.code, row.period)


@attrs.frozen
class YearTotal:
    """An output's exact sum over one organisation's months (quarters, halves) of a year, and which of
    the year's periods (or its ``during``'s) the data covered: a part-year sum is never shown as the year's."""

    name: str
    unit: str
    entity: str | None
    year: Period
    value: object  # Fraction, or the merged Missing of any missing part
    coverage: Coverage


_TOTALLED = ("money", "count")


def year_totals(results: Results, *, only: Callable[[str, str | None], bool] | None = None,
                of: Results | None = None) -> list[YearTotal]:
    """The year total of every money and count definition worked out by month, quarter or half, for each
    organisation, in the order of :func:`result_sheets`' columns; ``of`` a scenario's results, the
    scenario's totals over the same organisations and periods."""
    program, plan = results.program, results.plan
    totals = []
    for name in scheme_order(program, [n for n, d in program.declarations.items() if isinstance(d, s.DefineDecl)
                                       and d.type in _TOTALLED and d.granularity in ("month", "quarter", "half")]):
        decl = program.declarations[name]
        groups: dict[tuple, list[Period]] = {}
        for entity, period in results.scope.get(name, ()):
            if only is None or only(name, entity):
                groups.setdefault((entity, period.within("year")), []).append(period)
        for (entity, year), periods in groups.items():
            values = [(of or results).get(name, entity, p) for p in periods]
            missing = merge_missing(*values)
            expected = [p for p in year.parts(decl.granularity) if plan.applies(name, p)]
            totals.append(YearTotal(name, decl.type, entity, year, missing if missing is not None else sum(values, Fraction(0)),
                                    coverage(periods, expected)))
    return totals


def system_totals(results: Results, totals: list[YearTotal]) -> list[YearTotal]:
    """Each system's year totals: the exact sum of its trusts' and CCGs' :class:`YearTotal` s (missing when
    any is, never counted as zero), covering only the periods every member's total covers; in the
    order of the outputs, then the systems as the data lists them."""
    organisations = results.dataset.organisations
    groups: dict[tuple, list[YearTotal]] = {}
    for total in totals:
        system = organisations[total.entity].system if total.entity is not None else None
        if system is not None:
            groups.setdefault((total.name, system, total.year), []).append(total)
    order = {code: k for k, code in enumerate(organisations)}
    names = list(dict.fromkeys(t.name for t in totals))
    found = []
    for (name, system, year), members in sorted(groups.items(), key=lambda x: (names.index(x[0][0]), order[x[0][1]],
                                                                               x[0][2].sort_key())):
        present = set.intersection(*(set(m.coverage.present) for m in members))
        found.append(YearTotal(name, members[0].unit, system, year, total_of([m.value for m in members]).figure,
                               coverage(present, members[0].coverage.expected)))
    return found


def less(after, before):
    """A scenario's total less the baseline's: missing when either is."""
    if isinstance(after, Missing) or isinstance(before, Missing):
        return after if isinstance(after, Missing) else before
    return after - before
