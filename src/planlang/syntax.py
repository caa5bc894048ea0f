"""The syntax tree: immutable nodes, each with the span of source it came from.

The parser builds these from Lark's tree; the checker returns the same expression nodes with
``type`` filled in (and references resolved), changed with :func:`attrs.evolve`, never mutated.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import attrs

from .periods import Period
from .source import Span

frozen = attrs.frozen(kw_only=True)

# ---- expressions -------------------------------------------------------------------------------


@frozen
class Expr:
    span: Span
    type: str | None = None  # filled in by the checker: money, percent, ratio, count, bool, ...


@frozen
class Literal(Expr):
    value: Fraction | bool | dt.date | str | Period
    text: str


@attrs.frozen
class Alignment:
    """Which cell a reference reads, given the cell being worked out; set when the name is resolved.

    ``entity``: ``same`` (the same organisation), ``system`` (its system) or None (the name has no
    value per organisation). ``period``: ``same`` (the same period: parameters, which look up their
    own schedule), ``containing`` (the period of ``granularity`` that holds the one being worked
    out, or that period itself) or None (the name has no period).

    >>> Alignment("same", "containing", "quarter").cell("T1", Period("month", 2021, 5), {})
    ('T1', Period('2021/22 Q1'))
    """

    entity: str | None
    period: str | None
    granularity: str | None = None

    def cell(self, entity, period, organisations):
        """The (entity, period) read from the cell (``entity``, ``period``)."""
        if self.entity == "system":
            entity = organisations[entity].system
        elif self.entity is None:
            entity = None
        if self.period is None:
            period = None
        elif self.period == "containing" and period.kind != self.granularity:
            period = period.within(self.granularity)
        return entity, period


@frozen
class Ref(Expr):
    """A name: an input, parameter, definition, deadline or flag. ``target`` is its kind once resolved."""

    name: str
    target: str | None = None
    alignment: Alignment | None = None


@frozen
class SystemRef(Expr):
    """``system.x``: the value of ``x`` for the organisation's system."""

    name: str
    target: str | None = None
    alignment: Alignment | None = None


@frozen
class CurrentPeriod(Expr):
    """``period``: the period being evaluated."""


@frozen
class Argument:
    span: Span
    value: Expr
    over: str | None = None  # members, months or quarters


@frozen
class Call(Expr):
    name: str
    name_span: Span
    args: tuple[Argument, ...] = ()
    member_kinds: tuple[str, ...] = ()  # for `over members`: the kinds of member counted, set by the checker
    flags: tuple[str, ...] = ()  # for error_flags(): the flags it counts, set by the checker


@frozen
class Negate(Expr):
    operand: Expr


@frozen
class Not(Expr):
    operand: Expr


@frozen
class Binary(Expr):
    op: str  # + - * /
    left: Expr
    right: Expr


@frozen
class Compare(Expr):
    op: str  # > >= < <= == !=
    left: Expr
    right: Expr


@frozen
class Logical(Expr):
    op: str  # and, or
    left: Expr
    right: Expr


@frozen
class Within(Expr):
    """``value within tolerance of reference``: relative when the tolerance is a percentage."""

    value: Expr
    tolerance: Expr
    reference: Expr


