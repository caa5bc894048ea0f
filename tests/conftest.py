"""Shared fixtures: the repository's folders, a helper to compile policy text and one to run the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from planlang.cli import main
from planlang.compiler import compile_sources
from planlang.diagnostics import format_diagnostic
from planlang.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"

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
