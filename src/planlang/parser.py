"""Parser: policy text -> syntax tree (:mod:`planlang.syntax`), with every syntax error collected.

Lark's trees and tokens never leave this module. A file is split into declarations (each starts
in column 1 with its keyword) and each is parsed on its own, so one mistake does not hide the next.
:func:`parse_layout` gives the same declarations as written, clause by clause, for the formatter.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import stat
from importlib import resources
from pathlib import Path

import attrs
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import syntax as s
from .diagnostics import Diagnostic, suggest
from .periods import GRANULARITIES, Period, PeriodError, parse_date, parse_period
from .source import UNSAFE, SourceFile, Span, character_name, printable
from .values import AmountError, parse_amount

__all__ = ["parse_source", "parse_setting", "parse_layout", "vocabulary", "Vocabulary", "DeclarationLayout", "Clause",
           "grammar_text", "DECLARATION_KEYWORDS"]


def grammar_text() -> str:
    """The grammar, from inside the installed package or, in a source checkout, from ``grammar/``."""
    packaged = resources.files("planlang") / "grammar" / "planlang.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "planlang.lark").read_text(encoding="utf-8")


_LARK_OPTIONS = dict(parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False,
                     start=["start", "setting", "target_only"])


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    """The parser; built from the grammar once per machine and user, then read from Lark's cache.

    Building the LALR tables costs 0.1-0.2 s at every start; Lark saves them to the file given as
    ``cache`` (named by a hash of the grammar, so a changed grammar is never read from an old file;
    Lark also checks the grammar's hash in the file) and loads them from it next time.
    """
    grammar = grammar_text()
    cache = _cache_file(hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:24])
    return Lark(grammar, cache=cache, **_LARK_OPTIONS) if cache else Lark(grammar, **_LARK_OPTIONS)


def _cache_file(key: str) -> str | None:
    """Where Lark may keep its tables, or None (build them, then) when no safe place exists.

    Lark's cache is a pickle, and loading a pickle runs whatever code it names, so the file must be
    one nobody but this user could have written: in a folder of this user's own cache directory
    (``$XDG_CACHE_HOME`` or ``~/.cache``) made private (0700), owned by this user, neither it nor
    the file a symbolic link, and neither writable by group or others. Lark's default place, the
    shared temporary folder, is refused for that reason. Anything unusual (no home, a read-only
    disk, another owner, Windows' lack of owners) means no cache: the grammar is built as before.
    """
    if not hasattr(os, "getuid") or os.environ.get("PLANLANG_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "planlang")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not _private(os.lstat(folder), stat.S_ISDIR):
            return None
        path = os.path.join(folder, f"grammar-{key}.lark")
        if os.path.lexists(path) and not _private(os.lstat(path), stat.S_ISREG):
            return None
    except OSError:
        return None
    return path


def _private(status: os.stat_result, kind) -> bool:
    return kind(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@attrs.frozen
class Vocabulary:
    """The language's words, read from the grammar: for highlighting and completion, never listed by hand."""

    declarations: tuple[str, ...]  # the keywords that start a declaration
    keywords: tuple[str, ...]  # every other word of the grammar
    constants: tuple[str, ...]  # true, false

    def pattern(self, terminal: str) -> str:
        """The regular expression of one of the grammar's terminals (MONEY, SECTION, ...)."""
        return _lark().get_terminal(terminal).pattern.to_regexp()


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The grammar's words: its quoted keywords, and those that start a ``*_decl`` rule."""
    lark = _lark()
    words = {t.name: t.pattern.value for t in lark.terminals
             if t.pattern.type == "str" and re.fullmatch(r"[a-z][a-z-]*", t.pattern.value)}
    starts = tuple(dict.fromkeys(words[r.expansion[0].name] for r in lark.rules
                                 if r.origin.name.endswith("_decl") and r.expansion and r.expansion[0].name in words))
    constants = tuple(w for w in words.values() if w in ("true", "false"))
    keywords = tuple(sorted(set(words.values()) - set(starts) - set(constants)))
    return Vocabulary(starts, keywords, constants)


DECLARATION_KEYWORDS = vocabulary().declarations
_DECLARATION_START = re.compile(r"^(%s)\b" % "|".join(DECLARATION_KEYWORDS))


class _NodeError(Exception):
    def __init__(self, message: str, span: Span, suggestion: str | None = None):
        super().__init__(message)
        self.message, self.span, self.suggestion = message, span, suggestion


@attrs.frozen
class Clause:
    """One clause of a declaration as written: ``kind`` (description, citation, value, ...), where, its value."""

    kind: str
    span: Span
    value: object


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


@v_args(meta=True)
class _ToSyntax(Transformer):
    """Lark tree -> syntax nodes. Declarations come out as (keyword, head values, clauses)."""

    def __init__(self, filename: str, offset: int):
        super().__init__()
        self.filename = filename
        self.offset = offset  # the lines of the file above the declaration, which Lark did not see

    def _span(self, meta) -> Span:
        return Span(self.filename, meta.line + self.offset, meta.column, meta.end_line + self.offset, meta.end_column)

    def _tok(self, token: Token) -> Span:
        return Span(self.filename, token.line + self.offset, token.column, token.end_line + self.offset, token.end_column)

    # ---- literals ----
    def _amount(self, meta, token: Token, type_: str) -> s.Literal:
        try:
            value = parse_amount(token)
        except AmountError as error:
            raise _NodeError(str(error), self._tok(token)) from None
        return s.Literal(span=self._span(meta), value=value, text=str(token), type=type_)

    def money(self, meta, items):
        return self._amount(meta, items[0], "money")

    def percent(self, meta, items):
        return self._amount(meta, items[0], "percent")

    def number(self, meta, items):
        return self._amount(meta, items[0], "number")

    def date(self, meta, items):
        return s.Literal(span=self._span(meta), value=self._date(items[0]), text=str(items[0]), type="date")

    def period_literal(self, meta, items):
        period, text = items[0]
        return s.Literal(span=self._span(meta), value=period, text=text, type="period")

    def text(self, meta, items):
        return s.Literal(span=self._span(meta), value=_unquote(items[0]), text=str(items[0]), type="text")

    def true(self, meta, items):
        return s.Literal(span=self._span(meta), value=True, text="true", type="bool")

    def false(self, meta, items):
        return s.Literal(span=self._span(meta), value=False, text="false", type="bool")

    def _date(self, token: Token) -> dt.date:
        try:
            return parse_date(str(token))
        except PeriodError as error:
            raise _NodeError(str(error), self._tok(token)) from None

    def period(self, meta, items):
        try:
            return parse_period(items[0]), str(items[0])
        except PeriodError as error:
            raise _NodeError(str(error), self._tok(items[0])) from None

    def period_range(self, meta, items):
        first = items[0][0]
        last = items[1][0] if len(items) > 1 else first
        if first.kind != last.kind:
            raise _NodeError(f"a range runs from one kind of period to the same kind; {first} to {last} does not", self._span(meta))
        if last.sort_key() < first.sort_key():
            raise _NodeError(f"the range {first} to {last} ends before it starts", self._span(meta))
        return first, last

    # ---- expressions ----
    def reference(self, meta, items):
        return s.Ref(span=self._span(meta), name=str(items[0]))

    def system_reference(self, meta, items):
        return s.SystemRef(span=self._span(meta), name=str(items[-1]))

    def current_period(self, meta, items):
        return s.CurrentPeriod(span=self._span(meta))

    def argument(self, meta, items):
        over = str(items[1].children[0]) if len(items) > 1 else None
        return s.Argument(span=self._span(meta), value=items[0], over=over)

    def call(self, meta, items):
        name = items[0]
        return s.Call(span=self._span(meta), name=str(name), name_span=self._tok(name), args=tuple(items[1:]))

    def negate(self, meta, items):
        return s.Negate(span=self._span(meta), operand=items[-1])

    def not_op(self, meta, items):
        return s.Not(span=self._span(meta), operand=items[-1])

    _OPS = {"−": "-", "×": "*", "÷": "/", "≥": ">=", "≤": "<=", "≠": "!="}

    def binary(self, meta, items):
        left, op, right = items
        return s.Binary(span=self._span(meta), op=self._OPS.get(str(op), str(op)), left=left, right=right)

    def compare(self, meta, items):
        left, op, right = items
        return s.Compare(span=self._span(meta), op=self._OPS.get(str(op), str(op)), left=left, right=right)

    def or_op(self, meta, items):
        return s.Logical(span=self._span(meta), op="or", left=items[0], right=items[-1])

    def and_op(self, meta, items):
        return s.Logical(span=self._span(meta), op="and", left=items[0], right=items[-1])

    def within(self, meta, items):
        return s.Within(span=self._span(meta), value=items[0], tolerance=items[1], reference=items[2])

    def because(self, meta, items):
        return Clause("because", self._span(meta), _unquote(items[0]))

    def if_expr(self, meta, items):
        condition, then, *rest = items
        then_because = rest.pop(0).value if isinstance(rest[0], Clause) else None
        otherwise = rest.pop(0)
        because = rest[0].value if rest else None
        return s.If(span=self._span(meta), condition=condition, then=then, otherwise=otherwise, because=because,
                    then_because=then_because)

    def band(self, meta, items):
        return s.Band(span=self._span(meta), upper=items[0], rate=items[1])

    def top_band(self, meta, items):
        return items[0]

    def bands_expr(self, meta, items):
        return s.Bands(span=self._span(meta), amount=items[0], bands=tuple(items[1:-1]), top_rate=items[-1])

    def limit_kind(self, meta, items):
        return str(items[0])

    def taper_limit(self, meta, items):
        return Clause(items[0], self._span(meta), items[1])

    def taper_expr(self, meta, items):
        base, shortfall, rate, *limits = items
        found: dict[str, s.Expr] = {}
        for limit in limits:
            if limit.kind in found:
                raise _NodeError(f"a taper has one `{limit.kind}`; this is the second", limit.span)
            found[limit.kind] = limit.value
        return s.Taper(span=self._span(meta), base=base, shortfall=shortfall, rate=rate,
                       floor=found.get("floor"), cap=found.get("cap"))

    def _day_span(self, meta, count, working: bool) -> s.DaySpan:
        if isinstance(count, s.Literal) and count.type == "number" and count.value.denominator != 1:
            raise _NodeError(f"a number of days is whole; {count.text} is not", count.span,
                             "write a whole number of days, such as 1 or 2")
        return s.DaySpan(span=self._span(meta), count=count, working=working)

    def working_days_span(self, meta, items):
        return self._day_span(meta, items[0], True)

    def days_span(self, meta, items):
        return self._day_span(meta, items[0], False)

    # ---- clauses ----
    def description(self, meta, items):
        return Clause("description", self._span(meta), _unquote(items[0]))

    def citation(self, meta, items):
        quote = _unquote(items[2]) if len(items) > 2 else None
        return Clause("citation", self._span(meta),
                       s.Citation(span=self._span(meta), source=_unquote(items[0]), section=str(items[1]), quote=quote))

    def kind(self, meta, items):
        return str(items[0]), self._tok(items[0])

    def entity_clause(self, meta, items):
        return Clause("entity", self._span(meta), tuple(items))

    def granularity_clause(self, meta, items):
        return Clause("granularity", self._span(meta), GRANULARITIES[str(items[0])])

    def during_clause(self, meta, items):
        return Clause("during", self._span(meta), items[0])

    def default_clause(self, meta, items):
        return Clause("default", self._span(meta), items[0])

    def range_clause(self, meta, items):
        return Clause("range", self._span(meta), (items[0], items[1]))

    def value_clause(self, meta, items):
        return Clause("value", self._span(meta), items[0])

    def schedule_entry(self, meta, items):
        (first, last), value = items
        return Clause("schedule", self._span(meta),
                       s.ScheduleEntry(span=self._span(meta), first=first, last=last, value=value))

    def severity_clause(self, meta, items):
        return Clause("severity", self._tok(items[0]), str(items[0]))

    def when_clause(self, meta, items):
        return Clause("when", self._span(meta), items[0])

    def message_clause(self, meta, items):
        return Clause("message", self._tok(items[0]), _unquote(items[0]))

    def type_annotation(self, meta, items):
        return str(items[0]), self._tok(items[0])

    # ---- tests ----
    def target(self, meta, items):
        name, rest = items[0], items[1:]
        entity = next((str(x) for x in rest if isinstance(x, Token)), None)
        period = next((x[0] for x in rest if isinstance(x, tuple)), None)
        return s.Target(span=self._span(meta), name=str(name), entity=entity, period=period)

    def test_entity(self, meta, items):
        (kind, _), code, *system = items
        return Clause("test_entity", self._span(meta),
                       s.TestEntity(span=self._span(meta), kind=kind, code=str(code),
                                    system=str(system[0]) if system else None))

    def test_period(self, meta, items):
        return Clause("test_period", self._span(meta), items[0])

    def given(self, meta, items):
        return Clause("given", self._span(meta), s.Given(span=self._span(meta), target=items[0], value=items[1]))

    def expect_value(self, meta, items):
        return Clause("expect", self._span(meta),
                       s.Expectation(span=self._span(meta), target=items[0], kind="value", value=items[1]))

    def expect_missing(self, meta, items):
        return Clause("expect", self._span(meta), s.Expectation(span=self._span(meta), target=items[0], kind="missing"))

    def flag_polarity(self, meta, items):
        return bool(items)

    def expect_flag(self, meta, items):
        kind = "no_flag" if items[0] else "flag"
        return Clause("expect", self._span(meta), s.Expectation(span=self._span(meta), target=items[1], kind=kind))

    # ---- scenarios ----
    def setting_target(self, meta, items):
        name, rest = items[0], items[1:]
        entity = next((x for x in rest if isinstance(x, Token)), None)
        periods = next((x for x in rest if isinstance(x, tuple)), None)
        return s.SettingTarget(span=self._span(meta), name=str(name), name_span=self._tok(name),
                               entity=str(entity) if entity is not None else None,
                               entity_span=self._tok(entity) if entity is not None else None,
                               periods=periods, periods_span=self._span(meta) if periods else None)

    def set_clause(self, meta, items):
        return Clause("set", self._span(meta), s.SetClause(span=self._span(meta), target=items[0], value=items[1]))

    def replace_clause(self, meta, items):
        name = items[0]
        target = s.SettingTarget(span=self._tok(name), name=str(name), name_span=self._tok(name))
        return Clause("set", self._span(meta), s.SetClause(span=self._span(meta), target=target, value=items[1], formula=True))

    def based_on(self, meta, items):
        return Clause("based_on", self._span(meta), tuple((str(x), self._tok(x)) for x in items))

    def setting(self, meta, items):
        return s.SetClause(span=self._span(meta), target=items[0], value=items[1])

    def target_only(self, meta, items):
        return items[0]

    def under_clause(self, meta, items):
        return Clause("under", self._span(meta), (str(items[0]), self._tok(items[0])))

    def note_kind(self, meta, items):
        return str(items[0])

    def note(self, meta, items):
        return Clause("note", self._span(meta), s.TestNote(span=self._span(meta), kind=items[0], text=_unquote(items[1])))

    # ---- declarations: (keyword, span, head, clauses) ----
    def _decl(keyword):
        def build(self, meta, items):
            return keyword, self._span(meta), items

        return build

    policy_decl = _decl("policy")
    source_decl = _decl("source")
    input_decl = _decl("input")
    parameter_decl = _decl("parameter")
    amend_decl = _decl("amend")
    define_decl = _decl("define")
    flag_decl = _decl("flag")
    deadline_decl = _decl("deadline")
    test_decl = _decl("test")
    scenario_decl = _decl("scenario")
    unencoded_decl = _decl("unencoded")

    def start(self, meta, items):
        return items[0]


# ---- assembling declarations from clauses ----------------------------------------------------

_ALLOWED = {
    "input": {"description", "citation", "entity", "granularity", "default", "range"},
    "parameter": {"description", "citation", "granularity", "value", "schedule"},
    "amend": {"description", "citation", "value", "schedule"},
    "define": {"description", "citation", "entity", "granularity", "during", "value"},
    "flag": {"description", "citation", "entity", "granularity", "during", "severity", "when", "message"},
    "deadline": {"description", "citation", "entity", "granularity", "value"},
    "test": {"description", "citation", "test_entity", "test_period", "given", "expect", "note", "under"},
    "scenario": {"description", "citation", "based_on", "set"},
    "unencoded": {"because"},
}
_KINDS = ("system", "trust", "ccg", "organisation")
_CLAUSE_KEYWORDS = {"cites", "per", "default", "range", "when", "says", "severity", "during", "monthly", "quarterly", "annual", "given",
                    "expect"}
_REPEATABLE = {"citation", "schedule", "test_entity", "given", "expect", "note", "set"}
_REQUIRED = {
    "define": ("value",),
    "flag": ("severity", "when", "message"),
    "deadline": ("value",),
}
_CLAUSE_WORDS = {
    "description": "a description", "citation": "`cites`", "entity": "`per`",
    "granularity": "a granularity (monthly, quarterly, half-yearly, annual)",
    "during": "`during`", "default": "`default`", "range": "`range`", "value": "`= value`", "schedule": "a schedule line (`2021-04: 70%`)",
    "severity": "`severity`", "when": "`when`", "message": "`says`", "test_entity": "an organisation line",
    "test_period": "`period`", "given": "`given`", "expect": "`expect`", "note": "`note`", "because": "`because`",
    "based_on": "`based on`", "set": "`set` or `replace`", "under": "`under`",
}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _assemble(keyword: str, span: Span, head: list, interpretations: tuple[str, ...], filename: str, offset: int,
              errors: list[Diagnostic]):
    clauses = [item for item in head if isinstance(item, Clause)]
    head = [item for item in head if not isinstance(item, Clause)]
    seen: dict[str, list[Clause]] = {}
    for clause in clauses:
        compare_hint = "to compare two values write `==`" if clause.kind == "value" else None
        if compare_hint and "when" in seen and clause.kind not in _ALLOWED[keyword]:
            # `when a = b`: one error, with the fix; the half-read `when a` would only add noise
            errors.append(Diagnostic("error", f"`=` gives {_article(keyword)} `{keyword}` a value; it does not compare",
                                     clause.span, compare_hint))
            return None
        if clause.kind not in _ALLOWED[keyword]:
            takes = ", ".join(_CLAUSE_WORDS[k] for k in sorted(_ALLOWED[keyword]))
            errors.append(Diagnostic("error", f"{_article(keyword)} `{keyword}` declaration does not take {_CLAUSE_WORDS[clause.kind]}",
                                     clause.span, compare_hint or f"{_article(keyword)} `{keyword}` takes {takes}"))
            continue
        if clause.kind in seen and clause.kind not in _REPEATABLE:
            errors.append(Diagnostic("error", f"{_article(keyword)} `{keyword}` has one {_CLAUSE_WORDS[clause.kind]}; this is the second",
                                     clause.span, compare_hint))
            continue
        seen.setdefault(clause.kind, []).append(clause)
    one = {kind: found[0].value for kind, found in seen.items()}
    many = {kind: tuple(c.value for c in found) for kind, found in seen.items()}

    name_token = head[0] if head and isinstance(head[0], Token) else None
    common = dict(span=span, description=one.get("description"), citations=many.get("citation", ()),
                  interpretations=interpretations)
    if name_token is not None:
        common.update(name=str(name_token),
                      name_span=Span(filename, name_token.line + offset, name_token.column, name_token.end_line + offset,
                                     name_token.end_column))

    missing = [k for k in _REQUIRED.get(keyword, ()) if k not in seen]
    if missing:
        needs = " and ".join(_CLAUSE_WORDS[k] for k in missing)
        errors.append(Diagnostic("error", f"the {keyword} `{common.get('name')}` needs {needs}", common.get("name_span", span)))
        return None
    if "value" in seen and "schedule" in seen:
        errors.append(Diagnostic("error", "give either one `= value` or a schedule of values by period, not both", seen["schedule"][0].span))
        return None

    scoped = {}
    if "entity" in one:
        for kind, kind_span in one["entity"]:
            if kind not in _KINDS:
                errors.append(Diagnostic("error", f"unknown kind of organisation `{kind}`; expected system, trust, ccg or organisation",
                                         kind_span, suggest(kind, _KINDS)))
        scoped["kinds"] = tuple(kind for kind, _ in one["entity"])
    if "granularity" in one:
        scoped["granularity"] = one["granularity"]
    if "during" in one:
        scoped["during"] = one["during"]

    if keyword == "policy":
        title, (year, _) = head
        return s.PolicyHeader(**{**common, "name": _unquote(title), "name_span": span}, year=year)
    if keyword == "source":
        title = _unquote(head[1]) if len(head) > 1 else None
        return s.Source(**{**common, "name": _unquote(head[0]), "name_span": span}, title=title)
    if keyword == "input":
        (type_name, type_span) = head[1]
        return s.InputDecl(**common, **scoped, type=type_name, type_span=type_span, default=one.get("default"),
                           range=one.get("range"))
    if keyword == "parameter":
        (type_name, type_span) = head[1]
        return s.ParameterDecl(**common, type=type_name, type_span=type_span, granularity=one.get("granularity"),
                               value=one.get("value"), schedule=many.get("schedule", ()))
    if keyword == "amend":
        try:
            effective = parse_date(head[1])
        except PeriodError as error:
            date = head[1]
            errors.append(Diagnostic("error", str(error), Span(filename, date.line + offset, date.column,
                                                               date.end_line + offset, date.end_column)))
            return None
        return s.AmendDecl(**common, effective=effective, value=one.get("value"),
                           schedule=many.get("schedule", ()))
    if keyword == "define":
        (type_name, type_span) = head[1]
        return s.DefineDecl(**common, **scoped, type=type_name, type_span=type_span, value=one["value"])
    if keyword == "flag":
        return s.FlagDecl(**common, **scoped, severity=one["severity"], severity_span=seen["severity"][0].span,
                          when=one["when"], message=one["message"], message_span=seen["message"][0].span)
    if keyword == "deadline":
        return s.DeadlineDecl(**common, **scoped, value=one["value"])
    if keyword == "scenario":
        return s.ScenarioDecl(**common, based_on=one.get("based_on", ()), settings=many.get("set", ()))
    if keyword == "unencoded":
        source, section, quote = _unquote(head[0]), str(head[1]), _unquote(head[2])
        citation = s.Citation(span=span, source=source, section=section, quote=quote)
        return s.Unencoded(**{**common, "name": f"{source} {section}", "name_span": span, "citations": (citation,)},
                           citation=citation, reason=one["because"])
    title = _unquote(head[0])
    return s.TestDecl(**{**common, "name": title, "name_span": span}, entities=many.get("test_entity", ()),
                      period=one.get("test_period"), givens=many.get("given", ()),
                      expectations=many.get("expect", ()), notes=many.get("note", ()), under=one.get("under"))


# ---- syntax errors in the language's own terms ------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "a name", "STRING": 'a quoted text ("...")', "MONEY": "an amount such as £1,000", "PERCENT": "a percentage such as 70%",
    "NUMBER": "a number", "DATE": "a date such as 2021-06-03", "MONTH": "a month such as 2021-04",
    "FY_PERIOD": "a financial year such as 2021/22 (or 2021/22 Q1, 2021/22 H1)", "SECTION": "a section such as §3.1",
    "COMPARE": "a comparison (>, >=, <, <=, ==, !=)", "PLUS": "`+`", "MINUS": "`-`", "MUL_OP": "`*` or `/`", "$END": "the end of the declaration",
}


def _previous_token(source: SourceFile, line: int, column: int):
    """((line, column, end line, end column), text) of the word or symbol before a position, skipping comments."""
    lines = source.lines
    row, limit = line - 1, column - 1
    while row >= 0:
        text = re.sub(r"#.*$", "", lines[row][:limit] if row == line - 1 else lines[row])
        stripped = text.rstrip()
        if stripped:
            word = re.search(r"(\w+|\S)$", stripped)[0]
            start = len(stripped) - len(word) + 1
            return (row + 1, start, row + 1, start + len(word)), word
        row -= 1
    return None


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"`{pattern.value}`" if pattern.type == "str" else name.lower()


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the declaration"
    return f"`{token}`"


def _expected_list(expected) -> str:
    words = sorted({_describe_terminal(name) for name in expected})
    if len(words) > 8:
        words = [w for w in words if not w.startswith("`")] + ["a keyword"]
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1] if words else "something else"


