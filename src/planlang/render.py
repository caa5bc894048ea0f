"""Renderers: results and explanations as text for people and JSON for programs.

Money is shown to the penny; this rounding is for display only and never feeds a calculation.
"""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction
from typing import Any

import attrs

from . import syntax as s
from .assumptions import assumed_defaults as summarise_defaults
from .coverage import coverage_json
from .explanation import TraceNode, explain
from .periods import Period
from .printer import GRANULARITY_WORDS, format_amendments, format_expr, format_value_clause
from .run import FlagResult, LateSubmission, Results
from .solve import UNREACHABLE
from .source import printable
from .values import Missing, decimal_text, format_money, format_percent, kinds_text, money_text

__all__ = ["format_value", "json_value", "run_json", "run_text", "flag_message", "explanation_text", "explanation_json",
           "assumed_defaults", "detail_lines", "citation_text", "named_operands", "NAMED_KINDS",
           "difference_text", "Selection", "head_text", "MissingRule", "missing_parts"]


def format_value(value, type_: str | None) -> str:
    """A value for people: £1,234.50, 70%, 0.9047619048 (a ratio or a number), true, 2021-06-03."""
    if isinstance(value, Missing):
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        if type_ == "money":
            return format_money(value)
        if type_ == "percent":
            return format_percent(value)
        # a ratio is shown once, as a decimal: a figure wanted as a percentage is declared `percent`
        return decimal_text(value)
    if isinstance(value, (dt.date, Period)):
        return str(value)
    if isinstance(value, str):
        return f'"{printable(value)}"'  # one line, whatever the data held
    return str(value)


def json_value(value, type_: str | None):
    """A value for JSON: money a string of pounds to the penny, other numbers decimal strings, missing null."""
    # isinstance is quick for a value of the class itself; for any other, Fraction's abstract base
    # class makes it slow, so missing values (most cells of a large pack on little data) go first
    if type(value) is Missing or value is None:
        return None
    if isinstance(value, Fraction):
        return money_text(value) if type_ == "money" else decimal_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (dt.date, Period)):
        return str(value)
    return value


def _type_of(decl: s.Decl) -> str | None:
    if isinstance(decl, s.FlagDecl):
        return "bool"
    if isinstance(decl, s.DeadlineDecl):
        return "date"
    return getattr(decl, "type", None)


def flag_message(results: Results, flag: FlagResult) -> str:
    """The flag's ``says`` text with ``{name}``, ``{entity}`` and ``{period}`` filled in."""
    decl = results.program.declarations[flag.name]

    def fill(match: re.Match) -> str:
        name = match[1].strip()
        if name == "entity":
            return flag.entity
        if name == "period":
            return str(flag.period)
        target = results.program.declarations[name]
        period = flag.period
        granularity = getattr(target, "granularity", None)
        if granularity and period is not None and period.kind != granularity:
            period = period.within(granularity)
        entity = flag.entity if getattr(target, "kinds", ()) else None
        return format_value(results.get(name, entity, period if granularity or isinstance(target, s.ParameterDecl) else None),
                            _type_of(target))

    return re.sub(r"\{([^{}]*)\}", fill, decl.message)


def late_message(results: Results, late: LateSubmission) -> str:
    decl = results.program.declarations[late.milestone]
    what = f" ({decl.description})" if decl.description else ""
    days = f"{late.working_days_late} working day{'s' * (late.working_days_late != 1)}"
    return (f"{late.entity} submitted {late.milestone}{what} on {late.submitted}, {days} after the deadline of "
            f"{late.deadline}")


def _label(period) -> str:
    return str(period) if period is not None else "-"


def assumed_defaults(results: Results) -> list[dict]:
    """:func:`planlang.assumptions.assumed_defaults` as ``run`` prints it: each input declared with a
    default, the default, and how many of the entity-periods the run covers assumed it."""
    return [{"input": d.input, "default": d.default, "assumed": d.assumed, "of": d.of} for d in summarise_defaults(results)]


@attrs.frozen
class Selection:
    """``run --only NAME... --entity CODE...``: the outputs and the organisations to show (None: all).

    Flags follow the organisations; missing values follow both (with --only, only the chosen
    outputs' missing values are listed).
    """

    names: frozenset[str] | None = None
    codes: frozenset[str] | None = None

    def __call__(self, name: str, entity: str | None) -> bool:
        return (self.names is None or name in self.names) and self.entity(entity)

    def entity(self, entity: str | None) -> bool:
        return self.codes is None or entity is None or entity in self.codes


_EVERYTHING = Selection()


@attrs.frozen
class _Sweep:
    """What a run shows, gathered in one pass over its cells: the tables of definitions
    (``{name: {entity or "*": {period label: shown value}}}``) and each one's type, the flags
    raised, and the missing values, each in evaluation order and within the selection."""

    tables: dict[str, dict]
    units: dict[str, str | None]
    fired: list[FlagResult]
    missing: list[tuple]


