"""Small things an auditor or a notebook user trips over: a public verb that turns into a module
after first use, a version set twice, help that names fewer data formats than a command reads."""

from __future__ import annotations

import ast
import importlib
import pkgutil

import pytest

import planlang
from planlang.cli.parser import parser

from conftest import EXAMPLES, POLICIES


def test_a_public_name_stays_what_it_was_after_every_module_is_imported():
    before = {name: getattr(planlang, name) for name in planlang.__all__}
    for module in pkgutil.walk_packages(planlang.__path__, "planlang."):
        if module.name != "planlang.__main__":  # runs the command line
            importlib.import_module(module.name)
    assert {name: getattr(planlang, name) for name in planlang.__all__} == before
    results = planlang.load(POLICIES / "2021_22").run(EXAMPLES / "erf_worked_example.json")
    trace = results.explain("erf_additional_funding", "EXAMPLE2", "2021-05")
    assert trace.label == "erf_additional_funding" and trace.kind == "definition"


def test_no_public_name_is_also_a_submodule():
    """Importing a submodule binds its name on the package, over a lazily exported verb of that name."""
    submodules = {m.name for m in pkgutil.iter_modules(planlang.__path__)}
    assert not submodules & set(planlang.__all__)


def test_the_version_is_set_once():
    tree = ast.parse(open(planlang.__file__, encoding="utf-8").read())
    assigned = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in n.targets)]
    assert len(assigned) == 2  # one in the try, one in its except: a single decision


@pytest.mark.parametrize("command", ["run", "compare", "explain", "solve", "sweep", "report"])
def test_data_help_names_every_format_the_command_reads(command):
    sub = next(a for a in parser()._actions if a.dest == "command").choices[command]
    help_ = next(a.help for a in sub._actions if "--data" in a.option_strings)
    assert all(ext in help_ for ext in (".json", ".xlsx", ".csv", ".parquet"))
