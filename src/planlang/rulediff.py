"""Comparing two rulebooks: the typed changes that turn one compiled pack into another.

Declarations are matched by name. A removed and an added declaration of the same kind that say
nearly the same thing are one rename. For each changed declaration the differences are typed
records: a field whose text changed (expressions printed canonically, so layout never shows as a
change), a parameter's values period by period (amendments included), citations and
interpretations added or removed. Renderers (:mod:`planlang.render.diff`) word them.

Each :class:`Change` names the declarations of the old pack it replaces and those of the new pack
it brings in, so a change can be applied on its own to the old pack (the seam for attributing a
difference in outputs to the changes that cause it).
"""

from __future__ import annotations

import difflib
import functools
import re

import attrs

from . import syntax as s
from .compiler import Program
from .data import make_dataset
from .periods import Period
from .printer import format_amendments, format_expr, format_scope, format_value_clause
from .run import evaluate
from .values import Missing

__all__ = ["Change", "FieldChange", "ValueChange", "RulebookDiff", "diff_programs", "declaration_kind"]

# a removed and an added declaration this alike (difflib's ratio of their texts) are one renamed
RENAME_SIMILARITY = 0.85



def declaration_kind(decl: s.Decl) -> str:
    return s.RULE_KINDS.get(type(decl), type(decl).__name__)


@attrs.frozen
class FieldChange:
    """One clause of a declaration, as canonical planlang text before and after."""

    field: str  # value, when, default, schedule, type, scope, severity, message, description
    old: str | None
    new: str | None


@attrs.frozen
class ValueChange:
    """A parameter's value over a run of periods: ``old`` and ``new`` are values (Missing when none)."""

    first: Period
    last: Period
    old: object
    new: object
    type: str
    new_first: Period | None = None  # when the packs are different years, the new pack's periods
    new_last: Period | None = None


@attrs.frozen
class Change:
    name: str
    kind: str  # added, removed, changed, renamed
    declaration: str  # input, parameter, definition, flag, deadline
    old: s.Decl | None = None
    new: s.Decl | None = None
    old_name: str | None = None  # for a rename: the name in the old pack
    fields: tuple[FieldChange, ...] = ()
    values: tuple[ValueChange, ...] = ()
    citations_added: tuple[s.Citation, ...] = ()
    citations_removed: tuple[s.Citation, ...] = ()
    interpretations_added: tuple[str, ...] = ()
    interpretations_removed: tuple[str, ...] = ()
    follows_renames: tuple[str, ...] = ()  # old names: the clauses changed only because these were renamed

    @property
    def replaces(self) -> tuple[str, ...]:
        """The old pack's declarations this change takes away (with their amendments)."""
        return () if self.old is None else (self.old.name,)

    @property
    def introduces(self) -> tuple[str, ...]:
        """The new pack's declarations this change brings in (with their amendments)."""
        return () if self.new is None else (self.new.name,)


@attrs.frozen
class RulebookDiff:
    old: Program
    new: Program
    changes: tuple[Change, ...]
    sources_added: tuple[str, ...] = ()
    sources_removed: tuple[str, ...] = ()
    sources_retitled: tuple[tuple[str, str | None, str | None], ...] = ()  # (name, old title, new title)

    @property
    def same_year(self) -> bool:
        return self.old.year == self.new.year


def _rules(program: Program) -> dict[str, s.Decl]:
    return {name: decl for name, decl in program.declarations.items() if type(decl) in s.RULE_KINDS}


def _citations(program: Program, decl: s.Decl) -> tuple[s.Citation, ...]:
    amendments = program.amendments.get(decl.name, ()) if isinstance(decl, s.ParameterDecl) else ()
    return (*decl.citations, *(c for a in amendments for c in a.citations))


def _interpretations(program: Program, decl: s.Decl) -> tuple[str, ...]:
    amendments = program.amendments.get(decl.name, ()) if isinstance(decl, s.ParameterDecl) else ()
    return (*decl.interpretations, *(i for a in amendments for i in a.interpretations))