@frozen
class If(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr
    because: str | None = None  # why, when the else branch applies
    then_because: str | None = None  # why, when the then branch applies


@frozen
class Band:
    span: Span
    upper: Expr
    rate: Expr


@frozen
class Bands(Expr):
    """Tiered payment: each band pays its rate on the part of ``amount`` that falls inside it."""

    amount: Expr
    bands: tuple[Band, ...]
    top_rate: Expr


@frozen
class Taper(Expr):
    """``taper base by shortfall at rate [floor f] [cap c]``: lose ``rate`` of every £1 of shortfall."""

    base: Expr
    shortfall: Expr
    rate: Expr
    floor: Expr | None = None
    cap: Expr | None = None


@frozen
class DaySpan(Expr):
    """``n working days`` or ``n days``: a length of time to add to a date."""

    count: Expr
    working: bool


# ---- declarations ------------------------------------------------------------------------------


@frozen
class Citation:
    span: Span
    source: str
    section: str
    quote: str | None = None

    def __str__(self) -> str:
        return f"{self.source} {self.section}"


@frozen
class ScheduleEntry:
    span: Span
    first: Period
    last: Period
    value: Expr


@frozen
class Decl:
    """What every declaration has: its name, where it is, what it cites and any Interpretation comments."""

    span: Span
    name: str
    name_span: Span
    description: str | None = None
    citations: tuple[Citation, ...] = ()
    interpretations: tuple[str, ...] = ()


@frozen
class PolicyHeader(Decl):
    year: Period


@frozen
class Unencoded(Decl):
    """A passage of a source that the pack does not encode, quoted, with the reason."""

    citation: Citation
    reason: str


@frozen
class Source(Decl):
    title: str | None = None
    unencoded: tuple[Unencoded, ...] = ()  # the passages of this source the pack does not encode


@frozen
class Scoped(Decl):
    """A declaration with a value per entity and period."""

    kinds: tuple[str, ...] = ()
    granularity: str | None = None  # month, quarter, half, year; None when it has no period
    during: tuple[Period, Period] | None = None


@frozen
class InputDecl(Scoped):
    type: str
    type_span: Span
    default: Expr | None = None
    range: tuple[Expr, Expr] | None = None  # the valid values, both ends included; data outside is an error


@frozen
class ParameterDecl(Decl):
    type: str
    type_span: Span
    granularity: str | None = None
    value: Expr | None = None
    schedule: tuple[ScheduleEntry, ...] = ()


@frozen
class AmendDecl(Decl):
    """A later value of a parameter, effective from a date; the original declaration is untouched."""

    effective: dt.date
    value: Expr | None = None
    schedule: tuple[ScheduleEntry, ...] = ()


@frozen
class DefineDecl(Scoped):
    type: str
    type_span: Span
    value: Expr


@frozen
class FlagDecl(Scoped):
    severity: str
    severity_span: Span
    when: Expr
    message: str
    message_span: Span


@frozen
class DeadlineDecl(Scoped):
    value: Expr


# ---- tests -------------------------------------------------------------------------------------


@frozen
class Target:
    span: Span
    name: str
    entity: str | None = None
    period: Period | None = None


@frozen
class TestEntity:
    span: Span
    kind: str
    code: str
    system: str | None = None


@frozen
class Given:
    span: Span
    target: Target
    value: Expr


@frozen
class Expectation:
    """``expect x = v``, ``expect x is missing``, ``expect [no] flag f``."""

    span: Span
    target: Target
    kind: str  # value, missing, flag, no_flag
    value: Expr | None = None


@frozen
class TestNote:
    span: Span
    kind: str  # note or discrepancy
    text: str


@frozen
class TestDecl(Decl):
    entities: tuple[TestEntity, ...] = ()
    period: tuple[Period, Period] | None = None  # the periods a target without `in` means
    givens: tuple[Given, ...] = ()
    expectations: tuple[Expectation, ...] = ()
    notes: tuple[TestNote, ...] = ()
    under: tuple[str, Span] | None = None  # a test in a scenario file: the scenario it runs under


# ---- scenarios ---------------------------------------------------------------------------------


@frozen
class SettingTarget:
    """What a ``set`` replaces: ``NAME [for ENTITY] [in PERIOD [to PERIOD]]``."""

    span: Span
    name: str
    name_span: Span
    entity: str | None = None
    entity_span: Span | None = None
    periods: tuple[Period, Period] | None = None
    periods_span: Span | None = None


@frozen
class SetClause:
    """``set TARGET = EXPR`` (a value, reading baseline values) or ``replace NAME = EXPR`` (a new formula)."""

    span: Span
    target: SettingTarget
    value: Expr
    formula: bool = False


@frozen
class ScenarioDecl(Decl):
    based_on: tuple[tuple[str, Span], ...] = ()
    settings: tuple[SetClause, ...] = ()


# what each kind of rule is called in listings, comparisons and editors
RULE_KINDS = {InputDecl: "input", ParameterDecl: "parameter", DefineDecl: "definition", FlagDecl: "flag",
              DeadlineDecl: "deadline"}


@frozen
class PolicyFile:
    path: str
    declarations: tuple[Decl, ...]


def children(expr: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of ``expr``, in source order."""
    match expr:
        case Call(args=args):
            return tuple(a.value for a in args)
        case Negate(operand=x) | Not(operand=x):
            return (x,)
        case Binary(left=a, right=b) | Compare(left=a, right=b) | Logical(left=a, right=b):
            return (a, b)
        case Within(value=a, tolerance=b, reference=c):
            return (a, b, c)
        case If(condition=a, then=b, otherwise=c):
            return (a, b, c)
        case Bands(amount=a, bands=bands, top_rate=t):
            return (a, *(x for band in bands for x in (band.upper, band.rate)), t)
        case Taper(base=a, shortfall=b, rate=c, floor=f, cap=k):
            return tuple(x for x in (a, b, c, f, k) if x is not None)
        case DaySpan(count=x):
            return (x,)
    return ()


def walk(expr: Expr):
    """Every node of ``expr``, parents before children."""
    yield expr
    for child in children(expr):
        yield from walk(child)


# what the parser and checker add that is not part of what a node says
_NOT_MEANING = frozenset({"span", "name_span", "type_span", "severity_span", "message_span", "text", "target",
                          "member_kinds", "flags"})


def meaning(node):
    """A node as nested tuples of what it says: without positions, source spellings or the checker's findings.

    Two nodes mean the same when their meanings are equal, wherever and however they were written
    (``£1000`` and ``£1,000``; the same rule in another file). A literal keeps its type: ``50%``
    and ``0.5`` say different things.
    """
    if isinstance(node, tuple):
        return tuple(meaning(x) for x in node)
    if not attrs.has(type(node)):
        return node
    skip = _NOT_MEANING if isinstance(node, Literal) else _NOT_MEANING | {"type"} if isinstance(node, Expr) else _NOT_MEANING
    fields = {f.name: meaning(getattr(node, f.name)) for f in attrs.fields(type(node)) if f.name not in skip}
    return (type(node).__name__, tuple(sorted(fields.items())))
