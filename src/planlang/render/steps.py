"""A derivation in words: each step of an explanation tree (:class:`~planlang.explanation.TraceNode`)
as lines of text, the tree drawn with its branches, and the tree as JSON.

``explain`` prints :func:`explanation_text`; the HTML report and the workbook's notes
(:mod:`planlang.audit`) use the same words for each step (:func:`head_text`, :func:`detail_lines`).
"""

from __future__ import annotations

from typing import Any

from .. import syntax as s
from ..explanation import TraceNode
from ..values import Missing, format_percent
from .values import difference_text, format_value, json_value, period_label

__all__ = ["explanation_text", "explanation_json", "head_text", "detail_lines", "citation_text", "named_operands",
           "steps_below", "NAMED_KINDS", "MAX_DRAWN_DEPTH"]

NAMED_KINDS = ("definition", "input", "parameter", "flag", "deadline")  # the steps that are values with a name


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



def citation_text(citation: s.Citation) -> str:
    quote = f' "{citation.quote}"' if citation.quote else ""
    return f"cites {citation.source} {citation.section}{quote}"


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
        "entity": node.entity, "period": period_label(node.period) if node.period else None,
        "missing_because": node.value.describe() if isinstance(node.value, Missing) else None,
        "formula": node.formula, "description": node.description,
        "citations": [_json_detail(c, None) for c in node.citations], "interpretations": list(node.interpretations),
        "span": node.span.as_dict() if node.span else None,
        "detail": _json_detail(dict(node.detail), node.type if node.kind != "tolerance" else node.detail.get("operand_type")),
        "children": [] if cut else [explanation_json(child, None if depth is None else depth - 1) for child in node.children],
        **({"steps_below": steps_below(node)} if cut else {}),
    }

