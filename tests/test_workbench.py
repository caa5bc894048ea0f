"""The workbench (`planlang serve`): its JSON API through Starlette's client, its guards, and the page driven
in real headless Chromium against a real server process."""

from __future__ import annotations

import base64
import io
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


def test_explain_lists_the_inputs_the_figure_needs_with_their_origin(client):
    why = client.post("/api/explain", json={"scenario": MAY_AT_70, "name": "erf_additional_funding",
                                            "entity": "EXAMPLE2", "period": "2021-05"}).json()
    inputs = {(i["name"], i["entity"], i["period"]): i for i in why["inputs"]}
    actual = inputs[("erf_actual", "EXAMPLE2", "2021-05")]
    assert (actual["kind"], actual["value"]) == ("input", "£26,000,000.00")
    assert actual["origin"].endswith("erf_worked_example.json: inputs.erf_actual.EXAMPLE2.2021-05")
    assert inputs[("erf_gateway_met", "EXAMPLE2", "2021-05")]["origin"] == "assumed: the declared default"
    assert inputs[("erf_thresholds", None, "2021-05")]["origin"] == "the scenario's setting at line 2"
    assert inputs[("erf_rate_above_upper", None, "2021-05")]["origin"] == "the pack"


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
    assert set(document["paths"]) == {"/api/parameters", "/api/run", "/api/compare", "/api/impact", "/api/explain",
                                      "/api/sweep", "/api/solve", "/api/data", "/api/compare.xlsx", "/api/receipt"}
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


# ---- data uploaded in the page, sweep and goal seek, downloads ----------------------------------

def _file(name: str, content: bytes) -> dict:
    return {"name": name, "content": base64.b64encode(content).decode()}


@pytest.fixture(scope="module")
def no_data_client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield TestClient(make_app(Workbench(str(PACK)), hosts=["testserver"]))


def test_without_data_the_page_opens_and_asks_for_an_upload(no_data_client):
    page = no_data_client.get("/")
    assert page.status_code == 200 and "no data yet" in page.text and 'id="upload"' in page.text
    assert no_data_client.get("/api/parameters").json()["groups"]
    answer = no_data_client.post("/api/impact", json={})
    assert answer.status_code == 422 and "upload a data file" in answer.json()["error"]


def test_an_uploaded_file_answers_as_the_cli_does_on_it(no_data_client, client, capsys):
    answer = no_data_client.post("/api/data", json={"files": [_file("erf.json", DATA.read_bytes())]})
    assert answer.status_code == 200
    upload = answer.json()
    assert (upload["name"], upload["organisations"]) == ("erf.json", 3)
    body = {"set": ["erf_thresholds in 2021-05 = 70%"], "only": ["erf_additional_funding"]}
    uploaded = no_data_client.post("/api/compare", json={**body, "data": upload["data"]}).json()
    assert uploaded == client.post("/api/compare", json=body).json() | {"data": uploaded["data"]}
    impact = no_data_client.post("/api/impact", json={"data": upload["data"], "scenario": MAY_AT_70}).json()
    assert "--data erf.json" in impact["reproduce"]
    answer = no_data_client.post("/api/run", json={"data": upload["data"], "entity": ["NOWHERE"]})
    assert answer.status_code == 422 and answer.json()["error"] == "entities: no organisation 'NOWHERE' in erf.json"


def test_an_uploaded_csv_with_its_organisations(no_data_client, client):
    data = json.loads(DATA.read_text())
    organisations = "code,name,kind,system\n" + "".join(
        f"{o['code']},{o['code']},{o['kind']},\n" for o in data["organisations"])
    values = "code,period,input,value\n" + "".join(
        f"{code},{period},{name},\"{value}\"\n" for name, by_code in data["inputs"].items()
        for code, by_period in by_code.items() for period, value in by_period.items())
    answer = no_data_client.post("/api/data", json={"files": [_file("erf.csv", values.encode()),
                                                              _file("erf.organisations.csv", organisations.encode())]})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["organisations"] == 3
    body = {"scenario": MAY_AT_70, "only": ["erf_additional_funding"]}
    assert no_data_client.post("/api/impact", json={**body, "data": answer.json()["data"]}).json()["totals"] == \
        client.post("/api/impact", json=body).json()["totals"]
    alone = no_data_client.post("/api/data", json={"files": [_file("erf.csv", values.encode())]})
    assert alone.status_code == 422 and "erf.organisations" in alone.json()["error"] and "/tmp" not in alone.json()["error"]


@pytest.mark.parametrize("files, status, expected", [
    ([("bad.json", b'{"organisations": [], "inputs": {"erf_nothing": {}}}')], 422, "bad.json: "),
    ([("bad.json", b"{not json")], 422, "bad.json"),
    ([("book.xlsx", b"PK\x03\x04 not a workbook")], 422, "book.xlsx: is not an Excel .xlsx workbook"),
    ([("notes.txt", b"hello")], 422, "cannot read this kind of file"),
    ([("../../etc/erf.json", b"{}")], 422, "erf.json"),
    ([("a.organisations.csv", b"code,name,kind,system\n")], 422, "give one data file"),
])
def test_a_bad_upload_is_refused_with_the_cli_s_placed_message(no_data_client, files, status, expected):
    answer = no_data_client.post("/api/data", json={"files": [_file(name, content) for name, content in files]})
    assert answer.status_code == status
    found = answer.json()
    assert expected in found["error"] + " ".join(found.get("problems", [])) and "/tmp" not in json.dumps(found)
    assert found["file"] is None or "/" not in found["file"]