def _syntax_diagnostic(error: UnexpectedInput, filename: str, source: SourceFile) -> Diagnostic:
    line, column = error.line, error.column
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END":
            line = max(1, line if line and line > 0 else len(source.lines))
            return Diagnostic("error", f"the declaration ends too early; expected {_expected_list(error.expected)}",
                              Span(filename, line, max(column, 1), line, max(column, 1) + 1))
        span = Span(filename, token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)
        message = f"unexpected {_describe_token(token)}; expected {_expected_list(error.expected)}"
        suggestion = None
        if str(token) in _CLAUSE_KEYWORDS and "NAME" in error.expected:
            before = _previous_token(source, token.line, token.column)
            if before is not None:
                span, word = before
                return Diagnostic("error", f"`{word}` has no value after it; the next line starts `{token}`",
                                  Span(filename, *span), "write the value straight after it, on the same line")
        elif str(token) in DECLARATION_KEYWORDS and token.column > 1:
            suggestion = f"declarations start in column 1; this `{token}` is indented, so it reads as part of the declaration above"
        elif token.type == "STRING" and "=" in {str(_lark().get_terminal(n).pattern.value) for n in error.expected
                                                if n in {t.name for t in _lark().terminals}}:
            suggestion = "a value is missing after `=`"
        elif str(token) == "=" and "COMPARE" not in error.expected:
            suggestion = "to compare two values write `==`; `=` gives a value (`= expr`) or sets a test input"
        elif token.type == "NAME" and str(token).lower() in {"ccg", "trust", "organisation", "system"} and "NAME" not in error.expected:
            suggestion = "kinds of entity follow `per`, as in `per trust or ccg`"
        elif re.fullmatch(r"[A-Za-z_]+", str(token)) and "NAME" in error.expected and token.type != "NAME":
            suggestion = f"`{token}` is a reserved word of the language; choose another name"
        return Diagnostic("error", message, span, suggestion)
    if isinstance(error, UnexpectedCharacters):
        char = printable(source.line(line)[column - 1: column]) if line else "?"
        suggestion = None
        if char == "'":
            suggestion = 'texts are written in double quotes: "..."'
        elif char == '"':
            suggestion = 'this text is not closed: end it with " on the same line'
        elif char == "£":
            suggestion = "write an amount as £1,000 or £1000.50 (digits straight after £)"
        elif char in "$€":
            suggestion = "amounts of money are in pounds, written with £, as in £500"
        elif char.isdigit():
            suggestion = "digits are written 0 to 9"
        return Diagnostic("error", f"unexpected character `{char}`", Span(filename, line, column, line, column + 1), suggestion)
    if isinstance(error, UnexpectedEOF):
        return Diagnostic("error", f"the declaration ends too early; expected {_expected_list(error.expected)}",
                          Span(filename, max(line, 1), max(column, 1), max(line, 1), max(column, 1) + 1))
    return Diagnostic("error", str(error), Span(filename, max(line or 1, 1), max(column or 1, 1), max(line or 1, 1), max(column or 1, 1) + 1))


