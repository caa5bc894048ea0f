"""Name resolution and type/unit checking: parsed files -> checked declarations.

Every problem is collected; nothing stops at the first error. Expressions come back with their
``type`` filled in and references resolved (new nodes, built with ``attrs.evolve``). The
dependencies found on the way (which name is used where) are returned for the graph stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from . import syntax as s
from . import types as t
from .builtins import BUILTINS, ROUNDING
from .diagnostics import Diagnostic, Note, suggest
from .periods import period_range
from .source import Span
from .values import format_percent

__all__ = ["check", "check_tests", "Checked", "Use", "ExpressionChecker", "ENTITY_KINDS", "FUNCTIONS", "ROUNDING", "fixed_value"]

ENTITY_KINDS = ("system", "trust", "ccg")
_KIND_ALIASES = {"organisation": ("trust", "ccg")}
ORGANISATION_KINDS = frozenset({"trust", "ccg"})
_RANK = {"month": 0, "quarter": 1, "half": 2, "year": 3}
SEVERITIES = ("info", "warning", "error")
FUNCTIONS = {name: entry.help for name, entry in BUILTINS.items()}
AGGREGATES = tuple(name for name, entry in BUILTINS.items() if entry.aggregate is not None)


@attrs.frozen
class Use:
    """``name`` is used at ``span`` in the declaration ``user``: one edge of the dependency graph."""

    name: str
    user: str
    span: Span


@attrs.frozen
class Checked:
    header: s.PolicyHeader | None
    sources: dict[str, s.Source]
    declarations: dict[str, s.Decl]
    amendments: dict[str, tuple[s.AmendDecl, ...]]
    tests: tuple[s.TestDecl, ...]
    uses: tuple[Use, ...]
    diagnostics: tuple[Diagnostic, ...]


@attrs.frozen
class _Context:
    """Where an expression is evaluated: for which kinds of entity, at which granularity."""

    user: str
    kinds: frozenset[str]
    granularity: str | None
    constant: bool = False  # parameter values, defaults and test values: no names allowed


# the most declared names a misspelt name is compared with (difflib compares each pair in Python)
_SUGGESTION_POOL = 500


def _alignment(decl: s.Decl, entity: str) -> s.Alignment:
    """How a use of ``decl`` finds its cell: parameters look up their own schedule by the period in hand."""
    if isinstance(decl, s.ParameterDecl):
        return s.Alignment(None, "same")
    granularity = getattr(decl, "granularity", None)
    return s.Alignment(entity if getattr(decl, "kinds", ()) else None, "containing" if granularity else None, granularity)


class _Checker:
    def __init__(self, files: Iterable[s.PolicyFile]):
        self.errors: list[Diagnostic] = []
        self.uses: list[Use] = []
        self.files = list(files)
        self.decls: dict[str, s.Decl] = {}
        self.sources: dict[str, s.Source] = {}
        self.amendments: dict[str, list[s.AmendDecl]] = {}
        self.tests: list[s.TestDecl] = []
        self.header: s.PolicyHeader | None = None
        self._suggestions: dict[str, str | None] = {}
        self._by_initial: dict[str, list[str]] | None = None

    def error(self, message: str, span: Span, suggestion: str | None = None, notes=()):
        self.errors.append(Diagnostic("error", message, span, suggestion, tuple(notes)))

    def warning(self, message: str, span: Span, suggestion: str | None = None):
        self.errors.append(Diagnostic("warning", message, span, suggestion))

    # ---- collecting names ----
    def collect(self):
        headers, unencoded = [], []
        for file in self.files:
            for decl in file.declarations:
                match decl:
                    case s.PolicyHeader():
                        headers.append(decl)
                    case s.Source():
                        if decl.name in self.sources:
                            self.error(f"the source {decl.name!r} is declared twice", decl.span,
                                       notes=[Note(self.sources[decl.name].span, "first declared here")])
                        self.sources[decl.name] = decl
                    case s.AmendDecl():
                        self.amendments.setdefault(decl.name, []).append(decl)
                    case s.TestDecl():
                        if decl.under is not None:
                            self.error("a test that runs under a scenario is written in the scenario's file", decl.under[1],
                                       f"move it beside `scenario {decl.under[0]}`; `planlang test --scenario FILE` runs it")
                        self.tests.append(decl)
                    case s.ScenarioDecl():
                        self.error("a scenario is written in a file of its own, outside the pack", decl.name_span,
                                   f"move it to a file such as scenarios/{decl.name}.plan and give it with --scenario")
                    case s.Unencoded():
                        unencoded.append(decl)
                    case _:
                        if decl.name in self.decls:
                            first = self.decls[decl.name]
                            self.error(f"`{decl.name}` is declared twice", decl.name_span,
                                       "names are shared by every file of the pack; rename one of them",
                                       [Note(first.name_span, "first declared here")])
                            continue
                        self.decls[decl.name] = decl
        self.attach_unencoded(unencoded)
        if len(headers) > 1:
            for extra in headers[1:]:
                self.error("a policy pack has one `policy` header", extra.span, notes=[Note(headers[0].span, "the header is here")])
        self.header = headers[0] if headers else None
        if self.header is not None and self.header.year.kind != "year":
            self.error(f"a policy pack is for a financial year such as 2021/22, not the {self.header.year.kind} {self.header.year}",
                       self.header.span)

    def attach_unencoded(self, passages: list[s.Unencoded]):
        """Each passage the pack does not encode is kept with the source it quotes."""
        for passage in passages:
            source = self.sources.get(passage.citation.source)
            if source is None:
                self.error(f"`{passage.citation.source}` is not a declared source", passage.span,
                           suggest(passage.citation.source, self.sources) or "declare it with `source \"<file>\" \"<title>\"`")
            elif not passage.citation.quote.strip() or not passage.reason.strip():
                self.error("an `unencoded` passage gives the source's words and, after `because`, why the pack does not encode them",
                           passage.span)
            else:
                self.sources[source.name] = attrs.evolve(source, unencoded=(*source.unencoded, passage))

    # ---- kinds and granularity of names ----
    def kinds_of(self, decl: s.Decl) -> frozenset[str]:
        kinds = set()
        for kind in getattr(decl, "kinds", ()) or ():
            kinds.update(_KIND_ALIASES.get(kind, (kind,)))
        return frozenset(kinds)

    def check_scope(self, decl: s.Scoped, required: bool) -> s.Scoped:
        kinds: list[str] = []
        for kind in decl.kinds:
            if kind in _KIND_ALIASES:
                kinds.extend(_KIND_ALIASES[kind])
            elif kind in ENTITY_KINDS:
                kinds.append(kind)  # an unknown kind was reported by the parser, at the word
        if required and not decl.kinds:
            self.error(f"say which organisations `{decl.name}` applies to, for example `per system` or `per trust or ccg`",
                       decl.name_span)
        if decl.during and decl.granularity and _RANK[decl.during[0].kind] < _RANK[decl.granularity]:
            self.error(f"`during` names {decl.during[0].kind}s but `{decl.name}` is {decl.granularity}ly", decl.span)
        return attrs.evolve(decl, kinds=tuple(dict.fromkeys(kinds)))

    # ---- citations ----
    def check_citations(self, decl: s.Decl, kind_word: str):
        if not decl.citations:
            self.warning(f"{kind_word} `{decl.name}` cites no source", decl.name_span,
                         'add `cites "<source file>" §<section>` naming the guidance it encodes')
        for citation in decl.citations:
            if citation.source not in self.sources:
                self.error(f"`{citation.source}` is not a declared source", citation.span,
                           suggest(citation.source, self.sources) or "declare it with `source \"<file>\" \"<title>\"`")

    def check_type_name(self, decl) -> None:
        if decl.type not in t.TYPES:
            self.error(f"unknown type `{decl.type}`; expected one of {', '.join(t.TYPES)}", decl.type_span,
                       suggest(decl.type, t.TYPES))

    # ---- expressions ----
    def expr(self, node: s.Expr, ctx: _Context) -> s.Expr:
        method = getattr(self, "_" + type(node).__name__)
        return method(node, ctx)

    def _typed(self, node, type_, **changes):
        return attrs.evolve(node, type=type_, **changes)

    def _Literal(self, node: s.Literal, ctx):
        return node

    def _CurrentPeriod(self, node, ctx):
        if ctx.granularity is None:
            self.error("`period` is used where there is no period", node.span)
        return self._typed(node, "period")

    def _resolve(self, name: str, span: Span, ctx: _Context) -> s.Decl | None:
        if ctx.constant:
            self.error(f"a constant is expected here, not the name `{name}`", span,
                       "parameters and defaults hold fixed values; use `define` to compute one")
            return None
        decl = self.decls.get(name)
        if decl is None:
            self.error(f"unknown name `{name}`", span, self._suggest_name(name) or (
                f"`{name}` is a function; call it as {name}(...)" if name in FUNCTIONS else None))
            return None
        if isinstance(decl, s.TestDecl):
            return None
        self.uses.append(Use(name, ctx.user, span))
        return decl

    def _suggest_name(self, name: str) -> str | None:
        """A 'did you mean' among the declared names, in time that stays linear in a huge generated pack.

        Each unknown name is compared once; beyond a few hundred declarations only with the names
        that share its first letter, and not at all when even those are too many to compare.
        """
        if name not in self._suggestions:
            pool: list[str] = list(self.decls) if len(self.decls) <= _SUGGESTION_POOL else []
            if len(self.decls) > _SUGGESTION_POOL:
                if self._by_initial is None:
                    self._by_initial = {}
                    for known in self.decls:
                        self._by_initial.setdefault(known[:1], []).append(known)
                pool = self._by_initial.get(name[:1], [])
            self._suggestions[name] = suggest(name, pool) if len(pool) <= _SUGGESTION_POOL else None
        return self._suggestions[name]

    def _type_of(self, decl: s.Decl) -> str:
        match decl:
            case s.FlagDecl():
                return "bool"
            case s.DeadlineDecl():
                return "date"
        return decl.type

    def _check_reach(self, decl: s.Decl, span: Span, ctx: _Context, via_system: bool = False):
        """Does every entity and period of the context have a value of ``decl``?"""
        name = decl.name
        if isinstance(decl, s.ParameterDecl):
            if decl.granularity and (ctx.granularity is None or _RANK[ctx.granularity] > _RANK[decl.granularity]):
                self.error(f"`{name}` has one value per {decl.granularity}, but it is used for each {ctx.granularity or 'entity'}",
                           span, f"use it in a {decl.granularity}ly definition, or give it a coarser schedule")
            return
        kinds = self.kinds_of(decl)
        if kinds:
            here = frozenset({"system"}) if via_system else ctx.kinds
            if not here:
                self.error(f"`{name}` has a value per organisation, but it is used where there is none", span)
            elif not here <= kinds:
                lacking = ", ".join(sorted(here - kinds))
                hint = None
                if here == {"system"} and kinds <= ORGANISATION_KINDS:
                    hint = f"add up the members' values: sum({name} over members)"
                elif "system" in kinds and here <= ORGANISATION_KINDS:
                    hint = f"to use the organisation's system's value write system.{name}"
                self.error(f"`{name}` is declared per {' or '.join(sorted(kinds))}, so it has no value for a {lacking.replace(', ', ' or ')}",
                           span, hint)
        granularity = getattr(decl, "granularity", None)
        if granularity:
            if ctx.granularity is None:
                self.error(f"`{name}` has a value per {granularity}, but it is used where there is no period", span)
            elif _RANK[ctx.granularity] > _RANK[granularity]:
                over = {"month": "months", "quarter": "quarters"}.get(granularity)
                self.error(f"`{name}` is {granularity}ly but is used in a {ctx.granularity}ly context", span,
                           f"add up its values: sum({name} over {over})" if over else None)

    def _Ref(self, node: s.Ref, ctx):
        if node.name in ROUNDING:
            self.error(f"`{node.name}` is a rounding mode; it goes third in round(x, £0.01, {node.name})", node.span)
            return node
        decl = self._resolve(node.name, node.span, ctx)
        if decl is None:
            return node
        self._check_reach(decl, node.span, ctx)
        return self._typed(node, self._type_of(decl), target=type(decl).__name__, alignment=_alignment(decl, "same"))

    def _SystemRef(self, node: s.SystemRef, ctx):
        if not ctx.kinds or not ctx.kinds <= ORGANISATION_KINDS:
            self.error(f"system.{node.name} is for organisations (trusts and CCGs) to read their system's value", node.span)
        decl = self._resolve(node.name, node.span, ctx)
        if decl is None:
            return node
        if "system" not in self.kinds_of(decl):
            self.error(f"`{node.name}` is not declared per system", node.span)
        elif ctx.granularity is not None and getattr(decl, "granularity", None) and _RANK[ctx.granularity] > _RANK[decl.granularity]:
            self.error(f"`{node.name}` is {decl.granularity}ly but is used in a {ctx.granularity}ly context", node.span)
        return self._typed(node, self._type_of(decl), target=type(decl).__name__, alignment=_alignment(decl, "system"))

    def _numeric(self, node: s.Expr, what: str) -> bool:
        if node.type is not None and node.type not in t.NUMERIC:
            self.error(f"{what} must be a number or amount, not {t.describe(node.type)}", node.span)
            return False
        return node.type is not None

    def _Negate(self, node, ctx):
        operand = self.expr(node.operand, ctx)
        self._numeric(operand, "a negated value")
        return self._typed(node, operand.type, operand=operand)

    def _Not(self, node, ctx):
        operand = self.expr(node.operand, ctx)
        self._expect_bool(operand, "`not`")
        return self._typed(node, "bool", operand=operand)

    def _expect_bool(self, node: s.Expr, what: str):
        if node.type is not None and node.type != "bool":
            self.error(f"{what} needs true/false, not {t.describe(node.type)}", node.span)

    def _Binary(self, node: s.Binary, ctx):
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        result = None
        if left.type is not None and right.type is not None:
            rule = {"+": t.add, "-": t.subtract, "*": t.multiply, "/": t.divide}[node.op]
            result = rule(left.type, right.type)
            if result is None:
                verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[node.op]
                hint = None
                if "money" in (left.type, right.type) and "number" in (left.type, right.type):
                    hint = "write amounts of money with a £ sign, such as £5"
                elif {"money", "percent"} == {left.type, right.type} and node.op in "+-":
                    hint = "to apply a percentage to an amount, multiply: amount * (1 + rate)"
                self.error(f"cannot {verb} {t.describe(left.type)} and {t.describe(right.type)}", node.span, hint)
        return self._typed(node, result, left=left, right=right)

    def _Compare(self, node: s.Compare, ctx):
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        if left.type and right.type and not t.compare(left.type, right.type, node.op):
            hint = "write amounts of money with a £ sign, such as £0" if {left.type, right.type} == {"money", "number"} else None
            self.error(f"cannot compare {t.describe(left.type)} with {t.describe(right.type)}", node.span, hint)
        return self._typed(node, "bool", left=left, right=right)

    def _Logical(self, node: s.Logical, ctx):
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        self._expect_bool(left, f"`{node.op}`")
        self._expect_bool(right, f"`{node.op}`")
        return self._typed(node, "bool", left=left, right=right)

    def _Within(self, node: s.Within, ctx):
        value, tolerance, reference = (self.expr(x, ctx) for x in (node.value, node.tolerance, node.reference))
        if value.type and reference.type and not t.compare(value.type, reference.type):
            self.error(f"cannot compare {t.describe(value.type)} with {t.describe(reference.type)}", node.span)
        if tolerance.type and tolerance.type not in t.DIMENSIONLESS and t.unify(tolerance.type, value.type or "") is None:
            self.error(f"a tolerance is a percentage of the reference or an amount like the values, not {t.describe(tolerance.type)}",
                       tolerance.span)
        elif tolerance.type == "number" and value.type in ("money", "count"):
            # `within 5 of` reads as 5 units as easily as 5 times the reference: say which
            written = node.tolerance
            share = (f"{written.text} would be {format_percent(written.value)} of the reference"
                     if isinstance(written, s.Literal) else "it would be a share of the reference, 1 being 100%")
            amount = "£5" if value.type == "money" else "a count parameter (parameter tolerance_cases : count = 5)"
            self.error(f"a bare number is ambiguous as a tolerance on {t.describe(value.type)}: {share}, not an amount",
                       tolerance.span, f"write 5% for a share of the reference, or {amount} for an amount")
        return self._typed(node, "bool", value=value, tolerance=tolerance, reference=reference)

    def _If(self, node: s.If, ctx):
        condition = self.expr(node.condition, ctx)
        self._expect_bool(condition, "the condition of `if`")
        then, otherwise = self.expr(node.then, ctx), self.expr(node.otherwise, ctx)
        result = None
        if then.type and otherwise.type:
            result = t.unify(then.type, otherwise.type)
            if result is None:
                self.error(f"the branches of `if` differ: {t.describe(then.type)} and {t.describe(otherwise.type)}", node.span,
                           "write £0 rather than 0 for no money" if "money" in (then.type, otherwise.type) else None)
        return self._typed(node, result, condition=condition, then=then, otherwise=otherwise)

    def _rate(self, node: s.Expr, what: str):
        if node.type and node.type not in t.DIMENSIONLESS:
            self.error(f"{what} is a percentage or ratio, not {t.describe(node.type)}", node.span)

    def _Bands(self, node: s.Bands, ctx):
        amount = self.expr(node.amount, ctx)
        self._numeric(amount, "the amount that bands apply to")
        bands = []
        for band in node.bands:
            upper, rate = self.expr(band.upper, ctx), self.expr(band.rate, ctx)
            if amount.type and upper.type and t.unify(amount.type, upper.type) is None:
                self.error(f"a band's threshold must be {t.describe(amount.type)} like the amount, not {t.describe(upper.type)}",
                           upper.span)
            self._rate(rate, "a band's rate")
            bands.append(attrs.evolve(band, upper=upper, rate=rate))
        top = self.expr(node.top_rate, ctx)
        self._rate(top, "the top band's rate")
        return self._typed(node, amount.type, amount=amount, bands=tuple(bands), top_rate=top)

    def _Taper(self, node: s.Taper, ctx):
        base, shortfall, rate = (self.expr(x, ctx) for x in (node.base, node.shortfall, node.rate))
        self._numeric(base, "the amount a taper reduces")
        if base.type and shortfall.type and t.unify(base.type, shortfall.type) is None:
            self.error(f"the shortfall must be {t.describe(base.type)} like the amount it reduces", shortfall.span)
        self._rate(rate, "the taper rate")
        limits = {}
        for key in ("floor", "cap"):
            limit = getattr(node, key)
            if limit is not None:
                limit = self.expr(limit, ctx)
                if base.type and limit.type and t.unify(base.type, limit.type) is None:
                    self.error(f"the taper's {key} must be {t.describe(base.type)}", limit.span)
            limits[key] = limit
        return self._typed(node, base.type, base=base, shortfall=shortfall, rate=rate, **limits)

    def _DaySpan(self, node: s.DaySpan, ctx):
        count = self.expr(node.count, ctx)
        if count.type and count.type not in ("count", "number"):
            self.error(f"a number of days is a count, not {t.describe(count.type)}", count.span)
        return self._typed(node, "working_days" if node.working else "days", count=count)

    def _Call(self, node: s.Call, ctx):
        entry = BUILTINS.get(node.name)
        if entry is None:
            self.error(f"unknown function `{node.name}`", node.name_span,
                       suggest(node.name, BUILTINS, cutoff=0.6) or f"the functions are {', '.join(sorted(BUILTINS))}")
            return node
        if any(a.over for a in node.args):
            return self._aggregate(node, ctx)
        if not entry.callable:
            self.error(f"`{node.name}` adds up over something: write {node.name}(x over members)", node.span)
            return node
        if entry.arity is not None and len(node.args) != entry.arity:
            self.error(entry.arity_message or f"`{node.name}` takes {entry.arity} argument(s), not {len(node.args)}",
                       node.span, entry.arity_help if entry.arity_message else entry.help)
            return node
        count = len(node.args) if entry.arguments is None else entry.arguments
        args = tuple(attrs.evolve(a, value=self.expr(a.value, ctx)) for a in node.args[:count]) + node.args[count:]
        result = entry.typing(self, node, args, [a.value.type for a in args[:count]])
        if entry.reads == "error_flags":
            return self._typed(node, result, flags=self._error_flags(node, ctx))
        return self._typed(node, result, args=args)

    def _error_flags(self, node: s.Call, ctx) -> tuple[str, ...]:
        """The error flags ``any_error_flag()`` looks at where it is used: the organisation's, in the period or within it."""
        if not ctx.kinds or ctx.granularity is None:
            self.error("any_error_flag() counts an organisation's flags in a period, so it is used per organisation and period",
                       node.span)
            return ()
        flags = []
        for name, decl in self.decls.items():
            if (isinstance(decl, s.FlagDecl) and decl.severity == "error" and name != ctx.user
                    and set(decl.kinds) & (set(ctx.kinds) | ({"trust", "ccg"} if "organisation" in decl.kinds else set()))
                    and decl.granularity in _RANK and _RANK[decl.granularity] <= _RANK[ctx.granularity]):
                flags.append(name)
                self.uses.append(Use(name, ctx.user, node.span))
        return tuple(sorted(flags))

    # the typing rules of the built-ins (builtins.py) report through these
    def expect_type(self, node: s.Expr, type_: str, function: str):
        self._expect(node, type_, function)

    def expect_numeric(self, node: s.Expr, what: str) -> bool:
        return self._numeric(node, what)

    def _expect(self, node: s.Expr, type_: str, function: str):
        if node.type and node.type != type_:
            self.error(f"`{function}` needs {t.describe(type_)}, not {t.describe(node.type)}", node.span)

    def _aggregate(self, node: s.Call, ctx):
        if node.name not in AGGREGATES or len(node.args) != 1:
            self.error(f"`over` goes in one of {', '.join(AGGREGATES)} with a single argument, as in sum(x over members)",
                       node.span)
            return node
        arg = node.args[0]
        if arg.over == "members":
            if ctx.kinds != {"system"}:
                self.error("`over members` adds up a system's member organisations, so it is used in a `per system` declaration",
                           arg.span)
            member_kinds = self._member_kinds(arg.value) or ORGANISATION_KINDS
            inner = attrs.evolve(ctx, kinds=member_kinds)
        else:
            part = {"months": "month", "quarters": "quarter"}[arg.over]
            if ctx.granularity is None or _RANK[ctx.granularity] <= _RANK[part]:
                self.error(f"`over {arg.over}` adds up the {arg.over} of a longer period, so it is used in a longer-than-{part}ly declaration",
                           arg.span)
            member_kinds = frozenset()
            inner = attrs.evolve(ctx, granularity=part)
        value = self.expr(arg.value, inner)
        if arg.over in ("months", "quarters"):
            part = {"months": "month", "quarters": "quarter"}[arg.over]
            for ref in (n for n in s.walk(value) if isinstance(n, s.Ref) and n.name in self.decls):
                granularity = getattr(self.decls[ref.name], "granularity", None)
                if granularity and _RANK[granularity] > _RANK[part]:
                    self.error(f"`{ref.name}` is {granularity}ly, so adding it up over {arg.over} would count it more than once",
                               ref.span, f"use `{ref.name}` itself, outside `over {arg.over}`")
        result = None
        if value.type is not None:
            if node.name == "sum":
                result = value.type if self._numeric(value, "what `sum` adds up") else None
            elif node.name in ("min", "max"):
                result = value.type
            elif node.name == "count":
                self._expect_bool(value, "`count`")
                result = "count"
            else:
                self._expect_bool(value, f"`{node.name}`")
                result = "bool"
        new_arg = attrs.evolve(arg, value=value)
        return self._typed(node, result, args=(new_arg,), name=node.name) if not member_kinds else \
            self._typed(node, result, args=(new_arg,), name=node.name, member_kinds=tuple(sorted(member_kinds)))

    def _member_kinds(self, expr: s.Expr) -> frozenset[str] | None:
        """The kinds of member an aggregate can run over: those having every name it uses."""
        kinds = None
        for node in s.walk(expr):
            if isinstance(node, s.Ref) and node.name in self.decls:
                declared = self.kinds_of(self.decls[node.name]) & ORGANISATION_KINDS
                if declared:
                    kinds = declared if kinds is None else kinds & declared
        return kinds

    # ---- declarations ----
    def check_declarations(self):
        checked = {}
        for name, decl in self.decls.items():
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
        for name, amendments in self.amendments.items():
            self.check_amendments(name, amendments)
        return checked

    def _constant(self, expr: s.Expr, user: str) -> s.Expr:
        return self.expr(expr, _Context(user, frozenset(), None, constant=True))

    def _matches(self, expr: s.Expr, declared: str, what: str):
        if declared == "percent" and isinstance(expr, s.Literal) and expr.type == "number":
            self.error(f"{what} is a bare number; write a percentage with %, as in {expr.text}%", expr.span,
                       f"if you mean a fraction of one, write it as a percentage: {expr.text} is {expr.value * 100}%")
            return
        # percentages and ratios are the same kind of number, shown differently: either may be declared
        if expr.type in t.DIMENSIONLESS and declared in ("percent", "ratio"):
            return
        if expr.type and t.unify(expr.type, declared) != declared:
            hint = None
            if declared == "money" and expr.type == "number":
                text = expr.text if isinstance(expr, s.Literal) else "…"
                hint = f"write amounts of money with a £ sign: £{text}"
            self.error(f"{what} is {t.describe(expr.type)}, but {t.describe(declared)} is declared", expr.span, hint)

    def check_input(self, decl: s.InputDecl):
        decl = self.check_scope(decl, required=True)
        self.check_type_name(decl)
        self.check_citations(decl, "input")
        if not decl.granularity:
            self.error(f"say how often `{decl.name}` is given: monthly, quarterly or annual", decl.name_span)
        if decl.default is not None:
            default = self._constant(decl.default, decl.name)
            self._matches(default, decl.type, "the default")
            decl = attrs.evolve(decl, default=default)
        if decl.range is not None:
            decl = attrs.evolve(decl, range=self._range(decl))
        return decl

    def _range(self, decl: s.InputDecl):
        """``range LOW to HIGH``: two fixed values of the input's type, the lower first."""
        low, high = (self._constant(end, decl.name) for end in decl.range)
        self._matches(low, decl.type, "the start of the range")
        self._matches(high, decl.type, "the end of the range")
        ends = [fixed_value(end) for end in (low, high)]
        for end, value in zip((low, high), ends):
            if value is None:
                self.error("a range runs between fixed values such as 0% or £1,000", end.span)
        if None not in ends and ends[0] > ends[1]:
            self.error(f"the range starts above where it ends ({low.text if isinstance(low, s.Literal) else '…'} "
                       f"to {high.text if isinstance(high, s.Literal) else '…'})", decl.range[0].span,
                       "write the lower end first")
        return (low, high)

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
        value = self._constant(value, name)
        self._matches(value, type_, f"the value of `{name}`")
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
        base = self.decls.get(name)
        for amend in amendments:
            if not isinstance(base, s.ParameterDecl):
                self.error(f"`amend` changes a parameter, and `{name}` is not one", amend.name_span,
                           suggest(name, [n for n, d in self.decls.items() if isinstance(d, s.ParameterDecl)]))
                continue
            self.check_citations(amend, "amendment of")
        by_date: dict = {}
        checked = []
        for amend in amendments:
            if amend.value is None and not amend.schedule:
                self.error(f"the amendment of `{name}` gives no value: add `= value` or a schedule", amend.name_span)
            if self.header is not None and amend.effective > self.header.year.last_day:
                self.warning(f"this amendment takes effect on {amend.effective}, after the policy year {self.header.year}",
                             amend.span)
            if amend.effective in by_date:
                self.error(f"two amendments of `{name}` take effect on {amend.effective}; which applies would depend on their order",
                           amend.span, "merge them, or give them different dates", [Note(by_date[amend.effective].span, "the other")])
            by_date[amend.effective] = amend
            if isinstance(base, s.ParameterDecl):
                checked.append(attrs.evolve(amend, value=self._parameter_value(amend.value, name, base.type),
                                            schedule=self._schedule(amend.schedule, base, base.granularity)))
        self.amendments[name] = checked

    def _scoped_context(self, decl: s.Scoped) -> _Context:
        return _Context(decl.name, frozenset(decl.kinds), decl.granularity)

    def check_define(self, decl: s.DefineDecl):
        decl = self.check_scope(decl, required=True)
        self.check_type_name(decl)
        self.check_citations(decl, "definition")
        if not decl.granularity:
            self.error(f"say how often `{decl.name}` is worked out: monthly, quarterly or annual", decl.name_span)
        value = self.expr(decl.value, self._scoped_context(decl))
        if value.type and decl.type in t.TYPES:
            self._matches(value, decl.type, f"the value of `{decl.name}`")
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
        when = self.expr(decl.when, ctx)
        self._expect_bool(when, "a flag's `when`")
        for match in re.finditer(r"\{([^{}]*)\}", decl.message):
            name = match[1].strip()
            if name in ("entity", "period"):
                continue
            placeholder = Span(decl.message_span.file, decl.message_span.line, decl.message_span.column + match.start() + 1,
                               decl.message_span.line, decl.message_span.column + match.end() + 1)
            if name not in self.decls:
                self.error(f"the message names `{{{name}}}`, which is not declared", placeholder,
                           suggest(name, [*self.decls, "entity", "period"]))
            else:
                self.uses.append(Use(name, decl.name, placeholder))
                self._check_reach(self.decls[name], placeholder, ctx)
        return attrs.evolve(decl, when=when)

    def check_deadline(self, decl: s.DeadlineDecl):
        decl = self.check_scope(decl, required=False)
        self.check_citations(decl, "deadline")
        value = self.expr(decl.value, self._scoped_context(decl))
        if value.type and value.type != "date":
            self.error(f"a deadline is a date, not {t.describe(value.type)}", value.span)
        return attrs.evolve(decl, value=value)

    # ---- tests written in the language ----
    def check_tests(self, declarations: dict[str, s.Decl]):
        checked = []
        for test in self.tests:
            codes = {}
            for entity in test.entities:
                if entity.kind not in ENTITY_KINDS:
                    self.error(f"unknown kind of organisation `{entity.kind}`", entity.span, suggest(entity.kind, ENTITY_KINDS))
                if entity.code in codes:
                    self.error(f"`{entity.code}` is listed twice", entity.span)
                codes[entity.code] = entity
            for entity in test.entities:
                if entity.kind == "system" and entity.system:
                    self.error("a system does not belong to another system", entity.span)
                if entity.kind != "system":
                    parent = codes.get(entity.system or "")
                    if parent is None or parent.kind != "system":
                        self.error(f"{entity.kind} `{entity.code}` must belong to a system listed in the test: `{entity.kind} {entity.code} in S`",
                                   entity.span)
            givens = []
            for given in test.givens:
                decl = self._test_target(given.target, test, codes, declarations, ("InputDecl",), "given")
                value = self._constant(given.value, test.name)
                if decl is not None:
                    self._matches(value, decl.type, f"the value given for `{decl.name}`")
                givens.append(attrs.evolve(given, value=value))
            expectations = []
            for expectation in test.expectations:
                if expectation.kind in ("flag", "no_flag"):
                    allowed = ("FlagDecl",)
                elif expectation.kind == "missing":
                    allowed = ("DefineDecl", "InputDecl", "DeadlineDecl", "FlagDecl")
                else:
                    allowed = ("DefineDecl", "InputDecl", "DeadlineDecl")
                decl = self._test_target(expectation.target, test, codes, declarations, allowed, "expect")
                value = expectation.value
                if value is not None:
                    value = self._constant(value, test.name)
                    if decl is not None:
                        self._matches(value, self._type_of(decl), f"the value expected for `{decl.name}`")
                expectations.append(attrs.evolve(expectation, value=value))
            if not test.expectations:
                self.error(f"the test {test.name!r} expects nothing", test.span, "add `expect name = value` lines")
            checked.append(attrs.evolve(test, givens=tuple(givens), expectations=tuple(expectations)))
        return tuple(checked)

    def _test_target(self, target: s.Target, test: s.TestDecl, codes, declarations, allowed, verb):
        decl = declarations.get(target.name)
        if decl is None or type(decl).__name__ not in allowed:
            wanted = {"InputDecl": "an input", "DefineDecl": "a definition", "FlagDecl": "a flag", "DeadlineDecl": "a deadline"}
            names = [n for n, d in declarations.items() if type(d).__name__ in allowed]
            what = " or ".join(wanted[a] for a in allowed)
            self.error(f"`{verb} {target.name}`: `{target.name}` is not {what}", target.span, suggest(target.name, names))
            return None
        if target.entity is None and len(codes) > 1 and getattr(decl, "kinds", ()):
            candidates = [c for c, e in codes.items() if e.kind in decl.kinds]
            if len(candidates) != 1:
                self.error(f"say which organisation: `{verb} {target.name} for CODE`", target.span)
        elif target.entity is not None and target.entity not in codes:
            self.error(f"`{target.entity}` is not listed in this test", target.span, suggest(target.entity, codes))
        if target.period is None and test.period is None and getattr(decl, "granularity", None):
            self.error(f"say which period: `{verb} {target.name} in 2021-04`, or give the test a `period`", target.span)
        if target.period is not None and getattr(decl, "granularity", None) and target.period.kind != decl.granularity:
            self.error(f"`{target.name}` is {decl.granularity}ly; {target.period} is a {target.period.kind}", target.span)
        return decl

    def run(self) -> Checked:
        self.collect()
        if self.header is None:
            first = next((d.span for f in self.files for d in f.declarations), Span("<pack>", 1, 1, 1, 2))
            self.error('the pack has no `policy` header; add `policy "<title>" for 2021/22` to one of its files', first)
        declarations = self.check_declarations()
        tests = self.check_tests(declarations)
        for name, decl in declarations.items():
            if isinstance(decl, s.Scoped) and decl.during and self.header and decl.during[0].kind != "year":
                year = self.header.year
                if not (year.contains(decl.during[0]) and year.contains(decl.during[1])):
                    self.warning(f"`{name}` applies during periods outside the policy year {year}", decl.span)
        return Checked(self.header, self.sources, declarations,
                       {k: tuple(v) for k, v in self.amendments.items()}, tests, tuple(self.uses), tuple(self.errors))


