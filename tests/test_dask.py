"""`planlang sweep` on Dask: a real two-process LocalCluster gives byte for byte what one process gives.

The cluster is started once for the module (a few seconds); every sweep here is small, so the
module stays well under half a minute.
"""

from __future__ import annotations

import logging

import pytest

distributed = pytest.importorskip("distributed")

from conftest import ROOT
from conftest import run_cli as cli

ERF = ROOT / "policies" / "2021_22"
WORKED = ROOT / "examples" / "erf_worked_example.json"
FRF = ROOT / "policies" / "2020_21"
FRF_DATA = ROOT / "examples" / "2020_21.xlsx"


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


GRID = ["sweep", ERF, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 150% step 10%",
        "--vary", "erf_thresholds in 2021-05 = 70% to 80% step 5%", "--output", "erf_additional_funding",
        "system_outpatient_attendances", "--json"]
DRAWS = ["sweep", ERF, "--data", WORKED, "--vary", "erf_actual = erf_actual * uniform(95%, 105%)", "--draws", "12",
         "--seed", "3", "--vary", "erf_rate_above_upper = 100% to 120% step 20%", "--output", "erf_additional_funding",
         "--json"]


@pytest.mark.parametrize("argv", [GRID, DRAWS], ids=["grid", "draws"])
def test_the_cluster_gives_byte_identical_json(capsys, scheduler, argv):
    code, alone, _ = cli(capsys, *argv)
    assert code == 0
    code, spread, err = cli(capsys, *argv, "--scheduler", scheduler)
    assert code == 0 and err == ""
    assert spread == alone


def test_the_long_form_file_is_identical_too(capsys, scheduler, tmp_path):
    argv = ["sweep", FRF, "--data", FRF_DATA, "--vary", "frf_taper_rate = 0% to 100% step 25%", "--output", "frf_earned_year",
            "frf_pdc_conversion"]
    assert cli(capsys, *argv, "--out", tmp_path / "alone.csv")[0] == 0
    assert cli(capsys, *argv, "--out", tmp_path / "spread.csv", "--scheduler", scheduler)[0] == 0
    alone, spread = ((tmp_path / f"{x}.csv").read_bytes() for x in ("alone", "spread"))
    rows = alone.decode().splitlines()[1:]
    assert spread == alone and len(rows) == 5 * sum(row.startswith("1,") for row in rows)  # 5 steps, alike


def test_workers_starts_a_local_cluster_of_its_own(capsys):
    argv = ["sweep", ERF, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 130% step 10%",
            "--output", "erf_additional_funding", "--json"]
    code, alone, _ = cli(capsys, *argv)
    code, spread, err = cli(capsys, *argv, "--workers", "1")  # one process: the cluster machinery, at half the start-up
    assert code == 0 and spread == alone and err == ""


@pytest.mark.parametrize("address, message", [
    ("tcp://127.0.0.1:9", "cannot reach a Dask scheduler at 'tcp://127.0.0.1:9' within 1 s"),
    ("nonsense://x", "'nonsense://x' is not a Dask scheduler address"),
    ("tcp://[::1", "is not a Dask scheduler address"),
])
def test_a_bad_scheduler_is_a_clear_error_within_the_timeout(capsys, address, message):
    code, out, err = cli(capsys, "sweep", ERF, "--data", WORKED, "--vary", "erf_rate_above_upper = 100% to 110% step 10%",
                         "--output", "erf_additional_funding", "--scheduler", address, "--scheduler-timeout", "1")
    assert code == 2 and out == "" and err.startswith("planlang: error: --scheduler: ") and message in err, err
