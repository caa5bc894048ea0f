"""The documentation is kept true: generated pages are up to date, every policy example compiles and
its tests pass, and every command shown with its output prints that output today.

Shown output may be cut with a line `...`: each piece between cuts must then appear, in order, the
first at the very start.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex

import pytest

from planlang.cli import main
from planlang.compiler import compile_sources
from planlang.diagnostics import format_diagnostic
from planlang.source import SourceFile
from planlang.testing import run_tests

from conftest import ROOT

DOCS = ROOT / "docs"


def test_policies_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_policies", DOCS / "make_policies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "policies.md").read_text(encoding="utf-8") == module.render(), \
        "run `python docs/make_policies.py` (make docs) and commit docs/policies.md"


@pytest.mark.parametrize("pack", sorted(p.name for p in (ROOT / "policies").iterdir() if p.is_dir()))
def test_each_packs_mutation_score_was_measured_on_the_pack_as_it_is(pack):
    from planlang.assurance.mutate import pack_digest
    from planlang.assurance.register import REGISTER_FILE, read_register
    from planlang.compiler import compile_pack

    directory = ROOT / "policies" / pack
    recorded = json.loads((directory / "mutation.json").read_text(encoding="utf-8"))
    now = pack_digest(compile_pack(directory), read_register(directory / REGISTER_FILE))
    assert recorded["digest"] == now, (f"policies/{pack} changed since its mutation score was measured: run "
                                       "`python docs/make_policies.py --measure` (make mutation, minutes) and commit "
                                       f"policies/{pack}/mutation.json and docs/policies.md")


def fenced(path, language: str | None = None) -> list[tuple[int, str]]:
    """(line, text) of every fenced block of ``language`` (any, when None) in a Markdown file."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M):
        if language is None or match.group(1) == language:
            blocks.append((text.count("\n", 0, match.start()) + 1, match.group(2)))
    return blocks


def shown(block: str) -> tuple[list[str], str]:
    """The command of a console block (``$ planlang ...``, continued lines joined) and its output."""
    lines = block.splitlines()
    command = lines.pop(0)
    while command.endswith("\\"):
        command = command[:-1] + lines.pop(0).strip()
    assert command.startswith("$ planlang "), command
    return shlex.split(command[2:])[1:], "\n".join(lines)