def _fields(program: Program, decl: s.Decl) -> dict[str, tuple[object, str | None]]:
    """Each clause of a declaration: (what it means, for comparing; its canonical text, for showing)."""
    fields = {"type": (getattr(decl, "type", None),) * 2,
              "scope": ((getattr(decl, "kinds", ()), getattr(decl, "granularity", None), getattr(decl, "during", None)),
                        format_scope(decl)),
              "description": (decl.description,) * 2}
    if isinstance(decl, s.InputDecl):
        fields["default"] = (s.meaning(decl.default), None if decl.default is None else format_expr(decl.default))
    elif isinstance(decl, s.ParameterDecl):
        amendments = program.amendments.get(decl.name, ())
        fields["value"] = (s.meaning((decl.value, decl.schedule)), format_value_clause(decl))
        fields["amendments"] = (s.meaning(tuple((a.effective, a.value, a.schedule) for a in amendments)),
                                format_amendments(amendments))
    elif isinstance(decl, s.FlagDecl):
        fields.update(severity=(decl.severity,) * 2, when=(s.meaning(decl.when), format_expr(decl.when)),
                      message=(decl.message,) * 2)
    else:
        fields["value"] = (s.meaning(decl.value), format_expr(decl.value))
    return fields


def _texts(program: Program, decl: s.Decl) -> dict[str, str | None]:
    return {name: text for name, (_, text) in _fields(program, decl).items()}


def _similarity(old_program: Program, old: s.Decl, new_program: Program, new: s.Decl) -> float:
    before, after = _texts(old_program, old), _texts(new_program, new)
    if type(old) is not type(new) or before["type"] != after["type"] or before["scope"] != after["scope"]:
        return 0.0
    a, b = (" | ".join(v for v in fields.values() if v is not None) for fields in (before, after))
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@functools.lru_cache(maxsize=4)
def _parameters_of(program: Program):
    """A run without data: enough to look up parameters, which never depend on an organisation."""
    return evaluate(program, make_dataset([], {}, {}, "no data"))


def _month_values(program: Program, name: str) -> list[tuple[Period, object]]:
    """A parameter's value in each month of the pack's year, amendments applied."""
    results = _parameters_of(program)
    return [(month, results.get(name, None, month)) for month in program.year.months()]


def _same_value(a, b) -> bool:
    if isinstance(a, Missing) or isinstance(b, Missing):
        return isinstance(a, Missing) and isinstance(b, Missing)
    return type(a) is type(b) and a == b


def _value_changes(old_program: Program, new_program: Program, old: s.ParameterDecl,
                   new: s.ParameterDecl) -> tuple[ValueChange, ...]:
    """Runs of months in which the value differs; months are paired by their place in the year."""
    pairs = list(zip(_month_values(old_program, old.name), _month_values(new_program, new.name)))
    same_year = old_program.year == new_program.year
    runs: list[ValueChange] = []
    for (month, before), (new_month, after) in pairs:
        if _same_value(before, after):
            continue
        last = runs[-1] if runs else None
        if (last is not None and last.last.next() == month and _same_value(last.old, before)
                and _same_value(last.new, after)):
            runs[-1] = attrs.evolve(last, last=month, new_last=None if same_year else new_month)
        else:
            runs.append(ValueChange(month, month, before, after, new.type,
                                    None if same_year else new_month, None if same_year else new_month))
    return tuple(runs)


def _key(citation: s.Citation):
    return citation.source, citation.section, citation.quote


