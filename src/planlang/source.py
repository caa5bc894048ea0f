"""Source text and positions. Anything that came from a policy file keeps its :class:`Span`.

A policy file's lines end only at ``\\n`` (a ``\\r`` just before it is dropped). :meth:`str.splitlines`
would also break at U+0085, U+2028, ``\\v``, ``\\f`` and more, which editors, git and ``wc -l`` do
not: a "comment" could then hide a live rule. Those characters, every other control character but
tab, bidirectional controls and lone surrogates are :data:`UNSAFE`: refused in policy files, codes and
periods, and escaped wherever user text reaches a terminal.

>>> SourceFile("a.plan", "one\\r\\ntwo\\x85three\\n").lines
('one', 'two\\x85three')
>>> printable("S1\\x1b[2J\\n")
'S1\\\\u001b[2J\\\\u000a'
>>> character_name("\\u202e")
'U+202E (RIGHT-TO-LEFT OVERRIDE)'
"""

from __future__ import annotations

import functools
import re
import unicodedata

import attrs

__all__ = ["Span", "SourceFile", "NO_SPAN", "UNSAFE", "printable", "character_name", "not_utf8"]

# C0 and C1 controls (tab and newline are let through by callers that allow them), line and paragraph
# separators, the bidirectional marks, embeddings, overrides and isolates (the "Trojan Source" characters),
# and the surrogate code points, which no UTF-8 text can hold and no terminal can print
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")

# control characters have no Unicode name; these are the ones that read as line breaks
_CONTROL_NAMES = {"\x00": "NUL", "\t": "TAB", "\n": "LINE FEED", "\x0b": "LINE TABULATION", "\x0c": "FORM FEED",
                  "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE", "\x1c": "FILE SEPARATOR", "\x1d": "GROUP SEPARATOR",
                  "\x1e": "RECORD SEPARATOR", "\x1f": "UNIT SEPARATOR", "\x7f": "DELETE", "\x85": "NEXT LINE"}


def character_name(char: str) -> str:
    """``U+0085 (NEXT LINE)``: a character as a message can name it without printing it."""
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "")
    if not name:
        name = "a lone surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "a control character"
    return f"U+{ord(char):04X} ({name})"


def printable(text: str, keep: str = "") -> str:
    """``text`` with every :data:`UNSAFE` character but those in ``keep`` written as ``\\uXXXX``.

    The escape is also a JSON escape, so JSON output stays valid JSON.
    """
    return _unsafe_but(keep).sub(lambda m: f"\\u{ord(m[0]):04x}", text)


@functools.lru_cache(maxsize=8)
def _unsafe_but(keep: str) -> re.Pattern:
    # the characters kept are left out of the pattern itself: output is mostly lines, and a match
    # per newline only to put it back cost a Python call per line of a large `run --json`
    if not keep:
        return UNSAFE
    return re.compile("(?![" + re.escape(keep) + "])" + UNSAFE.pattern)


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
    """A policy file's name (as shown in messages) and its text, split once into lines."""

    name: str
    text: str
    # split once: every diagnostic quotes a line, and re-splitting per message made `check` quadratic
    lines: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self):
        lines = self.text.split("\n")
        if lines[-1] == "":
            lines.pop()
        object.__setattr__(self, "lines", tuple(line[:-1] if line.endswith("\r") else line for line in lines))

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""


def not_utf8(text: str) -> str | None:
    r"""What in ``text`` is not UTF-8 text, in words, or None. Python decodes a byte of a command line or a
    file name that is not UTF-8 as a lone surrogate, U+DC80 to U+DCFF.

    >>> not_utf8("caf\udce9"), not_utf8("\ud800"), not_utf8("café")
    ('the byte 0xE9', 'a lone surrogate U+D800', None)
    """
    found = re.search("[\ud800-\udfff]", text)
    if found is None:
        return None
    code = ord(found[0])
    return f"the byte 0x{code - 0xDC00:02X}" if 0xDC80 <= code <= 0xDCFF else f"a lone surrogate U+{code:04X}"