def _sweep(results: Results, only, show) -> _Sweep:
    """Every cell of the run read once, a name at a time (its declaration and type looked up once):
    a run of thousands of organisations formats every cell through here. The same selection as
    ``results.flags``, ``results.missing`` and ``results.outputs()`` filtered by ``only``."""
    program = results.program
    value_of = results.run.value
    out = _Sweep({}, {}, [], [])
    for name, keys in results.scope.items():
        decl = program.declarations[name]
        define, flag = isinstance(decl, s.DefineDecl), isinstance(decl, s.FlagDecl)
        named = only is None or only.names is None or name in only.names
        if not named and not flag:
            continue  # flags are shown whatever --only names; nothing else of it is
        type_ = _type_of(decl)
        rows: dict[str, dict] = {}
        row, last = None, _NO_ENTITY
        for entity, period in keys:
            if only is not None and not only.entity(entity):
                continue
            value = value_of(name, entity, period)
            if type(value) is Missing:
                if named:
                    out.missing.append((name, entity, period, value))
            elif flag and value is True:
                out.fired.append(FlagResult(name, decl.severity, entity, period, value))
            if define and named:
                if entity != last:
                    row, last = rows.setdefault(entity or "*", {}), entity
                row[_label(period)] = show(value, type_)
        if rows:
            out.tables[name], out.units[name] = rows, type_
    return out


_NO_ENTITY = object()


def named_operands(node: TraceNode) -> list[TraceNode]:
    """The named values (inputs, parameters, definitions) a step uses directly, through unnamed steps."""
    found: list[TraceNode] = []
    pending = list(reversed(node.children))
    while pending:
        child = pending.pop()
        if child.kind in NAMED_KINDS:
            if child not in found:
                found.append(child)
        else:
            pending += reversed(child.children)
    return found


def _citations_json(citations) -> list[dict]:
    return [{"source": c.source, "section": c.section, "quote": c.quote} for c in citations]


@attrs.frozen
class MissingRule:
    """A rule missing in every entity and period shown, because the data holds nothing it needs: no
    value at all of some inputs, or no organisation at all of the kinds it sums over."""

    name: str
    cells: int
    inputs: tuple[str, ...]
    member_kinds: tuple[str, ...]

    @property
    def because(self) -> str:
        parts = []
        if self.inputs:
            parts.append(f"the data has no value of {', '.join(self.inputs)}")
        if self.member_kinds:
            parts.append(f"the data has no {kinds_text(self.member_kinds)}")
        return "; ".join(parts)

    def as_json(self) -> dict:
        return {"output": self.name, "entity_periods": self.cells, "inputs": list(self.inputs),
                "member_kinds": list(self.member_kinds), "because": self.because}


def missing_parts(results: Results, cells: list, keep=None, all_missing: bool = False) -> tuple[list, list[MissingRule]]:
    """Of the missing ``cells`` shown (``results.missing`` within ``keep``), those to list one by one,
    and the rules missing everywhere for want of any data.

    A rule is summarised when every one of its cells shown is missing and every reason is an input
    the data (and the scenario) gives no value for anywhere, or members of a kind the data has no
    organisation of: listing it per entity and period says nothing more, once per cell. With
    ``all_missing`` every cell is listed, the summarised ones too.
    """
    keep = keep or _EVERYTHING
    dataset = results.dataset
    given = {key[0] for key in dataset.values} | set(results.scenario.names)
    absent = {name for name in results.program.of_kind(s.InputDecl) if name not in given}
    kinds = {org.kind for org in dataset.organisations.values()}
    by_name: dict[str, list] = {}
    for cell in cells:
        by_name.setdefault(cell[0], []).append(cell)
    rules = []
    for name, found in by_name.items():
        keys = results.scope[name]
        shown = len(keys) if keep is _EVERYTHING else sum(keep(name, entity) for entity, _ in keys)
        lacking = _lacking(found, absent, kinds) if len(found) == shown else None
        if lacking is not None:
            rules.append(MissingRule(name, len(found), *(tuple(sorted(x)) for x in lacking)))
    if not all_missing:
        summarised = {rule.name for rule in rules}
        cells = [cell for cell in cells if cell[0] not in summarised]
    return cells, rules


def _lacking(found, absent: set[str], kinds: set[str]) -> tuple[set[str], set[str]] | None:
    """The inputs with no value and the kinds of member with no organisation that every reason of
    these missing cells names, or None when some reason is anything else."""
    inputs: set[str] = set()
    members: set[str] = set()
    for *_, value in found:
        for reason in value.reasons:
            if reason.kind == "no_input" and reason.name in absent:
                inputs.add(reason.name)
            elif reason.kind == "no_members" and not kinds.intersection(reason.detail[0]):
                members.update(reason.detail[0])
            else:
                return None
    return inputs, members


