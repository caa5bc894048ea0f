"""Which backend runs a plan: :func:`run` over every cell in scope, dispatched through :data:`BACKENDS`.

Both backends implement one protocol, :class:`~planlang.run.protocol.Backend` (a run of a plan over
inputs under a scenario, asked for values by name, organisation and period); they give the same figures, and the faster one for the
data's size is :func:`choose_backend`'s.
"""

from __future__ import annotations

import weakref
from collections.abc import Collection

from .. import syntax as s
from ..compiler import Program
from ..data import Dataset
from ..plan import Plan, compile_plan
from ..scenario import BASELINE, Scenario
from .exact import ExactRun
from .fused import CompiledRun
from .protocol import BackendClass
from .results import Cells, Results, periods_for
from .vector import VectorRun

__all__ = ["run", "choose_backend", "evaluate", "BACKENDS", "VECTOR_FROM"]


def run(plan: Plan, inputs: Dataset, scenario: Scenario = BASELINE, on_computed=None, *, baseline: Results | None = None,
        backend: str = "exact", names: Collection[str] | None = None) -> Results:
    """Work out every definition, flag and deadline of ``plan`` for every organisation and period in scope.

    ``scenario`` layers its settings over ``inputs`` and the plan; given the ``baseline`` results of
    the same plan and inputs, only what the scenario can change is worked out again. ``on_computed``,
    when given, is called with every value worked out (``on_computed(name, entity, period, value)``);
    explanations are recorded by a tracer instead (:func:`planlang.explanation.explain`). Given
    ``names``, only those are worked out (with whatever they read) and the results' scope holds their
    cells alone: what a caller reading a few outputs (an attribution's coalition) needs.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; the backends are {', '.join(BACKENDS)}")
    if baseline is not None and (baseline.plan is not plan or baseline.dataset is not inputs):
        raise ValueError("the baseline must be a run of the same plan over the same inputs")
    engine = BACKENDS[backend](plan, inputs, scenario, baseline.run if baseline is not None else None)
    scope = {}
    entities_of = _ENTITIES.setdefault(inputs, {})
    for name in plan.order:
        decl = plan.declarations[name]
        if not isinstance(decl, (s.DefineDecl, s.FlagDecl, s.DeadlineDecl)) or (names is not None and name not in names):
            continue
        if baseline is not None and name not in engine.changed and name in baseline.scope:
            scope[name] = baseline.scope[name]  # the same cells and values as the baseline's: read from it
            continue
        entities = entities_of.get(decl.kinds)
        if entities is None:
            entities = entities_of[decl.kinds] = tuple(o.code for o in inputs.of_kinds(decl.kinds)) if decl.kinds else (None,)
        keys = Cells(entities, tuple(periods_for(plan.program, inputs, decl)))
        engine.work_out(name, keys, on_computed)
        scope[name] = keys
    return Results(engine, scope)


BACKENDS: dict[str, BackendClass] = {"exact": ExactRun, "vector": VectorRun, "compiled": CompiledRun}

# the organisations of each set of kinds, by dataset: a run over the same data (a scenario's, a sweep's) lists them once
_ENTITIES: "weakref.WeakKeyDictionary[Dataset, dict]" = weakref.WeakKeyDictionary()

# From this many organisations the vector backend works a pack out faster than the exact engine
# (measured on the shipped packs: docs/performance.md, "Choosing a backend").
VECTOR_FROM = 20


def choose_backend(dataset: Dataset) -> str:
    """The faster backend for the data's size; both give the same figures."""
    return "vector" if len(dataset.organisations) >= VECTOR_FROM else "exact"


def evaluate(program: Program | Plan, dataset: Dataset, scenario: Scenario = BASELINE) -> Results:
    """:func:`run` for a compiled program (its plan is made here) or a plan."""
    plan = program if isinstance(program, Plan) else compile_plan(program)
    return run(plan, dataset, scenario)


