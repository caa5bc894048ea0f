"""The run side as a compiler: a plan is lowered and compiled once and every run of it reuses that."""

from __future__ import annotations

import ast
import gc
import weakref
from pathlib import Path

import pytest

from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.plan import compile_plan
from planlang.run import ExactRun, run
from planlang.run.bulk import Step, step_results
from planlang.run.exact import compiled
from planlang.run.lower import lowered, relative_tolerance
from planlang.scenario import BASELINE, scenario_from_sets

ROOT = Path(__file__).resolve().parent.parent
WORKED = ROOT / "examples" / "erf_worked_example.json"
RUN = ROOT / "src" / "planlang" / "run"


@pytest.fixture(scope="module")
def worked():
    program = compile_pack(ROOT / "policies" / "2021_22")
    plan = compile_plan(program)
    return plan, load_data(WORKED, program)


def test_two_runs_of_a_plan_share_its_lowered_and_compiled_machinery(worked):
    plan, data = worked
    first, second = ExactRun(plan, data), ExactRun(plan, data)
    assert first.compiled is second.compiled is compiled(plan)
    assert compiled(plan).lowered is lowered(plan)
    assert run(plan, data).run.compiled is first.compiled
    assert run(plan, data, backend="vector").run.exact.compiled is first.compiled


def test_a_run_holds_data_and_no_closures(worked):
    plan, data = worked
    engine = ExactRun(plan, data)
    assert not hasattr(engine, "closures")
    assert not any(callable(v) and getattr(v, "__name__", "") == "<lambda>" for v in vars(engine).values())


def test_every_sweep_step_reuses_the_plans_compiled_machinery(worked, monkeypatch):
    plan, data = worked
    built = []
    original = compiled(plan)
    monkeypatch.setattr("planlang.run.exact.Compiled.__init__",
                        lambda self, plan: built.append(plan))  # building again would be recorded here
    baseline = run(plan, data)
    steps = [Step(scenario_from_sets([f"erf_threshold_pct = {pct}%"], plan, data)) for pct in (80, 85, 90)]
    results = list(step_results(plan, data, steps, ["erf_additional_funding"]))
    assert len(results) == 3 and not built
    engines = [ExactRun(plan, data, step.scenario, baseline.run) for step in steps]
    assert all(engine.compiled is original for engine in engines)


def test_a_scenarios_settings_are_compiled_once(worked):
    plan, data = worked
    scenario = scenario_from_sets(["erf_threshold_pct = 85%"], plan, data)
    machinery = compiled(plan)
    assert machinery.settings(scenario) is machinery.settings(scenario)
    assert machinery.settings(BASELINE) == {}


def test_the_per_plan_machinery_goes_with_its_plan(worked):
    program = compile_pack(ROOT / "policies" / "2021_22")
    plan = compile_plan(program)
    compiled(plan)
    gone = weakref.ref(plan)
    del plan
    gc.collect()
    assert gone() is None


def test_the_dimensionless_tolerance_rule_is_stated_once():
    assert relative_tolerance("percent") and relative_tolerance("ratio") and relative_tolerance("number")
    assert not relative_tolerance("money") and not relative_tolerance("count")
    users = [path for path in (ROOT / "src" / "planlang").rglob("*.py") if 'in ("percent", "ratio", "number")' in path.read_text()]
    assert users == []


def _module_level_dicts_keyed_by_id(path: Path) -> list[str]:
    """Module-level assignments whose dict is then indexed by ``id(...)``: the pattern this package must not use."""
    tree = ast.parse(path.read_text())
    module_names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in module_names:
            key = node.slice
            if isinstance(key, ast.Call) and isinstance(key.func, ast.Name) and key.func.id == "id":
                found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "setdefault") \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in module_names and node.args:
            key = node.args[0]
            if isinstance(key, ast.Call) and isinstance(key.func, ast.Name) and key.func.id == "id":
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_module_level_cache_under_run_is_keyed_by_object_id():
    assert [hit for path in sorted(RUN.rglob("*.py")) for hit in _module_level_dicts_keyed_by_id(path)] == []


def test_explanations_agree_with_the_figures_they_explain(worked):
    from planlang.explanation import explain

    plan, data = worked
    results = run(plan, data)
    for name, entity, period in list(results.values())[:40]:
        assert explain(results, name, entity, period).value == results.get(name, entity, period)


@pytest.mark.parametrize("backend", ["exact", "vector"])
def test_sweeps_repeated_in_one_process_give_the_same_totals(backend):
    """The plan's machinery outlives each sweep's scenarios: a closure or an analysis of one step's expression
    must never answer for another's (an object's id is reused once it is collected), however often a notebook
    sweeps the same pack."""
    import planlang

    pack = planlang.load(ROOT / "policies" / "2021_22")
    data = ROOT / "examples" / "erf_worked_example.json"
    seen = []
    for _ in range(4):
        for vary in ("erf_rate_above_upper = 100% to 120% step 10%", "erf_rate_above_upper = 130% to 150% step 10%"):
            sweep = pack.sweep(data, vary=vary, outputs="erf_additional_funding", backend=backend)
            seen.append([step.totals["erf_additional_funding"].value for step in sweep.steps])
        gc.collect()
    assert seen[0] != seen[1] and all(seen[k] == seen[k % 2] for k in range(len(seen)))
