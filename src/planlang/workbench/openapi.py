"""The OpenAPI document of the workbench's JSON API, served at ``/openapi.json``."""

from __future__ import annotations

__all__ = ["openapi"]

_STRINGS = {"type": "array", "items": {"type": "string"}}
_SCENARIO_FIELDS = {
    "set": {**_STRINGS, "description": "what-if settings, as `--set` takes them: `TARGET = EXPR`"},
    "scenario": {"type": "string", "description": "a scenario file's text (`scenario NAME` and `set` lines), as "
                                                  "`--scenario FILE` reads it; `set` is layered on each of its scenarios"},
    "only": {**_STRINGS, "description": "only these outputs, as `--only`"},
    "entity": {**_STRINGS, "description": "only these organisations, as `--entity`"},
}
_ERROR = {"type": "object", "properties": {
    "error": {"type": "string"},
    "diagnostics": {"type": "array", "items": {"type": "object", "properties": {
        "severity": {"type": "string"}, "message": {"type": "string"}, "help": {"type": ["string", "null"]},
        "file": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"},
        "end_line": {"type": "integer"}, "end_column": {"type": "integer"},
        "where": {"type": "string", "description": "file:line:col"},
        "text": {"type": "string", "description": "the diagnostic as the command line prints it"}}}}}}


def _post(summary: str, description: str, extra: dict | None = None) -> dict:
    fields = {**_SCENARIO_FIELDS, **(extra or {})}
    return {"post": {
        "summary": summary, "description": description,
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": fields, "additionalProperties": False,
            "required": [name for name in extra or () if name == "name"]}}}},
        "responses": _responses("the answer")}}


def _responses(ok: str) -> dict:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"200": {"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"description": "the body is not a JSON object of the fields above", **error},
            "401": {"description": "the token is missing or wrong", **error},
            "413": {"description": "the body, or one of its fields, is over its limit", **error},
            "422": {"description": "the scenario does not check (placed diagnostics), or an option names nothing", **error}}


def openapi() -> dict:
    """The document (OpenAPI 3.1). Values in answers are exact decimal strings (money to the penny), as ``--json``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "planlang workbench", "version": "1",
                 "description": "What-if and audit over one policy pack and one dataset. Every request is stateless: "
                                "the scenario travels in it. With a token, send `Authorization: Bearer TOKEN`."},
        "paths": {
            "/api/parameters": {"get": {
                "summary": "the pack's parameters",
                "description": "grouped by the guidance section they cite, each with its quote, values by period "
                               "(a run of equal values as one entry) and unit",
                "responses": _responses("the parameters")}},
            "/api/run": _post("run", "what `planlang run --json` prints for the same options, without its receipt"),
            "/api/compare": _post("compare", "what `planlang compare --json` prints for the same options"),
            "/api/impact": _post(
                "the page's impact view of one scenario",
                "totals per period and year; every changed figure, largest change first; each organisation's change "
                "over the year per money output; flags raised and cleared; the assumed defaults; the command that "
                "reproduces it"),
            "/api/explain": _post(
                "why one figure", "its derivation under the baseline and the scenario side by side, its citations "
                "(quoted from the sources when found) and the inputs and parameters the scenario moved",
                {"name": {"type": "string"}, "entity": {"type": "string"}, "period": {"type": "string"}}),
        },
        "components": {"schemas": {"Error": _ERROR}},
    }
