"""Benchmark: `planlang run policies/2021_22 --data F.json --json`, end to end, against the rule written by hand.

For each size, synthetic ERF data (systems x 6 months, April to September 2021: baseline and
actual activity for every month, a counting and coding adjustment with its category for about 30%
of them, the gateway failed for about 5%) is written as a JSON data file in a temporary folder.
Then, each in its own process, with its output written to a file:

- ``planlang``: ``planlang run policies/2021_22 --data F.json --json`` (the whole shipped pack);
- ``by hand``: ``benchmarks/erf_by_hand.py F.json``, the ERF rule written out with json + Fraction.

Before any figure is printed the ERF results and gateway flags of the two outputs are checked to be
the same. Printed per size: wall-clock seconds of each (best of 3 up to 2,000 systems, one run
above), their ratio, the peak resident memory of each per system-month (the child's
``ru_maxrss``), and planlang's own phases measured in this process: load (compile the pack, read
the data), plan, evaluate, format (the JSON document), dump (the text). Aims: planlang within 2x
of the script at every size, and under 2 KB per system-month.

Usage: ``python benchmarks/bench_run_json.py [--src SRC] [SIZES...]`` (default 200 2000 20000;
add 100000 for the largest). ``--src SRC`` runs the planlang of another checkout's ``src`` folder
instead (``git archive REV src grammar | tar -x -C DIR``, then ``--src DIR/src``), to measure the
code before a change in the same minutes. The results go in docs/performance.md. Nothing here
asserts a time.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "policies" / "2021_22"
MONTHS = [f"2021-{m:02d}" for m in range(4, 10)]
ERF_OUTPUTS = ("erf_counting_coding_permitted", "erf_threshold_pct", "erf_working_day_adjustment", "erf_lower_threshold",
               "erf_upper_threshold", "erf_activity_above_upper", "erf_activity_between_thresholds",
               "erf_additional_funding")
# runs the command given and prints its peak resident set (KB), so each measurement has a fresh process
_MEASURE = ("import resource, subprocess, sys, time\n"
            "with open(sys.argv[1], 'wb') as out:\n"
            "    start = time.perf_counter()\n"
            "    code = subprocess.run(sys.argv[2:], stdout=out).returncode\n"
            "    elapsed = time.perf_counter() - start\n"
            "print(code, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def write_data(path: Path, systems: int, seed: int = 2021) -> None:
    """Synthetic ERF data for ``systems`` systems, as a data file planlang and the script both read."""
    rng = random.Random(seed)
    organisations = [{"code": f"S{k:06d}", "name": f"System {k}", "kind": "system", "system": None} for k in range(systems)]
    baseline, actual, adjustment, category, gateway = {}, {}, {}, {}, {}
    for org in organisations:
        code = org["code"]
        for month in MONTHS:
            pence = rng.randrange(10_000_000_00, 60_000_000_00)
            baseline.setdefault(code, {})[month] = _pounds(pence)
            actual.setdefault(code, {})[month] = _pounds(pence * rng.randrange(50, 110) // 100)
            if rng.random() < 0.3:
                adjustment.setdefault(code, {})[month] = rng.randrange(-500_000, 500_000)
                category.setdefault(code, {})[month] = "significant counting and coding changes"
            if rng.random() < 0.05:
                gateway.setdefault(code, {})[month] = False
    document = {"organisations": organisations,
                "inputs": {"erf_baseline": baseline, "erf_actual": actual, "erf_counting_coding_adjustment": adjustment,
                           "erf_counting_coding_category": category, "erf_gateway_met": gateway}}
    path.write_text(json.dumps(document), encoding="utf-8")


def _pounds(pence: int) -> float:
    # the shortest repr of pence / 100 is that decimal itself (12 significant digits at most), so the
    # JSON number written is exactly the pounds and pence meant, and both readers take it exactly
    return pence / 100


def measure(command: list[str], out: Path) -> tuple[float, int]:
    """(seconds, peak KB) of ``command`` run in a fresh process with its output written to ``out``."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(out), *command], capture_output=True, text=True, check=True)
    code, elapsed, peak = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed with exit code {code}")
    return float(elapsed), int(peak)