# ---- files -------------------------------------------------------------------------------------

def _interpretations(lines: list[str], first: int, last: int) -> tuple[str, ...]:
    """``# Interpretation: ...`` comments in lines[first:last], each with its continuation lines."""
    found, current = [], None
    for line in lines[first:last]:
        comment = re.match(r"^\s*#\s?(.*)$", line)
        if comment and comment[1].startswith("Interpretation:"):
            current = [comment[1].strip()]
            found.append(current)
        elif comment and current is not None and comment[1].strip():
            current.append(comment[1].strip())
        else:
            current = None
    return tuple(" ".join(parts) for parts in found)


def _leading_comments(lines: list[str], start: int) -> int:
    """The first line of the comment block directly above line ``start``."""
    first = start
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    return first


# characters that some tools (Python's splitlines, some editors and viewers) take as a line break
_LINE_BREAKING = set("\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029")
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# deeper than this, following the syntax tree would exhaust even the CLI's deep stack
MAX_NESTING = 10_000


def _unsafe_characters(source: SourceFile) -> list[Diagnostic]:
    """An error for each line holding a character that could make the file read differently in
    different tools: the rulebook people review must be the rulebook that runs."""
    errors = []
    for number, line in enumerate(source.lines, start=1):
        found = [m for m in UNSAFE.finditer(line) if m[0] != "\t"]
        if not found:
            continue
        char, column = found[0][0], found[0].start() + 1
        more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
        if char in _LINE_BREAKING:
            help_ = ("a policy file's lines end only at a newline; editors, git and `wc -l` show this as one line, "
                     "but other tools break it here: remove the character, or start a real new line")
        elif char in _BIDI:
            help_ = "a bidirectional control makes text show in a different order from the one it is read in: remove it"
        else:
            help_ = "remove it: tab is the only control character a policy file may hold"
        errors.append(Diagnostic("error", f"the character {character_name(char)} is not allowed in a policy file{more}",
                                 Span(source.name, number, column, number, column + 1), help_))
    return errors


