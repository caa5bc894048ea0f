"""Golden files for the audit outputs: each command's output checked whole against a reviewed file.

To accept a deliberate change, run ``.venv/bin/pytest tests/test_audit_golden.py --update-goldens``
and review ``git diff tests/golden/outputs``.
"""

from __future__ import annotations

import openpyxl
import pytest

from planlang.cli import main

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden" / "outputs"
ERF = ["policies/2021_22", "--data", "examples/erf_worked_example.json"]
FRF = ["policies/2020_21", "--data", "examples/2020_21.xlsx"]


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
def test_command_output(name, argv, capsys, golden):
    capsys.readouterr()
    assert main(argv) == 0
    golden.check(GOLDEN / name, capsys.readouterr().out)


def test_csv_of_the_erf_worked_example(tmp_path, capsys, golden):
    target = tmp_path / "erf.csv"
    assert main(["run", *ERF, "--output", str(target), "--only", "erf_lower_threshold", "erf_upper_threshold",
                 "erf_additional_funding"]) == 0
    golden.check(GOLDEN / "erf_worked_example.csv", target.read_text(encoding="utf-8"))


def test_note_of_one_figure(tmp_path, golden):
    target = tmp_path / "erf.xlsx"
    assert main(["run", *ERF, "--output", str(target)]) == 0
    sheet = openpyxl.load_workbook(target)["monthly"]
    headings = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if (r[0].value, r[2].value) == ("EXAMPLE1", "2021-05"))
    golden.check(GOLDEN / "note_erf_additional_funding_EXAMPLE1_2021-05.txt",
                 row[headings.index("erf_additional_funding")].comment.text + "\n")