def best(command: list[str], out: Path, repeat: int) -> tuple[float, int]:
    runs = [measure(command, out) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def same_figures(planlang_out: Path, hand_out: Path) -> None:
    ours, theirs = json.loads(planlang_out.read_text("utf-8")), json.loads(hand_out.read_text("utf-8"))
    for name in ERF_OUTPUTS:
        assert ours["results"][name] == theirs["results"][name], name
    gateway = [{k: f[k] for k in ("flag", "severity", "entity", "period", "message", "values", "citations")}
               for f in ours["flags"] if f["flag"] == "erf_gateway_not_met"]
    assert gateway == theirs["flags"], "gateway flags differ"


def phases(data: Path) -> dict[str, float]:
    """planlang's phases in this process: what each part of `run --json` costs."""
    from planlang.compiler import compile_pack
    from planlang.data import load_data
    from planlang.plan import compile_plan
    from planlang.render import run_json
    from planlang.run import run

    try:
        from planlang.render.jsontext import write_json
    except ImportError:  # the code before it, under --src
        def write_json(document, write):
            write(json.dumps(document, indent=2, ensure_ascii=False))

    gc.collect()
    times = {}
    start = time.perf_counter()
    program = compile_pack(PACK)
    dataset = load_data(data, program)
    times["load"] = time.perf_counter() - start
    start = time.perf_counter()
    plan = compile_plan(program)
    times["plan"] = time.perf_counter() - start
    start = time.perf_counter()
    results = run(plan, dataset)
    times["evaluate"] = time.perf_counter() - start
    start = time.perf_counter()
    document = run_json(results)
    times["format"] = time.perf_counter() - start
    start = time.perf_counter()
    write_json(document, lambda piece: None)
    times["dump"] = time.perf_counter() - start
    del document, results, dataset
    return times


def main(sizes: list[int], src: str | None = None) -> None:
    planlang = [sys.executable, "-m", "planlang"]
    if src is not None:
        os.environ["PYTHONPATH"] = str(Path(src).resolve())  # for the child processes
        sys.path.insert(0, str(Path(src).resolve()))  # and for the phases measured here
    hand = [sys.executable, str(ROOT / "benchmarks" / "erf_by_hand.py")]
    print(f"{'systems':>8} {'sys-months':>10} {'planlang s':>10} {'by hand s':>9} {'ratio':>6} "
          f"{'planlang B/sm':>13} {'hand B/sm':>9}  phases s (load plan evaluate format dump)")
    with tempfile.TemporaryDirectory(prefix="planlang-bench-") as folder:
        for size in sizes:
            data, ours, theirs = (Path(folder) / name for name in ("data.json", "planlang.json", "hand.json"))
            write_data(data, size)
            repeat = 3 if size <= 2_000 else 1
            command = [*planlang, "run", str(PACK), "--data", str(data), "--json"]
            mine, mine_kb = best(command, ours, repeat)
            by_hand, hand_kb = best([*hand, str(data)], theirs, repeat)
            same_figures(ours, theirs)
            cells = size * len(MONTHS)
            split = phases(data) if size <= 20_000 else {}
            print(f"{size:>8,} {cells:>10,} {mine:>10.2f} {by_hand:>9.2f} {mine / by_hand:>6.2f} "
                  f"{mine_kb * 1024 / cells:>13,.0f} {hand_kb * 1024 / cells:>9,.0f}  "
                  + " ".join(f"{v:.2f}" for v in split.values()), flush=True)
            for path in (ours, theirs):
                os.unlink(path)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    src = None
    if arguments[:1] == ["--src"]:
        src, arguments = arguments[1], arguments[2:]
    main([int(x) for x in arguments] or [200, 2_000, 20_000], src)
