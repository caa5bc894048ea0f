"""Benchmark: how the FRF sweep scales on Dask (``planlang.run.scaleout``), against one process, in one run.

The FRF pack of benchmarks/frf_sweep.py (its synthetic organisations, 500 by default, x 4 quarters) swept over
``frf_taper_rate`` through :func:`planlang.run.scaleout.distributed_results` -- the path ``planlang
sweep --workers N`` takes: the plan scattered once per worker under its digest, each task a chunk of
steps, only totals (four integers each) sent back -- on a real ``LocalCluster`` of 1 and then 2 worker
processes, beside the same steps through ``planlang.run.bulk.step_results`` in this process. Printed:

- each configuration's wall seconds, cold (the workers' first sweep: each builds the lowered plan and
  its baseline run) and warm (a second sweep of the same plan on the same cluster);
- the speed-up of 2 workers over 1 and over one process, and the parallel efficiency;
- the scheduler's overhead per task (a round trip of an empty task) and the bytes a task carries and
  returns;
- the load average before and after: the machine is shared, so a second worker may not get a core.

Usage: ``python benchmarks/bench_dask.py [STEPS] [ORGANISATIONS] [BACKEND]`` (defaults 32, 500, vector).
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from frf_sweep import OUTPUTS, frf_pack, rate_settings, synthetic  # noqa: E402

from planlang.plan import compile_plan  # noqa: E402
from planlang.run.bulk import Step, step_results  # noqa: E402
from planlang.run.scaleout import _chunk, distributed_results  # noqa: E402
from planlang.scenario import scenario_from_sets  # noqa: E402

CHUNK = 4


def _nothing(x):
    return x


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def local(plan, dataset, steps, backend) -> tuple[list, float]:
    start = time.perf_counter()
    found = [tuple(r.total(n) for n in OUTPUTS) for r in step_results(plan, dataset, steps, list(OUTPUTS), backend)]
    return found, time.perf_counter() - start


def on_dask(plan, dataset, steps, backend, workers: int) -> dict:
    from distributed import Client, LocalCluster

    out = {}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster, set_as_default=False) as client:
        for lap in ("cold", "warm"):
            start = time.perf_counter()
            found = [tuple(r.total(n) for n in OUTPUTS)
                     for r in distributed_results(client, plan, dataset, steps, OUTPUTS, backend, CHUNK, cells=False)]
            out[lap] = time.perf_counter() - start
            out["found"] = found
        start = time.perf_counter()
        client.gather(client.map(_nothing, range(200), pure=False))
        out["task"] = (time.perf_counter() - start) / 200
    return out


def main(count: int = 32, organisations: int = 500, backend: str = "vector") -> None:
    plan = compile_plan(frf_pack())
    dataset = synthetic(organisations)
    steps = [Step(scenario_from_sets([text], plan, dataset)) for text in rate_settings(count)]
    print(f"FRF sweep on Dask: {organisations:,} organisations x 4 quarters x {count} steps, backend {backend}, "
          f"chunks of {CHUNK} steps; {os.cpu_count()} cores; load average {load()} (1/5/15 min)")
    sent = len(pickle.dumps((steps[:CHUNK], list(OUTPUTS), backend)))
    back = len(pickle.dumps(_chunk(plan, dataset, steps[:CHUNK], OUTPUTS, backend, False)))
    print(f"a task carries {sent:,} bytes and returns {back:,}; the plan ({len(pickle.dumps(plan)):,} bytes) and the "
          f"data ({len(pickle.dumps(dataset)):,} bytes) go to each worker once")
    cold, alone = local(plan, dataset, steps, backend)  # baseline built here, as each worker builds its own
    expected, warm = local(plan, dataset, steps, backend)
    print(f"one process: {alone:.2f} s cold, {warm:.2f} s warm")
    times = {}
    for workers in (1, 2):
        found = on_dask(plan, dataset, steps, backend, workers)
        assert found["found"] == expected, "Dask's totals differ from one process's"
        times[workers] = found
        print(f"Dask, {workers} worker{'s' if workers > 1 else ''}: {found['cold']:.2f} s cold, {found['warm']:.2f} s warm; "
              f"an empty task's round trip {found['task'] * 1e3:.2f} ms; load average {load()}")
    for lap in ("cold", "warm"):
        one, two = times[1][lap], times[2][lap]
        print(f"{lap}: 2 workers over 1 {one / two:.2f}x (efficiency {one / two / 2:.0%}); "
              f"1 worker over one process {alone if lap == 'cold' else warm:.2f}/{one:.2f} s = "
              f"{(alone if lap == 'cold' else warm) / one:.2f}x")


if __name__ == "__main__":
    main(*(int(x) for x in sys.argv[1:3]), *sys.argv[3:4])
