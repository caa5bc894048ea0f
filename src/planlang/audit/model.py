"""The pack compiled to a live Excel model (``planlang export --excel-model``): every figure a formula.

Built from the lowered plan (:mod:`planlang.run.lower`), cell by cell, for one run's organisations
and periods:

    Inputs          one cell per input value a formula reads: the data's value, the declared default
                    (noted as assumed) or ``=NA()`` where the data gives none (missing is never zero)
    Parameters      one cell per parameter and period in force: change one and every figure recomputes
    Model           one row per definition and flag for each organisation and period, its value a formula
                    over the cells above (bands as MIN/MAX, tapers, IF, sums over members), flags
                    highlighted by conditional formatting; each formula cell's note gives the rule,
                    its citations and interpretations
    Not expressed   construct by construct, what Excel cannot express, and where planlang's own value
                    was written instead (noted on the cell); never approximated silently

A missing value is an Excel error (``#N/A``, or ``#DIV/0!`` for a division by zero): like planlang's
missing it spreads through arithmetic and ``IF`` is lazy; ``and``/``or`` keep planlang's rule (a
decisive operand wins over a missing one). A part of a formula that reads no input or parameter
(``working_days(period)``, a period's length) is worked out by planlang and written as its exact
value, a fraction where it does not terminate (``(19/21)``); that cannot change when an analyst
edits a cell, and each is listed.
"""

from __future__ import annotations

import datetime as dt
import os
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill

from .. import syntax as s
from ..files import write_workbook_atomically
from ..periods import Period
from ..run import ir
from ..run.lower import lowered
from ..values import Missing, exact_decimal, terminates
from .layout import rule_formula, unit_of
from .workbook import NUMBER_FORMATS
from .workbook import note as _note
from .workbook import put as _put
from .workbook import storable as _storable

__all__ = ["write_model", "MODEL_SHEETS"]

MODEL_SHEETS = ("Model", "Inputs", "Parameters", "Not expressed")
_HEADER_FONT = Font(bold=True)
_INPUT_FILL = PatternFill("solid", fgColor="FFFF99")  # yellow: a cell to change
_FORMULA_FILL = PatternFill("solid", fgColor="DDEBF7")  # blue: a cell that calculates
_STATIC_FILL = PatternFill("solid", fgColor="EDEDED")  # grey: planlang's value, not a formula
_FLAG_FILL = {"error": PatternFill("solid", bgColor="F4C7C3"), "warning": PatternFill("solid", bgColor="FCE8B2"),
              "info": PatternFill("solid", bgColor="C9DAF8")}
_MAX_FORMULA = 8000  # Excel's limit is 8,192 characters


class _NotExpressed(Exception):
    """A construct the Excel model cannot express: the cell keeps planlang's value."""

    def __init__(self, construct: str, why: str):
        super().__init__(construct)
        self.construct, self.why = construct, why


def write_model(path: str | os.PathLike, results) -> dict[str, int]:
    """Write the live model of a run (an exact run: :func:`planlang.run.run` with ``backend="exact"``) atomically.

    Returns how many cells are formulas, values planlang wrote, inputs and parameters.
    """
    model = _Model(results)
    model.build()
    write_workbook_atomically(path, model.book)
    return model.counts()


