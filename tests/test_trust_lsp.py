"""The language server over its own standard input and output, fed what no editor should send.

Each test starts ``python -m planlang lsp`` as a real process and writes bytes to it: bad
``Content-Length`` headers, a length of a terabyte, requests whose parameters do not fit, a named
pipe and a link to ``/dev/zero`` beside an opened file, and random bytes (Hypothesis). Whatever came
before, a valid request is answered; the process never prints a traceback or exits 70; and a
``shutdown`` then ``exit`` ends it with status 0. Every wait is bounded, so a server that hangs fails
the test instead of hanging it.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pygls.uris import from_fs_path

from planlang.lsp.stream import MAX_MESSAGE_BYTES

POLICY = 'policy "trust" for 2021/22\nsource "s.txt" "A source"\n'
RULES = 'parameter rate : percent\n  "The share paid"\n  = 50%\n'
WAIT = 15  # seconds: far longer than any answer takes, short enough to fail rather than hang
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32602, -32603


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(**fields) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **fields}).encode()


class Server:
    """``planlang lsp`` as a child process: framed messages in, framed messages out, stderr kept."""

    def __init__(self, folder):
        self.folder = folder
        self.process = subprocess.Popen([sys.executable, "-m", "planlang", "lsp"], cwd=folder, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.received: queue.Queue = queue.Queue()
        self.seen: list[dict] = []  # what came while waiting for something else
        self.errors = bytearray()
        self.ids = itertools.count()
        threading.Thread(target=self._read_messages, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read_messages(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if not line or length is None:
                self.received.put(None)
                return
            self.received.put(json.loads(stream.read(length)))

    def _read_errors(self) -> None:
        while chunk := self.process.stderr.read1(65536):
            self.errors += chunk

    def uri(self, name: str) -> str:
        return from_fs_path(str(self.folder / name))

    def write(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, **fields) -> None:
        self.write(frame(message(**fields)))

    def request(self, method: str, params) -> str:
        number = f"probe-{next(self.ids)}"
        self.send(id=number, method=method, params=params)
        return number

    def answer(self, number, seconds: float = WAIT) -> dict:
        """The response to request ``number``, skipping notifications and other responses."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got = self.received.get(timeout=left)
            except queue.Empty:
                break
            assert got is not None, f"the server closed its output; stderr: {self.stderr()}"
            if got.get("id") == number and "method" not in got:
                return got
            self.seen.append(got)
        pytest.fail(f"no answer to {number} within {seconds} s; stderr: {self.stderr()}")

    def errors_until(self, number) -> list[dict]:
        """The error responses with no id (to what could not be read) that came before the answer to ``number``."""
        found = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            got = self.received.get(timeout=WAIT)
            assert got is not None, f"the server closed its output; stderr: {self.stderr()}"
            if got.get("id") == number and "method" not in got:
                return found
            if "error" in got and got.get("id") is None:
                found.append(got["error"])
        pytest.fail(f"no answer to {number}")

    def initialize(self) -> None:
        self.answer(self.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}}))
        self.send(method="initialized", params={})

    def open(self, name: str, text: str) -> None:
        self.send(method="textDocument/didOpen", params={"textDocument": {
            "uri": self.uri(name), "languageId": "planlang", "version": 1, "text": text}})

    def completion(self, line: int = 0, character: int = 0) -> str:
        return self.request("textDocument/completion", {"textDocument": {"uri": self.uri("rules.plan")},
                                                        "position": {"line": line, "character": character}})

    def stderr(self) -> str:
        return self.errors.decode("utf-8", "replace")

    def finish(self, seconds: float = WAIT) -> int:
        try:
            return self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the server did not end within {seconds} s; stderr: {self.stderr()}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


def make_pack(folder):
    (folder / "policy.plan").write_text(POLICY, encoding="utf-8")
    (folder / "rules.plan").write_text(RULES, encoding="utf-8")
    (folder / "s.txt").write_text("§1 Half of it is paid.\n", encoding="utf-8")
    return folder


@pytest.fixture
def pack(tmp_path):
    return make_pack(tmp_path)


