"""``planlang serve``: the workbench (:mod:`planlang.workbench`), which owns the server and its options."""

from __future__ import annotations

__all__ = ["cmd_serve"]


def cmd_serve(args) -> int:
    if args.map:  # the workbench reads its data itself, and not yet through a mapping: say so rather than ignore it
        from ..diagnostics import UsageError

        raise UsageError("the workbench does not read a mapping yet", f"--map {args.map}",
                         "run the mapping once with `planlang run --data BOOK --map MAP --output` or use the JSON or template layout")
    from ..workbench.cli import cmd_serve as serve  # Starlette and uvicorn load only for `serve`

    return serve(args)
