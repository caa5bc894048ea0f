"""Declarations: a pack's files gathered into one set of names, then each declaration checked.

:func:`collect` reads every file's declarations into a :class:`Pack` (the header, sources with
the passages they leave unencoded, declarations by name, amendments, tests), reporting names
declared twice. :class:`Declarations` checks inputs, parameters and their schedules, amendments,
definitions, flags and deadlines, each by its own method, and returns them with their
expressions typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from .. import syntax as s
from .. import types as t
from ..diagnostics import Note, suggest
from ..periods import period_range
from ..source import Span
from .expressions import Expressions
from .names import ENTITY_KINDS, KIND_ALIASES, RANK, Context, Names, Use

SEVERITIES = ("info", "warning", "error")


@attrs.define
class Pack:
    """What a pack's files declare, gathered: the header, sources, names, amendments and tests."""

    header: s.PolicyHeader | None = None
    sources: dict[str, s.Source] = attrs.Factory(dict)
    amendments: dict[str, list[s.AmendDecl]] = attrs.Factory(dict)
    tests: list[s.TestDecl] = attrs.Factory(list)


def collect(files: Iterable[s.PolicyFile], names: Names) -> Pack:
    """Every declaration of every file, by kind; the named ones into ``names.decls``."""
    pack, headers, unencoded = Pack(), [], []
    for file in files:
        for decl in file.declarations:
            match decl:
                case s.PolicyHeader():
                    headers.append(decl)
                case s.Source():
                    if decl.name in pack.sources:
                        names.error(f"the source {decl.name!r} is declared twice", decl.span,
                                    notes=[Note(pack.sources[decl.name].span, "first declared here")])
                    pack.sources[decl.name] = decl
                case s.AmendDecl():
                    pack.amendments.setdefault(decl.name, []).append(decl)
                case s.TestDecl():
                    if decl.under is not None:
                        names.error("a test that runs under a scenario is written in the scenario's file", decl.under[1],
                                    f"move it beside `scenario {decl.under[0]}`; `planlang test --scenario FILE` runs it")
                    pack.tests.append(decl)
                case s.ScenarioDecl():
                    names.error("a scenario is written in a file of its own, outside the pack", decl.name_span,
                                f"move it to a file such as scenarios/{decl.name}.plan and give it with --scenario")
                case s.Unencoded():
                    unencoded.append(decl)
                case _:
                    if decl.name in names.decls:
                        first = names.decls[decl.name]
                        names.error(f"`{decl.name}` is declared twice", decl.name_span,
                                    "names are shared by every file of the pack; rename one of them",
                                    [Note(first.name_span, "first declared here")])
                        continue
                    names.decls[decl.name] = decl
    _attach_unencoded(unencoded, pack.sources, names)
    if len(headers) > 1:
        for extra in headers[1:]:
            names.error("a policy pack has one `policy` header", extra.span, notes=[Note(headers[0].span, "the header is here")])
    pack.header = headers[0] if headers else None
    if pack.header is not None and pack.header.year.kind != "year":
        names.error(f"a policy pack is for a financial year such as 2021/22, not the {pack.header.year.kind} {pack.header.year}",
                    pack.header.span)
    return pack


def _attach_unencoded(passages: list[s.Unencoded], sources: dict[str, s.Source], names: Names):
    """Each passage the pack does not encode is kept with the source it quotes."""
    for passage in passages:
        source = sources.get(passage.citation.source)
        if source is None:
            names.error(f"`{passage.citation.source}` is not a declared source", passage.span,
                        suggest(passage.citation.source, sources) or "declare it with `source \"<file>\" \"<title>\"`")
        elif not passage.citation.quote.strip() or not passage.reason.strip():
            names.error("an `unencoded` passage gives the source's words and, after `because`, why the pack does not encode them",
                        passage.span)
        else:
            sources[source.name] = attrs.evolve(source, unencoded=(*source.unencoded, passage))


