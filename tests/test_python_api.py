"""The Python door (planlang.api): every example of docs/python.md runs; each method answers as the
command of its name does; errors carry the placed diagnostics; only the door is public."""

from __future__ import annotations

import doctest
import inspect
import json
from decimal import Decimal
from fractions import Fraction

import pytest

import planlang
from planlang import api
from planlang.run.totals import total_of

from conftest import EXAMPLES, POLICIES, ROOT, run_cli

PACK = POLICIES / "2021_22"
WORKED = EXAMPLES / "erf_worked_example.json"
LOWER = "erf_thresholds = erf_thresholds - 5%"


@pytest.fixture(scope="module")
def pack():
    return planlang.load(PACK)


@pytest.fixture(scope="module")
def data(pack):
    return pack.load_data(WORKED)


def cli_json(capsys, *argv) -> dict:
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def test_every_example_of_python_md_runs_and_prints_what_it_shows(monkeypatch):
    monkeypatch.chdir(ROOT)
    outcome = doctest.testfile(str(ROOT / "docs" / "python.md"), module_relative=False, optionflags=doctest.ELLIPSIS,
                               report=True, verbose=False)
    assert outcome.attempted >= 20 and outcome.failed == 0


@pytest.mark.parametrize("backend", ["exact", "vector"])
def test_each_value_is_what_run_json_prints(capsys, pack, backend):
    shown = cli_json(capsys, "run", PACK, "--data", WORKED, "--set", LOWER, "--json")
    results = pack.run(WORKED, scenario=pack.scenario(LOWER), backend=backend)
    checked = 0
    for name, rows in shown["results"].items():
        for entity, cells in rows.items():
            for period, printed in cells.items():
                value = results.value(name, None if entity == "*" else entity, None if period == "-" else period)
                assert value.unit == shown["units"][name]
                if printed is None:
                    assert value.exact is None and value.missing
                elif isinstance(printed, bool):
                    assert value.exact is printed
                else:
                    assert value.decimal == Decimal(printed) and isinstance(value.exact, Fraction)
                checked += 1
    assert checked > 100


def test_compare_totals_and_differences_are_compare_json_s(capsys, pack, data):
    scenarios = pack.scenarios(EXAMPLES / "scenarios" / "2021_22" / "erf.plan")
    shown = cli_json(capsys, "compare", PACK, "--data", WORKED, "--scenario", EXAMPLES / "scenarios" / "2021_22" / "erf.plan",
                     "--json")["scenarios"]
    comparisons = pack.compare(data, scenarios.values())
    assert [c.scenario for c in comparisons] == [x["name"] for x in shown] == list(scenarios)
    for comparison, printed in zip(comparisons, shown):
        totals = {(t.name, str(t.period)): t for t in comparison.totals}
        assert {(n, p) for n, by in printed["totals"].items() for p in by} == set(totals)
        for (name, period), total in totals.items():
            expected = printed["totals"][name][period]["difference"]
            assert api.Value(total.difference, "money").decimal == Decimal(expected)
        assert len(comparison.differences) == sum(len(c) for by in printed["differences"].values() for c in by.values())


def test_one_scenario_gives_one_comparison_and_a_list_gives_a_list(pack, data):
    lower = pack.scenario(LOWER)
    one = pack.compare(data, lower)
    (listed,) = pack.compare(data, [lower])
    assert isinstance(one, api.Comparison) and str(one) == str(listed)


def test_solve_is_solve_json_s(capsys, pack, data):
    vary, until = "erf_actual for EXAMPLE2 in 2021-05", "erf_additional_funding for EXAMPLE2 in 2021-05 = £8,000,000"
    shown = cli_json(capsys, "solve", PACK, "--data", WORKED, "--vary", vary, "--until", until, "--json")
    solution = pack.solve(data, vary, until)
    assert solution.reached is shown["reached"] is True
    assert (str(solution.value.decimal), str(solution.baseline_value.decimal), str(solution.achieved.decimal)) == \
        (shown["value"], shown["baseline_value"], shown["achieved"])


