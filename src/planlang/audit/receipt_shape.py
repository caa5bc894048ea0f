"""The shape of a receipt, declared once: each field, what it holds, and which may be left out.

``verify`` replays whatever a receipt names, so a receipt is checked against this shape before any
of it is used: a field of the wrong type is named by its JSON path (``r.json:$.scenarios[0].sets:
expected a list, got a string``), every such field at once, and nothing is run.

>>> problems(Record({"sets": ListOf(TEXT)}), {"sets": "x"}, "$")
[('$.sets', 'expected a list, got a string')]
"""

from __future__ import annotations

import json
import re

import attrs

__all__ = ["RECEIPT", "EMBEDDED", "RUN_DOCUMENT", "Kind", "ListOf", "MapOf", "Record", "problems", "TEXT"]


@attrs.frozen
class Kind:
    """A JSON scalar of one of ``types`` (``bool`` is never taken for a number), matching ``pattern`` if given."""

    types: tuple[type, ...]
    described: str
    pattern: re.Pattern | None = None


@attrs.frozen
class ListOf:
    item: object


@attrs.frozen
class MapOf:
    """An object whose keys are ``key`` (text, by default any) and whose values are ``value``."""

    value: object
    key: Kind | None = None


@attrs.frozen
class Record:
    """An object with these fields; ``optional`` ones may be absent; ``open``: other fields are let be."""

    fields: dict
    optional: frozenset = frozenset()
    open: bool = False


TEXT = Kind((str,), "a string")
# a path is looked up on this machine: an empty one would name the current folder, a NUL no file at all
_PATH = Kind((str,), "a path (text, without NUL characters)", re.compile(r"[^\x00]+"))
_PATH_OR_NULL = attrs.evolve(_PATH, types=(str, type(None)), described="a path or null")
_COUNT = Kind((int,), "a whole number")
_SHA256 = Kind((str,), "a SHA-256 (64 hexadecimal digits)", re.compile(r"[0-9a-f]{64}"))
_DIGEST = Kind((str,), "a digest (sha256: and 64 hexadecimal digits)", re.compile(r"sha256:[0-9a-f]{64}"))
# a file recorded beside the pack or the data is found by its name in that folder: a name, never a path
_FILE_NAME = Kind((str,), "a file name (no folder)", re.compile(r"(?!\.\.?\Z)[^/\\\x00]+"))
# run --json writes a figure as text, true, false or null; a number replays as harmlessly as they do
_FIGURE = Kind((str, bool, int, float, type(None)), "a figure (a string, a number, true, false or null)")

_OUTCOME = Record({"results": MapOf(MapOf(MapOf(_FIGURE))), "flags": ListOf(TEXT), "missing": ListOf(TEXT)})
_SCENARIO = Record({"name": TEXT, "origin": _PATH_OR_NULL, "origin_absolute": _PATH_OR_NULL,
                    "files": MapOf(_SHA256, _PATH), "absolute": MapOf(_PATH, _PATH), "sets": ListOf(TEXT)})

RECEIPT = Record({
    "format": TEXT, "created": TEXT, "command": ListOf(TEXT), "versions": MapOf(TEXT),
    "policy": Record({"directory": _PATH, "absolute": _PATH, "files": MapOf(_SHA256, _FILE_NAME)}),
    "data": Record({"path": _PATH, "absolute": _PATH, "sha256": _SHA256, "beside": MapOf(_SHA256, _FILE_NAME)},
                   frozenset({"beside"})),
    "bank_holidays": MapOf(TEXT), "digest": _DIGEST, "receipt_digest": _DIGEST, "scenario": _SCENARIO,
    "scenarios": ListOf(attrs.evolve(_SCENARIO, fields=_SCENARIO.fields | {"digest": _DIGEST, "outcome": _OUTCOME})),
    "outcome": _OUTCOME,
}, frozenset({"receipt_digest", "scenario", "scenarios"}))  # receipt_digest: receipts written before it lack it

# embedded in run --json, a receipt leaves its figures to the document around it
EMBEDDED = attrs.evolve(RECEIPT, optional=RECEIPT.optional | {"outcome"})
_CELL = Record({"entity": TEXT, "period": TEXT}, open=True)
RUN_DOCUMENT = Record({
    "results": _OUTCOME.fields["results"],
    "flags": ListOf(attrs.evolve(_CELL, fields=_CELL.fields | {"flag": TEXT})),
    "missing": ListOf(attrs.evolve(_CELL, fields=_CELL.fields | {"output": TEXT})),
    "missing_rules": ListOf(Record({"output": TEXT, "entity_periods": _COUNT}, open=True)),
    "receipt": EMBEDDED,
}, frozenset({"missing_rules"}), open=True)

_JSON_KINDS = ((str, "a string"), (int, "a number"), (float, "a number"), (dict, "an object"),
               (list, "a list"), (type(None), "null"))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def problems(shape, value, path: str = "$") -> list[tuple[str, str]]:
    """Every place where ``value`` differs from ``shape``, as (JSON path, what was expected and got).

    The walk follows the shape, whose depth is fixed, so a value nested however deep costs no more
    than one level per level of the shape.
    """
    found: list[tuple[str, str]] = []
    _walk(shape, value, path, found)
    return found


def _walk(shape, value, path: str, found: list) -> None:
    if isinstance(shape, Kind):
        if not _is(value, shape.types):
            found.append((path, f"expected {shape.described}, got {_kind(value)}"))
        elif shape.pattern is not None and isinstance(value, str) and not shape.pattern.fullmatch(value):
            found.append((path, f"expected {shape.described}, got {_excerpt(value)}"))
    elif isinstance(shape, ListOf):
        if not isinstance(value, list):
            found.append((path, f"expected a list, got {_kind(value)}"))
            return
        for index, item in enumerate(value):
            _walk(shape.item, item, f"{path}[{index}]", found)
    elif not isinstance(value, dict):
        found.append((path, f"expected an object, got {_kind(value)}"))
    elif isinstance(shape, MapOf):
        for key, item in value.items():
            where = _step(path, key)
            if shape.key is not None and not shape.key.pattern.fullmatch(key):
                found.append((where, f"expected {shape.key.described} as the key, got {_excerpt(key)}"))
            _walk(shape.value, item, where, found)
    else:
        for key, field in shape.fields.items():
            if key in value:
                _walk(field, value[key], _step(path, key), found)
            elif key not in shape.optional:
                found.append((_step(path, key), f"missing: expected {_expected(field)}"))
        if not shape.open:
            found += [(_step(path, key), "not a field planlang writes") for key in value if key not in shape.fields]


def _is(value, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return next((word for kind, word in _JSON_KINDS if isinstance(value, kind)), type(value).__name__)


def _expected(shape) -> str:
    return shape.described if isinstance(shape, Kind) else "a list" if isinstance(shape, ListOf) else "an object"


def _step(path: str, key: str) -> str:
    return f"{path}.{key}" if _NAME.match(key) else f"{path}[{_excerpt(key)}]"


def _excerpt(text: str) -> str:
    """A string as JSON writes it, cut short: a message quotes a field, never pages of it."""
    return json.dumps(text if len(text) <= 60 else text[:57] + "...")
