"""Benchmark: the 2020/21 FRF rules (policies/2020_21/frf.plan) swept over 1,000 taper rates, in one
process and on Dask.

5,000 synthetic organisations (trusts and CCGs, 10 to a system, so 500 systems) x the 4 quarters of
2020/21; each sweep step sets ``frf_taper_rate`` (50% to 149.9% in steps of 0.1%) and totals
``frf_paid`` and ``frf_unearned_in_year`` over every organisation and period.

- each step goes through ``planlang.run.bulk.step_results`` when that module exists (its vector
  backend when it has one, else its exact one); otherwise each step is
  ``run(plan, dataset, scenario, baseline=base)`` with the exact engine (a scenario run works out
  again only what the rate reaches). Through an exact engine a few steps are timed and the 1,000
  extrapolated, as printed; through a vector backend all 1,000 are timed;
- Dask: a ``LocalCluster`` of 1 and then 2 worker processes, the steps split into one chunk per
  worker and ``client.map`` running the same sweep on each chunk (each worker makes its own
  baseline run); the speed-up is 1 worker's time over 2 workers'. The totals must equal the
  single process's.

Usage: ``python benchmarks/frf_sweep.py [EXACT_STEPS]`` (bench_vector.py runs it after the ERF table).
"""

from __future__ import annotations

import importlib.util
import logging
import random
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from planlang.compiler import compile_sources
from planlang.data import Organisation, make_dataset
from planlang.periods import parse_period
from planlang.plan import compile_plan
from planlang.run import run
from planlang.scenario import scenario_from_sets
from planlang.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
QUARTERS = [parse_period(f"2020/21 Q{q}") for q in range(1, 5)]
YEAR = parse_period("2020/21")
OUTPUTS = ("frf_paid", "frf_unearned_in_year")
ORGANISATIONS, MEMBERS, STEPS = 5_000, 10, 1_000


def frf_pack():
    """The FRF rules of the 2020/21 pack alone."""
    pack = ROOT / "policies" / "2020_21"
    return compile_sources([SourceFile(str(pack / name), (pack / name).read_text(encoding="utf-8"))
                            for name in ("policy.plan", "frf.plan")])[0]


