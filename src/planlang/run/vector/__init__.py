"""The vector backend: a plan worked out as whole columns, one value per organisation, exact.

    compiled.VectorPlan  what the plan alone decides, once per plan: which nodes read organisations'
                         values, the names each reads, each node's semantics row and column kernel
    engine.VectorRun     a run over one dataset under a scenario (or many steps of a sweep at once):
                         per-run state is data and columns only; kernels from planlang.run.columns
    steps.vector_steps   planlang.run.bulk's "vector" backend: a sweep's steps in chunks, each chunk one
                         run with a leading axis over the steps (imported by bulk, not here: it drives
                         planlang.run.backends, which imports this package)

This package owns evaluating a plan with columns; the column type, the layout of organisations and
the kernels are :mod:`planlang.run.columns`', what each operation means is
:mod:`planlang.run.semantics`'.
"""

from ..columns import LIMIT, Column
from .engine import VectorRun

__all__ = ["VectorRun", "Column", "LIMIT"]
