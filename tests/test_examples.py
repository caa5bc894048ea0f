"""The example workbooks are what examples/make_examples.py makes, and each year's runs on its pack."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

from planlang import syntax as s
from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.run import evaluate
from planlang.values import Missing

from conftest import EXAMPLES, POLICIES, ROOT

YEARS = sorted(p.name for p in (EXAMPLES / "src").iterdir() if (p / "organisations.json").exists()
               and len(list(p.glob("*.json"))) > 1)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples")
    made = subprocess.run([sys.executable, str(ROOT / "examples" / "make_examples.py"), str(out)],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return out


@pytest.mark.parametrize("year", YEARS)
def test_committed_workbook_is_what_the_script_makes(year, regenerated):
    program = compile_pack(POLICIES / year)
    committed = load_data(EXAMPLES / f"{year}.xlsx", program)
    fresh = load_data(regenerated / f"{year}.xlsx", program)
    assert committed.values == fresh.values
    assert committed.submissions == fresh.submissions
    assert committed.organisations == fresh.organisations


@functools.cache
def example_run(year: str):
    """The year's pack and its results on the year's example workbook."""
    program = compile_pack(POLICIES / year)
    return program, evaluate(program, load_data(EXAMPLES / f"{year}.xlsx", program))


@pytest.mark.parametrize("year", YEARS)
def test_example_exercises_every_flag_firing_and_quiet(year):
    """Each flag of the pack fires for some organisation and period of the example and stays quiet for
    another, so the demo shows every rule at work; flags that say the data itself is wrong (`*_invalid`)
    stay quiet, the example data being clean."""
    program, results = example_run(year)
    fired = {f.name for f in results.flags if f.fired is True} | {x.name for x in results.late_submissions()}
    quiet = {f.name for f in results.flags if f.fired is False}
    flags = set(program.of_kind(s.FlagDecl))
    validations = {name for name in flags if name.endswith("_invalid")}
    assert sorted(flags - validations - fired) == [], "flags that never fire on the example"
    assert sorted(flags - quiet) == [], "flags that never stay quiet on the example"
    assert sorted(validations & fired) == [], "the example data should be clean"
    assert "late_submission" in fired


@pytest.mark.parametrize("year", YEARS)
def test_example_gives_every_definition_a_value(year):
    program, results = example_run(year)
    known = {name for name, _, _, value in results.outputs() if not isinstance(value, Missing)}
    assert sorted(set(program.of_kind(s.DefineDecl)) - known) == []
