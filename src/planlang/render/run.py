"""A run for people and for programs: ``run``'s tables of results, flags and missing values, and
``run --json``'s one object.
"""

from __future__ import annotations

import re

import attrs

from .. import syntax as s
from ..assumptions import assumed_defaults as summarise_defaults
from ..explanation import explain
from ..run import FlagResult, LateSubmission, Results
from ..source import printable
from ..values import Missing, kinds_text
from .steps import named_operands
from .values import format_value, json_value, period_label, value_type

__all__ = ["run_json", "run_text", "flag_message", "late_message", "assumed_defaults", "Selection", "MissingRule",
           "missing_parts"]


def flag_message(results: Results, flag: FlagResult) -> str:
    """The flag's ``says`` text with ``{name}``, ``{entity}`` and ``{period}`` filled in."""
    decl = results.program.declarations[flag.name]

    def fill(match: re.Match) -> str:
        name = match[1].strip()
        if name == "entity":
            return flag.entity
        if name == "period":
            return str(flag.period)
        target = results.program.declarations[name]
        period = flag.period
        granularity = getattr(target, "granularity", None)
        if granularity and period is not None and period.kind != granularity:
            period = period.within(granularity)
        entity = flag.entity if getattr(target, "kinds", ()) else None
        return format_value(results.get(name, entity, period if granularity or isinstance(target, s.ParameterDecl) else None),
                            value_type(target))

    return re.sub(r"\{([^{}]*)\}", fill, decl.message)


def late_message(results: Results, late: LateSubmission) -> str:
    decl = results.program.declarations[late.milestone]
    what = f" ({decl.description})" if decl.description else ""
    days = f"{late.working_days_late} working day{'s' * (late.working_days_late != 1)}"
    return (f"{late.entity} submitted {late.milestone}{what} on {late.submitted}, {days} after the deadline of "
            f"{late.deadline}")

def assumed_defaults(results: Results) -> list[dict]:
    """:func:`planlang.assumptions.assumed_defaults` as ``run`` prints it: each input declared with a
    default, the default, and how many of the entity-periods the run covers assumed it."""
    return [{"input": d.input, "default": d.default, "assumed": d.assumed, "of": d.of} for d in summarise_defaults(results)]


@attrs.frozen
class Selection:
    """``run --only NAME... --entity CODE...``: the outputs and the organisations to show (None: all).

    Flags follow the organisations; missing values follow both (with --only, only the chosen
    outputs' missing values are listed).
    """

    names: frozenset[str] | None = None
    codes: frozenset[str] | None = None

    def __call__(self, name: str, entity: str | None) -> bool:
        return (self.names is None or name in self.names) and self.entity(entity)

    def entity(self, entity: str | None) -> bool:
        return self.codes is None or entity is None or entity in self.codes


_EVERYTHING = Selection()


@attrs.frozen
class _Sweep:
    """What a run shows, gathered in one pass over its cells: the tables of definitions
    (``{name: {entity or "*": {period label: shown value}}}``) and each one's type, the flags
    raised, and the missing values, each in evaluation order and within the selection."""

    tables: dict[str, dict]
    units: dict[str, str | None]
    fired: list[FlagResult]
    missing: list[tuple]


def _sweep(results: Results, only, show) -> _Sweep:
    """Every cell of the run read once, a name at a time (its declaration and type looked up once):
    a run of thousands of organisations formats every cell through here. The same selection as
    ``results.flags``, ``results.missing`` and ``results.outputs()`` filtered by ``only``."""
    program = results.program
    value_of = results.run.value
    out = _Sweep({}, {}, [], [])
    for name, keys in results.scope.items():
        decl = program.declarations[name]
        define, flag = isinstance(decl, s.DefineDecl), isinstance(decl, s.FlagDecl)
        named = only is None or only.names is None or name in only.names
        if not named and not flag:
            continue  # flags are shown whatever --only names; nothing else of it is
        type_ = value_type(decl)
        rows: dict[str, dict] = {}
        row, last = None, _NO_ENTITY
        for entity, period in keys:
            if only is not None and not only.entity(entity):
                continue
            value = value_of(name, entity, period)
            if type(value) is Missing:
                if named:
                    out.missing.append((name, entity, period, value))
            elif flag and value is True:
                out.fired.append(FlagResult(name, decl.severity, entity, period, value))
            if define and named:
                if entity != last:
                    row, last = rows.setdefault(entity or "*", {}), entity
                row[period_label(period)] = show(value, type_)
        if rows:
            out.tables[name], out.units[name] = rows, type_
    return out


