"""Reconciling someone else's figures with a run: which differ, where the derivations part, and what would explain it.

Expected figures come as CSV (columns ``name, entity, period, value``), as JSON (a list of such
records, or ``{"results": {name: {entity: {period: value}}}}`` as ``planlang run --json`` prints), each
value as its author wrote it (``£6,828,571``, ``£ -`` for nil, ``142857.14``). A figure agrees when our
value, rounded to the precision theirs is written to, equals it (as ``expect`` in a test does).

For each figure that differs, :func:`reconcile` gives both values and the difference, then walks the
figure's explanation (:func:`planlang.explanation.explain`, its public tree) from the top, operand by
operand, nearest first: the first operand whose value, changed alone, reproduces their figure is
where the derivations part; the first input or parameter that does is the single value that would
reproduce it, both found by exact goal seek (:func:`planlang.solve.solve`). The register
(:mod:`.register`) says which differences are expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import deque
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import attrs

from .. import syntax as s
from ..data.convert import PercentCell
from ..data.excel import _blank, _cell, _get, _text, read_workbook, sheet_rows
from ..data.mapping import read_mapped_figures
from ..diagnostics import InputError
from ..explanation import explain
from ..files import read_bytes
from ..periods import Period, PeriodError, period_in_year
from ..run import ExactRun, Results
from ..scenario import BASELINE, Scenario, Setting
from ..solve import REACHED, UNITS, Goal, solve
from ..source import Span
from ..values import AmountError, decimal_places, parse_amount, round_to
from .register import Difference, Register

__all__ = ["Figure", "Operand", "Mismatch", "Reconciliation", "read_figures", "reconcile"]

_MAX_BYTES = 64 * 1024 * 1024
_NIL = {"-", "£-", "£ -", "nil", "—", "£—"}
_SPAN = Span("--expected", 1, 1, 1, 1)
_SOLVES = 12  # goal seeks tried per differing figure: the nearest operands are the likely ones


@attrs.frozen
class Figure:
    name: str
    entity: str | None
    period: Period | None
    value: Fraction | bool
    text: str
    where: str


@attrs.frozen
class Operand:
    """A named value of the derivation, and the value it would need for their figure."""

    kind: str  # definition, input or parameter
    name: str
    entity: str | None
    period: Period | None
    type: str
    ours: object
    needed: Fraction


@attrs.frozen
class Mismatch:
    figure: Figure
    ours: object
    type: str
    parts: Operand | None  # the first operand that would have to change
    lever: Operand | None  # the single input or parameter value that reproduces their figure
    entry: Difference | None  # the register's explanation, if it has one

    @property
    def difference(self) -> Fraction | None:
        """Their figure less ours."""
        if isinstance(self.ours, Fraction) and isinstance(self.figure.value, Fraction):
            return self.figure.value - self.ours
        return None

    @property
    def explained(self) -> bool:
        return self.entry is not None


@attrs.frozen
class Reconciliation:
    figures: int
    mismatches: tuple[Mismatch, ...]
    stale: tuple[Difference, ...]  # register entries for figures that now agree

    @property
    def new(self) -> tuple[Mismatch, ...]:
        return tuple(m for m in self.mismatches if not m.explained)

    @property
    def explained(self) -> tuple[Mismatch, ...]:
        return tuple(m for m in self.mismatches if m.explained)


# ---- reading the figures -----------------------------------------------------------------------

def read_figures(path: str, plan, dataset, mapping: str | None = None, program=None) -> list[Figure]:
    """The figures of a CSV, JSON or .xlsx file (or a workbook read through ``mapping``, as ``--map`` reads data),
    each checked against the plan and the data."""
    suffix = Path(path).suffix.lower()
    if mapping is not None:
        cells = read_mapped_figures(path, mapping, program, dataset.organisations.values(), _MAX_BYTES)
        return [_figure({"name": name, "entity": code, "period": str(period) if period else None,
                         "value": _scaled(_xlsx_value(raw), factor, where)}, where, plan, dataset)
                for name, code, period, raw, factor, where in cells]
    if suffix == ".xlsx":
        rows = read_workbook(Path(path), path, _MAX_BYTES, lambda book, formulas: list(_xlsx_rows(book, formulas, path)))
        return [_figure(row, where, plan, dataset) for row, where in rows]
    data = read_bytes(Path(path), path, _MAX_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text ({error.reason} at byte {error.start})", path) from None
    if suffix == ".csv":
        rows = _csv_rows(text, path)
    elif suffix == ".json":
        rows = _json_rows(text, path, plan)
    else:
        raise InputError("is not a .csv, .json or .xlsx file of figures", path,
                         "give the figures as CSV, JSON or an Excel workbook")
    # a cell without a value (null or empty, as `run --json` writes a missing one) is no figure to compare
    return [_figure(row, where, plan, dataset) for row, where in rows if row.get("value") not in (None, "")]


def _csv_rows(text: str, path: str) -> Iterable[tuple[dict, str]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower() for c in reader.fieldnames or ()}
    if not {"name", "value"} <= columns:
        raise InputError("has no `name` and `value` columns", path, "the columns are name, entity, period, value")
    for number, row in enumerate(reader, start=2):
        yield {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}, f"{path}:{number}"


def _xlsx_rows(book, formulas, path: str) -> Iterable[tuple[dict, str]]:
    """The rows of the sheet ``figures`` (or the first sheet) under its heading row name, entity, period, value."""
    title = "figures" if "figures" in book.sheetnames else book.sheetnames[0]
    rows = sheet_rows(book[title], path, formulas.get(title, {}))
    heading = {_text(cell).lower(): index for index, cell in enumerate(rows.get(1, ())) if not _blank(cell)}
    if not {"name", "value"} <= heading.keys():
        raise InputError(f"the sheet {title!r} has no `name` and `value` columns in its first row", path,
                         "the columns are name, entity, period, value")
    for number, cells in rows.items():
        if number == 1 or _blank(_get(cells, heading["value"])):
            continue  # a cell without a value is no figure to compare
        row = {key: _xlsx_value(_get(cells, index)) for key, index in heading.items()}
        yield row, f"{path}: {_cell(title, heading['value'], number)}"


def _xlsx_value(cell):
    """A cell as _figure reads it: a date as its month, a number as written (a whole float without .0)."""
    if isinstance(cell, (dt.date, dt.datetime)):
        return f"{cell.year:04d}-{cell.month:02d}"
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, PercentCell):  # 70% in Excel is the ratio 0.7
        return cell.value
    return cell


def _scaled(value, factor: Fraction, where: str):
    """A figure read at a scale (£000s) or sign as the text of its value in pounds, to the precision it was written to."""
    if factor == 1 or isinstance(value, bool):
        return value
    text = repr(value) if isinstance(value, float) else str(value)
    if text.strip() in _NIL:
        return text
    try:
        amount = parse_amount(text) * factor
    except AmountError as error:
        raise InputError(str(error), where) from None
    places, size = decimal_places(text), abs(factor)
    while size % 10 == 0 and size > 1:
        places, size = max(places - 1, 0), size / 10
    while size < 1 and (size * 10).denominator < size.denominator:
        places, size = places + 1, size * 10
    rounded = round_to(amount, Fraction(1, 10 ** places), "half_up")
    whole, part = divmod(abs(rounded) * 10 ** places, 10 ** places)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{whole}" + (f".{int(part):0{places}d}" if places else "")


def _json_rows(text: str, path: str, plan) -> Iterable[tuple[dict, str]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"is not JSON ({error.msg} at line {error.lineno})", path) from None
    if isinstance(document, dict) and "results" in document:
        document = document["results"]
    if isinstance(document, list):
        for index, row in enumerate(document):
            if not isinstance(row, dict):
                raise InputError("each figure is an object with name, entity, period and value", f"{path}: [{index}]")
            yield row, f"{path}: [{index}]"
        return
    if not isinstance(document, dict):
        raise InputError("holds no figures: expected a list of figures or an object of results", path)
    for name, cells in document.items():
        decl = plan.declarations.get(name)
        if not isinstance(cells, dict):
            yield {"name": name, "value": cells}, f"{path}: {name}"
            continue
        for key, inner in cells.items():
            if isinstance(inner, dict):
                for period, value in inner.items():
                    yield {"name": name, "entity": key, "period": period, "value": value}, f"{path}: {name}.{key}.{period}"
            elif getattr(decl, "kinds", ()):
                yield {"name": name, "entity": key, "value": inner}, f"{path}: {name}.{key}"
            else:
                yield {"name": name, "period": key, "value": inner}, f"{path}: {name}.{key}"


def _figure(row: dict, where: str, plan, dataset) -> Figure:
    name = str(row.get("name") or "")
    decl = plan.declarations.get(name)
    if not isinstance(decl, (s.DefineDecl, s.FlagDecl, s.InputDecl)):
        raise InputError(f"`{name}` is not a definition, flag or input of the pack", where)
    entity = row.get("entity") or None
    if entity is not None:
        entity = dataset.known(str(entity), where)
    period = row.get("period") or None
    if period is not None:
        try:
            period = period_in_year(str(period), plan.year, where)
        except PeriodError as error:
            raise InputError(str(error), where) from None
    value = row.get("value")
    text = "" if value is None else str(value)
    if isinstance(value, bool):
        parsed = value
    elif text.strip().lower() in {"true", "false"}:
        parsed = text.strip().lower() == "true"
    elif text.strip() in _NIL:
        parsed = Fraction(0)
    else:
        try:
            parsed = parse_amount(text if not isinstance(value, float) else repr(value))
        except AmountError as error:
            raise InputError(str(error), where) from None
    return Figure(name, entity, period, parsed, text, where)


# ---- reconciling ---------------------------------------------------------------------------------

def _agrees(theirs, ours, text: str) -> bool:
    if isinstance(theirs, Fraction) and isinstance(ours, Fraction):
        return round_to(ours, Fraction(1, 10 ** decimal_places(text)), "half_up") == theirs
    return theirs == ours


def reconcile(results: Results, figures: Iterable[Figure], register: Register) -> Reconciliation:
    """Every figure of ``figures`` against ``results``; the register's entries matched to the differences."""
    figures = list(figures)
    mismatches = []
    for figure in figures:
        ours = results.get(figure.name, figure.entity, figure.period)
        if _agrees(figure.value, ours, figure.text):
            continue
        decl = results.plan.declarations[figure.name]
        type_ = "bool" if isinstance(decl, s.FlagDecl) else decl.type
        parts = lever = None
        if isinstance(ours, Fraction) and isinstance(figure.value, Fraction) and type_ in UNITS:
            parts, lever = _where_they_part(results, figure)
        entry = register.difference(figure.name, figure.entity, None if figure.period is None else str(figure.period))
        mismatches.append(Mismatch(figure, ours, type_, parts, lever, entry))
    differing = {(m.figure.name, m.figure.entity, m.figure.period) for m in mismatches}
    given = {(f.name, f.entity, None if f.period is None else str(f.period)) for f in figures}
    stale = tuple(d for d in register.differences if (d.name, d.entity, d.period) in given
                  and not any((name, entity, str(period) if period else None) == (d.name, d.entity, d.period)
                              for name, entity, period in differing))
    return Reconciliation(len(figures), tuple(mismatches), stale)


