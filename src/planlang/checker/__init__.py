"""Name resolution and type/unit checking: parsed files -> checked declarations.

Every problem is collected; nothing stops at the first error. Expressions come back with their
``type`` filled in and references resolved (new nodes, built with ``attrs.evolve``). The
dependencies found on the way (which name is used where) are returned for the graph stage.

The package owns the checking stage, split by concern:

    names.py         the declared names, resolution and "did you mean", whether a use reaches a value
    expressions.py   typing each construct of an expression (one method per construct)
    declarations.py  gathering a pack's files; inputs, parameters, schedules, amendments,
                     definitions, flags and deadlines
    tests.py         the tests written in the language

It is called ``checker`` rather than ``check`` because ``planlang.check`` is the public function
that compiles a pack without raising; a subpackage of that name would replace it on import.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from .. import syntax as s
from ..builtins import ROUNDING
from ..diagnostics import Diagnostic
from ..source import Span
from . import tests as _tests
from .declarations import Declarations, collect, fixed_value
from .expressions import Expressions
from .names import ENTITY_KINDS, FUNCTIONS, Context, Names, Use

__all__ = ["check", "check_tests", "Checked", "Use", "ExpressionChecker", "ENTITY_KINDS", "FUNCTIONS", "ROUNDING", "fixed_value"]


@attrs.frozen
class Checked:
    header: s.PolicyHeader | None
    sources: dict[str, s.Source]
    declarations: dict[str, s.Decl]
    amendments: dict[str, tuple[s.AmendDecl, ...]]
    tests: tuple[s.TestDecl, ...]
    uses: tuple[Use, ...]
    diagnostics: tuple[Diagnostic, ...]


def check(files: Iterable[s.PolicyFile]) -> Checked:
    """Resolve names and check types, units, kinds and periods across every file of a pack."""
    files = list(files)
    names = Names()
    pack = collect(files, names)
    if pack.header is None:
        first = next((d.span for f in files for d in f.declarations), Span("<pack>", 1, 1, 1, 2))
        names.error('the pack has no `policy` header; add `policy "<title>" for 2021/22` to one of its files', first)
    expressions = Expressions(names)
    declarations = Declarations(names, expressions, pack).check()
    tests = _tests.check_tests(pack.tests, declarations, expressions)
    for name, decl in declarations.items():
        if isinstance(decl, s.Scoped) and decl.during and pack.header and decl.during[0].kind != "year":
            year = pack.header.year
            if not (year.contains(decl.during[0]) and year.contains(decl.during[1])):
                names.warning(f"`{name}` applies during periods outside the policy year {year}", decl.span)
    return Checked(pack.header, pack.sources, declarations, {k: tuple(v) for k, v in pack.amendments.items()}, tests,
                   tuple(names.uses), tuple(names.errors))


def check_tests(tests: Iterable[s.TestDecl], declarations: dict[str, s.Decl]) -> tuple[tuple[s.TestDecl, ...], list[Diagnostic]]:
    """Tests written outside a pack (in a scenario file) checked against the pack's declarations."""
    names = Names(declarations)
    checked = _tests.check_tests(list(tests), dict(declarations), Expressions(names))
    return checked, list(names.errors)


class ExpressionChecker:
    """Checks expressions written outside a pack (a scenario's settings) against a compiled pack's names."""

    def __init__(self, declarations: dict[str, s.Decl]):
        self._names = Names(declarations)
        self._expressions = Expressions(self._names)

    def check(self, expr: s.Expr, user: str, kinds, granularity: str | None, declared: str | None, what: str):
        """(the checked expression, its diagnostics, the names it uses)."""
        names, expressions = self._names, self._expressions
        names.errors, names.uses = [], []
        checked = expressions.expr(expr, Context(user, frozenset(kinds), granularity))
        if declared is not None and checked.type:
            expressions.matches(checked, declared, what)
        return checked, list(names.errors), {use.name for use in names.uses}
