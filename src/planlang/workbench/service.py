"""The workbench's operations on one pack and one dataset: JSON in, JSON out, through the public API.

``run`` and ``compare`` answer what ``planlang run --json`` (without its receipt) and ``planlang compare
--json`` print for the same options; ``impact`` is the page's view of one comparison; ``explain``
the derivation of one figure under the baseline and the scenario. A request that cannot be answered
raises :class:`Problem`: a status and a JSON body, with placed diagnostics for a scenario that does not check.
"""

from __future__ import annotations

import json
import shlex
import tempfile
import threading
from fractions import Fraction
from pathlib import Path

from planlang.api import Value, load
from planlang.diagnostics import InputError, UsageError
from planlang.render import difference_text
from planlang.scenario import ScenarioError
from planlang.values import Missing

from .uploads import UploadError, Uploads

__all__ = ["Problem", "Workbench", "MAX_SETTINGS", "MAX_SCENARIO_CHARS", "MAX_CHANGES_SHOWN", "MAX_DRAWS"]

MAX_SETTINGS = 200  # `set` texts in one request; a what-if is a handful
MAX_SCENARIO_CHARS = 64 * 1024  # a scenario file's text in one request
MAX_NAMES = 1000  # names in `only` and codes in `entity`
MAX_CHANGES_SHOWN = 500  # changed figures the page lists (the count says how many there are)
MAX_COMPARED = 20  # scenarios in one compare, as the command line
MAX_DRAWS = 1000  # draws of one sweep in the page: a server answers while someone waits