def _compare(old_program: Program, old: s.Decl, new_program: Program, new: s.Decl, kind: str,
             old_name: str | None = None) -> Change | None:
    before, after = _fields(old_program, old), _fields(new_program, new)
    nothing = (None, None)
    # a clause changed when what it says changed: a new layout or spelling (£1000, £1,000) is not a change
    fields = tuple(FieldChange(k, before.get(k, nothing)[1], after.get(k, nothing)[1])
                   for k in dict.fromkeys([*before, *after]) if before.get(k, nothing)[0] != after.get(k, nothing)[0])
    values = (_value_changes(old_program, new_program, old, new)
              if isinstance(old, s.ParameterDecl) and isinstance(new, s.ParameterDecl) else ())
    old_cites, new_cites = _citations(old_program, old), _citations(new_program, new)
    old_keys, new_keys = {_key(c) for c in old_cites}, {_key(c) for c in new_cites}
    old_interp, new_interp = _interpretations(old_program, old), _interpretations(new_program, new)
    change = Change(
        new.name, kind, declaration_kind(new), old, new, old_name, fields, values,
        tuple(c for c in new_cites if _key(c) not in old_keys), tuple(c for c in old_cites if _key(c) not in new_keys),
        tuple(i for i in new_interp if i not in old_interp), tuple(i for i in old_interp if i not in new_interp))
    unchanged = not (fields or values or change.citations_added or change.citations_removed
                     or change.interpretations_added or change.interpretations_removed)
    return None if unchanged and kind == "changed" else change


def diff_programs(old: Program, new: Program) -> RulebookDiff:
    """Every declaration added, removed, renamed or changed between two compiled packs."""
    before, after = _rules(old), _rules(new)
    changes: list[Change] = []
    for name in before.keys() & after.keys():
        change = _compare(old, before[name], new, after[name], "changed")
        if change is not None:
            changes.append(change)
    removed = [before[n] for n in before.keys() - after.keys()]
    added = [after[n] for n in after.keys() - before.keys()]
    # the closest pairs first, so each declaration is matched to its likeliest other name
    candidates = sorted(((_similarity(old, r, new, a), r.name, a.name) for r in removed for a in added), reverse=True)
    renamed_from: dict[str, str] = {}
    for score, old_name, new_name in candidates:
        if score < RENAME_SIMILARITY:
            break
        if old_name in renamed_from.values() or new_name in renamed_from:
            continue
        renamed_from[new_name] = old_name
        changes.append(_compare(old, before[old_name], new, after[new_name], "renamed", old_name))
    renames = {old_name: new_name for new_name, old_name in renamed_from.items()}
    changes = [_following(c, old, new, renames) if c.kind == "changed" and c.fields and renames else c for c in changes]
    changes += [Change(d.name, "removed", declaration_kind(d), old=d) for d in removed if d.name not in renamed_from.values()]
    changes += [Change(d.name, "added", declaration_kind(d), new=d) for d in added if d.name not in renamed_from]
    changes.sort(key=lambda c: (_ORDER[c.kind], _position(c)))
    retitled = tuple((name, old.sources[name].title, new.sources[name].title) for name in sorted(old.sources.keys() & new.sources.keys())
                     if old.sources[name].title != new.sources[name].title)
    return RulebookDiff(old, new, tuple(changes),
                        tuple(sorted(new.sources.keys() - old.sources.keys())),
                        tuple(sorted(old.sources.keys() - new.sources.keys())), retitled)


def _substitute(meaning, renames: dict[str, str]):
    """A meaning with the names it refers to renamed."""
    if isinstance(meaning, tuple) and len(meaning) == 2 and meaning[0] in ("Ref", "SystemRef"):
        return meaning[0], tuple((k, renames.get(v, v) if k == "name" else v) for k, v in meaning[1])
    return tuple(_substitute(x, renames) for x in meaning) if isinstance(meaning, tuple) else meaning


def _following(change: Change, old: Program, new: Program, renames: dict[str, str]) -> Change:
    """The change, noting the renames that account for all its changed clauses."""
    before, after = _fields(old, change.old), _fields(new, change.new)
    changed = [f.field for f in change.fields]
    if any(k not in before or k not in after or _substitute(before[k][0], renames) != after[k][0] for k in changed):
        return change
    used = tuple(sorted(n for n in renames if any(_substitute(before[k][0], {n: renames[n]}) != before[k][0] for k in changed)))
    return attrs.evolve(change, follows_renames=used)


_ORDER = {"changed": 0, "renamed": 1, "added": 2, "removed": 3}


def _position(change: Change):
    decl = change.new or change.old
    return re.sub(r"^.*/", "", decl.span.file), decl.span.line, change.name
