"""Benchmark: one `sweep` step of the ERF rule at 120,000 system-months, against an exact int64 NumPy evaluation.

20,000 synthetic systems x the rule's 6 months (bench_vector.py's Synthetic data). A step sets
``erf_rate_above_upper`` and totals ``erf_additional_funding`` over every system and month, through
:func:`planlang.run.bulk.step_results` as ``planlang sweep`` does, on each backend asked. Against it:

- ``hand int64``: the rule written by hand in exact int64 NumPy (bench_vector.exact_funding: every
  amount scaled to an integer) and its exact total (one Python int per month);
- ``old sum``: the same planlang step with the total summed as before item 2 of issue 22 (every
  value made a Python int once the column's bound could pass int64), swapped in for the timing.

To time another checkout's planlang (the code before a change, in the same minutes), put its
``src`` first: ``PYTHONPATH=DIR/src python benchmarks/bench_sweep_step.py``.

The candidates are interleaved (one call of each per round, best of the rounds), so that load drift
on a shared machine biases no ratio; before any time is printed the totals are checked to agree with
the hand version. Printed: ms per step and each candidate's ratio to the hand version.

Usage: ``python benchmarks/bench_sweep_step.py [SYSTEM_MONTHS] [--backends vector,compiled] [--rounds N]``.
The results go in docs/performance.md. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction

import numpy as np
from bench_erf import erf_pack
from bench_vector import Synthetic, exact_funding

from planlang.plan import compile_plan
from planlang.run import bulk, run, totals
from planlang.run.vector import steps as steps_module
from planlang.scenario import scenario_from_sets

OUTPUT = "erf_additional_funding"


def old_column_sum(num, den) -> Fraction:
    """The column sum as it was: every value a Python int as soon as count x bound could pass 2^62."""
    if type(den) is int and len(num) * max(1, int(np.abs(num).max(initial=0))) > totals.CHUNK_LIMIT:
        return Fraction(sum(int(x) for x in num), den)
    return totals.column_sum(num, den)


def hand_total(data: Synthetic) -> Fraction:
    numerators, denominators = exact_funding(data)
    return sum((Fraction(int(row.sum(dtype=object) if row.size * 2**40 > 2**62 else row.sum()), int(d))
                for row, d in zip(numerators, denominators[:, 0])), Fraction(0))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", type=int, default=120_000, help="system-months")
    parser.add_argument("--backends", default="vector", help="bulk backends, comma-separated")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b in bulk.BACKENDS]

    plan = compile_plan(erf_pack())
    data = Synthetic(args.size)
    dataset = data.dataset()
    scenario = scenario_from_sets(["erf_rate_above_upper = 120%"], plan, dataset)  # the rule's own rate: hand agrees
    run(plan, dataset)

    def step(backend):
        def go():
            (result,) = bulk.step_results(plan, dataset, [bulk.Step(scenario)], [OUTPUT], backend)
            return result.total(OUTPUT).value
        return go

    def old_sum_step():
        steps_module.column_sum = old_column_sum
        try:
            return step("vector")()
        finally:
            steps_module.column_sum = totals.column_sum

    candidates = {"hand int64": lambda: hand_total(data)}
    if hasattr(steps_module, "column_sum"):  # not under --src of a checkout from before the chunked sums
        candidates["old sum (vector)"] = old_sum_step
    candidates.update({b: step(b) for b in backends})
    expected = candidates["hand int64"]()
    for name, fn in candidates.items():
        assert fn() == expected, name  # warm-up and check: every candidate's total is the exact one
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(args.rounds):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"ERF sweep step, {data.cells:,} system-months; best of {args.rounds} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| candidate | ms per step | / hand int64 |")
    print("|---|---:|---:|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1000:.2f} | {seconds / best['hand int64']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
