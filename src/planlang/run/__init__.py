"""The run side: a compiled plan evaluated over an organisation's data under a scenario.

    semantics        the table of operations: exact implementation, missing rule, column kernel or lift
    lower.lowered    Plan -> ir.LoweredPlan, once per plan (weakly cached): the data-free lowered IR
    exact.compiled   Plan -> exact.Compiled, once per plan: closures(run, frame) every exact run shares
    shared.Shared    a family of plans (an attribution's hybrids): each declaration lowered and compiled once
    protocol.Backend what every backend provides; backends.BACKENDS is typed by it
    backends.run     Plan, inputs, scenario -> Results       picks a backend from BACKENDS
    exact.ExactRun   the exact engine: fractions, on demand, every figure explainable; holds data only
    vector.VectorRun the vectorised engine: whole columns of organisations, exact as fractions; its
                     per-plan machinery built once (vector.compiled), each operation the kernel its
                     semantics row names (columns.KERNELS: the Column type, layout and kernels)
    results.Results  every value, flag and missing value of one run, keyed by (name, entity, period)
    traced.record    one cell evaluated by the plan's traced closures, its steps recorded as typed events
    tracer           the typed events and details, NullTracer (bulk work) and RecordingTracer
    totals.Total     the one exact total over cells, with its rule for missing cells
    bulk, scaleout   many steps of one plan (sweeps, uncertainty), in one process or on Dask

This package owns evaluation; it reads the plan (:mod:`planlang.plan`), the data
(:mod:`planlang.data`) and scenarios (:mod:`planlang.scenario`) and formats nothing.
"""

from .backends import BACKENDS, VECTOR_FROM, choose_backend, evaluate, run
from .exact import ExactRun, constant_value
from .results import Cells, FlagResult, LateSubmission, Results, periods_for
from .totals import Total, total_of

__all__ = ["run", "evaluate", "choose_backend", "BACKENDS", "VECTOR_FROM", "ExactRun", "constant_value", "Results", "Cells",
           "FlagResult", "LateSubmission", "periods_for", "Total", "total_of"]
