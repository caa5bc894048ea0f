"""A mutation-testing report (:func:`planlang.assurance.mutate.mutate`) in words and as JSON.

Text: the totals and score, one line per file with its score, then each surviving mutant as a one-line
diff at its ``file:line``, then the equivalent mutants with the register's reason.
"""

from __future__ import annotations

__all__ = ["mutation_text", "mutation_json", "score_text"]


def score_text(score) -> str:
    return "n/a" if score is None else f"{float(score) * 100:.1f}%"


def _counts_text(counts: dict) -> str:
    total = sum(counts.values())
    parts = [f"{total} mutant{'s' * (total != 1)}", f"{counts['killed']} killed", f"{counts['survived']} survived"]
    parts += [f"{counts[key]} {key}" for key in ("equivalent", "stillborn", "not run") if counts[key]]
    return ", ".join(parts)


def mutation_text(title: str, report) -> str:
    lines = [f"{title}: {_counts_text(report.counts())}; score {score_text(report.score())}", ""]
    width = max((len(f) for f in report.files), default=0)
    for file in report.files:
        lines.append(f"  {file.ljust(width)}  {score_text(report.score(file)).rjust(6)}  {_counts_text(report.counts(file))}")
    if report.survivors:
        lines += ["", "survivors (no test fails on these one-line changes):"]
        for outcome in report.survivors:
            mutant = outcome.mutant
            lines.append(f"{mutant.file}:{mutant.line}:{mutant.column}: {mutant.change}")
            lines.append(f"  - {mutant.before.strip()}")
            lines.append(f"  + {mutant.after.strip()}")
    equivalent = [o for o in report.outcomes if o.equivalent]
    if equivalent:
        lines += ["", "equivalent (listed in the register):"]
        for outcome in equivalent:
            mutant = outcome.mutant
            lines.append(f"{mutant.file}:{mutant.line}:{mutant.column}: {mutant.change}: {outcome.equivalent}")
    return "\n".join(lines)


def mutation_json(report) -> dict:
    def score(file=None):
        value = report.score(file)
        return None if value is None else float(value)

    return {"digest": report.digest, "counts": report.counts(), "score": score(),
            "files": [{"file": f, "counts": report.counts(f), "score": score(f)} for f in report.files],
            "mutants": [{"file": o.mutant.file, "line": o.mutant.line, "column": o.mutant.column, "change": o.mutant.change,
                         "before": o.mutant.before, "after": o.mutant.after, "status": o.status, "killed_by": o.by,
                         "equivalent": o.equivalent} for o in report.outcomes]}
