"""Rule coverage: which parts of each rule the pack's tests, or a data file, exercised.

A rule's *parts* are read from its formula (:func:`parts_of`): each band of a ``bands`` (below the
first threshold, between two, above the last) and each threshold met exactly, each segment of a
``taper`` (no reduction, a partial one, held at its floor or its cap), each branch of an ``if``,
each outcome of a ``within``, each flag raised and not raised, each date comparison (a deadline)
before, on and after its date, and the missing-value path of each of these.

Which parts a cell exercised is gathered by a :class:`CoverageTracer` over the plan's traced
closures (:func:`planlang.run.traced.record`): it keeps no tree, only the part each typed event
hit, keyed by its expression's span. A named value is recorded once per run (the tracer recalls
it), so each cell is evaluated traced once however many cells read it.

    covered_by_tests  the cells each test of the pack checks, and everything they read
    covered_by_data   every definition, flag and deadline of a run over a data file
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import attrs

from .. import syntax as s
from ..compiler import Program
from ..plan import compile_plan
from ..run import run as run_plan
from ..run.traced import record
from ..run.tracer import BandsApplied, Branch, Comparison, Event, TaperApplied, Tolerance
from ..source import Span
from ..testing import TestOutcome, run_test
from ..values import Missing

__all__ = ["Part", "CoverageReport", "CoverageTracer", "Hits", "parts_of", "covered_by_tests", "covered_by_data",
           "KINDS"]

KINDS = ("band", "taper", "branch", "within", "flag", "deadline", "missing")


@attrs.frozen
class Part:
    """One part of a rule: ``outcome`` of the step at ``span`` (a ``kind`` of step), in the rule ``rule``.

    ``words`` are the source texts a renderer names the part by (the thresholds of a band, the sides
    of a date comparison); the kind is ``missing`` for a step's missing-value path, whatever its step.
    """

    rule: str
    kind: str
    span: Span
    outcome: str
    step: str = ""  # the kind of step a missing path belongs to
    words: tuple[str, ...] = ()

    @property
    def key(self) -> tuple:
        return self.span, self.outcome


Hits = dict  # (span, outcome) -> how many cells hit it


@attrs.frozen
class CoverageReport:
    """The parts of a pack's rules and how many cells hit each; ``by`` says what was run (the tests, a data file)."""

    by: str
    parts: tuple[Part, ...]
    hits: dict
    cells: int

    def covered(self, part: Part) -> bool:
        return self.hits.get(part.key, 0) > 0

    @property
    def uncovered(self) -> list[Part]:
        return [p for p in self.parts if not self.covered(p)]

    def counts(self, kind: str | None = None) -> tuple[int, int]:
        """(covered, total) over the parts of ``kind`` (every part when None)."""
        chosen = [p for p in self.parts if kind is None or p.kind == kind]
        return sum(self.covered(p) for p in chosen), len(chosen)

    def score(self, kind: str | None = None) -> Fraction | None:
        covered, total = self.counts(kind)
        return Fraction(covered, total) if total else None

    def rules(self) -> list[str]:
        return list(dict.fromkeys(p.rule for p in self.parts))


# ---- the parts, read from the rules ----

def parts_of(program: Program) -> tuple[Part, ...]:
    """Every part of every definition, flag and deadline of ``program``, in source order."""
    found: list[Part] = []
    for name, decl in program.declarations.items():
        if isinstance(decl, s.FlagDecl):
            found += [Part(name, "flag", decl.span, "raised"), Part(name, "flag", decl.span, "not raised"),
                      Part(name, "missing", decl.span, "missing", "flag")]
            formula = decl.when
        elif isinstance(decl, (s.DefineDecl, s.DeadlineDecl)):
            formula = decl.value
        else:
            continue
        for expr in _walk(formula):
            found += _expr_parts(program, name, expr)
    return tuple(sorted(found, key=lambda p: (p.span.file, p.span.line, p.span.column)))


def _expr_parts(program: Program, rule: str, expr: s.Expr) -> list[Part]:
    text, span = program.text_of, expr.span
    if isinstance(expr, s.Bands):
        limits = [text(b.upper.span) for b in expr.bands]
        found = [Part(rule, "band", span, "band 0", words=(limits[0],))]
        found += [Part(rule, "band", span, f"band {k}", words=(limits[k - 1], limits[k])) for k in range(1, len(limits))]
        found.append(Part(rule, "band", span, f"band {len(limits)}", words=(limits[-1],)))
        found += [Part(rule, "band", span, f"on {k}", words=(limit,)) for k, limit in enumerate(limits)]
        step = "bands"
    elif isinstance(expr, s.Taper):
        found = [Part(rule, "taper", span, "none"), Part(rule, "taper", span, "partial")]
        found += [Part(rule, "taper", span, "floored")] if expr.floor is not None else []
        found += [Part(rule, "taper", span, "capped")] if expr.cap is not None else []
        step = "taper"
    elif isinstance(expr, s.If):
        words = (text(expr.condition.span),)
        found = [Part(rule, "branch", span, "then", words=words), Part(rule, "branch", span, "else", words=words)]
        step = "if"
    elif isinstance(expr, s.Within):
        found = [Part(rule, "within", span, "within"), Part(rule, "within", span, "outside")]
        step = "within"
    elif isinstance(expr, s.Compare) and "date" in (expr.left.type, expr.right.type):
        words = (text(expr.left.span), text(expr.right.span))
        found = [Part(rule, "deadline", span, outcome, words=words) for outcome in ("before", "on", "after")]
        step = "date comparison"
    else:
        return []
    return found + [Part(rule, "missing", span, "missing", step, found[0].words)]


