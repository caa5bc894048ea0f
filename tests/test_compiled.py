"""The compiled backend (formulas fused into numba loops) gives every figure the exact engine gives.

Every agreement test of the vector backend (tests/test_vector.py: the example data of every pack,
random data drawn on thresholds, half pennies, zero and beyond int64, every operation, scenarios,
sweeps' steps) is collected again here with the compiled backend in the vector backend's place and
fusing from the first cell (its size threshold is for speed, not meaning); then tests of its own:
the loops are the semantics table's, a loop that cannot be proven exact is not run, kernels come
from the disk cache in a fresh process.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from fractions import Fraction

import pytest

pytest.importorskip("numba")

from test_vector import *  # noqa: E402,F403  (every agreement test, run again below on the compiled backend)
from test_vector import assert_same_results  # noqa: E402

from planlang.data import Organisation, make_dataset  # noqa: E402
from planlang.plan import compile_plan  # noqa: E402
from planlang.run import BACKENDS, bulk, run  # noqa: E402
from planlang.run.fused import CompiledRun, cache, engine  # noqa: E402
from planlang.run.fused.emit import EMITTERS, fuse  # noqa: E402
from planlang.run.semantics import OPERATIONS  # noqa: E402
from planlang.run.vector.steps import vector_steps  # noqa: E402

from conftest import ROOT  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def compiled_in_place_of_vector(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PLANLANG_CACHE", str(tmp_path_factory.mktemp("kernels")))
        patch.setattr(engine, "FUSE_FROM", 0)
        patch.setitem(BACKENDS, "vector", CompiledRun)
        patch.setitem(bulk.BACKENDS, "vector", functools.partial(vector_steps, engine=CompiledRun))
        yield


def test_every_emitter_is_a_row_of_the_semantics_table():
    assert set(EMITTERS) <= set(OPERATIONS)


POLICY = """\
input amount : money
  per system monthly

input gate : bool
  per system monthly
  default true

parameter lower : money
  = £100

parameter rate : percent
  = 120%

define paid : money
  per system monthly
  = if gate and amount > £0 then round(bands on amount up to lower: 0% above: rate, £0.01, half_up) else £0
"""


def _dataset(amounts, gates=()):
    months = ["2021-04"]
    from planlang.periods import parse_period

    month = parse_period(months[0])
    orgs = [Organisation(f"S{k}", f"S{k}", "system", None) for k in range(len(amounts))]
    values = {("amount", f"S{k}", month): x for k, x in enumerate(amounts) if x is not None}
    values.update({("gate", f"S{k}", month): g for k, g in enumerate(gates) if g is not None})
    return make_dataset(orgs, values, {}, "test"), month


@pytest.fixture
def policy(compile_policy):
    return compile_plan(compile_policy(POLICY))


def test_the_fused_loop_matches_the_exact_engine_on_half_pennies_thresholds_and_missing(policy):
    amounts = [Fraction(100), Fraction(20001, 200), Fraction(20003, 200), Fraction(0), Fraction(-5), None,
               Fraction(10**9, 3), Fraction(1, 200)]
    gates = [True, True, False, None, True, True, True, True]
    dataset, _ = _dataset(amounts, gates)
    assert_same_results(run(policy, dataset), run(policy, dataset, backend="compiled"))


def test_a_loop_whose_bounds_pass_int64_is_not_run(policy):
    amounts = [Fraction(2**61), Fraction(-(2**61)), Fraction(1, 3)]
    dataset, month = _dataset(amounts)
    compiled = CompiledRun(policy, dataset)
    formula = policy.formulas["paid"]
    assert fuse(formula, lambda leaf: compiled.ev(leaf, month)) is None  # 2^61 x 120% x 100 pennies does not fit
    assert_same_results(run(policy, dataset), run(policy, dataset, backend="compiled"))


def test_kernels_are_cached_on_disk_and_read_back_by_a_fresh_process(tmp_path):
    script = ("import os, sys\n"
              "from planlang.run.fused import cache\n"
              "kernel = cache.kernel_for('def kernel(a0, m0, k, out, miss, defer):\\n'\n"
              "                          '    for i in range(out.shape[0]):\\n'\n"
              "                          '        out[i] = a0[i] * k[0]\\n')\n"
              "import numpy as np\n"
              "out = np.empty(3, dtype=np.int64); m = np.empty(3, dtype=bool)\n"
              "kernel(np.arange(3), m, np.array([7]), out, m, m)\n"
              "print(out.tolist(), len(kernel.stats.cache_hits))\n")
    env = {**os.environ, "PLANLANG_CACHE": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[:3] == again.stdout.split()[:3] == ["[0,", "7,", "14]"]
    assert first.stdout.split()[3] == "0" and again.stdout.split()[3] == "1"  # compiled once, then read from disk
    assert any(tmp_path.glob("k*.py"))


def test_without_numba_the_compiled_backend_is_the_vector_backend(policy, monkeypatch):
    monkeypatch.setattr(cache, "_available", [False])
    dataset, _ = _dataset([Fraction(150), Fraction(50)])
    assert_same_results(run(policy, dataset), run(policy, dataset, backend="compiled"))


def test_the_cli_offers_the_compiled_backend():
    assert "compiled" in BACKENDS and "compiled" in bulk.BACKENDS
    assert (ROOT / "pyproject.toml").read_text().count('"numba') == 2  # the fast extra, and the test extra


def test_a_policys_text_never_becomes_a_loops_source(monkeypatch, tmp_path):
    """The loops of the ERF pack on its worked example are generated text only: each passes cache.generated
    (whole numbers, the generator's names, no strings, no calls but range/min/max/abs), and none holds a
    declared name, since constants and columns go in as arrays."""
    from planlang.compiler import compile_pack
    from planlang.data import load_data

    monkeypatch.setenv("PLANLANG_CACHE", str(tmp_path))
    sources = []
    real = cache.kernel_for
    monkeypatch.setattr(cache, "kernel_for", lambda source: sources.append(source) or real(source))
    program = compile_pack(ROOT / "policies" / "2021_22")
    plan = compile_plan(program)
    dataset = load_data(ROOT / "examples" / "erf_worked_example.json", program)
    assert_same_results(run(plan, dataset), run(plan, dataset, backend="compiled"))
    assert sources, "nothing was fused"
    for source in sources:
        assert cache.generated(source) == source
        assert not any(name in source for name in program.declarations if len(name) > 3)
    with pytest.raises(ValueError, match="the constant 'erf_actual'"):
        cache.kernel_for(sources[0].replace("k[0]", "'erf_actual'", 1) if "k[0]" in sources[0] else
                         sources[0] + "    out[0] = 'erf_actual'\n")
