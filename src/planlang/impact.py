"""Impact attribution: how much of a change in an output each rule change between two packs causes.

Each change of :func:`planlang.rulediff.diff_programs` is an overlay on the old pack: a hybrid
program takes the old pack's declarations and, for the changes switched on, the new pack's (added,
replaced, renamed or removed, with their amendments). An output's total under a set of changes is
worked out by running that hybrid on the data. Shapley values then share the whole difference out
among the changes so that no order of applying them is favoured: a change's share is its average
marginal effect over every order. With at most :data:`EXACT_UP_TO` changes every subset is run
and the shares are exact fractions; beyond that, :data:`SAMPLES` orders drawn with a fixed seed
estimate them, with a standard error stated. Either way the shares add up exactly to the change.

Changes that cannot stand alone are one player: a change whose new rule uses a name another change
brings in (an added or renamed declaration) goes with it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from fractions import Fraction
from itertools import combinations

import attrs
import networkx as nx

from . import syntax as s
from .checker import Use
from .compiler import Program
from .data import Dataset, make_dataset
from .diagnostics import InputError
from .graph import build_graph, evaluation_order
from .ops import merge_missing
from .plan import compile_plan, formula_of
from .rulediff import Change, RulebookDiff
from .run import run
from .run.exact import compiled
from .run.shared import Shared
from .run.totals import total_of
from .values import Missing

__all__ = ["Player", "Impact", "attribute", "check_comparable", "EXACT_UP_TO", "SAMPLES"]

EXACT_UP_TO = 12
SAMPLES = 200
SEED = 2021


@attrs.frozen
class Player:
    """One or more changes applied together."""

    changes: tuple[Change, ...]

    @property
    def name(self) -> str:
        return " + ".join(c.name for c in self.changes)


@attrs.frozen
class Impact:
    """An output's total (over every entity and period) in the old and new packs, and each player's share."""

    output: str
    type: str
    baseline: object
    new: object
    by_player: Mapping[str, object]
    by_entity: Mapping[str, tuple[object, object, Mapping[str, object]]]  # entity -> (baseline, new, shares)
    exact: bool
    standard_error: Mapping[str, float] = attrs.field(factory=dict)

    @property
    def difference(self):
        if isinstance(self.baseline, Fraction) and isinstance(self.new, Fraction):
            return self.new - self.baseline
        return None


def players(diff: RulebookDiff) -> list[Player]:
    """The changes grouped so that each group can be switched on alone."""
    changes = list(diff.changes)
    introduced = {n: k for k, c in enumerate(changes) for n in c.introduces if n not in c.replaces}
    renamed_away = {c.old_name: k for k, c in enumerate(changes) if c.kind == "renamed"}
    groups = nx.Graph()
    groups.add_nodes_from(range(len(changes)))
    for k, change in enumerate(changes):
        for name in _uses(change.new):
            if name in introduced and introduced[name] != k:
                groups.add_edge(k, introduced[name])
        for old_name in change.follows_renames:
            if old_name in renamed_away:
                groups.add_edge(k, renamed_away[old_name])
    return [Player(tuple(changes[k] for k in sorted(group))) for group in
            sorted(nx.connected_components(groups), key=min)]


def _uses(decl: s.Decl | None) -> set[str]:
    if decl is None:
        return set()
    exprs = [formula_of(decl), getattr(decl, "default", None)]
    names = set()
    for expr in filter(None, exprs):
        for node in s.walk(expr):
            if isinstance(node, (s.Ref, s.SystemRef)):
                names.add(node.name)
            elif isinstance(node, s.Call):
                names.update(node.flags)
    return names


class Hybrids:
    """What the hybrids of one attribution share while their programs are built: the names each
    declaration uses (found once per declaration object) and the evaluation order of each graph (the
    same whenever the names and edges are, as they are when the changes switched on keep every
    dependency: a parameter's new value, a formula's new constant)."""

    def __init__(self) -> None:
        self._uses: dict[str, tuple[s.Decl, tuple[Use, ...]]] = {}
        self._orders: dict[tuple[frozenset, frozenset], tuple[str, ...]] = {}

    def uses(self, user: str, decl: s.Decl) -> tuple[Use, ...]:
        found = self._uses.get(user)
        if found is None or found[0] is not decl:  # the declaration is held here: its identity stays its own
            found = self._uses[user] = (decl, tuple(Use(name, user, decl.name_span) for name in _uses(decl)))
        return found[1]

    def order(self, graph: nx.DiGraph) -> tuple[str, ...]:
        key = (frozenset(graph.nodes), frozenset(graph.edges))
        if key not in self._orders:
            self._orders[key] = evaluation_order(graph)
        return self._orders[key]


def hybrid(diff: RulebookDiff, switched_on: Iterable[Player], shared: Hybrids | None = None) -> Program:
    """The old pack with the changes of ``switched_on`` taken from the new pack.

    Given ``shared``, what another hybrid of the same attribution found is not worked out again.
    """
    shared = shared if shared is not None else Hybrids()
    old, new = diff.old, diff.new
    declarations, amendments = dict(old.declarations), dict(old.amendments)
    for player in switched_on:
        for change in player.changes:
            for name in change.replaces:
                declarations.pop(name, None)
                amendments.pop(name, None)
            for name in change.introduces:
                declarations[name] = new.declarations[name]
                if name in new.amendments:
                    amendments[name] = new.amendments[name]
    uses = [use for user, decl in declarations.items() for use in shared.uses(user, decl) if use.name in declarations]
    graph = build_graph(declarations, uses)
    try:
        order = shared.order(graph)
    except nx.NetworkXUnfeasible:
        raise InputError("these changes applied together make a circular definition", "diff --data") from None
    return Program(old.directory, old.header, {**old.sources, **new.sources}, declarations, amendments, (), graph, order, (),
                   {**old.files, **new.files})


def _data(old_data: Dataset, new_data: Dataset) -> Dataset:
    """The data read for either pack: the inputs each declares."""
    return make_dataset(old_data.organisations.values(), {**old_data.values, **new_data.values},
                        {**old_data.origins, **new_data.origins}, new_data.source)


def _totals(program: Program, data: Dataset, outputs: list[str], shared: Shared | None = None
            ) -> dict[str, tuple[object, dict[str, object]]]:
    """For each output: its total over every entity and period, and its total per entity.

    Given ``shared``, the hybrid's plan takes every declaration another hybrid of the attribution
    has lowered and compiled (in the same surroundings) rather than compiling it again.
    """
    plan = compile_plan(program)
    compiled(plan, shared)  # the run below finds the plan's closures, built here with the family's
    results = run(plan, data, names=outputs)  # the outputs and what they read: nothing else is summed
    out = {}
    for name in outputs:
        by_entity: dict[str, list] = {}
        for entity, period in results.scope.get(name, ()):
            by_entity.setdefault(entity or "*", []).append(results.get(name, entity, period))
        total = total_of(value for values in by_entity.values() for value in values).figure
        out[name] = (total, {entity: total_of(values).figure for entity, values in by_entity.items()})
    return out


def _add(a, b):
    missing = merge_missing(a, b)
    return a + b if missing is None else missing


def check_comparable(diff: RulebookDiff) -> None:
    """Refuse, saying why, to set side by side the figures of packs for different years."""
    if not diff.same_year:
        raise InputError(f"the packs are for different years ({diff.old.year} and {diff.new.year}): one data file's "
                         "periods belong to one year, so their figures cannot be set side by side",
                         "diff --data", "compare two packs of the same year (a draft against the published rules)")


def attribute(diff: RulebookDiff, old_data: Dataset, new_data: Dataset, outputs: list[str]) -> list[Impact]:
    """Each output's change from the old pack to the new, shared among the changes by Shapley values."""
    check_comparable(diff)
    for name in outputs:
        for program in (diff.old, diff.new):
            if not isinstance(program.declarations.get(name), s.DefineDecl):
                raise InputError(f"`{name}` is not a definition of {program.directory}", "--output")
    group = players(diff)
    data = _data(old_data, new_data)
    cache: dict[frozenset[int], dict] = {}
    # what the hybrids share: their programs' uses and orders, and each declaration compiled once
    hybrids, shared = Hybrids(), Shared()

    def value(on: frozenset[int]):
        if on not in cache:
            cache[on] = _totals(hybrid(diff, [group[k] for k in sorted(on)], hybrids), data, outputs, shared)
        return cache[on]

    n = len(group)
    everyone = frozenset(range(n))
    exact = n <= EXACT_UP_TO
    shares, errors = _exact(n, value) if exact else _sampled(n, value)
    impacts = []
    for name in outputs:
        before, before_by = value(frozenset())[name]
        after, after_by = value(everyone)[name]
        entities = sorted(set(before_by) | set(after_by))
        impacts.append(Impact(
            name, diff.new.declarations[name].type, before, after,
            {group[k].name: shares[k][name][0] for k in range(n)},
            {e: (before_by.get(e), after_by.get(e), {group[k].name: shares[k][name][1].get(e) for k in range(n)})
             for e in entities},
            exact, {group[k].name: errors[k][name] for k in range(n)} if errors else {}))
    return impacts


