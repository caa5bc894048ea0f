"""Explanations are recorded while a cell is evaluated, as typed events; nothing replays a cell."""

from __future__ import annotations

import gc
import json
import weakref
from fractions import Fraction
from pathlib import Path

import pytest

from planlang import explanation, render
from planlang.data import load_data
from planlang.explanation import explain
from planlang.periods import parse_period
from planlang.plan import compile_plan
from planlang.run import run
from planlang.run import traced as traced_module
from planlang.run.exact import Frame, compiled
from planlang.run.traced import Recording, record, traced
from planlang.run.tracer import (
    Aggregate,
    BandsApplied,
    Branch,
    Comparison,
    Event,
    InputOrigin,
    Logical,
    Member,
    NullTracer,
    ParameterUse,
    RecordingTracer,
    TaperApplied,
    Tolerance,
)
from planlang.scenario import read_scenarios

from conftest import compile_text
from conftest import render as render_diagnostics

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "src" / "planlang" / "run"
M = parse_period

POLICY = """
input activity : money
  per trust monthly
  cites "s.txt" §1
input reference : money
  per trust monthly
  cites "s.txt" §1
input shortfall : money
  per trust monthly
  default £0
  cites "s.txt" §1
parameter lower : money
  = £100
  cites "s.txt" §1
parameter upper : money
  = £200
  cites "s.txt" §1
parameter tolerance : percent
  = 10%
  cites "s.txt" §1
define paid : money
  per trust monthly
  = if activity > lower then
      (bands on activity
         up to lower: 0%
         up to upper: 50%
         above: 100%)
    else £0 because "below the lower threshold"
  cites "s.txt" §1
define kept : money
  per trust monthly
  = taper paid by shortfall at 50% floor £0
  cites "s.txt" §1
define total : money
  per system monthly
  = sum(kept over members)
  cites "s.txt" §1
flag off_plan
  per trust monthly
  severity warning
  when not activity within tolerance of reference and activity > £0
  says "{entity} is off plan"
  cites "s.txt" §1
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    program, diagnostics = compile_text(POLICY)
    assert program is not None, render_diagnostics(diagnostics, POLICY)
    path = tmp_path_factory.mktemp("tracer") / "d.json"
    path.write_text(json.dumps({
        "organisations": [{"code": "S", "kind": "system"}, {"code": "T1", "kind": "trust", "system": "S"},
                          {"code": "T2", "kind": "trust", "system": "S"}],
        "inputs": {"activity": {"T1": {"2021-04": "250"}, "T2": {"2021-04": "50"}},
                   "reference": {"T1": {"2021-04": "200"}, "T2": {"2021-04": "50"}},
                   "shortfall": {"T1": {"2021-04": "20"}}}}), encoding="utf-8")
    return run(compile_plan(program), load_data(path, program))


def recorded(results, name, entity, period):
    return record(results.run, name, entity, M(period), RecordingTracer())


def steps(found, kind):
    """Every record of ``kind`` below ``found`` (named values included once)."""
    out, pending, seen = [], [found], set()
    while pending:
        step = pending.pop()
        if id(step) in seen:
            continue
        seen.add(id(step))
        if step.event.kind == kind:
            out.append(step)
        pending += step.children
    return out


def test_bands_and_branch_are_recorded_as_typed_events(results):
    found = recorded(results, "paid", "T1", "2021-04")
    assert isinstance(found.event, Event) and found.event.kind == "definition"
    (branch,) = steps(found, "condition")
    assert branch.event.detail == Branch(branch.event.expr.condition, True, "then", None)
    (bands,) = steps(found, "bands")
    detail = bands.event.detail
    assert isinstance(detail, BandsApplied)
    assert detail.amount == 250 and detail.applied == 2
    assert [(row.portion, row.payment) for row in detail.rows] == [(100, 0), (100, 50), (50, 50)]
    assert [m.margin for m in detail.margins] == [150, 50]  # how far above each threshold
    assert bands.event.value == found.event.value == Fraction(100)
    (comparison,) = steps(found, "comparison")
    assert comparison.event.detail == Comparison(Fraction(250), Fraction(100), "money", Fraction(150))


def test_the_branch_not_taken_is_said_with_its_because(results):
    found = recorded(results, "paid", "T2", "2021-04")
    (branch,) = steps(found, "condition")
    assert branch.event.detail.holds is False and branch.event.detail.branch == "else"
    assert branch.event.detail.because == "below the lower threshold"
    assert steps(found, "bands") == []  # the branch not taken is not worked out


def test_taper_tolerance_and_input_origins_are_typed(results):
    found = recorded(results, "kept", "T1", "2021-04")
    (taper,) = steps(found, "taper")
    assert taper.event.detail == TaperApplied(Fraction(100), Fraction(20), Fraction(1, 2), Fraction(0), None, Fraction(10),
                                              False, False)
    origins = {s.event.decl.name: s.event.detail for s in steps(found, "input")}
    assert origins["activity"] == InputOrigin(origin=origins["activity"].origin) and origins["activity"].origin
    assert recorded(results, "kept", "T2", "2021-04") is not None
    shortfall = [s for s in steps(recorded(results, "kept", "T2", "2021-04"), "input") if s.event.decl.name == "shortfall"]
    assert shortfall[0].event.detail == InputOrigin(assumed=True)  # no value in the data: the default is assumed
    assert isinstance(steps(found, "parameter")[0].event.detail, ParameterUse)

    flag = recorded(results, "off_plan", "T1", "2021-04")
    (tolerance,) = steps(flag, "tolerance")
    assert tolerance.event.detail == Tolerance(True, Fraction(1, 10), "money", Fraction(50), Fraction(20), False,
                                               Fraction(-30), Fraction(1, 4))
    (logical,) = steps(flag, "logical")
    assert isinstance(logical.event.detail, Logical) and logical.event.detail.values == (True, True)


def test_an_aggregate_records_each_member(results):
    found = recorded(results, "total", "S", "2021-04")
    (aggregate,) = steps(found, "aggregate")
    assert aggregate.event.detail == Aggregate("members", "sum")
    assert [(m.event.entity, m.event.detail) for m in aggregate.children] == [("T1", Member("members")),
                                                                              ("T2", Member("members"))]


def test_every_detail_is_typed_never_a_dict(results):
    for name, keys in results.scope.items():
        for entity, period in keys:
            found = record(results.run, name, entity, period, RecordingTracer())
            pending = [found]
            while pending:
                step = pending.pop()
                assert not isinstance(step.event.detail, dict)
                pending += step.children


def test_a_recorded_trace_equals_the_figure(results):
    closures = traced(results.plan).formulas
    for name, keys in results.scope.items():
        for entity, period in keys:
            figure = results.get(name, entity, period)
            # the formula worked out again by the traced closures, recording as it goes, gives the figure
            assert closures[name](Recording(results.run, RecordingTracer()), Frame(entity, period)) == figure
            node = explain(results, name, entity, period)
            assert node.value == figure and not isinstance(node.recorded, dict)
            if node.children and node.children[0].kind == "condition":
                assert node.children[0].value == figure


def test_the_null_tracer_records_nothing(results):
    assert record(results.run, "paid", "T1", M("2021-04"), NullTracer()) is None


def test_the_traced_closures_are_compiled_once_per_plan(results):
    assert traced(results.plan) is traced(results.plan)
    assert traced(results.plan).plain is compiled(results.plan)


def test_nothing_replays_a_cell():
    assert not (RUN / "trace.py").exists()
    for path in (ROOT / "src" / "planlang").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "def replay(" not in text and "import replay" not in text and "replay(" not in text.replace(
            "replay_scenario(", ""), path
    assert not hasattr(explanation, "replay")


def test_run_json_records_only_the_flags_it_explains(results, monkeypatch):
    calls = []
    original = traced_module.Recording.named

    def counted(self, name, entity, period):
        calls.append((name, entity, period))
        return original(self, name, entity, period)

    monkeypatch.setattr(traced_module.Recording, "named", counted)
    explanation._TRACERS.pop(results, None)
    document = render.run_json(results)
    raised = {(f["flag"], f["entity"]) for f in document["flags"]}
    assert raised == {("off_plan", "T1")}
    roots = {(name, entity) for name, entity, _ in calls if name == "off_plan"}
    assert roots == {("off_plan", "T1")}  # T2's flag is not raised: not explained, nothing traced
    assert ("total", "S", M("2021-04")) not in calls and not any(name == "paid" for name, _, _ in calls)


def test_a_replaced_formula_is_recorded_with_the_scenarios_own_closures(results, tmp_path, monkeypatch):
    path = tmp_path / "r.plan"
    path.write_text("scenario r\n  replace paid = activity + £1\n", encoding="utf-8")
    scenario = read_scenarios(path, results.plan, results.dataset)["r"]
    monkeypatch.setattr(traced_module, "lower_expression", None)  # a setting's closure is the scenario's, not compiled afresh
    found = record(run(results.plan, results.dataset, scenario, baseline=results).run, "paid", "T1", M("2021-04"),
                   RecordingTracer())
    assert found.event.setting.formula and found.event.value == 251
    assert [c.event.decl.name for c in found.children] == ["activity"]


def test_the_traced_closures_go_with_their_plan(results):
    plan = compile_plan(results.program)
    found = record(run(plan, results.dataset).run, "kept", "T1", M("2021-04"), RecordingTracer())
    assert found.event.value == 90 and traced(plan) is not None
    gone = weakref.ref(plan)
    del plan, found
    gc.collect()
    assert gone() is None
