"""Rendering a rulebook diff: text for a terminal, JSON for programs, Markdown for a sign-off paper.

Within a changed clause the changed words are marked, found by comparing the canonical texts word
by word: ``[-old-]{+new+}`` in text and JSON, strike-through and bold in Markdown.
"""

from __future__ import annotations

import difflib
import re
from fractions import Fraction

from ..parser import vocabulary
from ..rulediff import Change, FieldChange, RulebookDiff, ValueChange
from .values import format_value, json_value

__all__ = ["diff_text", "diff_json", "diff_markdown", "marked_words"]

# the words of canonical planlang, as the grammar's terminals read them (so `£1,000` is one word and
# the comma in `max(£0, x)` another)
_WORD = re.compile("|".join([*(vocabulary().pattern(name) for name in ("STRING", "DATE", "FY_PERIOD", "MONTH", "MONEY",
                                                                      "PERCENT", "NUMBER", "SECTION", "NAME")),
                             r"[<>=!]=", r"\S"]))


def marked_words(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """(``same`` | ``old`` | ``new``, text) pieces that turn ``old`` into ``new`` word by word.

    Each piece keeps the space after it, so the ``same`` and ``old`` pieces make ``old`` again.

    >>> marked_words("taper a by b at 100% floor £0", "taper a by b at 50% floor £0")
    [('same', 'taper a by b at '), ('old', '100% '), ('new', '50% '), ('same', 'floor £0')]
    """
    old, new = old or "", new or ""
    a, b = list(_WORD.finditer(old)), list(_WORD.finditer(new))

    def text(source: str, words: list, i: int, j: int) -> str:
        return source[words[i].start(): words[j].start() if j < len(words) else len(source)]

    pieces: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, [m[0] for m in a], [m[0] for m in b],
                                                      autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", text(old, a, i1, i2)))
            continue
        if i2 > i1:
            pieces.append(("old", text(old, a, i1, i2)))
        if j2 > j1:
            pieces.append(("new", text(new, b, j1, j2)))
    return pieces


def _wrapped(old: str | None, new: str | None, wrap: dict[str, str], escape=lambda text: text) -> str:
    out = []
    for op, text in marked_words(old, new):
        words = text.rstrip()
        out.append(wrap[op].format(escape(words)) + text[len(words):])
    return "".join(out).rstrip()


def _marked(change: FieldChange) -> str:
    return _wrapped(change.old, change.new, {"same": "{}", "old": "[-{}-]", "new": "{{+{}+}}"})


def _periods(value: ValueChange) -> str:
    def run(first, last):
        return str(first) if last == first else f"{first} to {last}"

    text = run(value.first, value.last)
    return text if value.new_first is None else f"{text} (new: {run(value.new_first, value.new_last)})"


def _where(change: Change) -> str:
    spans = [str(d.span) for d in (change.old, change.new) if d is not None]
    return " -> ".join(dict.fromkeys(spans))


def _title(change: Change) -> str:
    if change.kind == "renamed":
        return f"renamed {change.declaration} {change.old_name} -> {change.name}"
    return f"{change.kind} {change.declaration} {change.name}"


def _header(diff: RulebookDiff) -> list[str]:
    old, new = diff.old, diff.new
    lines = [f"old: {old.directory}: {old.title} ({old.year})", f"new: {new.directory}: {new.title} ({new.year})"]
    if not diff.same_year:
        lines.append(f"the packs are for different years: parameter values are paired month by month "
                     f"({old.year.months()[0]} with {new.year.months()[0]}, and so on)")
    lines += [f"source added: {name}" for name in diff.sources_added]
    lines += [f"source removed: {name}" for name in diff.sources_removed]
    lines += [f'source retitled: {name}: "{before}" -> "{after}"' for name, before, after in diff.sources_retitled]
    return lines


def _counts(diff: RulebookDiff) -> str:
    counts = {kind: sum(c.kind == kind for c in diff.changes) for kind in ("changed", "renamed", "added", "removed")}
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def diff_text(diff: RulebookDiff) -> str:
    lines = _header(diff) + [""]
    for change in diff.changes:
        lines.append(f"{_title(change)}  ({_where(change)})")
        decl = change.new or change.old
        if change.kind in ("added", "removed") and decl.description:
            lines.append(f"  {decl.description}")
        for field in change.fields:
            lines.append(f"  {field.field}: {_marked(field)}")
        if change.follows_renames:
            lines.append(f"  (changed only by the rename of {', '.join(change.follows_renames)})")
        for value in change.values:
            lines.append(f"  value in {_periods(value)}: {format_value(value.old, value.type)} -> "
                         f"{format_value(value.new, value.type)}")
        lines += [f"  cites added: {c} {_quote(c.quote)}".rstrip() for c in change.citations_added]
        lines += [f"  cites removed: {c} {_quote(c.quote)}".rstrip() for c in change.citations_removed]
        lines += [f"  interpretation added: {text}" for text in change.interpretations_added]
        lines += [f"  interpretation removed: {text}" for text in change.interpretations_removed]
        lines.append("")
    lines.append(_counts(diff) if diff.changes else "no declarations changed")
    return "\n".join(lines) + "\n"


def _quote(quote: str | None) -> str:
    return "" if quote is None else f'"{quote}"'


def _citation_json(citation) -> dict:
    return {"source": citation.source, "section": citation.section, "quote": citation.quote, "at": str(citation.span)}


def _change_json(change: Change) -> dict:
    out = {"name": change.name, "kind": change.kind, "declaration": change.declaration}
    if change.old_name is not None:
        out["old_name"] = change.old_name
    out["replaces"] = list(change.replaces)
    out["old_at"] = None if change.old is None else str(change.old.span)
    out["new_at"] = None if change.new is None else str(change.new.span)
    out["follows_renames"] = list(change.follows_renames)
    out["fields"] = [{"field": f.field, "old": f.old, "new": f.new, "marked": _marked(f)} for f in change.fields]
    out["values"] = [{"first": str(v.first), "last": str(v.last),
                      **({} if v.new_first is None else {"new_first": str(v.new_first), "new_last": str(v.new_last)}),
                      "old": json_value(v.old, v.type), "new": json_value(v.new, v.type)} for v in change.values]
    out["citations"] = {"added": [_citation_json(c) for c in change.citations_added],
                        "removed": [_citation_json(c) for c in change.citations_removed]}
    out["interpretations"] = {"added": list(change.interpretations_added),
                              "removed": list(change.interpretations_removed)}
    return out


def diff_json(diff: RulebookDiff) -> dict:
    return {
        "old": {"policy": diff.old.directory, "title": diff.old.title, "year": str(diff.old.year)},
        "new": {"policy": diff.new.directory, "title": diff.new.title, "year": str(diff.new.year)},
        "sources": {"added": list(diff.sources_added), "removed": list(diff.sources_removed),
                    "retitled": [{"name": name, "old": before, "new": after} for name, before, after in diff.sources_retitled]},
        "changes": [_change_json(c) for c in diff.changes],
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    return "(none)" if text is None else "`" + text.replace("`", "'") + "`"


def _md_marked(field: FieldChange) -> str:
    return _wrapped(field.old, field.new, {"same": "{}", "old": "~~{}~~", "new": "**{}**"}, _md)


def diff_markdown(diff: RulebookDiff) -> str:
    """The changes as a paper to sign off: one section per change, old and new side by side."""
    title = f"Changes to the {diff.new.year} rules" if diff.same_year else f"Changes from {diff.old.year} to {diff.new.year}"
    lines = [f"# {title}", ""]
    lines += [f"- {line}" for line in _header(diff)]
    lines += ["", f"Summary: {_counts(diff) if diff.changes else 'no declarations changed'}.", ""]
    for change in diff.changes:
        lines += [f"## {_md(_title(change))}", "", f"At {_md(_where(change))}.", ""]
        decl = change.new or change.old
        if change.kind in ("added", "removed") and decl.description:
            lines += [_md(decl.description), ""]
        if change.follows_renames:
            lines += [f"Changed only by the rename of {_md(', '.join(change.follows_renames))}.", ""]
        if change.fields:
            lines += ["| clause | old | new | what changed |", "|---|---|---|---|"]
            lines += [f"| {f.field} | {_md(_code(f.old))} | {_md(_code(f.new))} | {_md_marked(f)} |" for f in change.fields]
            lines.append("")
        if change.values:
            lines += ["| periods | old value | new value |", "|---|---|---|"]
            lines += [f"| {_periods(v)} | {format_value(v.old, v.type)} | {format_value(v.new, v.type)} |"
                      for v in change.values]
            lines.append("")
        for verb, cites in (("added", change.citations_added), ("removed", change.citations_removed)):
            lines += [f"- citation {verb}: {_md(str(c))} {_md(_quote(c.quote))}".rstrip() for c in cites]
        for verb, texts in (("added", change.interpretations_added), ("removed", change.interpretations_removed)):
            lines += [f"- interpretation {verb}: {_md(t)}" for t in texts]
        if lines[-1] != "":
            lines.append("")
    lines += ["Signed off by: ____________________   Date: ____________", ""]
    return "\n".join(lines)


# ---- impact attribution ----

def impact_json(impacts) -> dict:
    """``{OUTPUT: {"baseline", "new", "difference", "by_change", "by_entity"}}`` in ``run --json``'s formats."""
    out = {}
    for impact in impacts:
        t = impact.type
        entry = {"baseline": json_value(impact.baseline, t), "new": json_value(impact.new, t),
                 "difference": json_value(impact.difference, t),
                 "by_change": {name: json_value(v, t) for name, v in impact.by_player.items()},
                 "by_entity": {e: {"baseline": json_value(b, t), "new": json_value(n, t),
                                   "by_change": {name: json_value(v, t) for name, v in shares.items()}}
                               for e, (b, n, shares) in impact.by_entity.items()},
                 "method": "exact Shapley values over every subset of changes" if impact.exact else
                           "Shapley values estimated over seeded random orders"}
        if impact.standard_error:
            entry["standard_error"] = {name: f"{error:.2f}" for name, error in impact.standard_error.items()}
        out[impact.output] = entry
    return out


def impact_text(impacts) -> str:
    """Each output's change, and how much of it each change causes (in any order of applying them)."""
    lines = []
    for impact in impacts:
        t = impact.type
        lines += ["", f"Impact on {impact.output} (total over every organisation and period): "
                      f"{format_value(impact.baseline, t)} -> {format_value(impact.new, t)}"
                      + (f", {format_value(impact.difference, t)}" if impact.difference is not None else "")]
        method = "Shapley values, exact over every subset of changes" if impact.exact else \
            "Shapley values estimated over seeded random orders (± one standard error)"
        lines.append(f"  shared among the changes by {method}; the shares add up to the difference:")
        width = max((len(name) for name in impact.by_player), default=0)
        for name, share in sorted(impact.by_player.items(), key=lambda item: -abs(float(item[1])) if isinstance(item[1], Fraction) else 0):
            error = f"  ± {impact.standard_error[name]:,.2f}" if impact.standard_error else ""
            lines.append(f"  {name:<{width}}  {format_value(share, t):>18}{error}")
    return "\n".join(lines) + ("\n" if lines else "")
