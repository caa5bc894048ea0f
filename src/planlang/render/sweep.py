"""Rendering a sweep: JSON for programs, a table for people.

A total with missing cells is never shown as a number that looks whole: in JSON it is ``null``,
with ``missing`` beside the totals saying how many cells had no value and what the others add up
to; in the table it reads ``missing (3 of 12 cells; £1,000.00 from the rest)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..coverage import Coverage, coverage_json
from ..run.totals import Total
from ..source import printable
from ..sweep import FACTOR_GRID, PERCENTILES, DrawVary, GridVary, Spread, Summary
from .values import format_value, json_value

__all__ = ["sweep_json", "sweep_text", "vary_json", "PERCENTILE_METHOD"]

PERCENTILE_METHOD = "linear interpolation between order statistics (numpy's default, Hyndman and Fan type 7), exact"
_LABELS = tuple(f"p{p}" for p in PERCENTILES)


def vary_json(vary: GridVary | DrawVary) -> dict:
    if isinstance(vary, GridVary):
        return {"text": vary.text, "target": vary.target, "from": json_value(vary.first, vary.type),
                "to": json_value(vary.last, vary.type), "step": json_value(vary.step, vary.type), "steps": len(vary.values)}
    return {"text": vary.text, "target": vary.target, "distribution": vary.distribution,
            "parameters": [json_value(x, "number") for x in vary.parameters], "cells": len(vary.cells)}


def _missing_json(total: Total | Spread, unit: str) -> dict | None:
    if isinstance(total, Spread):
        return {"draws": total.missing_draws, "of": total.draws} if total.missing_draws else None
    if not total.missing:
        return None
    return {"cells": total.missing, "of": total.cells, "present_total": json_value(total.present, unit)}


def sweep_json(grids: Sequence[GridVary], draws: Sequence[DrawVary], outputs: Sequence[str], units: dict[str, str],
               summaries, count: int | None = None, seed: int | None = None, covers: Mapping[str, Coverage] | None = None) -> dict:
    """``{"vary", "outputs", "units"[, "covers"], "steps": [{"step", "set", "totals"[, "missing"]}]}``, in grid order.

    ``covers`` says, for an output worked out by month or quarter, which periods of its year its totals add up.
    """
    steps = []
    for summary in summaries:
        step = {"step": summary.index,
                "set": {v.target: json_value(x, v.type) for v, x in zip(grids, summary.values)},
                "totals": {name: _total_json(summary.totals[name], units[name]) for name in outputs}}
        missing = {name: m for name in outputs if (m := _missing_json(summary.totals[name], units[name])) is not None}
        if missing:
            step["missing"] = missing
        steps.append(step)
    document = {"vary": [vary_json(v) for v in (*grids, *draws)], "outputs": list(outputs), "units": dict(units)}
    covers = covers or {}
    if covers:
        document["covers"] = {name: coverage_json(covers[name]) for name in outputs if name in covers}
    if draws:
        document["draws"] = {"count": count, "seed": seed, "factor_grid": json_value(FACTOR_GRID, "number"),
                             "percentiles": PERCENTILE_METHOD}
    document["steps"] = steps
    return document


def _total_json(total: Total | Spread, unit: str):
    if isinstance(total, Spread):
        return {"mean": json_value(total.mean, unit), **{k: json_value(v, unit) for k, v in zip(_LABELS, total.percentiles)}}
    return json_value(total.value, unit)


def _total_text(total: Total, unit: str) -> str:
    if not total.missing:
        return format_value(total.value, unit)
    rest = f"; {format_value(total.present, unit)} from the rest" if total.present is not None else ""
    return f"missing ({total.missing} of {total.cells} cells{rest})"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[k]) for row in (head, *rows)) for k in range(len(head))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths))
            for row in (head, *rows)]


def sweep_text(title: str, grids: Sequence[GridVary], draws: Sequence[DrawVary], outputs: Sequence[str],
               units: dict[str, str], summaries: list[Summary], count: int | None = None, seed: int | None = None,
               covers: Mapping[str, Coverage] | None = None) -> str:
    """One table: a row per grid point, a column per varied value and then per output's total (or its spread).

    An output whose totals add up only part of its year (the data covers some months) says which part.
    """
    covers = covers or {}
    lines = [printable(line) for line in title.split("\n")]
    lines += [f"  varying {printable(v.text)}" for v in (*grids, *draws)]
    lines += [f"  {name} totals cover {covers[name].label()}" for name in outputs
              if name in covers and not covers[name].complete]
    if draws:
        lines.append(f"  {count:,} draws from seed {seed}: the mean and the 5th, 50th and 95th percentiles of each total "
                     f"({PERCENTILE_METHOD})")
    lines.append("")
    settings = [[format_value(x, v.type) for v, x in zip(grids, s.values)] for s in summaries]
    if not draws:
        head = ["step", *(v.target for v in grids), *outputs]
        rows = [[str(s.index), *values, *(_total_text(s.totals[name], units[name]) for name in outputs)]
                for s, values in zip(summaries, settings)]
        return "\n".join(lines + _table(head, rows))
    for name in outputs:
        head = ["step", *(v.target for v in grids), "mean", *_LABELS]
        rows = []
        for s, values in zip(summaries, settings):
            spread = s.totals[name]
            figures = ([format_value(x, units[name]) for x in (spread.mean, *spread.percentiles)] if spread.mean is not None
                       else [f"missing in {spread.missing_draws} of {spread.draws} draws", *("",) * len(_LABELS)])
            rows.append([str(s.index), *values, *figures])
        lines += [name, *_table(head, rows), ""]
    return "\n".join(lines).rstrip("\n")
