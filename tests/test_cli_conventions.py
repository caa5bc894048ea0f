"""Command-line conventions: --version (quick: it imports no command), the exit-status table, colour only
at a terminal (and never under NO_COLOR), an example in each command's --help, shared options defined
once, the defaults a run assumed, ratios once."""

from __future__ import annotations

import ast
import importlib
import io
import re
import subprocess
import sys
from importlib import metadata

import pytest

from planlang.cli import main
from planlang.cli.colour import paint, paint_severities
from planlang.cli.exits import (
    EXIT_DATA,
    EXIT_INTERNAL,
    EXIT_MISSING,
    EXIT_OK,
    EXIT_ON_SIGNAL,
    EXIT_OUTPUT,
    EXIT_POLICY,
    EXIT_USAGE,
)
from planlang.cli.options import DATA_HELP
from planlang.cli.parser import parser
from planlang.render import format_value

from conftest import EXAMPLES, POLICIES, ROOT

COMMANDS = ("check", "run", "explain", "test", "deadlines", "rules", "report", "verify", "template", "export")


def test_version_names_the_installed_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"planlang {metadata.version('planlang')}"


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_has_an_example_that_names_the_command(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    example = out.split("example:\n", 1)[1]
    assert example.lstrip().startswith(f"planlang {command} ")


def test_readme_table_gives_every_exit_status_the_cli_uses():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    codes = {int(code) for cell in re.findall(r"^\| ([\d, ]+) \|", table, re.M) for code in cell.split(",")}
    assert codes == {EXIT_OK, EXIT_POLICY, EXIT_DATA, EXIT_MISSING, EXIT_USAGE, EXIT_INTERNAL, EXIT_OUTPUT,
                     *EXIT_ON_SIGNAL.values()} == {0, 1, 2, 3, 64, 70, 74, 130, 143}


@pytest.mark.parametrize("asked", ["--version", "--help"])
def test_version_and_help_import_no_command(asked):
    # each command's family and what it works with load when the command runs, not to print a version
    heavy = ("planlang.run", "planlang.compiler", "planlang.data", "planlang.render", "planlang.cli.dispatch",
             "planlang.cli.load", "planlang.cli.run", "planlang.cli.whatif", "openpyxl", "numpy", "lark", "networkx")
    done = subprocess.run([sys.executable, "-c", "import sys; from planlang.cli import main; code = main(sys.argv[1:]); "
                           f"print(sorted(m for m in {heavy!r} if m in sys.modules))", asked],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "[]"


def _commands() -> dict:
    return next(a for a in parser()._actions if a.dest == "command").choices


def test_data_is_defined_once_and_shared_with_one_help():
    cli = ROOT / "src" / "planlang" / "cli"
    defined = [path.name for path in sorted(cli.glob("*.py")) for node in ast.walk(ast.parse(path.read_text("utf-8")))
               if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument"
               and any(isinstance(a, ast.Constant) and a.value == "--data" for a in node.args)]
    assert defined == ["options.py"]
    helps = {name: action.help for name, command in _commands().items()
             for action in command._actions if "--data" in action.option_strings}
    assert sorted(helps) == ["compare", "coverage", "deadlines", "diff", "explain", "export", "reconcile", "report", "run", "serve", "solve",
                            "sweep"]
    assert all(help_.endswith(DATA_HELP) for help_ in helps.values())
    # --map (a workbook in another layout) goes wherever --data goes, with the same help
    maps = {name: action.help for name, command in _commands().items()
            for action in command._actions if "--map" in action.option_strings}
    assert sorted(maps) == sorted(helps) and len(set(maps.values())) == 1


def test_every_command_is_run_by_its_familys_module():
    for name, command in _commands().items():
        family = importlib.import_module(f"planlang.cli.{command.get_default('family')}")
        assert callable(getattr(family, f"cmd_{name}")), name


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_at_a_terminal_and_never_under_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert paint("error", "error", _Terminal()) == "\033[1;31merror\033[0m"
    assert paint("error", "error", io.StringIO()) == "error"
    assert paint_severities("  warning late [S1]: x\nplain", _Terminal()) == "  \033[1;33mwarning\033[0m late [S1]: x\nplain"
    monkeypatch.setenv("NO_COLOR", "1")
    assert paint("error", "error", _Terminal()) == "error"
    monkeypatch.setenv("NO_COLOR", "")  # an empty NO_COLOR does not count
    assert paint("error", "error", _Terminal()) != "error"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert paint("error", "error", _Terminal()) == "error"


def test_a_piped_run_has_no_escape_codes():
    done = subprocess.run([sys.executable, "-m", "planlang.cli", "run", str(POLICIES / "2020_21"), "--data",
                           str(EXAMPLES / "2020_21.xlsx")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "warning" in done.stdout and "\033[" not in done.stdout + done.stderr


def test_run_lists_each_default_it_assumed_with_how_many_organisation_periods(capsys):
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json")]) == 0
    out = capsys.readouterr().out
    section = out.split("Assumed defaults", 1)[1].split("\n\n", 1)[0]
    # the worked example gives no gateway data: every system-month of the ERF assumes the gateway met
    assert "erf_gateway_met = true: assumed for 12 of 12 entity-periods" in section
    assert main(["run", str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json"), "--json"]) == 0
    import json

    defaults = json.loads(capsys.readouterr().out)["defaults"]
    assert {"input": "erf_gateway_met", "default": "true", "assumed": 12, "of": 12} in defaults


def test_a_ratio_is_printed_once():
    from fractions import Fraction

    assert format_value(Fraction(19, 21), "ratio") == "0.9047619048"
