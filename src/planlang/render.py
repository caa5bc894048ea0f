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
from .evaluator import FlagResult, LateSubmission, Results, periods_for
from .explain import TraceNode, explain
from .periods import Period
from .values import Missing, decimal_text, format_money, format_percent, money_text

__all__ = ["format_value", "json_value", "run_json", "run_text", "flag_message", "explanation_text", "explanation_json",
           "detail_lines", "citation_text", "named_operands", "NAMED_KINDS", "difference_text",
           "Selection", "assumed_defaults", "head_text"]


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
        return f'"{value}"'
    return str(value)


def json_value(value, type_: str | None):
    """A value for JSON: money a string of pounds to the penny, other numbers decimal strings, missing null."""
    if isinstance(value, Missing) or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Fraction):
        return money_text(value) if type_ == "money" else decimal_text(value)
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


def assumed_defaults(results: Results) -> list[tuple[str, str, int, int]]:
    """(input, its default as shown, how many of the run's entity-periods assumed it, how many there
    are) for every input whose declared default stood in for a value the data does not give."""
    program, dataset = results.program, results.dataset
    found = []
    for name, decl in program.of_kind(s.InputDecl).items():
        if decl.default is None:
            continue
        keys = [(o.code, p) for o in dataset.of_kinds(decl.kinds) for p in periods_for(program, dataset, decl)]
        assumed = [(code, period) for code, period in keys if (name, code, period) not in dataset.values]
        if assumed:
            found.append((name, format_value(results.get(name, *assumed[0]), decl.type), len(assumed), len(keys)))
    return found


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


def _kept(results: Results, only):
    return [(n, e, p, v) for n, e, p, v in results.outputs() if only is None or only(n, e)]


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


def run_json(results: Results, *, only=None) -> dict:
    """The run as one object: results by name, entity and period, their units, flags with the values
    and citation behind them, and missing values with their reasons."""
    program = results.program
    outputs: dict[str, dict] = {}
    units: dict[str, str | None] = {}
    for name, entity, period, value in _kept(results, only):
        decl = program.declarations[name]
        units[name] = _type_of(decl)
        outputs.setdefault(name, {}).setdefault(entity or "*", {})[_label(period)] = json_value(value, _type_of(decl))
    keep = only or _EVERYTHING
    flags = []
    for f in results.flags:
        if f.fired is not True or not keep.entity(f.entity):
            continue
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
    missing = [{"output": name, "entity": entity, "period": _label(period), "because": value.describe()}
               for name, entity, period, value in results.missing if keep(name, entity)]
    defaults = [{"input": name, "default": shown, "assumed": assumed, "of": total}
                for name, shown, assumed, total in assumed_defaults(results)]
    return {"policy": program.title, "year": str(program.year), "data": results.dataset.source,
            "results": outputs, "units": units, "flags": flags, "missing": missing, "defaults": defaults}


