"""The ``compiled`` backend: formulas fused into loops over int64 numerators, compiled by numba.

    emit.fuse            an expression -> one loop's source and constants, from the semantics table's
                         rows (EMITTERS: one emitter per row with a fused form), or None when the
                         leaves' bounds do not prove it exact
    cache.kernel_for     a loop's source -> the compiled loop (numba, cached on disk by the source's digest)
    engine.CompiledRun   the vector engine with each fusable expression run as one loop; whatever has no
                         loop, or does not fit int64, goes the vector way (and from there to the exact engine)

numba is optional (``pip install planlang[fast]``): without it the backend is the vector backend.
"""

from .engine import FUSE_FROM, CompiledRun

__all__ = ["CompiledRun", "FUSE_FROM"]
