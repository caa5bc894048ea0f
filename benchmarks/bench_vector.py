"""Benchmark: the ERF rule in bulk -- planlang's vector backend against hand-written NumPy, the
memory-bandwidth floor and OpenFisca -- and the FRF pack swept over 1,000 taper rates, on Dask too.

In one process and one run, for each size (system-months: synthetic systems x the rule's 6 months,
April to September 2021, of policies/2021_22/erf.plan), the columns are:

- ``data s``: building the planlang Dataset in memory (``make_dataset``; exact Fractions), once;
- ``exact``: ``run(plan, dataset)``, the exact engine (up to ``--exact-limit`` system-months);
- ``vector``: ``run(plan, dataset, backend="vector")``: every output and flag of the rule, exact
  ("not available" until the backend is registered in ``planlang.run.BACKENDS``); ``vector
  1st`` is the first run over the dataset, which may convert its values to arrays for later runs;
- ``compiled``: the same through the compiled backend (formulas fused into numba loops; "not
  available" without numba); ``compiled 1st`` includes loading (or compiling) its loops;
- ``numpy``: hand-written NumPy of the rule in float64, the obvious vectorised code: thresholds
  from baseline x threshold x working-day ratio - adjustment, bands 0%/100%/120%, gateway mask;
- ``int64``: the rule by hand in exact int64 NumPy (:func:`exact_funding`: every amount scaled to
  an integer), the exact answer the others are checked against;
- ``floor``: ``np.add(a, b, out=c)`` on float64 arrays of the same length: reading two arrays and
  writing one, the least any evaluation over the inputs can cost (memory bandwidth);
- ``openfisca``: ``simulation.calculate`` of the funding for the 6 months in the same rule written
  as an OpenFisca TaxBenefitSystem (openfisca_erf.py; float32, OpenFisca's default), a fresh
  simulation each time so that nothing is cached (skipped with a note when not installed).

The hand versions, the floor and the planlang backends are timed interleaved: in each round every
candidate is called once in turn, so that load drift on a shared machine biases no ratio. Times are
ns per system-month, the best of 5 rounds up to 10^5 and of 3 above (never one alone: a
first run that touches new memory pays for the machine to supply it, which at 10^7 can cost more
than the arithmetic); a cheap call is repeated within a run so that each timing lasts long enough
to read. The exact engine is timed once above 10^4. ``£ err`` is the largest
absolute error of erf_additional_funding against the exact answer, over every system-month: the
exact answer is computed in scaled int64 integers (:func:`exact_funding`), checked against
Fractions on a sample at every size and against planlang's exact engine wherever that runs. The
vector backend's error is over the cells it is checked on (every one up to 20,000, 20,000 drawn at
random above).

Then the FRF sweep (frf_sweep.py). Usage::

    python benchmarks/bench_vector.py [SYSTEM_MONTHS...] [--no-openfisca] [--no-frf]
                                      [--exact-limit N] [--vector-limit N]

Default sizes 10^3 to 10^7. The planlang columns need a planlang Dataset, a dict of Fractions,
which takes about 580 bytes and 2 µs to build per system-month: 5.8 GB and a few minutes at 10^7,
so more than 8 GB with the run. The vector column is therefore opt-in above 10^6
(``--vector-limit 10000000``); the other columns run at every size. The peak memory of the process
is printed at the end. A script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import random
import resource
import sys
import time
from fractions import Fraction

import numpy as np
from bench_erf import erf_pack

from planlang.data import Organisation, make_dataset
from planlang.periods import parse_period, working_days
from planlang.plan import compile_plan
from planlang.run import BACKENDS, run

OUTPUT = "erf_additional_funding"
MONTHS = [parse_period(f"2021-{m:02d}") for m in range(4, 10)]
# the rule's parameters, as erf.plan declares them; the exact engine's agreement checks them
THRESHOLD_PCT = np.array([70, 75, 80, 85, 85, 85], dtype=np.int64)[:, None]
FUNDED_PCT = 85
RATE_BETWEEN, RATE_ABOVE = Fraction(100, 100), Fraction(120, 100)
# working days in each month of 2021/22 and in the same month of 2019/20, the ratio's two terms
DAYS_NOW = np.array([working_days(m) for m in MONTHS], dtype=np.int64)[:, None]
DAYS_THEN = np.array([working_days(m.shift(years=-2)) for m in MONTHS], dtype=np.int64)[:, None]
DEFAULT_SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)


class Synthetic:
    """Inputs for systems x months, as integers: baseline in pence, actual as a whole percent of
    it, the counting and coding adjustment in whole pounds, the gateway; arrays are months x systems.

    The distribution is bench_erf.py's: baselines £10m-£60m, actual 50%-109% of baseline, an
    adjustment of up to ±£500,000 in 30% of system-months, the gateway failed in 5%.
    """

    def __init__(self, system_months: int, seed: int = 2021):
        rng = np.random.default_rng(seed)
        shape = (len(MONTHS), math.ceil(system_months / len(MONTHS)))
        self.baseline_pence = rng.integers(10_000_000_00, 60_000_000_00, shape)
        self.actual_pct = rng.integers(50, 110, shape)
        self.adjustment = np.where(rng.random(shape) < 0.3, rng.integers(-500_000, 500_000, shape), 0)
        self.gateway = rng.random(shape) >= 0.05

    @property
    def systems(self) -> int:
        return self.baseline_pence.shape[1]

    @property
    def cells(self) -> int:
        return self.baseline_pence.size

    def codes(self) -> list[str]:
        return [f"S{k:07d}" for k in range(self.systems)]

    def floats(self):
        """baseline, actual, adjustment in £ as float64 (each the nearest double to the exact figure) and the gateway."""
        return (self.baseline_pence / 100, self.baseline_pence * self.actual_pct / 10_000,
                self.adjustment.astype(np.float64), self.gateway)

    def dataset(self):
        """The same inputs as a planlang Dataset of exact values (absent cells take the declared defaults)."""
        codes = self.codes()
        values = {}
        for k, month in enumerate(MONTHS):
            for code, pence, pct, adjustment, met in zip(codes, self.baseline_pence[k].tolist(), self.actual_pct[k].tolist(),
                                                         self.adjustment[k].tolist(), self.gateway[k].tolist()):
                values[("erf_baseline", code, month)] = Fraction(pence, 100)
                values[("erf_actual", code, month)] = Fraction(pence * pct, 10_000)
                if adjustment:
                    values[("erf_counting_coding_adjustment", code, month)] = Fraction(adjustment)
                if not met:
                    values[("erf_gateway_met", code, month)] = False
        organisations = [Organisation(code, f"System {code}", "system", None) for code in codes]
        return make_dataset(organisations, values, {}, f"synthetic {self.cells} system-months")


def exact_funding(data: Synthetic) -> tuple[np.ndarray, np.ndarray]:
    """erf_additional_funding exactly, as (numerators, per-month denominators): funding = E / D.

    Every amount is scaled by 10,000 x (2019/20 working days) x the rates' common denominator,
    which makes it an integer: pence x percent x the working-day ratio's denominator.
    """
    scale = 10_000 * DAYS_THEN
    rates = math.lcm(RATE_BETWEEN.denominator, RATE_ABOVE.denominator)
    # the largest numerator is about 6e9 pence x 110% x 23 days x 6: far inside int64
    assert int(data.baseline_pence.max()) * 110 * int(DAYS_THEN.max()) * int(RATE_ABOVE * rates) * 2 < 2**62
    lower = data.baseline_pence * THRESHOLD_PCT * DAYS_NOW - data.adjustment * scale
    upper = data.baseline_pence * FUNDED_PCT * DAYS_NOW - data.adjustment * scale
    actual = data.baseline_pence * data.actual_pct * DAYS_THEN
    between = np.maximum(0, np.minimum(actual, upper) - lower)
    above = np.maximum(0, actual - upper)
    earned = between * int(RATE_BETWEEN * rates) + above * int(RATE_ABOVE * rates)
    return np.where(data.gateway, earned, 0), scale * rates


def exact_cell(data: Synthetic, month: int, system: int) -> Fraction:
    """One system-month's funding with Fractions, written as the rule reads (to check exact_funding)."""
    baseline = Fraction(int(data.baseline_pence[month, system]), 100)
    actual = baseline * Fraction(int(data.actual_pct[month, system]), 100)
    adjustment = Fraction(int(data.adjustment[month, system]))
    ratio = Fraction(int(DAYS_NOW[month, 0]), int(DAYS_THEN[month, 0]))
    lower = baseline * Fraction(int(THRESHOLD_PCT[month, 0]), 100) * ratio - adjustment
    upper = baseline * Fraction(FUNDED_PCT, 100) * ratio - adjustment
    earned = max(Fraction(0), min(actual, upper) - lower) * RATE_BETWEEN + max(Fraction(0), actual - upper) * RATE_ABOVE
    return earned if data.gateway[month, system] else Fraction(0)