def synthetic(organisations: int = ORGANISATIONS, seed: int = 2020):
    """Members in systems of 10 (7 trusts, 3 CCGs): allocations £1m-£10m a quarter, FITs from a
    £5m deficit to a £1m surplus, positions from £1m behind the FIT to £0.5m ahead, each quarter's
    forecast of the rest of the year from £2m behind the FITs it covers to £1m ahead; 2% have not
    agreed their FIT."""
    rng = random.Random(seed)
    forecasts = random.Random(seed + 1)  # its own stream, so the other values are those drawn before
    systems = [Organisation(f"Y{k:04d}", f"System {k}", "system") for k in range(-(-organisations // MEMBERS))]
    members = [Organisation(f"M{k:05d}", f"Member {k}", "trust" if k % MEMBERS < 7 else "ccg", systems[k // MEMBERS].code)
               for k in range(organisations)]
    values = {}
    for org in members:
        plans = []
        for quarter in QUARTERS:
            plan = rng.randrange(-5_000_000_00, 1_000_000_00)
            plans.append(plan)
            values[("frf_allocation", org.code, quarter)] = Fraction(rng.randrange(1_000_000_00, 10_000_000_00), 100)
            values[("fit_plan", org.code, quarter)] = Fraction(plan, 100)
            values[("financial_position", org.code, quarter)] = Fraction(plan + rng.randrange(-1_000_000_00, 500_000_00), 100)
        for k, quarter in enumerate(QUARTERS):
            rest = sum(plans[k:]) + forecasts.randrange(-2_000_000_00, 1_000_000_00)
            values[("forecast_rest_of_year", org.code, quarter)] = Fraction(rest, 100)
        if rng.random() < 0.02:
            values[("fit_agreed", org.code, YEAR)] = False
    return make_dataset([*systems, *members], values, {}, f"synthetic FRF {organisations} organisations")


def rate_settings(steps: int = STEPS) -> list[str]:
    """The sweep's ``--set`` texts: frf_taper_rate from 50% upwards in steps of 0.1%."""
    return [f"frf_taper_rate = {Decimal(500 + k) / 10}%" for k in range(steps)]


def totals(results, outputs=OUTPUTS) -> tuple:
    """Each output's total over every entity and period (None when a figure is missing: never zero)."""
    out = []
    for name in outputs:
        values = [results.get(name, entity, period) for entity, period in results.scope[name]]
        out.append(sum(values, Fraction(0)) if all(isinstance(v, (int, Fraction)) for v in values) else None)
    return tuple(out)


def _bulk():
    """planlang.run.bulk when this branch has it, else None."""
    if importlib.util.find_spec("planlang.run.bulk") is None:
        return None
    from planlang.run import bulk

    return bulk


def bulk_backend() -> str | None:
    """The backend of planlang.run.bulk the sweep uses, or None when the sweep goes through run()."""
    bulk = _bulk()
    return None if bulk is None else "vector" if "vector" in bulk.BACKENDS else "exact"


def sweep(plan, dataset, settings, outputs=OUTPUTS) -> list[tuple]:
    """Each step's totals, through planlang.run.bulk when present; else one baseline run, then one
    scenario run per step reading from it."""
    scenarios = [scenario_from_sets([text], plan, dataset) for text in settings]
    bulk, backend = _bulk(), bulk_backend()
    if bulk is not None:
        found = bulk.step_results(plan, dataset, [bulk.Step(x) for x in scenarios], list(outputs), backend)
        return [tuple(result.total(name).value for name in outputs) for result in found]
    base = run(plan, dataset)
    return [totals(run(plan, dataset, x, baseline=base), outputs) for x in scenarios]


class _Clock:
    """Wall and CPU seconds since the last lap: on a shared machine the two differ, and both are reported."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        lap = wall - self.wall, cpu - self.cpu
        self.wall, self.cpu = wall, cpu
        return lap


def _chunk(settings, *, plan, dataset, outputs):
    """A worker's steps: their totals and the CPU seconds they took (on a shared machine, less than the wall time)."""
    clock = _Clock()
    found = sweep(plan, dataset, settings, outputs)
    return found, clock.lap()[1]


def time_dask(plan, dataset, settings, workers: int):
    """(totals in step order, seconds, the workers' CPU seconds, cluster start seconds) of the sweep on
    ``workers`` local processes."""
    from dask.distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        started = time.perf_counter() - start
        start = time.perf_counter()
        shared_plan, shared_data = client.scatter([plan, dataset], broadcast=True)
        size = -(-len(settings) // workers)
        chunks = [settings[k:k + size] for k in range(0, len(settings), size)]
        futures = client.map(_chunk, chunks, plan=shared_plan, dataset=shared_data, outputs=OUTPUTS, pure=False)
        chunks = client.gather(futures)
        elapsed = time.perf_counter() - start
        return [step for found, _ in chunks for step in found], elapsed, sum(cpu for _, cpu in chunks), started


def main(exact_steps: int = 3) -> None:
    plan = compile_plan(frf_pack())
    start = time.perf_counter()
    dataset = synthetic()
    cells = ORGANISATIONS * len(QUARTERS)
    print(f"FRF sweep (policies/2020_21/frf.plan): {ORGANISATIONS:,} organisations x {len(QUARTERS)} quarters "
          f"x {STEPS:,} steps of frf_taper_rate; data built in {time.perf_counter() - start:.1f} s")
    settings = rate_settings()

    backend = bulk_backend()
    if backend is None:
        print("planlang.run.bulk is not in this branch: each step is run() with the exact engine")
    else:
        print(f"each step through planlang.run.bulk.step_results, backend {backend}")
    exact_steps = STEPS if backend == "vector" else exact_steps

    clock = _Clock()
    run(plan, dataset)
    baseline, baseline_cpu = clock.lap()
    expected = sweep(plan, dataset, settings[:exact_steps])
    wall, cpu = clock.lap()
    # sweep() makes its own baseline run: a step is what it takes beyond that
    per_step, per_step_cpu = (wall - baseline) / exact_steps, (cpu - baseline_cpu) / exact_steps
    print(f"baseline run {baseline:.1f} s ({baseline_cpu:.1f} CPU s); a step {per_step:.2f} s "
          f"({per_step_cpu:.2f} CPU s) over {exact_steps} step{'s' if exact_steps > 1 else ''}, "
          f"{per_step / cells * 1e9:,.0f} ns per organisation-quarter; {STEPS:,} steps extrapolated: "
          f"{baseline + STEPS * per_step:,.0f} s ({baseline_cpu + STEPS * per_step_cpu:,.0f} CPU s)")

    if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
        print("Dask is not installed, so its timings are skipped: pip install -e '.[bench]'")
        return
    steps = settings[:min(STEPS, 2 * exact_steps)]
    times, extrapolated = {}, {}
    for workers in (1, 2):
        found, times[workers], cpu, started = time_dask(plan, dataset, steps, workers)
        checked = min(len(found), len(expected))
        assert found[:checked] == expected[:checked], "Dask's totals differ from the single process's"
        # each worker's chunk makes one baseline run, then its steps: the steps are what grows
        extrapolated[workers] = times[workers] + (STEPS - len(steps)) * (times[workers] - baseline) / len(steps)
        print(f"Dask, {workers} worker{'s' if workers > 1 else ''} (cluster started in {started:.1f} s): {len(steps)} steps "
              f"in {times[workers]:.1f} s ({cpu:.1f} CPU s in the workers); {STEPS:,} steps extrapolated: "
              f"{extrapolated[workers]:,.0f} s")
    print(f"Dask speed-up, 2 workers over 1: {times[1] / times[2]:.2f}x measured, "
          f"{extrapolated[1] / extrapolated[2]:.2f}x extrapolated to {STEPS:,} steps")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:2]))
