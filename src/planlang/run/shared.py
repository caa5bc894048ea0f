"""Machinery shared by a family of plans: each declaration lowered once, and what a backend builds from it.

The plans of one Shapley attribution (:func:`planlang.impact.attribute`) are hybrids of two packs:
each holds the old pack's declarations with some of the new pack's, so each is a plan of its own,
yet most of its declarations are the very objects the other hybrids hold. A :class:`Shared`, owned
by whoever makes the family (never module-level, so it goes when the family does), lowers such a
declaration once (:func:`planlang.run.lower.lower_declaration`) and keeps what each backend builds
from it, for every plan of the family to take.

A lowered declaration is taken for a plan only when it would lower the same there: its program holds
the same declaration object with the same amendments, every name a reference reads has the kind it
had, and every flag ``any_error_flag()`` counts is the same declaration. Everything else the
lowering reads (the built-ins' registry, the semantics table, the declaration's own source text) is
the same for every plan. (The exact closure of ``any_error_flag()`` asks the plan that compiled it
for the flags' periods; the flags being the same declarations, every plan of the family answers the
same.) The pieces are held here, so an identity compared is never a dead object's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..compiler import Program
from . import ir
from .lower import lower_declaration

__all__ = ["Shared"]

T = TypeVar("T")


class Shared:
    """Lowered declarations, and each backend's machinery built from them, shared by the plans of one family.

    ``lowered`` and ``reused`` count the declarations lowered and the ones taken from another plan.
    """

    def __init__(self) -> None:
        self._lowered: dict[str, list[ir.LoweredDeclaration]] = {}
        self._built: dict[tuple[str, ir.LoweredDeclaration], object] = {}
        self.lowered = 0
        self.reused = 0

    def declaration(self, program: Program, name: str) -> ir.LoweredDeclaration:
        """``program``'s declaration ``name`` lowered: one lowered for another plan of the family when it lowers the same."""
        for piece in self._lowered.get(name, ()):
            if _lowers_the_same(piece, program):
                self.reused += 1
                return piece
        piece = lower_declaration(program, name)
        self._lowered.setdefault(name, []).append(piece)
        self.lowered += 1
        return piece

    def built(self, backend: str, piece: ir.LoweredDeclaration, build: Callable[[ir.LoweredDeclaration], T]) -> T:
        """What ``backend`` builds from a lowered declaration (``build(piece)``), built once for the family."""
        key = (backend, piece)  # the piece itself, held as the key, compared by identity
        if key not in self._built:
            self._built[key] = build(piece)
        return self._built[key]  # type: ignore[return-value]


def _lowers_the_same(piece: ir.LoweredDeclaration, program: Program) -> bool:
    declarations = program.declarations
    if declarations.get(piece.name) is not piece.decl:
        return False
    amendments = tuple(program.amendments.get(piece.name, ()))
    if len(amendments) != len(piece.amendments) or any(a is not b for a, b in zip(amendments, piece.amendments)):
        return False
    return (all(type(declarations.get(name)) is kind for name, kind in piece.kinds)
            and all(declarations.get(name) is decl for name, decl in piece.flags))