def run_json(results: Results, *, only=None, all_missing: bool = False) -> dict:
    """The run as one object: results by name, entity and period, their units, flags with the values
    and citation behind them, and missing values with their reasons.

    A rule the data gives nothing to work with is one entry of ``missing_rules`` rather than one
    entry of ``missing`` per entity and period; ``all_missing`` lists those cells in ``missing`` too.
    """
    program = results.program
    sweep = _sweep(results, only, json_value)
    keep = only or _EVERYTHING
    flags = []
    for f in sweep.fired:
        trace = explain(results, f.name, f.entity, f.period)
        flags.append({"flag": f.name, "severity": f.severity, "entity": f.entity, "period": _label(f.period),
                      "message": flag_message(results, f),
                      "values": {op.label: json_value(op.value, op.type) for op in named_operands(trace)},
                      "citations": _citations_json(trace.citations)})
    for late in results.late_submissions():
        if keep.entity(late.entity):
            flags.append({"flag": late.name, "severity": late.severity, "entity": late.entity, "period": str(program.year),
                          "message": late_message(results, late),
                          "values": {"submitted": str(late.submitted), "deadline": str(late.deadline),
                                     "working_days_late": late.working_days_late},
                          "citations": _citations_json(program.declarations[late.milestone].citations)})
    cells, rules = missing_parts(results, sweep.missing, keep, all_missing)
    missing = [{"output": name, "entity": entity, "period": _label(period), "because": value.describe()}
               for name, entity, period, value in cells]
    return {"policy": program.title, "year": str(program.year), "data": results.dataset.source,
            "results": sweep.tables, "units": sweep.units, "flags": flags, "missing": missing,
            "missing_rules": [rule.as_json() for rule in rules], "defaults": assumed_defaults(results)}


def run_text(results: Results, *, only=None, all_missing: bool = False) -> str:
    program = results.program
    lines = [f"{program.title} ({program.year}) on {printable(results.dataset.source)}", ""]
    sweep = _sweep(results, only, format_value)
    for name, rows in sweep.tables.items():
        periods = sorted({p for row in rows.values() for p in row})
        width = max([len(name)] + [len(code) + 2 for code in rows])
        cells = max([len(p) for p in periods] + [len(v) for row in rows.values() for v in row.values()])
        lines.append(name.ljust(width) + "".join(f"  {p:>{cells}}" for p in periods))
        for code, row in rows.items():
            lines.append(("  " + code).ljust(width) + "".join(f"  {row.get(p, ''):>{cells}}" for p in periods))
        lines.append("")
    keep = only or _EVERYTHING
    fired = sweep.fired
    late = [x for x in results.late_submissions() if keep.entity(x.entity)]
    lines.append(f"Flags ({len(fired) + len(late)}):" if fired or late else "Flags: none raised")
    for flag in fired:
        lines.append(f"  {flag.severity:<7} {flag.name} [{flag.entity}, {_label(flag.period)}]: {flag_message(results, flag)}")
    for item in late:
        lines.append(f"  {item.severity:<7} {item.name} [{item.entity}, {item.milestone}]: {late_message(results, item)}")
    missing, rules = missing_parts(results, sweep.missing, keep, all_missing)
    if missing:
        lines.append("")
        lines.append(f"Missing ({len(missing)}):")
        for name, entity, period, value in missing:
            lines.append(f"  {name} [{entity}, {_label(period)}]: {value.describe()}")
    if rules and not all_missing:
        lines += ["", f"Missing everywhere, the data giving them nothing to work with ({len(rules)} rule"
                      f"{'s' * (len(rules) != 1)}; --all-missing lists each value):"]
        lines += [f"  {rule.name}: all {rule.cells} entity-period{'s' * (rule.cells != 1)}; {rule.because}" for rule in rules]
    defaults = assumed_defaults(results)
    if defaults:
        lines += ["", "Assumed defaults (the data gives no value, so the declared default is used):"]
        lines += [f"  {d['input']} = {d['default']}: assumed for {d['assumed']} of {d['of']} entity-periods" for d in defaults]
    return "\n".join(lines)


# ---- explanations ----

def citation_text(citation: s.Citation) -> str:
    quote = f' "{citation.quote}"' if citation.quote else ""
    return f"cites {citation.source} {citation.section}{quote}"


def difference_text(amount, type_) -> str:
    """A difference between two values: percentages differ by percentage points, not by a percentage.

    >>> difference_text(Fraction(1, 100), "percent"), difference_text(Fraction(5, 1000), "percent")
    ('1 percentage point', '0.5 percentage points')
    >>> difference_text(Fraction(3, 2), "money")
    '£1.50'
    """
    if type_ == "percent" and isinstance(amount, Fraction):
        points = decimal_text(amount * 100, 2)
        return f"{points} percentage point{'s' * (points != '1')}"
    return format_value(amount, type_)


def _margin_words(margin, type_) -> str:
    if margin > 0:
        return f"{difference_text(margin, type_)} above"
    if margin < 0:
        return f"{difference_text(-margin, type_)} below"
    return "exactly at"


