"""The coalitions of one attribution share the plans' machinery, and it changes no figure.

Each coalition of `planlang diff --data --output` is a hybrid program, so a plan of its own; a
:class:`~planlang.run.shared.Shared` owned by the attribution lowers and compiles each declaration
once for all of them, and :class:`~planlang.impact.Hybrids` finds each declaration's uses once.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

from test_impact import DATA, EDITS, OUTPUT, PACK, pack_with

from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.impact import Hybrids, _data, _exact, _totals, attribute, hybrid, players
from planlang.plan import compile_plan
from planlang.rulediff import diff_programs
from planlang.run import run, total_of
from planlang.run.exact import Compiled, compiled
from planlang.run.shared import Shared, _lowers_the_same


def _attribution(tmp_path):
    new = compile_pack(pack_with(tmp_path, sorted(EDITS), "all"))
    old = compile_pack(PACK)
    diff = diff_programs(old, new)
    return diff, players(diff), _data(load_data(DATA, old), load_data(DATA, new))


def test_two_coalitions_share_the_closures_of_a_declaration_neither_changes(tmp_path):
    diff, group, _ = _attribution(tmp_path)
    taper = next(p for p in group if p.name == "frf_taper_rate")
    hybrids, shared = Hybrids(), Shared()
    before = compiled(compile_plan(hybrid(diff, [], hybrids)), shared)
    after = compiled(compile_plan(hybrid(diff, [taper], hybrids)), shared)
    assert after.lowered is not before.lowered  # two plans
    # frf_org_earned reads frf_taper_rate, whose value the coalition changes but not its kind: shared
    for name in ("frf_org_earned", OUTPUT):
        assert after.formulas[name] is before.formulas[name]
        assert after.lowered.declarations[name] is before.lowered.declarations[name]
    # the changed declaration is the new pack's, lowered and compiled for it
    assert after.lowered.declarations["frf_taper_rate"] is not before.lowered.declarations["frf_taper_rate"]
    declared = len(diff.old.declarations)
    assert (shared.lowered, shared.reused) == (declared + 1, declared - 1)
    # an expression of a shared declaration finds its closure in either plan
    expr = diff.old.declarations[OUTPUT].value
    assert after.closure(expr) is before.closure(expr) is before.formulas[OUTPUT]
    # without the family's machinery, a plan compiles its own
    alone = Compiled(compile_plan(hybrid(diff, [taper])))
    assert alone.formulas[OUTPUT] is not before.formulas[OUTPUT]


def test_a_declaration_is_lowered_again_when_a_name_it_reads_changes_kind(tmp_path):
    diff, _, _ = _attribution(tmp_path)
    old = diff.old
    piece = Shared().declaration(old, "frf_org_earned")
    assert ("frf_taper_rate", type(old.declarations["frf_taper_rate"])) in piece.kinds
    assert _lowers_the_same(piece, old)
    some_definition = old.declarations[OUTPUT]
    as_definition = SimpleNamespace(declarations={**old.declarations, "frf_taper_rate": some_definition},
                                    amendments=old.amendments)
    assert not _lowers_the_same(piece, as_definition)
    replaced = SimpleNamespace(declarations={**old.declarations, "frf_org_earned": diff.new.declarations["frf_org_earned"]},
                               amendments=old.amendments)
    assert not _lowers_the_same(piece, replaced)  # the same text from the other pack: another object


def _uncached(diff, on, data) -> tuple[Fraction, dict]:
    """A coalition's output worked out as before: its own program and plan, compiled alone, every name run."""
    results = run(compile_plan(hybrid(diff, on)), data)
    by_entity: dict = {}
    for entity, period in results.scope[OUTPUT]:
        by_entity.setdefault(entity or "*", []).append(results.get(OUTPUT, entity, period))
    return (total_of(v for values in by_entity.values() for v in values).figure,
            {e: total_of(values).figure for e, values in by_entity.items()})


def test_every_coalition_and_every_share_equals_the_uncached_computation(tmp_path):
    diff, group, data = _attribution(tmp_path)
    hybrids, shared = Hybrids(), Shared()
    coalitions = [frozenset(k for k in range(len(group)) if mask >> k & 1) for mask in range(1 << len(group))]
    uncached = {on: {OUTPUT: _uncached(diff, [group[k] for k in sorted(on)], data)} for on in coalitions}
    for on in coalitions:
        assert _totals(hybrid(diff, [group[k] for k in sorted(on)], hybrids), data, [OUTPUT], shared) == uncached[on]
    shares, _ = _exact(len(group), uncached.__getitem__)
    impact = attribute(diff, load_data(DATA, diff.old), load_data(DATA, diff.new), [OUTPUT])[0]
    assert impact.by_player == {group[k].name: shares[k][OUTPUT][0] for k in range(len(group))}
    assert {e: dict(by[2]) for e, by in impact.by_entity.items()} == {
        e: {group[k].name: shares[k][OUTPUT][1].get(e) for k in range(len(group))} for e in impact.by_entity}