class Problem(Exception):
    """A request the workbench cannot answer: the HTTP ``status`` and the JSON ``body`` to answer with."""

    def __init__(self, status: int, message: str, diagnostics: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": message, "diagnostics": diagnostics or []}


def diagnostics_json(error: ScenarioError) -> list[dict]:
    """Each diagnostic of a scenario as data: where (file:line:col to end), what, the fix, and the text the CLI prints."""
    from planlang.diagnostics import format_diagnostic

    found = []
    for d in error.diagnostics:
        span = d.span
        found.append({"severity": d.severity, "message": d.message, "help": d.suggestion,
                      "file": span.file, "line": span.line, "column": span.column,
                      "end_line": span.end_line, "end_column": span.end_column,
                      "where": f"{span.file}:{span.line}:{span.column}",
                      "text": format_diagnostic(d, error.sources)})
    return found


class Workbench:
    """A pack compiled once and its dataset read once; every operation runs on them under a request's scenario.

    Runs are serialised by one lock: they are CPU-bound, and several workers (processes) serve a team.
    """

    def __init__(self, policy: str, data: str | None = None, sources: str | None = None):
        self.policy, self.data_path, self.sources = policy, data, sources
        self.pack = load(policy)
        self.dataset = None if data is None else self.pack.load_data(data)
        # the uploads' files and the workbooks being written, in a folder of this user's only, gone when the server stops
        self._temporary = tempfile.TemporaryDirectory(prefix="planlang-workbench-")
        self.root = Path(self._temporary.name)
        self.uploads = Uploads(self.pack, self.root)
        self._lock = threading.Lock()
        self._parameters: dict | None = None  # the data and the pack are fixed: worked out once

    # ---- requests ------------------------------------------------------------------------------

    def parameters(self) -> dict:
        """Every parameter of the pack, grouped by the guidance section it cites: quote, values by period, unit."""
        from planlang import syntax as s

        if self._parameters is not None:
            return self._parameters
        program = self.pack.program
        with self._lock:
            baseline = self.pack.run(self.dataset if self.dataset is not None else self._no_organisations())
        groups: dict[str, dict] = {}
        for name, decl in program.of_kind(s.ParameterDecl).items():
            cited = decl.citations[0] if decl.citations else None
            key = str(cited) if cited else "not cited"
            group = groups.setdefault(key, {"section": key, "source": cited.source if cited else None,
                                            "parameters": []})
            periods = _periods_of(program.year, decl.granularity)
            values = [(str(p), baseline.value(name, None, p)) for p in periods]
            group["parameters"].append({
                "name": name, "description": decl.description, "granularity": decl.granularity,
                "unit": values[0][1].unit if values else None,
                "citations": [{"source": c.source, "section": c.section, "quote": c.quote} for c in decl.citations],
                "periods": [p for p, _ in values],
                "values": _runs(values)})
        self._parameters = {"policy": program.title, "year": str(program.year), "data": self.data_path,
                            "groups": sorted(groups.values(), key=lambda g: _section_key(g["section"]))}
        return self._parameters

    def run(self, body: dict) -> dict:
        """What ``planlang run --json`` prints with the same ``set``, ``scenario``, ``only`` and ``entity``."""
        request = _Request(body)
        dataset, named = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            scenarios = self._scenarios(request)
            if len(scenarios) > 1:
                raise Problem(422, f"the scenario text names {len(scenarios)} scenarios ({', '.join(x.name for x in scenarios)});"
                                   " run runs one: keep one, or use compare")
            results = self.pack.run(dataset, scenario=scenarios[0] if scenarios else None)
            return results.json(request.only, request.entity)

    def compare(self, body: dict) -> dict:
        """What ``planlang compare --json`` prints with the same ``set``, ``scenario``, ``only`` and ``entity``."""
        request = _Request(body)
        dataset, named = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            scenarios = self._scenarios(request)
            if not scenarios:
                raise Problem(422, "compare needs a scenario: give `set` or `scenario`")
            comparisons = self.pack.compare(dataset, scenarios, only=request.only, entities=request.entity)
            return _merged([c.json() for c in comparisons])

    def impact(self, body: dict) -> dict:
        """The page's view of one scenario against the baseline: totals, changed figures largest first, each
        organisation's year change, flags raised and cleared, assumed defaults, and the command that reproduces it."""
        request = _Request(body)
        dataset, named = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            scenarios = self._scenarios(request)
            if len(scenarios) > 1:
                raise Problem(422, f"the scenario text names {len(scenarios)} scenarios; the workbench shows one at a time")
            if not scenarios:
                return {"scenario": None, "totals": [], "changes": [], "changes_count": 0, "by_organisation": [],
                        "flags_raised": [], "flags_cleared": [], "defaults": self.pack.run(dataset).defaults(),
                        "reproduce": self.reproduce([], named)}
            comparison = self.pack.compare(dataset, scenarios[0], only=request.only, entities=request.entity, backend="auto")
            # the page's view only: compare --json's whole document (every value, explained flags) is not needed
            document = {"name": comparison.scenario, "sets": comparison.settings(), **comparison.flags_json()}
            kinds = {code: org.kind for code, org in dataset.organisations.items()}
            return {
                "scenario": {"name": document["name"], "sets": document["sets"]},
                "totals": [_row(t, None, str(t.period), _covers(t)) for t in comparison.totals],
                "changes": [_row(d, d.entity, str(d.period) if d.period else None)
                            for d in comparison.differences[:MAX_CHANGES_SHOWN]],
                "changes_count": len(comparison.differences),
                "by_organisation": _by_organisation(comparison, kinds),
                "flags_raised": document["flags_raised"], "flags_cleared": document["flags_cleared"],
                "defaults": comparison.results.defaults(),
                "reproduce": self.reproduce(document.get("sets", []), named),
            }

    def explain(self, body: dict) -> dict:
        """The derivation of one figure (``name``, ``entity``, ``period``) under the baseline and the scenario,
        side by side, with its citations (quoted from the sources when found) and the settings that moved it."""
        request = _Request(body, one=True)
        name = _text(body, "name", required=True)
        entity = _text(body, "entity")
        period = _text(body, "period")
        dataset, named = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            scenarios = self._scenarios(request)
            if len(scenarios) > 1:
                raise Problem(422, "explain shows one scenario: the scenario text names several")
            baseline = self.pack.run(dataset)
            scenario = self.pack.run(dataset, scenario=scenarios[0]) if scenarios else baseline
            before, after = baseline.explain(name, entity, period), scenario.explain(name, entity, period)
            decl = self.pack.program.declarations[name]
            moved = _moved(before, after)
            return {"name": name, "entity": entity, "period": period,
                    "baseline": {"value": str(baseline.value(name, entity, period)),
                                 "derivation": baseline.explain_text(name, entity, period)},
                    "scenario": {"value": str(scenario.value(name, entity, period)),
                                 "derivation": scenario.explain_text(name, entity, period)},
                    "changed": before.value != after.value, "moved_by": moved,
                    "inputs": _inputs(after),
                    "citations": self._citations(decl.citations)}

    def upload(self, body) -> dict:
        """Read an uploaded data file (and its companions) as ``--data`` reads one; the ``data`` id that requests name it by."""
        try:
            upload = self.uploads.add(body)
        except UploadError as error:
            problem = Problem(error.status, str(error))
            problem.body |= {"file": error.file, "problems": error.problems}
            raise problem from None
        dataset = upload.dataset
        return {"data": upload.id, "name": upload.name, "organisations": len(dataset.organisations),
                "values": len(dataset.values), "warnings": [self.uploads.plain(w) for w in dataset.warnings]}

    def sweep(self, body: dict) -> dict:
        """What ``planlang sweep --json`` prints: each output's total at each step of ``vary`` (``NAME = A to B step S``,
        or ``NAME = NAME * uniform(LOW, HIGH)`` with ``draws``), under the request's scenario."""
        request = _Request(body, extra=("vary", "outputs", "draws", "seed"))
        vary, outputs = _texts(body, "vary", 4), _texts(body, "outputs", 20)
        if not vary or not outputs:
            raise Problem(400, "a sweep needs `vary` (e.g. [\"erf_thresholds = 70% to 80% step 1%\"]) and `outputs`")
        draws, seed = _whole(body, "draws", 1, MAX_DRAWS), _whole(body, "seed", 0, 2**63 - 1)
        dataset, _ = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            scenario = self._one(request, "a sweep")
            found = self.pack.sweep(dataset, vary, outputs, draws=draws, seed=seed or 0, scenario=scenario)
            return found.json()

    def solve(self, body: dict) -> dict:
        """Goal seek, as ``planlang solve``: the value of ``vary`` at which ``until`` is reached, exactly."""
        request = _Request(body, extra=("vary", "until"))
        vary, until = _text(body, "vary", required=True), _text(body, "until", required=True)
        dataset, _ = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            scenario = self._one(request, "goal seek")
            found = self.pack.solve(dataset, vary, until, scenario=scenario)
            return {"vary": vary, "until": until, "reached": found.reached,
                    "value": str(found.value) if found.reached else None, "decimal": None if found.value.decimal is None else str(found.value.decimal),
                    "exact": _exact(found.value),
                    "baseline_value": str(found.baseline_value), "achieved": str(found.achieved),
                    "text": str(found)}

    def workbook(self, body: dict) -> bytes:
        """The compare workbook of the request's scenario, as ``planlang compare --output FILE.xlsx`` writes it."""
        request = _Request(body)
        dataset, _ = self._data(request)
        with self._lock, _answering(self.uploads.plain):
            comparison = self._comparison(request, dataset)
            with tempfile.TemporaryDirectory(dir=self.root) as folder:
                path = Path(folder) / "compare.xlsx"
                comparison.write_workbook(path)
                return path.read_bytes()

    def receipt(self, body: dict) -> dict:
        """The receipt of the request's comparison, as ``planlang compare --receipt FILE`` writes it."""
        request = _Request(body)
        dataset, named = self._data(request)
        with self._lock, _answering(self.uploads.plain), tempfile.TemporaryDirectory(dir=self.root) as folder:
            comparison = self._comparison(request, dataset)
            sets = comparison.settings()
            if request.scenario is not None and request.scenario.strip():
                # a receipt records the scenario's file and its SHA-256: the text, saved as the command says
                path = Path(folder) / "what_if.plan"
                path.write_text(request.scenario)
                scenario = self.pack.scenario(*request.sets, file=path, name=comparison.scenario)
                comparison = self.pack.compare(dataset, scenario, only=request.only, entities=request.entity)
            return comparison.receipt(shlex.split(self.reproduce(sets, named).partition("   #")[0]))

    def reproduce(self, sets: list[str], data: str | None = None) -> str:
        """The ``planlang compare`` command that gives the same figures as the page (on ``data``, the file's name)."""
        head = ["planlang", "compare", self.policy, "--data", data or self.data_path or "FILE"]
        if not sets:
            return shlex.join([*head, "--set", "TARGET = EXPR"])
        if all(x.startswith("set ") for x in sets):
            return shlex.join(head + [part for x in sets for part in ("--set", x[len("set "):])])
        return shlex.join([*head, "--scenario", "what_if.plan"]) + "   # the scenario above, saved as what_if.plan"

    # ---- the parts -----------------------------------------------------------------------------

    def _data(self, request: "_Request"):
        """The dataset a request runs on, and the name of its file: the upload it names, or the server's data."""
        if request.data is not None:
            upload = self.uploads.get(request.data)
            if upload is None:
                raise Problem(422, "the uploaded data is no longer held (the workbench keeps the last few uploads): "
                                   "upload the file again")
            return upload.dataset, upload.name
        if self.dataset is None:
            raise Problem(422, "no data yet: upload a data file in the page (or start `planlang serve` with --data FILE)")
        return self.dataset, self.data_path

    def _no_organisations(self):
        """A dataset with no organisations: the parameters' values do not depend on data."""
        path = self.root / "no-organisations.json"
        if not path.exists():
            path.write_text(json.dumps({"organisations": [], "inputs": {}}))
        return self.pack.load_data(path)

    def _scenarios(self, request: "_Request") -> list:
        """The scenarios of the request, as the command line makes them of ``--scenario`` and ``--set``."""
        if request.scenario is not None and request.scenario.strip():
            declared = self.pack.scenarios(text=request.scenario)
            if not declared:
                raise Problem(422, "the scenario text declares no scenario: start it with `scenario NAME` "
                                   "and put `set` lines under it")
            if len(declared) > MAX_COMPARED:
                raise Problem(422, f"the scenario text names {len(declared)} scenarios, more than the {MAX_COMPARED} "
                                   "compared at once")
            return [self.pack.scenario(*request.sets, text=request.scenario, name=n) for n in declared]
        if request.sets:
            return [self.pack.scenario(*request.sets, name="--set")]
        return []

    def _one(self, request: "_Request", what: str):
        scenarios = self._scenarios(request)
        if len(scenarios) > 1:
            raise Problem(422, f"the scenario text names {len(scenarios)} scenarios; {what} takes one")
        return scenarios[0] if scenarios else None

    def _comparison(self, request: "_Request", dataset):
        scenario = self._one(request, "a download")
        if scenario is None:
            raise Problem(422, "there is nothing to compare yet: give `set` or `scenario`")
        return self.pack.compare(dataset, scenario, only=request.only, entities=request.entity)

    def _citations(self, citations) -> list[dict]:
        from planlang.audit.sources import SourceLibrary

        library = SourceLibrary(self.pack.program.directory, self.sources)
        found = []
        for c in citations:
            passage = library.passage(c.source, c.quote) if c.quote else None
            found.append({"source": c.source, "section": c.section, "quote": c.quote,
                          "passage": None if passage is None else
                          {"before": passage.before, "quoted": passage.quoted, "after": passage.after}})
        return found


class _Request:
    """The common fields of a request body, checked: ``set``, ``scenario``, ``only``, ``entity`` (each optional)."""

    def __init__(self, body, *, one: bool = False, extra: tuple[str, ...] = ()):
        if not isinstance(body, dict):
            raise Problem(400, "expected a JSON object as the request's body")
        known = {"set", "scenario", "only", "entity", "data"} | set(extra) | ({"name", "period"} if one else set())
        unknown = sorted(set(body) - known)
        if unknown:
            raise Problem(400, f"unknown field(s) {', '.join(map(repr, unknown))}; the fields are {', '.join(sorted(known))}")
        self.sets = _texts(body, "set", MAX_SETTINGS)
        self.scenario = _text(body, "scenario", limit=MAX_SCENARIO_CHARS)
        self.only = _texts(body, "only", MAX_NAMES) or None
        self.entity = None if one else (_texts(body, "entity", MAX_NAMES) or None)
        self.data = _text(body, "data", limit=100)


def _text(body: dict, field: str, *, required: bool = False, limit: int = 1000) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise Problem(400, f"`{field}` is required")
        return None
    if not isinstance(value, str):
        raise Problem(400, f"`{field}` must be a string")
    if len(value) > limit:
        raise Problem(413, f"`{field}` holds {len(value):,} characters, more than the {limit:,} allowed")
    return value


def _whole(body: dict, field: str, lowest: int, highest: int) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if type(value) is not int or not lowest <= value <= highest:
        raise Problem(400, f"`{field}` must be a whole number from {lowest} to {highest:,}")
    return value


def _exact(value: Value) -> str | None:
    """A number's exact value as a fraction (``3/4``), or None: the decimal shown may be rounded."""
    return str(value.exact) if isinstance(value.exact, Fraction) else None


def _texts(body: dict, field: str, most: int) -> list[str]:
    value = body.get(field)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) and len(x) <= 10_000 for x in value):
        raise Problem(400, f"`{field}` must be a list of strings")
    if len(value) > most:
        raise Problem(413, f"`{field}` holds {len(value):,} entries, more than the {most:,} allowed")
    return value