_NO_ENTITY = object()


def _citations_json(citations) -> list[dict]:
    return [{"source": c.source, "section": c.section, "quote": c.quote} for c in citations]


@attrs.frozen
class MissingRule:
    """A rule missing in every entity and period shown, because the data holds nothing it needs: no
    value at all of some inputs, or no organisation at all of the kinds it sums over."""

    name: str
    cells: int
    inputs: tuple[str, ...]
    member_kinds: tuple[str, ...]

    @property
    def because(self) -> str:
        parts = []
        if self.inputs:
            parts.append(f"the data has no value of {', '.join(self.inputs)}")
        if self.member_kinds:
            parts.append(f"the data has no {kinds_text(self.member_kinds)}")
        return "; ".join(parts)

    def as_json(self) -> dict:
        return {"output": self.name, "entity_periods": self.cells, "inputs": list(self.inputs),
                "member_kinds": list(self.member_kinds), "because": self.because}


def missing_parts(results: Results, cells: list, keep=None, all_missing: bool = False) -> tuple[list, list[MissingRule]]:
    """Of the missing ``cells`` shown (``results.missing`` within ``keep``), those to list one by one,
    and the rules missing everywhere for want of any data.

    A rule is summarised when every one of its cells shown is missing and every reason is an input
    the data (and the scenario) gives no value for anywhere, or members of a kind the data has no
    organisation of: listing it per entity and period says nothing more, once per cell. With
    ``all_missing`` every cell is listed, the summarised ones too.
    """
    keep = keep or _EVERYTHING
    dataset = results.dataset
    given = {key[0] for key in dataset.values} | set(results.scenario.names)
    absent = {name for name in results.program.of_kind(s.InputDecl) if name not in given}
    kinds = {org.kind for org in dataset.organisations.values()}
    by_name: dict[str, list] = {}
    for cell in cells:
        by_name.setdefault(cell[0], []).append(cell)
    rules = []
    for name, found in by_name.items():
        keys = results.scope[name]
        shown = len(keys) if keep is _EVERYTHING else sum(keep(name, entity) for entity, _ in keys)
        lacking = _lacking(found, absent, kinds) if len(found) == shown else None
        if lacking is not None:
            rules.append(MissingRule(name, len(found), *(tuple(sorted(x)) for x in lacking)))
    if not all_missing:
        summarised = {rule.name for rule in rules}
        cells = [cell for cell in cells if cell[0] not in summarised]
    return cells, rules


def _lacking(found, absent: set[str], kinds: set[str]) -> tuple[set[str], set[str]] | None:
    """The inputs with no value and the kinds of member with no organisation that every reason of
    these missing cells names, or None when some reason is anything else."""
    inputs: set[str] = set()
    members: set[str] = set()
    for *_, value in found:
        for reason in value.reasons:
            if reason.kind == "no_input" and reason.name in absent:
                inputs.add(reason.name)
            elif reason.kind == "no_members" and not kinds.intersection(reason.detail[0]):
                members.update(reason.detail[0])
            else:
                return None
    return inputs, members


