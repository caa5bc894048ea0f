"""Golden files for the audit outputs: each command's output checked whole against a reviewed file.

To accept a deliberate change, run ``PLANLANG_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_outputs.py``
and review ``git diff tests/golden/outputs``.
"""

from __future__ import annotations

import os

import openpyxl
import pytest

from planlang.cli import main

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "outputs"
UPDATE = os.environ.get("PLANLANG_UPDATE_GOLDEN") == "1"
ERF = ["policies/2021_22", "--data", "examples/erf_worked_example.json"]
FRF = ["policies/2020_21", "--data", "examples/2020_21.xlsx"]


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no {path.name}; run with PLANLANG_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # paths in outputs are shown as given


@pytest.mark.parametrize("name, argv", [
    ("explain_frf_pdc_conversion_depth_2.txt",
     ["explain", *FRF, "--entity", "TRUST_A1", "--period", "2020/21", "--depth", "2", "frf_pdc_conversion"]),
    ("explain_arbitration_flag.txt",
     ["explain", *FRF, "--entity", "TRUST_B1", "--period", "2020/21", "arbitration_panel_outside_window"]),
    ("run_erf_only_example2.txt",
     ["run", *ERF, "--only", "erf_lower_threshold", "erf_additional_funding", "--entity", "EXAMPLE2"]),
])
def test_command_output(name, argv, capsys):
    capsys.readouterr()
    assert main(argv) == 0
    _golden(name, capsys.readouterr().out)


def test_csv_of_the_erf_worked_example(tmp_path, capsys):
    target = tmp_path / "erf.csv"
    assert main(["run", *ERF, "--output", str(target), "--only", "erf_lower_threshold", "erf_upper_threshold",
                 "erf_additional_funding"]) == 0
    _golden("erf_worked_example.csv", target.read_text(encoding="utf-8"))


def test_note_of_one_figure(tmp_path):
    target = tmp_path / "erf.xlsx"
    assert main(["run", *ERF, "--output", str(target)]) == 0
    sheet = openpyxl.load_workbook(target)["monthly"]
    headings = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if (r[0].value, r[2].value) == ("EXAMPLE1", "2021-05"))
    _golden("note_erf_additional_funding_EXAMPLE1_2021-05.txt",
            row[headings.index("erf_additional_funding")].comment.text + "\n")
