"""Trust, third pass, class 6: no input makes planlang do outsized work.

Each test here failed before its fix: a diamond of `based on` took time doubling with each level,
a long chain of them overflowed Python's stack, a quoted text cost ~800 bytes of memory per
character, millions of parentheses were parsed for minutes and then accepted, and `compare` ran
any number of scenarios and kept them all.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import signal
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import pytest

from planlang.cli import main
from planlang.compare import MAX_COMPARED
from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.parser import MAX_NESTING, parse_setting, parse_source
from planlang.periods import parse_period
from planlang.plan import compile_plan
from planlang.run import run
from planlang.scenario import MAX_BASES, ScenarioError, read_scenarios
from planlang.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
ERF = ROOT / "policies" / "2021_22"
WORKED = ROOT / "examples" / "erf_worked_example.json"
MAY = parse_period("2021-05")


@pytest.fixture(scope="module")
def erf():
    program = compile_pack(ERF)
    return compile_plan(program), load_data(WORKED, program)


@contextlib.contextmanager
def within(seconds: int):
    """Fail (rather than hang the suite) when the block runs longer than ``seconds``."""
    def expire(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---- based on -----------------------------------------------------------------------------------

def _diamond(levels: int) -> str:
    """a0, b0; then at each level k, ak and bk are both based on a(k-1) and b(k-1): 2**k paths to a0."""
    lines = ["scenario a0", "  set erf_rate_above_upper = 100%", "scenario b0", "  set erf_rate_above_upper = 101%"]
    for k in range(1, levels + 1):
        for name in ("a", "b"):
            lines += [f"scenario {name}{k}", f"  based on a{k - 1}, b{k - 1}", f"  set erf_rate_above_upper = {100 + k}%"]
    return "\n".join(lines) + "\n"


def test_a_diamond_of_based_on_is_read_once_per_scenario(tmp_path, erf):
    plan, data = erf
    levels = 40  # 2**40 paths: followed one by one, years
    (tmp_path / "diamond.plan").write_text(_diamond(levels))
    with within(30):
        scenarios = read_scenarios(tmp_path / "diamond.plan", plan, data)
    top = scenarios[f"a{levels}"]
    assert len(top.based_on) == 2 * levels == len(set(top.based_on))
    place = {name: k for k, name in enumerate(top.based_on)}
    for k in range(1, levels):  # every scenario comes after those it builds on
        assert place[f"a{k - 1}"] < place[f"a{k}"] and place[f"b{k - 1}"] < place[f"b{k}"]
    assert len(top.settings) == 2 * levels + 1
    assert top.settings[-1].value.value == Fraction(100 + levels, 100)  # its own setting last: it wins


def test_a_chain_longer_than_the_limit_is_one_placed_error_not_a_stack_overflow(tmp_path, erf):
    plan, data = erf
    count = 5_000  # deeper than Python's default stack of 1,000 frames
    lines = [f"scenario s{k}\n  based on s{k - 1}\n" for k in range(count - 1, 0, -1)] + ["scenario s0\n"]
    (tmp_path / "chain.plan").write_text("".join(lines))
    with within(30), pytest.raises(ScenarioError) as raised:
        read_scenarios(tmp_path / "chain.plan", plan, data)
    [error] = raised.value.diagnostics
    too_far = MAX_BASES + 1  # s101 builds on s0 to s100
    assert error.message == f"`s{too_far}` builds on more than {MAX_BASES:,} scenarios, more than planlang follows"
    assert (error.span.line, error.span.column) == (2 * (count - 1 - too_far) + 2, 12)


def test_a_chain_at_the_limit_is_read(tmp_path, erf):
    plan, data = erf
    lines = ["scenario s0\n"] + [f"scenario s{k}\n  based on s{k - 1}\n" for k in range(1, MAX_BASES + 1)]
    (tmp_path / "chain.plan").write_text("".join(lines))
    scenarios = read_scenarios(tmp_path / "chain.plan", plan, data)
    assert scenarios[f"s{MAX_BASES}"].based_on == tuple(f"s{k}" for k in range(MAX_BASES))


def test_a_cycle_off_the_path_is_reported_once_per_scenario_on_it(tmp_path, erf):
    plan, data = erf
    # c and d build on the cycle a -> b -> a; only a and b are wrong, and each is said once
    (tmp_path / "cycle.plan").write_text("scenario c\n  based on a\nscenario a\n  based on b\n"
                                         "scenario b\n  based on a\nscenario d\n  based on b, c\n")
    with pytest.raises(ScenarioError) as raised:
        read_scenarios(tmp_path / "cycle.plan", plan, data)
    messages = sorted(d.message for d in raised.value.diagnostics)
    assert messages == ["circular `based on`: a -> b -> a", "circular `based on`: b -> a -> b"]


# ---- quoted texts -------------------------------------------------------------------------------

def _parsed_with_peak(text: str):
    """(the parsed tree, its errors, the peak bytes allocated while parsing ``text``)."""
    tracemalloc.start()
    try:
        tree, errors = parse_source(SourceFile("big.plan", text))
        return tree, errors, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_quoted_text_costs_memory_in_proportion(tmp_path):
    size = 1_000_000
    tree, errors, peak = _parsed_with_peak(f'input x : money\n  "{"a" * (size // 2)}\\"{"b" * (size // 2)}"\n  per trust\n')
    assert errors == [] and len(tree.declarations[0].description) == size + 1
    assert peak < 50 * size, f"{peak / size:.0f} bytes per character"


def test_a_text_of_escapes_costs_memory_in_proportion():
    size = 1_000_000
    tree, errors, peak = _parsed_with_peak(f'input x : money\n  "{chr(92) * size}"\n  per trust\n')  # 500,000 escaped backslashes
    assert errors == [] and tree.declarations[0].description == chr(92) * (size // 2)
    assert peak < 50 * size, f"{peak / size:.0f} bytes per character"


# ---- parentheses --------------------------------------------------------------------------------

def _parenthesised(depth: int) -> str:
    return "(" * depth + "1" + ")" * depth


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 2_000_000])
def test_parentheses_past_the_limit_are_refused_where_they_open_before_parsing(depth):
    source = SourceFile("deep.plan", f"define x : number\n  # ((((( in a comment, and in a text: \"(((\"\n  = {_parenthesised(depth)}\n")
    started = time.perf_counter()
    tree, errors = parse_source(source)
    assert time.perf_counter() - started < 5  # Lark took a minute over two million, and accepted them
    [error] = errors
    assert error.message == f"this expression nests more than {MAX_NESTING:,} levels deep, more than planlang follows"
    assert (error.span.line, error.span.column) == (3, 5 + MAX_NESTING)  # `  = ` then the 10,001st `(`


def test_parentheses_at_the_limit_are_read():
    tree, errors = parse_source(SourceFile("deep.plan", f"define x : number\n  = {_parenthesised(MAX_NESTING)}\n"))
    assert errors == [] and tree.declarations[0].value.value == 1


def test_a_set_option_is_held_to_the_same_limit():
    clause, errors = parse_setting(SourceFile("--set", f"erf_rate_above_upper = {_parenthesised(MAX_NESTING + 1)}"))
    assert clause is None and [(e.span.line, e.span.column) for e in errors] == [(1, 24 + MAX_NESTING)]
    clause, errors = parse_setting(SourceFile("--set", f"erf_rate_above_upper = {_parenthesised(MAX_NESTING)}"))
    assert errors == [] and clause is not None


# ---- compare ------------------------------------------------------------------------------------

def test_compare_refuses_more_scenarios_than_it_runs_at_once(tmp_path, capsys):
    scenarios = tmp_path / "many.plan"
    scenarios.write_text("".join(f"scenario s{k}\n  set erf_rate_above_upper = {100 + k}%\n" for k in range(MAX_COMPARED + 1)))
    code = main(["compare", str(ERF), "--data", str(WORKED), "--scenario", str(scenarios)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert f"--scenario: names {MAX_COMPARED + 1:,} scenarios, more than the {MAX_COMPARED:,} compare runs at once" in err


# ---- class 3: a setting is shown as it runs -----------------------------------------------------

CONTINUED = """scenario doubled
  set erf_rate_above_upper = 110% # unchanged from the guidance
    * 2