def hand_numpy(baseline, actual, adjustment, gateway):
    """The rule as an analyst writes it in NumPy (float64): arrays months x systems."""
    ratio = (DAYS_NOW / DAYS_THEN).astype(np.float64)
    lower = baseline * (THRESHOLD_PCT / 100) * ratio - adjustment
    upper = baseline * (FUNDED_PCT / 100) * ratio - adjustment
    between = np.maximum(0.0, np.minimum(actual, upper) - lower)
    above = np.maximum(0.0, actual - upper)
    return np.where(gateway, between * float(RATE_BETWEEN) + above * float(RATE_ABOVE), 0.0)


def max_error(values: np.ndarray, numerators: np.ndarray, denominators: np.ndarray) -> float:
    """The largest |value - E/D| in £, to about 1e-16 £: the whole pounds are subtracted exactly
    (both below 2^53, and close), leaving only the fractional part to round."""
    whole = numerators // denominators
    part = (numerators - whole * denominators) / denominators
    return float(np.max(np.abs((values.astype(np.float64) - whole) - part)))


def once(fn) -> tuple[object, float]:
    """fn's result and the time of that one call (for what only a first call measures)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def best_time(fn, repeat: int) -> tuple[object, float]:
    """fn's result and its best time per call over ``repeat`` runs; a call faster than 20 ms is
    repeated within each run so that the clock's resolution does not show."""
    result, first = once(fn)
    number = max(1, int(0.02 / max(first, 1e-9)))
    best = first
    for _ in range(repeat - 1 if number == 1 else repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return result, best


def check_results(results, data: Synthetic, numerators, denominators, cells: list[tuple[int, int]]) -> float:
    """The largest |planlang's funding - exact| in £ over ``cells`` (month, system); inf for a missing figure."""
    codes = data.codes()
    worst = Fraction(0)
    for month, system in cells:
        value = results.get(OUTPUT, codes[system], MONTHS[month])
        if not isinstance(value, (int, Fraction)):
            return math.inf
        worst = max(worst, abs(Fraction(value) - Fraction(int(numerators[month, system]), int(denominators[month, 0]))))
    return float(worst)


def sample_cells(data: Synthetic, limit: int, seed: int = 7) -> list[tuple[int, int]]:
    """Every (month, system) up to ``limit`` cells, else ``limit`` drawn at random (without listing them all)."""
    chosen = range(data.cells) if data.cells <= limit else random.Random(seed).sample(range(data.cells), limit)
    return [divmod(k, data.systems) for k in chosen]


def openfisca_available() -> bool:
    return importlib.util.find_spec("openfisca_core") is not None


def time_openfisca(data: Synthetic, repeat: int):
    """(funding months x systems as float32, best time) of the OpenFisca version of the rule."""
    from openfisca_erf import erf_simulation, erf_system

    months = [str(m) for m in MONTHS]
    ratio = (DAYS_NOW / DAYS_THEN)[:, 0]
    system = erf_system(dict(zip(months, (THRESHOLD_PCT[:, 0] / 100).tolist())), dict(zip(months, ratio.tolist())),
                        FUNDED_PCT / 100, float(RATE_BETWEEN), float(RATE_ABOVE))
    inputs = data.floats()
    best, funding = math.inf, None
    for _ in range(repeat):
        simulation = erf_simulation(system, months, *inputs)
        start = time.perf_counter()
        funding = [simulation.calculate("erf_additional_funding", month) for month in months]
        best = min(best, time.perf_counter() - start)
    return np.stack(funding), best


def interleaved(candidates: dict, repeat: int) -> dict:
    """Each candidate's (result, best time per call), timed in rounds that call every candidate once in turn,
    so that load drift on a shared machine biases no ratio; a call faster than 20 ms is repeated within
    its turn so that the clock's resolution does not show."""
    found = {name: once(fn) for name, fn in candidates.items()}  # the first call: results, and how long a call takes
    numbers = {name: max(1, int(0.02 / max(t, 1e-9))) for name, (_, t) in found.items()}
    best = {name: t for name, (_, t) in found.items()}
    for _ in range(repeat):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(numbers[name]):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / numbers[name])
    return {name: (found[name][0], best[name]) for name in candidates}


