"""``verify`` trusts nothing in a receipt: what it reads, where, the receipt's shape and its own digest.

Each class of receipt that once hung, filled memory, read files anywhere or ended in an internal
error has a test here; a Hypothesis test at the end drives ``verify`` with random receipts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planlang.audit.receipt import receipt_digest

from conftest import EXAMPLES, POLICIES, run_cli

ERF_FILES = ("policy.plan", "erf.plan", "erf_worked_example.plan")


@pytest.fixture
def project(tmp_path):
    """The 2021/22 ERF rules, the worked example's data and a scenario file, each in its own folder."""
    pack, data, scenarios = tmp_path / "pack", tmp_path / "data", tmp_path / "scenarios"
    for folder in (pack, data, scenarios):
        folder.mkdir()
    for name in ERF_FILES:
        shutil.copyfile(POLICIES / "2021_22" / name, pack / name)
    shutil.copyfile(EXAMPLES / "erf_worked_example.json", data / "erf.json")
    (scenarios / "s.plan").write_text('scenario lower "May at 70%"\n  set erf_thresholds in 2021-05 = 70%\n')
    return tmp_path


def _receipt(capsys, project: Path, *extra) -> dict:
    path = project / "r.json"
    code, _, err = run_cli(capsys, "compare", project / "pack", "--data", project / "data" / "erf.json",
                           "--scenario", project / "scenarios" / "s.plan", "--receipt", path, *extra)
    assert code == 0, err
    return json.loads(path.read_text(encoding="utf-8"))


def _write(project: Path, receipt: dict, *, seal: bool = True) -> Path:
    """The receipt written as planlang would: ``seal`` gives it the digest of its contents as they now are."""
    if seal:
        receipt = receipt | {"receipt_digest": receipt_digest(receipt)}
    path = project / "r.json"
    path.write_text(json.dumps(receipt), encoding="utf-8")
    return path


