"""The terminal the command line writes to: every character planlang did not put there itself is escaped, and a
stream that can no longer be written is discarded with the reason kept.

Everything written is escaped for the terminal (no escape sequence, bidirectional control or lone
surrogate from a policy or data file reaches it raw). A reader that goes away (``planlang check BAD |
head -1``) is not a fault: the rest of the output is discarded. Output that cannot be written for any
other reason (``> /dev/full``, stdout closed with ``>&-``) is discarded too, and ``failure`` says why.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re

__all__ = ["TerminalStream"]

# the only escape sequences planlang writes: the colours of colour.py, kept whole by the split
COLOURS = re.compile("(\x1b\\[(?:1;3[134]|3[12]|0)m)")


class TerminalStream(io.TextIOBase):
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
