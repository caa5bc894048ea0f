"""``planlang serve``: the workbench (:mod:`planlang.workbench`), which owns the server and its options."""

from __future__ import annotations

__all__ = ["cmd_serve"]


def cmd_serve(args) -> int:
    from ..workbench.cli import cmd_serve as serve  # Starlette and uvicorn load only for `serve`

    return serve(args)
