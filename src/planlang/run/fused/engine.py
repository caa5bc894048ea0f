"""The ``compiled`` backend's run: the vector engine with each formula's largest fusable part run as one loop."""

from __future__ import annotations

import numpy as np

from ... import syntax as s
from ..columns.column import BOOL, NUM, Column, nonempty
from ..vector import VectorRun
from . import cache
from .emit import emitter_for, fuse

__all__ = ["CompiledRun", "FUSE_FROM"]

# From this many cells (organisations x steps) a formula is fused: below it numba's start-up and a
# first compile cost more than the vector engine's whole run (docs/performance.md, "Fused kernels").
FUSE_FROM = 20_000


class CompiledRun(VectorRun):
    """A :class:`~planlang.run.vector.VectorRun` whose expressions go through fused loops where they can.

    An expression whose semantics row has an emitter (:data:`planlang.run.fused.emit.EMITTERS`) is
    fused with every such operation below it into one loop over the leaves' int64 numerators; the
    leaves (names, free subexpressions, operations with no emitter) are this run's columns. When the
    leaves' bounds do not prove the loop exact, a leaf is of another kind, numba is not installed or
    the run is small, the vector engine works the expression out as before: the figures are the same.
    """

    def ev(self, node: s.Expr, period) -> Column:
        if emitter_for(node) is None or self.size * (self.width or 1) < FUSE_FROM or not cache.available():
            return super().ev(node, period)
        info = self.info(node)
        if info.free and not (self.stepped and not info.reads.isdisjoint(self.stepped)):
            return super().ev(node, period)
        fused = fuse(node, lambda leaf: self.ev(leaf, period))
        if fused is None:
            return super().ev(node, period)
        return _run(fused)


def _run(fused) -> Column:
    shape = np.broadcast_shapes(*(np.shape(x) for c in fused.leaves for x in (c.num, c.missing) if x is not None))
    size = int(np.prod(shape))
    args = []
    for column in fused.leaves:
        args.append(_flat(column.num, shape))
        args.append(_flat(column.missing, shape) if column.missing is not None else _NO_MASK)
    out = np.empty(size, dtype=np.int64 if fused.kind == NUM else np.bool_)
    missing, defer = np.empty(size, dtype=np.bool_), np.empty(size, dtype=np.bool_)
    constants = np.array(fused.constants or (0,), dtype=np.int64)
    cache.kernel_for(fused.source)(*args, constants, out, missing, defer)
    missing, defer = nonempty(missing), nonempty(defer)
    if len(shape) != 1:
        out = out.reshape(shape)
        missing = missing.reshape(shape) if missing is not None else None
        defer = defer.reshape(shape) if defer is not None else None
    if fused.kind == BOOL:
        return Column(BOOL, out, missing=missing, defer=defer)
    return Column(NUM, out, fused.den, fused.bound, fused.den, missing, defer)


_NO_MASK = np.zeros(1, dtype=np.bool_)


def _flat(array, shape):
    if array.shape == shape and array.flags.c_contiguous:
        return array.reshape(-1)
    return np.ascontiguousarray(np.broadcast_to(array, shape)).reshape(-1)
