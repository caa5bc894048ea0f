"""Organisation data: JSON or Excel in, a checked :class:`Dataset` out, every value exact and traceable.

(Long-form ``.csv`` and ``.parquet`` files are read by :mod:`planlang.columnar` with the checks here.)

JSON (numbers are read as exact decimals, never as binary floats)::

    {"organisations": [{"code": "SYS1", "name": "North", "kind": "system", "system": null},
                       {"code": "T1", "name": "North Trust", "kind": "trust", "system": "SYS1"}],
     "inputs": {"erf_actual": {"SYS1": {"2021-05": "£26,000,000", "2021-06": 26500000.50}}}}

Excel (.xlsx): a sheet ``organisations`` with the columns code, name, kind, system, and a sheet for
each granularity of input that has data -- ``monthly``, ``quarterly``, ``half-yearly``, ``annual`` --
with the columns code, period, then one column per input. Headings are matched ignoring case and
surrounding spaces; blank rows are skipped. A period is text (``2021-04``, ``2021/22 Q1``,
``2021/22``) or, on the monthly sheet, a date cell meaning its month. Percent cells hold fractions
of one (0.7, shown as 70%).

Every value remembers where it came from (a JSON path such as ``erf.json: inputs.erf_actual.SYS1.2021-05``,
or a cell such as ``book.xlsx: monthly!D3``), and every problem is an
:class:`~planlang.diagnostics.InputError` naming that place. ``null``, an empty string or an empty
cell is no value: the key is left out and the evaluator reports what that makes missing. Missing is
never read as zero.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from . import syntax as s
from .checker import fixed_value
from .diagnostics import DataErrors, InputError, UsageError, suggest
from .files import MAX_DATA_BYTES, check_regular, read_bytes, write_workbook_atomically
from .periods import GRANULARITIES, Period, PeriodError, check_date, parse_date, parse_period
from .source import UNSAFE, character_name
from .values import MAX_DIGITS, AmountError, format_money, format_percent, parse_amount, shown

__all__ = ["Organisation", "Dataset", "PercentCell", "make_dataset", "load_data", "convert_value", "write_workbook", "KINDS",
           "SHEETS"]

KINDS = ("system", "trust", "ccg")
SHEETS = dict(GRANULARITIES)  # data sheet name -> the kind of period its rows give: "monthly" -> "month"
_SHEET_OF = {kind: word for word, kind in SHEETS.items()}  # "month" -> "monthly"
_ORGANISATION_FIELDS = ("code", "name", "kind", "system")

# A file with many bad values reports this many, then stops: enough to fix in one go, not a flood.
MAX_ERRORS = 50

# Zip-bomb limits for workbooks: real planning workbooks are a few MB and compress perhaps 10-fold.
_MAX_UNCOMPRESSED = 256 * 1024 * 1024
_MAX_RATIO = 200

Locate = Callable[[int, str], str]  # (index of an organisation, field) -> where it was written


@attrs.frozen
class Organisation:
    code: str
    name: str
    kind: str  # system, trust or ccg
    system: str | None = None  # the code of its system; None for a system


@attrs.frozen(eq=False)
class Dataset:
    """Organisations and input values, keyed ``(input, organisation code, period)``.

    ``origins`` has the same keys and says where each value was read. Make one with
    :func:`make_dataset` or :func:`load_data`, which validate it.
    """

    source: str
    organisations: dict[str, Organisation]
    values: dict[tuple[str, str, Period], object]
    origins: dict[tuple[str, str, Period], str]
    # (organisation code, deadline name) -> the date it submitted that milestone, and where that was read
    submissions: dict[tuple[str, str], dt.date] = attrs.field(factory=dict)
    submission_origins: dict[tuple[str, str], str] = attrs.field(factory=dict)
    # the files read beside ``source`` (a .csv or .parquet file's organisations and submissions files)
    companions: tuple[str, ...] = ()
    # precomputed because the evaluator asks for them in its inner loops
    _members: dict[str, tuple[str, ...]] = attrs.field(factory=dict, repr=False)
    _periods: dict[str, tuple[Period, ...]] = attrs.field(factory=dict, repr=False)

    def members(self, system: str) -> tuple[str, ...]:
        """The codes of the trusts and CCGs of a system, in file order."""
        return self._members.get(system, ())

    def periods(self, kind: str) -> tuple[Period, ...]:
        """The distinct periods of a kind that the data gives values for, in order."""
        return self._periods.get(kind, ())

    def known(self, code: str, where: str) -> str:
        """``code`` if the data has that organisation; one named by a user (``--entity``, a goal, the
        Python API) and not in the data is a usage error, the same on every door."""
        if code not in self.organisations:
            raise UsageError(f"no organisation {code!r} in {self.source}", where, suggest(code, self.organisations))
        return code

    def of_kinds(self, kinds: Iterable[str]) -> list[Organisation]:
        """The organisations whose kind is one of ``kinds``, in file order."""
        kinds = set(kinds)
        return [org for org in self.organisations.values() if org.kind in kinds]


# ---- organisations ---------------------------------------------------------------------------

def make_dataset(organisations: Iterable[Organisation], values: Mapping, origins: Mapping, source: str,
                 *, locate: Locate | None = None, submissions: Mapping | None = None,
                 submission_origins: Mapping | None = None) -> Dataset:
    """A dataset from its parts, after checking the organisations.

    Codes must be unique, kinds one of system/trust/ccg, every trust and CCG must name a system in
    the data and a system must not name one. ``locate(index, field)`` says where an organisation's
    field was written, for messages; by default ``source: organisations[index].field``.
    """
    organisations = list(organisations)
    locate = locate or (lambda index, field: f"{source}: organisations[{index}].{field}")
    by_code = _check_organisations(organisations, locate, source)
    members: dict[str, list[str]] = {}
    for org in by_code.values():
        if org.system is not None:
            members.setdefault(org.system, []).append(org.code)
    periods: dict[str, set[Period]] = {}
    for _, _, period in values:
        if period is not None:  # tests may give values that have no period
            periods.setdefault(period.kind, set()).add(period)
    values = dict(values)
    # the JSON reader's places are made when asked, from the keys of the dataset's own values
    origins = origins.over(values) if isinstance(origins, _JsonOrigins) else dict(origins)
    return Dataset(source, by_code, values, origins, dict(submissions or {}), dict(submission_origins or {}),
                   (), {system: tuple(codes) for system, codes in members.items()},
                   {kind: tuple(sorted(found, key=Period.sort_key)) for kind, found in periods.items()})


def _check_organisations(organisations: list[Organisation], locate: Locate, source: str) -> dict[str, Organisation]:
    """The organisations by code, once each is known to be well formed; every problem found (up to
    :data:`MAX_ERRORS`) is reported together."""
    errors: list[InputError] = []
    by_code: dict[str, Organisation] = {}
    first_index: dict[str, int] = {}
    for index, org in enumerate(organisations):
        try:
            _check_organisation(org, index, by_code, first_index, locate)
        except InputError as error:
            errors.append(error)
            continue
        by_code[org.code] = org
        first_index[org.code] = index
    # a second pass, so that a trust may be listed before its system
    systems = [code for code, org in by_code.items() if org.kind == "system"]
    for code, org in by_code.items():
        try:
            _check_membership(code, org, by_code, systems, locate(first_index[code], "system"))
        except InputError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DataErrors(errors[:MAX_ERRORS], source, stopped=len(errors) > MAX_ERRORS)
    return by_code


def _check_organisation(org: Organisation, index: int, by_code: dict, first_index: dict, locate: Locate) -> None:
    if not isinstance(org.code, str) or not org.code.strip():
        raise InputError(f"expected an organisation code, found {_describe(org.code)}", locate(index, "code"))
    for field in ("code", "system"):
        _identifier(getattr(org, field), f"an organisation's {field}", locate(index, field))
    _writable_text(org.name, "an organisation's name", locate(index, "name"))
    if org.code in by_code:
        raise InputError(f"the organisation code {org.code!r} appears twice (first at {locate(first_index[org.code], 'code')})",
                         locate(index, "code"))
    if org.kind not in KINDS:
        raise InputError(f"expected the kind system, trust or ccg, found {_describe(org.kind)}", locate(index, "kind"),
                         suggest(str(org.kind), KINDS))


def _check_membership(code: str, org: Organisation, by_code: dict, systems: list[str], where: str) -> None:
    if org.kind == "system":
        if org.system is not None:
            raise InputError(f"{code} is a system, so it belongs to no system, but it names {_describe(org.system)}", where)
        return
    if org.system is None:
        raise InputError(f"{org.kind} {code} must name its system", where,
                         f"the systems are {', '.join(systems)}" if systems else "list its system as an organisation too")
    parent = by_code.get(org.system)
    if parent is None:
        raise InputError(f"{org.kind} {code} names the system {_describe(org.system)}, which is not in the data", where,
                         suggest(str(org.system), systems))
    if parent.kind != "system":
        raise InputError(f"{org.kind} {code} names {org.system} as its system, but {org.system} is a {parent.kind}", where)


# Codes and periods are trimmed of these only: str.strip() would also drop U+2028, U+0085 and the
# like, silently, which are refused instead
_SPACES = " \t"


def _identifier(text, what: str, where: str) -> None:
    """Refuse a code holding a control, line-breaking or bidirectional character, or a lone surrogate.

    Codes are identifiers that reach reports and terminals: one holding ``\\x1b[2J`` would clear the
    screen, one holding a newline could forge a report line ("Flags: none raised").
    """
    found = UNSAFE.search(text) if isinstance(text, str) else None
    if found:
        raise InputError(f"{what} is an identifier and may not hold the character {character_name(found[0])}; "
                         f"found {_describe(text)}", where)


# What no XML document, and so no workbook or report, can hold (XML 1.0 §2.2): the C0 controls but
# tab, newline and carriage return; the surrogates, which are halves of a pair and no character alone
# (JSON's "\ud800" escape makes one); and U+FFFE and U+FFFF, which are not characters either
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _writable_text(text, what: str, where: str) -> None:
    """Refuse a name or a text value that outputs could not write (an ``.xlsx`` Excel would have to repair).

    Refused where it is read, with its place, rather than met later by each writer in turn.
    """
    found = _NOT_XML.search(text) if isinstance(text, str) else None
    if found:
        char = found[0]
        if "\ud800" <= char <= "\udfff":
            reason = f"a lone surrogate U+{ord(char):04X} is not a character"
        elif char in "\ufffe\uffff":
            reason = f"U+{ord(char):04X} is not a character"
        else:
            reason = f"U+{ord(char):04X} is a control character"
        raise InputError(f"{what} holds {_describe(text)}; {reason}, and no workbook or report can hold it", where,
                         "remove it, or write the text without it")


# ---- values ----------------------------------------------------------------------------------

_TRUE, _FALSE = {"true", "yes"}, {"false", "no"}
_EXPECTED = {
    "money": "an amount of money such as £1,000",
    "percent": "a percentage such as 70% (or 0.7)",
    "ratio": "a number",
    "count": "a whole number",
}


def convert_value(raw, type_: str, where: str):
    """A raw JSON or cell value as a value of the input type ``type_``; None when it holds no value.

    Numbers become exact :class:`~fractions.Fraction` (a percentage as a fraction of one), ``bool``
    stays ``bool``, dates become :class:`datetime.date`, text stays ``str``.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if type_ in _EXPECTED:
        return _number(raw, type_, where)
    if type_ == "bool":
        return _bool(raw, where)
    if type_ == "date":
        return _date(raw, where)
    if type_ == "text":
        if isinstance(raw, str):
            _writable_text(raw, "the text", where)
            return raw
        raise InputError(f"expected text, found {_describe(raw)}", where, f"write it as text: \"{raw}\"")
    raise InputError(f"cannot read values of the type {type_!r}", where)


@attrs.frozen
class PercentCell:
    """A number in an Excel cell formatted as a percentage: 0.7 shown as 70%."""

    value: int | float

    def __str__(self) -> str:
        return format_percent(Fraction(Decimal(repr(self.value))))


def _number(raw, type_: str, where: str) -> Fraction:
    expected = _EXPECTED[type_]
    shown_as_percent = isinstance(raw, PercentCell)
    if shown_as_percent:
        if type_ in ("money", "count"):
            raise InputError(f"expected {expected}, found {raw}, a cell formatted as a percentage", where,
                             "format the cell as a number")
        raw = raw.value
    if isinstance(raw, bool):  # bool is an int in Python, but true is not an amount
        raise InputError(f"expected {expected}, found {_describe(raw)}", where)
    if isinstance(raw, _JsonConstant):
        raise InputError(f"expected {expected}, found {raw.text}, which is not a number planlang accepts", where)
    if isinstance(raw, (int, _LongNumber)):
        value = _bounded(Decimal(raw.text if isinstance(raw, _LongNumber) else raw), raw, expected, where)
    elif isinstance(raw, Decimal):  # a JSON number, parsed exactly
        if not raw.is_finite():
            raise InputError(f"expected {expected}, found {raw}", where)
        value = _bounded(raw, raw, expected, where)
    elif isinstance(raw, float):  # an Excel cell: take the shortest decimal that is this float, as Excel shows it
        if not math.isfinite(raw):
            raise InputError(f"expected {expected}, found {raw}", where)
        value = _bounded(Decimal(repr(raw)), raw, expected, where)
    elif isinstance(raw, str):
        value = _number_text(raw, type_, where)
        shown_as_percent = "%" in raw
    else:
        raise InputError(f"expected {expected}, found {_describe(raw)}", where)
    if type_ == "count" and value.denominator != 1:
        raise InputError(f"expected a whole number, found {_describe(raw)}", where)
    if type_ == "percent" and not shown_as_percent:
        _bare_percentage(value, raw, where)
    return value


def _bounded(number: Decimal, raw, expected: str, where: str) -> Fraction:
    """``number`` exactly, if it has at most MAX_DIGITS digits before the point and after it.

    Checked on the decimal's digits and exponent, so 1e999999999 is refused without being expanded.
    """
    _, digits, exponent = number.as_tuple()
    whole = len(digits) + exponent if digits != (0,) else 0
    if whole > MAX_DIGITS or -exponent > MAX_DIGITS:
        shown = raw.text if isinstance(raw, _LongNumber) else str(raw)
        shown = shown if len(shown) <= 40 else f"{shown[:20]}... ({len(shown):,} characters)"
        raise InputError(f"expected {expected}, found the number {shown}, which has more digits than planlang reads "
                         f"(at most {MAX_DIGITS} before the decimal point and {MAX_DIGITS} after it)", where)
    return Fraction(number)


def _number_text(raw: str, type_: str, where: str) -> Fraction:
    text = raw.strip()
    # a £ or % sign says what the writer meant; if it is not what the input is, the data is wrong
    if "%" in text and type_ in ("money", "count"):
        raise InputError(f"expected {_EXPECTED[type_]}, found the percentage {raw!r}", where)
    if "£" in text and type_ != "money":
        raise InputError(f"expected {_EXPECTED[type_]}, found the amount of money {raw!r}", where)
    try:
        return parse_amount(text)
    except AmountError as error:
        why = f"; {error.why}" if error.why else ""
        raise InputError(f"expected {_EXPECTED[type_]}, found {shown(raw)}{why}", where) from None


def _bare_percentage(value: Fraction, raw, where: str) -> None:
    """Refuse a percentage written as a bare number beyond ±1: 70 would be 7000%, almost always 70% mistyped.

    A bare number is a fraction of one (0.7 is 70%); a percentage above 100% is written with its sign.
    """
    if abs(value) > 1:
        meant, reading = (f'"{raw.strip()}%"' if isinstance(raw, str) else f"{raw}%"), format_percent(value)
        raise InputError(f"expected {_EXPECTED['percent']}, found {_describe(raw)}, which would be {reading}", where,
                         f"write {meant} if that is meant (in Excel, a cell formatted as a percentage); "
                         f"write {reading} itself for a percentage above 100%")


def _bool(raw, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise InputError(f"expected true or false (or yes or no), found {_describe(raw)}", where)


def _date(raw, where: str) -> dt.date:
    if isinstance(raw, dt.date):  # an Excel date cell
        day = raw.date() if isinstance(raw, dt.datetime) else raw
        try:
            return check_date(day)
        except PeriodError as error:
            raise InputError(str(error), where) from None
    if not isinstance(raw, str):
        raise InputError(f"expected a date written as 2021-06-03, found {_describe(raw)}", where)
    try:
        return parse_date(raw)
    except PeriodError as error:
        raise InputError(str(error), where) from None


def _describe(raw) -> str:
    """A found value as the data's author would recognise it."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "nothing"
    if isinstance(raw, str):
        return repr(raw)
    if isinstance(raw, PercentCell):
        return f"the percentage {raw}"
    if isinstance(raw, (_LongNumber, _JsonConstant)):
        return f"the number {raw.text[:20]}" + ("..." if len(raw.text) > 20 else "")
    if isinstance(raw, (int, float, Decimal)):
        return f"the number {raw}"
    if isinstance(raw, (dt.date, dt.time)):
        return f"the {'date' if isinstance(raw, dt.date) else 'time'} {raw.isoformat()}"
    return {list: "a list", dict: "an object"}.get(type(raw), repr(raw))


class _Checker:
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
            raise InputError(f"{name} is {_SHEET_OF[granularity]}; {period} is a {period.kind}", where)
        return period

    def parse_period(self, text: str, where: str) -> Period:
        # a large file names the same dozen periods hundreds of thousands of times: read each once
        period = self._read_periods.get(text)
        if period is None:
            _identifier(text.strip(_SPACES), "a period", where)
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


def _in_range(name: str, decl: s.InputDecl, value, where: str) -> None:
    low, high = (fixed_value(end) for end in decl.range)
    if not low <= value <= high:
        shown = {"money": format_money, "percent": format_percent}.get(decl.type, str)
        raise InputError(f"{name} must be from {shown(low)} to {shown(high)} (its declared range), found {shown(value)}",
                         where, f"the range is declared at {decl.range[0].span.file}:{decl.range[0].span.line}")


# ---- reading a file --------------------------------------------------------------------------

def load_data(path: str | os.PathLike, program, *, max_bytes: int = MAX_DATA_BYTES) -> Dataset:
    """Read a ``.json``, ``.xlsx``, ``.csv`` or ``.parquet`` data file for a compiled policy, checking every value.

    Only regular files of at most ``max_bytes`` are read (``run --max-data-mb`` raises it). A
    ``.csv`` or ``.parquet`` file holds values in long form, its organisations in a file beside it
    (:mod:`planlang.columnar`).
    """
    display = os.fspath(path)
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        folder, exists = path.is_dir(), path.exists()
    except OSError as error:  # a name the system cannot even look up (too long, a loop of links)
        raise InputError(f"cannot be read: {error.strerror or error}", display) from None
    if folder:
        raise InputError("is a folder, not a data file", display, f"give {DATA_SUFFIXES} data file")
    if suffix not in (".json", ".xlsx", ".csv", ".parquet"):
        kind = f"{suffix} files" if suffix else "files without a .json, .xlsx, .csv or .parquet suffix"
        raise InputError(f"cannot read {kind}", display,
                         f"give {DATA_SUFFIXES} data file" + (" (save the workbook as .xlsx)" if suffix in (".xls", ".xlsm") else ""))
    if not exists:
        raise InputError("no such file", display)
    if suffix == ".json":
        return _load_json(read_bytes(path, display, max_bytes, _RAISE_WITH), display, program)
    if suffix in (".csv", ".parquet"):
        from .columnar import load_columnar  # imports pyarrow, which a JSON or Excel run need not wait for

        return load_columnar(path, display, program, max_bytes)
    check_regular(path, display, max_bytes, _RAISE_WITH)
    return _load_xlsx(path, display, program)


_RAISE_WITH = "`--max-data-mb N`"
DATA_SUFFIXES = "a .json, .xlsx, .csv or .parquet"


# ---- JSON ------------------------------------------------------------------------------------

@attrs.frozen
class _LongNumber:
    """A JSON integer too long to convert (Python refuses beyond 4,300 digits); refused where it is used."""

    text: str


@attrs.frozen
class _JsonConstant:
    """NaN, Infinity or -Infinity, which JSON does not have but Python's reader accepts; refused where used."""

    text: str


class _Doubled(dict):
    """An object with a key given twice: the reader keeps it, and the walk in :func:`_first_doubled` places it."""

    def __init__(self, pairs, key):
        super().__init__(pairs)
        self.doubled = key


def _unique_keys(pairs, found: list):
    # the json module keeps the last of two equal keys silently; a value given twice is a data error
    seen = {}
    for key, value in pairs:
        if key in seen:
            found.append(key)
            return _Doubled(pairs, key)
        seen[key] = value
    return seen


def _parse_int(text: str):
    return int(text) if len(text) <= 4000 else _LongNumber(text)


def _parse_json(data: bytes, display: str):
    try:
        text = data.decode("utf-8-sig")  # -sig: tolerate the byte-order mark some editors write
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text ({error.reason} at byte {error.start})", display) from None
    doubled: list = []
    try:
        document = json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_JsonConstant,
                              object_pairs_hook=lambda pairs: _unique_keys(pairs, doubled))
    except json.JSONDecodeError as error:
        raise InputError(f"is not valid JSON: {error.msg}", f"{display}:{error.lineno}:{error.colno}") from None
    except RecursionError:
        line, column = nesting_place(text)
        raise InputError(f"is not valid data: its objects and lists nest too deeply (more than {MAX_NESTING} levels)",
                         f"{display}:{line}:{column}") from None
    if doubled:
        path, key = _first_doubled(document)
        raise InputError(f"the key {key!r} appears twice in one object", f"{display}: {path}" if path else display)
    return document


# a data file nests four deep; the reader's own limit is Python's stack, which depends on the caller
MAX_NESTING = 100
# a possessive `*+` over a string: a plain `*` keeps about 160 bytes per character to backtrack to
_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*+"|[\[\]{}]')


def nesting_place(text: str) -> tuple[int, int]:
    """The line and column where the nesting first passes :data:`MAX_NESTING` (strings skipped)."""
    depth = 0
    for match in _BRACKETS.finditer(text):
        if match[0] in "[{":
            depth += 1
            if depth > MAX_NESTING:
                offset = match.start()
                return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
        elif match[0] in "]}":
            depth -= 1
    return 1, 1


def _first_doubled(document) -> tuple[str, str]:
    """The path of the first object with a doubled key, in the notation of the other messages, and the key."""
    stack = [(document, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Doubled):
            return path, node.doubled
        if isinstance(node, dict):
            stack.extend((value, f"{path}.{key}" if path else str(key)) for key, value in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{index}]") for index, value in reversed(list(enumerate(node))))
    return "", ""


def _json_kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


def _load_json(data: bytes, display: str, program) -> Dataset:
    document = _parse_json(data, display)
    if not isinstance(document, dict):
        raise InputError(f'expected an object with the keys "organisations" and "inputs", found {_json_kind(document)}',
                         display)
    allowed = ("organisations", "inputs", "submissions")
    for key in document:
        if key not in allowed:
            raise InputError(f'unknown key {key!r}; the data has only the keys "organisations", "inputs" and "submissions"',
                             f"{display}: {key}", suggest(key, allowed))
    for key in allowed[:2]:
        if key not in document:
            raise InputError(f'expected the key "{key}" at the top level', display)
    organisations = _json_organisations(document["organisations"], f"{display}: organisations")
    locate = lambda index, field: f"{display}: organisations[{index}].{field}"  # noqa: E731
    checker = _Checker(program, _check_organisations(organisations, locate, display))
    checker.origins = _JsonOrigins(f"{display}: inputs", checker.values)
    _json_inputs(document["inputs"], f"{display}: inputs", checker)
    _json_submissions(document.get("submissions", {}), f"{display}: submissions", checker)
    return _finish(organisations, checker, display, locate)


def _finish(organisations, checker: "_Checker", display: str, locate) -> Dataset:
    if len(checker.errors) == 1:
        raise checker.errors[0]
    if checker.errors:
        raise DataErrors(checker.errors, display)
    return make_dataset(organisations, checker.values, checker.origins, display, locate=locate,
                        submissions=checker.submissions, submission_origins=checker.submission_origins)


class _JsonOrigins(Mapping):
    """Where each value of a JSON file was read, ``erf.json: inputs.erf_actual.SYS1.2021-05``, made when asked.

    The place follows from the value's key and the period as written, which is nearly always the
    period's own label; only the others are kept. Holding a string per value cost about 100 bytes
    a value, more than the value itself.
    """

    def __init__(self, place: str, values: dict):
        self._place, self._values, self._written = place, values, {}

    def over(self, values: dict) -> "_JsonOrigins":
        """The same places, for a copy of the values."""
        copy = _JsonOrigins(self._place, values)
        copy._written = self._written
        return copy

    def _made(self, key) -> str:
        name, code, period = key
        return f"{self._place}.{name}.{code}.{period.label}"

    def __setitem__(self, key, where: str) -> None:
        if where != self._made(key):
            self._written[key] = where

    def __getitem__(self, key) -> str:
        if key not in self._values:
            raise KeyError(key)
        return self._written.get(key) or self._made(key)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _json_submissions(given, place: str, checker: "_Checker") -> None:
    """``{"ORG": {"deadline_name": "2021-06-03"}}``: when each organisation submitted each milestone."""
    if not isinstance(given, dict):
        raise InputError(f"expected an object of organisation codes, found {_json_kind(given)}", place)
    for code, milestones in given.items():
        with checker.each(place):
            if not isinstance(milestones, dict):
                raise InputError(f"expected an object of deadline names and dates, found {_json_kind(milestones)}",
                                 f"{place}.{code}")
            for milestone, raw in milestones.items():
                with checker.each(place):
                    checker.submission(code, milestone, raw, f"{place}.{code}.{milestone}")


def _json_organisations(listed, place: str) -> list[Organisation]:
    if not isinstance(listed, list):
        raise InputError(f"expected a list of organisations, found {_json_kind(listed)}", place)
    organisations = []
    for index, item in enumerate(listed):
        here = f"{place}[{index}]"
        if not isinstance(item, dict):
            raise InputError(f"expected an object with code, name, kind and system, found {_json_kind(item)}", here)
        for key in item:
            if key not in _ORGANISATION_FIELDS:
                raise InputError(f"unknown field {key!r}; an organisation has code, name, kind and system", f"{here}.{key}",
                                 suggest(key, _ORGANISATION_FIELDS))
        code, kind = (_json_text(item.get(key), f"{here}.{key}", required=True) for key in ("code", "kind"))
        name = _json_text(item.get("name"), f"{here}.name", required=False)
        system = _json_text(item.get("system"), f"{here}.system", required=False)
        organisations.append(Organisation(code, name or code, kind.lower(), system))
    return organisations


def _json_text(value, where: str, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"expected text, found {'nothing' if value in (None, '') else _json_kind(value)}", where)
    return value.strip(_SPACES)


def _json_inputs(given, place: str, checker: _Checker) -> None:
    if not isinstance(given, dict):
        raise InputError(f"expected an object of inputs by name, found {_json_kind(given)}", place)
    for name, by_org in given.items():
        with checker.each(place):
            _json_input(name, by_org, f"{place}.{name}", checker, place)


def _json_input(name: str, by_org, here: str, checker: _Checker, place: str) -> None:
    checker.declaration(name, here)
    if not isinstance(by_org, dict):
        raise InputError(f"expected an object of organisation codes, found {_json_kind(by_org)}", here)
    for code, by_period in by_org.items():
        at_org = f"{here}.{code}"
        with checker.each(place):
            checker.organisation(name, code, at_org)
            if not isinstance(by_period, dict):
                raise InputError(f"expected an object of periods, found {_json_kind(by_period)}", at_org)
            for text, raw in by_period.items():
                at = f"{at_org}.{text}"
                try:  # checker.each, written out: this runs for every value of the file
                    checker.add(name, code, checker.period(name, text, at), raw, at)
                except DataErrors:
                    raise
                except InputError as error:
                    checker.keep_error(error, place)


# ---- Excel -----------------------------------------------------------------------------------

def _load_xlsx(path: Path, display: str, program) -> Dataset:
    openpyxl = _safe_openpyxl(display)
    _check_zip(path, display)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds of error on a damaged workbook
        raise InputError(f"cannot be read as an Excel workbook ({_reason(error)})", display) from None
    try:
        return _read_book(book, display, program, _formula_cells(path, openpyxl))
    except InputError:
        raise
    except Exception as error:  # read-only mode parses sheets lazily, so damaged or refused XML surfaces here
        raise InputError(f"cannot be read as an Excel workbook ({_reason(error)})", display) from None
    finally:
        book.close()  # read-only mode keeps the file open until closed


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _formula_cells(path: Path, openpyxl) -> dict[str, dict[tuple[int, int], str]]:
    """Each sheet's formulas by (row, column), read in a second pass only when the workbook has any.

    The first pass reads the values Excel saved; a formula a program wrote and no spreadsheet has
    calculated has none, and would otherwise look like a blank cell.
    """
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(_FORMULA_TAG.search(archive.read(name)) for name in sheets):
            return {}
    book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    try:
        found = {}
        for sheet in book.worksheets:
            sheet.reset_dimensions()
            found[sheet.title] = {(number, column): str(cell.value)
                                  for number, row in enumerate(sheet.iter_rows(), start=1)
                                  for column, cell in enumerate(row, start=1) if cell.data_type == "f"}
        return found
    finally:
        book.close()


def _reason(error: BaseException) -> str:
    """The first cause of an error, which says more than openpyxl's wrapper (EntitiesForbidden, ParseError)."""
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    return f"{type(error).__name__}: {error}"


def _safe_openpyxl(display: str):
    """openpyxl, when it parses with defusedxml (no entity expansion, no external entities); else refuse."""
    import openpyxl
    import openpyxl.xml
    import openpyxl.xml.functions

    if not openpyxl.xml.DEFUSEDXML or not openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml"):
        raise InputError("refused: openpyxl is not parsing XML with defusedxml, so workbooks cannot be opened safely",
                         display, "install defusedxml and do not set OPENPYXL_DEFUSEDXML to False")
    return openpyxl


def _check_zip(path: Path, display: str) -> None:
    """Refuse what is not an .xlsx, and zip bombs, before openpyxl sees the file.

    The sizes are those the archive declares; :mod:`zipfile` never inflates a member beyond its
    declared size, so a lying archive cannot get past these limits either.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise InputError("is not an Excel .xlsx workbook (it is not a zip archive)", display,
                         "save the workbook from Excel as .xlsx") from None
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", display) from None
    with archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if total > _MAX_UNCOMPRESSED:
            raise InputError(f"refused: it would expand to {total // (1024 * 1024)} MB, more than the "
                             f"{_MAX_UNCOMPRESSED // (1024 * 1024)} MB allowed", display)
        for member in members:
            if member.file_size and (not member.compress_size or member.file_size / member.compress_size > _MAX_RATIO):
                raise InputError(f"refused: {member.filename} would expand more than {_MAX_RATIO}-fold (a zip bomb?)", display)
        if "[Content_Types].xml" not in archive.namelist():
            raise InputError("is not an Excel .xlsx workbook (a zip archive without [Content_Types].xml)", display)


def _read_book(book, display: str, program, formulas: dict[str, dict[tuple[int, int], str]]) -> Dataset:
    sheets = _sheet_names(book.sheetnames, display)
    if "organisations" not in sheets:
        raise InputError("the workbook has no sheet named 'organisations'", display,
                         "add a sheet 'organisations' with the columns code, name, kind, system")

    def rows(word: str):
        return _rows(book[sheets[word]], display, formulas.get(sheets[word], {}))

    organisations, locate = _xlsx_organisations(sheets["organisations"], rows("organisations"), display)
    checker = _Checker(program, _check_organisations(organisations, locate, display))
    for word in SHEETS:
        if word in sheets:
            _xlsx_values(sheets[word], rows(word), word, display, checker)
    if "submissions" in sheets:
        _xlsx_submissions(sheets["submissions"], rows("submissions"), display, checker)
    return _finish(organisations, checker, display, locate)


def _xlsx_submissions(title: str, rows, display: str, checker: "_Checker") -> None:
    """A sheet ``submissions`` with the columns code, milestone, date."""
    _, heading = next(rows, (1, ()))
    columns = {str(cell).strip().lower(): k for k, cell in enumerate(heading) if not _blank(cell)}
    for needed in ("code", "milestone", "date"):
        if needed not in columns:
            raise InputError(f"the sheet needs a column {needed!r} in its first row", f"{display}: {title}!A1")
    for number, row in rows:
        cell = lambda key: row[columns[key]] if columns[key] < len(row) else None  # noqa: E731
        where = f"{display}: {_cell(title, columns['date'], number)}"
        with checker.each(display):
            checker.submission(str(cell("code") or "").strip(), str(cell("milestone") or "").strip(), cell("date"), where)


def _sheet_names(names: list[str], display: str) -> dict[str, str]:
    """Sheet names as matched (lower case, trimmed) -> as written; unknown sheets are errors."""
    allowed = ["organisations", *SHEETS, "submissions"]
    found: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key not in allowed:
            raise InputError(f"unknown sheet {name!r}; a data workbook has only the sheets {', '.join(allowed)}",
                             f"{display}: {name}", suggest(key, allowed))
        if key in found:
            raise InputError(f"the sheets {found[key]!r} and {name!r} have the same name", f"{display}: {name}")
        found[key] = name
    return found


def _rows(sheet, display: str, formulas: Mapping[tuple[int, int], str]):
    """(row number, cell values) for every row that is not blank, the heading row always first.

    A number in a cell formatted as a percentage comes as a :class:`PercentCell`, so that 70% typed
    in Excel and a bare 70 can be told apart; a formula with no saved value is an error.
    """
    sheet.reset_dimensions()  # another program may have written wrong dimensions; read every row there is
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        row = tuple(_read_cell(cell) for cell in cells)
        if formulas:
            _no_unsaved_formula(cells, row, number, formulas, display, sheet.title)
        if number == 1 or not all(_blank(cell) for cell in row):
            yield number, row


def _no_unsaved_formula(cells, row, number: int, formulas: Mapping[tuple[int, int], str], display: str,
                        title: str) -> None:
    for column, (cell, value) in enumerate(zip(cells, row), start=1):
        if value is None and cell.data_type != "str" and (number, column) in formulas:  # "str": it calculated to ""
            raise InputError(f"this cell holds the formula {formulas[number, column]} but no saved value",
                             f"{display}: {_cell(title, column - 1, number)}",
                             "a program wrote the formula and nothing has calculated it: open the workbook in "
                             "Excel and save it, or enter the value itself")


def _read_cell(cell):
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
        return PercentCell(value)
    return value


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _cell(title: str, index: int, number: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{title}!{get_column_letter(index + 1)}{number}"


def _get(row, index: int):
    return row[index] if index < len(row) else None  # rows stop at their last filled cell


def _text(cell) -> str:
    """A cell as text; a whole number typed into a code column reads as 123, not 123.0."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip(_SPACES)


def _headings(row, title: str, display: str, known: Callable[[str, str], str], required: tuple[str, ...]) -> dict[str, int]:
    """Column name -> index from the first row; ``known(text, where)`` names a heading or raises."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(row or ()):
        if _blank(cell):
            continue
        where = f"{display}: {_cell(title, index, 1)}"
        name = known(str(cell).strip(), where)
        if name in columns:
            raise InputError(f"the column {name!r} appears twice (first at {_cell(title, columns[name], 1)})", where)
        columns[name] = index
    for name in required:
        if name not in columns:
            raise InputError(f"the sheet needs a column headed {name!r} in its first row", f"{display}: {title}!A1")
    return columns


def _unheaded(row, columns: dict[str, int], title: str, number: int, display: str) -> None:
    # a value in a column without a heading would otherwise be ignored without a word
    used = set(columns.values())
    for index, cell in enumerate(row):
        if index not in used and not _blank(cell):
            raise InputError(f"this cell holds {_describe(cell)}, but its column has no heading",
                             f"{display}: {_cell(title, index, number)}")


def _xlsx_organisations(title: str, rows, display: str) -> tuple[list[Organisation], Locate]:

    def known(text: str, where: str) -> str:
        if text.lower() not in _ORGANISATION_FIELDS:
            raise InputError(f"unknown column {text!r}; the organisations sheet has code, name, kind and system", where,
                             suggest(text.lower(), _ORGANISATION_FIELDS))
        return text.lower()

    _, heading = next(rows, (1, ()))
    columns = _headings(heading, title, display, known, ("code", "kind"))
    organisations, numbers = [], []
    for number, row in rows:
        _unheaded(row, columns, title, number, display)
        field = {name: _text(_get(row, index)) for name, index in columns.items()}
        code = field["code"]
        if not code:
            raise InputError("the organisation has no code", f"{display}: {_cell(title, columns['code'], number)}")
        organisations.append(Organisation(code, field.get("name") or code, field["kind"].lower(), field.get("system") or None))
        numbers.append(number)

    def locate(index: int, name: str) -> str:
        return f"{display}: {_cell(title, columns.get(name, columns['code']), numbers[index])}"

    return organisations, locate


def _xlsx_values(title: str, rows, word: str, display: str, checker: _Checker) -> None:
    kind = SHEETS[word]

    def known(text: str, where: str) -> str:
        if text.lower() in ("code", "period"):
            return text.lower()
        name = checker.heading(text, where)
        granularity = checker.declared[name].granularity
        if granularity != kind:
            raise InputError(f"{name} is {_SHEET_OF[granularity]}, so its column belongs on the sheet "
                             f"{_SHEET_OF[granularity]!r}, not {title!r}", where)
        return name

    _, heading = next(rows, (1, ()))
    columns = _headings(heading, title, display, known, ("code", "period"))
    inputs = {name: index for name, index in columns.items() if name not in ("code", "period")}
    for number, row in rows:
        with checker.each(display):
            _xlsx_row(row, number, title, word, columns, inputs, display, checker)


def _xlsx_row(row, number: int, title: str, word: str, columns: dict, inputs: dict, display: str, checker: _Checker):
    _unheaded(row, columns, title, number, display)
    code_at = f"{display}: {_cell(title, columns['code'], number)}"
    period_at = f"{display}: {_cell(title, columns['period'], number)}"
    code = _text(_get(row, columns["code"]))
    if not code:
        raise InputError("the row has no organisation code", code_at)
    if code not in checker.organisations:
        raise InputError(f"no organisation {code!r} is listed on the organisations sheet", code_at,
                         suggest(code, checker.organisations))
    period = _row_period(_get(row, columns["period"]), word, period_at, checker)
    for name, index in inputs.items():
        raw = _get(row, index)
        if _blank(raw):
            continue  # rows are shared by inputs of different kinds of organisation, so blanks are normal
        where = f"{display}: {_cell(title, index, number)}"
        with checker.each(display):
            checker.organisation(name, code, where)
            checker.add(name, code, period, raw, where)


def _row_period(cell, word: str, where: str, checker: _Checker) -> Period:
    kind = SHEETS[word]
    if _blank(cell):
        raise InputError("the row has no period", where)
    if isinstance(cell, (dt.date, dt.datetime)):
        # Excel turns a typed 2021-04 into a date; on the monthly sheet a date means its month
        if kind != "month":
            raise InputError(f"expected a period such as {_EXAMPLE_PERIOD[kind]}, found {_describe(cell)}", where,
                             "a date names a month, and months belong on the sheet 'monthly'")
        return checker.in_year(Period.month_of(cell), where)
    period = checker.parse_period(_text(cell), where)
    if period.kind != kind:
        raise InputError(f"the sheet {word!r} lists {kind}s; {period} is a {period.kind}", where,
                         f"put it on the sheet {_SHEET_OF[period.kind]!r}")
    return period


_EXAMPLE_PERIOD = {"month": "2021-04", "quarter": "2021/22 Q1", "half": "2021/22 H1", "year": "2021/22"}


# ---- writing a workbook ----------------------------------------------------------------------

def write_workbook(path: str | os.PathLike, organisations: Iterable[Organisation], rows: Mapping[str, list[dict]],
                   percent_columns: Iterable[str] = ()) -> None:
    """Write a data workbook that :func:`load_data` reads back, atomically.

    ``rows`` maps a sheet name (``monthly`` ...) to rows, each a dict with ``code``, ``period`` and
    values by input name. Columns follow the order inputs first appear. Fractions that a float holds
    exactly are written as numbers; other terminating decimals as exact text; the rest (such as
    139000000/7) cannot be written exactly and are written as money to the penny. Cells of
    ``percent_columns`` are shown as percentages.
    """
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "organisations"
    sheet.append(list(_ORGANISATION_FIELDS))
    for org in organisations:
        sheet.append([org.code, org.name, org.kind, org.system])
    percent = set(percent_columns)
    for title, entries in rows.items():
        sheet = book.create_sheet(title)
        columns = ["code", "milestone", "date"] if title == "submissions" else ["code", "period"]
        for entry in entries:
            columns += [name for name in entry if name not in columns]
        sheet.append(columns)
        for entry in entries:
            sheet.append([_cell_value(entry.get(name)) for name in columns])
            for index, name in enumerate(columns):
                if name in percent:
                    sheet.cell(row=sheet.max_row, column=index + 1).number_format = "0.00%"
    write_workbook_atomically(Path(path), book)


def _cell_value(value):
    if isinstance(value, Decimal):
        value = Fraction(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        as_float = float(value)
        if Fraction(Decimal(repr(as_float))) == value:  # the float reads back as exactly this value
            return as_float
        if _terminates(value):
            return _decimal_string(value)  # text that parse_amount reads back exactly
        return format_money(value)
    if isinstance(value, Period):
        return value.label
    return value


def _terminates(value: Fraction) -> bool:
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1


def _decimal_string(value: Fraction) -> str:
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
    scaled = abs(value.numerator * 10**digits // value.denominator)
    whole, fraction = divmod(scaled, 10**digits)
    return f"{'-' if value < 0 else ''}{whole}.{fraction:0{digits}d}"