def detail_lines(node: TraceNode) -> list[str]:
    d = node.detail
    t = node.type
    if "setting" in d:
        setting = d["setting"]
        how = "its formula replaced by the scenario" if setting.formula else "set by the scenario"
        return [f"{how} ({setting.span}): {setting.text}"]
    if node.kind == "input":
        if "origin" in d:
            return [f"input from {d['origin']}"]
        if d.get("assumed"):
            return ["input not in the data: the declared default is assumed"]
        return [f"input missing: {node.value.describe()}"] if isinstance(node.value, Missing) else ["input"]
    if node.kind == "parameter":
        where = []
        if d.get("schedule"):
            first, last = d["schedule"]
            where.append(f"schedule entry {first}" + (f" to {last}" if last != first else ""))
        if d.get("effective"):
            where.append(f"amended from {d['effective']} ({d['amendment']})")
        else:
            where.append("as first declared")
        return ["parameter: " + ", ".join(where)]
    if node.kind == "condition":
        holds = d.get("holds")
        if isinstance(holds, Missing):
            return [f"condition {d['condition']} is missing, so the value is missing"]
        lines = [f"condition {d['condition']} is {format_value(holds, 'bool')}: the {d['branch']} branch applies"]
        if d.get("because"):
            lines.append(f"because {d['because']}")
        return lines
    if node.kind == "comparison" and "margin" in d:
        ot = d["operand_type"]
        if ot == "days":
            days = abs(d["margin"])
            side = "after" if d["margin"] > 0 else "before"
            return [f"{d['left']} is {days} day{'s' * (days != 1)} {side} {d['right']}" if days else
                    f"{d['left']} is the same day as {d['right']}"]
        if not d["margin"]:
            return [f"{format_value(d['left'], ot)} is exactly {format_value(d['right'], ot)}"]
        return [f"{format_value(d['left'], ot)} is {_margin_words(d['margin'], ot)} {format_value(d['right'], ot)}"]
    if node.kind == "bands" and "rows" in d:
        lines = [f"{d['amount_label']} = {format_value(d['amount'], t)}"]
        for k, row in enumerate(d["rows"]):
            mark = "  <- the amount ends in this band" if k == d["applied"] else ""
            reach = (f"from {format_value(row['from'], t)} up to {format_value(row['to'], t)} ({row['threshold']})"
                     if row["to"] is not None else f"above {format_value(row['from'], t)}")
            lines.append(f"band {k + 1}: {reach} at {format_percent(row['rate'])}: "
                         f"{format_value(row['portion'], t)} pays {format_value(row['payment'], t)}{mark}")
        for margin in d["margins"]:
            lines.append(f"{_margin_words(margin['margin'], t)} {margin['threshold']} ({format_value(margin['limit'], t)})")
        return lines
    if node.kind == "taper" and "reduction" in d:
        lines = [f"{format_value(d['base'], t)} less {format_percent(d['rate'])} of a shortfall of "
                 f"{format_value(d['shortfall'], t)} = less {format_value(d['reduction'], t)}"]
        if d["floored"]:
            lines.append(f"held at the floor of {format_value(d['floor'], t)}")
        if d["capped"]:
            lines.append(f"held at the cap of {format_value(d['cap'], t)}")
        return lines
    if node.kind == "tolerance" and "difference" in d:
        ot = d["operand_type"]
        limit = f"{format_percent(d['tolerance'])} of the reference, {format_value(d['limit'], ot)}" if d["relative"] \
            else format_value(d["limit"], ot)
        variance = f" ({format_percent(d['variance'])})" if "variance" in d else ""
        state = "within" if d["within"] else "beyond"
        return [f"differs by {difference_text(d['difference'], ot)}{variance}; tolerance {limit}: {state} it by "
                f"{difference_text(abs(d['margin']), ot)}"]
    if node.kind == "logical" and "decisive" in d:
        settled = "any part true settles it" if d["op"] == "or" else "any part false settles it"
        lines = [f"{d['op']} of {len(d['parts'])} parts ({settled}):"]
        for k, (part, value) in enumerate(zip(d["parts"], d["values"])):
            mark = "  <- decides the outcome" if k in d["decisive"] else ""
            lines.append(f"  {part} is {format_value(value, 'bool')}{mark}")
        return lines
    if node.kind == "flag":
        return _flag_lines(node)
    return []


def _flag_lines(node: TraceNode) -> list[str]:
    """Why a flag was raised or not: its condition's outcome, and how far its deciding test was from turning."""
    d = node.detail
    if isinstance(node.value, Missing):
        return [f"{d['severity']} flag: not known, because its condition is missing"]
    state = "raised" if node.value is True else "not raised"
    lines = [f"{d['severity']} flag: {state}, because its condition is {format_value(node.value, 'bool')}"]
    test = _deciding_test(node)
    if test is not None:
        lines += [f"margin: {line}" for line in detail_lines(test)]
    return lines


# Deeper than this the tree is not drawn: each level indents by three characters, so a chain of
# 10,000 definitions drew 450 MB. What is cut is said, with how to see it.
MAX_DRAWN_DEPTH = 60


