"""The bulk-evaluation benchmark (benchmarks/bench_vector.py) runs, and the figures it reports are
what they claim: a smoke test on its smallest size, 200 system-months, not a timing. OpenFisca and
Dask are left out (they are the optional `bench` extra, not installed by `make test`)."""

from __future__ import annotations

import importlib
from fractions import Fraction

import pytest

from planlang.plan import compile_plan
from planlang.run import BACKENDS, run

from conftest import ROOT


@pytest.fixture(scope="module")
def bench():
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT / "benchmarks"))
        yield importlib.import_module("bench_vector")


@pytest.fixture(scope="module")
def small(bench):
    data = bench.Synthetic(200)
    plan = compile_plan(bench.erf_pack())
    return data, plan, run(plan, data.dataset())


def test_exact_reference_is_the_exact_engines_answer(bench, small):
    data, _, results = small
    numerators, denominators = bench.exact_funding(data)
    codes = data.codes()
    for month, period in enumerate(bench.MONTHS):
        for system, code in enumerate(codes):
            exact = Fraction(int(numerators[month, system]), int(denominators[month, 0]))
            assert results.get(bench.OUTPUT, code, period) == exact == bench.exact_cell(data, month, system)
    # the sample holds payments in both bands and none, so the comparison covers every branch of the rule
    assert (numerators == 0).any() and (numerators > 0).any()


def test_hand_written_numpy_is_within_its_reported_error(bench, small):
    data, _, results = small
    funding = bench.hand_numpy(*data.floats())
    reported = bench.max_error(funding, *bench.exact_funding(data))
    codes = data.codes()
    actual = max(abs(Fraction(float(funding[month, system])) - results.get(bench.OUTPUT, code, period))
                 for month, period in enumerate(bench.MONTHS) for system, code in enumerate(codes))
    # max_error is exact to about 1e-16 £ (docstring); float64 on £10m figures is out by far less than a penny
    assert abs(Fraction(reported) - actual) < Fraction(1, 10**15)
    assert 0 < reported < 0.01


def test_smallest_size_measures_every_column_but_openfisca(bench, small):
    _, plan, _ = small
    row = bench.measure(200, repeat=1, openfisca=False, exact_limit=1_000, plan=plan)
    assert row["cells"] == 204  # 34 systems x 6 months
    for column in ("data", "exact", "numpy", "floor"):
        assert row[column] > 0
    assert row["openfisca"] is None and row["openfisca_err"] is None
    shown = bench.table_row(row, "vector" in BACKENDS)
    assert len(shown) == len(bench.COLUMNS)
    if "vector" in BACKENDS:
        assert row["vector_err"] == 0  # the vector backend is exact to the penny and beyond
    else:
        assert shown[bench.COLUMNS.index("vector")] == "not available"


def test_frf_sweep_step_at_the_declared_rate_gives_the_baseline_totals(bench):
    frf = importlib.import_module("frf_sweep")
    plan = compile_plan(frf.frf_pack())
    dataset = frf.synthetic(30)
    at_100, at_150 = frf.sweep(plan, dataset, ["frf_taper_rate = 100%", "frf_taper_rate = 150%"])
    assert at_100 == frf.totals(run(plan, dataset))  # the pack's own rate is 100%
    # a steeper taper never earns more, and the synthetic data has shortfalls for it to bite on
    assert at_150[0] < at_100[0]
