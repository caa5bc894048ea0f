"""The language server (``planlang lsp``): the compiler's findings in an editor, as you type.

    server   the features: diagnostics as you type, hover, definition, references, completion
    stream   its messages on standard input and output: framing, and an answer for every request

This package owns talking to editors; what it says comes from :func:`planlang.compiler.analyse_sources`.
"""

from .server import serve

__all__ = ["serve"]