def exact_total(numerators: np.ndarray, denominators: np.ndarray) -> Fraction:
    """The exact total of E / D over every system-month (one Python int per month, as the totals of a sweep are)."""
    return sum((Fraction(int(row.sum()), int(d)) for row, d in zip(numerators, denominators[:, 0])), Fraction(0))


def measure(system_months: int, *, repeat: int | None = None, openfisca: bool = True, exact_limit: int = 10**5,
            vector_limit: int = 10**6, plan=None) -> dict:
    """Every figure of one row of the table (times in seconds, errors in £; None: not measured)."""
    plan = plan or compile_plan(erf_pack())
    data = Synthetic(system_months)
    cells = data.cells
    repeat = repeat or (5 if cells <= 10**5 else 3)
    row = {"cells": cells, "data": None, "exact": None, "vector_first": None, "vector": None, "compiled_first": None,
           "compiled": None, "numpy": None, "int64": None, "floor": None, "openfisca": None, "numpy_err": None,
           "openfisca_err": None, "vector_err": None, "compiled_err": None}

    numerators, denominators = exact_funding(data)
    for month, system in sample_cells(data, 200):
        assert exact_cell(data, month, system) == Fraction(int(numerators[month, system]), int(denominators[month, 0]))

    floats = data.floats()
    a, b = floats[0].ravel(), floats[1].ravel()
    out = np.empty_like(a)
    candidates = {"numpy": lambda: hand_numpy(*floats), "int64": lambda: exact_funding(data),
                  "floor": lambda: np.add(a, b, out=out)}

    vector = "vector" in BACKENDS and system_months <= vector_limit
    compiled = "compiled" in BACKENDS and system_months <= vector_limit
    exact = system_months <= exact_limit
    dataset = None
    if vector or compiled or exact:
        dataset, row["data"] = once(data.dataset)
        if exact:
            results, row["exact"] = best_time(lambda: run(plan, dataset), 1 if cells > 10**4 else repeat)
            assert check_results(results, data, numerators, denominators, sample_cells(data, 10**6)) == 0
            del results
        # the first run over a dataset may convert its values to arrays (and, compiled, load or compile its loops)
        for backend in ("vector", "compiled"):
            if backend == "vector" and vector or backend == "compiled" and compiled:
                _, row[f"{backend}_first"] = once(lambda b=backend: run(plan, dataset, backend=b))
                candidates[backend] = lambda b=backend: run(plan, dataset, backend=b)
    timed = interleaved(candidates, repeat)
    for name, (_, seconds) in timed.items():
        row[name] = seconds
    row["numpy_err"] = max_error(timed["numpy"][0], numerators, denominators)
    assert exact_total(*timed["int64"][0]) == exact_total(numerators, denominators)
    for backend in ("vector", "compiled"):
        if backend in timed:
            row[f"{backend}_err"] = check_results(timed[backend][0], data, numerators, denominators,
                                                  sample_cells(data, 20_000))
    dataset = timed = candidates = None  # freed before OpenFisca's arrays: the largest sizes are near the memory there is

    if openfisca and openfisca_available():
        funding, row["openfisca"] = time_openfisca(data, repeat)
        row["openfisca_err"] = max_error(funding, numerators, denominators)
    return row