def test_an_upload_over_the_limit_is_refused(workbench):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = TestClient(make_app(workbench, hosts=["testserver"], max_upload=1000))
    answer = small.post("/api/data", json={"files": [_file("erf.json", DATA.read_bytes())]})
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]
    assert small.post("/api/data", json={"files": "x"}).status_code == 400


def test_an_upload_no_longer_held_says_so(client):
    answer = client.post("/api/impact", json={"data": "gone", "scenario": MAY_AT_70})
    assert answer.status_code == 422 and "upload the file again" in answer.json()["error"]


def test_sweep_answers_what_the_cli_prints(client, capsys):
    vary = "erf_thresholds in 2021-05 = 70% to 80% step 5%"
    code, out, _ = run_cli(capsys, "sweep", PACK, "--data", DATA, "--vary", vary, "--output", "erf_additional_funding", "--json")
    assert code == 0
    answer = client.post("/api/sweep", json={"vary": [vary], "outputs": ["erf_additional_funding"]})
    assert answer.status_code == 200 and answer.json() == json.loads(out)
    assert [s["totals"]["erf_additional_funding"] for s in answer.json()["steps"]] == [
        "27096149.07", "23024720.50", "20167577.64"]
    drawn = client.post("/api/sweep", json={"vary": ["erf_actual = erf_actual * uniform(95%, 105%)"],
                                            "outputs": ["erf_additional_funding"], "draws": 20}).json()
    assert set(drawn["steps"][0]["totals"]["erf_additional_funding"]) == {"mean", "p5", "p50", "p95"}
    assert client.post("/api/sweep", json={"vary": [vary], "outputs": ["x"], "draws": 10**6}).status_code == 400
    assert client.post("/api/sweep", json={"vary": [vary]}).status_code == 400
    assert client.post("/api/sweep", json={"vary": ["erf_treshold = 1 to 2 step 1"], "outputs": ["erf_additional_funding"]}
                       ).status_code == 422


def test_goal_seek_finds_the_value_exactly(client, capsys):
    vary, until = "erf_thresholds in 2021-05", "total erf_additional_funding in 2021-05 = £10,000,000"
    code, out, _ = run_cli(capsys, "solve", PACK, "--data", DATA, "--vary", vary, "--until", until)
    answer = client.post("/api/solve", json={"vary": vary, "until": until})
    assert answer.status_code == 200
    found = answer.json()
    assert found["reached"] and found["text"] == out.rstrip("\n")
    assert (found["value"], found["exact"], found["achieved"]) == ("73.92%", "462/625", "£9,993,714.29")
    assert client.post("/api/solve", json={"vary": vary}).status_code == 400
    assert client.post("/api/solve", json={"vary": "erf_nothing", "until": until}).status_code == 422


def test_the_compare_workbook_and_receipt_download(client):
    answer = client.post("/api/compare.xlsx", json={"scenario": MAY_AT_70})
    assert answer.status_code == 200 and answer.headers["content-disposition"] == 'attachment; filename="compare.xlsx"'
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    assert "Flags changed" in book.sheetnames
    receipt = client.post("/api/receipt", json={"scenario": MAY_AT_70})
    assert receipt.status_code == 200 and receipt.headers["content-disposition"] == 'attachment; filename="receipt.json"'
    document = receipt.json()
    assert document["command"][:2] == ["planlang", "compare"] and document["scenarios"][0]["name"] == "may_at_70"
    assert client.post("/api/receipt", json={}).status_code == 422


def test_the_impact_carries_decimals_for_the_charts(client):
    totals = client.post("/api/impact", json={"scenario": MAY_AT_70}).json()["totals"]
    funding = next(t for t in totals if t["name"] == "erf_additional_funding" and t["period"] == "2021/22")
    assert (funding["baseline_decimal"], funding["scenario_decimal"]) == ("23024720.50", "27096149.07")


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
        # the charts: totals before and after, gains and losses by organisation
        assert _wait(browser, "document.querySelectorAll('#totals-chart svg rect').length") >= 2
        assert _wait(browser, "document.querySelectorAll('#organisations-chart svg rect.gain-bar').length") >= 3
        # a sweep drawn as a line; a goal sought exactly
        browser.evaluate("document.getElementById('sweep-run').click()")
        assert _wait(browser, "document.querySelectorAll('#sweep-chart svg circle').length") == 11
        browser.evaluate("document.getElementById('solve-run').click()")
        solved = _wait(browser, "document.getElementById('solve-answer').textContent.includes('exactly')"
                                " && document.getElementById('solve-answer').textContent")
        assert solved.startswith("erf_thresholds in 2021-05 = 73.92%") and "exactly 462/625" in solved
        # data uploaded in the page: the figures are the same file's
        root = browser.send("DOM.getDocument")["root"]["nodeId"]
        upload = browser.send("DOM.querySelector", nodeId=root, selector="#upload")["nodeId"]
        browser.send("DOM.setFileInputFiles", nodeId=upload, files=[str(DATA)])
        assert _wait(browser, "document.getElementById('data-status').textContent.includes('organisations')"
                              " && document.getElementById('data-status').textContent") == "3 organisations, 48 values"
        assert _wait(browser, "document.getElementById('reproduce').textContent.includes('--data erf_worked_example.json')")
        assert cli_total in browser.evaluate("Array.from(document.querySelectorAll('#totals tbody tr')).map(r => r.textContent).join('')")
        # Chromium logs the 422 the deliberate checker error was answered with; nothing else may appear
        assert [e for e in browser.errors() if "status of 422" not in e] == []
    finally:
        browser.close()