class _Model:
    def __init__(self, results):
        self.results, self.run = results, results.run
        self.program = results.program
        self.organisations = results.dataset.organisations
        self.lowered = lowered(results.plan)
        self.scenario_names = set(results.scenario.names) if results.scenario.settings else set()
        self.book = Workbook()
        self.sheets = {}
        headings = {"Model": ["name", "code", "period", "value", "unit", "how"],
                    "Inputs": ["input", "code", "period", "value", "unit", "from"],
                    "Parameters": ["parameter", "period", "value", "unit", "description"],
                    "Not expressed": ["construct", "where", "cell", "why"]}
        self.book.active.title = "Model"
        for title in MODEL_SHEETS:
            sheet = self.book["Model"] if title == "Model" else self.book.create_sheet(title)
            for column, text in enumerate(headings[title], 1):
                _put(sheet, 1, column, text).font = _HEADER_FONT
            sheet.freeze_panes = "A2"
            self.sheets[title] = sheet
        self.address: dict[tuple, str] = {}
        self.static = 0
        self.formulas = 0
        self._folded: set[str] = set()

    def counts(self) -> dict[str, int]:
        return {"formulas": self.formulas, "values": self.static, "inputs": self.sheets["Inputs"].max_row - 1,
                "parameters": self.sheets["Parameters"].max_row - 1}

    def build(self) -> None:
        for name, keys in self.results.scope.items():
            if isinstance(self.program.declarations[name], (s.DefineDecl, s.FlagDecl, s.DeadlineDecl)):
                for entity, period in keys:
                    self.value_cell(name, entity, period)
        sheet = self.sheets["Not expressed"]
        for text in sorted(self._folded):
            row = sheet.max_row + 1
            for column, value in enumerate((f"worked out by planlang: {text}", "wherever it is used", None,
                                            "it reads no input or parameter (a constant of the period, such as its working "
                                            "days), so it is written as its exact value and no edit can change it"), 1):
                _put(sheet, row, column, value)
        for title, widths in (("Model", (38, 14, 12, 20, 9, 40)), ("Inputs", (38, 14, 12, 20, 9, 50)),
                              ("Parameters", (38, 12, 16, 9, 60)), ("Not expressed", (30, 40, 28, 80))):
            for column, width in enumerate(widths):
                self.sheets[title].column_dimensions[chr(ord("A") + column)].width = width

    # ---- cells ----
    def _row(self, title: str, key: tuple, values: list) -> int:
        sheet = self.sheets[title]
        row = sheet.max_row + 1
        for column, value in enumerate(values, 1):
            _put(sheet, row, column, value)
        value_column = {"Model": "D", "Inputs": "D", "Parameters": "C"}[title]
        self.address[key] = f"'{title}'!${value_column}${row}" if " " in title else f"{title}!${value_column}${row}"
        return row

    def input_cell(self, name: str, entity: str | None, period: Period | None) -> str:
        key = ("input", name, entity, period)
        if key in self.address:
            return self.address[key]
        decl = self.program.declarations[name]
        value = self.run.input(name, entity, period)
        origin = self.run.input_origin(name, entity, period)
        if "origin" in origin:
            said = origin["origin"]
        elif "setting" in origin:
            said = f"the scenario: {origin['setting'].text}"
        elif origin.get("assumed"):
            said = "the declared default (the data gives no value): assumed"
        else:
            said = "the data gives no value: missing, never zero (type a value to fill it)"
        row = self._row("Inputs", key, [name, entity, period.label if period else None, None, unit_of(decl), said])
        self._value(self.sheets["Inputs"].cell(row=row, column=4), value, unit_of(decl)).fill = _INPUT_FILL
        return self.address[key]

    def parameter_cell(self, name: str, period: Period | None) -> str:
        key = ("parameter", name, period)
        if key in self.address:
            return self.address[key]
        decl = self.program.declarations[name]
        value = self.run.parameter(name, period)
        row = self._row("Parameters", key, [name, period.label if period else None, None, unit_of(decl), decl.description])
        cell = self._value(self.sheets["Parameters"].cell(row=row, column=3), value, unit_of(decl))
        cell.fill = _INPUT_FILL
        cell.comment = _note("\n".join([decl.description or name, *(str(c) for c in decl.citations)]))
        return self.address[key]

    def value_cell(self, name: str, entity: str | None, period: Period | None) -> str:
        key = ("value", name, entity, period)
        if key in self.address:
            return self.address[key]
        decl = self.program.declarations[name]
        unit = unit_of(decl)
        row = self._row("Model", key, [name, entity, period.label if period else None, None, unit, None])
        sheet = self.sheets["Model"]
        cell = sheet.cell(row=row, column=4)
        how = sheet.cell(row=row, column=6)
        try:
            formula = self.cell_formula(name, decl, entity, period)
        except _NotExpressed as why:
            self._value(cell, self.run.value(name, entity, period), unit).fill = _STATIC_FILL
            _put(sheet, row, 6, f"planlang's value: {why.construct} is not expressed in Excel")
            self._not_expressed(why, name, entity, period, self.address[key])
            self.static += 1
        else:
            cell.value = formula
            cell.fill = _FORMULA_FILL
            if unit in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[unit]
            how.value = "formula"
            self.formulas += 1
        cell.comment = _note(_rule_note(decl, rule_formula(decl)))
        if isinstance(decl, s.FlagDecl):
            sheet.conditional_formatting.add(f"D{row}", CellIsRule(operator="equal", formula=["TRUE"],
                                                                   fill=_FLAG_FILL.get(decl.severity, _FLAG_FILL["info"])))
        return self.address[key]

    def cell_formula(self, name: str, decl, entity, period) -> str:
        if name in self.scenario_names:
            raise _NotExpressed("a scenario's setting", "the scenario replaces this value; the model holds the plan's formulas")
        if not self.results.plan.applies(name, period):
            return "=NA()"  # outside its `during`: no value, as in planlang
        if isinstance(decl, s.DeadlineDecl):
            raise _NotExpressed("a deadline", "deadlines count working days over England's bank holidays")
        text = "=" + self.formula(self.lowered.formulas[name], entity, period)
        if len(text) > _MAX_FORMULA:
            raise _NotExpressed("a very long formula", f"the formula would be {len(text):,} characters, "
                                                       f"beyond Excel's 8,192")
        return text

    def _value(self, cell, value, unit: str):
        if type(value) is Missing:
            cell.value = "=NA()"
            return cell
        if isinstance(value, Fraction) and not terminates(value):
            cell.value = f"={value.numerator}/{value.denominator}"
            if unit in NUMBER_FORMATS:
                cell.number_format = NUMBER_FORMATS[unit]
            return cell
        written = _put(cell.parent, cell.row, cell.column, value, None if unit == "money" else unit)
        if isinstance(value, Fraction):
            from decimal import Decimal

            written.value = Decimal(exact_decimal(value))  # exact, not rounded to the penny: the model computes with it
            if unit in NUMBER_FORMATS:
                written.number_format = NUMBER_FORMATS[unit]
        return written

    def _not_expressed(self, why: _NotExpressed, name: str, entity, period, address: str) -> None:
        sheet = self.sheets["Not expressed"]
        row = sheet.max_row + 1
        where = f"{name} for {entity} in {period}" if entity else f"{name} in {period}" if period else name
        for column, text in enumerate((why.construct, where, address, why.why), 1):
            _put(sheet, row, column, text)

    # ---- expressions ----
    def formula(self, node: ir.Node, entity, period) -> str:
        if not node.reads and not isinstance(node, ir.Literal):
            return self._constant(node, entity, period)
        method = getattr(self, f"_{type(node).__name__.lower()}", None)
        if method is None:
            raise _NotExpressed(type(node).__name__, "no Excel form")
        return method(node, entity, period)

    def _constant(self, node: ir.Node, entity, period) -> str:
        value = self.run.evaluate(node.source, entity, period)
        if not isinstance(node, ir.Period) and type(value) is not Missing:
            text = self.program.text_of(node.source.span)
            self._folded.add(text)
        return _literal(value, node)

    def _literal(self, node: ir.Literal, entity, period) -> str:
        return _literal(node.value, node)

    def _ref(self, node: ir.Ref, entity, period) -> str:
        if node.kind is s.ParameterDecl:
            return self.parameter_cell(node.name, period)
        cell_entity, cell_period = node.alignment.cell(entity, period, self.organisations)
        if node.kind is s.InputDecl:
            return self.input_cell(node.name, cell_entity, cell_period)
        return self.value_cell(node.name, cell_entity, cell_period)

    def _apply(self, node: ir.Apply, entity, period) -> str:
        args = [self.formula(a, entity, period) for a in node.args]
        name = node.operation.name
        if name in _INFIX:
            return f"({args[0]}{_INFIX[name]}{args[1]})"
        if name in _COMPARE:
            if node.source.left.type == "text" and name in ("eq", "ne"):  # Excel's = ignores case; planlang's does not
                return f"EXACT({args[0]},{args[1]})" if name == "eq" else f"NOT(EXACT({args[0]},{args[1]}))"
            return f"({args[0]}{_COMPARE[name]}{args[1]})"
        if name == "negate":
            return f"(-{args[0]})"
        if name == "not":
            return f"NOT({args[0]})"
        if name in ("min", "max", "abs"):
            return f"{name.upper()}({','.join(args)})"
        if name == "variance":
            return f"(({args[0]}-{args[1]})/{args[1]})"
        if name == "round":
            mode = node.source.args[2].value.name
            function = {"half_up": "ROUND", "away_from_zero": "ROUNDUP", "toward_zero": "ROUNDDOWN"}.get(mode)
            if function is None:
                raise _NotExpressed(f"round(..., {mode})", "Excel has no rounding to a step in this mode")
            return f"({function}({args[0]}/{args[1]},0)*{args[1]})"
        raise _NotExpressed(f"{name}(...)", "no Excel function works it out as planlang does")

    def _call(self, node: ir.Call, entity, period) -> str:
        if node.operation.name == "present":
            return f"NOT(ISERROR({self.formula(node.args[0], entity, period)}))"
        raise _NotExpressed(f"{node.operation.name}(...)", "no Excel form")

    def _errorflags(self, node: ir.ErrorFlags, entity, period) -> str:
        kind = self.organisations[entity].kind
        cells = [self.value_cell(name, entity, p) for name, kinds in node.flags if kind in kinds
                 for p in self.run.flag_periods(name, period)]
        return _kleene("MAX", cells) if cells else "FALSE"

    def _logical(self, node: ir.Logical, entity, period) -> str:
        a, b = self.formula(node.left, entity, period), self.formula(node.right, entity, period)
        return _and(a, b) if node.operation.name == "and" else _or(a, b)

    def _if(self, node: ir.If, entity, period) -> str:
        return (f"IF({self.formula(node.condition, entity, period)},{self.formula(node.then, entity, period)},"
                f"{self.formula(node.otherwise, entity, period)})")

    def _within(self, node: ir.Within, entity, period) -> str:
        v, t, r = (self.formula(x, entity, period) for x in (node.value, node.tolerance, node.reference))
        limit = f"{t}*ABS({r})" if node.relative else t
        return f"(ABS({v}-{r})<={limit})"

    def _bands(self, node: ir.Bands, entity, period) -> str:
        amount = self.formula(node.amount, entity, period)
        uppers = [self.formula(u, entity, period) for u in node.uppers]
        rates = [self.formula(r, entity, period) for r in node.rates]
        top = self.formula(node.top, entity, period)
        parts = []
        for k, (upper, rate) in enumerate(zip(uppers, rates)):
            lower = f"MIN(0,{upper})" if k == 0 else uppers[k - 1]
            parts.append(f"MAX(0,MIN({amount},{upper})-{lower})*{rate}")
        parts.append(f"MAX(0,{amount}-{uppers[-1]})*{top}" if uppers else f"MAX(0,{amount})*{top}")
        total = "(" + "+".join(parts) + ")"
        # thresholds that fall make the payment missing in planlang; so here
        falling = [f"{uppers[k]}<{uppers[k - 1]}" for k in range(1, len(uppers))]
        return f"IF(OR({','.join(falling)}),NA(),{total})" if falling else total

    def _taper(self, node: ir.Taper, entity, period) -> str:
        base, shortfall, rate = (self.formula(x, entity, period) for x in (node.base, node.shortfall, node.rate))
        value = f"({base}-{rate}*MAX(0,{shortfall}))"
        if node.floor is not None:
            value = f"MAX({value},{self.formula(node.floor, entity, period)})"
        if node.cap is not None:
            value = f"MIN({value},{self.formula(node.cap, entity, period)})"
        return value

    def _aggregate(self, node: ir.Aggregate, entity, period) -> str:
        if node.over == "members":
            kinds = set(node.member_kinds)
            frames = [(m, period) for m in self.results.dataset.members(entity) if self.organisations[m].kind in kinds]
        else:
            frames = [(entity, p) for p in period.parts({"months": "month", "quarters": "quarter"}[node.over])]
        values = [self.formula(node.inner, e, p) for e, p in frames]
        name = node.builtin.name
        if not values:
            return "NA()"  # over no members at all: missing, never zero
        if name in ("sum", "min", "max"):
            return f"{name.upper()}({','.join(values)})"
        if name == "count":
            return "SUM(" + ",".join(f"IF({v},1,0)" for v in values) + ")"
        return _kleene("MIN" if name == "all" else "MAX", values)