def printed(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    main(argv)
    out, err = capsys.readouterr()
    return (out + err).rstrip("\n")


def assert_abridged(actual: str, expected: str, where: str) -> None:
    """Each line shown, less a trailing `...`, begins a line of ``actual``, in order; lines may be left out."""
    lines = iter(actual.splitlines())
    for shown_line in expected.splitlines():
        start = shown_line.split("...")[0].rstrip()
        if not start.strip():
            continue
        assert any(line.startswith(start) for line in lines), f"{where}: not printed (in this order): {shown_line!r}"


def assert_shows(actual: str, expected: str, where: str) -> None:
    """``expected`` is ``actual``, or, cut with `...` lines, pieces of it in order from its start."""
    pieces = re.split(r"^\.\.\.$\n?", expected.rstrip("\n"), flags=re.M)
    if len(pieces) == 1:
        assert actual == expected.rstrip("\n"), f"{where}: the output shown is not what the command prints"
        return
    at = 0
    for k, piece in enumerate(p.strip("\n") for p in pieces):
        if not piece:
            continue
        found = actual.find(piece, at)
        assert found == at if k == 0 else found >= at, f"{where}: not printed (in this order):\n{piece}"
        at = found + len(piece)


# ---- the language reference: its examples are one pack ----------------------------------------

def _is_scenario(text: str) -> bool:
    return any(line.startswith("scenario ") for line in text.splitlines())


def test_language_reference_examples_compile_cleanly_and_their_tests_pass(tmp_path):
    blocks = fenced(DOCS / "language.md", "planlang")
    source = SourceFile("language.md.plan", "\n".join(text for _, text in blocks if not _is_scenario(text)))
    program, diagnostics = compile_sources([source])
    assert not diagnostics, "\n".join(format_diagnostic(d, {source.name: source}) for d in diagnostics)
    outcomes = run_tests(program)
    assert outcomes and all(o.passed for o in outcomes), [o.failures for o in outcomes if not o.passed]
    # the scenarios shown are checked against that pack, as `--scenario` would check them
    from planlang.data import make_dataset
    from planlang.plan import compile_plan
    from planlang.scenario import read_scenarios

    scenarios = [text for _, text in blocks if _is_scenario(text)]
    assert scenarios
    (tmp_path / "scenarios.plan").write_text("\n".join(scenarios), encoding="utf-8")
    found = read_scenarios(tmp_path / "scenarios.plan", compile_plan(program), make_dataset([], {}, {}, "none"))
    assert set(found) == {"may_at_70", "more_activity", "both", "no_top_band"}


# ---- the tutorial, followed step by step --------------------------------------------------------

TUTORIAL = DOCS / "tutorial.md"


def tutorial_blocks():
    plan = [(text.splitlines()[0], text) for _, text in fenced(TUTORIAL, "planlang")]
    console = [(line, *shown(text)) for line, text in fenced(TUTORIAL, "console")]
    edits = [text for _, text in fenced(TUTORIAL, "text")]
    data = [text for _, text in fenced(TUTORIAL, "json")]
    return plan, console, edits, data


@pytest.fixture
def tutorial(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "breakeven").mkdir()
    return tmp_path


def _write(folder, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_the_tutorial_shows_what_each_command_prints(tutorial, capsys, monkeypatch):
    # the tutorial is a user's first hour on a clone: no source documents pointed at (CI points at them)
    monkeypatch.delenv("PLANLANG_SOURCES", raising=False)
    plan, console, edits, data = tutorial_blocks()
    def one(starts: str, *, flag: bool | None = None) -> str:
        found = [t for first, t in plan if first.startswith(starts) and (flag is None or flag == ("flag reward_lost" in t))]
        assert len(found) == 1, f"one policy block of the tutorial starts {starts!r}"
        return found[0]

    header = one("# My first pack")
    first_rule, final_rule = one("# The breakeven", flag=False), one("# The breakeven", flag=True)
    tests, edge_tests = one("# Tests of the breakeven"), one('test "a deficit in 2020/21')
    pack = tutorial / "breakeven"
    _write(tutorial, "whatif.plan", one("# What if"))  # 12. scenarios live outside the pack
    json.loads(data[0])  # the data file shown is valid JSON
    _write(tutorial, "north.json", data[0])
    _write(pack, "policy.plan", header)

    # the steps of the tutorial, in order: the files as each command finds them
    line_26 = edits[0].rstrip("\n")
    assert line_26.startswith("  = control_total_2019_20 >= £0")
    first_fixed = "\n".join(line_26 if n == 26 else text for n, text in enumerate(first_rule.splitlines(), 1)) + "\n"
    misspelt = final_rule.replace("{outturn}", "{outtrun}")
    assert misspelt != final_rule
    states = [
        {"reward.plan": first_rule},                                   # 3. the first check finds two errors
        {"reward.plan": first_fixed},                                  # ... fixed, it checks clean
        {"reward.plan": first_fixed, "reward_tests.plan": tests},      # 4. a test finds the second mistake
        {"reward.plan": misspelt, "reward_tests.plan": tests},         # 5. the flag's message is misspelt
    ]
    final = {"reward.plan": final_rule, "reward_tests.plan": tests + "\n" + edge_tests}
    assert len(console) > len(states)
    for k, (line, argv, output) in enumerate(console):
        for name, text in (states[k] if k < len(states) else final).items():
            _write(pack, name, text)
        assert_shows(printed(capsys, argv), output, f"docs/tutorial.md:{line}")
    # the documents of "Audit a figure" are what the chapter says they are
    import openpyxl

    sheet = openpyxl.load_workbook(tutorial / "north.xlsx")["annual"]
    headings = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "RAC")
    note = row[headings.index("reward")].comment.text
    assert "input from" not in note and "north.json: inputs.outturn.RAC.2020/21" in note
    assert row[headings.index("reward")].hyperlink.location.startswith("Inputs!")
    assert "<details" in (tutorial / "north.html").read_text(encoding="utf-8")


# ---- the README -----------------------------------------------------------------------------------

def test_readme_explain_output_is_what_explain_prints(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = [(line, *shown(text)) for line, text in fenced(ROOT / "README.md") if text.startswith("$ planlang")]
    assert blocks
    for line, argv, output in blocks:  # the README abridges: lines left out, long lines cut with ...
        assert_abridged(printed(capsys, argv), output, f"README.md:{line}")