class _answering:
    """Turn the API's own exceptions into :class:`Problem` s (422), scenario errors with their placed diagnostics;
    ``plain`` takes the temporary folders out of a message about an upload."""

    def __init__(self, plain=str):
        self.plain = plain

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, ScenarioError):
            raise Problem(422, "the scenario does not check", diagnostics_json(error)) from None
        if isinstance(error, (UsageError, InputError)):
            raise Problem(422, self.plain(str(error))) from None
        if isinstance(error, RecursionError):
            raise Problem(422, "an expression nests too deeply to follow: split it into named definitions") from None
        return False


def _periods_of(year, granularity):
    if granularity is None:
        return [year]
    return year.months() if granularity == "month" else year.parts(granularity)


def _runs(values: list[tuple[str, Value]]) -> list[dict]:
    """Values by period, a run of equal values as one entry from its first period to its last."""
    runs: list[dict] = []
    for period, value in values:
        shown = str(value)
        if runs and runs[-1]["value"] == shown:
            runs[-1]["to"] = period
        else:
            runs.append({"from": period, "to": period, "value": shown,
                         "exact": None if value.decimal is None else str(value.decimal)})
    return runs


def _section_key(section: str):
    """Sections in the guidance's order: §3.2 after §3 and before §10."""
    source, _, number = section.partition(" §")
    parts = [int(x) if x.isdigit() else x for x in number.replace(".", " ").split()]
    return (source, [(0, x) if isinstance(x, int) else (1, x) for x in parts])


