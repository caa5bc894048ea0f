"""What an auditor could misread (issue 16, class 9): a taper chart taking more than there was, an axis
that silently starts at £20m, payments resting on assumed defaults said only inside derivations, and
a "year" total over part of the year."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import openpyxl
import pytest

from planlang.assumptions import assumed_defaults
from planlang.audit.charts import bands_chart, find_step, taper_bars
from planlang.audit.layout import year_totals
from planlang.cli import main
from planlang.coverage import coverage
from planlang.explanation import explain
from planlang.periods import parse_period
from planlang.render import assumed_defaults as run_defaults
from planlang.values import Missing, money_text

from conftest import EXAMPLES, POLICIES

ERF = [str(POLICIES / "2021_22"), "--data", str(EXAMPLES / "erf_worked_example.json")]


@pytest.fixture(scope="module")
def erf_report(tmp_path_factory):
    target = tmp_path_factory.mktemp("report") / "erf.html"
    assert main(["report", *ERF, "-o", str(target)]) == 0
    return target.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def erf_book(tmp_path_factory):
    target = tmp_path_factory.mktemp("book") / "erf.xlsx"
    assert main(["run", *ERF, "--output", str(target)]) == 0
    return openpyxl.load_workbook(target)


def _steps(results, kind):
    """Every (output, entity, [(period, step)]) with a step of ``kind`` in two or more periods, as the report charts them."""
    found = {}
    for name, entity, period, _ in results.outputs():
        step = find_step(explain(results, name, entity, period), kind)
        if step is not None:
            found.setdefault((name, entity), []).append((period, step))
    return [(name, entity, pairs) for (name, entity), pairs in found.items() if len(pairs) >= 2]


# ---- the taper chart ----

def test_a_taper_bar_is_its_whole_split_into_earned_and_taken(frf_run):
    charted = _steps(frf_run, "taper")
    assert charted
    asked_more = 0
    for name, entity, pairs in charted:
        bars = taper_bars([p.label for p, _ in pairs], [step for _, step in pairs])
        for (period, step), bar in zip(pairs, bars):
            assert bar.earned == frf_run.get(name, entity, period) if name == "frf_system_pool" else bar.earned == step.value
            assert 0 <= bar.taken <= bar.whole and 0 <= bar.earned <= bar.whole
            assert bar.earned + bar.taken == bar.whole
            assert bar.taken <= bar.reduction  # the taper never takes more than the shortfall asks
            asked_more += bar.reduction > bar.whole
    assert asked_more  # the data has a shortfall larger than its pool: the case the old chart drew wrongly


def test_the_system_pool_bars_are_the_runs_own_figures(frf_run):
    for _, entity, pairs in [c for c in _steps(frf_run, "taper") if c[0] == "frf_system_pool"]:
        for (period, _), bar in zip(pairs, taper_bars([p.label for p, _ in pairs], [s for _, s in pairs])):
            whole = frf_run.get("frf_system_elements_total_year", entity, parse_period("2020/21"))
            earned = frf_run.get("frf_system_pool", entity, period)
            assert (bar.whole, bar.earned, bar.taken) == (whole, earned, whole - earned)


def test_the_taper_caption_says_where_the_floor_held(tmp_path):
    target = tmp_path / "frf.html"
    assert main(["report", str(POLICIES / "2020_21"), "--data", str(EXAMPLES / "2020_21.xlsx"), "-o", str(target)]) == 0
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", target.read_text(encoding="utf-8"), re.S)
    earned = next(c for c in captions if c.startswith("frf_org_earned for TRUST_A2"))
    assert "floor held" in earned and "£2,100,000.00" in earned and "£2,000,000.00" in earned


# ---- axes ----

def test_a_line_axis_not_from_zero_says_where_it_starts(erf_run):
    name, entity, pairs = _steps(erf_run, "bands")[0]
    steps = [step for _, step in pairs]
    chart = bands_chart(name, [p.label for p, _ in pairs], steps)
    start = re.search(r"axis starts at £([0-9.]+)m, not at £0", chart.note)
    assert start, chart.note
    lowest = min(min(s.detail["amount"], *(r["to"] for r in s.detail["rows"] if r["to"] is not None)) for s in steps)
    assert 0 < Fraction(start[1]) * 1_000_000 <= lowest + 50_000  # the axis' start, to the £0.1m it is shown in
    assert f"axis starts at £{start[1]}m" in chart.svg  # on the chart itself, not only in the caption


def test_every_caption_of_the_erf_report_carries_its_charts_note(erf_report):
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", erf_report, re.S)
    assert captions and all("axis starts at" in c for c in captions)


# ---- assumed defaults ----

def test_the_report_opens_with_the_assumed_defaults(erf_report, erf_run):
    section = erf_report[erf_report.index('<section id="defaults">'):erf_report.index("</section>")]
    assert erf_report.index('id="defaults"') < erf_report.index('id="organisations"')
    for d in run_defaults(erf_run):
        row = section[section.index(f"<code>{d['input']}</code>"):]
        row = row[:row.index("</tr>")]
        assert f"{d['assumed']} of {d['of']} entity-periods" in row
    gateway = section[section.index("<code>erf_gateway_met</code>"):]
    gateway = gateway[:gateway.index("</tr>")]
    assert "12 of 12" in gateway and "<code>erf_additional_funding</code>" in gateway and "§3.2" in gateway


def test_outputs_rest_on_a_default_only_when_it_was_assumed_and_they_depend_on_it(erf_run):
    summary = {d.input: d for d in assumed_defaults(erf_run)}
    assert summary["erf_gateway_met"].assumed == 12 and "erf_additional_funding" in summary["erf_gateway_met"].outputs
    for d in summary.values():
        assert bool(d.outputs) == bool(d.assumed)
        assert set(d.outputs) <= erf_run.plan.downstream([d.input])
    assert [(d.input, d.assumed, d.of) for d in summary.values()] == [
        (d["input"], d["assumed"], d["of"]) for d in run_defaults(erf_run)]


def test_the_workbook_has_an_assumed_defaults_sheet(erf_book, erf_run):
    rows = list(erf_book["Assumed defaults"].iter_rows(values_only=True))
    headings, by_input = rows[0], {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert headings[:5] == ("input", "default", "unit", "assumed for", "of entity-periods")
    for d in assumed_defaults(erf_run):
        row = by_input[d.input]
        assert (row["default"], row["assumed for"], row["of entity-periods"]) == (d.default, d.assumed, d.of)
        assert (row["outputs that rest on it"] or "") == ", ".join(d.outputs)
    assert "§3.2" in by_input["erf_gateway_met"]["citation"]


def test_the_compare_workbook_gives_each_runs_assumed_defaults(tmp_path):
    target = tmp_path / "compare.xlsx"
    assert main(["compare", *ERF, "--set", "erf_gateway_met = false", "--output", str(target)]) == 0
    rows = list(openpyxl.load_workbook(target)["Assumed defaults"].iter_rows(values_only=True))
    gateway = {r[0]: r[4] for r in rows[1:] if r[1] == "erf_gateway_met"}
    assert gateway == {"baseline": 12, "--set": 0}  # the scenario sets it: nothing is assumed


# ---- coverage of year totals ----

def test_coverage_counts_the_periods_present_of_the_span():
    year = parse_period("2021/22")
    months = year.parts("month")
    assert coverage(months, months).complete
    partial = coverage(months[:4], months[:6])
    assert not partial.complete and partial.label() == "April–July 2021 (4 of 6 months)"
    assert coverage(months[10:], months).label() == "February–March 2022 (2 of 12 months)"
    assert coverage(months[5:], months[:6]).present == (months[5],)  # outside the span: not counted


def test_a_year_total_over_part_of_the_data_says_which_months(erf_run, erf_report):
    totals = [t for t in year_totals(erf_run) if t.name == "erf_additional_funding"]
    assert totals
    present = erf_run.dataset.periods("month")
    for total in totals:
        assert not total.coverage.complete and len(total.coverage.expected) == 6  # during 2021-04 to 2021-09
        assert set(total.coverage.present) == set(present)
        assert total.value == sum(erf_run.get(total.name, total.entity, p) for p in total.coverage.present)
    assert f"total over {totals[0].coverage.label()}" in erf_report
    assert "total over April–July 2021 (4 of 6 months)" in erf_report


def test_the_totals_sheet_labels_each_total_and_holds_the_exact_sum(erf_book, erf_run):
    rows = list(erf_book["Totals"].iter_rows(values_only=True))
    assert rows[0] == ("output", "code", "organisation", "year", "covers", "total")
    by_key = {(t.name, t.entity): t for t in year_totals(erf_run)}
    assert len(rows) - 1 == len(by_key)
    for name, code, _, year, covers, value in rows[1:]:
        total = by_key[(name, code)]
        assert (year, covers) == (total.year.label, total.coverage.label())
        if isinstance(total.value, Missing):
            assert value == "missing"  # a total with a missing part is missing, never the sum of the rest
        elif total.unit == "money":
            assert Decimal(str(value)) == Decimal(money_text(total.value))
        else:
            assert value == total.value
    assert any(isinstance(t.value, Missing) for t in by_key.values())