COLUMNS = ("system-months", "data s", "exact", "vector 1st", "vector", "compiled 1st", "compiled", "numpy", "int64",
           "floor", "openfisca", "numpy £err", "openfisca £err", "vector £err", "compiled £err", "openfisca/vector",
           "vector/numpy", "vector/floor", "openfisca/compiled", "compiled/numpy", "compiled/int64", "compiled/floor")


def _ns(seconds, cells):
    return "-" if seconds is None else f"{seconds / cells * 1e9:,.1f}"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def _err(x):
    return "-" if x is None else f"{x:.2g}"


def table_row(row: dict, vector: bool) -> list[str]:
    cells = row["cells"]
    absent = "not available" if not vector else "opt-in" if row["vector"] is None else None
    gone = "not available" if "compiled" not in BACKENDS else "opt-in" if row.get("compiled") is None else None
    return [f"{cells:,}", "-" if row["data"] is None else f"{row['data']:.2f}", _ns(row["exact"], cells),
            absent or _ns(row["vector_first"], cells), absent or _ns(row["vector"], cells),
            gone or _ns(row.get("compiled_first"), cells), gone or _ns(row.get("compiled"), cells),
            _ns(row["numpy"], cells), _ns(row.get("int64"), cells), _ns(row["floor"], cells),
            _ns(row["openfisca"], cells), _err(row["numpy_err"]), _err(row["openfisca_err"]), _err(row["vector_err"]),
            _err(row.get("compiled_err")), _ratio(row["openfisca"], row["vector"]), _ratio(row["vector"], row["numpy"]),
            _ratio(row["vector"], row["floor"]), _ratio(row["openfisca"], row.get("compiled")),
            _ratio(row.get("compiled"), row["numpy"]), _ratio(row.get("compiled"), row.get("int64")),
            _ratio(row.get("compiled"), row["floor"])]