"""
SHOWN = "set erf_rate_above_upper = 110% * 2"  # the comment is not part of the value; the `* 2` is


@pytest.fixture()
def continued(tmp_path):
    path = tmp_path / "continued.plan"
    path.write_text(CONTINUED)
    return path


def test_a_setting_after_a_comment_applies_and_is_shown_as_it_runs(continued, erf):
    plan, data = erf
    scenario = read_scenarios(continued, plan, data)["doubled"]
    [setting] = scenario.settings
    assert setting.text == SHOWN
    assert run(plan, data, scenario).get("erf_rate_above_upper", None, MAY) == Fraction(220, 100)


@pytest.mark.parametrize("command, extra", [("run", ()), ("compare", ()), ("compare", ("--json",))])
def test_run_and_compare_show_the_setting_as_it_runs(continued, capsys, command, extra):
    code = main([command, str(ERF), "--data", str(WORKED), "--scenario", f"{continued}:doubled",
                 "--only", "erf_additional_funding", *extra])
    out, _ = capsys.readouterr()
    assert code == 0 and "unchanged from the" not in out
    assert SHOWN in (json.loads(out)["scenarios"][0]["sets"] if extra else out)


def test_the_report_shows_the_setting_as_it_runs(continued, tmp_path, capsys):
    target = tmp_path / "report.html"
    assert main(["report", str(ERF), "--data", str(WORKED), "--scenario", f"{continued}:doubled", "-o", str(target)]) == 0
    text = html.unescape(re.sub(r"<[^>]+>", " ", target.read_text(encoding="utf-8")))
    assert SHOWN in text and "unchanged from the guidance" not in text


def test_a_receipt_records_a_set_option_as_it_runs_and_verify_replays_it(tmp_path, capsys):
    receipt = tmp_path / "receipt.json"
    option = "erf_rate_above_upper   =  110%*2"
    assert main(["run", str(ERF), "--data", str(WORKED), "--set", option, "--receipt", str(receipt)]) == 0
    assert json.loads(receipt.read_text())["scenario"]["sets"] == ["erf_rate_above_upper = 110% * 2"]
    capsys.readouterr()
    assert main(["verify", str(receipt)]) == 0
