"""The workbench (`planlang serve`): its JSON API through Starlette's client, its guards, and the page driven
in real headless Chromium against a real server process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

import pytest

from browser import Browser
from conftest import EXAMPLES, POLICIES, ROOT, need_chromium, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's client may say which HTTP client it prefers
    from starlette.testclient import TestClient

from planlang.workbench.app import make_app
from planlang.workbench.service import Workbench

PACK, DATA = POLICIES / "2021_22", EXAMPLES / "erf_worked_example.json"
MAY_AT_70 = "scenario may_at_70\n  set erf_thresholds in 2021-05 = 70%\n"
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def workbench():
    return Workbench(str(PACK), str(DATA))


@pytest.fixture(scope="module")
def client(workbench):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield TestClient(make_app(workbench, hosts=["testserver"]))


def test_parameters_grouped_by_the_section_they_cite(client):
    answer = client.get("/api/parameters")
    assert answer.status_code == 200
    groups = {g["section"]: g for g in answer.json()["groups"]}
    erf = {p["name"]: p for p in groups["002_0a239ee164b5232a.txt §3"]["parameters"]}
    thresholds = erf["erf_thresholds"]
    assert thresholds["unit"] == "percent" and "75% for May 2021" in thresholds["citations"][0]["quote"]
    assert thresholds["values"][:2] == [{"from": "2021-04", "to": "2021-04", "value": "70%", "exact": "0.7"},
                                        {"from": "2021-05", "to": "2021-05", "value": "75%", "exact": "0.75"}]


def test_compare_answers_what_the_cli_prints(client, capsys):
    code, out, _ = run_cli(capsys, "compare", PACK, "--data", DATA, "--set", "erf_thresholds in 2021-05 = 70%",
                           "--only", "erf_additional_funding", "--json")
    assert code == 0
    answer = client.post("/api/compare", json={"set": ["erf_thresholds in 2021-05 = 70%"],
                                               "only": ["erf_additional_funding"]})
    assert answer.status_code == 200
    assert answer.json() == json.loads(out)


def test_compare_of_scenario_text_answers_what_the_cli_prints_for_the_file(client, capsys, tmp_path):
    path = tmp_path / "what_if.plan"
    path.write_text(MAY_AT_70)
    code, out, _ = run_cli(capsys, "compare", PACK, "--data", DATA, "--scenario", path, "--json")
    assert code == 0
    assert client.post("/api/compare", json={"scenario": MAY_AT_70}).json() == json.loads(out)


def test_run_answers_what_the_cli_prints_but_the_receipt(client, capsys):
    code, out, _ = run_cli(capsys, "run", PACK, "--data", DATA, "--set", "erf_actual = erf_actual * 103%", "--json")
    assert code == 0
    printed = json.loads(out)
    del printed["receipt"]
    assert client.post("/api/run", json={"set": ["erf_actual = erf_actual * 103%"]}).json() == printed
    code, out, _ = run_cli(capsys, "run", PACK, "--data", DATA, "--entity", "EXAMPLE2", "--only",
                           "erf_additional_funding", "--json")
    assert client.post("/api/run", json={"entity": ["EXAMPLE2"], "only": ["erf_additional_funding"]}).json() == json.loads(out)


def test_impact_totals_changes_and_reproduce(client):
    answer = client.post("/api/impact", json={"scenario": MAY_AT_70})
    assert answer.status_code == 200
    impact = answer.json()
    funding = [t for t in impact["totals"] if t["name"] == "erf_additional_funding"]
    assert [(t["period"], t["baseline"], t["scenario"]) for t in funding] == [
        ("2021-05", "£9,114,285.71", "£13,185,714.29"), ("2021/22", "£23,024,720.50", "£27,096,149.07")]
    assert impact["changes_count"] == 12 and impact["changes"][0]["change"] in ("-£1,357,142.86", "+£1,357,142.86")
    assert {(o["entity"], o["change"]) for o in impact["by_organisation"] if o["name"] == "erf_additional_funding"} == {
        ("EXAMPLE1", "+£1,357,142.86"), ("EXAMPLE2", "+£1,357,142.86"), ("EXAMPLE3", "+£1,357,142.86")}
    assert {d["input"] for d in impact["defaults"]} >= {"erf_gateway_met"}
    assert impact["reproduce"].endswith("--set 'erf_thresholds in 2021-05 = 70%'")


def test_explain_side_by_side_with_what_moved_it(client):
    answer = client.post("/api/explain", json={"scenario": MAY_AT_70, "name": "erf_additional_funding",
                                               "entity": "EXAMPLE2", "period": "2021-05"})
    assert answer.status_code == 200
    why = answer.json()
    assert (why["baseline"]["value"], why["scenario"]["value"]) == ("£6,828,571.43", "£8,185,714.29")
    assert why["scenario"]["derivation"].startswith("erf_additional_funding for EXAMPLE2 in 2021-05 = £8,185,714.29")
    assert why["moved_by"] == [{"name": "erf_thresholds", "entity": None, "period": "2021-05"}]
    assert why["citations"][0]["source"] == "002_0a239ee164b5232a.txt"


@pytest.mark.parametrize("body, status, expected", [
    ({"scenario": "scenario w\n  set erf_treshold = 5%\n"}, 422, "scenario:2:7"),
    ({"set": ["erf_thresholds = "]}, 422, "--set:1:"),
    ({"set": "erf_thresholds = 5%"}, 400, "must be a list of strings"),
    ({"sets": []}, 400, "unknown field"),
    ({"scenario": MAY_AT_70, "entity": ["NOWHERE"]}, 422, "no organisation 'NOWHERE'"),
    ({"scenario": MAY_AT_70, "only": ["erf_nothing"]}, 422, "is not a definition"),
    ([1, 2], 400, "JSON object"),
])
def test_errors_are_json_with_placed_diagnostics(client, body, status, expected):
    answer = client.post("/api/compare", json=body)
    assert answer.status_code == status
    found = answer.json()
    assert expected in json.dumps(found, ensure_ascii=False)
    if status == 422 and expected.startswith(("scenario:", "--set:")):
        assert found["diagnostics"][0]["where"].startswith(expected)
        assert "Traceback" not in found["diagnostics"][0]["text"]


def test_every_error_path_is_json_and_every_answer_guarded(client):
    for answer in (client.get("/nowhere"), client.get("/api/run"), client.post("/api/run", content=b"{not json"),
                   client.post("/api/run", content=b"[" * 100_000), client.post("/api/run", content=b" " * 300_000)):
        assert answer.status_code in (400, 404, 405, 413)
        assert "error" in answer.json()
        assert answer.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    page = client.get("/")
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert "<script>" not in page.text and '<script src="/static/workbench.js" defer>' in page.text
    assert client.get("/static/workbench.js").status_code == 200


def test_openapi_describes_the_operations(client):
    document = client.get("/openapi.json").json()
    assert set(document["paths"]) == {"/api/parameters", "/api/run", "/api/compare", "/api/impact", "/api/explain"}
    assert "422" in document["paths"]["/api/compare"]["post"]["responses"]


def test_host_header_must_name_the_bound_address(client):
    assert client.get("/api/parameters", headers={"host": "attacker.example"}).status_code == 421
    assert client.get("/api/parameters", headers={"host": "testserver:8765"}).status_code == 200


def test_token_is_checked_on_every_request(workbench):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guarded = TestClient(make_app(workbench, hosts=["testserver"], token=TOKEN))
    assert guarded.get("/api/parameters").status_code == 401
    assert guarded.post("/api/compare", json={"scenario": MAY_AT_70}).status_code == 401
    assert guarded.get("/api/parameters", headers={"authorization": "Bearer wrong-token-x"}).status_code == 401
    assert guarded.get("/api/parameters", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get(f"/?token={TOKEN}").status_code == 200
    assert guarded.get("/").status_code == 401
    assert guarded.get("/static/workbench.js").status_code == 200  # the page's own script is no secret


def test_serve_refuses_a_public_address_without_a_token(capsys):
    code, _, err = run_cli(capsys, "serve", PACK, "--data", DATA, "--host", "0.0.0.0")
    assert code == 64 and "--token" in err


# ---- the real thing: `planlang serve` in a process, the page in headless Chromium ----------------

@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen([sys.executable, "-m", "planlang", "serve", str(PACK), "--data", str(DATA), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        line = process.stdout.readline()
        assert "open http://" in line, line + process.stderr.read()
        yield line.split("open ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(10)


def _wait(browser: Browser, expression: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.evaluate(expression)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expression}: {browser.errors()}")


def test_the_page_in_chromium(server, capsys):
    chromium = need_chromium()
    code, out, _ = run_cli(capsys, "compare", PACK, "--data", DATA, "--set", "erf_thresholds in 2021-05 = 70%",
                           "--only", "erf_additional_funding")
    cli_total = next(line for line in out.splitlines() if "erf_additional_funding [2021-05]" in line).split()[3]
    browser = Browser(chromium)
    try:
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable")
        browser.send("Page.navigate", url=server)
        _wait(browser, "document.getElementById('status') && document.getElementById('status').textContent.includes('baseline')")
        assert browser.evaluate("document.querySelectorAll('.parameter').length") > 10
        # May's ERF threshold to 70%, in the parameter's own editor
        browser.evaluate("""(() => {
            const p = document.querySelector('.parameter[data-name="erf_thresholds"]');
            p.querySelector('.period').value = '2021-05';
            p.querySelector('.mode').value = '=';
            p.querySelector('.amount').value = '70%';
            p.querySelector('.apply').click(); })()""")
        totals = _wait(browser, "Array.from(document.querySelectorAll('#totals tbody tr')).map(r => r.textContent)"
                                ".filter(t => t.includes('erf_additional_funding2021-05')).join('')")
        assert cli_total == "£13,185,714.29" and cli_total in totals
        assert "set erf_thresholds in 2021-05 = 70%" in browser.evaluate("document.getElementById('scenario').value")
        assert "--set 'erf_thresholds in 2021-05 = 70%'" in browser.evaluate("document.getElementById('reproduce').textContent")
        # click a changed figure: its derivation, both sides
        browser.evaluate("document.querySelector('#changes td.clickable[data-name=\"erf_additional_funding\"]"
                         "[data-entity=\"EXAMPLE2\"]').click()")
        why = _wait(browser, "!document.getElementById('why').hidden && document.getElementById('why-scenario').textContent")
        assert why.startswith("erf_additional_funding for EXAMPLE2 in 2021-05 = £8,185,714.29")
        assert "erf_thresholds" in browser.evaluate("document.getElementById('why-moved').textContent")
        # a checker error is placed under the scenario
        browser.evaluate("(() => { const s = document.getElementById('scenario'); s.value += '  set erf_treshold = 5%\\n';"
                         " s.dispatchEvent(new Event('input')); })()")
        placed = _wait(browser, "document.getElementById('diagnostics').textContent")
        assert "scenario:3:7: error: unknown name `erf_treshold`" in placed
        # the copied link reopens the scenario
        browser.evaluate("(() => { const s = document.getElementById('scenario');"
                         " s.value = s.value.replace('  set erf_treshold = 5%\\n', ''); s.dispatchEvent(new Event('input')); })()")
        _wait(browser, "document.getElementById('diagnostics').textContent === ''")
        link = browser.evaluate("document.getElementById('share').href")
        browser.send("Page.navigate", url="about:blank")
        browser.send("Page.navigate", url=link)
        reopened = _wait(browser, "document.getElementById('totals') && Array.from(document.querySelectorAll('#totals tbody tr'))"
                                  ".map(r => r.textContent).join('')")
        assert cli_total in reopened
        assert "set erf_thresholds in 2021-05 = 70%" in browser.evaluate("document.getElementById('scenario').value")
        # Chromium logs the 422 the deliberate checker error was answered with; nothing else may appear
        assert [e for e in browser.errors() if "status of 422" not in e] == []
    finally:
        browser.close()
