"""Benchmark: the ERF policy evaluated by planlang against a hand-written exact implementation.

Both run in this process on the same synthetic systems x 6 months (April to September 2021) and
both compute every ERF output with exact fractions; the hand-written version stores its outputs
in a dict as the engine does. Printed: time per system-month for each, and the ratio, for

- ``run``: planlang's evaluation, which records every named value for every system and month
  (the values an explanation is built from), and
- ``run + trace``: the same, plus the full explanation tree of erf_additional_funding for every
  system-month (only for the smaller sizes, it is what ``explain`` does for one value).

Times are the best of 5 runs up to 10,000 systems, one run above. Usage:
``python benchmarks/bench_erf.py [SIZES...]`` (default 1000 10000 100000).
The results go in docs/performance.md. This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import random
import sys
import time
from fractions import Fraction
from pathlib import Path

from planlang.compiler import compile_sources
from planlang.data import Organisation, make_dataset
from planlang.explanation import explain
from planlang.periods import parse_period, working_days
from planlang.run import evaluate
from planlang.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
MONTHS = [parse_period(f"2021-{m:02d}") for m in range(4, 10)]
THRESHOLDS = {4: Fraction(70, 100), 5: Fraction(75, 100), 6: Fraction(80, 100)}
UPPER, BETWEEN, ABOVE = Fraction(85, 100), Fraction(1), Fraction(120, 100)


def synthetic(systems: int, seed: int = 2021):
    rng = random.Random(seed)
    organisations = [Organisation(f"S{k:06d}", f"System {k}", "system", None) for k in range(systems)]
    values = {}
    for org in organisations:
        for month in MONTHS:
            baseline = Fraction(rng.randrange(10_000_000_00, 60_000_000_00), 100)
            values[("erf_baseline", org.code, month)] = baseline
            values[("erf_actual", org.code, month)] = baseline * Fraction(rng.randrange(50, 110), 100)
            if rng.random() < 0.3:
                values[("erf_counting_coding_adjustment", org.code, month)] = Fraction(rng.randrange(-500_000, 500_000))
            if rng.random() < 0.05:
                values[("erf_gateway_met", org.code, month)] = False
    return organisations, values


def hand_written(organisations, values):
    """The ERF rule of §3, written out by hand with exact fractions."""
    out = {}
    adjustments = {m: Fraction(working_days(m), working_days(m.shift(years=-2))) for m in MONTHS}
    for org in organisations:
        code = org.code
        for month in MONTHS:
            pct = THRESHOLDS.get(month.index, UPPER)
            wd = adjustments[month]
            baseline = values[("erf_baseline", code, month)]
            actual = values[("erf_actual", code, month)]
            cc = values.get(("erf_counting_coding_adjustment", code, month), Fraction(0))
            gateway = values.get(("erf_gateway_met", code, month), True)
            lower = baseline * pct * wd - cc
            upper = baseline * UPPER * wd - cc
            between = max(Fraction(0), min(actual, upper) - lower)
            above = max(Fraction(0), actual - upper)
            funding = between * BETWEEN + above * ABOVE if gateway else Fraction(0)
            for name, value in (("erf_threshold_pct", pct), ("erf_working_day_adjustment", wd),
                                ("erf_lower_threshold", lower), ("erf_upper_threshold", upper),
                                ("erf_activity_between_thresholds", between), ("erf_activity_above_upper", above),
                                ("erf_additional_funding", funding)):
                out[(name, code, month)] = value
    return out


def timed(fn, repeat: int = 1):
    """The result and the best of ``repeat`` wall-clock times (the least disturbed by other work)."""
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return result, best


def erf_pack():
    """The ERF rules of the 2021/22 pack alone (the pack's other rules have no data here)."""
    pack = ROOT / "policies" / "2021_22"
    return compile_sources([SourceFile(str(pack / name), (pack / name).read_text(encoding="utf-8"))
                            for name in ("policy.plan", "erf.plan")])[0]


def main(sizes):
    program = erf_pack()
    print(f"{'systems':>8} {'system-months':>13} {'hand µs':>9} {'run µs':>8} {'ratio':>6} {'run+trace µs':>13} {'ratio':>6}")
    for size in sizes:
        organisations, values = synthetic(size)
        dataset = make_dataset(organisations, values, {}, f"synthetic {size}")
        cells = size * len(MONTHS)
        repeat = 5 if size <= 10_000 else 1
        expected, hand = timed(lambda: hand_written(organisations, values), repeat)
        results, run = timed(lambda: evaluate(program, dataset), repeat)
        for (name, code, month), value in expected.items():
            assert results.get(name, code, month) == value, (name, code, month)
        trace_text = "-"
        ratio_trace = "-"
        if size <= 10_000:
            _, tracing = timed(lambda: [explain(results, "erf_additional_funding", o.code, m)
                                        for o in organisations for m in MONTHS])
            trace_text = f"{(run + tracing) / cells * 1e6:13.1f}"
            ratio_trace = f"{(run + tracing) / hand:6.2f}"
        print(f"{size:>8} {cells:>13} {hand / cells * 1e6:9.1f} {run / cells * 1e6:8.1f} {run / hand:6.2f} "
              f"{trace_text:>13} {ratio_trace:>6}")


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [1_000, 10_000, 100_000])