def started(folder) -> Server:
    server = Server(folder)
    server.initialize()
    return server


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the tests that leave it as they found it: each starts a process (a second or so)."""
    running = started(make_pack(tmp_path_factory.mktemp("shared")))
    yield running
    running.close()
    assert "Traceback" not in running.stderr()


@pytest.fixture
def server(pack):
    running = started(pack)
    yield running
    running.close()
    assert "Traceback" not in running.stderr()


def assert_answered(response: dict) -> None:
    assert "error" in response or response["result"]["items"], response


@pytest.mark.parametrize("header", [b"Content-Length: -5", b"Content-Length: abc", b"Content-Length: 5", b"Content-Length:",
                                    b"Content-Length: 99999999999999999999999999999999999999999", b"Content-Length: \xff\xfe"])
def test_a_bad_length_is_answered_and_the_next_request_too(shared, header):
    shared.write(header + b"\r\n\r\n" + message(id=99, method="textDocument/completion", params={}))
    number = shared.completion()
    errors = shared.errors_until(number)
    assert [e["code"] for e in errors] == [PARSE_ERROR], errors
    assert_answered(shared.answer(shared.completion()))


def test_a_body_shorter_than_its_message_costs_only_that_message(shared):
    """A length too short for its body: the rest of the body is skipped, up to the next header on the same line."""
    body = message(id=98, method="textDocument/completion", params={})
    number = f"probe-{next(shared.ids)}"
    shared.write(b"Content-Length: 10\r\n\r\n" + body + frame(message(id=number, method="textDocument/completion", params={
        "textDocument": {"uri": shared.uri("rules.plan")}, "position": {"line": 0, "character": 0}})))
    assert [e["code"] for e in shared.errors_until(number)] == [PARSE_ERROR]


def test_a_terabyte_length_is_refused_without_reading_it(shared):
    shared.write(b"Content-Length: %d\r\n\r\n" % 10**12)
    number = shared.completion()
    errors = shared.errors_until(number)
    assert [e["code"] for e in errors] == [PARSE_ERROR]
    assert f"{MAX_MESSAGE_BYTES // 2**20} MB" in errors[0]["message"]
    assert shared.process.poll() is None


@pytest.mark.parametrize("method, params", [
    ("textDocument/hover", None),
    ("textDocument/hover", []),
    ("textDocument/hover", {"textDocument": {"uri": "file:///x.plan"}}),
    ("textDocument/completion", {"textDocument": {"uri": "file:///x.plan"}, "position": {"line": -1, "character": 0}}),
    ("textDocument/definition", {"textDocument": {"uri": "file:///x.plan"}, "position": {"line": "one", "character": 0}}),
    ("textDocument/references", {"textDocument": {"uri": "file:///x.plan"}, "position": {"line": 0, "character": 0}}),
])
def test_parameters_that_do_not_fit_are_answered_invalid_params(shared, method, params):
    response = shared.answer(shared.request(method, params))
    assert response["error"]["code"] == INVALID_PARAMS, response
    assert_answered(shared.answer(shared.completion()))


@pytest.mark.parametrize("body", [b"{", b"[]", b"[1, 2]", b"7", b'{"jsonrpc": "2.0", "id": {}, "method": "x"}',
                                  b'{"jsonrpc": "2.0", "method": 7}', b"[" * 100_000, b"\xff\xfe{"])
def test_a_body_that_is_not_a_request_is_answered_with_no_id(shared, body):
    shared.write(frame(body))
    number = shared.completion()
    assert [e["code"] for e in shared.errors_until(number)] in ([PARSE_ERROR], [INVALID_REQUEST])


def test_a_pipe_and_an_endless_device_beside_an_opened_file_are_not_read(pack):
    os.mkfifo(pack / "pipe.plan")
    (pack / "zero.plan").symlink_to("/dev/zero")
    server = Server(pack)
    try:
        server.initialize()
        server.open("rules.plan", RULES)
        for name in ("rules.plan", "pipe.plan", "zero.plan"):  # hovering on an unopened file reads it from disk
            started = time.monotonic()
            response = server.answer(server.request("textDocument/hover", {
                "textDocument": {"uri": server.uri(name)}, "position": {"line": 0, "character": 11}}), seconds=10)
            assert time.monotonic() - started < 10
            assert ("rate" in response["result"]["contents"]["value"]) if name == "rules.plan" else response["result"] is None
        published = {got["params"]["uri"]: [d["message"] for d in got["params"]["diagnostics"]]
                     for got in server.seen if got.get("method") == "textDocument/publishDiagnostics"}
        assert "named pipe" in " ".join(published[server.uri("pipe.plan")])
        assert "/dev/zero" in " ".join(published[server.uri("zero.plan")])
    finally:
        server.close()
    assert "Traceback" not in server.stderr()


def test_shutdown_then_exit_ends_with_status_0_and_nothing_on_stderr(server):
    assert server.answer(server.request("shutdown", None))["result"] is None
    late = server.completion()
    assert server.answer(late)["error"]["code"] == INVALID_REQUEST  # after shutdown, per the protocol
    server.send(method="exit")
    assert server.finish() == 0
    assert server.stderr() == ""


def test_exit_without_shutdown_ends_with_status_1(server):
    server.send(method="exit")
    assert server.finish() == 1
    assert "Traceback" not in server.stderr()


def test_the_editor_going_away_ends_the_server(server):
    server.process.stdin.close()
    assert server.finish() == 1  # no shutdown came first
    assert "Traceback" not in server.stderr()


# --- random bytes ---------------------------------------------------------------------------

LONGEST_FUZZED = 2000  # every fuzzed length below MAX_MESSAGE_BYTES is at most this
METHODS = ["textDocument/hover", "textDocument/completion", "textDocument/definition", "textDocument/references",
           "textDocument/didOpen", "textDocument/didChange", "textDocument/didSave", "textDocument/didClose",
           "initialize", "shutdown", "exit", "$/cancelRequest", "workspace/didChangeConfiguration", "nonsense"]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=12)
PLAN_TEXT = st.lists(st.sampled_from([*POLICY.splitlines(), *RULES.splitlines(), "define x : money", "  = rate * x",
                                      "  per trust annual", "# a comment", ""]), max_size=8).map("\n".join)
LENGTH = st.integers(-5, LONGEST_FUZZED).map(lambda n: b"%d" % n) | st.sampled_from(
    [b"%d" % 10**12, b"%d" % (MAX_MESSAGE_BYTES + 1), b"x", b"", b" 3 ", b"0x10", b"1e3", b"\xd9\xa3"])


def chunks(pack_uri: str) -> st.SearchStrategy[list[bytes]]:
    """Byte strings to write: mostly framed messages, mostly well formed, about the pack's files."""
    uri = st.sampled_from([f"{pack_uri}/{name}" for name in ("rules.plan", "policy.plan", "new.plan", "pipe.plan")]
                          + ["file:///", "file://", "untitled:1", "file:///dev/zero", "rules.plan"]) | JSON
    position = st.fixed_dictionaries({"line": st.integers(-2, 12) | JSON, "character": st.integers(-2, 40) | JSON})
    document = st.fixed_dictionaries({"uri": uri, "languageId": st.just("planlang"), "text": PLAN_TEXT | JSON,
                                      "version": st.integers(-1, 3)})
    params = st.fixed_dictionaries({"textDocument": document, "position": position,
                                    "context": st.fixed_dictionaries({"includeDeclaration": st.booleans()}),
                                    "contentChanges": st.lists(st.fixed_dictionaries({"text": PLAN_TEXT}), max_size=2)}) | JSON
    fields = st.sampled_from([{"method", "params", "id"}, {"method", "params"}]) | st.sets(st.sampled_from(["method", "params", "id"]))
    message = st.builds(lambda present, method, params, number: json.dumps(
        {"jsonrpc": "2.0", **({"method": method} if "method" in present else {}),
         **({"params": params} if "params" in present else {}), **({"id": number} if "id" in present else {})}).encode(),
        fields, st.sampled_from(METHODS), params, st.one_of(st.integers(0, 10**6), st.integers(0, 10**6), JSON))
    framed = st.builds(lambda body, exact, length, extra: (
        b"Content-Length: " + (b"%d" % len(body) if exact else length) + b"\r\n" + extra + b"\r\n" + body),
        st.one_of(message, message, message, st.binary(max_size=60)), st.sampled_from([True, True, True, False]), LENGTH,
        st.sampled_from([b"", b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n", b"X: y\r\n", b"content-length: 7\r\n"]))
    return st.lists(st.one_of(framed, framed, framed, st.binary(max_size=80),
                              st.sampled_from([b"\r\n", b"\n", b"Content-Length: 3\r\n"])), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def fuzz_pack(tmp_path_factory):
    folder = make_pack(tmp_path_factory.mktemp("fuzz"))
    os.mkfifo(folder / "pipe.plan")
    (folder / "zero.plan").symlink_to("/dev/zero")
    return folder


@pytest.fixture(scope="module")
def fuzz_servers(fuzz_pack):
    """One server for all the examples, replaced only when an example's `exit` ends it."""
    servers = [started(fuzz_pack)]
    yield servers
    for server in servers:
        server.close()
        assert "Traceback" not in server.stderr()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_bytes_never_stop_the_server_answering(fuzz_servers, data):
    server = fuzz_servers[-1]
    written = data.draw(chunks(from_fs_path(str(server.folder))))
    # blank lines: they end any header left open and fill any body still being read, then mean nothing
    server.write(b"".join(written) + b"\r\n" * (LONGEST_FUZZED // 2 + 2))
    number = server.completion()
    deadline = time.monotonic() + WAIT
    while (left := deadline - time.monotonic()) > 0:
        try:
            got = server.received.get(timeout=left)
        except queue.Empty:
            break
        if got is None:  # an `exit` among the chunks: the process ends, cleanly
            assert server.finish() in (0, 1), server.stderr()
            assert "Traceback" not in server.stderr()
            fuzz_servers.append(started(server.folder))
            return
        assert got.get("error", {}).get("code") != INTERNAL_ERROR, got  # a handler that failed
        if got.get("id") == number and "method" not in got:
            assert "Traceback" not in server.stderr()
            if "error" in got:  # a `shutdown` among the chunks: the server refuses requests until `exit`
                assert got["error"]["code"] == INVALID_REQUEST, got
                server.send(method="exit")
                assert server.finish() == 0, server.stderr()
                fuzz_servers.append(started(server.folder))
            return
    pytest.fail(f"no answer within {WAIT} s after {written!r}; stderr: {server.stderr()}")