def run_json(results: Results, *, only=None, all_missing: bool = False) -> dict:
    """The run as one object: results by name, entity and period, their units, flags with the values
    and citation behind them, and missing values with their reasons.

    A rule the data gives nothing to work with is one entry of ``missing_rules`` rather than one
    entry of ``missing`` per entity and period; ``all_missing`` lists those cells in ``missing`` too.
    """
    program = results.program
    sweep = _sweep(results, only, json_value)
    keep = only or _EVERYTHING
    flags = []
    for f in sweep.fired:
        trace = explain(results, f.name, f.entity, f.period)
        flags.append({"flag": f.name, "severity": f.severity, "entity": f.entity, "period": period_label(f.period),
                      "message": flag_message(results, f),
                      "values": {op.label: json_value(op.value, op.type) for op in named_operands(trace)},
                      "citations": _citations_json(trace.citations)})
    for late in results.late_submissions():
        if keep.entity(late.entity):
            flags.append({"flag": late.name, "severity": late.severity, "entity": late.entity, "period": str(program.year),
                          "message": late_message(results, late),
                          "values": {"submitted": str(late.submitted), "deadline": str(late.deadline),
                                     "working_days_late": late.working_days_late},
                          "citations": _citations_json(program.declarations[late.milestone].citations)})
    cells, rules = missing_parts(results, sweep.missing, keep, all_missing)
    missing = [{"output": name, "entity": entity, "period": period_label(period), "because": value.describe()}
               for name, entity, period, value in cells]
    return {"policy": program.title, "year": str(program.year), "data": results.dataset.source,
            "results": sweep.tables, "units": sweep.units, "flags": flags, "missing": missing,
            "missing_rules": [rule.as_json() for rule in rules], "defaults": assumed_defaults(results)}


def run_text(results: Results, *, only=None, all_missing: bool = False) -> str:
    program = results.program
    lines = [f"{program.title} ({program.year}) on {printable(results.dataset.source)}", ""]
    sweep = _sweep(results, only, format_value)
    for name, rows in sweep.tables.items():
        periods = sorted({p for row in rows.values() for p in row})
        width = max([len(name)] + [len(code) + 2 for code in rows])
        cells = max([len(p) for p in periods] + [len(v) for row in rows.values() for v in row.values()])
        lines.append(name.ljust(width) + "".join(f"  {p:>{cells}}" for p in periods))
        for code, row in rows.items():
            lines.append(("  " + code).ljust(width) + "".join(f"  {row.get(p, ''):>{cells}}" for p in periods))
        lines.append("")
    keep = only or _EVERYTHING
    fired = sweep.fired
    late = [x for x in results.late_submissions() if keep.entity(x.entity)]
    lines.append(f"Flags ({len(fired) + len(late)}):" if fired or late else "Flags: none raised")
    for flag in fired:
        lines.append(f"  {flag.severity:<7} {flag.name} [{flag.entity}, {period_label(flag.period)}]: {flag_message(results, flag)}")
    for item in late:
        lines.append(f"  {item.severity:<7} {item.name} [{item.entity}, {item.milestone}]: {late_message(results, item)}")
    missing, rules = missing_parts(results, sweep.missing, keep, all_missing)
    if missing:
        lines.append("")
        lines.append(f"Missing ({len(missing)}):")
        for name, entity, period, value in missing:
            lines.append(f"  {name} [{entity}, {period_label(period)}]: {value.describe()}")
    if rules and not all_missing:
        lines += ["", f"Missing everywhere, the data giving them nothing to work with ({len(rules)} rule"
                      f"{'s' * (len(rules) != 1)}; --all-missing lists each value):"]
        lines += [f"  {rule.name}: all {rule.cells} entity-period{'s' * (rule.cells != 1)}; {rule.because}" for rule in rules]
    defaults = assumed_defaults(results)
    if defaults:
        lines += ["", "Assumed defaults (the data gives no value, so the declared default is used):"]
        lines += [f"  {d['input']} = {d['default']}: assumed for {d['assumed']} of {d['of']} entity-periods" for d in defaults]
    return "\n".join(lines)


