"""``planlang lsp``: the language server for editors, on standard input and output."""

from __future__ import annotations

__all__ = ["cmd_lsp"]


def cmd_lsp(args) -> int:
    from ..lsp import serve  # the server's libraries load only for editors

    return serve()  # 0 after the editor's shutdown, 1 if it ended the server without one (the protocol's rule)