def test_sweep_is_sweep_json_s_and_its_totals_are_exact(capsys, pack, data):
    vary = "erf_rate_above_upper = 100% to 150% step 25%"
    shown = cli_json(capsys, "sweep", PACK, "--data", WORKED, "--vary", vary, "--output", "erf_additional_funding",
                     "--set", LOWER, "--json")
    sweep = pack.sweep(data, vary, "erf_additional_funding", scenario=pack.scenario(LOWER, name="--set"), backend="exact")
    assert sweep.json() == shown
    runs = [pack.run(data, scenario=pack.scenario(LOWER, f"erf_rate_above_upper = {rate}%")) for rate in (100, 125, 150)]
    by_hand = [sum(runs[k].frame(["erf_additional_funding"]).exact) for k in range(3)]
    assert [summary.totals["erf_additional_funding"].value for summary in sweep.steps] == by_hand


def test_diff_is_diff_json_s(capsys):
    shown = cli_json(capsys, "diff", POLICIES / "2020_21", PACK, "--json")
    assert planlang.diff(POLICIES / "2020_21", planlang.load(PACK)).json() == shown


def test_a_scenario_from_a_file_with_settings_on_top_is_the_command_line_s(capsys, pack, data):
    plan = EXAMPLES / "scenarios" / "2021_22" / "erf.plan"
    shown = cli_json(capsys, "run", PACK, "--data", WORKED, "--scenario", f"{plan}:may_at_70", "--set",
                     "erf_actual for EXAMPLE2 in 2021-06 = £27,000,000", "--json")
    both = pack.scenario("erf_actual for EXAMPLE2 in 2021-06 = £27,000,000", file=plan, name="may_at_70")
    results = pack.run(data, scenario=both)
    for period in ("2021-05", "2021-06"):
        printed = shown["results"]["erf_additional_funding"]["EXAMPLE2"][period]
        assert results.value("erf_additional_funding", "EXAMPLE2", period).decimal == Decimal(printed)


