"""Scenarios against the baseline (``planlang compare``), as a table and as JSON, and one derivation
under both (``explain --set``): what changed, largest £ change first, with every changed outcome in words.
"""

from __future__ import annotations

from fractions import Fraction

from ..coverage import coverage_json
from ..explanation import TraceNode
from ..run import FlagResult, Results
from ..values import Missing, decimal_text, format_percent
from .run import flag_message, run_json
from .steps import NAMED_KINDS, detail_lines
from .values import format_value, json_value, period_label

__all__ = ["compare_json", "compare_text", "scenario_json", "flags_json", "explanation_compare_text"]


def scenario_json(scenario) -> dict:
    return {"name": scenario.name, "sets": [x.text for x in scenario.settings]}


def _difference_json(item) -> dict:
    difference = item.difference
    return {"baseline": json_value(item.baseline, item.type), "scenario": json_value(item.scenario, item.type),
            "difference": json_value(difference, item.type) if difference is not None else None}


def _flag_json(results: Results, flag: FlagResult) -> dict:
    return {"flag": flag.name, "severity": flag.severity, "entity": flag.entity, "period": period_label(flag.period),
            "message": flag_message(results, flag)}


def flags_json(comparison) -> dict:
    """The flags a scenario raises and clears, as :func:`compare_json` lists them."""
    return {"flags_raised": [_flag_json(comparison.scenario, f) for f in comparison.flags_raised],
            "flags_cleared": [_flag_json(comparison.baseline, f) for f in comparison.flags_cleared]}


def compare_json(comparisons) -> dict:
    """The baseline and every scenario, with what each changed, in ``run --json``'s value formats."""
    baseline = comparisons[0].baseline
    base = run_json(baseline, all_missing=True)
    out = {"policy": base["policy"], "year": base["year"], "data": base["data"],
           "baseline": {key: base[key] for key in ("results", "flags", "missing")}, "scenarios": []}
    for comparison in comparisons:
        scenario = run_json(comparison.scenario, all_missing=True)
        differences: dict = {}
        for item in comparison.differences:
            differences.setdefault(item.name, {}).setdefault(item.entity or "*", {})[period_label(item.period)] = _difference_json(item)
        totals: dict = {}
        for total in comparison.totals:
            entry = totals.setdefault(total.name, {})[period_label(total.period)] = _difference_json(total)
            if total.covers is not None:
                entry["covers"] = coverage_json(total.covers)
        out["scenarios"].append({
            **scenario_json(comparison.scenario.scenario),
            **{key: scenario[key] for key in ("results", "flags", "missing")},
            "differences": differences, "totals": totals,
            "totals_by_organisation": _year_totals_json(comparison.by_organisation),
            "totals_by_system": _year_totals_json(comparison.by_system),
            **flags_json(comparison),
            "became_missing": [{"output": d.name, "entity": d.entity, "period": period_label(d.period),
                                "because": d.scenario.describe()} for d in comparison.differences if d.change == "became missing"],
            "became_present": [{"output": d.name, "entity": d.entity, "period": period_label(d.period)}
                               for d in comparison.differences if d.change == "became present"],
        })
    return out


def _year_totals_json(totals) -> dict:
    """``{output: {code: {year: {baseline, scenario, difference, covers}}}}``."""
    out: dict = {}
    for total in totals:
        entry = out.setdefault(total.name, {}).setdefault(total.entity, {})[period_label(total.period)] = _difference_json(total)
        if total.covers is not None:
            entry["covers"] = coverage_json(total.covers)
    return out


def _change_text(item) -> str:
    difference = item.difference
    if difference is None:
        return item.change if item.change != "changed" else ""
    sign = "+" if difference > 0 else ""
    if item.type in ("percent", "ratio"):
        points = decimal_text(difference * 100, 2)
        return f"{sign}{points} percentage point{'s' * (abs(difference) != Fraction(1, 100))}"
    text = sign + format_value(difference, item.type)
    if isinstance(item.baseline, Fraction) and item.baseline != 0 and item.type not in ("percent", "ratio"):
        text += f" ({'+' if difference > 0 else ''}{format_percent(difference / abs(item.baseline), 1)})"
    return text


