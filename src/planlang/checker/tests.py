"""The pack's own tests (``test "..." { ... }``): organisations, givens and expectations checked.

A test lists the organisations it runs on, gives inputs and expects values or flags. Each is
checked against the pack's checked declarations: the organisations belong to a listed system,
every target is a declaration of the right sort with its organisation and period said, and
every value is a constant of the target's type.
"""

from __future__ import annotations

import attrs

from .. import syntax as s
from ..diagnostics import suggest
from .expressions import Expressions
from .names import ENTITY_KINDS, type_of

_WANTED = {s.InputDecl: "an input", s.DefineDecl: "a definition", s.FlagDecl: "a flag", s.DeadlineDecl: "a deadline"}


def check_tests(tests, declarations: dict[str, s.Decl], expressions: Expressions) -> tuple[s.TestDecl, ...]:
    """Each test checked against ``declarations``, its values typed; problems reported through ``expressions``."""
    error = expressions.error
    checked = []
    for test in tests:
        codes = {}
        for entity in test.entities:
            if entity.kind not in ENTITY_KINDS:
                error(f"unknown kind of organisation `{entity.kind}`", entity.span, suggest(entity.kind, ENTITY_KINDS))
            if entity.code in codes:
                error(f"`{entity.code}` is listed twice", entity.span)
            codes[entity.code] = entity
        for entity in test.entities:
            if entity.kind == "system" and entity.system:
                error("a system does not belong to another system", entity.span)
            if entity.kind != "system":
                parent = codes.get(entity.system or "")
                if parent is None or parent.kind != "system":
                    error(f"{entity.kind} `{entity.code}` must belong to a system listed in the test: `{entity.kind} {entity.code} in S`",
                          entity.span)
        givens = []
        for given in test.givens:
            decl = _target(given.target, test, codes, declarations, (s.InputDecl,), "given", error)
            value = expressions.constant(given.value, test.name)
            if decl is not None:
                expressions.matches(value, decl.type, f"the value given for `{decl.name}`")
            givens.append(attrs.evolve(given, value=value))
        expectations = []
        for expectation in test.expectations:
            if expectation.kind in ("flag", "no_flag"):
                allowed = (s.FlagDecl,)
            elif expectation.kind == "missing":
                allowed = (s.DefineDecl, s.InputDecl, s.DeadlineDecl, s.FlagDecl)
            else:
                allowed = (s.DefineDecl, s.InputDecl, s.DeadlineDecl)
            decl = _target(expectation.target, test, codes, declarations, allowed, "expect", error)
            value = expectation.value
            if value is not None:
                value = expressions.constant(value, test.name)
                if decl is not None:
                    expressions.matches(value, type_of(decl), f"the value expected for `{decl.name}`")
            expectations.append(attrs.evolve(expectation, value=value))
        if not test.expectations:
            error(f"the test {test.name!r} expects nothing", test.span, "add `expect name = value` lines")
        checked.append(attrs.evolve(test, givens=tuple(givens), expectations=tuple(expectations)))
    return tuple(checked)


def _target(target: s.Target, test: s.TestDecl, codes, declarations, allowed, verb, error):
    """The declaration a given or an expectation names, or None (reported) when it is not one of ``allowed``."""
    decl = declarations.get(target.name)
    if decl is None or type(decl) not in allowed:
        names = [n for n, d in declarations.items() if type(d) in allowed]
        what = " or ".join(_WANTED[a] for a in allowed)
        error(f"`{verb} {target.name}`: `{target.name}` is not {what}", target.span, suggest(target.name, names))
        return None
    if target.entity is None and len(codes) > 1 and getattr(decl, "kinds", ()):
        candidates = [c for c, e in codes.items() if e.kind in decl.kinds]
        if len(candidates) != 1:
            error(f"say which organisation: `{verb} {target.name} for CODE`", target.span)
    elif target.entity is not None and target.entity not in codes:
        error(f"`{target.entity}` is not listed in this test", target.span, suggest(target.entity, codes))
    if target.period is None and test.period is None and getattr(decl, "granularity", None):
        error(f"say which period: `{verb} {target.name} in 2021-04`, or give the test a `period`", target.span)
    if target.period is not None and getattr(decl, "granularity", None) and target.period.kind != decl.granularity:
        error(f"`{target.name}` is {decl.granularity}ly; {target.period} is a {target.period.kind}", target.span)
    return decl
