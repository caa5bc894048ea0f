"""The data model: organisations and their input values, every value with the place it was read.

A :class:`Dataset` is made by :func:`make_dataset`, which checks the organisations (codes unique,
kinds known, every trust and CCG in a system of the data); the readers (:mod:`.json`,
:mod:`.excel`, :mod:`.columnar`) check each value against the policy (:mod:`.checks`) first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

import attrs

from ..diagnostics import DataErrors, InputError, UsageError, suggest
from ..periods import Period
from .convert import describe, identifier, writable_text

__all__ = ["Organisation", "Dataset", "make_dataset", "check_organisations", "KINDS", "ORGANISATION_FIELDS", "MAX_ERRORS",
           "Locate"]

KINDS = ("system", "trust", "ccg")
ORGANISATION_FIELDS = ("code", "name", "kind", "system")

# A file with many bad values reports this many, then stops: enough to fix in one go, not a flood.
MAX_ERRORS = 50

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
    # what a reader let pass but the user should hear about (an extra sheet, an unknown column), each with its place
    warnings: tuple[str, ...] = ()

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
    by_code = check_organisations(organisations, locate, source)
    members: dict[str, list[str]] = {}
    for org in by_code.values():
        if org.system is not None:
            members.setdefault(org.system, []).append(org.code)
    periods: dict[str, set[Period]] = {}
    for _, _, period in values:
        if period is not None:  # tests may give values that have no period
            periods.setdefault(period.kind, set()).add(period)
    values = dict(values)
    # a reader's places made when asked (the JSON reader's) are made from the keys of the dataset's own values
    over = getattr(origins, "over", None)
    origins = over(values) if over is not None else dict(origins)
    return Dataset(source, by_code, values, origins, dict(submissions or {}), dict(submission_origins or {}),
                   (), {system: tuple(codes) for system, codes in members.items()},
                   {kind: tuple(sorted(found, key=Period.sort_key)) for kind, found in periods.items()})


def check_organisations(organisations: list[Organisation], locate: Locate, source: str) -> dict[str, Organisation]:
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
        raise InputError(f"expected an organisation code, found {describe(org.code)}", locate(index, "code"))
    for field in ("code", "system"):
        identifier(getattr(org, field), f"an organisation's {field}", locate(index, field))
    writable_text(org.name, "an organisation's name", locate(index, "name"))
    if org.code in by_code:
        raise InputError(f"the organisation code {org.code!r} appears twice (first at {locate(first_index[org.code], 'code')})",
                         locate(index, "code"))
    if org.kind not in KINDS:
        raise InputError(f"expected the kind system, trust or ccg, found {describe(org.kind)}", locate(index, "kind"),
                         suggest(str(org.kind), KINDS))


def _check_membership(code: str, org: Organisation, by_code: dict, systems: list[str], where: str) -> None:
    if org.kind == "system":
        if org.system is not None:
            raise InputError(f"{code} is a system, so it belongs to no system, but it names {describe(org.system)}", where)
        return
    if org.system is None:
        raise InputError(f"{org.kind} {code} must name its system", where,
                         f"the systems are {', '.join(systems)}" if systems else "list its system as an organisation too")
    parent = by_code.get(org.system)
    if parent is None:
        raise InputError(f"{org.kind} {code} names the system {describe(org.system)}, which is not in the data", where,
                         suggest(str(org.system), systems))
    if parent.kind != "system":
        raise InputError(f"{org.kind} {code} names {org.system} as its system, but {org.system} is a {parent.kind}", where)


