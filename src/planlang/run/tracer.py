"""Tracers: what an explanation records while a cell is evaluated, as typed events.

A traced evaluation (:func:`planlang.run.traced.record`) tells a :class:`Tracer` what it found, as
it works each step out: each named value (a definition, flag, deadline, input or parameter, with
where its value came from) and each step that decides something (a condition, comparison, logical,
bands, taper, tolerance or aggregate). An :class:`Event`'s ``detail`` is one of the typed classes
here (:class:`Branch`, :class:`BandsApplied`, :class:`InputOrigin`, ...), never a dict; each
offers :meth:`as_detail`, the mapping view renderers read, with the expressions it names given as
their source text. Nothing here formats a sentence.

:class:`NullTracer` is bulk work's tracer: with it a cell is worked out by the plain closures and
nothing is recorded. :class:`RecordingTracer` keeps the events as a tree of :class:`Recorded`;
:class:`planlang.explanation.TreeTracer` records them as the derivation trees renderers show.

>>> Tolerance(relative=False, tolerance=Fraction(5), operand_type="money").as_detail(str)
{'relative': False, 'tolerance': Fraction(5, 1), 'operand_type': 'money'}
>>> InputOrigin(origin="data.json").as_detail(str), InputOrigin(assumed=True).as_detail(str), InputOrigin().as_detail(str)
({'origin': 'data.json'}, {'assumed': True}, {})
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, Protocol

import attrs

from .. import syntax as s
from ..periods import Period

__all__ = ["Event", "Tracer", "NullTracer", "RecordingTracer", "Recorded", "Detail", "InputOrigin", "ParameterUse", "Flag",
           "Comparison", "Logical", "Branch", "BandRow", "BandMargin", "BandsApplied", "TaperApplied", "Tolerance",
           "Aggregate", "Member"]

Text = Callable[[Any], str]  # a span -> its source text


class Detail:
    """What one event found, typed; :meth:`as_detail` is its mapping view for renderers."""

    __slots__ = ()

    def as_detail(self, text: Text) -> dict:
        raise NotImplementedError


# ---- named values ----

@attrs.frozen
class InputOrigin(Detail):
    """Where an input's value came from: the scenario (``setting``), the data (``origin``: where in
    it), a declared default (``assumed``), or nowhere (all unset: the input is missing)."""

    setting: Any = None
    origin: str | None = None
    assumed: bool = False

    @classmethod
    def of(cls, found: dict) -> "InputOrigin":
        """From a backend's :meth:`~planlang.run.protocol.Backend.input_origin`."""
        return cls(found.get("setting"), found.get("origin"), bool(found.get("assumed")))

    def as_detail(self, text: Text) -> dict:
        # a setting is the named value's own (Event.setting), shown beside any detail
        if self.setting is not None:
            return {}
        if self.origin is not None:
            return {"origin": self.origin}
        return {"assumed": True} if self.assumed else {}


@attrs.frozen
class ParameterUse(Detail):
    """Which version of a parameter gave its value: an amendment in force (or the declaration) and,
    for a schedule, the entry covering the period. A scenario's setting is the event's ``setting``."""

    amendment: s.AmendDecl | None = None
    entry: s.ScheduleEntry | None = None

    def as_detail(self, text: Text) -> dict:
        detail: dict[str, Any] = {"effective": self.amendment.effective if self.amendment else None}
        if self.amendment is not None:
            detail["amendment"] = self.amendment.span
        if self.entry is not None:
            detail["schedule"] = (self.entry.first, self.entry.last)
            detail["entry"] = self.entry.span
        return detail


@attrs.frozen
class Flag(Detail):
    """A flag's severity and message (its condition is the event's ``formula``)."""

    severity: str
    message: str

    def as_detail(self, text: Text) -> dict:
        return {"severity": self.severity, "message": self.message}


# ---- steps ----

@attrs.frozen
class Comparison(Detail):
    """Both sides and, for numbers or dates, how far apart they were (``margin``; in days for dates)."""

    left: Any
    right: Any
    operand_type: str | None
    margin: Fraction | None = None

    def as_detail(self, text: Text) -> dict:
        detail = {"left": self.left, "right": self.right, "operand_type": self.operand_type}
        if self.margin is not None:
            detail["margin"] = self.margin
        return detail


@attrs.frozen
class Logical(Detail):
    """``and``/``or`` over its parts (a chain of one operator, left to right): each part's value, and
    the parts that decided the outcome."""

    op: str
    parts: tuple[s.Expr, ...]
    values: tuple[Any, ...]
    decisive: tuple[int, ...]

    def as_detail(self, text: Text) -> dict:
        return {"op": self.op, "parts": tuple(text(p.span) for p in self.parts), "values": self.values,
                "decisive": self.decisive}


@attrs.frozen
class Branch(Detail):
    """An ``if``: its condition, whether it held, the branch taken (none when the condition is missing)
    and that branch's ``because``."""

    condition: s.Expr
    holds: Any
    branch: str | None = None
    because: str | None = None

    def as_detail(self, text: Text) -> dict:
        detail = {"condition": text(self.condition.span), "holds": self.holds}
        if self.branch is not None:
            detail["branch"] = self.branch
        if self.because:
            detail["because"] = self.because
        return detail


@attrs.frozen
class BandRow:
    """One band: the part of the amount between ``lower`` and ``upper`` (None above the last threshold) pays ``rate``."""

    lower: Fraction
    upper: Fraction | None
    rate: Fraction
    portion: Fraction
    payment: Fraction
    threshold: s.Expr | None

    def as_detail(self, text: Text) -> dict:
        return {"from": self.lower, "to": self.upper, "rate": self.rate, "portion": self.portion, "payment": self.payment,
                "threshold": text(self.threshold.span) if self.threshold is not None else None}


