"""Run receipts: what a run read and what it produced, so that it can be replayed and checked later.

A receipt records the SHA-256 of every policy file and of the data file, the versions of planlang,
lark and holidays, the England bank holidays of the calendar years the policy year spans (the
working-day rules use no others), the command, every figure and raised flag, and a digest of them.
:func:`verify` re-runs from the files the receipt names and lists each file or figure that differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import metadata
from pathlib import Path

import attrs

from ..compiler import compile_pack
from ..data import load_data
from ..diagnostics import InputError
from ..evaluator import Results, run
from ..periods import bank_holidays
from ..plan import compile_plan
from ..render import run_json
from ..scenario import BASELINE, Scenario, read_scenarios, scenario_from_sets

__all__ = ["make_receipt", "compare_receipt", "verify", "environment_notes", "RECEIPT_FORMAT", "results_digest"]

RECEIPT_FORMAT = "planlang receipt 1"
_PACKAGES = ("planlang", "lark", "holidays")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def _policy_files(directory: Path) -> dict[str, str]:
    return {path.name: _sha256(path) for path in sorted(directory.glob("*.plan"))}


def _outcome(document: dict) -> dict:
    """What a run produced, from its JSON: the figures, the flags raised and the values missing.

    A rule missing everywhere for want of data is one entry, ``NAME [all N entity-periods]``, whether
    or not the document lists its cells too (``run --all-missing``): the same run, one receipt.
    """
    rules = {r["output"]: r["entity_periods"] for r in document.get("missing_rules", ())}
    return {"results": document["results"],
            "flags": sorted(f"{f['flag']} [{f['entity']}, {f['period']}]" for f in document["flags"]),
            "missing": sorted([f"{m['output']} [{m['entity']}, {m['period']}]" for m in document["missing"]
                               if m["output"] not in rules] + [_summary(name, n) for name, n in rules.items()])}


def _summary(name: str, cells: int) -> str:
    return f"{name} [all {cells} entity-periods]"


def _missing_now(recorded: set[str], now: list[str], results: Results) -> set[str]:
    """The missing values of a run again, each rule summarised now listed cell by cell where the
    receipt did (one written before rules were summarised), so that the two compare like for like."""
    document = None
    out = set(now)
    for item in now:
        name, _, rest = item.partition(" [")
        if rest.startswith("all ") and item not in recorded and any(x.startswith(name + " [") for x in recorded):
            document = document or run_json(results, all_missing=True)
            out.discard(item)
            out |= {f"{m['output']} [{m['entity']}, {m['period']}]" for m in document["missing"] if m["output"] == name}
    return out


def results_digest(outcome: dict) -> str:
    canonical = json.dumps(outcome, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def make_receipt(results: Results, command: list[str], document: dict | None = None, *, outcome: bool = True) -> dict:
    """The receipt of a run; ``document`` is its :func:`run_json` when already made.

    ``outcome=False`` leaves the figures out, for a receipt embedded beside them in ``run --json``.
    """
    program, dataset = results.program, results.dataset
    produced = _outcome(document if document is not None else run_json(results))
    directory = Path(program.directory)
    year = program.year
    holidays = {}
    for calendar_year in range(year.first_day.year, year.last_day.year + 1):
        holidays.update(bank_holidays(calendar_year))
    return {
        "format": RECEIPT_FORMAT,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command": command,
        "versions": _versions(),
        "policy": {"directory": str(directory), "absolute": str(directory.resolve()), "files": _policy_files(directory)},
        "data": {"path": dataset.source, "absolute": str(Path(dataset.source).resolve()),
                 "sha256": _sha256(Path(dataset.source))} | _beside(dataset),
        "bank_holidays": {str(day): name for day, name in sorted(holidays.items())},
        "digest": results_digest(produced),
    } | ({"scenario": scenario_record(results.scenario)} if results.scenario.settings else {}) \
      | ({"outcome": produced} if outcome else {})


def _beside(dataset) -> dict:
    """The SHA-256 of each file read beside the data file (a .csv's organisations file), by name."""
    if not dataset.companions:
        return {}
    return {"beside": {Path(name).name: _sha256(Path(name)) for name in dataset.companions}}


def _beside_differences(recorded, data: Path, path: str) -> list[str]:
    """Each file recorded beside the data file that is gone or changed since."""
    if not isinstance(recorded, dict) or not all(isinstance(v, str) and Path(k).name == k for k, v in recorded.items()):
        raise InputError("is not a complete receipt: the files beside its data file are not in the form planlang writes",
                         path)
    differences = []
    for name, digest in sorted(recorded.items()):
        companion = data.with_name(name)
        if not companion.is_file():
            differences.append(f"data file {companion}: removed")
        elif (now := _sha256(companion)) != digest:
            differences.append(f"data file {companion}: changed (sha256 {digest[:12]}... -> {now[:12]}...)")
    return differences


def compare_receipt(comparisons, command: list[str]) -> dict:
    """The receipt of a comparison: the baseline run's, with each scenario's record and figures."""
    receipt = make_receipt(comparisons[0].baseline, command)
    receipt["scenarios"] = []
    for comparison in comparisons:
        produced = _outcome(run_json(comparison.scenario))
        receipt["scenarios"].append({**scenario_record(comparison.scenario.scenario), "digest": results_digest(produced),
                                     "outcome": produced})
    return receipt


def scenario_record(scenario: Scenario) -> dict:
    """What a receipt needs to replay a scenario: its name, the file or folder it was read from (with the
    SHA-256 of each of its files) and the ``--set`` options laid over it."""
    names = [name for name in sorted(scenario.sources) if not name.startswith("--set")]
    options = [x.text for x in scenario.settings if x.span.file.startswith("--set")]
    origin = scenario.origin
    return {"name": scenario.name, "origin": origin, "origin_absolute": str(Path(origin).resolve()) if origin else None,
            "files": {name: _sha256(Path(name)) for name in names},
            "absolute": {name: str(Path(name).resolve()) for name in names}, "sets": options}


def replay_scenario(record: dict | None, plan, dataset) -> tuple[Scenario, list[str]]:
    """The scenario a receipt records, read again, and each of its files that changed since."""
    if not record:
        return BASELINE, []
    differences = []
    for name, digest in record.get("files", {}).items():
        path = Path(name)
        if not path.is_file() and record.get("absolute", {}).get(name):
            path = Path(record["absolute"][name])  # the receipt is checked from another folder
        if not path.is_file():
            raise InputError("the scenario file the receipt names is gone", name)
        if _sha256(path) != digest:
            differences.append(f"scenario file {name}: changed (sha256 {digest[:12]}... -> {_sha256(path)[:12]}...)")
    scenario = BASELINE
    if record.get("origin"):
        origin = record["origin"] if Path(record["origin"]).exists() else record.get("origin_absolute") or record["origin"]
        found = read_scenarios(origin, plan, dataset)
        if record["name"] not in found:
            raise InputError(f"has no scenario `{record['name']}` any more", record["origin"])
        scenario = found[record["name"]]
    if record.get("sets"):
        extra = scenario_from_sets(record["sets"], plan, dataset)
        scenario = extra if scenario is BASELINE else attrs.evolve(
            scenario, settings=scenario.settings + extra.settings, sources={**scenario.sources, **extra.sources})
    return scenario, differences


def _load(path: str) -> dict:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"is not a receipt ({error})", path) from None
    receipt = document.get("receipt", document) if isinstance(document, dict) else None
    if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
        raise InputError(f"is not a planlang receipt (expected \"format\": \"{RECEIPT_FORMAT}\")", path,
                         "write one with `planlang run ... --receipt FILE.json`")
    if receipt is not document and "outcome" not in receipt:
        # embedded in `run --json`: the figures are the document's own
        try:
            receipt = {**receipt, "outcome": _outcome(document)}
        except (KeyError, TypeError):
            raise InputError("is not a complete receipt: the run's results are not beside it", path) from None
    return receipt


