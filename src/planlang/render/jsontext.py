"""JSON text as ``json.dumps(document, indent=2, ensure_ascii=False)`` writes it, in pieces and faster.

With ``indent``, the standard library encodes in pure Python, one generator step per value, and
the caller holds the whole text before printing it. A run's document is mostly objects of plain
values (a result's periods, a flag's values); each such object is encoded here in one call of the
C encoder, with the separators set so that its items come out on indented lines, and the text is
handed on in pieces of about 64 KB. The bytes are the standard library's: a property test compares
the two on random documents.

>>> print(json_text({"a": {"2021-04": "1.00", "2021-05": None}, "b": [], "c": [1, {"d": True}]}))
{
  "a": {
    "2021-04": "1.00",
    "2021-05": null
  },
  "b": [],
  "c": [
    1,
    {
      "d": true
    }
  ]
}
"""

from __future__ import annotations

import json

__all__ = ["write_json", "json_text"]

_PIECE = 1 << 16
_SCALARS = (str, int, float, bool, type(None))
_plain = json.JSONEncoder(ensure_ascii=False)  # the C encoder: no indent


def _flat(value) -> bool:
    """A dict or list of plain values (no nesting, string keys): one C encoder call writes it."""
    if isinstance(value, dict):
        return all(type(k) is str for k in value) and all(isinstance(v, _SCALARS) for v in value.values())
    return all(isinstance(v, _SCALARS) for v in value)


class _Pieces:
    """Text gathered and handed to ``write`` in pieces of about 64 KB."""

    def __init__(self, write):
        self.write = write
        self.held: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.held.append(text)
        self.size += len(text)
        if self.size >= _PIECE:
            self.flush()

    def flush(self) -> None:
        if self.held:
            self.write("".join(self.held))
            self.held, self.size = [], 0


def _encode(value, level: int, out: _Pieces) -> None:
    if isinstance(value, _SCALARS):
        out.add(_plain.encode(value))
        return
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, (dict, list)):
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    if not value:
        out.add("{}" if isinstance(value, dict) else "[]")
        return
    inner, outer = "\n" + "  " * (level + 1), "\n" + "  " * level
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    if _flat(value):
        # the C encoder with "," + newline and indent between items writes the indented lines itself
        text = json.JSONEncoder(ensure_ascii=False, separators=("," + inner, ": ")).encode(value)
        out.add(opening + inner + text[1:-1] + outer + closing)
        return
    separator = opening + inner
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(separator + _plain.encode(_key(key)) + ": ")
            _encode(item, level + 1, out)
            separator = "," + inner
    else:
        for item in value:
            out.add(separator)
            _encode(item, level + 1, out)
            separator = "," + inner
    out.add(outer + closing)


def _key(key) -> str:
    # what json.dumps does with keys that are not strings
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return json.dumps(key)
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _plain.encode(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def write_json(document, write) -> None:
    """Write ``document`` as ``json.dumps(document, indent=2, ensure_ascii=False)`` would, in pieces."""
    out = _Pieces(write)
    _encode(document, 0, out)
    out.flush()


def json_text(document) -> str:
    """``json.dumps(document, indent=2, ensure_ascii=False)``, by :func:`write_json`."""
    pieces: list[str] = []
    write_json(document, pieces.append)
    return "".join(pieces)
