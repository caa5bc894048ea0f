"""The pack's assurance register, ``assurance.toml`` beside its ``.plan`` files: what has been looked at and explained.

    [[explained]]     a static finding that is understood: kind, rule, reason
    [[difference]]    an expected difference from someone else's figures: name, entity, period, reason,
                      citation (and, optionally, theirs: the figure they publish)
    [[equivalent]]    a mutant no test can tell from the rule as written: file, line, mutant, reason

A difference register may also sit beside the data (``FIGURES.differences.toml``, or any file given with
``--register``); its entries are read together with the pack's.

>>> register = read_register_text('[[explained]]\\nkind = "bands-cross"\\nrule = "x"\\nreason = "r"\\n', "a.toml")
>>> register.explains("bands-cross", "x")
True
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import attrs

from ..diagnostics import InputError
from ..files import read_bytes

__all__ = ["Register", "Difference", "Equivalent", "read_register", "read_register_text", "REGISTER_FILE"]

REGISTER_FILE = "assurance.toml"
_MAX_BYTES = 4 * 1024 * 1024


@attrs.frozen
class Difference:
    name: str
    entity: str | None
    period: str | None
    reason: str
    citation: str
    theirs: str | None = None
    where: str = ""


@attrs.frozen
class Equivalent:
    file: str
    line: int
    mutant: str
    reason: str


@attrs.frozen
class Register:
    explained: tuple[tuple[str, str, str], ...] = ()  # (kind, rule, reason)
    differences: tuple[Difference, ...] = ()
    equivalents: tuple[Equivalent, ...] = ()
    files: tuple[str, ...] = ()

    def explains(self, kind: str, rule: str) -> bool:
        return any(k == kind and r == rule for k, r, _ in self.explained)

    def difference(self, name: str, entity: str | None, period: str | None) -> Difference | None:
        return next((d for d in self.differences if d.name == name and d.entity == entity and d.period == period), None)

    def equivalent(self, file: str, line: int, mutant: str) -> Equivalent | None:
        return next((e for e in self.equivalents if Path(e.file).name == Path(file).name and e.line == line
                     and e.mutant == mutant), None)

    def merged(self, other: "Register") -> "Register":
        return Register(self.explained + other.explained, self.differences + other.differences,
                        self.equivalents + other.equivalents, self.files + other.files)


def read_register(path: str | Path) -> Register:
    """The register in ``path``; an empty register when there is no such file."""
    path = Path(path)
    if not path.is_file():
        return Register()
    data = read_bytes(path, str(path), _MAX_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text ({error.reason} at byte {error.start})", str(path)) from None
    return read_register_text(text, str(path))


def read_register_text(text: str, where: str) -> Register:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"is not a TOML file ({error})", where) from None

    def entries(table: str, required: tuple[str, ...]) -> list[dict]:
        found = data.get(table, [])
        if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
            raise InputError(f"`{table}` must be a list of tables ([[{table}]])", where)
        for index, entry in enumerate(found):
            lacking = [key for key in required if not isinstance(entry.get(key), (str, int)) or entry.get(key) == ""]
            if lacking:
                raise InputError(f"[[{table}]] number {index + 1} lacks {', '.join(lacking)}", where,
                                 f"each [[{table}]] gives {', '.join(required)}")
        return found

    explained = tuple((str(e["kind"]), str(e["rule"]), str(e["reason"]))
                      for e in entries("explained", ("kind", "rule", "reason")))
    differences = tuple(Difference(str(e["name"]), _text(e.get("entity")), _text(e.get("period")), str(e["reason"]),
                                   str(e["citation"]), _text(e.get("theirs")), where)
                        for e in entries("difference", ("name", "reason", "citation")))
    equivalents = []
    for e in entries("equivalent", ("file", "line", "mutant", "reason")):
        if not isinstance(e["line"], int):
            raise InputError("an [[equivalent]] line is a whole number", where)
        equivalents.append(Equivalent(str(e["file"]), e["line"], str(e["mutant"]), str(e["reason"])))
    return Register(explained, differences, tuple(equivalents), (where,))


def _text(value) -> str | None:
    return None if value is None else str(value)
