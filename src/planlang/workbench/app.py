"""The workbench's Starlette application: the page, the JSON API and the guards every request passes.

Guards (:class:`Guard`, outermost): the Host header must name the address the server is bound to (a
page on another site cannot reach it by DNS rebinding); with a token, every request but the static
files must carry it (``Authorization: Bearer T``, or ``?token=T`` for the page itself); a request's body
is refused beyond ``max_body`` bytes; every response is ``no-store`` with a Content-Security-Policy that
allows scripts and styles from this server's own files only (no inline script, nothing from elsewhere).
Every error is a JSON object ``{"error": ..., "diagnostics": [...]}``, never a traceback.
"""

from __future__ import annotations

import hmac
import json
from importlib import resources
from urllib.parse import parse_qs

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .openapi import openapi
from .service import Problem, Workbench
from .uploads import MAX_UPLOAD_BYTES

__all__ = ["make_app", "Guard", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 256 * 1024  # a request's body: a scenario is a few lines
UPLOAD_PATH = "/api/data"  # the one route whose body is a data file (base64 in JSON: a third larger than the file)
MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_HEADERS = [(b"cache-control", b"no-store"), (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY")]


def make_app(workbench: Workbench, *, hosts: list[str], token: str | None = None,
             max_body: int = MAX_BODY_BYTES, max_upload: int = MAX_UPLOAD_BODY) -> "Guard":
    """The application for ``workbench``: answers requests whose Host is one of ``hosts`` ("*": any)."""
    package = resources.files(__package__)
    templates = jinja2.Environment(loader=jinja2.FileSystemLoader(str(package / "templates")),
                                   autoescape=True, undefined=jinja2.StrictUndefined)

    def operation(method, attachment: str | None = None):
        async def endpoint(request: Request):
            body = await request.body()
            try:
                parsed = json.loads(body or b"{}")
            except (ValueError, RecursionError):
                return _error(400, "the request's body is not JSON")
            return await _answer(method, parsed, attachment)
        return endpoint

    async def parameters(request: Request):
        return await _answer(lambda _: workbench.parameters(), None)

    async def page(request: Request):
        try:
            parameters = await run_in_threadpool(workbench.parameters)
            html = templates.get_template("index.html").render(
                parameters=parameters, token=token or "", reproduce=workbench.reproduce([]), policy=workbench.policy)
        except Exception as error:  # noqa: BLE001 — the last line of defence: a JSON error, never a traceback
            return _internal(error)
        return HTMLResponse(html)

    async def document(request: Request):
        return JSONResponse(openapi())

    async def not_found(request: Request, error: HTTPException):
        return _error(error.status_code, error.detail or "not found")

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/api/parameters", parameters, methods=["GET"]),
        Route("/api/run", operation(workbench.run), methods=["POST"]),
        Route("/api/compare", operation(workbench.compare), methods=["POST"]),
        Route("/api/impact", operation(workbench.impact), methods=["POST"]),
        Route("/api/explain", operation(workbench.explain), methods=["POST"]),
        Route("/api/sweep", operation(workbench.sweep), methods=["POST"]),
        Route("/api/solve", operation(workbench.solve), methods=["POST"]),
        Route(UPLOAD_PATH, operation(workbench.upload), methods=["POST"]),
        Route("/api/compare.xlsx", operation(workbench.workbook, "compare.xlsx"), methods=["POST"]),
        Route("/api/receipt", operation(workbench.receipt, "receipt.json"), methods=["POST"]),
        Route("/openapi.json", document, methods=["GET"]),
        Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(package / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    return Guard(app, hosts=hosts, token=token, max_body=max_body, max_upload=max_upload)


async def _answer(method, body, attachment: str | None = None):
    """The method's answer as JSON; with ``attachment``, as a file of that name to download."""
    try:
        answer = await run_in_threadpool(method, body)
        if attachment is None:
            return JSONResponse(answer)
        disposition = {"content-disposition": f'attachment; filename="{attachment}"'}
        if isinstance(answer, bytes):
            return Response(answer, media_type=XLSX, headers=disposition)
        return Response(json.dumps(answer, indent=2, ensure_ascii=False) + "\n", media_type="application/json",
                        headers=disposition)
    except Problem as problem:
        return JSONResponse(problem.body, status_code=problem.status)
    except Exception as error:  # noqa: BLE001 — the last line of defence: a JSON error, never a traceback
        return _internal(error)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "diagnostics": []}, status_code=status)


def _internal(error: Exception) -> JSONResponse:
    return _error(500, f"internal error ({type(error).__name__}: {error}); please report it with the request you sent")


class Guard:
    """ASGI middleware: the Host, token and body-size rules, and the headers of every response (see the module)."""

    def __init__(self, app, *, hosts: list[str], token: str | None, max_body: int, max_upload: int = MAX_UPLOAD_BODY):
        self.app, self.hosts, self.token, self.max_body = app, {h.lower() for h in hosts}, token, max_body
        self.max_upload = max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secured(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(_HEADERS)]
                message = {**message, "headers": kept + _HEADERS}
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        limit = self.max_upload if scope["path"] == UPLOAD_PATH else self.max_body
        if refusal is None:
            declared = headers.get("content-length", "")
            if declared and (not declared.isdigit() or int(declared) > limit):
                refusal = (413, f"the request's body is larger than the {limit:,} bytes allowed")
        if refusal is not None:
            return await _error(*refusal)(scope, receive, secured)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                return await _error(413, f"the request's body is larger than the {limit:,} bytes allowed")(
                    scope, receive, secured)
        sent = False

        async def resend():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, resend, secured)

    def _refusal(self, scope, headers) -> tuple[int, str] | None:
        host = _hostname(headers.get("host", ""))
        if "*" not in self.hosts and host not in self.hosts:
            return 421, "the Host header does not name the address the workbench serves"
        if self.token is None or scope["path"].startswith("/static/"):
            return None
        given = headers.get("authorization", "")
        given = given[len("Bearer "):] if given.startswith("Bearer ") else headers.get("x-planlang-token", "")
        if not given:
            given = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return 401, "this workbench needs its token: open the address `planlang serve` printed"
        return None


def _hostname(header: str) -> str:
    """The host of a Host header, without its port: ``[::1]:8000`` is ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header
