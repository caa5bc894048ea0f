"""Issue 16, class 2 and part of class 10: what planlang writes never replaces what it reads, a device, a
link or another output; an interrupted write leaves no temporary file; CSV and workbooks are safe and
the same from run to run."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from planlang.audit.csvfile import guard_formula

from conftest import EXAMPLES, POLICIES, ROOT, run_cli

ERF = POLICIES / "2021_22"
WORKED = EXAMPLES / "erf_worked_example.json"
FRF = POLICIES / "2020_21"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path):
    """Copies of a pack and of JSON, CSV and workbook data, so that no test can harm the repository's."""
    shutil.copytree(ERF, tmp_path / "pack")
    shutil.copytree(FRF, tmp_path / "frf")
    shutil.copy(WORKED, tmp_path / "d.json")
    shutil.copy(EXAMPLES / "2020_21.xlsx", tmp_path / "d.xlsx")
    (tmp_path / "d.csv").write_text("code,period,input,value\nS1,2021-04,erf_actual,1000\n", encoding="utf-8")
    (tmp_path / "d.organisations.csv").write_text("code,name,kind,system\nS1,North,system,\n", encoding="utf-8")
    (tmp_path / "s.plan").write_text("scenario s\n  set erf_rate_above_upper = 130%\n", encoding="utf-8")
    os.link(tmp_path / "pack" / "erf.plan", tmp_path / "erf_hard.html")
    (tmp_path / "erf_link.csv").symlink_to(tmp_path / "pack" / "erf.plan")
    return tmp_path


SWEEP = ["--vary", "erf_rate_above_upper = 100% to 110% step 10%", "--output", "erf_additional_funding"]

# (command line, what the refusal says); paths are relative to the `files` folder
CLASHES = [
    (["run", "pack", "--data", "d.json", "--receipt", "d.json"], "--receipt d.json: is the same file as --data d.json"),
    (["run", "pack", "--data", "d.csv", "--output", "d.csv"], "--output d.csv: is the same file as --data d.csv"),
    (["run", "pack", "--data", "d.csv", "--output", "./d.organisations.csv"],
     "--output ./d.organisations.csv: is the same file as the file read beside --data d.organisations.csv"),
    (["run", "pack", "--data", "d.json", "--output", "erf_link.csv"],
     "--output erf_link.csv: is the same file as the policy file pack/erf.plan"),
    (["run", "pack", "--data", "d.json", "--output", "r.csv", "--receipt", "r.csv"],
     "--receipt r.csv: is the same file as --output r.csv, which the command also writes"),
    (["run", "pack", "--data", "d.json", "--scenario", "s.plan", "--receipt", "s.plan"],
     "--receipt s.plan: is the same file as the scenario file s.plan"),
    (["compare", "frf", "--data", "d.xlsx", "--set", "frf_taper_rate = 50%", "--output", "d.xlsx"],
     "--output d.xlsx: is the same file as --data d.xlsx"),
    (["compare", "pack", "--data", "d.json", "--scenario", "s.plan", "--output", "c.xlsx", "--receipt", "c.xlsx"],
     "--receipt c.xlsx: is the same file as --output c.xlsx"),
    (["sweep", "pack", "--data", "d.csv", *SWEEP, "--out", "d.csv"], "--out d.csv: is the same file as --data d.csv"),
    (["report", "pack", "--data", "d.json", "-o", "erf_hard.html"],
     "--output erf_hard.html: is the same file as the policy file pack/erf.plan"),
    (["report", "pack", "--data", "d.json", "-o", "r.html", "--receipt", "r.html"],
     "--receipt r.html: is the same file as --output r.html"),
    (["explain", "pack", "--data", "d.json", "--entity", "EXAMPLE2", "--period", "2021-05", "--all",
      "--html", "erf_hard.html"], "--html erf_hard.html: is the same file as the policy file pack/erf.plan"),
]


@pytest.mark.parametrize("argv, refusal", CLASHES, ids=[" ".join(c[0]) for c in CLASHES])
def test_an_output_that_is_an_input_or_another_output_is_refused(files, capsys, monkeypatch, argv, refusal):
    monkeypatch.chdir(files)
    before = {p: digest(p) for p in files.rglob("*") if p.is_file()}
    code, _, err = run_cli(capsys, *argv)
    assert code == 64 and refusal in err, err
    assert {p: digest(p) for p in files.rglob("*") if p.is_file()} == before  # nothing written, nothing changed
    assert not list(files.rglob("*.tmp"))


