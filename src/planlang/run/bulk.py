"""Bulk evaluation: many steps of one plan over one dataset, each step a scenario and sampled input factors.

    step_results(plan, dataset, steps, outputs, backend) -> one StepResult per step, in order

A :class:`Step` is a scenario (its settings layered over the base scenario, as ``--set`` layers
them) and, for uncertainty, factors multiplying some input values cell by cell. A
:class:`StepResult` holds every cell of the asked outputs, in the run's scope order, and totals
them. Backends are entries of :data:`BACKENDS`, each ``backend(plan, dataset, steps, outputs)``
yielding one :class:`StepResult` per step, in order, whose ``by_output[name]`` lists every cell of
the baseline's scope for ``name`` in that order; adding a backend is adding its entry. ``exact``
runs the exact engine and is the reference every other backend is tested against.

A step's totals are :class:`planlang.totals.Total`: the one exact total, whose rule for missing
cells every command shares.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction

import attrs

from ..data import Dataset
from ..periods import Period
from ..plan import Plan
from ..scenario import BASELINE, Scenario
from .backends import run
from .columns import with_factors
from .exact import ExactRun
from .fused import CompiledRun
from .results import Results
from .totals import Total, total_of
from .vector.steps import vector_steps

__all__ = ["Step", "StepResult", "step_results", "with_factors", "BACKENDS"]

Cell = tuple[str | None, Period | None]


@attrs.frozen
class Step:
    """One evaluation of a sweep: the scenario it runs under, and factors multiplying input values.

    ``factors`` maps an input to ``{(entity, period): factor}``; a cell the data has no value for
    is left as it is (missing stays missing, a declared default stays the default).
    """

    scenario: Scenario = BASELINE
    factors: Mapping[str, Mapping[tuple[str, Period], Fraction]] = attrs.field(factory=dict)


@attrs.frozen(eq=False)
class StepResult:
    """The cells of the asked outputs under one step: ``by_output[name]`` is ``[((entity, period), value), ...]``."""

    step: Step
    by_output: Mapping[str, list[tuple[Cell, object]]]

    def cells(self, output: str) -> list[tuple[Cell, object]]:
        return self.by_output[output]

    def total(self, output: str) -> Total:
        return total_of((value for _, value in self.by_output[output]), why=False)


_baseline: list = []  # [(plan, dataset, results)]: the last baseline, shared by the chunks a process evaluates


def _baseline_of(plan: Plan, dataset: Dataset) -> Results:
    if _baseline and _baseline[0][0] is plan and _baseline[0][1] is dataset:
        return _baseline[0][2]
    results = run(plan, dataset)
    _baseline[:] = [(plan, dataset, results)]
    return results


def _exact(plan: Plan, dataset: Dataset, steps: Iterable[Step], outputs: Sequence[str]) -> Iterator[StepResult]:
    """The exact engine, step by step: one baseline run shared, each step recomputing only what it can change.

    A step's run is :class:`~planlang.evaluator.ExactRun`, what :func:`~planlang.evaluator.run`
    drives, asked for the outputs' cells only (a run works everything out; a sweep needs a few
    outputs). The cells are the baseline's scope: it depends on the organisations and periods of
    the data, which neither a scenario nor a factor changes.
    """
    baseline = _baseline_of(plan, dataset)
    for step in steps:
        if step.factors:
            # the settings read the baseline of the factored data, as they read the data's baseline otherwise
            engine = ExactRun(plan, with_factors(dataset, step.factors), step.scenario)
        elif step.scenario.settings:
            engine = ExactRun(plan, dataset, step.scenario, baseline.run)
        else:
            engine = baseline.run
        yield StepResult(step, {name: [(key, engine.value(name, *key)) for key in baseline.scope[name]] for name in outputs})


Backend = Callable[[Plan, Dataset, Iterable[Step], Sequence[str]], Iterator[StepResult]]
BACKENDS: dict[str, Backend] = {"exact": _exact, "vector": vector_steps,
                                 "compiled": functools.partial(vector_steps, engine=CompiledRun)}


def step_results(plan: Plan, dataset: Dataset, steps: Iterable[Step], outputs: Sequence[str],
                 backend: str = "exact") -> Iterator[StepResult]:
    """Each step's results for ``outputs``, in the order of ``steps``, by the named backend."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; the backends are {', '.join(BACKENDS)}")
    return BACKENDS[backend](plan, dataset, steps, outputs)
