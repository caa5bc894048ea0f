"""Citations checked against the documents they cite: are the quoted words there, is the section?

A pack's ``source`` names a document by file name. Where that file can be found, every citation of
it is checked: its quote must be the document's own words and its section one the document has.
Comparison ignores only what does not change the words: line breaks and runs of spaces, Markdown
and HTML markup, and the style of quotation marks and dashes. `` … `` in a quote marks words left
out; each piece must be found, in order.

Where the documents are looked for, in order: each ``--sources DIR`` given to ``planlang check``;
each folder in the environment variable ``PLANLANG_SOURCES`` (separated like ``PATH``); the pack's
own folder; and the folder the pack is in.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import attrs

from . import syntax as s
from .diagnostics import Diagnostic

__all__ = ["cited", "normalise", "located", "found_in", "overlap", "has_section", "source_folders", "check_quotes", "QuoteCheck", "SOURCES_VARIABLE"]

SOURCES_VARIABLE = "PLANLANG_SOURCES"
_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    """The words of a text, without layout, markup or typographic variants.

    >>> normalise("If you have not received a login by 6<sup>th</sup>\\n April")
    'If you have not received a login by 6th April'
    >>> normalise("**significant** counting – and coding")
    'significant counting - and coding'
    """
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    text = re.sub(r"</?[A-Za-z][A-Za-z0-9]*>", "", text)
    text = re.sub(r"[*_]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def located(quote: str, document: str) -> list[tuple[int, int]] | None:
    """Where each piece of a quote (split at ``…``) is in a normalised document, in order; None if one is not.

    >>> located("70% for April 2021 … then 85%", "- 70% for April 2021 - 75% - then 85% from July")
    [(2, 20), (29, 37)]
    """
    at, spans = 0, []
    for piece in (normalise(p) for p in quote.split("…")):
        at = document.find(piece, at)
        if at < 0:
            return None
        spans.append((at, at + len(piece)))
        at += len(piece)
    return spans


def found_in(quote: str, document: str) -> bool:
    """Whether each piece of a quote (split at ``…``) appears in a normalised document, in order.

    >>> found_in("70% for April 2021 … then 85%", "- 70% for April 2021 - 75% - then 85% from July")
    True
    >>> found_in("then 85% … 70% for April 2021", "- 70% for April 2021 - then 85% from July")
    False
    """
    return located(quote, document) is not None


def overlap(a: str, b: str, document: str) -> bool:
    """Whether two quotes share words of a document: a piece of one overlaps a piece of the other.

    >>> text = "FRF will be paid quarterly. Payments will depend on current performance and forecast out-turn."
    >>> overlap("Payments will depend on current performance", "current performance and forecast out-turn.", text)
    True
    >>> overlap("FRF will be paid quarterly.", "Payments will depend … forecast out-turn.", text)
    False
    """
    spans_a, spans_b = located(a, document) or [], located(b, document) or []
    return any(start < other_end and other_start < end for start, end in spans_a for other_start, other_end in spans_b)


@functools.lru_cache(maxsize=16)  # a document is asked about once per citation of it
def _headings(text: str) -> tuple[str, ...]:
    """Lines that read as headings: short lines, and the words before a colon that starts a paragraph."""
    found = []
    for line in text.splitlines():
        line = normalise(re.sub(r"^[\s#>*-]+", "", line))
        if 0 < len(line) <= 80:
            found.append(line)
        elif ":" in line[:60]:
            found.append(line.split(":", 1)[0])
    return tuple(found)


@functools.lru_cache(maxsize=16)
def _numbers(text: str) -> frozenset[str]:
    """The section numbers that start a line: 3, 3.1, 5.2.1."""
    return frozenset(m[1] for m in re.finditer(r"^[\s#>*-]*(\d+(?:\.\d+)*)\.?(?=\s|$)", text, flags=re.M))


@functools.lru_cache(maxsize=16)
def _words(text: str) -> str:
    return normalise(text)


def _initials(heading: str) -> str:
    return "".join(word[0] for word in re.findall(r"[A-Za-z]+", heading)).upper()


def has_section(text: str, section: str) -> bool:
    """Whether a document has a section: ``§3.1`` a line numbered 3.1 (or a later 3.2, 3.3 ...),
    ``§Key_points`` the words "key points", ``§FRF`` the word FRF or a heading with those initials
    ("Financial recovery fund").

    >>> has_section("## 3.1 Worked example\\nThe fund pays.", "§3.1"), has_section("3.1 Other", "§3.10")
    (True, False)
    >>> has_section("## 3. ERF\\n## Worked example\\n## 3.2 Gateway", "§3.1"), has_section("## 3.2 Gateway", "§3.4")
    (True, False)
    >>> has_section("Better care fund: CCG contributions grow.", "§BCF"), has_section("Better care fund", "§BF")
    (True, False)
    """
    name = section.lstrip("§")
    if re.fullmatch(r"\d+(\.\d+)*", name):
        numbers = _numbers(text)
        *parent, last = name.split(".")
        # a heading lost from the document still leaves its number: 3.1 is there when 3.2 is
        later = {".".join([*parent, str(n)]) for n in range(int(last) + 1, int(last) + 10)} if parent else set()
        return name in numbers or bool(later & numbers)
    words = _words(text)
    phrase = name.replace("_", " ")
    if re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", words, flags=re.IGNORECASE):
        return True
    acronym = re.sub(r"s$", "", name)
    return acronym.isupper() and any(acronym in _initials(heading) for heading in _headings(text))


def source_folders(pack: str | os.PathLike, given: Iterable[str] = ()) -> list[Path]:
    """Where to look for a pack's documents, in order (see the module's docstring)."""
    from_environment = [p for p in os.environ.get(SOURCES_VARIABLE, "").split(os.pathsep) if p]
    folder = Path(pack).resolve()
    return [Path(p) for p in (*given, *from_environment)] + [folder, folder.parent]


@attrs.frozen
class QuoteCheck:
    diagnostics: tuple[Diagnostic, ...]
    found: dict[str, Path]  # source name -> the document checked
    missing: tuple[str, ...]  # sources whose document was not found: their quotes were not checked


def _document(name: str, folders: list[Path]) -> Path | None:
    for folder in folders:
        candidate = folder / name
        if Path(name).name == name and candidate.is_file():
            return candidate
    return None


def cited(program) -> Iterable[s.Citation]:
    """Every citation of a program: of its declarations, amendments and tests, and the passages it lists as not encoded."""
    for decl in program.declarations.values():
        yield from decl.citations
    for source in program.sources.values():
        for passage in source.unencoded:
            yield passage.citation
    for amendments in program.amendments.values():
        for amend in amendments:
            yield from amend.citations
    for test in program.tests:
        yield from test.citations


def _closest(quote: str, document: str) -> str | None:
    """The document's sentence most like the quote, when one is close."""
    sentences = re.split(r"(?<=[.;:])\s+", document)
    matches = difflib.get_close_matches(normalise(quote.split("…")[0]), sentences, n=1, cutoff=0.6)
    return matches[0] if matches else None