def test_outputs_to_a_new_name_are_still_written(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    code, _, err = run_cli(capsys, "run", "pack", "--data", "d.csv", "--output", "out.csv", "--receipt", "r.json")
    assert code == 0, err
    assert (files / "out.csv").is_file() and json.loads((files / "r.json").read_text(encoding="utf-8"))["format"]


# ---- devices, pipes and links ------------------------------------------------------------------

def read_in_background(path: Path) -> tuple[threading.Thread, list[bytes]]:
    """A reader of the named pipe ``path``, as a shell's `cat` would be."""
    got: list[bytes] = []

    def read():
        with open(path, "rb") as handle:
            got.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader, got


@pytest.mark.parametrize("through_link", [False, True])
def test_a_receipt_is_written_into_a_named_pipe_which_stays_one(tmp_path, capsys, through_link):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    target = fifo
    if through_link:
        target = tmp_path / "link.json"
        target.symlink_to(fifo)
    reader, got = read_in_background(fifo)
    code, _, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--receipt", target)
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert target.is_symlink() == through_link
    assert json.loads(got[0])["format"].startswith("planlang receipt")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({fifo.name, target.name})


def test_a_workbook_opens_its_target_write_only(tmp_path, monkeypatch):
    """A workbook is written through one write-only open of its target.

    zipfile, given a path, opened it read-write first: on a named pipe that open hands a reader
    already waiting an end of file (it was a writer that came and went), and the write-only open
    that follows then waits for a reader forever. A CI run hung there once.
    """
    from openpyxl import Workbook

    from planlang.xlsxfile import save_workbook

    target = tmp_path / "out.xlsx"
    opened = []
    real_open = io.open

    def recording_open(file, mode="r", *args, **kwargs):
        opened.append((os.fspath(file) if isinstance(file, (str, os.PathLike)) else file, mode))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", recording_open)
    save_workbook(Workbook(), str(target))
    assert [mode for file, mode in opened if file == str(target)] == []  # zipfile was handed a stream
    assert "xl/workbook.xml" in zipfile.ZipFile(target).namelist()


def test_a_workbook_reaches_a_reader_already_waiting_on_the_pipe(tmp_path):
    """`cat out.xlsx & planlang run … --output out.xlsx`: the reader opens first and waits."""
    fifo = tmp_path / "out.xlsx"
    os.mkfifo(fifo)
    reader, got = read_in_background(fifo)
    time.sleep(0.2)  # the reader is now waiting in open(), as a shell's `cat` started first would be
    done = subprocess.run([sys.executable, "-m", "planlang", "run", str(ERF), "--data", str(WORKED), "--output", str(fifo)],
                          capture_output=True, timeout=120)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(got[0])).namelist()


@pytest.mark.parametrize("argv, suffix", [
    (["run", ERF, "--data", WORKED, "--output"], ".xlsx"),
    (["run", ERF, "--data", WORKED, "--output"], ".csv"),
    (["sweep", ERF, "--data", WORKED, *SWEEP, "--out"], ".csv"),
    (["sweep", ERF, "--data", WORKED, *SWEEP, "--out"], ".parquet"),
])
def test_every_kind_of_output_streams_into_a_pipe(tmp_path, capsys, argv, suffix):
    fifo = tmp_path / f"out{suffix}"
    os.mkfifo(fifo)
    reader, got = read_in_background(fifo)
    code, _, err = run_cli(capsys, *argv, fifo)
    reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and list(tmp_path.iterdir()) == [fifo]
    if suffix == ".xlsx":
        assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(got[0])).namelist()
    elif suffix == ".csv":
        assert next(csv.reader(io.StringIO(got[0].decode("utf-8"))))[0] in ("output", "step")
    else:
        assert got[0][:4] == b"PAR1"


def test_a_link_to_dev_null_is_kept_and_dev_null_stays_a_device(tmp_path, capsys):
    link = tmp_path / "null.json"
    link.symlink_to(os.devnull)
    code, _, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--receipt", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == os.devnull
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert list(tmp_path.iterdir()) == [link]


