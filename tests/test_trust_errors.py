"""Internal errors that became placed messages: text no output can hold, literal chart labels,
solve on a non-number, standard output that cannot be written, a workbook on a full disk."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, POLICIES, run_cli

PACK = POLICIES / "2021_22"
WORKED = EXAMPLES / "erf_worked_example.json"


def _worked(tmp_path: Path, change) -> Path:
    document = json.loads(WORKED.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "d.json"
    path.write_text(json.dumps(document), encoding="utf-8")  # ensure_ascii: a lone surrogate stays an escape
    return path


@pytest.mark.parametrize("text", ["\ud800", "a\x00b", "\x1b[2J", "\uffff"])
@pytest.mark.parametrize("output", [(), ("--json",), ("--output", "x.csv"), ("--output", "x.xlsx"), ("--receipt", "r.json")])
def test_text_no_output_can_hold_is_refused_where_it_is_read(capsys, tmp_path, text, output):
    def rename(document):
        document["organisations"][0]["name"] = f"Trust {text}"

    data = _worked(tmp_path, rename)
    extra = [tmp_path / x if "." in x else x for x in output]
    code, out, err = run_cli(capsys, "run", PACK, "--data", data, *extra)
    assert code == 2, err
    assert "d.json" in err and "organisations" in err  # placed: the file and where in it
    assert not any(p.exists() for p in extra if isinstance(p, Path))


def test_a_report_takes_chart_labels_literally(capsys, tmp_path):
    def recode(document):
        old = document["organisations"][1]["code"]
        new = "$x^2$_\\$"
        document["organisations"][1]["code"] = new
        for by_org in document["inputs"].values():
            if old in by_org:
                by_org[new] = by_org.pop(old)

    target = tmp_path / "r.html"
    code, out, err = run_cli(capsys, "report", PACK, "--data", _worked(tmp_path, recode), "-o", target)
    assert code == 0, err
    assert "$x^2$_\\$" in target.read_text(encoding="utf-8")  # the code as written, not typeset


def test_solve_varies_numbers_only(capsys):
    code, out, err = run_cli(capsys, "solve", PACK, "--data", WORKED, "--vary", "erf_gateway_met for EXAMPLE2 in 2021-05",
                             "--until", "erf_additional_funding for EXAMPLE2 in 2021-05 = £1")
    assert code == 64 and "bool" in err and "solve varies numbers" in err


def _planlang(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "planlang", *map(str, args)], capture_output=False, timeout=120, **kwargs)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_standard_output_on_a_full_disk_is_one_line_and_exit_74():
    with open("/dev/full", "w") as full:
        done = _planlang("run", PACK, "--data", WORKED, stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 74
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_standard_output_closed_is_one_line_and_exit_74():
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -m planlang run "{PACK}" --data "{WORKED}" >&-'],
                          capture_output=False, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 74 and "Traceback" not in done.stderr


def test_a_workbook_on_a_full_disk_is_one_message_and_leaves_nothing(capsys, tmp_path, monkeypatch):
    import openpyxl.writer.excel as excel

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(excel.ExcelWriter, "write_data", full)
    target = tmp_path / "out.xlsx"
    code, out, err = run_cli(capsys, "run", PACK, "--data", WORKED, "--output", target)
    assert code == 2 and "No space left on device" in err and "Exception ignored" not in err
    assert list(tmp_path.iterdir()) == []


LONG = "a" * 300  # longer than any file name the system can look up (255 bytes)


@pytest.mark.parametrize("argv", [
    ["check", LONG], ["run", LONG, "--data", WORKED], ["run", PACK, "--data", f"{LONG}.json"],
    ["compare", PACK, "--data", WORKED, "--scenario", f"{LONG}.plan"], ["fmt", f"{LONG}.plan"], ["diff", PACK, LONG],
    ["deadlines", LONG], ["rules", LONG], ["test", LONG], ["check", PACK, "--sources", LONG],
])
def test_a_name_too_long_to_look_up_is_bad_input_not_an_internal_error(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code in (2, 64) and "File name too long" in err and LONG in err
