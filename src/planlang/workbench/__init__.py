"""The workbench: ``planlang serve``, a what-if and audit page in the browser over a JSON API.

One more renderer over the public Python API (:mod:`planlang.api`), at the very edge of the house:

    service.py   the operations, on a pack and its data: parameters, run, compare, impact, explain;
                 each takes a request's JSON and answers JSON, or raises :class:`~.service.Problem`
    openapi.py   the OpenAPI document of those operations (served at /openapi.json)
    app.py       the Starlette application: routes, the page (templates/, static/) and the guards
                 (token, Host header, body size, no-store and a strict Content-Security-Policy)
    cli.py       ``planlang serve``: check the options, bind, print the address, run uvicorn

Every request is stateless: the scenario travels in it. docs/workbench.md says how to use it.
"""
