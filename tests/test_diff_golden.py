"""Golden outputs of `planlang diff`: two small packs with every kind of change, and what diff prints.

`tests/diff_golden/old` and `new` differ by a schedule entry, an amendment, a rename (and a
definition that only follows it), a changed formula with a moved citation and a new
interpretation, an added parameter, a removed flag and a retitled source. Regenerate with
``--update-goldens`` (or ``PLANLANG_UPDATE_GOLDEN=1``) and review the diff.
"""

from __future__ import annotations

import json

import pytest

from planlang.cli import main

from conftest import ROOT

HERE = ROOT / "tests" / "diff_golden"
FORMS = {"expected.txt": [], "expected.md": ["--markdown"], "expected.json": ["--json"]}


@pytest.mark.parametrize("expected", FORMS)
def test_diff_prints_what_was_reviewed(expected, capsys, monkeypatch, golden):
    monkeypatch.chdir(HERE)  # file names in the output are relative to where diff runs
    capsys.readouterr()
    assert main(["diff", "old", "new", *FORMS[expected]]) == 0
    out = capsys.readouterr().out
    if expected.endswith(".json"):
        json.loads(out)
    golden.check(HERE / expected, out)