class ExpressionChecker:
    """Checks expressions written outside a pack (a scenario's settings) against a compiled pack's names."""

    def __init__(self, declarations: dict[str, s.Decl]):
        self._checker = _Checker(())
        self._checker.decls = dict(declarations)

    def check(self, expr: s.Expr, user: str, kinds, granularity: str | None, declared: str | None, what: str):
        """(the checked expression, its diagnostics, the names it uses)."""
        checker = self._checker
        checker.errors, checker.uses = [], []
        checked = checker.expr(expr, _Context(user, frozenset(kinds), granularity))
        if declared is not None and checked.type:
            checker._matches(checked, declared, what)
        return checked, list(checker.errors), {use.name for use in checker.uses}


def check_tests(tests: Iterable[s.TestDecl], declarations: dict[str, s.Decl]) -> tuple[tuple[s.TestDecl, ...], list[Diagnostic]]:
    """Tests written outside a pack (in a scenario file) checked against the pack's declarations."""
    checker = _Checker(())
    checker.decls, checker.tests = dict(declarations), list(tests)
    checked = checker.check_tests(dict(declarations))
    return tuple(checked), list(checker.errors)


def check(files: Iterable[s.PolicyFile]) -> Checked:
    """Resolve names and check types, units, kinds and periods across every file of a pack."""
    return _Checker(files).run()


def fixed_value(expr: s.Expr):
    """The value of a literal, or of a negated one; None for anything that must be worked out."""
    if isinstance(expr, s.Literal):
        return expr.value
    if isinstance(expr, s.Negate) and isinstance(expr.operand, s.Literal):
        return -expr.operand.value
    return None

