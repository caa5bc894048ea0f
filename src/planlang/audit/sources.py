"""The guidance documents a pack cites: finding them, and the passage a citation's quote comes from.

A pack's ``source "FILE"`` names a text file. It is looked for in the folder given (``--sources``),
then in each folder of ``PLANLANG_SOURCES`` (as ``planlang check`` looks), else beside the pack and
then in ``shared/seeds`` or ``seeds`` of the pack's folder or any folder above it (the repository's
CI keeps them in ``../shared/seeds``).

Comparison ignores only what does not change the words: line breaks and runs of spaces, Markdown
and HTML markup, and the style of quotation marks and dashes. `` … `` in a quote marks words left
out; each piece must be found, in order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs

from ..citations import SOURCES_VARIABLE, found_in, normalise  # one comparison, shared with `planlang check`

__all__ = ["normalise", "found_in", "Passage", "SourceLibrary"]

_CONTEXT = 500  # characters of the paragraph shown either side of a quote


def _pieces(quote: str) -> list[str]:
    return [normalise(p) for p in quote.split("…") if normalise(p)]


@attrs.frozen
class Passage:
    """The words around a quote in its source: ``before``, the quoted words, ``after``."""

    before: str
    quoted: str
    after: str


class SourceLibrary:
    """The source texts of one pack, read once each."""

    def __init__(self, pack: str | Path, folder: str | Path | None = None):
        self.pack = Path(pack)
        self.folder = Path(folder) if folder is not None else None
        self._texts: dict[str, list[str] | None] = {}

    def locate(self, name: str) -> Path | None:
        if Path(name).name != name:  # a source is a file name, never a path to somewhere else
            return None
        places = [self.folder] if self.folder is not None else []
        places += [Path(p) for p in os.environ.get(SOURCES_VARIABLE, "").split(os.pathsep) if p]
        places.append(self.pack)
        for parent in (self.pack.resolve(), *self.pack.resolve().parents):
            places += [parent / "shared" / "seeds", parent / "seeds"]
        return next((p / name for p in places if (p / name).is_file()), None)

    def paragraphs(self, name: str) -> list[str] | None:
        """The source's paragraphs, normalised; None when the file cannot be found or read."""
        if name not in self._texts:
            path = self.locate(name)
            try:
                text = path.read_text(encoding="utf-8") if path is not None else None
            except (OSError, UnicodeDecodeError):
                text = None
            self._texts[name] = None if text is None else [normalise(p) for p in re.split(r"\n\s*\n", text) if p.strip()]
        return self._texts[name]

    def passage(self, name: str, quote: str | None) -> Passage | None:
        """The paragraph of ``name`` where ``quote`` begins, trimmed around it; None when not found."""
        paragraphs = self.paragraphs(name)
        pieces = _pieces(quote or "")
        if not paragraphs or not pieces:
            return None
        for k, paragraph in enumerate(paragraphs):
            at = paragraph.find(pieces[0])
            if at >= 0:
                end = at + len(pieces[0])
                # the paragraphs either side too: a quote is often a whole paragraph of its own
                before = "\n\n".join([*paragraphs[max(0, k - 1):k], paragraph[:at]])
                after = "\n\n".join([paragraph[end:], *paragraphs[k + 1:k + 2]])
                return Passage(("… " if len(before) > _CONTEXT else "") + before[-_CONTEXT:], paragraph[at:end],
                               after[:_CONTEXT] + (" …" if len(after) > _CONTEXT else ""))
        return None
