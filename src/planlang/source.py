"""Source text and positions. Anything that came from a policy file keeps its :class:`Span`."""

from __future__ import annotations

import attrs

__all__ = ["Span", "SourceFile", "NO_SPAN"]


@attrs.frozen
class Span:
    """A region of a source file: 1-based line and column, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of ``other``."""
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)

    def as_dict(self) -> dict:
        return attrs.asdict(self)


NO_SPAN = Span("<builtin>", 0, 0, 0, 0)


@attrs.frozen
class SourceFile:
    """A policy file's name (as shown in messages) and its text."""

    name: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 1 <= number <= len(lines) else ""
