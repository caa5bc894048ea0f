"""Many steps of a sweep at once: planlang.run.bulk's "vector" backend.

:func:`vector_steps` works a chunk of steps out in one :class:`~planlang.run.vector.VectorRun`
whose columns gain a leading axis over the steps (each step's scenario, or each step's input
factors), and :class:`StepView` reads one step's cells and totals from it; totals are summed as
integers column by column.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from ...data import Dataset
from ...plan import Plan
from ..backends import run
from ..columns.column import NUM, SCALAR, row
from ..totals import Total, column_sum
from .engine import VectorRun

__all__ = ["vector_steps", "StepView", "CHUNK_CELLS"]

# organisations x steps held in one column at once: a sweep's steps go through in chunks this size,
# so memory stays bounded however many steps there are
CHUNK_CELLS = 1 << 18


def vector_steps(plan: Plan, dataset: Dataset, steps, outputs: Sequence[str], *, chunk_cells: int = CHUNK_CELLS,
                 engine: type[VectorRun] = VectorRun):
    """Each step's results for ``outputs`` (see :func:`planlang.bulk.step_results`), worked out a chunk of
    steps at a time along the steps' axis; steps with factors and the same scenario share a chunk.
    ``engine`` runs each chunk: a :class:`VectorRun`, or a kind of one (the compiled backend's)."""
    baseline = _baseline_of(plan, dataset)
    width = max(1, chunk_cells // max(1, baseline.run.size))
    steps = list(steps)
    start = 0
    while start < len(steps):
        chunk = steps[start:start + width]
        if any(step.factors for step in chunk):
            settings = chunk[0].scenario.settings
            chunk = chunk[:next((k for k, step in enumerate(chunk) if step.scenario.settings != settings), len(chunk))]
            batch = engine(plan, dataset, factors=[step.factors for step in chunk])
            if settings:
                batch = engine(plan, dataset, chunk[0].scenario, baseline=batch)
        else:
            batch = engine(plan, dataset, baseline=baseline.run, steps=[step.scenario for step in chunk])
        for k, step in enumerate(chunk):
            yield StepView(step, batch, k, outputs, baseline.scope)
        start += len(chunk)


_BASELINES: "weakref.WeakKeyDictionary[Dataset, tuple]" = weakref.WeakKeyDictionary()


def _baseline_of(plan: Plan, dataset: Dataset):
    """The plain vector run of the plan over the dataset, made once and shared by every chunk of steps
    over them (a Dask worker evaluates many chunks of one sweep)."""
    found = _BASELINES.get(dataset)
    if found is None or found[0] is not plan:
        found = _BASELINES[dataset] = (plan, run(plan, dataset, backend="vector"))
    return found[1]


class StepView:
    """One step of a run of many steps: its cells and totals, read from the run's columns."""

    def __init__(self, step, batch: VectorRun, k: int, outputs: Sequence[str], scope):
        self.step, self.batch, self.k, self.outputs, self.scope = step, batch, k, tuple(outputs), scope

    def cells(self, output: str) -> list:
        return [(key, self.batch.value_at(self.k, output, *key)) for key in self.scope[output]]

    @property
    def by_output(self) -> dict:
        """Every asked output's cells, as :class:`planlang.bulk.StepResult` holds them."""
        return {name: self.cells(name) for name in self.outputs}

    def total(self, output: str):
        """The output's :class:`~planlang.totals.Total` over its cells, summed as integers column by column."""
        batch, k = self.batch, self.k
        cells = self.scope[output]
        codes, where = batch.positions(cells.entities)
        present, missing, count = Fraction(0), 0, len(cells)
        for period in cells.periods:
            column = row(batch.column(output, period), k)
            if column.kind == SCALAR or len(codes) != len(cells.entities):
                values = [batch.value_at(k, output, code, period) for code in cells.entities]
                numbers = [v for v in values if type(v) is Fraction]
                present += sum(numbers, Fraction(0))
                missing += len(values) - len(numbers)
                continue
            if column.kind != NUM:
                missing += len(codes)  # a total counts only numbers
                continue
            def part(x):
                return np.broadcast_to(x, (batch.size,))[where]

            gone = part(column.missing) if column.missing is not None else np.zeros(len(codes), dtype=bool)
            doubt = part(column.defer) & ~gone if column.defer is not None else np.zeros(len(codes), dtype=bool)
            known = ~gone & ~doubt
            den = column.den if type(column.den) is int else part(column.den)[known]
            present += column_sum(part(column.num)[known], den)
            missing += int(np.count_nonzero(gone))
            for i in np.flatnonzero(doubt):  # deferred cells: the exact engine's values
                value = batch.exact_step(k).value(output, codes[i], period)
                if type(value) is Fraction:
                    present += value
                else:
                    missing += 1
        return Total.of_sum(present, missing, count)