def run_text(results: Results, *, only=None) -> str:
    program = results.program
    lines = [f"{program.title} ({program.year}) on {results.dataset.source}", ""]
    table: dict[str, dict[str, dict[str, str]]] = {}
    for name, entity, period, value in _kept(results, only):
        table.setdefault(name, {}).setdefault(entity or "*", {})[_label(period)] = \
            format_value(value, _type_of(program.declarations[name]))
    for name, rows in table.items():
        periods = sorted({p for row in rows.values() for p in row})
        width = max([len(name)] + [len(code) + 2 for code in rows])
        cells = max([len(p) for p in periods] + [len(v) for row in rows.values() for v in row.values()])
        lines.append(name.ljust(width) + "".join(f"  {p:>{cells}}" for p in periods))
        for code, row in rows.items():
            lines.append(("  " + code).ljust(width) + "".join(f"  {row.get(p, ''):>{cells}}" for p in periods))
        lines.append("")
    keep = only or _EVERYTHING
    fired = [f for f in results.flags if f.fired is True and keep.entity(f.entity)]
    late = [x for x in results.late_submissions() if keep.entity(x.entity)]
    lines.append(f"Flags ({len(fired) + len(late)}):" if fired or late else "Flags: none raised")
    for flag in fired:
        lines.append(f"  {flag.severity:<7} {flag.name} [{flag.entity}, {_label(flag.period)}]: {flag_message(results, flag)}")
    for item in late:
        lines.append(f"  {item.severity:<7} {item.name} [{item.entity}, {item.milestone}]: {late_message(results, item)}")
    defaults = assumed_defaults(results)
    if defaults:
        lines.append("")
        lines.append(f"Defaults assumed ({len(defaults)}):")
        for name, shown, assumed, total in defaults:
            lines.append(f"  {name} = {shown} for {assumed} of {total} organisation-periods (not in the data)")
    missing = [m for m in results.missing if keep(m[0], m[1])]
    if missing:
        lines.append("")
        lines.append(f"Missing ({len(missing)}):")
        for name, entity, period, value in missing:
            lines.append(f"  {name} [{entity}, {_label(period)}]: {value.describe()}")
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


def explanation_text(node: TraceNode, depth: int | None = None) -> str:
    """The derivation as an indented tree; a named value already shown is not repeated.

    With ``depth``, steps more than ``depth`` levels below the value are summarised: the last step
    shown keeps its value and says how many steps lie below it.
    """
    lines: list[str] = []
    _tree(node, "", True, True, set(), lines, depth)
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
          depth: int | None = None) -> None:
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
    for k, child in enumerate(node.children):
        _tree(child, body_prefix, k == len(node.children) - 1, False, shown, lines, None if depth is None else depth - 1)


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

_DECL_KIND = {s.InputDecl: "input", s.ParameterDecl: "parameter", s.DefineDecl: "definition", s.FlagDecl: "flag",
              s.DeadlineDecl: "deadline"}


_GRANULARITY_WORD = {"month": "monthly", "quarter": "quarterly", "half": "half-yearly", "year": "annual"}


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rulebook_markdown(program) -> str:
    """Every rule of a pack with its source, and every interpretation taken, as Markdown."""
    lines = [f"## {program.year}: {program.title}", ""]
    lines += [f"- `{src.name}`: {src.title or ''}" for src in program.sources.values()]
    lines += ["", "| name | kind | what it is | source |", "|---|---|---|---|"]
    interpretations = []
    for name, decl in sorted(program.declarations.items(), key=lambda item: (item[1].span.file, item[1].span.line)):
        kind = _DECL_KIND.get(type(decl))
        if kind is None:
            continue
        shape = [x for x in (getattr(decl, "type", None) if kind != "flag" else getattr(decl, "severity", None),
                             " or ".join(getattr(decl, "kinds", ()) or ()) and "per " + " or ".join(decl.kinds),
                             _GRANULARITY_WORD.get(getattr(decl, "granularity", None))) if x]
        what = decl.description or (decl.message if isinstance(decl, s.FlagDecl) else "")
        sources = "; ".join(f"{c.source} {c.section}" for c in decl.citations)
        lines.append(f"| `{name}` | {kind} ({', '.join(shape)}) | {_cell_text(what)} | {_cell_text(sources)} |"
                     if shape else f"| `{name}` | {kind} | {_cell_text(what)} | {_cell_text(sources)} |")
        interpretations += [(name, decl.span, text) for text in decl.interpretations]
    for amendments in program.amendments.values():
        for amend in amendments:
            interpretations += [(f"{amend.name} (amended from {amend.effective})", amend.span, t) for t in amend.interpretations]
    lines += ["", f"### Interpretations taken in {program.year}", ""]
    lines += [f"- `{name}` ({span.file}:{span.line}): {text}" for name, span, text in interpretations] or ["- none"]
    return "\n".join(lines) + "\n"
