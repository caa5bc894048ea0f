"""Diagnostics: what went wrong, where, what was expected, and a likely fix.

A stage collects every diagnostic it finds before failing; :class:`PolicyError` carries them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

import attrs

from .source import SourceFile, Span, printable

__all__ = ["Diagnostic", "Note", "PolicyError", "InputError", "suggest", "format_diagnostic", "has_errors", "placed"]


@attrs.frozen
class Note:
    """A secondary position that explains a diagnostic (a step of a dependency cycle, a first declaration)."""

    span: Span
    message: str


@attrs.frozen
class Diagnostic:
    severity: str  # "error" or "warning"
    message: str
    span: Span
    suggestion: str | None = None
    notes: tuple[Note, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class PolicyError(Exception):
    """A policy pack that does not compile; ``diagnostics`` holds every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile] | None = None):
        self.diagnostics = tuple(diagnostics)
        self.sources = dict(sources or {})
        super().__init__(f"{sum(d.is_error for d in self.diagnostics)} error(s) in the policy")

    def __str__(self) -> str:
        # the placed diagnostics themselves: a caller from Python sees what the command line prints
        return placed(self.args[0], self.diagnostics, self.sources)


def placed(summary: str, diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    """A summary line, then every diagnostic placed and underlined (uncoloured), for an exception's message."""
    return "\n\n".join([summary, *(format_diagnostic(d, sources) for d in diagnostics)])


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def suggest(name: str, candidates: Iterable[str], cutoff: float = 0.7) -> str | None:
    """A 'did you mean' for a misspelt name, or None.

    >>> suggest("erf_treshold_pct", ["erf_threshold_pct", "erf_actual"])
    'did you mean `erf_threshold_pct`?'
    """
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return f"did you mean `{matches[0]}`?" if matches else None


# a line longer than this is quoted around the span only, so a generated one-line file stays readable
_EXCERPT_WIDTH = 120
_CONTEXT = 40


def _excerpt(span: Span, sources: Mapping[str, SourceFile]) -> list[str]:
    source = sources.get(span.file)
    if source is None or span.line < 1:
        return []
    text = source.line(span.line).expandtabs(1)
    if not text.strip():
        return []
    start = span.column - 1
    stop = max(start + 1, span.end_column - 1 if span.end_line == span.line else len(text))
    left, right = 0, len(text)
    if len(text) > _EXCERPT_WIDTH:
        left, right = max(0, start - _CONTEXT), min(len(text), min(stop, start + _CONTEXT) + _CONTEXT)
    # an unsafe character is shown escaped (\u0085), and the underline widens with it
    shown = [printable(char) for char in text[left:right]]
    opening, closing = ("…" if left else ""), ("…" if right < len(text) else "")
    before = len(opening) + sum(map(len, shown[: start - left]))
    width = max(1, sum(map(len, shown[start - left: stop - left])))
    gutter = f"{span.line:>4} | "
    return [gutter + opening + "".join(shown) + closing, " " * (len(gutter) + before) + "^" * width]


def format_diagnostic(diagnostic: Diagnostic, sources: Mapping[str, SourceFile]) -> str:
    """``file:line:col: error: message``, the source line with the span underlined, notes, suggestion."""
    lines = [printable(f"{diagnostic.span}: {diagnostic.severity}: {diagnostic.message}")]
    lines += _excerpt(diagnostic.span, sources)
    for note in diagnostic.notes:
        lines.append(printable(f"{note.span}: note: {note.message}"))
        lines += _excerpt(note.span, sources)
    if diagnostic.suggestion:
        lines.append(printable(f"  help: {diagnostic.suggestion}"))
    return "\n".join(lines)


class InputError(Exception):
    """Bad data or usage: an unreadable file, an unknown entity, a bad period. ``where`` names the place."""

    def __init__(self, message: str, where: str | None = None, suggestion: str | None = None):
        self.message, self.where, self.suggestion = message, where, suggestion
        super().__init__(f"{where}: {message}" if where else message)

    def __str__(self) -> str:
        # one line each, whatever the data held: a code or key with a newline in it cannot forge a line
        text = printable(f"{self.where}: {self.message}" if self.where else self.message)
        return text + (f"\n  help: {printable(self.suggestion)}" if self.suggestion else "")


class UsageError(InputError):
    """A command line that cannot be carried out as given: an unknown option value, a missing argument."""


class DataErrors(InputError):
    """Every bad value found in one data file (up to a limit), reported together rather than one per run."""

    def __init__(self, errors: list[InputError], source: str, stopped: bool = False):
        self.errors, self.source, self.stopped = list(errors), source, stopped
        more = f" (stopped after the first {len(errors)})" if stopped else ""
        super().__init__(f"{len(errors)} problems{more}", source)

    @property
    def summary(self) -> str:
        return super().__str__()

    def __str__(self) -> str:
        return "\n".join([self.summary, *map(str, self.errors)])
