"""The declared defaults a run assumed, as data: one summary that every renderer shows.

A default can pay (a gateway taken as met, a trajectory taken as agreed), so a reader must learn
from the first page, not from deep inside each derivation, that payments rest on one. The text
and JSON of ``run``, the HTML report and the workbooks all render :func:`assumed_defaults`.
"""

from __future__ import annotations

import attrs

from . import syntax as s
from .run import Results, periods_for

__all__ = ["AssumedDefault", "assumed_defaults"]


@attrs.frozen
class AssumedDefault:
    """One input declared with a default, and how much of the run rests on it."""

    input: str
    default: str  # as written in the policy
    type: str
    assumed: int  # entity-periods the data gave no value for, so the default was used
    of: int  # entity-periods the run covers
    outputs: tuple[str, ...]  # definitions and flags worked out from it (none when it was never assumed)
    citations: tuple[s.Citation, ...]
    declared: str  # file:line


def assumed_defaults(results: Results) -> tuple[AssumedDefault, ...]:
    """For each input declared with a default, in declaration order: the default, how many of the
    entity-periods the run covers assumed it, and the outputs that depend on it."""
    program, dataset, run = results.program, results.dataset, results.run
    out = []
    for name, decl in program.of_kind(s.InputDecl).items():
        if decl.default is None:
            continue
        keys = [(org.code, period) for org in dataset.of_kinds(decl.kinds) for period in periods_for(program, dataset, decl)]
        assumed = sum(run.is_default(name, entity, period) for entity, period in keys)
        outputs = ()
        if assumed:
            downstream = results.plan.downstream([name])
            outputs = tuple(n for n in results.scope if n in downstream
                            and isinstance(program.declarations[n], (s.DefineDecl, s.FlagDecl)))
        out.append(AssumedDefault(name, program.text_of(decl.default.span), decl.type, assumed, len(keys), outputs,
                                  decl.citations, f"{decl.span.file}:{decl.span.line}"))
    return tuple(out)
