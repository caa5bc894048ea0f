"""Golden tests of hostile input: what planlang prints for a policy or data file built to mislead it.

``tests/golden/hostile/policy/<case>.plan`` is a policy file (holding, on purpose, control, line-breaking
and bidirectional characters, over-long numbers, dates beyond the calendar ...) and ``<case>.expected``
the exact output of ``planlang check .`` in a folder holding only it. ``tests/golden/hostile/data/<case>.json``
is a data file and ``<case>.expected`` the exit code and standard error of ``planlang run policies/2021_22
--data <case>.json``. Every case must end in a placed error: never a traceback, never "internal error",
and nothing on the terminal that is not printable.

Regenerate with ``.venv/bin/pytest tests/test_hostile_golden.py --update-goldens`` and review
``git diff tests/golden/hostile``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from planlang.cli import main
from planlang.source import UNSAFE

from conftest import POLICIES

GOLDEN = Path(__file__).resolve().parent / "golden" / "hostile"
POLICY_CASES = sorted(path.stem for path in (GOLDEN / "policy").glob("*.plan"))
DATA_CASES = sorted(path.stem for path in (GOLDEN / "data").glob("*.json"))
PLACED = re.compile(r"^\S+\.plan:\d+:\d+: error: ", re.MULTILINE)


def _safe_for_a_terminal(text: str) -> None:
    assert "Traceback" not in text and "internal error" not in text
    assert not [m[0] for m in UNSAFE.finditer(text) if m[0] != "\n"], "an unsafe character reached the terminal"


@pytest.mark.parametrize("case", POLICY_CASES)
def test_hostile_policy(case, tmp_path, monkeypatch, capsys, golden):
    shutil.copyfile(GOLDEN / "policy" / f"{case}.plan", tmp_path / f"{case}.plan")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["check", "."])
    out, err = capsys.readouterr()
    _safe_for_a_terminal(out + err)
    assert code == 1 and err == ""
    assert PLACED.search(out), "every case is a placed error"
    golden.check(GOLDEN / "policy" / f"{case}.expected", out)


@pytest.mark.parametrize("case", DATA_CASES)
def test_hostile_data(case, tmp_path, monkeypatch, capsys, golden):
    shutil.copyfile(GOLDEN / "data" / f"{case}.json", tmp_path / f"{case}.json")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    code = main(["run", str(POLICIES / "2021_22"), "--data", f"{case}.json"])
    out, err = capsys.readouterr()
    _safe_for_a_terminal(out + err)
    assert code == 2 and out == ""
    first = err.splitlines()[0]
    # the place: a JSON path after the file name, or the file's line and column
    assert re.match(rf"planlang: error: {case}\.json(: \S|:\d+:\d+: )", first), first
    golden.check(GOLDEN / "data" / f"{case}.expected", f"exit {code}\n{err}")


def test_there_is_a_case_for_each_class():
    assert len(POLICY_CASES) >= 15 and len(DATA_CASES) >= 20
    stale = sorted(p.name for folder in ("policy", "data") for p in (GOLDEN / folder).glob("*.expected")
                   if p.stem not in (POLICY_CASES if folder == "policy" else DATA_CASES))
    assert stale == []