def test_the_frame_is_long_form_with_exact_values_beside_decimals(pack, data):
    results = pack.run(data, scenario=pack.scenario(LOWER))
    frame = results.frame()
    assert list(frame.columns) == ["organisation", "period", "name", "value", "unit", "missing", "citation", "exact"]
    funding = frame[frame.name == "erf_additional_funding"]
    cells = results._results.scope["erf_additional_funding"]
    assert len(funding) == len(cells)
    # money to the penny as the reports print it; the exact column adds up to the one exact total
    assert all(isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")) for v in funding.value)
    assert sum(funding.exact) == total_of(results._results.get("erf_additional_funding", e, p) for e, p in cells).value
    assert all(Decimal(e.numerator) / Decimal(e.denominator) - v < Decimal("0.01") for e, v in zip(funding.exact, funding.value))
    missing = frame[frame.exact.isna()]
    assert len(missing) and missing.missing.map(bool).all() and missing.value.isna().all()
    assert set(frame.citation.dropna()) and frame[frame.name == "erf_additional_funding"].citation.iloc[0].startswith("002_")


def test_a_pack_that_does_not_compile_raises_with_its_placed_diagnostics(tmp_path):
    (tmp_path / "bad.plan").write_text('policy "Bad" for 2021/22\n\ndefine x: money = y + £1\n', encoding="utf-8")
    with pytest.raises(planlang.PolicyError) as caught:
        planlang.load(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path.name}" in message or "bad.plan" in message
    assert "bad.plan:3:" in message and "unknown name `y`" in message and "^" in message
    assert planlang.check(tmp_path)[0] is None


def test_bad_data_raises_with_every_problem_placed(tmp_path, pack):
    document = json.loads(WORKED.read_text(encoding="utf-8"))
    document["inputs"]["erf_baseline"]["EXAMPLE1"].update({"2021-04": "lots", "2021-05": "plenty"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(planlang.InputError) as caught:
        pack.run(bad)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{bad}: 2 problems"
    assert any("EXAMPLE1.2021-04" in x and "'lots'" in x for x in lines) and any("'plenty'" in x for x in lines)


def test_a_scenario_that_does_not_check_raises_with_its_placed_diagnostics(pack, data):
    with pytest.raises(planlang.ScenarioError) as caught:
        pack.scenario("erf_treshold = 70%")
    assert "--set:1:1: error: unknown name `erf_treshold`" in str(caught.value) and "did you mean `erf_thresholds`" in str(caught.value)
    # an organisation is checked when the scenario meets data
    later = pack.scenario("erf_actual for EXAMPLE9 in 2021-05 = £1")
    with pytest.raises(planlang.ScenarioError) as caught:
        pack.run(data, scenario=later)
    assert "no organisation 'EXAMPLE9'" in str(caught.value) and "^" in str(caught.value)


@pytest.mark.parametrize("ask, words", [
    (("erf_additional_fundin", "EXAMPLE2", "2021-05"), "did you mean `erf_additional_funding`"),
    (("erf_additional_funding", "EXAMPLE9", "2021-05"), "no organisation 'EXAMPLE9'"),
    (("erf_additional_funding", None, "2021-05"), "say which organisation"),
    (("erf_additional_funding", "EXAMPLE2", None), "say which period"),
    (("erf_additional_funding", "EXAMPLE2", "2022-05"), "outside the policy year"),
    (("erf_additional_funding", "EXAMPLE2", "2021/22"), "is monthly"),
    (("erf_additional_funding", "EXAMPLE2", "May"), "is not a period"),
])
def test_asking_for_a_value_that_is_not_there_raises_an_input_error(pack, data, ask, words):
    results = pack.run(data)
    for method in (results.value, results.explain):
        with pytest.raises(planlang.InputError, match=words):
            method(*ask)


def test_arguments_that_name_nothing_raise_input_errors(pack, data):
    other = planlang.load(POLICIES / "2020_21")
    with pytest.raises(planlang.InputError, match="not read for this pack"):
        other.run(data)
    with pytest.raises(planlang.InputError, match="backend"):
        pack.run(data, backend="fast")
    with pytest.raises(planlang.InputError, match="not a scenario of this pack"):
        other.run(other.load_data(EXAMPLES / "2020_21.xlsx"), scenario=pack.scenario(LOWER))
    with pytest.raises(planlang.InputError, match="has no scenario `may_at_80`"):
        pack.scenario(file=EXAMPLES / "scenarios" / "2021_22" / "erf.plan", name="may_at_80")
    with pytest.raises(planlang.InputError, match="not a definition"):
        pack.compare(data, pack.scenario(LOWER), only=["erf_actuals"])
    with pytest.raises(planlang.InputError, match="whole number of draws"):
        pack.sweep(data, "erf_actual = erf_actual * uniform(95%, 105%)", "erf_additional_funding", draws=0)
    with pytest.raises(planlang.InputError, match="megabytes"):
        pack.load_data(WORKED, max_mb=0)


def test_one_name_is_a_name_not_its_letters(pack, data):
    results = pack.run(data)
    assert results.frame("erf_additional_funding").equals(results.frame(["erf_additional_funding"]))
    one = pack.compare(data, pack.scenario(LOWER), only="erf_additional_funding", entities="EXAMPLE2")
    assert {(d.name, d.entity) for d in one.differences} == {("erf_additional_funding", "EXAMPLE2")}


def test_the_door_is_all_and_only_all():
    for name in planlang.__all__:
        assert getattr(planlang, name) is not None
    with pytest.raises(AttributeError):
        planlang.evaluate  # noqa: B018 - a name of the old door, now private
    defined = {name for name, x in vars(api).items()
               if (inspect.isclass(x) or inspect.isfunction(x)) and x.__module__ == api.__name__}
    assert {n for n in defined if not n.startswith("_")} == set(api.__all__)
    assert set(api.__all__) <= set(planlang.__all__)