def check_quotes(program, folders: list[Path]) -> QuoteCheck:
    """A warning, placed at the citation, for each quote not in its document and each section it lacks."""
    found: dict[str, Path] = {}
    texts: dict[str, str] = {}
    for name in program.sources:
        path = _document(name, folders)
        if path is None:
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found[name] = path
    words = {name: _words(text) for name, text in texts.items()}
    diagnostics = []
    for citation in cited(program):
        if citation.source not in texts:
            continue
        if citation.quote is not None and not found_in(citation.quote, words[citation.source]):
            closest = _closest(citation.quote, words[citation.source])
            diagnostics.append(Diagnostic(
                "warning", f"the quoted words are not in {citation.source} ({found[citation.source]})", citation.span,
                f'the closest passage is "{closest}"' if closest else
                "quote the document word for word; write … where words are left out"))
        if not has_section(texts[citation.source], citation.section):
            diagnostics.append(Diagnostic(
                "warning", f"{citation.source} has no section {citation.section}", citation.span,
                "cite a numbered section as it is numbered (§3.1), or a named one by a heading's words (§Key_points)"))
    diagnostics.sort(key=lambda d: (d.span.file, d.span.line, d.span.column))
    return QuoteCheck(tuple(diagnostics), found, tuple(n for n in program.sources if n not in found))