@attrs.frozen
class BandMargin:
    """How far the amount lies above (or below, negative) one threshold."""

    threshold: s.Expr
    limit: Fraction
    margin: Fraction

    def as_detail(self, text: Text) -> dict:
        return {"threshold": text(self.threshold.span), "limit": self.limit, "margin": self.margin}


@attrs.frozen
class BandsApplied(Detail):
    """Tiered payment on ``amount``: each band's part and payment, the band the amount ends in
    (``applied``) and its distance to each threshold. ``rows`` is None when an operand is missing
    or the thresholds are out of order (nothing was worked out)."""

    amount: Any
    amount_expr: s.Expr
    rows: tuple[BandRow, ...] | None = None
    applied: int | None = None
    margins: tuple[BandMargin, ...] = ()

    def as_detail(self, text: Text) -> dict:
        detail = {"amount": self.amount, "amount_label": text(self.amount_expr.span)}
        if self.rows is not None:
            detail["rows"] = [row.as_detail(text) for row in self.rows]
            detail["applied"] = self.applied
            detail["margins"] = [margin.as_detail(text) for margin in self.margins]
        return detail


@attrs.frozen
class TaperApplied(Detail):
    """``base`` less ``rate`` per unit of ``shortfall``, held at ``floor``/``cap``; the reduction and
    whether floor or cap held it are None when an operand is missing."""

    base: Any
    shortfall: Any
    rate: Any
    floor: Any
    cap: Any
    reduction: Fraction | None = None
    floored: bool | None = None
    capped: bool | None = None

    def as_detail(self, text: Text) -> dict:
        detail = {"base": self.base, "shortfall": self.shortfall, "rate": self.rate, "floor": self.floor, "cap": self.cap}
        if self.reduction is not None:
            detail.update(reduction=self.reduction, floored=self.floored, capped=self.capped)
        return detail


@attrs.frozen
class Tolerance(Detail):
    """``within``: the tolerance (a share of the reference when ``relative``) and, when no operand is
    missing, the difference, the limit it allowed, whether it held, by what ``margin``, and for a
    relative tolerance of a non-zero reference the ``variance`` (difference over reference)."""

    relative: bool
    tolerance: Any
    operand_type: str | None
    difference: Fraction | None = None
    limit: Fraction | None = None
    within: bool | None = None
    margin: Fraction | None = None
    variance: Fraction | None = None

    def as_detail(self, text: Text) -> dict:
        detail = {"relative": self.relative, "tolerance": self.tolerance, "operand_type": self.operand_type}
        if self.difference is not None:
            detail.update(difference=self.difference, limit=self.limit, within=self.within, margin=self.margin)
            if self.variance is not None:
                detail["variance"] = self.variance
        return detail


@attrs.frozen
class Aggregate(Detail):
    """A reduction (``function``) ``over`` members, months, quarters or error flags."""

    over: str
    function: str

    def as_detail(self, text: Text) -> dict:
        return {"over": self.over, "function": self.function}


@attrs.frozen
class Member(Detail):
    """One cell an aggregate reduced: a member organisation, or a month or quarter (``over``)."""

    over: str

    def as_detail(self, text: Text) -> dict:
        return {"over": self.over}


# ---- events and tracers ----

@attrs.frozen
class Event:
    """What a traced evaluation found at one step.

    ``kind`` is a named value's kind (definition, flag, deadline, input, parameter) or a step's
    (condition, logical, comparison, bands, taper, tolerance, aggregate, member). A named value has its
    ``decl``; a step has its ``expr`` (a member of an aggregate has the aggregated ``expr``).
    ``formula`` is the expression a named value was worked out by (a scenario may replace it);
    ``setting`` is the scenario setting that decided the value, if one did.
    """

    kind: str
    value: Any
    entity: str | None
    period: Period | None
    decl: s.Decl | None = None
    expr: s.Expr | None = None
    formula: s.Expr | None = None
    setting: Any = None
    detail: Detail | None = None


class Tracer(Protocol):
    def recall(self, key: tuple) -> Any:
        """What was recorded for the named value ``key`` (name, entity, period) already, or None."""

    def record(self, event: Event, children: list) -> Any:
        """Record one event whose sub-steps recorded ``children``; returns the record."""

    def key(self, record) -> Any:
        """What makes two records the same step, so that a step found twice in one expression is shown once."""


class NullTracer:
    """Bulk work's tracer: nothing is recorded, and a cell traced with it is worked out by the plain closures."""

    def recall(self, key: tuple) -> None:
        return None

    def record(self, event: Event, children: list) -> None:
        return None

    def key(self, record) -> None:
        return None


@attrs.frozen(eq=False)
class Recorded:
    """One recorded event and the records of its sub-steps."""

    event: Event
    children: tuple["Recorded", ...] = ()


class RecordingTracer:
    """Keeps what a traced evaluation found as a tree of :class:`Recorded`; a named value is recorded once and shared."""

    def __init__(self):
        self.named: dict[tuple, Recorded] = {}

    def recall(self, key: tuple) -> Recorded | None:
        return self.named.get(key)

    def record(self, event: Event, children: list) -> Recorded:
        found = Recorded(event, tuple(children))
        if event.decl is not None:
            self.named[(event.decl.name, event.entity, event.period)] = found
        return found

    def key(self, record: Recorded) -> tuple:
        event = record.event
        return event.kind, event.decl.name if event.decl is not None else event.expr.span, event.entity, event.period