def _walk(expr) -> Iterable[s.Expr]:
    """``expr`` and every expression inside it, depth first (iteratively: a formula may nest hundreds deep)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, s.Expr):
            yield node
        if isinstance(node, (s.Expr, s.Band, s.Argument)):
            children = [getattr(node, f.name) for f in attrs.fields(type(node))]
            stack.extend(reversed([c for c in children if isinstance(c, (s.Expr, s.Band, s.Argument, tuple))]))
        elif isinstance(node, tuple):
            stack.extend(reversed(node))


# ---- the parts a run hit ----

class CoverageTracer:
    """A :class:`~planlang.run.tracer.Tracer` that keeps only which part each event hit (into ``hits``).

    One per run: it recalls the named values of that run, so each is evaluated traced once; ``hits``
    may be shared by the tracers of many runs.
    """

    def __init__(self, hits: Hits):
        self.hits = hits
        self.named: dict[tuple, Event] = {}

    def recall(self, key: tuple):
        return self.named.get(key)

    def key(self, found: Event) -> tuple:
        return found.kind, found.decl.name if found.decl is not None else found.expr.span, found.entity, found.period

    def record(self, event: Event, children: list) -> Event:
        for outcome in _outcomes(event):
            span = event.decl.span if event.kind == "flag" else event.expr.span
            self.hits[(span, outcome)] = self.hits.get((span, outcome), 0) + 1
        if event.decl is not None:
            self.named[(event.decl.name, event.entity, event.period)] = event
        return event


def _outcomes(event: Event) -> list[str]:
    detail, kind = event.detail, event.kind
    if kind == "flag":
        return ["missing" if type(event.value) is Missing else "raised" if event.value else "not raised"]
    if isinstance(detail, Branch):
        return ["missing" if detail.branch is None else detail.branch]
    if isinstance(detail, BandsApplied):
        if detail.rows is None:
            return ["missing"]
        on = [f"on {k}" for k, margin in enumerate(detail.margins) if margin.margin == 0]
        return on or [f"band {detail.applied}"]
    if isinstance(detail, TaperApplied):
        if detail.reduction is None:
            return ["missing"]
        found = ["floored"] * bool(detail.floored) + ["capped"] * bool(detail.capped)
        return found or ["none" if detail.reduction == 0 else "partial"]
    if isinstance(detail, Tolerance):
        return ["missing" if detail.within is None else "within" if detail.within else "outside"]
    if isinstance(detail, Comparison):
        if type(event.value) is Missing:
            return ["missing"]
        if detail.operand_type == "days":
            return ["before" if detail.margin < 0 else "on" if detail.margin == 0 else "after"]
    return []


def _record_cells(results, cells: Iterable[tuple], hits: Hits) -> int:
    tracer, count = CoverageTracer(hits), 0
    run = results.run
    for name, entity, period in cells:
        record(run, name, entity, period, tracer)
        count += 1
    return count


def covered_by_tests(program: Program) -> tuple[list[TestOutcome], CoverageReport]:
    """Run ``program``'s own tests; the outcomes, and the parts of its rules they exercise (the cells each test
    checks, and all they read)."""
    plan, hits, cells, outcomes = compile_plan(program), {}, 0, []
    for test in program.tests:
        found = []
        outcomes.append(run_test(program, test, plan=plan,
                                 checked=lambda results, name, entity, period: found.append((results, name, entity, period))))
        if found:
            cells += _record_cells(found[0][0], [x[1:] for x in found], hits)
    return outcomes, CoverageReport("the pack's tests", parts_of(program), hits, cells)


def covered_by_data(plan, dataset, source: str) -> CoverageReport:
    """The parts of the plan's rules that a run over ``dataset`` exercises: every cell of every name in scope."""
    results = run_plan(plan, dataset, backend="exact")
    hits: Hits = {}
    cells = _record_cells(results, ((name, e, p) for name, keys in results.scope.items() for e, p in keys), hits)
    return CoverageReport(source, parts_of(plan.program), hits, cells)
