"""Renderers: what planlang computed, as text for people and JSON (or Markdown, CSV, Parquet) for programs.

This package owns every word and every figure's format; it reads results, explanation trees,
comparisons, diffs and sweeps, and computes nothing. By concept:

    values     one value: £1,234.50 for people, "1234.50" for JSON (the only part audit/ needs for figures)
    steps      a derivation: each step of an explanation tree in words, the tree drawn, the tree as JSON
    run        a run: run's tables, run --json's object, flag messages
    compare    scenarios against the baseline, and one derivation under both
    solve      a goal seek's answer
    rulebook   a pack's rules as Markdown
    diff       a rulebook diff (text, JSON, Markdown) and each change's share of an output's change
    sweep      a sweep's table and JSON; longform writes its every figure as CSV or Parquet
    jsontext   JSON text as json.dumps(indent=2) writes it, in pieces and faster

Money is shown to the penny; this rounding is for display only and never feeds a calculation.
"""

from .compare import compare_json, compare_text, explanation_compare_text, scenario_json
from .rulebook import rulebook_markdown
from .run import MissingRule, Selection, assumed_defaults, flag_message, late_message, missing_parts, run_json, run_text
from .solve import solve_text
from .steps import NAMED_KINDS, citation_text, detail_lines, explanation_json, explanation_text, head_text, named_operands
from .values import difference_text, format_value, json_value

__all__ = ["format_value", "json_value", "run_json", "run_text", "flag_message", "late_message", "explanation_text",
           "explanation_json", "assumed_defaults", "detail_lines", "citation_text", "named_operands", "NAMED_KINDS",
           "difference_text", "Selection", "head_text", "MissingRule", "missing_parts", "compare_json", "compare_text",
           "explanation_compare_text", "scenario_json", "solve_text", "rulebook_markdown"]
