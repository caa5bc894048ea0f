"""`planlang report`: one self-contained, autoescaped HTML file, checked as text and in a real Chromium."""

from __future__ import annotations

import html.parser
import io
import json

import pytest

from planlang.audit.sources import SourceLibrary, normalise
from planlang.cli import main
from planlang.compiler import compile_pack

from browser import Browser
from conftest import EXAMPLES, POLICIES, ROOT, need_chromium, need_sources


class _Parts(html.parser.HTMLParser):
    """Every tag with its attributes, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parts(text: str) -> _Parts:
    parts = _Parts()
    parts.feed(text)
    return parts


@pytest.fixture(scope="module")
def erf_report(tmp_path_factory):
    target = tmp_path_factory.mktemp("report") / "erf.html"
    assert main(["report", str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json"),
                 "-o", str(target)]) == 0
    return target


@pytest.fixture(scope="module")
def frf_report(tmp_path_factory):
    target = tmp_path_factory.mktemp("report") / "frf.html"
    assert main(["report", str(POLICIES / "2020_21"), "--data", str(EXAMPLES / "2020_21.xlsx"), "-o", str(target)]) == 0
    return target


def test_the_report_fetches_nothing(erf_report):
    parts = _parts(erf_report.read_text(encoding="utf-8"))
    for tag, attrs in parts.tags:
        for name in ("src", "href", "action", "data", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("#", "data:")), (tag, name, value)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
    policy = next(a["content"] for t, a in parts.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in policy
    assert sum(tag == "svg" for tag, _ in parts.tags) >= 2  # the charts are inline


def test_every_figure_of_the_run_is_in_the_report(erf_report, capsys):
    main(["run", str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json"), "--json"])
    document = json.loads(capsys.readouterr().out)
    figures = sum(len(by) for org in document["results"].values() for by in org.values())
    text = erf_report.read_text(encoding="utf-8")
    assert text.count('<details class="figure') == figures


def test_citations_quote_the_guidance_in_its_own_words(erf_report):
    seeds = need_sources()
    program = compile_pack(POLICIES / "2021_22")
    library = SourceLibrary(program.directory, seeds)
    citation = program.declarations["erf_additional_funding"].citations[0]
    passage = library.passage(citation.source, citation.quote)
    assert passage is not None and passage.quoted == normalise(citation.quote.split("…")[0])
    assert passage.before or passage.after  # the words around the quote, from the source document itself
    seed = normalise((seeds / citation.source).read_text(encoding="utf-8"))
    assert normalise(passage.before.lstrip("… ") + passage.quoted + passage.after.rstrip(" …")) in seed
    text = " ".join(_parts(erf_report.read_text(encoding="utf-8")).text)
    assert passage.quoted in normalise(text)


def test_the_charts_show_thresholds_and_the_taper(erf_report, frf_report):
    erf = erf_report.read_text(encoding="utf-8")
    for words in ("erf_additional_funding for EXAMPLE2", "erf_lower_threshold", "erf_upper_threshold", "band 3 at 120%"):
        assert words in erf
    frf = frf_report.read_text(encoding="utf-8")
    assert "frf_org_earned for TRUST_A1" in frf and "taken by the shortfall taper" in frf


def test_policy_and_data_text_is_escaped(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "policy.plan").write_text('policy "<b>bold</b> pack" for 2021/22\nsource "s.txt" "<img src=x onerror=alert(1)>"\n')
    (pack / "rules.plan").write_text('input amount : money\n  per system monthly\n  "<script>alert(1)</script>"\n'
                                     'define paid : money\n  per system monthly\n  "banded"\n'
                                     '  = bands on amount\n      up to £10: 0%\n      above: 50%\n')
    data = tmp_path / "data.json"
    code = "<script>alert(2)</script>"
    data.write_text(json.dumps({"organisations": [{"code": code, "name": "<i>x</i>", "kind": "system"}],
                                "inputs": {"amount": {code: {"2021-04": 5, "2021-05": 50}}}}))
    target = tmp_path / "r.html"
    assert main(["report", str(pack), "--data", str(data), "-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert "<svg" in text  # the chart is there, titled with the organisation's code
    assert "<script>alert" not in text and "&lt;script&gt;alert(2)&lt;/script&gt;" in text
    assert "<b>bold</b>" not in text and "<img src=x" not in text and "<i>x</i>" not in text
    assert sum(tag == "script" for tag, _ in _parts(text).tags) == 1  # ours alone


def test_report_usage_errors(tmp_path, capsys):
    code = main(["report", str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json"),
                 "-o", str(tmp_path / "r.pdf")])
    assert code == 64 and "give a file ending .html" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()


# ---- in a real browser ----

@pytest.fixture(scope="module")
def browser():
    chromium = Browser(need_chromium())
    yield chromium
    chromium.close()


def _visible(browser, selector: str) -> int:
    return browser.evaluate(f"Array.from(document.querySelectorAll({json.dumps(selector)}))"
                            ".filter(e => e.checkVisibility()).length")


def _search(browser, text: str) -> None:
    browser.evaluate(f"(() => {{ const b = document.getElementById('search'); b.value = {json.dumps(text)}; "
                     "b.dispatchEvent(new Event('input')); })()")


def test_in_chromium_no_console_error_derivation_opens_to_the_input_cell_search_filters(browser, erf_report, tmp_path):
    browser.open(erf_report)
    assert browser.evaluate("document.title").startswith("2021/22 priorities")
    figure = "Array.from(document.querySelectorAll('details.figure')).find(d => d.querySelector('.line.origin') && " \
             "d.closest('.org').textContent.includes('EXAMPLE2') && d.textContent.includes('erf_actual for EXAMPLE2'))"
    browser.evaluate(f"window.chosen = {figure}; window.chosen.scrollIntoView()")
    assert browser.evaluate("window.chosen.checkVisibility() && !window.chosen.open")
    origin = "window.chosen.querySelector('.line.origin')"
    assert not browser.evaluate(f"{origin}.checkVisibility()")  # folded until opened
    # a person's clicks: the figure, then each fold on the way to the input
    for _ in range(10):
        if browser.evaluate(f"{origin}.checkVisibility()"):
            break
        browser.evaluate(f"""(() => {{ let d = {origin}.closest('details');
            const folded = []; while (d) {{ if (!d.open) folded.push(d); d = d.parentElement.closest('details'); }}
            folded[folded.length - 1].querySelector(':scope > summary').click(); }})()""")
    assert browser.evaluate(f"{origin}.checkVisibility()")
    assert "erf_worked_example.json: inputs.erf_actual.EXAMPLE2." in browser.evaluate(f"{origin}.textContent")

    organisations = browser.evaluate("document.querySelectorAll('section.org').length")
    assert organisations == 3
    browser.evaluate("document.getElementById('search').focus()")
    browser.send("Input.insertText", text="example3")
    assert _visible(browser, "section.org") == 1
    assert browser.evaluate("Array.from(document.querySelectorAll('section.org')).find(e => e.checkVisibility())"
                            ".querySelector('h3').textContent").startswith("EXAMPLE3")
    assert browser.evaluate("document.getElementById('search-count').textContent").endswith("shown")
    _search(browser, "erf_gateway")
    assert 0 < _visible(browser, "details.rule") < browser.evaluate("document.querySelectorAll('details.rule').length")
    _search(browser, "")
    assert _visible(browser, "section.org") == organisations

    # a link inside a derivation opens the figure it names
    browser.evaluate("document.querySelector('a.link').click()")
    assert browser.evaluate("document.querySelector('.target').open === true")

    from PIL import Image

    shot = Image.open(io.BytesIO(browser.screenshot())).convert("RGB")
    colours = shot.getcolors(maxcolors=1 << 20)
    assert shot.size[0] >= 800 and len(colours) > 20  # text, a chart, highlights: not a blank page
    background = max(colours)[0] / (shot.size[0] * shot.size[1])
    assert background < 0.95
    assert browser.errors() == []


def test_in_chromium_the_frf_report_has_no_console_error(browser, frf_report):
    browser.events.clear()
    browser.open(frf_report)
    browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert browser.evaluate("document.querySelectorAll('figure.chart svg').length") >= 2
    assert browser.errors() == []


def test_in_chromium_explain_all_html_has_no_console_error_and_searches(browser, tmp_path):
    target = tmp_path / "q1.html"
    assert main(["explain", str(POLICIES / "2020_21"), "--data", str(EXAMPLES / "2020_21.xlsx"), "--entity", "TRUST_A1",
                 "--period", "2020/21 Q1", "--all", "--html", str(target)]) == 0
    browser.events.clear()
    browser.open(target)
    explained = browser.evaluate("document.querySelectorAll('details.explained').length")
    assert explained > 3
    _search(browser, "frf_org_earned")
    shown = browser.evaluate("Array.from(document.querySelectorAll('details.explained'))"
                             ".filter(e => e.checkVisibility()).map(e => e.dataset.search)")
    assert "frf_org_earned" in shown and len(shown) < explained
    assert browser.errors() == []


def test_in_chromium_a_scenario_report_shows_each_changed_figure_beside_the_baseline(browser, tmp_path):
    target = tmp_path / "may.html"
    assert main(["report", str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json"),
                 "--scenario", f"{ROOT / 'examples' / 'scenarios' / '2021_22' / 'erf.plan'}:may_at_70", "-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert "Scenario may_at_70" in text and "set erf_thresholds in 2021-05 = 70%" in text
    browser.events.clear()
    browser.open(target)
    # EXAMPLE2's May funding: the scenario's figure, with the baseline's beside it
    summaries = browser.evaluate("Array.from(document.querySelectorAll('details.figure summary'))"
                                 ".map(s => s.textContent.replace(/\\s+/g, ' ').trim())")
    assert "2021-05 £8,185,714.29 (baseline £6,828,571.43)" in summaries
    changes = browser.evaluate("document.querySelectorAll('#scenario table.changes tr').length")
    assert changes > 3  # a heading row, and the changed figures
    assert browser.errors() == []
