"""What the command line says about a problem: placed diagnostics, one-line errors and their tallies.

Severity words are coloured only at a terminal that wants colour (:mod:`.colour`).
"""

from __future__ import annotations

import sys

from ..diagnostics import format_diagnostic
from ..source import printable
from .colour import paint, paint_severities

__all__ = ["print_diagnostics", "error", "warning", "summary", "internal"]


def print_diagnostics(diagnostics, sources, stream) -> None:
    """Each diagnostic placed in its source (``file:line:col: error: ...`` and the line underlined), then a blank line."""
    for diagnostic in diagnostics:
        print(paint_severities(format_diagnostic(diagnostic, sources), stream), file=stream)
        print(file=stream)


def error(message: str) -> None:
    """``planlang: error: message`` on standard error."""
    print(f"planlang: {paint('error', 'error', sys.stderr)}: {message}", file=sys.stderr)


def warning(message: str) -> None:
    """``planlang: warning: message`` on standard error."""
    print(f"planlang: {paint('warning', 'warning', sys.stderr)}: {printable(message)}", file=sys.stderr)


def summary(diagnostics) -> str:
    """``2 errors, 1 warning``."""
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def internal(failure: Exception) -> None:
    """A failure planlang did not foresee, said in one line without a traceback."""
    print(f"planlang: internal error ({type(failure).__name__}: {failure}); please report it with the command you ran",
          file=sys.stderr)
