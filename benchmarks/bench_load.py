"""Benchmark: loading the same values from JSON, long-form CSV and Parquet (text and decimal columns).

Synthetic systems x 6 months (April to September 2021) x the four monthly ERF inputs of the
2021/22 pack (three money, one bool), written to a temporary folder in each format, then read
with ``load_data`` in a fresh process each (so one reader's garbage does not slow the next).
Printed: CPU seconds, values per second and peak memory per reader. The decimal Parquet file holds
the money inputs only (a decimal column cannot hold ``true``).

Usage: ``python benchmarks/bench_load.py [ROWS]`` (default 1,000,000 rows; 2,400,000 is 100,000
systems). This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTHS = [f"2021-{m:02d}" for m in range(4, 10)]
MONEY = ("erf_baseline", "erf_actual", "erf_counting_coding_adjustment")


def write(folder: Path, rows: int, seed: int = 2021) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    systems = max(1, rows // (len(MONTHS) * (len(MONEY) + 1)))
    codes = [f"S{k:06d}" for k in range(systems)]
    values = []  # (code, month, input, text, Decimal or None)
    for code in codes:
        for name in (*MONEY, "erf_gateway_met"):
            for month in MONTHS:
                if name in MONEY:
                    amount = Decimal(rng.randrange(10**9, 4 * 10**9)) / 100
                    values.append((code, month, name, str(amount), amount))
                else:
                    values.append((code, month, name, "true" if rng.random() < 0.9 else "false", None))
    inputs: dict = {}
    for code, month, name, text, _ in values:
        inputs.setdefault(name, {}).setdefault(code, {})[month] = text
    organisations = [{"code": code, "name": f"System {code}", "kind": "system"} for code in codes]
    (folder / "d.json").write_text(json.dumps({"organisations": organisations, "inputs": inputs}))
    with open(folder / "d.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "period", "input", "value"))
        writer.writerows(row[:4] for row in values)
    listed = "code,name,kind,system\n" + "".join(f"{code},System {code},system,\n" for code in codes)
    for stem in ("d", "dec"):
        (folder / f"{stem}.organisations.csv").write_text(listed)
    columns = list(zip(*values))
    pq.write_table(pa.table(dict(zip(("code", "period", "input", "value"), columns[:4]))), folder / "d.parquet")
    money = [row for row in values if row[4] is not None]
    pq.write_table(pa.table({"code": [r[0] for r in money], "period": [r[1] for r in money],
                             "input": [r[2] for r in money],
                             "value": pa.array([r[4] for r in money], pa.decimal128(12, 2))}), folder / "dec.parquet")


def measure(path: str) -> None:
    """Run in a child process: load one file and print its figures."""
    from planlang.compiler import compile_pack
    from planlang.data import load_data

    program = compile_pack(ROOT / "policies" / "2021_22")
    start = time.process_time()
    dataset = load_data(path, program, max_bytes=1 << 31)
    seconds = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = Path(path).stat().st_size / (1024 * 1024)
    print(f"{Path(path).name:12} {size:7.1f} MB {len(dataset.values):>10,} values {seconds:7.2f} s CPU "
          f"{len(dataset.values) / seconds:>10,.0f} values/s  peak {peak:,.0f} MB", flush=True)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--measure"]:
        measure(argv[1])
        return
    rows = int(argv[0].replace(",", "")) if argv else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder), rows)
        for name in ("d.json", "d.csv", "d.parquet", "dec.parquet"):
            subprocess.run([sys.executable, __file__, "--measure", str(Path(folder) / name)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