def _located(entry: dict, field: str, path: str) -> Path:
    """A file the receipt names: as written (relative to here), else where it was when the receipt was made."""
    try:
        given, absolute = Path(entry[field]), Path(entry["absolute"])
    except (KeyError, TypeError):
        raise InputError(f"is not a complete receipt: no {field} recorded", path) from None
    return given if given.exists() else absolute


def verify(path: str) -> list[str]:
    """Re-run a receipt's command from its files; every difference found, or none when identical."""
    receipt = _load(path)
    differences: list[str] = []
    try:
        directory = _located(receipt["policy"], "directory", path)
        data = _located(receipt["data"], "path", path)
        recorded_files, recorded_data = dict(receipt["policy"]["files"]), receipt["data"]["sha256"]
        recorded = receipt["outcome"]
    except (KeyError, TypeError, ValueError):
        raise InputError("is not a complete receipt", path) from None
    if not _well_formed(recorded, recorded_files, recorded_data):
        raise InputError("is not a complete receipt: its hashes or figures are not in the form planlang writes", path)
    if not directory.is_dir():
        raise InputError("the policy folder the receipt names is gone", str(directory))
    current = _policy_files(directory)
    for name in sorted(set(recorded_files) | set(current)):
        if name not in current:
            differences.append(f"policy file {name}: removed")
        elif name not in recorded_files:
            differences.append(f"policy file {name}: added")
        elif current[name] != recorded_files[name]:
            differences.append(f"policy file {name}: changed (sha256 {recorded_files[name][:12]}... -> {current[name][:12]}...)")
    if not data.exists():
        raise InputError("the data file the receipt names is gone", str(data))
    if _sha256(data) != recorded_data:
        differences.append(f"data file {data}: changed (sha256 {recorded_data[:12]}... -> {_sha256(data)[:12]}...)")
    recorded_beside = receipt["data"].get("beside", {})
    differences += _beside_differences(recorded_beside, data, path)
    program = compile_pack(directory)
    dataset = load_data(data, program)
    differences += [f"data file {name}: added" for name in dataset.companions if Path(name).name not in recorded_beside]
    plan = compile_plan(program)
    scenario, changed = replay_scenario(receipt.get("scenario"), plan, dataset)
    differences += changed
    baseline = run(plan, dataset)
    results = run(plan, dataset, scenario, baseline=baseline) if scenario.settings else baseline
    outcome = _outcome(run_json(results))
    for record in receipt.get("scenarios", ()):
        try:
            recorded_scenario = record["outcome"]
            scenario, changed = replay_scenario(record, plan, dataset)
        except (KeyError, TypeError):
            raise InputError("is not a complete receipt: a scenario's record is not in the form planlang writes", path) from None
        differences += changed
        scenario_results = run(plan, dataset, scenario, baseline=baseline)
        differences += _outcome_differences(recorded_scenario, _outcome(run_json(scenario_results)), scenario_results,
                                            f"scenario {record['name']}: ")
    differences += _outcome_differences(recorded, outcome, results)
    return differences


