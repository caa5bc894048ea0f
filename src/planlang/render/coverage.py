"""A rule-coverage report (:mod:`planlang.assurance.coverage`) in words and as JSON.

Text: what was run and the score, the score of each kind of part, each rule's parts covered, then
each part not covered at its ``file:line:column``, in words a reviewer can check against the rule.
"""

from __future__ import annotations

__all__ = ["part_text", "coverage_text", "coverage_json", "coverage_section", "KIND_WORDS"]

KIND_WORDS = {"band": "bands", "taper": "taper segments", "branch": "if branches", "within": "within outcomes",
              "flag": "flags raised and not raised", "deadline": "dates before, on and after", "missing": "missing-value paths"}

_STEPS = {"bands": "its bands", "taper": "its taper", "if": "its condition", "within": "its within",
          "date comparison": "its date comparison", "flag": "its condition"}


def part_text(part) -> str:
    """The part in words: ``below erf_lower_threshold``, ``else (when fit_agreed does not hold)``, ..."""
    words, outcome = part.words, part.outcome
    if part.kind == "band":
        if outcome.startswith("on "):
            return f"exactly on the threshold {words[0]}"
        if len(words) == 2:
            return f"between {words[0]} and {words[1]}"
        return f"below {words[0]}" if outcome == "band 0" else f"above {words[0]}"
    if part.kind == "taper":
        return {"none": "no reduction", "partial": "a partial reduction", "floored": "held at its floor",
                "capped": "held at its cap"}[outcome]
    if part.kind == "branch":
        return f"then (when {words[0]} holds)" if outcome == "then" else f"else (when {words[0]} does not hold)"
    if part.kind == "within":
        return "within the tolerance" if outcome == "within" else "outside the tolerance"
    if part.kind == "flag":
        return outcome
    if part.kind == "deadline":
        return {"before": f"{words[0]} before {words[1]} (due)", "on": f"{words[0]} on {words[1]}",
                "after": f"{words[0]} after {words[1]} (past)"}[outcome]
    return f"missing ({_STEPS.get(part.step, part.step)} has a missing operand)"


def _percent(score) -> str:
    return "n/a" if score is None else f"{float(score) * 100:.1f}%"


def coverage_text(title: str, report) -> str:
    covered, total = report.counts()
    lines = [f"{title}: coverage by {report.by} ({report.cells} cell{'s' * (report.cells != 1)} traced): "
             f"{covered} of {total} parts, {_percent(report.score())}", ""]
    for kind, words in KIND_WORDS.items():
        got, of = report.counts(kind)
        if of:
            lines.append(f"  {words:<30} {got:>4} of {of:<4} {_percent(report.score(kind)):>6}")
    by_rule: dict[str, list] = {}
    for part in report.parts:
        by_rule.setdefault(part.rule, []).append(part)
    if by_rule:
        lines += ["", "rules:"]
        width = max(map(len, by_rule))
        for rule, parts in by_rule.items():
            got = sum(map(report.covered, parts))
            lines.append(f"  {rule.ljust(width)}  {got} of {len(parts)}")
    uncovered = report.uncovered
    if uncovered:
        lines += ["", "not covered:"]
        for part in uncovered:
            lines.append(f"{part.span.file}:{part.span.line}:{part.span.column}: {part.rule}: {part.kind}: {part_text(part)}")
    return "\n".join(lines)


def coverage_json(report) -> dict:
    def score(kind=None):
        value = report.score(kind)
        return None if value is None else float(value)

    covered, total = report.counts()
    kinds = {}
    for kind in KIND_WORDS:
        got, of = report.counts(kind)
        if of:
            kinds[kind] = {"covered": got, "total": of, "score": score(kind)}
    return {"by": report.by, "cells": report.cells, "covered": covered, "total": total, "score": score(), "kinds": kinds,
            "parts": [{"rule": p.rule, "kind": p.kind, "outcome": p.outcome, "description": part_text(p),
                       "file": p.span.file, "line": p.span.line, "column": p.span.column,
                       "hits": report.hits.get(p.key, 0), "covered": report.covered(p)} for p in report.parts]}


def coverage_section(report) -> dict:
    """What the HTML report's Rule coverage section shows of one report: its scores and each uncovered part."""
    found = coverage_json(report)
    return {"by": found["by"], "covered": found["covered"], "total": found["total"], "percent": _percent(report.score()),
            "kinds": [dict(words=KIND_WORDS[kind], **counts) for kind, counts in found["kinds"].items()],
            "uncovered": [part for part in found["parts"] if not part["covered"]]}
