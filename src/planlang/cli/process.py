"""The process the command line runs in: its signals and the deep stack its work runs on.

Ctrl-C ends the process with exit code 130 and SIGTERM with 143, with no traceback and no temporary
file left behind, at any moment: the handlers are set before anything heavy is imported.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from .exits import EXIT_INTERNAL, EXIT_ON_SIGNAL

__all__ = ["signals_end_the_process", "on_deep_stack"]


@contextlib.contextmanager
def signals_end_the_process():
    if threading.current_thread() is not threading.main_thread():  # only the main thread receives signals
        yield
        return
    previous = {number: signal.signal(number, _end) for number in EXIT_ON_SIGNAL}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _end(number, frame) -> None:
    # os._exit: a KeyboardInterrupt raised in the middle of an import or a finally block prints a
    # traceback, and the work runs in another thread, whose `finally` blocks it would not reach anyway.
    # So the output files being written are cleaned up here: files.py knows their temporary files
    # (looked up, not imported: if it is not loaded yet, nothing is being written; nor while another
    # thread is still importing it and has not yet defined remove_temporaries).
    remove_temporaries = getattr(sys.modules.get("planlang.files"), "remove_temporaries", None)
    if remove_temporaries is not None:
        remove_temporaries()
    os._exit(EXIT_ON_SIGNAL[number])


# Parsing, checking, evaluating and explaining all follow the syntax tree and the chain of
# definitions recursively. Python's default limit (1,000 frames) is reached by a sum of a few
# hundred terms; a thread with a large stack lets real policies nest far deeper than they need to.
_RECURSION_LIMIT = 50_000
_STACK_BYTES = 1024 * 1024 * 1024


def on_deep_stack(work) -> int:
    """Run ``work`` in a thread whose stack holds ``_RECURSION_LIMIT`` frames; return its exit code."""
    outcome: list[int] = []
    previous_limit, previous_size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(_RECURSION_LIMIT)
    threading.stack_size(_STACK_BYTES)
    try:
        worker = threading.Thread(target=lambda: outcome.append(work()), name="planlang", daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous_size)
    try:
        worker.join()
    except KeyboardInterrupt:
        return EXIT_ON_SIGNAL[signal.SIGINT]
    finally:
        sys.setrecursionlimit(previous_limit)
    return outcome[0] if outcome else EXIT_INTERNAL
