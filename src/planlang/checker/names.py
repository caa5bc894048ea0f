"""Names: what a pack declares, where each name is used, and whether a use reaches a value.

:class:`Names` is the state every part of the checker shares: the declarations by name, the
diagnostics found so far and the uses found so far (the edges of the dependency graph). A use is
resolved here, a misspelt name gets its "did you mean" here, and a use is checked to reach a
value for every organisation and period of the context it is in.
"""

from __future__ import annotations

import attrs

from .. import syntax as s
from ..builtins import BUILTINS
from ..diagnostics import Diagnostic, suggest
from ..source import Span

ENTITY_KINDS = ("system", "trust", "ccg")
KIND_ALIASES = {"organisation": ("trust", "ccg")}
ORGANISATION_KINDS = frozenset({"trust", "ccg"})
RANK = {"month": 0, "quarter": 1, "half": 2, "year": 3}
FUNCTIONS = {name: entry.help for name, entry in BUILTINS.items()}

# the most declared names a misspelt name is compared with (difflib compares each pair in Python)
_SUGGESTION_POOL = 500


@attrs.frozen
class Use:
    """``name`` is used at ``span`` in the declaration ``user``: one edge of the dependency graph."""

    name: str
    user: str
    span: Span


@attrs.frozen
class Context:
    """Where an expression is evaluated: for which kinds of entity, at which granularity."""

    user: str
    kinds: frozenset[str]
    granularity: str | None
    constant: bool = False  # parameter values, defaults and test values: no names allowed


def alignment(decl: s.Decl, entity: str) -> s.Alignment:
    """How a use of ``decl`` finds its cell: parameters look up their own schedule by the period in hand."""
    if isinstance(decl, s.ParameterDecl):
        return s.Alignment(None, "same")
    granularity = getattr(decl, "granularity", None)
    return s.Alignment(entity if getattr(decl, "kinds", ()) else None, "containing" if granularity else None, granularity)


def kinds_of(decl: s.Decl) -> frozenset[str]:
    """The kinds of organisation ``decl`` has a value for, ``organisation`` spelt out."""
    kinds = set()
    for kind in getattr(decl, "kinds", ()) or ():
        kinds.update(KIND_ALIASES.get(kind, (kind,)))
    return frozenset(kinds)


def type_of(decl: s.Decl) -> str:
    """The type of the value a use of ``decl`` reads."""
    match decl:
        case s.FlagDecl():
            return "bool"
        case s.DeadlineDecl():
            return "date"
    return decl.type


class Names:
    """The declared names of a pack, and the diagnostics and uses found while checking it."""

    def __init__(self, decls: dict[str, s.Decl] | None = None):
        self.decls: dict[str, s.Decl] = dict(decls or {})
        self.errors: list[Diagnostic] = []
        self.uses: list[Use] = []
        self._suggestions: dict[str, str | None] = {}
        self._by_initial: dict[str, list[str]] | None = None

    def error(self, message: str, span: Span, suggestion: str | None = None, notes=()):
        self.errors.append(Diagnostic("error", message, span, suggestion, tuple(notes)))

    def warning(self, message: str, span: Span, suggestion: str | None = None):
        self.errors.append(Diagnostic("warning", message, span, suggestion))

    def resolve(self, name: str, span: Span, ctx: Context) -> s.Decl | None:
        """The declaration ``name`` means here, its use recorded; None (reported) when it has none."""
        if ctx.constant:
            self.error(f"a constant is expected here, not the name `{name}`", span,
                       "parameters and defaults hold fixed values; use `define` to compute one")
            return None
        decl = self.decls.get(name)
        if decl is None:
            self.error(f"unknown name `{name}`", span, self.suggest_name(name) or (
                f"`{name}` is a function; call it as {name}(...)" if name in FUNCTIONS else None))
            return None
        if isinstance(decl, s.TestDecl):
            return None
        self.uses.append(Use(name, ctx.user, span))
        return decl

    def suggest_name(self, name: str) -> str | None:
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

    def check_reach(self, decl: s.Decl, span: Span, ctx: Context):
        """Does every entity and period of the context have a value of ``decl``?"""
        name = decl.name
        if isinstance(decl, s.ParameterDecl):
            if decl.granularity and (ctx.granularity is None or RANK[ctx.granularity] > RANK[decl.granularity]):
                self.error(f"`{name}` has one value per {decl.granularity}, but it is used for each {ctx.granularity or 'entity'}",
                           span, f"use it in a {decl.granularity}ly definition, or give it a coarser schedule")
            return
        kinds = kinds_of(decl)
        if kinds:
            here = ctx.kinds
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
            elif RANK[ctx.granularity] > RANK[granularity]:
                over = {"month": "months", "quarter": "quarters"}.get(granularity)
                self.error(f"`{name}` is {granularity}ly but is used in a {ctx.granularity}ly context", span,
                           f"add up its values: sum({name} over {over})" if over else None)
