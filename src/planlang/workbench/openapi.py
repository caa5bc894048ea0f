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
    "data": {"type": "string", "description": "the id `/api/data` answered for uploaded data (default: the server's "
                                              "--data; uploads are held a while, the last few kept)"},
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


def _responses(ok: str, media: str = "application/json") -> dict:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"200": {"description": ok, "content": {media: {"schema": {"type": "object"} if media.endswith("json")
                                                            else {"type": "string", "format": "binary"}}}},
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
            "/api/sweep": _post(
                "sweep", "what `planlang sweep --json` prints: each output's total at each step of `vary` "
                "(`NAME = A to B step S`), or its mean and percentiles over `draws` draws (`NAME = NAME * uniform(L, H)`)",
                {"vary": {**_STRINGS, "description": "as `--vary` (up to 4)"},
                 "outputs": {**_STRINGS, "description": "the outputs to total, as `--output`"},
                 "draws": {"type": "integer", "minimum": 1, "maximum": 1000}, "seed": {"type": "integer", "minimum": 0}}),
            "/api/solve": _post(
                "goal seek", "as `planlang solve`: the value of `vary` at which `until` is reached, shown and exact "
                "(`exact` a fraction), or `reached: false` and why not in `text`",
                {"vary": {"type": "string", "description": "NAME for CODE in PERIOD, or NAME [in PERIOD]"},
                 "until": {"type": "string", "description": "'total NAME [in PERIOD] = VALUE', 'NAME for CODE in PERIOD = "
                                                            "VALUE' or 'flag NAME for CODE in PERIOD raised|cleared'"}}),
            "/api/data": {"post": {
                "summary": "upload data",
                "description": "a data file (.json, .xlsx, .csv or .parquet; a .csv or .parquet with its "
                               ".organisations and .submissions files), read and checked as `--data` reads one; "
                               "answers the id requests name it by in `data`. Problems are the command line's, placed "
                               "in the file by its name, in `problems`",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["files"], "additionalProperties": False, "properties": {
                        "files": {"type": "array", "minItems": 1, "maxItems": 3, "items": {
                            "type": "object", "required": ["name", "content"], "properties": {
                                "name": {"type": "string"},
                                "content": {"type": "string", "contentEncoding": "base64"}}}}}}}}},
                "responses": _responses("the upload's id, its file's name and what it holds")}},
            "/api/compare.xlsx": {"post": {**_post("", "")["post"],
                                           "summary": "the compare workbook",
                                           "description": "as `planlang compare --output FILE.xlsx` writes it",
                                           "responses": _responses("the workbook", "application/vnd.openxmlformats-"
                                                                   "officedocument.spreadsheetml.sheet")}},
            "/api/receipt": _post("the receipt", "as `planlang compare --receipt FILE` writes it"),
            "/api/explain": _post(
                "why one figure", "its derivation under the baseline and the scenario side by side, its citations "
                "(quoted from the sources when found) and the inputs and parameters the scenario moved",
                {"name": {"type": "string"}, "entity": {"type": "string"}, "period": {"type": "string"}}),
        },
        "components": {"schemas": {"Error": _ERROR}},
    }
