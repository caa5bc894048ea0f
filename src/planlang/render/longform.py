"""A sweep's every figure in long form: one row per step, output, entity and period, as CSV, Parquet or Excel.

Columns: ``step`` (the grid point, from 1), ``draw`` (with ``--draws``), one column per ``--vary``
target holding its value at the step, then ``output``, ``entity``, ``period``, ``value``, ``unit``
and ``missing_because``. Values are written as ``run --json`` writes them (money to the penny,
other numbers exact decimals, missing empty with its reason beside it), as text in Parquet too, so
no figure passes through a float. An Excel workbook (``.xlsx``, :mod:`.sweepbook`) holds the same
table with numbers as numbers, a sheet of each output's total per step and a native line chart of
each; it is refused past the rows a sheet holds. Rows are written in chunks of :data:`CHUNK_ROWS` as the sweep
goes, so memory stays bounded however long it is; the file appears whole or not at all (it is
written beside the target and renamed over it).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ..audit.csvfile import guard_formula
from ..diagnostics import UsageError
from ..run.bulk import StepResult
from ..values import Missing
from .values import json_value

__all__ = ["LongFormWriter", "SUFFIXES", "CHUNK_ROWS", "check_target"]

CHUNK_ROWS = 65_536
SUFFIXES = (".csv", ".parquet", ".xlsx")


def check_target(target: str) -> str:
    """The kind of file ``--out`` names (``.csv``, ``.parquet`` or ``.xlsx``)."""
    suffix = Path(target).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError("cannot write this kind of file", target, "give a file ending .parquet, .csv or .xlsx")
    return suffix


class LongFormWriter:
    """Writes rows to ``path`` (a temporary file the caller renames), flushing every :data:`CHUNK_ROWS` rows."""

    def __init__(self, path: str, suffix: str, targets: Sequence[str], types: Sequence[str], units: dict[str, str],
                 draws: bool):
        self.path, self.suffix, self.types, self.units, self.draws = path, suffix, tuple(types), units, draws
        self.columns = ["step", *(["draw"] if draws else []), *targets, "output", "entity", "period", "value", "unit",
                        "missing_because"]
        self.rows: list[list] = []
        self._csv = self._handle = self._parquet = self._book = None

    def __enter__(self) -> "LongFormWriter":
        if self.suffix == ".xlsx":
            from .sweepbook import SweepBook

            self._book = SweepBook(self.columns, self.types, self.units, self.draws)
        elif self.suffix == ".csv":
            self._handle = open(self.path, "w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._handle, lineterminator="\r\n")
            self._csv.writerow(self.columns)
        return self

    def add(self, point, result: StepResult) -> None:
        if self._book is not None:
            self._book.add(point, result)
            return
        head = [point.index, *([point.draw] if self.draws else []),
                *(json_value(x, t) for x, t in zip(point.values, self.types))]
        for name, cells in result.by_output.items():
            unit = self.units[name]
            for (entity, period), value in cells:
                because = value.describe() if type(value) is Missing else None
                self.rows.append([*head, name, entity, str(period) if period is not None else None, json_value(value, unit),
                                  unit, because])
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.suffix == ".csv":
            # codes and reasons come from the data: a spreadsheet must not run one as a formula; numbers stay as they are
            guarded = {self.columns.index("entity"), self.columns.index("missing_because")}
            self._csv.writerows([guard_formula(x) if k in guarded and x is not None else "" if x is None else x
                                 for k, x in enumerate(row)] for row in self.rows)
        else:
            self._parquet_chunk()
        self.rows = []

    def _parquet_chunk(self) -> None:
        import pyarrow as pa

        schema = self._schema()
        table = pa.Table.from_arrays([pa.array([row[k] for row in self.rows], type=schema.field(k).type)
                                      for k in range(len(self.columns))], schema=schema)
        if self._parquet is None:
            self._open_parquet(schema)
        self._parquet.write_table(table)

    def _open_parquet(self, schema) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        # through Python's file, not pyarrow's: pyarrow seeks the file it opens, and a pipe cannot seek
        self._handle = open(self.path, "wb")
        self._parquet = pq.ParquetWriter(pa.PythonFile(_Counted(self._handle), mode="w"), schema)

    def _schema(self):
        import pyarrow as pa

        whole = 2 if self.draws else 1
        return pa.schema([(name, pa.int64() if k < whole else pa.string()) for k, name in enumerate(self.columns)])

    def __exit__(self, kind, error, trace) -> None:
        if self._book is not None:
            if error is None:
                self._book.save(self.path)
            else:
                self._book.discard()
            return
        if error is None:
            self.flush()
            if self._parquet is None and self.suffix == ".parquet":  # no rows at all: still a file with the columns
                self._open_parquet(self._schema())
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None:
            self._handle.close()


class _Counted:
    """A file written from start to end that says where it is by counting, as a pipe cannot say (Parquet asks)."""

    def __init__(self, handle):
        self._handle, self._at = handle, 0

    def write(self, data) -> int:
        self._handle.write(data)
        self._at += len(data)
        return len(data)

    def tell(self) -> int:
        return self._at

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def writable(self) -> bool:
        return True