class Declarations:
    """Checks each declaration of ``pack`` (by kind), reporting into ``names``."""

    def __init__(self, names: Names, expressions: Expressions, pack: Pack):
        self.names, self.expressions, self.pack = names, expressions, pack
        self.error, self.warning = names.error, names.warning

    def check(self) -> dict[str, s.Decl]:
        """Every named declaration, checked; the pack's amendments are checked in place."""
        checked = {}
        for name, decl in self.names.decls.items():
            match decl:
                case s.InputDecl():
                    checked[name] = self.check_input(decl)
                case s.ParameterDecl():
                    checked[name] = self.check_parameter(decl)
                case s.DefineDecl():
                    checked[name] = self.check_define(decl)
                case s.FlagDecl():
                    checked[name] = self.check_flag(decl)
                case s.DeadlineDecl():
                    checked[name] = self.check_deadline(decl)
        for name, amendments in self.pack.amendments.items():
            self.check_amendments(name, amendments)
        return checked

    # ---- what declarations share ----
    def check_scope(self, decl: s.Scoped, required: bool) -> s.Scoped:
        kinds: list[str] = []
        for kind in decl.kinds:
            if kind in KIND_ALIASES:
                kinds.extend(KIND_ALIASES[kind])
            elif kind in ENTITY_KINDS:
                kinds.append(kind)  # an unknown kind was reported by the parser, at the word
        if required and not decl.kinds:
            self.error(f"say which organisations `{decl.name}` applies to, for example `per system` or `per trust or ccg`",
                       decl.name_span)
        if decl.during and decl.granularity and RANK[decl.during[0].kind] < RANK[decl.granularity]:
            self.error(f"`during` names {decl.during[0].kind}s but `{decl.name}` is {decl.granularity}ly", decl.span)
        return attrs.evolve(decl, kinds=tuple(dict.fromkeys(kinds)))

    def check_citations(self, decl: s.Decl, kind_word: str):
        if not decl.citations:
            self.warning(f"{kind_word} `{decl.name}` cites no source", decl.name_span,
                         'add `cites "<source file>" §<section>` naming the guidance it encodes')
        for citation in decl.citations:
            if citation.source not in self.pack.sources:
                self.error(f"`{citation.source}` is not a declared source", citation.span,
                           suggest(citation.source, self.pack.sources) or "declare it with `source \"<file>\" \"<title>\"`")

    def check_type_name(self, decl) -> None:
        if decl.type not in t.TYPES:
            self.error(f"unknown type `{decl.type}`; expected one of {', '.join(t.TYPES)}", decl.type_span,
                       suggest(decl.type, t.TYPES))

    def _scoped_context(self, decl: s.Scoped) -> Context:
        return Context(decl.name, frozenset(decl.kinds), decl.granularity)

    # ---- inputs ----
    def check_input(self, decl: s.InputDecl):
        decl = self.check_scope(decl, required=True)
        self.check_type_name(decl)
        self.check_citations(decl, "input")
        if not decl.granularity:
            self.error(f"say how often `{decl.name}` is given: monthly, quarterly or annual", decl.name_span)
        if decl.default is not None:
            default = self.expressions.constant(decl.default, decl.name)
            self.expressions.matches(default, decl.type, "the default")
            decl = attrs.evolve(decl, default=default)
        if decl.range is not None:
            decl = attrs.evolve(decl, range=self._range(decl))
        return decl

    def _range(self, decl: s.InputDecl):
        """``range LOW to HIGH``: two fixed values of the input's type, the lower first."""
        low, high = (self.expressions.constant(end, decl.name) for end in decl.range)
        self.expressions.matches(low, decl.type, "the start of the range")
        self.expressions.matches(high, decl.type, "the end of the range")
        ends = [fixed_value(end) for end in (low, high)]
        for end, value in zip((low, high), ends):
            if value is None:
                self.error("a range runs between fixed values such as 0% or £1,000", end.span)
        if None not in ends and ends[0] > ends[1]:
            self.error(f"the range starts above where it ends ({low.text if isinstance(low, s.Literal) else '…'} "
                       f"to {high.text if isinstance(high, s.Literal) else '…'})", decl.range[0].span,
                       "write the lower end first")
        return (low, high)

    # ---- parameters, their schedules and amendments ----
    def check_parameter(self, decl: s.ParameterDecl):
        self.check_type_name(decl)
        self.check_citations(decl, "parameter")
        if decl.value is None and not decl.schedule:
            self.error(f"the parameter `{decl.name}` needs a value (`= 85%`) or a schedule (`2021-04: 70%`)", decl.name_span)
            return decl
        return attrs.evolve(decl, value=self._parameter_value(decl.value, decl.name, decl.type),
                            schedule=self._schedule(decl.schedule, decl, decl.granularity))

    def _parameter_value(self, value, name, type_):
        if value is None:
            return None
        value = self.expressions.constant(value, name)
        self.expressions.matches(value, type_, f"the value of `{name}`")
        return value

    def _schedule(self, schedule, decl, granularity):
        entries, covered = [], {}
        for entry in schedule:
            if granularity is None:
                self.error(f"a schedule gives a value per period: say how often, as in `parameter {decl.name} : ... monthly`",
                           entry.span)
                return ()
            if entry.first.kind != granularity:
                self.error(f"`{decl.name}` is {granularity}ly, so its schedule lists {granularity}s, not {entry.first}", entry.span)
                continue
            for period in period_range(entry.first, entry.last):
                if period in covered:
                    self.error(f"{period} is given twice in the schedule of `{decl.name}`", entry.span,
                               notes=[Note(covered[period], "first given here")])
                covered[period] = entry.span
            value = self._parameter_value(entry.value, decl.name, getattr(decl, "type", None) or "")
            entries.append(attrs.evolve(entry, value=value))
        return tuple(entries)

    def check_amendments(self, name: str, amendments: list[s.AmendDecl]):
        base = self.names.decls.get(name)
        for amend in amendments:
            if not isinstance(base, s.ParameterDecl):
                self.error(f"`amend` changes a parameter, and `{name}` is not one", amend.name_span,
                           suggest(name, [n for n, d in self.names.decls.items() if isinstance(d, s.ParameterDecl)]))
                continue
            self.check_citations(amend, "amendment of")
        header = self.pack.header
        by_date: dict = {}
        checked = []
        for amend in amendments:
            if amend.value is None and not amend.schedule:
                self.error(f"the amendment of `{name}` gives no value: add `= value` or a schedule", amend.name_span)
            if header is not None and amend.effective > header.year.last_day:
                self.warning(f"this amendment takes effect on {amend.effective}, after the policy year {header.year}",
                             amend.span)
            if amend.effective in by_date:
                self.error(f"two amendments of `{name}` take effect on {amend.effective}; which applies would depend on their order",
                           amend.span, "merge them, or give them different dates", [Note(by_date[amend.effective].span, "the other")])
            by_date[amend.effective] = amend
            if isinstance(base, s.ParameterDecl):
                checked.append(attrs.evolve(amend, value=self._parameter_value(amend.value, name, base.type),
                                            schedule=self._schedule(amend.schedule, base, base.granularity)))
        self.pack.amendments[name] = checked

    # ---- definitions, flags and deadlines ----
    def check_define(self, decl: s.DefineDecl):
        decl = self.check_scope(decl, required=True)
        self.check_type_name(decl)
        self.check_citations(decl, "definition")
        if not decl.granularity:
            self.error(f"say how often `{decl.name}` is worked out: monthly, quarterly or annual", decl.name_span)
        value = self.expressions.expr(decl.value, self._scoped_context(decl))
        if value.type and decl.type in t.TYPES:
            self.expressions.matches(value, decl.type, f"the value of `{decl.name}`")
        return attrs.evolve(decl, value=value)

    def check_flag(self, decl: s.FlagDecl):
        decl = self.check_scope(decl, required=True)
        self.check_citations(decl, "flag")
        if not decl.granularity:
            self.error(f"say how often `{decl.name}` is checked: monthly, quarterly or annual", decl.name_span)
        if decl.severity not in SEVERITIES:
            self.error(f"unknown severity `{decl.severity}`; expected info, warning or error", decl.severity_span,
                       suggest(decl.severity, SEVERITIES))
        ctx = self._scoped_context(decl)
        when = self.expressions.expr(decl.when, ctx)
        self.expressions.expect_bool(when, "a flag's `when`")
        decls = self.names.decls
        for match in re.finditer(r"\{([^{}]*)\}", decl.message):
            name = match[1].strip()
            if name in ("entity", "period"):
                continue
            placeholder = Span(decl.message_span.file, decl.message_span.line, decl.message_span.column + match.start() + 1,
                               decl.message_span.line, decl.message_span.column + match.end() + 1)
            if name not in decls:
                self.error(f"the message names `{{{name}}}`, which is not declared", placeholder,
                           suggest(name, [*decls, "entity", "period"]))
            else:
                self.names.uses.append(Use(name, decl.name, placeholder))
                self.names.check_reach(decls[name], placeholder, ctx)
        return attrs.evolve(decl, when=when)

    def check_deadline(self, decl: s.DeadlineDecl):
        decl = self.check_scope(decl, required=False)
        self.check_citations(decl, "deadline")
        value = self.expressions.expr(decl.value, self._scoped_context(decl))
        if value.type and value.type != "date":
            self.error(f"a deadline is a date, not {t.describe(value.type)}", value.span)
        return attrs.evolve(decl, value=value)


def fixed_value(expr: s.Expr):
    """The value of a literal, or of a negated one; None for anything that must be worked out."""
    if isinstance(expr, s.Literal):
        return expr.value
    if isinstance(expr, s.Negate) and isinstance(expr.operand, s.Literal):
        return -expr.operand.value
    return None
