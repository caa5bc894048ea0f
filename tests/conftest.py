"""Shared fixtures: the repository's folders, the golden-file check, a helper to compile policy text and one to run the command line."""

from __future__ import annotations

import difflib
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from planlang.cli import main
from planlang.compiler import compile_pack, compile_sources
from planlang.data import load_data
from planlang.diagnostics import format_diagnostic
from planlang.run import evaluate
from planlang.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"

# What some tests need beyond the repository, and what to do when it is not there. A user's clone has
# neither: those tests skip, and the run ends with one line for each saying what to install or
# point at. CI sets PLANLANG_TEST_REQUIRE=1 (.ci/run), under which their absence fails instead, so
# CI can never pass by skipping them.
REQUIRE = os.environ.get("PLANLANG_TEST_REQUIRE") == "1"
SOURCES_HINT = ("the guidance documents the packs cite are not here: set PLANLANG_SOURCES to their folder "
                "(the repository's CI keeps them in ../shared/seeds)")
BROWSER_HINT = ("no Chromium to test the HTML report in: install Debian's chromium package "
                "(apt-get install chromium) or set PLANLANG_CHROMIUM to a Chromium binary")


def sources_folder() -> Path | None:
    """The folder of source documents: the first of PLANLANG_SOURCES holding any, else ../shared/seeds."""
    candidates = [Path(p) for p in os.environ.get("PLANLANG_SOURCES", "").split(os.pathsep) if p]
    for folder in [*candidates, ROOT.parent / "shared" / "seeds"]:
        if folder.is_dir() and any(folder.glob("*.txt")):
            return folder
    return None


def chromium() -> str | None:
    """The Chromium binary to drive: PLANLANG_CHROMIUM, else ``chromium`` on the PATH, else Debian's."""
    found = os.environ.get("PLANLANG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if os.path.isfile(found) and os.access(found, os.X_OK) else None


def _unavailable(hint: str):
    if REQUIRE:
        pytest.fail(f"PLANLANG_TEST_REQUIRE=1 and {hint}", pytrace=False)
    pytest.skip(hint)


def need_sources() -> Path:
    """The source documents' folder, or skip (fail under PLANLANG_TEST_REQUIRE=1) saying how to provide it."""
    return sources_folder() or _unavailable(SOURCES_HINT)


def need_chromium() -> str:
    """The Chromium binary, or skip (fail under PLANLANG_TEST_REQUIRE=1) saying how to install it."""
    return chromium() or _unavailable(BROWSER_HINT)


# ---- golden files ----
# Every golden test checks its output through the `golden` fixture: one rule for comparing, one flag
# to accept new output (`--update-goldens`, or PLANLANG_UPDATE_GOLDEN=1 as before), and on a
# mismatch the file named and the difference shown, to be reviewed as a diff.
UPDATE_GOLDENS = "--update-goldens"
_DIFF_LINES = 200  # a mismatch shows at most this many lines of its diff


def pytest_addoption(parser):
    parser.addoption(UPDATE_GOLDENS, action="store_true", default=False,
                     help="rewrite the golden files the tests compare with (also PLANLANG_UPDATE_GOLDEN=1); review with git diff")


class Golden:
    """Compares an output with its golden file, or rewrites the file when updating."""

    def __init__(self, updating: bool):
        self.updating = updating

    def check(self, path: Path, actual: str) -> None:
        """``actual`` must be the text of ``path``; when updating, it becomes it."""
        if self.updating:
            path.write_text(actual, encoding="utf-8")
            return
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        if not path.exists():
            pytest.fail(f"no golden file {shown}; run with {UPDATE_GOLDENS} (or PLANLANG_UPDATE_GOLDEN=1) to create it, "
                        "then review it", pytrace=False)
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = list(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                             f"{shown} (golden)", f"{shown} (this run)"))
            shown_diff = "".join(line if line.endswith("\n") else line + "\n\\ no newline at end\n"
                                 for line in diff[:_DIFF_LINES])
            more = f"... and {len(diff) - _DIFF_LINES} more lines of diff\n" if len(diff) > _DIFF_LINES else ""
            pytest.fail(f"the output differs from the golden file {shown}; if the change is meant, rerun with "
                        f"{UPDATE_GOLDENS} (or PLANLANG_UPDATE_GOLDEN=1) and review `git diff`\n{shown_diff}{more}",
                        pytrace=False)


@pytest.fixture(scope="session")
def golden(pytestconfig) -> Golden:
    """``golden.check(path, actual)``: the one way a test compares an output with its golden file."""
    return Golden(pytestconfig.getoption(UPDATE_GOLDENS) or os.environ.get("PLANLANG_UPDATE_GOLDEN") == "1")


def pytest_terminal_summary(terminalreporter):
    """One line per missing component, however many tests it skipped."""
    skipped = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for hint in (SOURCES_HINT, BROWSER_HINT):
            if hint in reason:
                skipped[hint] += 1
    for hint, count in skipped.items():
        terminalreporter.write_line(f"planlang: {count} test{'s' * (count != 1)} skipped: {hint}")


HEADER = '''policy "test pack" for 2021/22
source "s.txt" "A source"
'''


def compile_text(text: str, *, header: bool = True):
    """Compile one policy file's text; returns (program or None, diagnostics)."""
    source = SourceFile("t.plan", (HEADER if header else "") + text)
    return compile_sources([source])


def render(diagnostics, text: str, *, header: bool = True) -> str:
    source = SourceFile("t.plan", (HEADER if header else "") + text)
    return "\n".join(format_diagnostic(d, {"t.plan": source}) for d in diagnostics)


@pytest.fixture(scope="module")
def frf_run():
    """The 2020/21 pack run on its example workbook (the FRF, by quarter)."""
    program = compile_pack(POLICIES / "2020_21")
    return evaluate(program, load_data(EXAMPLES / "2020_21.xlsx", program))


@pytest.fixture(scope="module")
def erf_run():
    """The 2021/22 pack run on the published ERF worked example."""
    program = compile_pack(POLICIES / "2021_22")
    return evaluate(program, load_data(EXAMPLES / "erf_worked_example.json", program))


@pytest.fixture
def compile_policy():
    def compile_(text: str):
        program, diagnostics = compile_text(text)
        assert program is not None, render(diagnostics, text)
        return program

    return compile_


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``planlang ARGV``, which never shows a traceback."""
    capsys.readouterr()
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, out, err