# a parenthesis, or a quoted text or a comment, whose parentheses are not the expression's
_PARENTHESES = re.compile(r'"(?:[^"\\\n]|\\.)*+"|#[^\n]*|[()]')


def _parenthesised_too_deep(text: str) -> int | None:
    """Where in ``text`` a parenthesis first opens more than :data:`MAX_NESTING` levels deep, if one does.

    Parentheses leave no node in the syntax tree, so :func:`_nested_too_deep` never sees them, and
    Lark takes minutes over millions of them; this linear scan refuses them before Lark starts.
    """
    depth = 0
    for match in _PARENTHESES.finditer(text):
        if match[0] == "(":
            depth += 1
            if depth > MAX_NESTING:
                return match.start()
        elif match[0] == ")":
            depth = max(depth - 1, 0)
    return None


def _too_deep(filename: str, line: int, column: int) -> Diagnostic:
    return Diagnostic("error", f"this expression nests more than {MAX_NESTING:,} levels deep, more than planlang follows",
                      Span(filename, line, column, line, column + 1), "split it into named definitions")


def _nested_too_deep(tree) -> Span | None:
    """Where a declaration's syntax tree first goes deeper than :data:`MAX_NESTING`, found without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return node
        stack.extend((child, depth + 1) for child in getattr(node, "children", ()) if hasattr(child, "children"))
    return None


def _line_and_column(text: str, offset: int, first_line: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``, whose first line is ``first_line`` (0-based) of its file."""
    line_start = text.rfind("\n", 0, offset) + 1
    return first_line + text.count("\n", 0, offset) + 1, offset - line_start + 1


