"""``planlang rules``: every rule of a pack with its source and interpretations, as Markdown."""

from __future__ import annotations

from ..render import rulebook_markdown
from . import load
from .exits import EXIT_OK

__all__ = ["cmd_rules"]


def cmd_rules(args) -> int:
    print(rulebook_markdown(load.pack(args)), end="")
    return EXIT_OK
