"""Reading a JSON data file: numbers as exact decimals, a key given twice refused, every value placed.

The shape (:mod:`planlang.data` has the whole)::

    {"organisations": [{"code": "SYS1", "name": "North", "kind": "system", "system": null}, ...],
     "inputs": {"erf_actual": {"SYS1": {"2021-05": "£26,000,000", "2021-06": 26500000.50}}},
     "submissions": {"SYS1": {"plan_submission": "2021-06-03"}}}

A value's place is its JSON path, ``erf.json: inputs.erf_actual.SYS1.2021-05``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from ..diagnostics import DataErrors, InputError, suggest
from ..files import read_bytes
from .checks import RAISE_WITH, Checker
from .convert import SPACES, JsonConstant, LongNumber
from .dataset import ORGANISATION_FIELDS, Dataset, Organisation, check_organisations

__all__ = ["load_json", "MAX_NESTING", "nesting_place"]

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
    return int(text) if len(text) <= 4000 else LongNumber(text)


def _parse_json(data: bytes, display: str):
    try:
        text = data.decode("utf-8-sig")  # -sig: tolerate the byte-order mark some editors write
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text ({error.reason} at byte {error.start})", display) from None
    doubled: list = []
    try:
        document = json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=JsonConstant,
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


def load_json(path: Path, display: str, program, max_bytes: int) -> Dataset:
    """A checked dataset from a JSON data file of at most ``max_bytes``."""
    document = _parse_json(read_bytes(path, display, max_bytes, RAISE_WITH), display)
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
    checker = Checker(program, check_organisations(organisations, locate, display))
    checker.origins = _JsonOrigins(f"{display}: inputs", checker.values)
    _json_inputs(document["inputs"], f"{display}: inputs", checker)
    _json_submissions(document.get("submissions", {}), f"{display}: submissions", checker)
    return checker.dataset(organisations, display, locate)


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


def _json_submissions(given, place: str, checker: Checker) -> None:
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
            if key not in ORGANISATION_FIELDS:
                raise InputError(f"unknown field {key!r}; an organisation has code, name, kind and system", f"{here}.{key}",
                                 suggest(key, ORGANISATION_FIELDS))
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
    return value.strip(SPACES)


def _json_inputs(given, place: str, checker: Checker) -> None:
    if not isinstance(given, dict):
        raise InputError(f"expected an object of inputs by name, found {_json_kind(given)}", place)
    for name, by_org in given.items():
        with checker.each(place):
            _json_input(name, by_org, f"{place}.{name}", checker, place)


def _json_input(name: str, by_org, here: str, checker: Checker, place: str) -> None:
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