def _deciding_test(node: TraceNode) -> TraceNode | None:
    """The first comparison or tolerance in a formula that decided it (inside an and/or, a decisive part)."""
    pending = list(reversed(node.children))
    while pending:
        step = pending.pop()
        if step.kind in ("comparison", "tolerance") and ("margin" in step.detail or "difference" in step.detail):
            return step
        if step.kind == "logical" and "decisive" in step.detail:
            decisive = {step.detail["parts"][k] for k in step.detail["decisive"]}
            pending += reversed([c for c in step.children if c.label in decisive])
        elif step.kind not in NAMED_KINDS:
            pending += reversed(step.children)
    return None


NAMED_KINDS = ("definition", "input", "parameter", "flag", "deadline")  # the steps that are values with a name


def head_text(node: TraceNode) -> str:
    """A step's first line: ``name for ENTITY in PERIOD = value`` (where only for named values)."""
    where = ""
    if node.kind in NAMED_KINDS and (node.entity or node.period):
        parts = [x for x in (f"for {node.entity}" if node.entity else "", f"in {node.period}" if node.period else "") if x]
        where = " " + " ".join(parts)
    return f"{node.label}{where} = {format_value(node.value, node.type)}"


def explanation_text(node: TraceNode, depth: int | None = None, max_depth: int = MAX_DRAWN_DEPTH) -> str:
    """The derivation as an indented tree; a named value already shown is not repeated.

    With ``depth``, steps more than ``depth`` levels below the value are summarised: the last step
    shown keeps its value and says how many steps lie below it. Whatever ``depth``, nothing deeper
    than ``max_depth`` is drawn; a line in its place says how many steps were cut.
    """
    lines: list[str] = []
    _tree(node, "", True, True, set(), lines, depth, max_depth, max_depth)
    return "\n".join(lines)


def steps_below(node: TraceNode) -> int:
    """How many distinct steps a node's derivation has below it (a shared step counted once)."""
    seen: set[int] = set()
    pending = list(node.children)
    while pending:
        step = pending.pop()
        if id(step) not in seen:
            seen.add(id(step))
            pending += step.children
    return len(seen)


def _tree(node: TraceNode, _prefix: str, _last: bool, _root: bool, shown: set, lines: list[str],
          depth: int | None, drawn: int, max_depth: int) -> None:
    """Append the lines of ``node``'s subtree (one list for the whole tree: deep trees stay linear)."""
    head = head_text(node)
    if _root:
        lines.append(head)
        body_prefix = ""
    else:
        lines.append(_prefix + ("└─ " if _last else "├─ ") + head)
        body_prefix = _prefix + ("   " if _last else "│  ")
    key = (node.kind, node.label, node.entity, node.period)
    if node.kind in NAMED_KINDS and key in shown:
        lines[-1] += "  (derivation shown above)"
        return
    shown.add(key)
    info = []
    if node.description:
        info.append(node.description)
    if node.formula and node.formula != node.label:
        info.append("= " + node.formula)
    info += detail_lines(node)
    if isinstance(node.value, Missing) and node.kind != "input":
        info.append("missing because " + node.value.describe())
    info += [citation_text(c) for c in node.citations]
    info += list(node.interpretations)
    if node.span is not None and node.kind in NAMED_KINDS:
        info.append(f"declared at {node.span}")
    if depth is not None and depth <= 0 and node.children:
        below = steps_below(node)
        lines[-1] += f"  (+{below} step{'s' * (below != 1)} below; a larger --depth shows them)"
        return
    bar = "│ " if node.children else "  "
    lines += [body_prefix + bar + line for line in info]
    if node.children and drawn <= 0:
        steps = steps_below(node)
        onward = f"explain {node.label} to continue from here" if node.kind in NAMED_KINDS else "explain a value further down"
        lines.append(body_prefix + f"└─ … {steps:,} deeper step{'s' * (steps != 1)} not drawn: the drawing stops "
                                   f"{max_depth} levels down ({onward})")
        return
    for k, child in enumerate(node.children):
        _tree(child, body_prefix, k == len(node.children) - 1, False, shown, lines, None if depth is None else depth - 1,
              drawn - 1, max_depth)


def _json_detail(value: Any, type_: str | None):
    if isinstance(value, dict):
        return {k: _json_detail(v, type_ if k not in ("rate", "tolerance", "variance") else "percent") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_detail(v, type_) for v in value]
    if isinstance(value, s.Citation):
        return {"source": value.source, "section": value.section, "quote": value.quote}
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return json_value(value, type_)


