"""The HTML audit report: one self-contained file (inline CSS, JavaScript and SVG; nothing fetched).

For each organisation: its figures grouped by scheme, each expandable to its derivation down to the
input cell; its raised flags with the guidance's words; charts of banded payments and tapers. Then
every rule with its citation, quoted in the context of the source document, and the run's receipt.
A search box filters organisations and rules. Built with Jinja2 templates shipped in the package,
autoescaped: text from a policy or a data file is always shown, never interpreted.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2

from .. import syntax as s
from ..assumptions import assumed_defaults
from ..explanation import TraceNode, explain
from ..files import write_text_atomically
from ..render.run import flag_message
from ..render.steps import NAMED_KINDS, detail_lines, head_text
from ..render.values import format_value
from ..run import Results
from ..values import Missing
from .charts import bands_chart, find_step, taper_chart
from .layout import RULE_KINDS, rule_formula, rules, scheme_of, scheme_order, unit_of, year_totals
from .provenance import origin_of
from .sources import SourceLibrary

__all__ = ["report_html", "write_report", "explanations_html"]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("planlang.audit", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


class _Builder:
    def __init__(self, results: Results, library: SourceLibrary, shown: list[tuple] | None = None,
                 baseline: Results | None = None):
        """``shown``: the (name, entity, period) the document displays, to which derivations link;
        by default every output and every raised flag."""
        self.results = results
        self.baseline = baseline  # under a scenario: the baseline run, whose figure is shown beside each changed one
        self.program = results.program
        self.library = library
        self.raised = [f for f in results.flags if f.fired is True]
        if shown is None:
            shown = [(n, e, p) for n, e, p, _ in results.outputs()] + [(f.name, f.entity, f.period) for f in self.raised]
        self.ids: dict[tuple, str] = {key: f"f{k}" for k, key in enumerate(shown)}
        self.totals: dict[tuple, list] = {}
        for total in year_totals(results):
            self.totals.setdefault((total.name, total.entity), []).append(
                {"covers": total.coverage.label(), "shown": format_value(total.value, total.unit)})

    # ---- citations with the guidance's own words ----
    def citation(self, citation: s.Citation) -> dict:
        source = self.program.sources.get(citation.source)
        return {"source": citation.source, "section": citation.section, "quote": citation.quote,
                "title": source.title if source is not None else None,
                "passage": self.library.passage(citation.source, citation.quote),
                "found": self.library.locate(citation.source) is not None}

    # ---- derivations ----
    def tree(self, node: TraceNode, shown: set, root: bool = False) -> dict:
        key = (node.label, node.entity, node.period)
        step = {"head": head_text(node), "kind": node.kind, "link": None, "lines": [], "children": [], "cites": [],
                "origin": None}
        if not root and node.kind in NAMED_KINDS and key in self.ids:
            return step | {"link": self.ids[key]}  # a figure the document shows: link to it, do not repeat it
        if node.kind in NAMED_KINDS and key in shown:
            return step | {"lines": ["(derivation shown above)"]}
        shown.add(key)
        lines = []
        if not root and node.description:
            lines.append(node.description)
        if node.formula and node.formula != node.label:
            lines.append("= " + node.formula)
        if node.kind != "input":
            lines += detail_lines(node)
        if isinstance(node.value, Missing) and node.kind != "input":
            lines.append("missing because " + node.value.describe())
        if not root:
            lines += list(node.interpretations)
        return step | {"lines": lines, "origin": origin_of(node) if node.kind == "input" else None,
                       "cites": [self.citation(c) for c in node.citations] if not root else [],
                       "children": [self.tree(child, shown) for child in node.children]}

    def figure(self, name: str, entity, period) -> dict:
        node = explain(self.results, name, entity, period)
        shown = format_value(node.value, node.type)
        before = None
        if self.baseline is not None:
            before = format_value(self.baseline.get(name, entity, period), node.type)
        return {"id": self.ids[(name, entity, period)], "period": period.label if period is not None else "",
                "shown": shown, "missing": isinstance(node.value, Missing),
                "baseline": before if before is not None and before != shown else None,
                "tree": self.tree(node, set(), root=True)}

    # ---- an organisation ----
    def organisation(self, code, name: str, kind: str, keys: list[tuple]) -> dict:
        by_name: dict[str, list] = {}
        for output, period in keys:
            by_name.setdefault(output, []).append(period)
        schemes: dict[str, list] = {}
        for output in scheme_order(self.program, by_name):
            decl = self.program.declarations[output]
            schemes.setdefault(scheme_of(decl), []).append({
                "name": output, "description": decl.description, "unit": unit_of(decl),
                "interpretations": list(decl.interpretations), "cites": [self.citation(c) for c in decl.citations],
                "cells": [self.figure(output, code, p) for p in by_name[output]],
                "totals": self.totals.get((output, code), [])})
        flags = [self.flag(f) for f in self.raised if f.entity == code]
        search = " ".join([code or "", name, *by_name]).lower()
        return {"code": code, "name": name, "kind": kind,
                "schemes": [{"name": k, "figures": v} for k, v in schemes.items()], "flags": flags,
                "charts": self.charts(code, by_name), "search": search}

    def flag(self, flag) -> dict:
        decl = self.program.declarations[flag.name]
        node = explain(self.results, flag.name, flag.entity, flag.period)
        return {"id": self.ids[(flag.name, flag.entity, flag.period)], "name": flag.name, "severity": flag.severity,
                "period": flag.period.label if flag.period else "", "message": flag_message(self.results, flag),
                "cites": [self.citation(c) for c in decl.citations], "tree": self.tree(node, set(), root=True)}

    def charts(self, code, by_name: dict[str, list]) -> list[dict]:
        charts = []
        for output in scheme_order(self.program, by_name):
            periods = by_name[output]
            if len(periods) < 2:
                continue
            for kind, draw in (("bands", bands_chart), ("taper", taper_chart)):
                found = [(p, find_step(explain(self.results, output, code, p), kind)) for p in periods]
                found = [(p, step) for p, step in found if step is not None]
                if len(found) >= 2:
                    title = f"{output} for {code}" if code else output
                    chart = draw(title, [p.label for p, _ in found], [step for _, step in found])
                    charts.append({"title": title, "kind": kind, "svg": chart.svg, "note": chart.note})
        return charts

    def defaults(self) -> list[dict]:
        """Each input declared with a default: how often the run assumed it, and what rests on it."""
        return [{"input": d.input, "default": d.default, "assumed": d.assumed, "of": d.of, "outputs": list(d.outputs),
                 "cites": [self.citation(c) for c in d.citations], "declared": d.declared}
                for d in assumed_defaults(self.results)]

    # ---- the whole report ----
    def organisations(self) -> list[dict]:
        keys: dict = {}
        for name, entity, period, _ in self.results.outputs():
            keys.setdefault(entity, []).append((name, period))
        dataset = self.results.dataset
        out = []
        if None in keys:
            out.append(self.organisation(None, "The whole pack", "", keys[None]))
        for code, org in dataset.organisations.items():
            if code in keys or any(f.entity == code for f in self.raised):
                out.append(self.organisation(code, org.name, org.kind, keys.get(code, [])))
        return out

    def rules(self) -> list[dict]:
        found = []
        for name in rules(self.program):
            decl = self.program.declarations[name]
            found.append({"name": name, "kind": RULE_KINDS[type(decl)], "scheme": scheme_of(decl), "unit": unit_of(decl),
                          "description": decl.description or (decl.message if isinstance(decl, s.FlagDecl) else ""),
                          "formula": rule_formula(decl),
                          "cites": [self.citation(c) for c in decl.citations],
                          "interpretations": list(decl.interpretations),
                          "declared": f"{decl.span.file}:{decl.span.line}",
                          "search": f"{name} {decl.description or ''}".lower()})
        return found


def report_html(results: Results, *, sources: str | os.PathLike | None = None, receipt: dict | None = None,
                comparison=None, coverage=()) -> str:
    """The report as one HTML document; with a :class:`~planlang.compare.Comparison`, of its scenario's run,
    each changed figure beside the baseline's and the scenario's settings and changes listed first; with
    ``coverage`` (rule-coverage reports as :func:`planlang.render.coverage.coverage_section` gives them), a section
    of what each exercised."""
    program = results.program
    builder = _Builder(results, SourceLibrary(program.directory, sources),
                       baseline=comparison.baseline if comparison is not None else None)
    scenario = None
    if comparison is not None:
        scenario = {"name": results.scenario.name, "description": results.scenario.description,
                    "sets": [x.text for x in results.scenario.settings],
                    "changes": [{"output": d.name, "entity": d.entity or "", "period": d.period.label if d.period else "",
                                 "baseline": format_value(d.baseline, d.type), "scenario": format_value(d.scenario, d.type)}
                                for d in comparison.differences],
                    "raised": [f"{f.name} [{f.entity}]" for f in comparison.flags_raised],
                    "cleared": [f"{f.name} [{f.entity}]" for f in comparison.flags_cleared]}
    missing = [{"output": n, "entity": e or "", "period": p.label if p else "", "because": v.describe()}
               for n, e, p, v in results.missing]
    return _environment().get_template("report.html.j2").render(
        title=program.title, year=str(program.year), data=results.dataset.source,
        sources=[{"name": name, "title": src.title, "found": builder.library.locate(name) is not None}
                 for name, src in program.sources.items()],
        organisations=builder.organisations(), rules=builder.rules(), missing=missing, receipt=receipt, scenario=scenario,
        defaults=builder.defaults(), coverage=list(coverage))



def explanations_html(results: Results, keys: list[tuple], heading: str, *,
                      sources: str | os.PathLike | None = None) -> str:
    """Every value of ``keys`` (name, entity, period) with its derivation, as one HTML document."""
    program = results.program
    builder = _Builder(results, SourceLibrary(program.directory, sources), keys)
    items = []
    for name, entity, period in keys:
        node = explain(results, name, entity, period)
        decl = program.declarations[name]
        items.append({"id": builder.ids[(name, entity, period)], "name": name, "description": decl.description,
                      "shown": format_value(node.value, node.type), "missing": isinstance(node.value, Missing),
                      "cites": [builder.citation(c) for c in decl.citations],
                      "tree": builder.tree(node, set(), root=True)})
    return _environment().get_template("explain.html.j2").render(
        title=program.title, year=str(program.year), data=results.dataset.source, heading=heading, items=items)


def write_report(path: str | os.PathLike, results: Results, **options) -> None:
    """Write the report atomically."""
    write_text_atomically(Path(path), report_html(results, **options))