def _cli(*argv, timeout: float = 60) -> subprocess.CompletedProcess:
    """planlang in a process of its own, for what could hang one: it is killed at ``timeout``."""
    return subprocess.run([sys.executable, "-m", "planlang", *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, env=os.environ | {"NO_COLOR": "1"})


# ---- 1. only regular files, of bounded size --------------------------------------------------

@pytest.mark.parametrize("device", ["fifo", "/dev/zero"])
def test_a_receipt_that_is_a_pipe_or_a_device_is_refused_unread(tmp_path, device):
    path = tmp_path / "r.json"
    if device == "fifo":
        os.mkfifo(path)
    else:
        path = Path(device)
    done = _cli("verify", path, timeout=30)
    assert done.returncode == 2 and "not a regular file" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("where", ["scenario file", "policy file", "file beside the data"])
def test_a_pipe_a_receipt_names_is_refused_unread(capsys, project, where):
    receipt = _receipt(capsys, project)
    fifo = {"scenario file": project / "scenarios" / "s.plan", "policy file": project / "pack" / "extra.plan",
            "file beside the data": project / "data" / "erf.organisations.csv"}[where]
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    if where == "file beside the data":
        receipt["data"]["beside"] = {fifo.name: "0" * 64}
    done = _cli("verify", _write(project, receipt), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{fifo.name}: is a named pipe (FIFO), not a regular file" in done.stderr


def test_the_receipt_is_read_within_max_data_mb(capsys, project):
    receipt = _receipt(capsys, project)
    receipt["command"].append("x" * (1024 * 1024))
    path = _write(project, receipt)
    code, _, err = run_cli(capsys, "verify", path, "--max-data-mb", "1")
    assert code == 2 and f"{path}: is larger than the 1 MB planlang reads" in err and "--max-data-mb" in err
    code, out, _ = run_cli(capsys, "verify", path, "--max-data-mb", "2")
    assert code == 0 and "identical" in out


# ---- 2. confined to the folders the receipt recorded --------------------------------------------

def test_a_file_outside_the_recorded_folders_is_refused_and_the_option_named(capsys, project):
    receipt = _receipt(capsys, project)
    secret = project / "elsewhere" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    receipt["scenarios"][0].update(origin=str(secret), origin_absolute=str(secret), files={str(secret): "0" * 64},
                                   absolute={str(secret): str(secret)})
    path = _write(project, receipt)
    code, out, err = run_cli(capsys, "verify", path)
    assert code == 2 and "root:x" not in out + err
    assert f"{secret}: refused: it lies outside the folders the receipt recorded" in err
    assert f"--allow-path {secret.parent}" in err
    # allowed, it is read: as what it is, not a scenario file
    code, out, err = run_cli(capsys, "verify", path, "--allow-path", secret.parent)
    assert code == 2 and "refused" not in err


def test_a_scenario_file_outside_its_scenario_folder_is_refused(capsys, project):
    receipt = _receipt(capsys, project)
    other = project / "elsewhere.plan"
    other.write_text("# not the scenario's\n")
    record = receipt["scenarios"][0]
    record["files"] = {str(other): record["files"].popitem()[1]}
    record["absolute"] = {str(other): str(other)}
    code, _, err = run_cli(capsys, "verify", _write(project, receipt))
    assert code == 2 and f"{other}: refused: it lies outside the folders the receipt recorded" in err
    code, out, _ = run_cli(capsys, "verify", _write(project, receipt), "--allow-path", project)
    assert code == 1 and f"scenario file {other}: changed" in out


def test_a_link_out_of_a_recorded_folder_is_refused_with_its_target(capsys, project):
    receipt = _receipt(capsys, project)
    outside = project / "outside.plan"
    shutil.move(project / "scenarios" / "s.plan", outside)
    (project / "scenarios" / "s.plan").symlink_to(outside)
    code, _, err = run_cli(capsys, "verify", _write(project, receipt))
    assert code == 2 and f"(a link to {outside})" in err and f"--allow-path {project}" in err


# ---- 3. the receipt's shape, each field placed by its JSON path ---------------------------------

SHAPES = [
    (lambda r: r.update(scenarios=5), "$.scenarios: expected a list, got a number"),
    (lambda r: r["scenarios"][0].update(sets="erf_thresholds = 1"), "$.scenarios[0].sets: expected a list, got a string"),
    (lambda r: r["scenarios"][0].update(name=["lower"]), "$.scenarios[0].name: expected a string, got a list"),
    (lambda r: r["scenarios"][0].update(origin=7), "$.scenarios[0].origin: expected a path or null, got a number"),
    (lambda r: r["policy"].update(directory=""), '$.policy.directory: expected a path (text, without NUL characters), got ""'),
    (lambda r: r["policy"]["files"].update({"../x.plan": "0" * 64}),
     '$.policy.files["../x.plan"]: expected a file name (no folder) as the key'),
    (lambda r: r["data"].update(sha256=True), "$.data.sha256: expected a SHA-256 (64 hexadecimal digits), got true"),
    (lambda r: r["outcome"]["results"]["erf_additional_funding"].update(EXAMPLE2=[]),
     "$.outcome.results.erf_additional_funding.EXAMPLE2: expected an object, got a list"),
    (lambda r: r.pop("data"), "$.data: missing: expected an object"),
    (lambda r: r.update(extra={}), "$.extra: not a field planlang writes"),
]


@pytest.mark.parametrize("change, message", SHAPES, ids=[m.split(":")[0] for _, m in SHAPES])
def test_a_field_of_the_wrong_shape_is_placed_by_its_json_path(capsys, project, change, message):
    receipt = _receipt(capsys, project)
    change(receipt)
    path = _write(project, receipt)
    code, _, err = run_cli(capsys, "verify", path)
    assert code == 2 and f"planlang: error: {path}:{message}" in err, err


def test_every_field_of_the_wrong_shape_is_named_at_once(capsys, project):
    receipt = _receipt(capsys, project)
    receipt["scenarios"][0].update(sets="x", files=[])
    receipt["versions"] = None
    path = _write(project, receipt)
    code, _, err = run_cli(capsys, "verify", path)
    assert code == 2 and f"planlang: {path}: 3 problems" in err
    for where in ("$.versions", "$.scenarios[0].files", "$.scenarios[0].sets"):
        assert f"{path}:{where}: expected" in err


def test_a_receipt_nested_200000_deep_is_a_placed_error(capsys, tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"format": "planlang receipt 1", "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    code, _, err = run_cli(capsys, "verify", path)
    assert code == 2 and f"{path}:1:" in err and "nest too deeply" in err


# ---- 4. the receipt's own digest ----------------------------------------------------------------

def test_a_receipt_altered_since_it_was_written_is_a_change(capsys, project):
    receipt = _receipt(capsys, project)
    assert receipt["receipt_digest"] == receipt_digest(receipt)
    figures = receipt["outcome"]["results"]["erf_additional_funding"]["EXAMPLE2"]
    figures["2021-05"] = "1.00"
    code, out, _ = run_cli(capsys, "verify", _write(project, receipt, seal=False))
    assert code == 1 and "the receipt itself was altered" in out and "figure " not in out


def test_the_figures_beside_an_embedded_receipt_are_covered_by_it(capsys, project):
    code, out, _ = run_cli(capsys, "run", project / "pack", "--data", project / "data" / "erf.json", "--json")
    document = json.loads(out)
    (project / "run.json").write_text(json.dumps(document))
    assert run_cli(capsys, "verify", project / "run.json")[0] == 0
    document["results"]["erf_additional_funding"]["EXAMPLE2"]["2021-05"] = "1.00"
    (project / "run.json").write_text(json.dumps(document))
    code, out, _ = run_cli(capsys, "verify", project / "run.json")
    assert code == 1 and "the receipt itself was altered: the figures beside it" in out


def test_a_receipt_without_its_own_digest_says_so(capsys, project):
    receipt = _receipt(capsys, project)
    del receipt["receipt_digest"]
    code, out, _ = run_cli(capsys, "verify", _write(project, receipt, seal=False))
    assert code == 0 and "note: the receipt has no receipt_digest" in out and "identical" in out


# ---- 5. random receipts -------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=10)
ODD = st.sampled_from(["", ".", "..", "/", "\x00", "a\x00b", "x" * 5000, "/dev/zero", "/etc/passwd", "\ud800",
                       "9" * 5000, "sha256:" + "0" * 64, "0" * 64, "FIFO", "FIFO.plan", "DEVICE", "../" * 50]) | JSON
HUGE = st.sampled_from(["9" * 5000, "1e999999", "-1e400", "[" * 5000 + "]" * 5000, "[" * 200_000 + "]" * 200_000])


def _paths(node, at=()):
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, at + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, at + (index,))


@st.composite
def _mutated(draw, receipt: dict, fifo: Path):
    """The receipt with a few values replaced by odd ones (FIFO: a named pipe), and perhaps sealed again."""
    receipt = json.loads(json.dumps(receipt))
    places = [p for p in _paths(receipt) if p]
    for _ in range(draw(st.integers(1, 3))):
        *parents, last = draw(st.sampled_from(places))
        node = receipt
        try:
            for step in parents:
                node = node[step]
            value = draw(ODD)
            node[last] = {"FIFO": str(fifo), "FIFO.plan": str(fifo), "DEVICE": "/dev/zero"}.get(value, value) \
                if isinstance(value, str) else value
        except (KeyError, IndexError, TypeError):  # an earlier change took the place away
            pass
    if draw(st.booleans()):
        receipt["receipt_digest"] = receipt_digest(receipt)
    return json.dumps(receipt)


def _verify_within(capsys, path: Path, seconds: float) -> int:
    """verify in-process, failing the test if it has not answered within ``seconds``."""
    answer: list = []
    worker = threading.Thread(target=lambda: answer.append(run_cli(capsys, "verify", path)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert answer, f"verify did not answer within {seconds} s"
    return answer[0][0]


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory):
    project = tmp_path_factory.mktemp("fuzz")
    for folder in ("pack", "data", "scenarios"):
        (project / folder).mkdir()
    for name in ERF_FILES:
        shutil.copyfile(POLICIES / "2021_22" / name, project / "pack" / name)
    shutil.copyfile(EXAMPLES / "erf_worked_example.json", project / "data" / "erf.json")
    (project / "scenarios" / "s.plan").write_text('scenario lower "x"\n  set erf_thresholds in 2021-05 = 70%\n')
    os.mkfifo(project / "scenarios" / "pipe.plan")
    return project


FUZZ = settings(max_examples=int(os.environ.get("PLANLANG_FUZZ_EXAMPLES", "25")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


@FUZZ
@given(data=st.data())
def test_random_receipts_never_hang_or_fail_inside(capsys, fuzz_project, data):
    """Whatever a receipt holds, verify answers 0, 1 or 2 in its own words, soon."""
    project = fuzz_project
    if not (project / "r.json").exists():
        code, _, err = run_cli(capsys, "compare", project / "pack", "--data", project / "data" / "erf.json",
                               "--scenario", project / "scenarios" / "s.plan", "--receipt", project / "base.json")
        assert code == 0, err
        (project / "r.json").write_text("")
    base = json.loads((project / "base.json").read_text(encoding="utf-8"))
    text = data.draw(_mutated(base, project / "scenarios" / "pipe.plan")
                     | JSON.map(json.dumps) | HUGE
                     | st.builds(lambda x: json.dumps({"format": "planlang receipt 1", **base, "receipt": x}), JSON))
    (project / "r.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    assert _verify_within(capsys, project / "r.json", 60) in (0, 1, 2)
