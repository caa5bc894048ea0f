"""Benchmark: the workbench's answer to a page edit, at 200 organisations x 12 months on the 2021/22 pack.

A synthetic dataset (200 systems; the four monthly ERF inputs for each month April 2021 to March
2022) is written to a temporary folder as JSON and served by a :class:`Workbench`; the page's call
after an edit -- ``POST /api/impact`` with the scenario text, May's ERF threshold at 70% -- is made
through the Starlette application in process (routing, the guards, JSON both ways: the server's
time, not the network's), and the service's own time is measured beside it. Then a 50-step sweep
through ``POST /api/sweep``. Printed: the median and the slowest of the repeats, in milliseconds.
The issue's aims: 150 ms for an edit, 1 s for a 50-step sweep (recorded in docs/performance.md).

Usage: ``python benchmarks/bench_workbench.py [ORGANISATIONS] [REPEATS]`` (default 200 and 15).
This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
import warnings
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from planlang.workbench.app import make_app  # noqa: E402
from planlang.workbench.service import Workbench  # noqa: E402

MONTHS = [f"2021-{m:02d}" for m in range(4, 13)] + [f"2022-{m:02d}" for m in range(1, 4)]
MONEY = ("erf_baseline", "erf_actual", "erf_counting_coding_adjustment")
EDIT = "scenario what_if\n  set erf_thresholds in 2021-05 = 70%\n"
SWEEP = {"vary": ["erf_thresholds in 2021-05 = 70% to 79.8% step 0.2%"], "outputs": ["erf_additional_funding"]}


def write(path: Path, organisations: int, seed: int = 2021) -> None:
    rng = random.Random(seed)
    codes = [f"S{k:06d}" for k in range(organisations)]
    inputs: dict = {}
    for code in codes:
        for month in MONTHS:
            baseline = Decimal(rng.randrange(10**9, 6 * 10**9)) / 100
            inputs.setdefault("erf_baseline", {}).setdefault(code, {})[month] = str(baseline)
            inputs.setdefault("erf_actual", {}).setdefault(code, {})[month] = str(
                (baseline * rng.randrange(50, 110) / 100).quantize(Decimal("0.01")))
            inputs.setdefault("erf_counting_coding_adjustment", {}).setdefault(code, {})[month] = str(
                rng.randrange(-500_000, 500_000))
            inputs.setdefault("erf_gateway_met", {}).setdefault(code, {})[month] = rng.random() < 0.95
    listed = [{"code": code, "name": f"System {code}", "kind": "system"} for code in codes]
    path.write_text(json.dumps({"organisations": listed, "inputs": inputs}))


def timed(call, repeats: int) -> tuple[float, float]:
    call()  # the first answer warms what is built once per plan
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main(organisations: int, repeats: int) -> None:
    from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "synthetic.json"
        write(data, organisations)
        workbench = Workbench(str(ROOT / "policies" / "2021_22"), str(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = TestClient(make_app(workbench, hosts=["testserver"]))

        def edit():
            answer = client.post("/api/impact", json={"scenario": EDIT})
            assert answer.status_code == 200, answer.text

        def sweep():
            answer = client.post("/api/sweep", json=SWEEP)
            assert answer.status_code == 200 and len(answer.json()["steps"]) == 50, answer.text

        cells = len(workbench.dataset.values)
        print(f"{organisations} organisations x {len(MONTHS)} months ({cells:,} input values), {repeats} repeats")
        median, worst = timed(lambda: workbench.impact({"scenario": EDIT}), repeats)
        print(f"  edit -> impact, service only      median {median:7.1f} ms   slowest {worst:7.1f} ms")
        median, worst = timed(edit, repeats)
        print(f"  edit -> impact, POST /api/impact  median {median:7.1f} ms   slowest {worst:7.1f} ms   (aim 150 ms)")
        median, worst = timed(sweep, max(3, repeats // 5))
        print(f"  50-step sweep, POST /api/sweep    median {median:7.1f} ms   slowest {worst:7.1f} ms   (aim 1,000 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 15)
