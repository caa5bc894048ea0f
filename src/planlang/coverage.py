"""Which periods a total covers: a "year" total over data that speaks of only some months says so.

Data for a plan in progress often covers part of the year (or of a rule's ``during``), and a sum
over the months present reads like a year's figure unless it is labelled with the months it adds.
Every writer of a total (report, workbooks, ``compare``) labels it with :meth:`Coverage.label`.

>>> from planlang.periods import parse_period as p
>>> months = [p(f"2021-{m:02d}") for m in (4, 5, 6, 7)]
>>> coverage(months, p("2021-04").within("year").parts("month")[:6]).label()
'April–July 2021 (4 of 6 months)'
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .periods import Period

__all__ = ["Coverage", "coverage", "year_coverage", "coverage_json"]

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_PLURAL = {"month": "months", "quarter": "quarters", "half": "halves", "year": "years"}


@attrs.frozen
class Coverage:
    """The periods a total adds (``present``) out of those it would add over the whole span (``expected``)."""

    present: tuple[Period, ...]
    expected: tuple[Period, ...]

    @property
    def complete(self) -> bool:
        return set(self.expected) <= set(self.present)

    def label(self) -> str:
        """The periods covered, as runs of consecutive periods, and how many of how many.

        >>> from planlang.periods import parse_period as p
        >>> year = p("2021/22")
        >>> coverage([p("2021-04"), p("2021-05"), p("2021-07"), p("2022-01")], year.parts("month")).label()
        'April–May 2021, July 2021 and January 2022 (4 of 12 months)'
        >>> coverage([p("2021-12"), p("2022-01")], year.parts("month")).label()
        'December 2021–January 2022 (2 of 12 months)'
        >>> coverage(year.parts("quarter")[:2], year.parts("quarter")).label()
        '2021/22 Q1–Q2 (2 of 4 quarters)'
        >>> coverage([], year.parts("month")).label()
        'no periods (0 of 12 months)'
        """
        sample = self.expected or self.present
        unit = _PLURAL[sample[0].kind] if sample else "periods"
        count = f"({len(self.present)} of {len(self.expected)} {unit})"
        runs = _runs(self.present)
        if not runs:
            return f"no periods {count}"
        words = [_run_text(first, last) for first, last in runs]
        spans = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        return f"{spans} {count}"


def coverage(present: Iterable[Period], expected: Iterable[Period]) -> Coverage:
    """The coverage of a total over the periods ``present`` of the span whose periods are ``expected``
    (the year's months, or those of the rule's ``during``); present periods outside the span are
    not counted."""
    expected = tuple(sorted(set(expected), key=Period.sort_key))
    within = set(expected)
    return Coverage(tuple(sorted({p for p in present if p in within}, key=Period.sort_key)), expected)


def _runs(periods: tuple[Period, ...]) -> list[tuple[Period, Period]]:
    runs: list[list[Period]] = []
    for period in periods:
        if runs and runs[-1][1].next() == period:
            runs[-1][1] = period
        else:
            runs.append([period, period])
    return [(first, last) for first, last in runs]


def _run_text(first: Period, last: Period) -> str:
    if first.kind != "month":
        if first == last:
            return first.label
        return f"{first.label}–{last.label.rsplit(' ', 1)[-1]}" if first.year == last.year else f"{first.label}–{last.label}"
    start, end = _MONTH_NAMES[first.index - 1], _MONTH_NAMES[last.index - 1]
    if first == last:
        return f"{start} {first.year}"
    if first.year == last.year:
        return f"{start}–{end} {last.year}"
    return f"{start} {first.year}–{end} {last.year}"


def year_coverage(plan, name: str, periods: Iterable[Period | None]) -> Coverage | None:
    """What a year's total of ``name`` over cells in ``periods`` covers of that year: of the year's
    months (or quarters) those its ``during`` allows. None for a name that is not monthly or quarterly."""
    periods = [p for p in periods if p is not None]
    if not periods or periods[0].kind not in ("month", "quarter"):
        return None
    year = periods[0].within("year")
    return coverage(periods, [p for p in year.parts(periods[0].kind) if plan.applies(name, p)])


def coverage_json(covers: Coverage) -> dict:
    """``{"periods": [...], "of": N, "label": ...}``: the periods a total adds, of how many."""
    return {"periods": [p.label for p in covers.present], "of": len(covers.expected), "label": covers.label()}