def _where_they_part(results: Results, figure: Figure) -> tuple[Operand | None, Operand | None]:
    """(the first operand that would have to change, the first input or parameter that reproduces their figure)."""
    root = explain(results, figure.name, figure.entity, figure.period)
    goal = Goal(figure.name, figure.entity, figure.period, figure.value)
    parts = lever = None
    tries = 0
    for node in _operands(root):
        if tries >= _SOLVES or (parts is not None and lever is not None):
            break
        if node.kind not in ("definition", "input", "parameter") or node.type not in UNITS:
            continue
        if parts is not None and node.kind == "definition":
            continue
        tries += 1
        operand = _solved(results, node, goal, figure.text)
        if operand is None:
            continue
        if parts is None:
            parts = operand
        if node.kind != "definition":
            lever = operand
    return parts, lever


def _operands(root):
    """The named values under ``root``, nearest first, each once."""
    seen, queue = set(), deque(root.children)
    while queue:
        node = queue.popleft()
        key = (node.kind, node.label, node.entity, node.period)
        if key in seen:
            continue
        seen.add(key)
        yield node
        queue.extend(node.children)


def _solved(results: Results, node, goal: Goal, text: str) -> Operand | None:
    entity = node.entity if node.kind != "parameter" else None
    periods = (node.period,) if node.period is not None else None
    # their figure is rounded: aim at it, then at each end of the amounts that round to it
    step = Fraction(1, 10 ** decimal_places(text))
    for target in (goal.value, goal.value - step / 2, goal.value + step * 499 / 1000):
        solution = solve(results, BASELINE, node.label, entity, periods, node.type, attrs.evolve(goal, value=target))
        if solution.outcome == REACHED and solution.value is not None and _agrees(goal.value, solution.achieved, text):
            needed = _nearest(results, node.label, entity, periods, node.type, goal, text, solution.value, node.value)
            return Operand(node.kind, node.label, entity, node.period, node.type, node.value, needed)
    return None


def _nearest(results: Results, name, entity, periods, type_, goal: Goal, text: str, found: Fraction, ours) -> Fraction:
    """The value on the unit grid nearest ``ours`` that still reproduces their figure, between ``found`` and ``ours``
    (a flat stretch, such as every amount below a threshold, is reached first at its far end)."""
    if not isinstance(ours, Fraction):
        return found
    unit = UNITS[type_]

    def agrees(x: Fraction) -> bool:
        literal = s.Literal(span=_SPAN, value=x, text=str(x), type=type_)
        trial = Scenario("reconcile", (Setting(_SPAN, name, literal, entity, periods),))
        return _agrees(goal.value, ExactRun(results.plan, results.dataset, trial, results.run).value(
            goal.name, goal.entity, goal.period), text)

    near, far = found, Fraction(round(ours / unit)) * unit
    if agrees(far):
        return far
    while abs(far - near) > unit:  # near agrees, far does not
        middle = Fraction(round((near + far) / 2 / unit)) * unit
        if middle in (near, far):
            break
        if agrees(middle):
            near = middle
        else:
            far = middle
    return near
