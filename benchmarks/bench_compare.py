"""Benchmark: `compare` of one scenario against two separate runs, on the ERF rules.

A scenario run reads from the baseline run every name that nothing it sets is upstream of, so a
comparison should cost little more than one run. Measured on synthetic systems x 6 months (the
generator of bench_erf.py), for three scenarios that reach different shares of the graph:

- ``top rate 150%``: erf_rate_above_upper, read only by the funding (a small part of the graph);
- ``May at 70%``: erf_thresholds in 2021-05, under the lower threshold and everything after it;
- ``+3% activity``: erf_actual, an input most of the outputs depend on.

Printed for each: one baseline run, two separate runs (baseline and scenario, nothing shared), and
compare (baseline, scenario run sharing the baseline's values, and the comparison of every cell),
each in ms, and compare / one run. Best of 3. Usage: ``python benchmarks/bench_compare.py [SYSTEMS]``
(default 2000). The results go in docs/performance.md. Nothing here asserts a time.
"""

from __future__ import annotations

import sys

from bench_erf import erf_pack, synthetic, timed

from planlang.compare import compare
from planlang.data import make_dataset
from planlang.plan import compile_plan
from planlang.run import run
from planlang.scenario import scenario_from_sets

SCENARIOS = {
    "top rate 150%": "erf_rate_above_upper = 150%",
    "May at 70%": "erf_thresholds in 2021-05 = 70%",
    "+3% activity": "erf_actual = erf_actual * 103%",
}


def main(systems: int) -> None:
    plan = compile_plan(erf_pack())
    organisations, values = synthetic(systems)
    dataset = make_dataset(organisations, values, {}, "synthetic")
    _, one = timed(lambda: run(plan, dataset), 3)
    print(f"{systems} systems x 6 months; one baseline run {one * 1000:.0f} ms")
    print(f"{'scenario':<16} {'names changed':>13} {'two runs ms':>12} {'compare ms':>11} {'compare / one run':>18}")
    for label, text in SCENARIOS.items():
        scenario = scenario_from_sets([text], plan, dataset)

        def separate():
            return run(plan, dataset), run(plan, dataset, scenario)

        def together():
            baseline = run(plan, dataset)
            return compare(baseline, run(plan, dataset, scenario, baseline=baseline))

        (base, alone), two = timed(separate, 3)
        comparison, shared = timed(together, 3)
        # the shortcut changes nothing: the shared run gives every figure the separate one does
        assert {d.name for d in comparison.differences} <= set(plan.declarations)
        assert all(repr(comparison.scenario.get(*key)) == repr(alone.get(*key)) for key in alone.values())
        changed = len(comparison.scenario.run.changed)
        print(f"{label:<16} {changed:>13} {two * 1000:>12.0f} {shared * 1000:>11.0f} {shared / one:>18.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
