"""The lowered IR: a plan's expressions made ready to run, data-free and immutable.

:func:`planlang.run.lower.lowered` builds it once per plan. Each node keeps the syntax node it came
from (``source``: its span, type and text for messages and explanations) and adds what every run
would otherwise work out again: the semantics row of each operation (built-ins resolved to their
registry entries), the text a message names, whether a tolerance is relative, the names it reads.

    Literal      a value written out
    Period       ``period``: the period being worked out
    Ref          a name read through its alignment (``SystemRef``: its system's)
    Apply        a strict operation over present operands (arithmetic, comparisons, ``not``, built-ins)
    Call         a built-in that looks at missing values itself (``present``)
    ErrorFlags   ``any_error_flag()``: the flags it counts
    Logical      ``and`` / ``or`` (Kleene)
    If           a condition and two branches (lazy)
    Within       a tolerance, relative or absolute
    Bands        tiered payment, thresholds named
    Taper        base less rate times shortfall, floor and cap
    Aggregate    a reduction over members, months or quarters
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from .. import syntax as s
from ..builtins import Builtin
from .semantics import Operation

__all__ = ["Node", "Literal", "Period", "Ref", "Apply", "Call", "ErrorFlags", "Logical", "If", "Within", "Bands", "Taper",
           "Aggregate", "LoweredDeclaration", "LoweredPlan", "LoweredScenario"]


@attrs.frozen
class Node:
    source: s.Expr
    reads: frozenset[str]


@attrs.frozen
class Literal(Node):
    value: object


@attrs.frozen
class Period(Node):
    pass


@attrs.frozen
class Ref(Node):
    """A name. ``kind`` is its declaration's class; ``system`` when it is ``system.x``."""

    name: str
    kind: type
    alignment: s.Alignment
    system: bool = False


@attrs.frozen
class Apply(Node):
    """A strict operation: ``function`` over the operands' values, called only when none is missing."""

    operation: Operation
    function: Callable
    args: tuple[Node, ...]


@attrs.frozen
class Call(Node):
    """A built-in that is given missing values too (its row's rule is not strict)."""

    operation: Operation
    function: Callable
    args: tuple[Node, ...]


@attrs.frozen
class ErrorFlags(Node):
    """``any_error_flag()``: each flag counted, with the organisation kinds it applies to."""

    operation: Operation
    function: Callable
    flags: tuple[tuple[str, frozenset[str]], ...]


@attrs.frozen
class Logical(Node):
    operation: Operation
    left: Node
    right: Node


@attrs.frozen
class If(Node):
    operation: Operation
    condition: Node
    then: Node
    otherwise: Node


@attrs.frozen
class Within(Node):
    operation: Operation
    value: Node
    tolerance: Node
    reference: Node
    relative: bool


@attrs.frozen
class Bands(Node):
    operation: Operation
    amount: Node
    uppers: tuple[Node, ...]
    rates: tuple[Node, ...]
    top: Node
    names: tuple[str, ...]


@attrs.frozen
class Taper(Node):
    operation: Operation
    base: Node
    shortfall: Node
    rate: Node
    floor: Node | None
    cap: Node | None


@attrs.frozen
class Aggregate(Node):
    """A reduction ``over`` members (of ``member_kinds``), months or quarters."""

    operation: Operation
    builtin: Builtin
    inner: Node
    over: str
    member_kinds: tuple[str, ...]


@attrs.frozen(eq=False)
class LoweredDeclaration:
    """One declaration's expressions lowered, with what the lowering read of the rest of its program.

    A plan whose program holds the same declaration (and amendments) and gives every name in
    ``kinds`` the same kind and every flag in ``flags`` the same declaration lowers it to the same
    nodes, so plans of one family (the hybrids of one attribution) can share it
    (:class:`planlang.run.shared.Shared`).
    """

    name: str
    decl: s.Decl
    amendments: tuple[s.Decl, ...]
    kinds: tuple[tuple[str, type], ...]  # each name a reference reads -> the kind its lowering took
    flags: tuple[tuple[str, s.Decl], ...]  # each flag ``any_error_flag()`` counts -> its declaration
    formula: Node | None
    parameters: tuple[Node, ...]  # a parameter's values, in each version and schedule entry
    default: Node | None  # an input's declared default
    by_source: Mapping[int, tuple[s.Expr, Node]]


@attrs.frozen(eq=False)
class LoweredPlan:
    """Every expression of a plan, lowered: the formulas by name, and each parameter version's values.

    It holds no reference to the plan (it is cached weakly by it) and no data. ``declarations``
    holds the same nodes declaration by declaration.
    """

    kinds: Mapping[str, type]  # each declared name -> its declaration's class
    formulas: Mapping[str, Node]
    parameters: tuple[Node, ...]
    defaults: Mapping[str, Node]
    by_source: Mapping[int, tuple[s.Expr, Node]]  # the plan's own syntax nodes (kept alive here) -> lowered
    declarations: Mapping[str, LoweredDeclaration] = attrs.field(factory=dict)

    def of(self, expr: s.Expr) -> Node | None:
        """The lowered node of one of the plan's expressions, or None for an expression from elsewhere."""
        return _of(self.by_source, expr)


@attrs.frozen(eq=False)
class LoweredScenario:
    """A scenario's settings lowered against a plan: each name set -> its (setting, lowered value), last written first."""

    settings: Mapping[str, tuple]
    by_source: Mapping[int, tuple[s.Expr, Node]]  # the scenario's own syntax nodes (kept alive here) -> lowered

    def of(self, expr: s.Expr) -> Node | None:
        return _of(self.by_source, expr)


def _of(by_source, expr):
    # keyed by identity, with the syntax node held beside its lowered node so that its id cannot be reused
    found = by_source.get(id(expr))
    return found[1] if found is not None and found[0] is expr else None