_INFIX = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}
_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "=", "ne": "<>"}


def _truth(a: str) -> str:
    """A condition as 1 (true), 0 (false) or 0.5 (missing: an error), naming it once so that nesting stays linear."""
    return f"IFERROR(IF({a},1,0),0.5)"


def _kleene(pick: str, values: list[str]) -> str:
    """planlang's ``and`` (MIN) or ``or`` (MAX) over conditions: a decisive operand wins over a missing one."""
    return f"CHOOSE({pick}({','.join(map(_truth, values))})*2+1,FALSE,NA(),TRUE)"


def _and(a: str, b: str) -> str:
    return _kleene("MIN", [a, b])


def _or(a: str, b: str) -> str:
    return _kleene("MAX", [a, b])


def _literal(value, node: ir.Node) -> str:
    if type(value) is Missing:
        return "NA()"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return f"({value.numerator})" if value < 0 else str(value.numerator)
        if terminates(value):
            text = exact_decimal(value)
            return f"({text})" if value < 0 else text
        return f"({value.numerator}/{value.denominator})"
    if isinstance(value, dt.date):
        return f"DATE({value.year},{value.month},{value.day})"
    if isinstance(value, str):
        text = _storable(value)
        if len(text) > 255:
            raise _NotExpressed("a text longer than 255 characters", "Excel's formulas hold text of at most 255")
        return '"' + text.replace('"', '""') + '"'
    raise _NotExpressed(f"a value of {type(value).__name__}", "no Excel value holds it")


def _rule_note(decl, formula: str) -> str:
    lines = [f"{decl.name}: {decl.description}" if decl.description else decl.name]
    if formula:
        lines.append(f"= {formula}" if not isinstance(decl, s.FlagDecl) else f"raised when {formula}")
    lines += [f"cites {c.source} {c.section}" + (f' "{c.quote}"' if c.quote else "") for c in decl.citations]
    lines += [f"Interpretation: {text}" for text in decl.interpretations]
    return "\n".join(lines)