def explanation_json(node: TraceNode, depth: int | None = None) -> dict:
    """The derivation as nested objects; with ``depth``, deeper steps are left out and counted."""
    cut = depth is not None and depth <= 0 and node.children
    return {
        "kind": node.kind, "label": node.label, "value": json_value(node.value, node.type), "type": node.type,
        "entity": node.entity, "period": _label(node.period) if node.period else None,
        "missing_because": node.value.describe() if isinstance(node.value, Missing) else None,
        "formula": node.formula, "description": node.description,
        "citations": [_json_detail(c, None) for c in node.citations], "interpretations": list(node.interpretations),
        "span": node.span.as_dict() if node.span else None,
        "detail": _json_detail(dict(node.detail), node.type if node.kind != "tolerance" else node.detail.get("operand_type")),
        "children": [] if cut else [explanation_json(child, None if depth is None else depth - 1) for child in node.children],
        **({"steps_below": steps_below(node)} if cut else {}),
    }


# ---- the rulebook ----


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rule_text(program, decl) -> str:
    """The rule itself in canonical planlang: its formula, its condition, or its values and amendments."""
    if isinstance(decl, s.InputDecl):
        return "" if decl.default is None else f"default {format_expr(decl.default)}"
    if isinstance(decl, s.ParameterDecl):
        amended = format_amendments(program.amendments.get(decl.name, ()))
        return format_value_clause(decl) + ("" if amended is None else f"; amended {amended}")
    if isinstance(decl, s.FlagDecl):
        return f"when {format_expr(decl.when)}"
    return f"= {format_expr(decl.value)}"


def _code_cell(text: str) -> str:
    return f"`{_cell_text(text)}`" if text else ""


def rulebook_markdown(program) -> str:
    """Every rule of a pack, its formula or values, its source, and every interpretation taken, as Markdown."""
    lines = [f"## {program.year}: {program.title}", ""]
    lines += [f"- `{src.name}`: {src.title or ''}" for src in program.sources.values()]
    lines += ["", "| name | kind | what it is | rule | source |", "|---|---|---|---|---|"]
    interpretations = []
    for name, decl in sorted(program.declarations.items(), key=lambda item: (item[1].span.file, item[1].span.line)):
        kind = s.RULE_KINDS.get(type(decl))
        if kind is None:
            continue
        shape = [x for x in (getattr(decl, "type", None) if kind != "flag" else getattr(decl, "severity", None),
                             " or ".join(getattr(decl, "kinds", ()) or ()) and "per " + " or ".join(decl.kinds),
                             GRANULARITY_WORDS.get(getattr(decl, "granularity", None))) if x]
        what = decl.description or (decl.message if isinstance(decl, s.FlagDecl) else "")
        sources = "; ".join(f"{c.source} {c.section}" for c in decl.citations)
        label = f"{kind} ({', '.join(shape)})" if shape else kind
        lines.append(f"| `{name}` | {label} | {_cell_text(what)} | {_code_cell(_rule_text(program, decl))} | {_cell_text(sources)} |")
        interpretations += [(name, decl.span, text) for text in decl.interpretations]
    for amendments in program.amendments.values():
        for amend in amendments:
            interpretations += [(f"{amend.name} (amended from {amend.effective})", amend.span, t) for t in amend.interpretations]
    lines += ["", f"### Interpretations taken in {program.year}", ""]
    lines += [f"- `{name}` ({span.file}:{span.line}): {text}" for name, span, text in interpretations] or ["- none"]
    lines += ["", f"### In the source, not encoded in {program.year}", "",
              "What the year's documents state that no rule of the pack encodes, in their words, and why "
              "(declared with `unencoded` in the pack).", ""]
    lines += [f"- `{p.citation.source}` {p.citation.section}: \"{_cell_text(p.citation.quote)}\"; why: "
              f"{_cell_text(p.reason)} ({p.span.file}:{p.span.line})"
              for source in program.sources.values() for p in source.unencoded] or ["- none"]
    return "\n".join(lines) + "\n"


# ---- scenarios: baseline against scenario ----

def scenario_json(scenario) -> dict:
    return {"name": scenario.name, "sets": [x.text for x in scenario.settings]}


def _difference_json(item) -> dict:
    difference = item.difference
    return {"baseline": json_value(item.baseline, item.type), "scenario": json_value(item.scenario, item.type),
            "difference": json_value(difference, item.type) if difference is not None else None}


def _flag_json(results: Results, flag: FlagResult) -> dict:
    return {"flag": flag.name, "severity": flag.severity, "entity": flag.entity, "period": _label(flag.period),
            "message": flag_message(results, flag)}


