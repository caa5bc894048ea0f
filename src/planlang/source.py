"""Source text and positions. Anything that came from a policy file keeps its :class:`Span`."""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["Span", "SourceFile", "NO_SPAN", "read_source"]


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


def read_source(path: Path, name: str) -> SourceFile:
    """A policy file's text, shown in messages as ``name``; an unreadable file is an :class:`InputError`."""
    from .diagnostics import InputError  # diagnostics is built on this module

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text ({error.reason} at byte {error.start})", name) from None
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror}", name) from None
    return SourceFile(name, text)
