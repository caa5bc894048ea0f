"""``planlang serve``: check the options, read the pack and data once, bind, print the address, serve until stopped."""

from __future__ import annotations

import ipaddress
import socket
import sys

from planlang.diagnostics import UsageError

__all__ = ["cmd_serve", "add_serve_options", "is_loopback"]

DEFAULT_PORT = 8765


def add_serve_options(command) -> None:
    """The options of ``planlang serve`` beyond POLICY_DIR and ``--data`` (the command line's shared ones)."""
    command.add_argument("--sources", metavar="DIR", help="the folder of the documents the pack cites, to quote "
                                                          "(default: beside the pack, or shared/seeds above it)")
    command.add_argument("--host", default="127.0.0.1",
                         help="the address to listen on (default 127.0.0.1; any other needs --token)")
    command.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port (default {DEFAULT_PORT}; 0: any free one)")
    command.add_argument("--token", metavar="T", help="a secret every request must carry (Authorization: Bearer T, "
                                                      "or ?token=T in the address printed)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args) -> int:
    import uvicorn

    from .app import make_app
    from .service import Workbench

    if not 0 <= args.port <= 65535:
        raise UsageError(f"expected a port from 0 to 65535, found {args.port}", "--port")
    if args.token is not None and (len(args.token) < 8 or not args.token.isascii() or not args.token.isprintable()
                                   or " " in args.token):
        raise UsageError("a token is at least 8 printable ASCII characters with no spaces", "--token")
    if not is_loopback(args.host) and args.token is None:
        raise UsageError(f"listening on {args.host} lets other machines in: give --token T as well", "--host",
                         "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe())'")
    workbench = Workbench(args.policy, args.data, args.sources)
    listener = _bind(args.host, args.port)
    port = listener.getsockname()[1]
    if args.host in ("0.0.0.0", "::"):
        hosts = ["*"]  # any name this machine answers to; the token keeps strangers out
    elif is_loopback(args.host):
        hosts = [args.host, "localhost", "127.0.0.1", "::1"]
    else:
        hosts = [args.host]
    app = make_app(workbench, hosts=hosts, token=args.token)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    address = f"http://{shown}:{port}/" + (f"?token={args.token}" if args.token else "")
    on = f"on {args.data}" if args.data else "(upload data in the page)"
    print(f"planlang workbench for {args.policy} {on}: open {address}", flush=True)
    print("  (Ctrl-C stops it)", flush=True)
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    server.run(sockets=[listener])
    return 0


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(where)
    except OSError as error:
        raise UsageError(f"cannot listen on {host} port {port}: {error.strerror or error}", "--host/--port") from None
    return listener
