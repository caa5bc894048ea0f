"""Benchmark: a plan compiled once and reused by every run, against compiling it again for each run.

The exact engine builds a plan's closures once (:func:`planlang.run.exact.compiled`, from the
lowered IR of :func:`planlang.run.lower.lowered`) and every run of the plan takes them with its own
data. Before, each :class:`~planlang.run.ExactRun` compiled every formula again; that is emulated
here by dropping the plan's cached IR and closures before each run, in the same process and the same
minutes, so the ratio is the saving.

- **sweep step**: the 2021/22 pack over the ERF worked example; each step sets
  ``erf_threshold_pct`` and works out ``erf_additional_funding`` through
  :func:`planlang.run.bulk.step_results` (exact backend), as ``planlang sweep`` does;
- **sweep step, 2020/21**: the FRF pack over examples/2020_21.xlsx, each step setting ``frf_taper_rate``;
- **Shapley coalition**: ``planlang diff --data --output`` attribution over the 2020/21 FRF pack with
  three edits (8 coalitions); each coalition is a hybrid program, so a plan of its own. "alone" builds
  it as every coalition used to: its program (uses, graph, order) from scratch, every declaration
  lowered and compiled, every name run; "shared" as :func:`planlang.impact.attribute` now does: one
  :class:`~planlang.impact.Hybrids` and one :class:`~planlang.run.shared.Shared` per attribution (made
  afresh each round, so the first coalition of each pays the whole compile), only the output run.
  The two are interleaved coalition by coalition, and every coalition's total is checked equal.

Printed: milliseconds per step (median of each, after one warm-up) and the ratio recompile / reuse;
for coalitions, the mean per coalition over whole attributions, by phase.
Usage: ``python benchmarks/bench_compiled.py [STEPS]`` (default 40). The results go in docs/performance.md.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.impact import Hybrids, hybrid, players
from planlang.plan import compile_plan
from planlang.rulediff import diff_programs
from planlang.run import exact, lower, run
from planlang.run.bulk import Step, step_results
from planlang.run.shared import Shared
from planlang.scenario import scenario_from_sets

ROOT = Path(__file__).resolve().parents[1]


def _forget(plan) -> None:
    """Drop the plan's lowered IR and closures: the next run compiles them again, as every run used to."""
    exact._COMPILED.pop(plan, None)
    lower._LOWERED.pop(plan, None)


def _sweep(pack: str, data: str, setting: str, values: list[str], output: str, steps: int) -> tuple[float, float]:
    program = compile_pack(ROOT / "policies" / pack)
    plan = compile_plan(program)
    dataset = load_data(ROOT / "examples" / data, program)
    run(plan, dataset)
    scenarios = [scenario_from_sets([f"{setting} = {values[k % len(values)]}"], plan, dataset) for k in range(steps)]

    def one(scenario, again: bool) -> float:
        if again:
            _forget(plan)
        start = time.perf_counter()
        list(step_results(plan, dataset, [Step(scenario)], [output]))
        return time.perf_counter() - start

    one(scenarios[0], True), one(scenarios[0], False)  # warm-up
    reuse, again = [], []
    for scenario in scenarios:  # interleaved, so both see the same machine
        again.append(one(scenario, True))
        reuse.append(one(scenario, False))
    return statistics.median(again), statistics.median(reuse)


_EDITS = (("  = 100%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"Trusts and CCGs will lose",
           "  = 50%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"Trusts and CCGs will lose"),
          ("  = 50%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"50% of FRF",
           "  = 60%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"50% of FRF"),
          ("  = 50%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"The other 50%",
           "  = 40%\n  cites \"001_9635b6ad1121052d.txt\" §FRF \"The other 50%"))


def _coalitions(rounds: int) -> dict[str, list[float]]:
    pack = ROOT / "policies" / "2020_21"
    with tempfile.TemporaryDirectory() as folder:
        new = Path(folder) / "new"
        shutil.copytree(pack, new)
        text = (new / "frf.plan").read_text(encoding="utf-8")
        for old, edited in _EDITS:
            text = text.replace(old, edited)
        (new / "frf.plan").write_text(text, encoding="utf-8")
        diff = diff_programs(compile_pack(pack), compile_pack(new))
    group = players(diff)
    data = load_data(ROOT / "examples" / "2020_21.xlsx", diff.old)
    coalitions = [[group[k] for k in range(len(group)) if mask >> k & 1] for mask in range(1 << len(group))]
    output = "frf_earned_year"

    def one(on, family) -> tuple[list[float], object]:
        times = [time.perf_counter()]
        plan = compile_plan(hybrid(diff, on, family[0]) if family else hybrid(diff, on))
        times.append(time.perf_counter())
        exact.compiled(plan, family[1] if family else None)
        times.append(time.perf_counter())
        results = run(plan, data, names=[output]) if family else run(plan, data)
        total = sum((results.get(output, e, p) for e, p in results.scope[output]), Fraction(0))
        times.append(time.perf_counter())
        return [b - a for a, b in zip(times, times[1:])], total

    one(coalitions[0], None), one(coalitions[0], (Hybrids(), Shared()))  # warm-up
    phases: dict[str, list[float]] = {"alone": [0.0, 0.0, 0.0], "shared": [0.0, 0.0, 0.0]}
    for _ in range(rounds):
        family = (Hybrids(), Shared())  # one attribution's
        for on in coalitions:  # interleaved, so both see the same machine
            alone, before = one(on, None)
            shared, after = one(on, family)
            assert before == after, (before, after)
            for label, taken in (("alone", alone), ("shared", shared)):
                phases[label] = [x + y / (rounds * len(coalitions)) for x, y in zip(phases[label], taken)]
    return phases


def main(argv: list[str]) -> None:
    steps = int(argv[0]) if argv else 40
    rows = [("sweep step (2021/22 ERF, worked example)",
             *_sweep("2021_22", "erf_worked_example.json", "erf_threshold_pct", ["80%", "85%", "90%", "95%"],
                     "erf_additional_funding", steps)),
            ("sweep step (2020/21 FRF, 2020_21.xlsx)",
             *_sweep("2020_21", "2020_21.xlsx", "frf_taper_rate", ["50%", "75%", "100%", "125%"], "frf_earned_year", steps))]
    print(f"{'':44} {'recompile ms':>13} {'reuse ms':>9} {'ratio':>6}")
    for label, again, reuse in rows:
        print(f"{label:44} {again * 1000:13.2f} {reuse * 1000:9.2f} {again / reuse:6.1f}x")
    phases = _coalitions(max(2, steps // 4))
    print(f"\nShapley coalition (2020/21 FRF, 3 edits), mean ms per coalition over whole attributions:\n"
          f"{'':10} {'program+plan':>13} {'compile':>8} {'run':>8} {'total':>8}")
    for label, (build, compile_s, run_s) in phases.items():
        print(f"{label:10} {build * 1000:13.2f} {compile_s * 1000:8.2f} {run_s * 1000:8.2f} {(build + compile_s + run_s) * 1000:8.2f}")
    print(f"ratio {sum(phases['alone']) / sum(phases['shared']):.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
