"""The language server's messages on its byte streams: framing, and an answer for every request.

pygls' own reader trusts what it reads: a ``Content-Length`` it cannot parse leaves it waiting for
a header that never comes, a length of a terabyte is allocated, a request whose parameters do not
fit is dropped without an answer (the editor waits for ever), and its ``exit`` closes standard
output under the command line's feet. This module reads the stream itself and hands pygls only
messages it can structure:

- a header line is kept to its last kilobyte and a ``Content-Length`` is looked for at its end, so
  after a length too short for its body the rest of that body is skipped up to the next header;
- a length that is not a number, or is above :data:`MAX_MESSAGE_BYTES`, is answered with a
  JSON-RPC parse error and nothing of the body is read: the next header starts the next message;
- a body that is not JSON, or not a JSON-RPC 2.0 message, is answered as JSON-RPC says (parse
  error, invalid request, with no id when it has none); a request whose parameters do not fit its
  method is answered "invalid params"; a notification that does not fit is dropped;
- as the protocol says, requests before ``initialize`` are refused, and after ``shutdown``
  everything but ``exit``; ``exit`` (or the end of the input) ends the server with status 0 after
  a ``shutdown``, 1 without.
"""

from __future__ import annotations

import json
import logging
import os
from typing import BinaryIO, Iterator, TextIO

import attrs
from pygls.protocol import JsonRPCProtocol

from ..files import megabytes
from ..source import printable

__all__ = ["MAX_MESSAGE_BYTES", "serve_stream"]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # one message: a whole policy file's text fits many times over
_HEADER_TAIL = 1024  # a header is a few dozen bytes; a longer line is the rest of a body cut short
_CHUNK = 1 << 16
_LENGTH = b"content-length:"

PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS, NOT_INITIALIZED = -32700, -32600, -32602, -32002


@attrs.frozen
class BadHeader:
    """A header that gives no usable length: answered, and the stream read on from the next line."""

    message: str


class Writer:
    """pygls' writer: whole messages onto a binary stream, which stays open when the server ends
    (the command line flushes standard output on its way out)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
            self.stream.flush()
        except BrokenPipeError:
            # the editor is gone: what is still buffered goes nowhere, rather than failing again at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
            raise

    def close(self) -> None:
        self.stream.flush()


def _line(stream: BinaryIO) -> bytes:
    """The last :data:`_HEADER_TAIL` bytes of the next line, read in bounded pieces; ``b""`` at the end."""
    kept = b""
    while piece := stream.readline(_CHUNK):
        kept = (kept + piece)[-_HEADER_TAIL:]
        if piece.endswith(b"\n"):
            break
    return kept


def _exactly(stream: BinaryIO, size: int) -> bytes | None:
    """``size`` bytes, or None if the stream ends first."""
    data = bytearray()
    while len(data) < size:
        piece = stream.read(min(size - len(data), 1 << 20))
        if not piece:
            return None
        data += piece
    return bytes(data)


def _length(value: bytes) -> int | BadHeader:
    shown = printable(value[:40].decode("ascii", "replace"))
    if not value.isdigit():  # bytes.isdigit: ASCII digits only
        return BadHeader(f"Content-Length {shown!r} is not a number of bytes")
    if len(value) > 12 or int(value) > MAX_MESSAGE_BYTES:
        return BadHeader(f"a message of {shown} bytes is larger than the {megabytes(MAX_MESSAGE_BYTES)} the server reads")
    return int(value)


def frames(stream: BinaryIO) -> Iterator[bytes | BadHeader]:
    """Each message's body, or the header that gave no usable length, until the stream ends."""
    length = None
    while line := _line(stream):
        if line.strip():
            found = line.lower().rfind(_LENGTH)
            if found >= 0:
                length = _length(line[found + len(_LENGTH):].strip())
                if isinstance(length, BadHeader):
                    yield length
                    length = None
            continue
        if length is not None:  # the blank line that ends a message's headers
            body = _exactly(stream, length)
            if body is None:
                return
            yield body
            length = None


def _is_id(value) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


@attrs.define
class _Session:
    protocol: JsonRPCProtocol
    writer: Writer
    initialized: bool = False
    shut_down: bool = False
    status: int | None = None  # set by ``exit``

    def reply_error(self, number, code: int, message: str) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": number, "error": {"code": code, "message": message}}).encode()
        self.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def handle(self, body: bytes) -> None:
        """Answer one message, or pass it on to pygls."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return self.reply_error(None, PARSE_ERROR, "the message is not JSON")
        if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
            return self.reply_error(None, INVALID_REQUEST, "a message is a JSON-RPC 2.0 object")
        number = data.get("id")
        if "id" in data and not _is_id(number):
            return self.reply_error(None, INVALID_REQUEST, "a request's id is a number or a string")
        if "method" not in data:
            self.pass_on(data)  # the editor's response to a request of the server's: nothing to answer
            return None
        method, is_request = data["method"], "id" in data
        if not isinstance(method, str):
            return self.reply_error(number, INVALID_REQUEST, "a message's method is a string")
        if method == "exit":
            self.status = 0 if self.shut_down else 1
        elif self.shut_down:
            if is_request:
                self.reply_error(number, INVALID_REQUEST, "the server is shutting down")
        elif not self.initialized and method != "initialize":
            if is_request:
                self.reply_error(number, NOT_INITIALIZED, "the server is not initialized")
        elif self.pass_on(data):
            self.initialized |= method == "initialize"
            self.shut_down |= method == "shutdown" and is_request
        elif is_request:
            self.reply_error(number, INVALID_PARAMS, f"the parameters do not fit {printable(method[:80])}")
        return None

    def pass_on(self, data: dict) -> bool:
        """Hand a message to pygls if it has the shape its method needs; whether it had."""
        try:
            message = self.protocol.structure_message(data)
        except Exception:  # cattrs' errors for a value of the wrong shape, or nested too deep
            return False
        self.protocol.handle_message(message)
        return True


class _OneLine(logging.Formatter):
    """A log record's first line: pygls logs the tracebacks of what it could not handle, which an
    editor's output panel should not show as if the server had crashed (the error is answered)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(f"planlang lsp: {record.levelname.lower()}: {(record.getMessage().splitlines() or [''])[0]}")


def serve_stream(protocol: JsonRPCProtocol, reader: BinaryIO, stream: BinaryIO, log: TextIO | None = None) -> int:
    """Serve until ``exit`` or the end of the input; the exit status (see the module's docstring).
    pygls' warnings go to ``log``, one line each."""
    if log is not None:
        handler = logging.StreamHandler(log)
        handler.setFormatter(_OneLine())
        pygls_log = logging.getLogger("pygls")
        pygls_log.addHandler(handler)
        pygls_log.setLevel(logging.WARNING)
        pygls_log.propagate = False
    writer = Writer(stream)
    protocol.set_writer(writer)
    session = _Session(protocol, writer)
    try:
        for frame in frames(reader):
            if isinstance(frame, BadHeader):
                session.reply_error(None, PARSE_ERROR, frame.message)
            else:
                session.handle(frame)
            if session.status is not None:
                return session.status
    except OSError:
        pass  # the editor closed its end (a broken pipe), or the streams failed: nobody is left to answer
    return 0 if session.shut_down else 1
