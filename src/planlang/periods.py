"""Periods and the working-day calendar.

NHS financial years run April to March. A period is a calendar month (``2021-04``), a financial
year (``2021/22``), a quarter of one (``2021/22 Q1`` is April to June) or a half (``2021/22 H1``).

>>> p = parse_period("2021/22 Q2")
>>> p.first_day, p.last_day
(datetime.date(2021, 7, 1), datetime.date(2021, 9, 30))
>>> [m.label for m in parse_period("2021/22 H1").months()][:2]
['2021-04', '2021-05']
>>> working_days(parse_period("2021-05")), working_days(parse_period("2019-05"))
(19, 21)
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import attrs
import holidays

from .diagnostics import UsageError

__all__ = [
    "rank",
    "Period",
    "PeriodError",
    "parse_period",
    "parse_date",
    "GRANULARITIES",
    "working_days",
    "working_days_between",
    "add_working_days",
    "is_working_day",
    "bank_holidays",
    "period_range",
    "check_date",
    "FIRST_DATE",
    "LAST_DATE",
    "DATE_RANGE",
    "period_in_year",
]

# granularity word used in policies -> period kind
GRANULARITIES = {"monthly": "month", "quarterly": "quarter", "half-yearly": "half", "annual": "year"}
_RANK = {"month": 0, "quarter": 1, "half": 2, "year": 3}


def rank(kind: str) -> int:
    """How long a kind of period is, shortest first: month 0, quarter 1, half 2, year 3."""
    return _RANK[kind]


class PeriodError(ValueError):
    """Text that does not name a period or date."""


@attrs.frozen(order=False, cache_hash=True)
class Period:
    """A month, or a financial year or a quarter or half of one.

    ``year`` is the calendar year for a month and the starting year for the others
    (``2021/22`` has year 2021); ``index`` is the month (1-12), quarter (1-4) or half (1-2).
    """

    kind: str
    year: int
    index: int = 1

    def _label(self) -> str:
        if self.kind == "month":
            return f"{self.year:04d}-{self.index:02d}"
        fy = f"{self.year:04d}/{(self.year + 1) % 100:02d}"
        if self.kind == "year":
            return fy
        return f"{fy} {'Q' if self.kind == 'quarter' else 'H'}{self.index}"

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Period({self.label!r})"

    # the first and last days and the label are worked out once, when the period is made: evaluation
    # asks for the days often, and every printed cell names its period
    first_day: dt.date = attrs.field(init=False, eq=False, repr=False)
    last_day: dt.date = attrs.field(init=False, eq=False, repr=False)
    label: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self):
        if self.kind == "month":
            first = dt.date(self.year, self.index, 1)
            length = 1
        else:
            months_in = {"year": 0, "quarter": 3 * (self.index - 1), "half": 6 * (self.index - 1)}[self.kind]
            first = _add_months(dt.date(self.year, 4, 1), months_in)
            length = {"year": 12, "half": 6, "quarter": 3}[self.kind]
        end = _add_months(first, length) - dt.timedelta(days=1)
        object.__setattr__(self, "first_day", first)
        object.__setattr__(self, "last_day", end)
        object.__setattr__(self, "label", self._label())

    def months(self) -> list["Period"]:
        if self.kind == "month":
            return [self]
        count = {"year": 12, "half": 6, "quarter": 3}[self.kind]
        first = self.first_day
        return [Period.month_of(_add_months(first, k)) for k in range(count)]

    def parts(self, kind: str) -> list["Period"]:
        """The periods of ``kind`` that make up this one (months of a quarter, quarters of a year)."""
        if _RANK[kind] > _RANK[self.kind]:
            raise PeriodError(f"{self.label} is shorter than a {kind}")
        return list(_parts(self, kind))

    @property
    def financial_year(self) -> int:
        return self.year if self.kind != "month" else (self.year if self.index >= 4 else self.year - 1)

    def contains(self, other: "Period") -> bool:
        return self.first_day <= other.first_day and other.last_day <= self.last_day

    def shift(self, years: int = 0, months: int = 0) -> "Period":
        """The same kind of period ``years`` and ``months`` later (negative for earlier)."""
        if self.kind == "month":
            return Period.month_of(_add_months(self.first_day, 12 * years + months))
        if months:
            raise PeriodError(f"cannot move {self.label} by months; move it by years")
        return Period(self.kind, self.year + years, self.index)

    def next(self) -> "Period":
        """The period of the same kind that follows this one."""
        if self.kind == "month":
            return self.shift(months=1)
        if self.index < {"quarter": 4, "half": 2, "year": 1}[self.kind]:
            return Period(self.kind, self.year, self.index + 1)
        return Period(self.kind, self.year + 1, 1)

    # periods are ordered by when they start (then shorter first), so `period >= 2021-07` reads naturally
    def __lt__(self, other: "Period") -> bool:
        return self.sort_key() < other.sort_key()

    def __le__(self, other: "Period") -> bool:
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: "Period") -> bool:
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: "Period") -> bool:
        return self.sort_key() >= other.sort_key()

    def sort_key(self):
        return (self.first_day, _RANK[self.kind])

    @staticmethod
    def month_of(day: dt.date) -> "Period":
        return Period("month", day.year, day.month)

    @staticmethod
    def containing(month: "Period", kind: str) -> "Period":
        if kind == "month":
            return month
        fy = month.financial_year
        offset = (month.index - 4) % 12
        index = {"year": 1, "quarter": offset // 3 + 1, "half": offset // 6 + 1}[kind]
        return Period(kind, fy, index)

    def within(self, kind: str) -> "Period":
        """The period of ``kind`` that contains this one (the quarter of a month, the year of a quarter)."""
        return _within(self, kind)


@functools.lru_cache(maxsize=4096)
def _parts(period: Period, kind: str) -> tuple[Period, ...]:
    # asked for every organisation (the months of the year a flag is checked in): made once
    return tuple(sorted({Period.containing(m, kind) for m in period.months()}, key=Period.sort_key))


@functools.lru_cache(maxsize=4096)
def _within(period: Period, kind: str) -> Period:
    if _RANK[kind] < _RANK[period.kind]:
        raise PeriodError(f"a {period.kind} is not inside a single {kind}")
    return Period.containing(Period.month_of(period.first_day), kind)


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


# ASCII digits only: \\d would read "٢٠٢١-٠٥" as 2021-05
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_FY = re.compile(r"([0-9]{4})/([0-9]{2})(?: +([QH])([0-9]))?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def parse_period(text: str) -> Period:
    """Parse ``2021-04``, ``2021/22``, ``2021/22 Q1`` or ``2021/22 H1``."""
    text = str(text).strip()
    year = re.match(r"[0-9]{4}", text)
    if year and not 1 <= int(year[0]) <= 9998:
        raise PeriodError(f"{text!r}: the year {year[0]} is out of range (periods run from 0001 to 9998)")
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r}: month {month} is not between 01 and 12")
        return Period("month", year, month)
    if m := _FY.fullmatch(text):
        start, end = int(m[1]), int(m[2])
        if (start + 1) % 100 != end:
            raise PeriodError(f"{text!r}: a financial year runs into the next year, so write {start}/{(start + 1) % 100:02d}")
        if not m[3]:
            return Period("year", start)
        kind, index = ("quarter", int(m[4])) if m[3] == "Q" else ("half", int(m[4]))
        limit, plural = (4, "quarters") if kind == "quarter" else (2, "halves")
        if not 1 <= index <= limit:
            raise PeriodError(f"{text!r}: a financial year has {plural} 1 to {limit}")
        return Period(kind, start, index)
    raise PeriodError(
        f"{text!r} is not a period; write a month as 2021-04, a financial year as 2021/22, "
        f"a quarter as 2021/22 Q1 or a half as 2021/22 H1{_digits_hint(text)}"
    )


def period_in_year(text: str, year: Period, where: str) -> Period:
    """A period given on the command line or to the Python API, which must fall within the policy year;
    raises :class:`~planlang.diagnostics.UsageError` naming ``where``."""
    try:
        period = parse_period(text)
    except PeriodError as error:
        raise UsageError(str(error), where) from None
    if not year.contains(period):
        raise UsageError(f"{period} is outside the policy year {year}", where)
    return period


def _digits_hint(text: str) -> str:
    return " (digits are 0 to 9)" if any(c.isdigit() and not "0" <= c <= "9" for c in text) else ""


# The dates planlang reads and works out. Planning needs a few years either side of today; a bounded
# range keeps day counts and working-day walks short and every date sum inside Python's calendar.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
DATE_RANGE = f"{FIRST_DATE} to {LAST_DATE}"
# the most working days a date may be moved by: about 380 years, more than the whole range above
MAX_WORKING_DAYS = 100_000


def parse_date(text: str) -> dt.date:
    """Parse an ISO date ``2021-06-03``, from :data:`FIRST_DATE` to :data:`LAST_DATE`.

    >>> parse_date("9999-12-31")
    Traceback (most recent call last):
    ...
    planlang.periods.PeriodError: '9999-12-31' is outside the dates planlang supports, 1900-01-01 to 2199-12-31
    """
    text = str(text)  # a Lark token is a str whose repr is not
    m = _DATE.fullmatch(text.strip())
    if not m:
        raise PeriodError(f"{text!r} is not a date; write it as 2021-06-03{_digits_hint(text)}")
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as error:
        raise PeriodError(f"{text!r} is not a date: {error}") from None
    return check_date(day, repr(text))


def check_date(day: dt.date, shown: str | None = None) -> dt.date:
    """``day``, if it is inside the supported range; otherwise a :class:`PeriodError` that names the range."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise PeriodError(f"{shown or day} is outside the dates planlang supports, {DATE_RANGE}")
    return day


