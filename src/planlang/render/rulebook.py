"""A pack's rulebook as Markdown: every rule, its formula or values, its source, every interpretation
taken, and what the sources state that the pack does not encode (``planlang rules``)."""

from __future__ import annotations

from .. import syntax as s
from ..printer import GRANULARITY_WORDS, format_amendments, format_expr, format_value_clause

__all__ = ["rulebook_markdown"]


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rule_text(program, decl) -> str:
    """The rule itself in canonical planlang: its formula, its condition, or its values and amendments."""
    if isinstance(decl, s.InputDecl):
        return "" if decl.default is None else f"default {format_expr(decl.default)}"
    if isinstance(decl, s.ParameterDecl):
        amended = format_amendments(program.amendments.get(decl.name, ()))
        return format_value_clause(decl) + ("" if amended is None else f"; amended {amended}")
    if isinstance(decl, s.FlagDecl):
        return f"when {format_expr(decl.when)}"
    return f"= {format_expr(decl.value)}"


def _code_cell(text: str) -> str:
    return f"`{_cell_text(text)}`" if text else ""


def rulebook_markdown(program) -> str:
    """Every rule of a pack, its formula or values, its source, and every interpretation taken, as Markdown."""
    lines = [f"## {program.year}: {program.title}", ""]
    lines += [f"- `{src.name}`: {src.title or ''}" for src in program.sources.values()]
    lines += ["", "| name | kind | what it is | rule | source |", "|---|---|---|---|---|"]
    interpretations = []
    for name, decl in sorted(program.declarations.items(), key=lambda item: (item[1].span.file, item[1].span.line)):
        kind = s.RULE_KINDS.get(type(decl))
        if kind is None:
            continue
        shape = [x for x in (getattr(decl, "type", None) if kind != "flag" else getattr(decl, "severity", None),
                             " or ".join(getattr(decl, "kinds", ()) or ()) and "per " + " or ".join(decl.kinds),
                             GRANULARITY_WORDS.get(getattr(decl, "granularity", None))) if x]
        what = decl.description or (decl.message if isinstance(decl, s.FlagDecl) else "")
        sources = "; ".join(f"{c.source} {c.section}" for c in decl.citations)
        label = f"{kind} ({', '.join(shape)})" if shape else kind
        lines.append(f"| `{name}` | {label} | {_cell_text(what)} | {_code_cell(_rule_text(program, decl))} | {_cell_text(sources)} |")
        interpretations += [(name, decl.span, text) for text in decl.interpretations]
    for amendments in program.amendments.values():
        for amend in amendments:
            interpretations += [(f"{amend.name} (amended from {amend.effective})", amend.span, t) for t in amend.interpretations]
    lines += ["", f"### Interpretations taken in {program.year}", ""]
    lines += [f"- `{name}` ({span.file}:{span.line}): {text}" for name, span, text in interpretations] or ["- none"]
    lines += ["", f"### In the source, not encoded in {program.year}", "",
              "What the year's documents state that no rule of the pack encodes, in their words, and why "
              "(declared with `unencoded` in the pack).", ""]
    lines += [f"- `{p.citation.source}` {p.citation.section}: \"{_cell_text(p.citation.quote)}\"; why: "
              f"{_cell_text(p.reason)} ({p.span.file}:{p.span.line})"
              for source in program.sources.values() for p in source.unencoded] or ["- none"]
    return "\n".join(lines) + "\n"


