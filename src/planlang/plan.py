"""The compiled plan: a checked program made ready to run many times, holding no data.

A :class:`Plan` is what every run shares: the declarations with their references aligned (set by
the checker), the expression each name is worked out by, the order and the dependency graph, and
a content hash. It is immutable and picklable, so one plan serves any number of runs, scenarios
and backends (Jinja compiles a template once and renders it many times; OpenFisca keeps its tax
and benefit system apart from each simulation).

    compile_plan   Program -> Plan
    run            Plan, inputs, scenario -> Results                  planlang.run (compiled once per plan)
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping

import attrs
import networkx as nx

from . import syntax as s
from .compiler import Program
from .periods import Period

__all__ = ["Plan", "compile_plan", "formula_of", "PLAN_FORMAT"]

# bumped whenever the meaning of a plan's parts changes, so that a hash never outlives its meaning
PLAN_FORMAT = "planlang-plan-1"


def formula_of(decl: s.Decl) -> s.Expr | None:
    """The expression a declaration is worked out by: a definition's or deadline's value, a flag's condition."""
    match decl:
        case s.DefineDecl(value=v) | s.DeadlineDecl(value=v):
            return v
        case s.FlagDecl(when=w):
            return w
    return None


@attrs.frozen(eq=False)
class Plan:
    """A program compiled for running: data-free, immutable, picklable, identified by :attr:`digest`."""

    program: Program
    formulas: Mapping[str, s.Expr]
    during: Mapping[str, tuple]  # name -> (first day, last day) it applies
    digest: str

    @property
    def declarations(self) -> Mapping[str, s.Decl]:
        return self.program.declarations

    @property
    def order(self) -> tuple[str, ...]:
        return self.program.order

    @property
    def year(self) -> Period:
        return self.program.year

    def kind_of(self, name: str) -> type:
        return type(self.program.declarations[name])

    def downstream(self, names: Iterable[str]) -> frozenset[str]:
        """``names`` and every name whose value depends on any of them."""
        return _downstream(self, frozenset(names))

    def applies(self, name: str, period: Period | None) -> bool:
        """Whether ``name`` has a value in ``period`` (its ``during`` clause, if any, allows it)."""
        bounds = self.during.get(name)
        return bounds is None or period is None or (bounds[0] <= period.first_day and period.last_day <= bounds[1])


@functools.lru_cache(maxsize=256)
def _downstream(plan: Plan, names: frozenset[str]) -> frozenset[str]:
    graph: nx.DiGraph = plan.program.graph
    found = set(names)
    for name in names:
        if name in graph:
            found |= nx.descendants(graph, name)
    return frozenset(found)


def compile_plan(program: Program) -> Plan:
    """The plan of a compiled program."""
    formulas = {name: expr for name, decl in program.declarations.items() if (expr := formula_of(decl)) is not None}
    during = {name: (decl.during[0].first_day, decl.during[1].last_day)
              for name, decl in program.declarations.items() if getattr(decl, "during", None)}
    return Plan(program, formulas, during, _digest(program.files))


def _digest(files: Mapping) -> str:
    """SHA-256 over the format and every source file, by its name relative to the pack, in name order.

    The plan is a pure function of these texts, so equal digests mean equal plans.
    """
    sha = hashlib.sha256(PLAN_FORMAT.encode())
    for name in sorted(files, key=_relative):
        for part in (_relative(name), files[name].text):
            data = part.encode("utf-8", "surrogatepass")
            sha.update(len(data).to_bytes(8, "big"))
            sha.update(data)
    return sha.hexdigest()


def _relative(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]