def _shift(error: UnexpectedInput, offset: int) -> None:
    """Lark saw one declaration alone: move its error's position to the declaration's place in the file."""
    if isinstance(error.line, int) and error.line > 0:
        error.line += offset
    token = getattr(error, "token", None)
    if isinstance(token, Token) and isinstance(token.line, int) and token.line > 0:
        token.line += offset
        if isinstance(token.end_line, int):
            token.end_line += offset


@attrs.frozen
class _Parsed:
    """One declaration as parsed, before assembly: its lines (0-based, end exclusive) and pieces."""

    start: int
    end: int
    interpretations: tuple[str, ...]
    keyword: str
    span: Span
    head: list


def _parse_declarations(source: SourceFile, errors: list[Diagnostic]):
    """Each declaration of a file parsed on its own; syntax errors are added to ``errors``."""
    errors += _unsafe_characters(source)
    # each unsafe character was reported; read on with a space in its place to find the file's other errors
    lines = [UNSAFE.sub(lambda m: m[0] if m[0] == "\t" else " ", line) for line in source.lines] if errors \
        else source.lines
    starts = [i for i, line in enumerate(lines) if _DECLARATION_START.match(line)]
    first_decl = starts[0] if starts else len(lines)
    for number, line in enumerate(lines[:first_decl], start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            column = len(line) - len(line.lstrip()) + 1
            errors.append(Diagnostic(
                "error", f"expected a declaration ({', '.join(DECLARATION_KEYWORDS[:-1])} or {DECLARATION_KEYWORDS[-1]})",
                Span(source.name, number, column, number, len(line) + 1),
                "declarations start in column 1; indent only the lines that belong to one"))
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        # comments just above the next declaration belong to it, not to this one
        own_end = _leading_comments(lines, end) if k + 1 < len(starts) else end
        interpretations = _interpretations(lines, _leading_comments(lines, start), own_end)
        text = "\n".join(lines[start:end])
        deep_parenthesis = _parenthesised_too_deep(text)
        if deep_parenthesis is not None:
            errors.append(_too_deep(source.name, *_line_and_column(text, deep_parenthesis, start)))
            continue
        try:
            tree = _lark().parse(text, start="start")
            deep = _nested_too_deep(tree)
            if deep is not None:
                line = deep.meta.line + start if not deep.meta.empty else start + 1
                column = deep.meta.column if not deep.meta.empty else 1
                errors.append(_too_deep(source.name, line, column))
                continue
            keyword, span, head = _ToSyntax(source.name, start).transform(tree)
        except UnexpectedInput as error:
            _shift(error, start)
            errors.append(_syntax_diagnostic(error, source.name, source))
            continue
        except VisitError as error:
            cause = error.orig_exc
            if isinstance(cause, _NodeError):
                errors.append(Diagnostic("error", cause.message, cause.span, cause.suggestion))
            elif isinstance(cause, (AmountError, PeriodError)):
                errors.append(Diagnostic("error", str(cause), Span(source.name, start + 1, 1, start + 1, 2)))
            else:
                raise
            continue
        yield _Parsed(start, end, interpretations, keyword, span, head)


def parse_source(source: SourceFile) -> tuple[s.PolicyFile, list[Diagnostic]]:
    """Parse one policy file into declarations, collecting every syntax error."""
    errors: list[Diagnostic] = []
    declarations = []
    for parsed in list(_parse_declarations(source, errors)):
        declaration = _assemble(parsed.keyword, parsed.span, parsed.head, parsed.interpretations, source.name,
                                parsed.start, errors)
        if declaration is not None:
            declarations.append(declaration)
    return s.PolicyFile(path=source.name, declarations=tuple(declarations)), errors


def parse_setting(source: SourceFile, start: str = "setting") -> tuple[s.SetClause | None, list[Diagnostic]]:
    """Parse the text of one ``--set`` option (``TARGET = EXPR``, the ``given`` syntax of tests), or with
    ``start="target_only"`` a target alone (``NAME [for ENTITY] [in PERIOD]``)."""
    deep_parenthesis = _parenthesised_too_deep(source.text)
    if deep_parenthesis is not None:
        return None, [_too_deep(source.name, *_line_and_column(source.text, deep_parenthesis, 0))]
    try:
        tree = _lark().parse(source.text, start=start)
        return _ToSyntax(source.name, 0).transform(tree), []
    except UnexpectedInput as error:
        return None, [_syntax_diagnostic(error, source.name, source)]
    except VisitError as error:
        cause = error.orig_exc
        if isinstance(cause, _NodeError):
            return None, [Diagnostic("error", cause.message, cause.span, cause.suggestion)]
        if isinstance(cause, (AmountError, PeriodError)):
            return None, [Diagnostic("error", str(cause), Span(source.name, 1, 1, 1, len(source.text) + 1))]
        raise


# ---- the layout of a file, for the formatter ---------------------------------------------------

@attrs.frozen
class DeclarationLayout:
    """A declaration as written: its keyword, its head (names, types, dates, titles) and its clauses in order.

    ``head`` holds plain values: for ``input``, ``parameter`` and ``define`` (name, type); ``amend``
    (name, date); ``flag`` and ``deadline`` (name,); ``policy`` (title, year); ``source`` (name,
    title or None); ``test`` (title,). ``start`` and ``end`` are its 0-based lines, end exclusive,
    up to the next declaration.
    """

    keyword: str
    start: int
    end: int
    head: tuple
    clauses: tuple[Clause, ...]


def _plain(item):
    if isinstance(item, Token):
        return _unquote(item) if item.type == "STRING" else str(item)
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], (str, Period)):
        return str(item[0])  # a (type, span) annotation or a (period, text)
    return item


def parse_layout(source: SourceFile) -> tuple[list[DeclarationLayout], list[Diagnostic]]:
    """The declarations of a file as written, clause by clause; with the syntax errors, if any."""
    errors: list[Diagnostic] = []
    layouts = []
    for parsed in list(_parse_declarations(source, errors)):
        head = tuple(_plain(x) for x in parsed.head if not isinstance(x, Clause))
        if parsed.keyword == "source" and len(head) == 1:
            head += (None,)
        clauses = tuple(x for x in parsed.head if isinstance(x, Clause))
        layouts.append(DeclarationLayout(parsed.keyword, parsed.start, parsed.end, head, clauses))
    return layouts, errors
