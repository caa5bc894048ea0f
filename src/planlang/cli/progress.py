"""A progress bar for long commands, on standard error when it is a terminal, and silent otherwise.

The line is redrawn in place (a carriage return, then the line), at most ten times a second, and
cleared when the work ends, so nothing of it is left in what a terminal shows afterwards. When
standard error is a file or a pipe nothing at all is written: logs and captured output stay clean.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]

_WIDTH = 24
_INTERVAL = 0.1  # seconds between redraws


class Progress:
    """``with Progress(total, "steps") as bar: ... bar.advance(n)``."""

    def __init__(self, total: int, unit: str, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.shown = bool(isatty and isatty())
        self.total, self.unit, self.done = total, unit, 0
        self.started = self.drawn = time.monotonic()

    def __enter__(self) -> "Progress":
        return self

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.shown and (now - self.drawn >= _INTERVAL or self.done == self.total):
            self.drawn = now
            self._draw(self.line(now - self.started))

    def line(self, elapsed: float) -> str:
        """``[#######.................]  1,234/10,000 steps  12%  3.1 s, about 22 s left``."""
        share = self.done / self.total if self.total else 1.0
        filled = int(share * _WIDTH)
        left = f", about {elapsed / share - elapsed:,.0f} s left" if 0 < share < 1 else ""
        return (f"[{'#' * filled}{'.' * (_WIDTH - filled)}]  {self.done:,}/{self.total:,} {self.unit}  {share:4.0%}  "
                f"{elapsed:,.1f} s{left}")

    def _draw(self, text: str) -> None:
        # the command line's stream escapes control characters in text it passes on; the carriage return here is ours
        getattr(self.stream, "write_control", self.stream.write)("\r" + text + "\x1b[K")
        self.stream.flush()

    def __exit__(self, *exc) -> None:
        if self.shown:
            self._draw("")