def _shown(value, type_) -> str:
    if value is None or isinstance(value, Missing):
        return "missing"
    return str(Value(value, type_))


def _change(item) -> str:
    if item.difference is None:
        return item.change if item.change != "changed" else ""
    sign = "+" if item.difference > 0 else ""
    return sign + difference_text(item.difference, item.type)


def _row(item, entity, period, covers=None) -> dict:
    return {"name": item.name, "entity": entity, "period": period, "covers": covers, "unit": item.type,
            "baseline": _shown(item.baseline, item.type), "scenario": _shown(item.scenario, item.type),
            "change": _change(item), "difference": _decimal(item.difference, item.type),
            "baseline_decimal": _decimal(item.baseline, item.type), "scenario_decimal": _decimal(item.scenario, item.type)}


def _decimal(value, type_) -> str | None:
    """A number as ``--json`` writes it (money to the penny), for the page's charts; None when missing or not a number."""
    return str(Value(value, type_).decimal) if isinstance(value, Fraction) else None


def _covers(total) -> str | None:
    return None if total.covers is None or total.covers.complete else total.covers.label()


def _by_organisation(comparison, kinds: dict) -> list[dict]:
    """Each organisation's and each system's changed year total, per money output, as ``compare`` works them out
    (a missing cell makes its side's total missing)."""
    rows = [{"entity": t.entity, "kind": kinds.get(t.entity) if t.kind == "organisation" else t.kind, "name": t.name,
             "change": "missing" if t.difference is None else _change(t),
             "difference": _decimal(t.difference, t.type)}
            for t in (*comparison.by_organisation, *comparison.by_system) if t.type == "money"]
    return sorted(rows, key=lambda r: (r["name"], -abs(Fraction(r["difference"] or 0)), r["entity"]))


