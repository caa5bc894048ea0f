"""What the vector backend derives from a plan alone, made once per plan and shared by all its runs.

For every expression of the plan's formulas: whether it reads no organisation's values (then one
value serves every organisation), the names it reads (to know which a scenario's steps change),
and its semantics row with the column kernel the row names (None when the row says LIFT, or the
node is not an operation). A run holds data only and asks :func:`compiled` for this.
"""

from __future__ import annotations

import weakref

import attrs

from ... import syntax as s
from ...builtins import BUILTINS
from ...plan import Plan
from ...source import Span
from ..columns.kernels import KERNELS, Kernel
from ..semantics import LIFT, Operation, operation_for

__all__ = ["NodeInfo", "VectorPlan", "compiled", "analyse"]


@attrs.frozen
class NodeInfo:
    """What the backend needs to know of one expression node, none of it from data."""

    free: bool  # it reads no organisation's values
    reads: frozenset[str]
    row: Operation | None
    kernel: Kernel | None  # the row's column kernel; None: lift to the exact engine (or not an operation)


def analyse(node: s.Expr) -> NodeInfo:
    row = operation_for(node)
    kernel = KERNELS[row.kernel] if row is not None and row.kernel is not LIFT else None
    return NodeInfo(_reads_no_entity(node), frozenset(_names_read(node)), row, kernel)


class VectorPlan:
    """The per-plan machinery: each declared name's kind, and a :class:`NodeInfo` for every node of the formulas.

    Nodes are found by identity, each held beside its entry so that an id cannot be reused while the
    entry lives; nodes from outside the plan (a scenario's formulas) are not kept here.
    """

    def __init__(self, plan: Plan):
        self.kinds = {name: type(decl) for name, decl in plan.declarations.items()}
        self._nodes: dict[int, tuple[s.Expr, NodeInfo]] = {}
        for formula in plan.formulas.values():
            for node in _expressions(formula):
                if id(node) not in self._nodes:
                    self._nodes[id(node)] = (node, analyse(node))

    def info(self, node: s.Expr) -> NodeInfo | None:
        """The node's entry when it is one of the plan's, else None."""
        found = self._nodes.get(id(node))
        return found[1] if found is not None and found[0] is node else None


_COMPILED: "weakref.WeakKeyDictionary[Plan, VectorPlan]" = weakref.WeakKeyDictionary()


def compiled(plan: Plan) -> VectorPlan:
    """The plan's vector machinery, built on first use and shared by every vector run of the plan."""
    found = _COMPILED.get(plan)
    if found is None:
        found = _COMPILED[plan] = VectorPlan(plan)
    return found


def _children(node):
    for field in attrs.fields(type(node)):
        value = getattr(node, field.name)
        for child in value if isinstance(value, tuple) else (value,):
            if attrs.has(type(child)) and not isinstance(child, (Span, s.Alignment)):
                yield child


def _expressions(root):
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, s.Expr):
            yield node
        stack.extend(_children(node))


def _names_read(node) -> set[str]:
    found = set()
    if isinstance(node, (s.Ref, s.SystemRef)):
        found.add(node.name)
    if isinstance(node, s.Call):
        found.update(node.flags)
    for child in _children(node):
        found |= _names_read(child)
    return found


def _reads_no_entity(node: s.Expr) -> bool:
    """Whether an expression's value is the same for every organisation (it reads nothing per organisation)."""
    match node:
        case s.Ref(alignment=a) | s.SystemRef(alignment=a):
            return a is None or a.entity is None
        case s.Call(name=name, args=args):
            if BUILTINS[name].reads != "arguments" or any(arg.over == "members" for arg in args):
                return False
            return all(_reads_no_entity(arg.value) for arg in args)
    for field in ("operand", "left", "right", "value", "tolerance", "reference", "condition", "then", "otherwise",
                  "amount", "top_rate", "base", "shortfall", "rate", "floor", "cap", "count"):
        child = getattr(node, field, None)
        if isinstance(child, s.Expr) and not _reads_no_entity(child):
            return False
    for band in getattr(node, "bands", ()):
        if not (_reads_no_entity(band.upper) and _reads_no_entity(band.rate)):
            return False
    return True