def period_range(first: Period, last: Period) -> list[Period]:
    """Every period from ``first`` to ``last`` inclusive (both of one kind).

    >>> [p.label for p in period_range(parse_period("2021/22 Q3"), parse_period("2022/23 Q1"))]
    ['2021/22 Q3', '2021/22 Q4', '2022/23 Q1']
    """
    out, current = [], first
    while current.sort_key() <= last.sort_key():
        out.append(current)
        current = current.next()
    return out


@functools.lru_cache(maxsize=None)
def bank_holidays(year: int) -> dict[dt.date, str]:
    """England's bank holidays in a calendar year, from the ``holidays`` package."""
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: dt.date) -> bool:
    """A weekday that is not an England bank holiday."""
    return day.weekday() < 5 and day not in bank_holidays(day.year)


@functools.lru_cache(maxsize=None)
def working_days(period: Period) -> int:
    """Weekdays in the period less England bank holidays."""
    return working_days_between(period.first_day, period.last_day)


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Working days from ``first`` to ``last`` inclusive (0 when ``last`` is before ``first``)."""
    if last < first:
        return 0
    # weekdays by arithmetic, less the bank holidays that fall on one: no walk day by day, so a span
    # of centuries (a deadline far from --as-of) costs a holiday table per year, not a step per day
    weeks, extra = divmod((last - first).days + 1, 7)
    weekdays = 5 * weeks + sum((first.weekday() + k) % 7 < 5 for k in range(extra))
    holidays_on_weekdays = sum(first <= day <= last and day.weekday() < 5
                               for year in range(first.year, last.year + 1) for day in bank_holidays(year))
    return weekdays - holidays_on_weekdays


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` working days after ``day`` (before it when negative).

    >>> add_working_days(dt.date(2021, 4, 1), 2)  # Good Friday and Easter Monday are skipped
    datetime.date(2021, 4, 7)
    """
    if abs(count) > MAX_WORKING_DAYS:
        raise PeriodError(f"{count:,} working days is more than planlang counts (at most {MAX_WORKING_DAYS:,})")
    step = dt.timedelta(days=1 if count >= 0 else -1)
    remaining = abs(count)
    try:
        while remaining:
            day += step
            remaining -= is_working_day(day)
    except OverflowError:
        raise PeriodError(f"{count:,} working days from the date would fall outside the calendar") from None
    return day
