"""Colour for people at a terminal, and only there: never in a pipe or a file, never under NO_COLOR.

NO_COLOR (https://no-color.org) turns colour off when it is set to anything but the empty string;
TERM=dumb does too.
"""

from __future__ import annotations

import os
import re

__all__ = ["enabled", "paint", "paint_severities"]

_CODES = {"error": "1;31", "warning": "1;33", "info": "1;34", "ok": "32", "fail": "1;31"}


def enabled(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def paint(text: str, role: str, stream) -> str:
    """``text`` in the colour of ``role`` when ``stream`` is a terminal that wants colour."""
    return f"\033[{_CODES[role]}m{text}\033[0m" if enabled(stream) else text


_SEVERITY = re.compile(r"(?<![\w-])(error|warning|info)(?=:| )")


def paint_severities(text: str, stream) -> str:
    """Colour the severity words of diagnostics and flags (``error:``, ``warning ``) in printed text."""
    if not enabled(stream):
        return text
    return "\n".join(_SEVERITY.sub(lambda m: paint(m[1], m[1], stream), line, count=1) for line in text.split("\n"))