def test_a_link_to_a_regular_file_replaces_the_file_and_keeps_the_link(tmp_path, capsys):
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("old", encoding="utf-8")
    link.symlink_to(real)
    code, _, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--receipt", link)
    assert code == 0, err
    assert link.is_symlink() and json.loads(real.read_text(encoding="utf-8"))["format"].startswith("planlang receipt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_folder_is_not_an_output(tmp_path, capsys):
    folder = tmp_path / "r.json"
    folder.mkdir()
    code, _, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--receipt", folder)
    assert code == 2 and f"{folder}: is a folder" in err
    assert folder.is_dir() and list(tmp_path.iterdir()) == [folder]


# ---- an interrupted write ----------------------------------------------------------------------

# the workbook writer stops half-way (some bytes written) and the process is sent a signal
INTERRUPTED = """
import os, signal, sys, time
import planlang.files as excel
from planlang.cli import main

def save(book, path):
    with open(path, "wb") as handle:
        handle.write(b"half a workbook")
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(60)

excel.save_workbook = save
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("signal_name, status", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_during_a_write_leaves_no_temporary_file(tmp_path, signal_name, status):
    target = tmp_path / "x.xlsx"
    child = subprocess.run([sys.executable, "-c", INTERRUPTED, signal_name, "run", str(ERF), "--data", str(WORKED),
                            "--output", str(target)], cwd=ROOT, capture_output=True, timeout=120)
    assert child.returncode == status, child.stderr
    assert child.stderr == b""
    assert list(tmp_path.iterdir()) == []  # neither x.xlsx nor .x.xlsx.….tmp


# ---- CSV formula injection ---------------------------------------------------------------------

@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_text_a_spreadsheet_could_run_is_guarded(start):
    assert guard_formula(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert guard_formula(f"x{start}1") == f"x{start}1"


def test_an_organisation_name_starting_with_a_line_break_is_guarded_in_csv(tmp_path, capsys):
    data = json.loads(WORKED.read_text(encoding="utf-8"))
    names = ["\n=1+1", "\n@SUM(1)", "North"]  # spaces and tabs around a name are trimmed as it is read; a newline is kept
    for organisation, name in zip(data["organisations"], names):
        organisation["name"] = name
    (tmp_path / "d.json").write_text(json.dumps(data), encoding="utf-8")
    code, _, err = run_cli(capsys, "run", ERF, "--data", tmp_path / "d.json", "--output", tmp_path / "r.csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"), newline="")))
    written = {row["organisation"] for row in rows}
    assert written == {"'\n=1+1", "'\n@SUM(1)", "North"}


# ---- workbooks the same from run to run --------------------------------------------------------

def stamps(path: Path) -> tuple[set, bytes]:
    with zipfile.ZipFile(path) as book:
        return {info.date_time for info in book.infolist()}, book.read("docProps/core.xml")


@pytest.mark.parametrize("argv", [
    ["run", ERF, "--data", WORKED, "--output"],
    ["compare", ERF, "--data", WORKED, "--set", "erf_rate_above_upper = 130%", "--output"],
])
def test_the_same_workbook_is_the_same_bytes(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    assert run_cli(capsys, *argv, first)[0] == 0
    assert run_cli(capsys, *argv, second)[0] == 0
    times, core = stamps(first)
    assert times == {(1980, 1, 1, 0, 0, 0)}
    assert b"<dcterms:created" in core and core.count(b"1980-01-01T00:00:00Z") == 2
    assert first.read_bytes() == second.read_bytes()


def test_a_data_workbook_is_the_same_bytes(tmp_path, monkeypatch):
    from planlang.data import Organisation, write_workbook

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    organisations = [Organisation("S1", "North", "system", None)]
    rows = {"monthly": [{"code": "S1", "period": "2021-04", "erf_actual": 1000}]}
    write_workbook(tmp_path / "a.xlsx", organisations, rows)
    write_workbook(tmp_path / "b.xlsx", organisations, rows)
    assert stamps(tmp_path / "a.xlsx")[0] == {(1980, 1, 1, 0, 0, 0)}
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_source_date_epoch_sets_the_workbooks_time(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run_cli(capsys, "run", ERF, "--data", WORKED, "--output", tmp_path / "a.xlsx")[0] == 0
    times, core = stamps(tmp_path / "a.xlsx")
    assert times == {(2023, 11, 14, 22, 13, 20)} and core.count(b"2023-11-14T22:13:20Z") == 2
    for wrong in ("yesterday", "-1", "1e9", "99999999999999999999"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", wrong)
        code, _, err = run_cli(capsys, "run", ERF, "--data", WORKED, "--output", tmp_path / "b.xlsx")
        assert code == 64 and "SOURCE_DATE_EPOCH: expected a whole number of seconds" in err
        assert not (tmp_path / "b.xlsx").exists() and not list(tmp_path.glob(".*.tmp"))