def _marginal(value, without: frozenset[int], k: int) -> dict:
    """What switching player ``k`` on adds to ``without``, for each output (total and per entity)."""
    before, after = value(without), value(without | {k})
    out = {}
    for name, (total, by_entity) in after.items():
        base_total, base_by = before[name]
        out[name] = (_minus(total, base_total), {e: _minus(by_entity.get(e), base_by.get(e)) for e in set(by_entity) | set(base_by)})
    return out


def _minus(a, b):
    """``a - b``; an entity with a figure in only one of the runs has no difference (absent is not zero)."""
    if a is None or b is None:
        return Missing.because("the organisation has this figure in only one of the two runs")
    missing = merge_missing(a, b)
    return a - b if missing is None else missing


def _accumulate(total: dict, part: dict, weight) -> None:
    for name, (value, by_entity) in part.items():
        current, current_by = total.setdefault(name, (Fraction(0), {}))
        current = _add(current, value * weight if isinstance(value, Fraction) else value)
        for e, v in by_entity.items():
            current_by[e] = _add(current_by.get(e, Fraction(0)), v * weight if isinstance(v, Fraction) else v)
        total[name] = (current, current_by)


def _exact(n: int, value):
    """Shapley values over every subset: weight |S|! (n - |S| - 1)! / n! for each S without the player."""
    shares = []
    for k in range(n):
        others = [j for j in range(n) if j != k]
        total: dict = {}
        for size in range(n):
            weight = Fraction(math.factorial(size) * math.factorial(n - size - 1), math.factorial(n))
            for subset in combinations(others, size):
                _accumulate(total, _marginal(value, frozenset(subset), k), weight)
        shares.append(total)
    return shares, None


def _sampled(n: int, value):
    """Shapley values estimated over :data:`SAMPLES` seeded orders, with the standard error of each total share."""
    rng = random.Random(SEED)
    shares: list[dict] = [{} for _ in range(n)]
    seen: list[dict[str, list[float]]] = [{} for _ in range(n)]
    weight = Fraction(1, SAMPLES)
    for _ in range(SAMPLES):
        order = list(range(n))
        rng.shuffle(order)
        on: frozenset[int] = frozenset()
        for k in order:
            part = _marginal(value, on, k)
            _accumulate(shares[k], part, weight)
            for name, (total, _) in part.items():
                if isinstance(total, Fraction):
                    seen[k].setdefault(name, []).append(float(total))
            on = on | {k}
    errors = [{name: (_stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else 0.0) for name, xs in found.items()} for found in seen]
    return shares, errors


def _stdev(xs: list[float]) -> float:
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
