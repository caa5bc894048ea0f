"""The command line's edge: the process, its signals and its terminal. The commands are in :mod:`planlang.cli.commands`.

Ctrl-C ends the process with exit code 130 and SIGTERM with 143, with no traceback and no
temporary file left behind, at any moment: the handlers are set before anything heavy is imported.
Everything written is escaped for the terminal (no escape
sequence, bidirectional control or lone surrogate from a policy or data file reaches it raw). A
reader that goes away (``planlang check BAD | head -1``) does not change the exit code: the rest
of the output is discarded and the command finishes as it would have. Output that cannot be written
for any other reason (``> /dev/full``, stdout closed with ``>&-``) is discarded too, and the command
ends with one line on stderr saying why and exit code 74 (EX_IOERR) in place of success.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import signal
import sys
import threading

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    with _signals_end_the_process():
        from .commands import (  # heavy (Lark, networkx, openpyxl): after the handler is set
            EXIT_OK,
            EXIT_OUTPUT,
            EXIT_USAGE,
            UsageExit,
            dispatch,
            parser,
        )

        argv = sys.argv[1:] if argv is None else list(argv)
        out, err = _TerminalStream(sys.stdout), _TerminalStream(sys.stderr)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = _parse_and_run(parser(), argv, dispatch)
            except UsageExit:
                code = EXIT_USAGE
            except SystemExit as done:  # --help and --version have printed what was asked
                code = done.code if isinstance(done.code, int) else EXIT_OK
            out.flush()
            if out.failure and code == EXIT_OK:  # a failing command's own exit code says more
                print(f"planlang: error: standard output could not be written: {out.failure}", file=sys.stderr)
                code = EXIT_OUTPUT
            err.flush()
        return code


def _parse_and_run(command_line, argv: list[str], dispatch) -> int:
    from ..source import not_utf8

    for argument in argv:
        if found := not_utf8(argument):
            # a path or a --set text that is not UTF-8 could not be written into a receipt, a report or a workbook
            command_line.error(f"the argument {argument!r} is not UTF-8 text (it holds {found}); "
                               "planlang reads and writes UTF-8: rename the file or folder, or retype the text")
    args, extra = command_line.parse_known_args(argv)
    # argparse gives an optional positional (explain's NAME) the empty slot after POLICY_DIR when
    # options follow it, so a NAME written after the options arrives here, left over
    if args.command == "explain" and args.name is None and len(extra) == 1 and not extra[0].startswith("-"):
        args.name, extra = extra[0], []
    if extra:
        command_line.error(f"unrecognized arguments: {' '.join(extra)}")
    args.command_line = ["planlang", *argv]
    return _on_deep_stack(lambda: dispatch(args))


# Ctrl-C exits 130 and SIGTERM 143 (128 + the signal's number, as a shell reports a process it ended)
_EXIT_ON = {signal.SIGINT: 130, signal.SIGTERM: 143}


@contextlib.contextmanager
def _signals_end_the_process():
    if threading.current_thread() is not threading.main_thread():  # only the main thread receives signals
        yield
        return
    previous = {number: signal.signal(number, _end) for number in _EXIT_ON}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _end(number, frame) -> None:
    # os._exit: a KeyboardInterrupt raised in the middle of an import or a finally block prints a
    # traceback, and the work runs in another thread, whose `finally` blocks it would not reach anyway.
    # So the output files being written are cleaned up here: files.py knows their temporary files
    # (looked up, not imported: if it is not loaded yet, nothing is being written).
    files = sys.modules.get("planlang.files")
    if files is not None:
        files.remove_temporaries()
    os._exit(_EXIT_ON[number])


# the only escape sequences planlang writes: the colours of colour.py, kept whole by the split
COLOURS = re.compile("(\x1b\\[(?:1;3[134]|3[12]|0)m)")


class _TerminalStream(io.TextIOBase):
    """Writes to ``stream`` with unsafe characters escaped; once it cannot be written, discards the rest.

    ``failure`` says why, unless the reader went away (a broken pipe is how ``| head`` ends, not a fault).
    """

    def __init__(self, stream):
        from ..source import printable

        super().__init__()
        # Python leaves sys.stdout None when the process starts with its descriptor closed (``>&-``)
        self._stream = _Closed() if stream is None else stream
        self._printable = printable
        self.broken = False
        self.failure: str | None = None

    def isatty(self) -> bool:
        isatty = getattr(self._stream, "isatty", None)
        return bool(isatty and isatty())

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                # planlang's own colours (colour.py) pass; every other control character is escaped
                self._stream.write("".join(self._printable(part, keep="\n\t") if k % 2 == 0 else part
                                           for k, part in enumerate(COLOURS.split(text))))
            except OSError as error:
                self._broke(error)
        return len(text)

    def write_control(self, text: str) -> None:
        """Write planlang's own terminal control text (a progress bar's carriage return) as it is."""
        if not self.broken:
            try:
                self._stream.write(text)
            except OSError as error:
                self._broke(error)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except OSError as error:
                self._broke(error)

    def _broke(self, error: OSError) -> None:
        self.broken = True
        if not isinstance(error, BrokenPipeError):
            self.failure = error.strerror or str(error)
        # the reader has gone: point the descriptor at /dev/null, so that the interpreter's own flush
        # of what is still buffered, at exit, does not fail and print "Exception ignored"
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)


class _Closed:
    """A standard stream whose descriptor was closed: writing to it fails as writing to a closed descriptor does."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")

    def flush(self) -> None:
        raise OSError(errno.EBADF, "it is closed")

# Parsing, checking, evaluating and explaining all follow the syntax tree and the chain of
# definitions recursively. Python's default limit (1,000 frames) is reached by a sum of a few
# hundred terms; a thread with a large stack lets real policies nest far deeper than they need to.
_RECURSION_LIMIT = 50_000
_STACK_BYTES = 1024 * 1024 * 1024


def _on_deep_stack(work) -> int:
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
        return 130
    finally:
        sys.setrecursionlimit(previous_limit)
    from .commands import EXIT_INTERNAL

    return outcome[0] if outcome else EXIT_INTERNAL