def compare_json(comparisons) -> dict:
    """The baseline and every scenario, with what each changed, in ``run --json``'s value formats."""
    baseline = comparisons[0].baseline
    base = run_json(baseline, all_missing=True)
    out = {"policy": base["policy"], "year": base["year"], "data": base["data"],
           "baseline": {key: base[key] for key in ("results", "flags", "missing")}, "scenarios": []}
    for comparison in comparisons:
        scenario = run_json(comparison.scenario, all_missing=True)
        differences: dict = {}
        for item in comparison.differences:
            differences.setdefault(item.name, {}).setdefault(item.entity or "*", {})[_label(item.period)] = _difference_json(item)
        totals: dict = {}
        for total in comparison.totals:
            entry = totals.setdefault(total.name, {})[_label(total.period)] = _difference_json(total)
            if total.covers is not None:
                entry["covers"] = coverage_json(total.covers)
        out["scenarios"].append({
            **scenario_json(comparison.scenario.scenario),
            **{key: scenario[key] for key in ("results", "flags", "missing")},
            "differences": differences, "totals": totals,
            "flags_raised": [_flag_json(comparison.scenario, f) for f in comparison.flags_raised],
            "flags_cleared": [_flag_json(comparison.baseline, f) for f in comparison.flags_cleared],
            "became_missing": [{"output": d.name, "entity": d.entity, "period": _label(d.period),
                                "because": d.scenario.describe()} for d in comparison.differences if d.change == "became missing"],
            "became_present": [{"output": d.name, "entity": d.entity, "period": _label(d.period)}
                               for d in comparison.differences if d.change == "became present"],
        })
    return out


def _change_text(item) -> str:
    difference = item.difference
    if difference is None:
        return item.change if item.change != "changed" else ""
    sign = "+" if difference > 0 else ""
    if item.type in ("percent", "ratio"):
        points = decimal_text(difference * 100, 2)
        return f"{sign}{points} percentage point{'s' * (abs(difference) != Fraction(1, 100))}"
    text = sign + format_value(difference, item.type)
    if isinstance(item.baseline, Fraction) and item.baseline != 0 and item.type not in ("percent", "ratio"):
        text += f" ({'+' if difference > 0 else ''}{format_percent(difference / abs(item.baseline), 1)})"
    return text


def _rows(rows: list[tuple[str, ...]]) -> list[str]:
    """Columns: the first left-aligned, the rest right-aligned, each as wide as its widest cell."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[0]) if k == 0 else cell.rjust(widths[k]) for k, cell in enumerate(row)).rstrip()
            for row in rows]


def _total_label(total) -> str:
    """A total's period; a year's total over part of the year says which part."""
    if total.covers is None or total.covers.complete:
        return _label(total.period)
    return f"{_label(total.period)}: {total.covers.label()}"


def compare_text(comparisons) -> str:
    """Baseline and scenarios side by side: what changed, largest £ change first; totals; flags raised and cleared."""
    baseline = comparisons[0].baseline
    program = baseline.program
    lines = [f"{program.title} ({program.year}) on {baseline.dataset.source}: baseline against "
             f"{len(comparisons)} scenario{'s' * (len(comparisons) != 1)}"]
    for comparison in comparisons:
        scenario = comparison.scenario.scenario
        lines += ["", f"Scenario {scenario.name}" + (f": {scenario.description}" if scenario.description else "")]
        lines += [f"  set {x.text}" if not x.text.startswith(("set ", "replace ")) else f"  {x.text}" for x in scenario.settings]
        lines.append("")
        if not comparison.differences:
            lines.append("No output changed.")
        else:
            lines.append(f"Changed ({len(comparison.differences)}):")
            rows = [("output [entity, period]", "baseline", "scenario", "change")]
            rows += [(f"{d.name} [{d.entity or '-'}, {_label(d.period)}]", format_value(d.baseline, d.type),
                      format_value(d.scenario, d.type), _change_text(d)) for d in comparison.differences]
            lines += _rows(rows)
        if comparison.totals:
            lines += ["", "Totals over all organisations:"]
            rows = [("output [period]", "baseline", "scenario", "change")]
            rows += [(f"{t.name} [{_total_label(t)}]", format_value(t.baseline, t.type), format_value(t.scenario, t.type),
                      _change_text(t)) for t in comparison.totals]
            lines += _rows(rows)
        for title, flags, results in (("Flags raised", comparison.flags_raised, comparison.scenario),
                                      ("Flags cleared", comparison.flags_cleared, comparison.baseline)):
            if flags:
                lines += ["", f"{title} ({len(flags)}):"]
                lines += [f"  {f.severity:<7} {f.name} [{f.entity}, {_label(f.period)}]: {flag_message(results, f)}"
                          for f in flags]
    return "\n".join(lines)


def _same_tree(a: TraceNode, b: TraceNode) -> bool:
    if a.kind != b.kind or a.label != b.label or format_value(a.value, a.type) != format_value(b.value, b.type) \
            or len(a.children) != len(b.children) or ("setting" in a.detail) != ("setting" in b.detail):
        return False
    return all(_same_tree(x, y) for x, y in zip(a.children, b.children))


def _outcome_changes(before: TraceNode, after: TraceNode) -> list[str]:
    """Bands, branches and conditions whose outcome the scenario changed, in words."""
    d, b = after.detail, before.detail
    if after.kind == "bands" and "applied" in d and "applied" in b and d["applied"] != b["applied"]:
        rate = format_percent(d["rows"][d["applied"]]["rate"])
        return [f"now ends in band {d['applied'] + 1}, {rate}, instead of band {b['applied'] + 1}"]
    if after.kind == "condition" and d.get("branch") != b.get("branch") and d.get("branch") and b.get("branch"):
        return [f"now the {d['branch']} branch applies, instead of the {b['branch']} branch"]
    if after.kind in ("comparison", "flag") and isinstance(after.value, bool) and isinstance(before.value, bool) \
            and after.value != before.value:
        return [f"now {format_value(after.value, 'bool')}, instead of {format_value(before.value, 'bool')}"]
    if after.kind == "tolerance" and "within" in d and "within" in b and d["within"] != b["within"]:
        return [f"now {'within' if d['within'] else 'beyond'} the tolerance, instead of {'within' if b['within'] else 'beyond'}"]
    if after.kind == "taper":
        return [f"now {'held at' if d.get(k) else 'no longer held at'} the {k[:-2] if k == 'floored' else 'cap'}"
                for k in ("floored", "capped") if k in d and k in b and d[k] != b[k]]
    return []


def explanation_compare_text(before: TraceNode, after: TraceNode) -> str:
    """One derivation under baseline and scenario: each node shows both values where they differ, the
    scenario's settings and every changed outcome are said in words, unchanged subtrees collapse."""
    lines: list[str] = []
    _compare_tree(before, after, "", True, True, set(), lines)
    return "\n".join(lines)