def print_header() -> None:
    """The head of a Markdown table (it goes into docs/performance.md as printed)."""
    print_row(COLUMNS)
    print("|" + "|".join("---:" for _ in COLUMNS) + "|")


def print_row(cells) -> None:
    print("| " + " | ".join(cells) + " |", flush=True)


def aims(measured: list[dict]) -> list[str]:
    """The issue's three aims, met or missed, for the sizes measured."""
    if "vector" not in BACKENDS:
        return ["aims: the vector backend is not available, so none is measured yet"]
    lines = []
    for row in (x for x in measured if x["vector"] is not None):
        n = f"{row['cells']:,}"
        if row["openfisca"] is not None:
            speedup = row["openfisca"] / row["vector"]
            lines.append(f"{n}: openfisca/vector {speedup:.2f} (aim >= 2): {'met' if speedup >= 2 else 'missed'}")
        per = row["vector"] / row["numpy"]
        lines.append(f"{n}: vector/numpy {per:.2f} (aim <= 1): {'met' if per <= 1 else 'missed'}")
        if row["cells"] >= 10**6:
            floor = row["vector"] / row["floor"]
            lines.append(f"{n}: vector/floor {floor:.2f} (aim <= 3): {'met' if floor <= 3 else 'missed'}")
    for row in (x for x in measured if x.get("compiled") is not None):  # issue 22's aims for the compiled backend
        n = f"{row['cells']:,}"
        if row["openfisca"] is not None:
            speedup = row["openfisca"] / row["compiled"]
            lines.append(f"{n}: openfisca/compiled {speedup:.2f} (aim >= 4): {'met' if speedup >= 4 else 'missed'}")
        per = row["compiled"] / row["numpy"]
        lines.append(f"{n}: compiled/numpy {per:.2f} (aim <= 0.5): {'met' if per <= 0.5 else 'missed'}")
        floor = row["compiled"] / row["floor"]
        lines.append(f"{n}: compiled/floor {floor:.2f} (aim <= 3): {'met' if floor <= 3 else 'missed'}")
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES), help="system-months")
    parser.add_argument("--no-openfisca", action="store_true", help="leave OpenFisca out")
    parser.add_argument("--no-frf", action="store_true", help="leave out the FRF sweep")
    parser.add_argument("--exact-limit", type=int, default=10**5, help="run the exact engine up to this many system-months")
    parser.add_argument("--vector-limit", type=int, default=10**6, help="run the vector backend up to this many system-months")
    parser.add_argument("--frf-exact-steps", type=int, default=3, help="sweep steps timed through run() (extrapolated)")
    args = parser.parse_args(argv)

    vector = "vector" in BACKENDS
    # the machine may be shared: the load says how far to trust the times
    print(f"ERF rule (policies/2021_22/erf.plan); times in ns per system-month; vector backend "
          f"{'available' if vector else 'not available'}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.no_openfisca and not openfisca_available():
        print("OpenFisca is not installed, so its column is skipped: pip install -e '.[bench]'")
    plan = compile_plan(erf_pack())
    print_header()
    measured = []
    for size in args.sizes:  # each row printed as it is measured: the largest take minutes
        measured.append(measure(size, openfisca=not args.no_openfisca, exact_limit=args.exact_limit,
                                vector_limit=args.vector_limit, plan=plan))
        print_row(table_row(measured[-1], vector))
    for line in aims(measured):
        print(line)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
    print(f"load average {os.getloadavg()[0]:.1f} at the end; peak memory {peak:.1f} GB")
    if not args.no_frf:
        from frf_sweep import main as frf_main

        print()
        frf_main(exact_steps=args.frf_exact_steps)


if __name__ == "__main__":
    main(sys.argv[1:])
