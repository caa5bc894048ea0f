"""Where one figure came from, in the few lines a spreadsheet note or a report row can hold.

From the explanation tree (:func:`planlang.explain`, which is data) this keeps: the formula, the
named values it uses directly (its operands), the steps that decided it (which branch of an ``if``,
which band and the margin to the nearest threshold, a taper's floor, a tolerance), every input
cell the figure rests on, and the citations.
"""

from __future__ import annotations

import attrs

from ..explanation import TraceNode, explain
from ..render.steps import NAMED_KINDS, citation_text, detail_lines, head_text, named_operands
from ..run import Results
from ..values import Missing

__all__ = ["Provenance", "Tracer", "note_text", "origin_of"]



@attrs.frozen
class Provenance:
    root: TraceNode
    operands: tuple[TraceNode, ...]  # the named values the formula uses directly
    steps: tuple[TraceNode, ...]  # the operations between the formula and its operands that decided something
    inputs: tuple[TraceNode, ...]  # every input the figure rests on, at any depth, once each


def origin_of(node: TraceNode) -> str:
    """Where an input's value came from: its file and cell or JSON path, or that a default was assumed."""
    if "setting" in node.detail:
        setting = node.detail["setting"]
        return f"set by the scenario ({setting.span}): {setting.text}"
    if "origin" in node.detail:
        return node.detail["origin"]
    if node.detail.get("assumed"):
        return "not in the data: the declared default"
    return "not in the data"


class Tracer:
    """Provenance of any value of one run; input sets are shared between figures that share steps."""

    def __init__(self, results: Results):
        self.results = results
        self._inputs: dict[int, tuple[TraceNode, ...]] = {}

    def of(self, name: str, entity, period) -> Provenance:
        root = explain(self.results, name, entity, period)
        steps: list[TraceNode] = []
        pending = list(reversed(root.children))
        while pending:
            node = pending.pop()
            if node.kind not in NAMED_KINDS:
                steps.append(node)
                pending += reversed(node.children)
        return Provenance(root, tuple(named_operands(root)), tuple(steps), self.inputs(root))

    def inputs(self, root: TraceNode) -> tuple[TraceNode, ...]:
        """Every input under ``root``, in the order first met, without repeating a shared subtree."""
        found: dict[tuple, TraceNode] = {}
        seen: set[int] = set()
        pending = [root]
        while pending:
            node = pending.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            known = self._inputs.get(id(node))
            if known is not None:
                for leaf in known:
                    found.setdefault((leaf.label, leaf.entity, leaf.period), leaf)
                continue
            if node.kind == "input":
                found.setdefault((node.label, node.entity, node.period), node)
            pending += reversed(node.children)
        result = tuple(found.values())
        self._inputs[id(root)] = result
        return result


def note_text(provenance: Provenance, input_places: dict | None = None, *, limit: int = 30) -> str:
    """The note on a figure: formula, operands and their values, deciding steps, inputs, citations.

    ``input_places`` maps (input, entity, period) to where a copy of that input is (``Inputs!A7``).
    Long lists stop after ``limit`` entries and say how many more there are.
    """
    root = provenance.root
    lines = [head_text(root)]
    if root.description:
        lines.append(root.description)
    if root.formula and root.formula != root.label:
        lines.append("= " + root.formula)
    if isinstance(root.value, Missing):
        lines.append("missing because " + root.value.describe())
    if provenance.operands:
        lines.append("where:")
        lines += _capped([f"  {head_text(op)} ({op.kind})" for op in provenance.operands], limit)
    decided = [line for step in provenance.steps for line in detail_lines(step)]
    if decided:
        lines.append("decided by:")
        lines += _capped(["  " + line for line in decided], limit)
    if provenance.inputs:
        lines.append("inputs:")
        places = input_places or {}
        rows = []
        for leaf in provenance.inputs:
            place = places.get((leaf.label, leaf.entity, leaf.period))
            copy = f" [{place}]" if place else ""
            rows.append(f"  {head_text(leaf)}: {origin_of(leaf)}{copy}")
        lines += _capped(rows, limit)
    lines += [citation_text(c) for c in root.citations]
    lines += list(root.interpretations)
    return "\n".join(lines)


def _capped(lines: list[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return lines
    return lines[:limit] + [f"  ... and {len(lines) - limit} more"]