def _outcome_differences(recorded: dict, now: dict, results, label: str = "") -> list[str]:
    """Each figure, flag raised and missing value of a recorded outcome that the run ``results`` (whose
    outcome is ``now``) no longer gives, or gives anew."""
    differences = [label + line for line in _figure_differences(recorded.get("results", {}), now["results"])]
    for key in ("flags", "missing"):
        before, after = set(recorded.get(key, ())), set(now[key])
        if key == "missing":
            after = _missing_now(before, now[key], results)
        word = "flag raised" if key == "flags" else "missing value"
        differences += [f"{label}{word} {item}: no longer" for item in sorted(before - after)]
        differences += [f"{label}{word} {item}: new" for item in sorted(after - before)]
    return differences


def _well_formed(outcome, files: dict, data) -> bool:
    """A receipt's figures are {name: {entity: {period: value}}}, its flags and missing values lists of text."""
    def texts(items) -> bool:
        return isinstance(items, list) and all(isinstance(x, str) for x in items)

    results = outcome.get("results") if isinstance(outcome, dict) else None
    return (isinstance(results, dict)
            and all(isinstance(by, dict) and all(isinstance(p, dict) for p in by.values()) for by in results.values())
            and texts(outcome.get("flags", [])) and texts(outcome.get("missing", []))
            and all(isinstance(v, str) for v in files.values()) and isinstance(data, str))


def _figure_differences(before: dict, after: dict) -> list[str]:
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        for entity in sorted(set(old) | set(new)):
            for period in sorted(set(old.get(entity, {})) | set(new.get(entity, {}))):
                a, b = old.get(entity, {}).get(period, "absent"), new.get(entity, {}).get(period, "absent")
                if a != b:
                    where = f" for {entity}" if entity != "*" else ""
                    out.append(f"figure {name}{where} in {period}: {_shown(a)} -> {_shown(b)}")
    return out


def _shown(value) -> str:
    if value is None:
        return "missing"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) or value == "absent" else value


def environment_notes(path: str) -> list[str]:
    """Versions that differ from the receipt's: worth saying, though the figures decide."""
    receipt = _load(path)
    now = _versions()
    recorded = receipt.get("versions", {}) if isinstance(receipt.get("versions"), dict) else {}
    return [f"{name} {recorded.get(name)} when recorded, {now[name]} now" for name in _PACKAGES
            if recorded.get(name) not in (None, now[name])]
