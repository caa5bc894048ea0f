"""A reconciliation (:func:`planlang.assurance.reconcile.reconcile`) in words and as JSON.

Text: one line of counts, then each differing figure (new ones first) with both values, the difference,
where the derivations part, the value that reproduces their figure, and the register's reason; then the
register entries that no longer occur.
"""

from __future__ import annotations

from ..values import Missing
from .values import format_value, json_value

__all__ = ["reconciliation_text", "reconciliation_json"]


def _cell(name: str, entity, period) -> str:
    return name + (f" for {entity}" if entity else "") + (f" in {period}" if period else "")


def reconciliation_text(title: str, result) -> str:
    lines = [title,
             f"{result.figures} figure{'s' * (result.figures != 1)}: {result.figures - len(result.mismatches)} agree, "
             f"{len(result.mismatches)} differ ({len(result.new)} new, {len(result.explained)} explained); "
             f"{len(result.stale)} register entr{'ies' if len(result.stale) != 1 else 'y'} no longer occur"]
    for mismatch in (*result.new, *result.explained):
        figure, type_ = mismatch.figure, mismatch.type
        lines.append("")
        lines.append(f"{'explained' if mismatch.explained else 'NEW'}  {_cell(figure.name, figure.entity, figure.period)}"
                     f"  ({figure.where})")
        difference = mismatch.difference
        lines.append(f"    theirs {figure.text.strip() or format_value(figure.value, type_)}, ours "
                     f"{format_value(mismatch.ours, type_)}"
                     + ("" if difference is None else f": theirs less ours {format_value(difference, type_)}"))
        if isinstance(mismatch.ours, Missing):
            lines.append(f"    ours is missing: {mismatch.ours.describe()}")
        if mismatch.parts is not None:
            part = mismatch.parts
            lines.append(f"    the derivations part at {_cell(part.name, part.entity, part.period)} ({part.kind}): "
                         f"ours {format_value(part.ours, part.type)}, theirs needs {format_value(part.needed, part.type)}"
                         + (", the single value that reproduces their figure" if part == mismatch.lever else ""))
        if mismatch.lever is not None and mismatch.lever != mismatch.parts:
            lever = mismatch.lever
            lines.append(f"    their figure is reproduced by {_cell(lever.name, lever.entity, lever.period)} = "
                         f"{format_value(lever.needed, lever.type)} (ours {format_value(lever.ours, lever.type)})")
        elif mismatch.parts is None:
            lines.append("    no single input or parameter value reproduces their figure")
        if mismatch.entry is not None:
            lines.append(f"    register: {mismatch.entry.reason}")
            lines.append(f"      cites {mismatch.entry.citation}  ({mismatch.entry.where})")
    for entry in result.stale:
        lines.append("")
        lines.append(f"stale  {_cell(entry.name, entry.entity, entry.period)}: the register expects a difference "
                     f"that no longer occurs ({entry.where})")
    return "\n".join(lines)


def _operand(operand) -> dict | None:
    if operand is None:
        return None
    return {"kind": operand.kind, "name": operand.name, "entity": operand.entity,
            "period": None if operand.period is None else str(operand.period),
            "ours": json_value(operand.ours, operand.type), "needed": json_value(operand.needed, operand.type)}


def reconciliation_json(result) -> dict:
    differences = []
    for mismatch in result.mismatches:
        figure, type_ = mismatch.figure, mismatch.type
        differences.append({
            "status": "explained" if mismatch.explained else "new", "name": figure.name, "entity": figure.entity,
            "period": None if figure.period is None else str(figure.period), "where": figure.where,
            "theirs": figure.text, "ours": json_value(mismatch.ours, type_),
            "difference": None if mismatch.difference is None else json_value(mismatch.difference, type_),
            "parts": _operand(mismatch.parts), "reproduced_by": _operand(mismatch.lever),
            "register": None if mismatch.entry is None else {"reason": mismatch.entry.reason,
                                                             "citation": mismatch.entry.citation},
        })
    return {"figures": result.figures, "agree": result.figures - len(result.mismatches), "new": len(result.new),
            "explained": len(result.explained), "differences": differences,
            "stale": [{"name": e.name, "entity": e.entity, "period": e.period, "reason": e.reason, "where": e.where}
                      for e in result.stale]}