def _rows(rows: list[tuple[str, ...]]) -> list[str]:
    """Columns: the first left-aligned, the rest right-aligned, each as wide as its widest cell."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[0]) if k == 0 else cell.rjust(widths[k]) for k, cell in enumerate(row)).rstrip()
            for row in rows]


def _total_label(total) -> str:
    """A total's period; a year's total over part of the year says which part."""
    if total.covers is None or total.covers.complete:
        return period_label(total.period)
    return f"{period_label(total.period)}: {total.covers.label()}"


def compare_text(comparisons) -> str:
    """Baseline and scenarios side by side: what changed, largest £ change first; totals; flags raised and cleared."""
    baseline = comparisons[0].baseline
    program = baseline.program
    lines = [f"{program.title} ({program.year}) on {baseline.dataset.source}: baseline against "
             f"{len(comparisons)} scenario{'s' * (len(comparisons) != 1)}"]
    for comparison in comparisons:
        scenario = comparison.scenario.scenario
        lines += ["", f"Scenario {scenario.name}" + (f": {scenario.description}" if scenario.description else "")]
        lines += [f"  set {x.text}" if not x.text.startswith(("set ", "replace ")) else f"  {x.text}" for x in scenario.settings]
        lines.append("")
        if not comparison.differences:
            lines.append("No output changed.")
        else:
            lines.append(f"Changed ({len(comparison.differences)}):")
            rows = [("output [entity, period]", "baseline", "scenario", "change")]
            rows += [(f"{d.name} [{d.entity or '-'}, {period_label(d.period)}]", format_value(d.baseline, d.type),
                      format_value(d.scenario, d.type), _change_text(d)) for d in comparison.differences]
            lines += _rows(rows)
        if comparison.totals:
            lines += ["", "Totals over all organisations:"]
            rows = [("output [period]", "baseline", "scenario", "change")]
            rows += [(f"{t.name} [{_total_label(t)}]", format_value(t.baseline, t.type), format_value(t.scenario, t.type),
                      _change_text(t)) for t in comparison.totals]
            lines += _rows(rows)
        for title, totals in (("Year totals by organisation:", comparison.by_organisation),
                              ("Year totals by system (its trusts and CCGs):", comparison.by_system)):
            if totals:
                lines += ["", title]
                rows = [("output [code, year]", "baseline", "scenario", "change")]
                rows += [(f"{t.name} [{t.entity}, {_total_label(t)}]", format_value(t.baseline, t.type),
                          format_value(t.scenario, t.type), _change_text(t)) for t in totals]
                lines += _rows(rows)
        for title, flags, results in (("Flags raised", comparison.flags_raised, comparison.scenario),
                                      ("Flags cleared", comparison.flags_cleared, comparison.baseline)):
            if flags:
                lines += ["", f"{title} ({len(flags)}):"]
                lines += [f"  {f.severity:<7} {f.name} [{f.entity}, {period_label(f.period)}]: {flag_message(results, f)}"
                          for f in flags]
    return "\n".join(lines)


def _same_tree(a: TraceNode, b: TraceNode) -> bool:
    if a.kind != b.kind or a.label != b.label or format_value(a.value, a.type) != format_value(b.value, b.type) \
            or len(a.children) != len(b.children) or ("setting" in a.detail) != ("setting" in b.detail):
        return False
    return all(_same_tree(x, y) for x, y in zip(a.children, b.children))


def _outcome_changes(before: TraceNode, after: TraceNode) -> list[str]:
    """Bands, branches and conditions whose outcome the scenario changed, in words."""
    d, b = after.detail, before.detail
    if after.kind == "bands" and "applied" in d and "applied" in b and d["applied"] != b["applied"]:
        rate = format_percent(d["rows"][d["applied"]]["rate"])
        return [f"now ends in band {d['applied'] + 1}, {rate}, instead of band {b['applied'] + 1}"]
    if after.kind == "condition" and d.get("branch") != b.get("branch") and d.get("branch") and b.get("branch"):
        return [f"now the {d['branch']} branch applies, instead of the {b['branch']} branch"]
    if after.kind in ("comparison", "flag") and isinstance(after.value, bool) and isinstance(before.value, bool) \
            and after.value != before.value:
        return [f"now {format_value(after.value, 'bool')}, instead of {format_value(before.value, 'bool')}"]
    if after.kind == "tolerance" and "within" in d and "within" in b and d["within"] != b["within"]:
        return [f"now {'within' if d['within'] else 'beyond'} the tolerance, instead of {'within' if b['within'] else 'beyond'}"]
    if after.kind == "taper":
        return [f"now {'held at' if d.get(k) else 'no longer held at'} the {k[:-2] if k == 'floored' else 'cap'}"
                for k in ("floored", "capped") if k in d and k in b and d[k] != b[k]]
    return []


def explanation_compare_text(before: TraceNode, after: TraceNode) -> str:
    """One derivation under baseline and scenario: each node shows both values where they differ, the
    scenario's settings and every changed outcome are said in words, unchanged subtrees collapse."""
    lines: list[str] = []
    _compare_tree(before, after, "", True, True, set(), lines)
    return "\n".join(lines)


def _compare_tree(before, after: TraceNode, prefix: str, last: bool, root: bool, shown: set, lines: list[str]) -> None:
    where = ""
    if after.kind in NAMED_KINDS and (after.entity or after.period):
        where = " " + " ".join(x for x in (f"for {after.entity}" if after.entity else "",
                                           f"in {after.period}" if after.period else "") if x)
    value = format_value(after.value, after.type)
    head = f"{after.label}{where} = {value}"
    if before is None:
        head += "  (not in the baseline's derivation)"
    elif format_value(before.value, before.type) != value:
        head += f"  (baseline {format_value(before.value, before.type)})"
    lines.append(head if root else prefix + ("└─ " if last else "├─ ") + head)
    body = "" if root else prefix + ("   " if last else "│  ")
    key = (after.kind, after.label, after.entity, after.period)
    if before is not None and _same_tree(before, after):
        lines[-1] += "  (unchanged)"
        return
    if after.kind in NAMED_KINDS and key in shown:
        lines[-1] += "  (shown above)"
        return
    shown.add(key)
    info = [after.description] if after.description and root else []
    if after.formula and after.formula != after.label:
        info.append("= " + after.formula)
    info += detail_lines(after)
    if "setting" in after.detail and before is not None:
        info[-1] += f", baseline {format_value(before.value, before.type)}"
    if before is not None:
        info += _outcome_changes(before, after)
    if isinstance(after.value, Missing) and after.kind != "input":
        info.append("missing because " + after.value.describe())
    bar = "│ " if after.children else "  "
    lines += [body + bar + line for line in info]
    olds = {(c.kind, c.label, c.entity, c.period): c for c in (before.children if before is not None else ())}
    for k, child in enumerate(after.children):
        _compare_tree(olds.get((child.kind, child.label, child.entity, child.period)), child, body,
                      k == len(after.children) - 1, False, shown, lines)