def _compare_tree(before, after: TraceNode, prefix: str, last: bool, root: bool, shown: set, lines: list[str]) -> None:
    where = ""
    if after.kind in NAMED_KINDS and (after.entity or after.period):
        where = " " + " ".join(x for x in (f"for {after.entity}" if after.entity else "",
                                           f"in {after.period}" if after.period else "") if x)
    value = format_value(after.value, after.type)
    head = f"{after.label}{where} = {value}"
    if before is None:
        head += "  (not in the baseline's derivation)"
    elif format_value(before.value, before.type) != value:
        head += f"  (baseline {format_value(before.value, before.type)})"
    lines.append(head if root else prefix + ("└─ " if last else "├─ ") + head)
    body = "" if root else prefix + ("   " if last else "│  ")
    key = (after.kind, after.label, after.entity, after.period)
    if before is not None and _same_tree(before, after):
        lines[-1] += "  (unchanged)"
        return
    if after.kind in NAMED_KINDS and key in shown:
        lines[-1] += "  (shown above)"
        return
    shown.add(key)
    info = [after.description] if after.description and root else []
    if after.formula and after.formula != after.label:
        info.append("= " + after.formula)
    info += detail_lines(after)
    if "setting" in after.detail and before is not None:
        info[-1] += f", baseline {format_value(before.value, before.type)}"
    if before is not None:
        info += _outcome_changes(before, after)
    if isinstance(after.value, Missing) and after.kind != "input":
        info.append("missing because " + after.value.describe())
    bar = "│ " if after.children else "  "
    lines += [body + bar + line for line in info]
    olds = {(c.kind, c.label, c.entity, c.period): c for c in (before.children if before is not None else ())}
    for k, child in enumerate(after.children):
        _compare_tree(olds.get((child.kind, child.label, child.entity, child.period)), child, body,
                      k == len(after.children) - 1, False, shown, lines)


def solve_text(vary: str, until: str, type_: str, goal_type: str, solution) -> str:
    """A goal seek's answer, or why there is none."""
    if solution.value is None:
        return _unsolved_text(vary, until, type_, goal_type, solution)
    return "\n".join([
        f"{vary} = {format_value(solution.value, type_)}",
        f"  reaches {until}: {format_value(solution.achieved, goal_type)}",
        f"  baseline value {format_value(solution.baseline_value, type_)}; one step less gives "
        f"{format_value(solution.below, goal_type)}",
    ])


def _unsolved_text(vary: str, until: str, type_: str, goal_type: str, solution) -> str:
    """No value tried reaches the goal: proved (the goal does not depend on what is varied), or inconclusive."""
    if solution.outcome == UNREACHABLE:
        return (f"no value of {vary} reaches {until}: unreachable, since the goal does not depend on what is varied "
                f"(it is {format_value(solution.seen[0][1], goal_type)} whatever the value)")
    low, high = solution.reach
    reach = (f"; over the values tried the output ran from {format_value(low, goal_type)} to "
             f"{format_value(high, goal_type)}") if low is not None else ""
    seen = [f"{format_value(m, goal_type)} at {format_value(x, type_)}" for x, m in solution.seen]
    shape = ("it rose and fell over the values tried, so it is not monotone, and " if not solution.monotone else
             "planlang cannot prove the output monotone, so ")
    return "\n".join([
        f"no value of {vary} tried reaches {until}: inconclusive",
        f"  tried {solution.evaluations:,} values from {format_value(solution.tried[0], type_)} to "
        f"{format_value(solution.tried[1], type_)}{reach}",
        f"  the output was {', '.join(seen[:-1])} and {seen[-1]}" if len(seen) > 1 else f"  the output was {seen[0]}",
        f"  {shape}a value between those tried may still reach the goal",
    ])
