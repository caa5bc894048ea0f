"""Each value a reader finds, checked against the policy's declared inputs and kept with its place.

A reader makes one :class:`Checker` per file and hands it every value with where it was written;
the checker names the input, the organisation and the period, converts the value
(:mod:`.convert`), checks its declared range, and keeps problems (up to
:data:`~.dataset.MAX_ERRORS`) so that one run of the reader reports them together.
"""

from __future__ import annotations

import contextlib

from .. import syntax as s
from ..checker import fixed_value
from ..diagnostics import DataErrors, InputError, suggest
from ..periods import GRANULARITIES, Period, PeriodError, parse_period
from ..values import format_money, format_percent
from .convert import SPACES, convert_value, identifier
from .dataset import MAX_ERRORS, Dataset, Organisation, make_dataset

__all__ = ["Checker", "SHEETS", "SHEET_OF", "RAISE_WITH"]

SHEETS = dict(GRANULARITIES)  # data sheet name -> the kind of period its rows give: "monthly" -> "month"
SHEET_OF = {kind: word for word, kind in SHEETS.items()}  # "month" -> "monthly"

# said when a file is larger than a run reads: how to raise the limit
RAISE_WITH = "`--max-data-mb N`"


class Checker:
    """Checks each value against the policy's declared inputs and collects it with its origin."""

    def __init__(self, program, organisations: dict[str, Organisation]):
        self.declared: dict[str, s.InputDecl] = program.of_kind(s.InputDecl)
        self.folded = {name.lower(): name for name in self.declared}  # for headings, which ignore case
        self.year: Period = program.year
        self.organisations = organisations
        self.values: dict = {}
        self.origins: dict = {}
        self.deadlines: dict[str, s.DeadlineDecl] = program.of_kind(s.DeadlineDecl)
        self.submissions: dict = {}
        self.submission_origins: dict = {}
        self._read_periods: dict[str, Period] = {}
        self.errors: list[InputError] = []

    @contextlib.contextmanager
    def each(self, display: str):
        """Read one part of the file; a problem in it is kept and reading goes on with the next part."""
        try:
            yield
        except DataErrors:
            raise
        except InputError as error:
            self.keep_error(error, display)

    def keep_error(self, error: InputError, display: str) -> None:
        """Keep a problem and read on, unless it is the one that makes too many."""
        self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            raise DataErrors(self.errors, display, stopped=True) from None

    def declaration(self, name: str, where: str) -> s.InputDecl:
        decl = self.declared.get(name)
        if decl is None:
            raise InputError(f"{name!r} is not an input of the policy", where,
                             suggest(name, self.declared) or f"the inputs are {', '.join(sorted(self.declared)) or 'none'}")
        return decl

    def heading(self, text: str, where: str) -> str:
        """The input a column heading names, ignoring case."""
        name = text if text in self.declared else self.folded.get(text.lower(), text)
        self.declaration(name, where)
        return name

    def organisation(self, name: str, code: str, where: str) -> None:
        org = self.organisations.get(code)
        if org is None:
            raise InputError(f"no organisation {code!r} is listed in the data's organisations", where,
                             suggest(code, self.organisations))
        kinds = self.declared[name].kinds
        if org.kind not in kinds:
            raise InputError(f"{name} is given per {' or '.join(kinds)}, but {code} is a {org.kind}", where)

    def period(self, name: str, text: str, where: str) -> Period:
        period = self.parse_period(text, where)
        granularity = self.declared[name].granularity
        if period.kind != granularity:
            raise InputError(f"{name} is {SHEET_OF[granularity]}; {period} is a {period.kind}", where)
        return period

    def parse_period(self, text: str, where: str) -> Period:
        # a large file names the same dozen periods hundreds of thousands of times: read each once
        period = self._read_periods.get(text)
        if period is None:
            identifier(text.strip(SPACES), "a period", where)
            try:
                period = self.in_year(parse_period(text), where)
            except PeriodError as error:
                raise InputError(str(error), where) from None
            self._read_periods[text] = period
        return period

    def in_year(self, period: Period, where: str) -> Period:
        if not self.year.contains(period):
            raise InputError(f"{period} is outside the policy year {self.year} "
                             f"({self.year.first_day:%B %Y} to {self.year.last_day:%B %Y})", where)
        return period

    def submission(self, code: str, milestone: str, raw, where: str) -> None:
        """An organisation's submission date for a milestone: a deadline the policy declares."""
        deadlines = {n: d for n, d in self.deadlines.items() if d.granularity in (None, "year")}
        if milestone not in deadlines:
            raise InputError(f"{milestone!r} is not a deadline of the policy", where,
                             suggest(milestone, deadlines) or f"the deadlines are {', '.join(sorted(deadlines)) or 'none'}")
        org = self.organisations.get(code)
        if org is None:
            raise InputError(f"no organisation {code!r} is listed in the data's organisations", where,
                             suggest(code, self.organisations))
        kinds = deadlines[milestone].kinds
        if kinds and org.kind not in kinds:
            raise InputError(f"{milestone} is a deadline for each {' or '.join(kinds)}; {code} is a {org.kind}", where)
        date = convert_value(raw, "date", where)
        if date is not None:
            self.submissions[(code, milestone)] = date
            self.submission_origins[(code, milestone)] = where

    def add(self, name: str, code: str, period: Period, raw, where: str) -> None:
        value = convert_value(raw, self.declared[name].type, where)
        if value is not None:
            self.keep(name, code, period, value, where)

    def keep(self, name: str, code: str, period: Period, value, where: str) -> None:
        """Keep a value already converted to its input's type, once it is in range and not given before."""
        decl = self.declared[name]
        if decl.range is not None:
            _in_range(name, decl, value, where)
        key = (name, code, period)
        if key in self.values:
            raise InputError(f"{name} for {code} in {period} is given twice (first at {self.origins[key]})", where)
        self.values[key] = value
        self.origins[key] = where

    def dataset(self, organisations: list[Organisation], display: str, locate) -> Dataset:
        """The dataset read, or every problem kept while reading it."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise DataErrors(self.errors, display)
        return make_dataset(organisations, self.values, self.origins, display, locate=locate,
                            submissions=self.submissions, submission_origins=self.submission_origins)


def _in_range(name: str, decl: s.InputDecl, value, where: str) -> None:
    low, high = (fixed_value(end) for end in decl.range)
    if not low <= value <= high:
        shown = {"money": format_money, "percent": format_percent}.get(decl.type, str)
        raise InputError(f"{name} must be from {shown(low)} to {shown(high)} (its declared range), found {shown(value)}",
                         where, f"the range is declared at {decl.range[0].span.file}:{decl.range[0].span.line}")


