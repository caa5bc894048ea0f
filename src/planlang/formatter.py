"""The formatter: a policy file in its canonical layout, every comment kept (``planlang fmt``).

Each declaration starts in column 1; its clauses follow one per line, indented two spaces, in the
order the author wrote them (a comment often explains the clause it sits above, so clauses never
move away from their comments); the scope clauses ``per``, the granularity and ``during`` share
one line (for a parameter, which has no ``per``, the granularity follows its type on the first
line). Expressions are printed canonically (:mod:`planlang.printer`) and laid over several
lines only when they do not fit. Blank lines: one between declarations (a list of one-line
``source`` declarations may stand together), none between clauses
unless they separate two comments (a blank line ends an ``Interpretation:`` comment), runs of
blank lines become one.

A comment stays where it was: above the clause whose lines it sat among, or between declarations
as it was, still directly above the declaration it was directly above (so it still belongs to it).
A comment at the end of a line of code moves onto its own line below that clause (below, so that it
never becomes part of an ``Interpretation:`` comment above the clause).

Formatting never changes what a file says: the formatted file parses to the same declarations,
and formatting it again changes nothing (both are tested).
"""

from __future__ import annotations

import re

from .diagnostics import Diagnostic
from .parser import parse_layout
from .printer import GRANULARITY_WORDS, INDENT, WIDTH, format_clauses, format_head
from .source import SourceFile

__all__ = ["format_source"]

# a possessive `*+` over a quoted text, as in the grammar's STRING: a plain `*` costs memory per character
_CODE_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*+"|#.*$|[^"#]+|"')


def _comment_of(line: str) -> str | None:
    """The ``# ...`` comment on a line, outside any quoted text, or None."""
    for match in _CODE_OR_COMMENT.finditer(line):
        if match[0].startswith("#"):
            return match[0].rstrip()
    return None


class _Writer:
    """Output lines, with a blank line wherever one is due and never two in a row."""

    def __init__(self):
        self.lines: list[str] = []
        self.last = "start"  # start, code, comment
        self.blank_pending = False
        self.keyword: str | None = None  # of the declaration last written

    def blank(self) -> None:
        self.blank_pending = True

    def _separate(self, force: bool) -> None:
        if self.last != "start" and (force or self.blank_pending) and self.lines[-1] != "":
            self.lines.append("")
        self.blank_pending = False

    def comment(self, text: str, indented: bool, *, inside: bool = False) -> None:
        """A comment line; ``inside`` a declaration, a blank line before it survives only after another comment."""
        if inside:
            if self.blank_pending and self.last == "comment":
                self.lines.append("")
            self.blank_pending = False
        else:
            self._separate(force=self.last == "code")
        self.lines.append((INDENT if indented else "") + text)
        self.last = "comment"

    def header(self, text: str, keyword: str) -> None:
        # one-line `source` declarations may stand together, as a list
        self._separate(force=self.last == "code" and not (keyword == "source" == self.keyword))
        self.lines.append(text)
        self.last, self.keyword = "code", keyword

    def code(self, lines: list[str]) -> None:
        self.blank_pending = False
        self.lines += lines
        self.last = "code"

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""


def format_source(source: SourceFile, width: int = WIDTH) -> tuple[str | None, list[Diagnostic]]:
    """The file's text in canonical layout; None, with the syntax errors, when it does not parse."""
    layouts, errors = parse_layout(source)
    if errors:
        return None, errors
    lines = source.text.splitlines()
    out = _Writer()
    between = range(0, layouts[0].start if layouts else len(lines))
    _between_lines(out, lines, between, top=True)
    for layout in layouts:
        clause_end = max((c.span.end_line for c in layout.clauses), default=layout.start + 1)  # 1-based, inclusive
        # a comment line goes above the first clause not ended by its line; a comment at the end of a
        # line of code goes below the clause that line belongs to (-1: the first line's own comment), so
        # it never joins an `Interpretation:` comment above it
        above: dict[int, list[str | None]] = {}
        below: dict[int, list[str]] = {}
        for number in range(layout.start, clause_end):
            text = lines[number]
            comment = _comment_of(text)
            at = next((k for k, c in enumerate(layout.clauses) if c.span.end_line - 1 >= number), len(layout.clauses))
            if number == layout.start:
                at = -1
            if comment is not None and text.lstrip().startswith("#"):
                above.setdefault(at, []).append(comment)
            elif comment is not None:
                below.setdefault(at, []).append(comment)
            elif not text.strip():
                above.setdefault(at, []).append(None)
        # a parameter has no `per`: its granularity follows its type, as in `parameter t : percent monthly`
        on_head = [c for c in layout.clauses if layout.keyword == "parameter" and c.kind == "granularity"]
        out.header(format_head(layout.keyword, layout.head) + "".join(f" {GRANULARITY_WORDS[c.value]}" for c in on_head),
                   layout.keyword)
        for comment in below.get(-1, ()):
            out.comment(comment, indented=True, inside=True)
        run: list = []
        for k, clause in enumerate(layout.clauses):
            if any(c is not None for c in above.get(k, ())):
                out.code(format_clauses(run, width))
                run = []
                for comment in above[k]:
                    out.blank() if comment is None else out.comment(comment, indented=True, inside=True)
            if clause not in on_head:
                run.append(clause)
            if k in below:
                out.code(format_clauses(run, width))
                run = []
                for comment in below[k]:
                    out.comment(comment, indented=True, inside=True)
        out.code(format_clauses(run, width))
        _between_lines(out, lines, range(clause_end, layout.end), top=False)
    return out.text(), []


def _between_lines(out: _Writer, lines: list[str], numbers: range, top: bool) -> None:
    """Comments and blank lines outside any clause: before the first declaration or after one's last clause."""
    for number in numbers:
        text = lines[number]
        if not text.strip():
            out.blank()
            continue
        indented = not top and text[:1].isspace()
        out.comment(_comment_of(text) or text.strip(), indented=indented, inside=indented)