def _leaf_steps(node):
    """Each input and parameter step of a derivation, once (a shared step is drawn under several parents)."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.kind in ("input", "parameter"):
            yield current
        stack.extend(current.children)


def _leaves(node) -> dict[tuple, object]:
    """The inputs and parameters a derivation reads, by (name, entity, period), with their values."""
    return {(leaf.label, leaf.entity, str(leaf.period) if leaf.period else None): leaf.value for leaf in _leaf_steps(node)}


def _inputs(node) -> list[dict]:
    """Which inputs and parameters a figure needs: each leaf of its derivation, with its value and where it came
    from (the data's cell or JSON path, the scenario's setting, or the declared default assumed)."""
    found = {}
    for leaf in _leaf_steps(node):
        key = (leaf.label, leaf.entity or "", str(leaf.period) if leaf.period else "")
        detail = leaf.detail
        setting = detail.get("setting")
        span = getattr(setting, "span", None)
        origin = ((f"the scenario's setting at line {span.line}" if span is not None else "the scenario") if setting else
                  str(detail["origin"]) if detail.get("origin") else
                  "assumed: the declared default" if detail.get("assumed") else
                  "the pack" if leaf.kind == "parameter" else None)
        found[key] = {"kind": leaf.kind, "name": leaf.label, "entity": leaf.entity,
                      "period": str(leaf.period) if leaf.period else None,
                      "value": _shown(leaf.value, leaf.type), "origin": origin}
    return [found[k] for k in sorted(found)]


def _moved(before, after) -> list[dict]:
    """The inputs and parameters whose values differ between the two derivations: what the scenario moved."""
    old, new = _leaves(before), _leaves(after)
    return [{"name": name, "entity": entity, "period": period}
            for (name, entity, period) in sorted(set(old) | set(new), key=lambda k: tuple(map(str, k)))
            if old.get((name, entity, period), _ABSENT) != new.get((name, entity, period), _ABSENT)]


_ABSENT = object()


def _merged(documents: list[dict]) -> dict:
    """Several one-scenario ``compare --json`` documents as the one the command prints for them all."""
    merged = dict(documents[0])
    merged["scenarios"] = [x for d in documents for x in d["scenarios"]]
    return merged
