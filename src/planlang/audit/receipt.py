"""Run receipts: what a run read and what it produced, so that it can be replayed and checked later.

A receipt records the SHA-256 of every policy file and of the data file, the versions of planlang,
lark and holidays, the England bank holidays of the calendar years the policy year spans (the
working-day rules use no others), the command, every figure and raised flag, a digest of them, and
a digest of the receipt itself (``receipt_digest``: the SHA-256 of its canonical JSON without that field).

:func:`verify` trusts nothing in a receipt: it checks its shape (:mod:`.receipt_shape`) and its own
digest before using it, reads only regular files of bounded size, and only inside the folders the
receipt recorded (or those ``--allow-path`` adds); then it re-runs from those files and lists each
file or figure that differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import attrs

from ..compiler import compile_pack
from ..data.dataset import MAX_ERRORS
from ..data.json import MAX_NESTING, nesting_place
from ..data.load import load_data
from ..diagnostics import DataErrors, InputError
from ..files import MAX_DATA_BYTES, MAX_POLICY_BYTES, read_bytes
from ..periods import bank_holidays
from ..plan import compile_plan
from ..render.run import run_json
from ..run import Results, run
from ..scenario import BASELINE, Scenario, read_scenarios, scenario_from_sets
from .receipt_shape import EMBEDDED, RECEIPT, RUN_DOCUMENT, problems

__all__ = ["make_receipt", "compare_receipt", "verify", "Verdict", "RECEIPT_FORMAT", "results_digest", "receipt_digest"]

RECEIPT_FORMAT = "planlang receipt 1"
_PACKAGES = ("planlang", "lark", "holidays")
# a receipt hashes the data files its run has just read, within the run's own --max-data-mb
_READ_BY_THE_RUN = sys.maxsize


def _sha256(path: Path, limit: int) -> str:
    return hashlib.sha256(read_bytes(path, str(path), limit)).hexdigest()


def _versions() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def _policy_files(directory: Path, confines: _Confines | None = None) -> dict[str, str]:
    paths = sorted(directory.glob("*.plan"))
    return {path.name: _sha256(confines.check(path) if confines else path, MAX_POLICY_BYTES) for path in paths}


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
    # surrogatepass: a lone surrogate read from a hostile receipt hashes rather than fails; text has none
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def receipt_digest(receipt: dict) -> str:
    """The digest of a receipt itself: its canonical JSON, without the field that holds this digest."""
    canonical = json.dumps({k: v for k, v in receipt.items() if k != "receipt_digest"}, sort_keys=True,
                           separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _sealed(receipt: dict) -> dict:
    return receipt | {"receipt_digest": receipt_digest(receipt)}


def make_receipt(results: Results, command: list[str], document: dict | None = None, *, outcome: bool = True) -> dict:
    """The receipt of a run; ``document`` is its :func:`run_json` when already made.

    ``outcome=False`` leaves the figures out, for a receipt embedded beside them in ``run --json``.
    """
    return _sealed(_receipt(results, command, document, outcome))


def _receipt(results: Results, command: list[str], document: dict | None, outcome: bool) -> dict:
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
                 "sha256": _sha256(Path(dataset.source), _READ_BY_THE_RUN)} | _beside(dataset),
        "bank_holidays": {str(day): name for day, name in sorted(holidays.items())},
        "digest": results_digest(produced),
    } | ({"scenario": scenario_record(results.scenario)} if results.scenario.settings else {}) \
      | ({"outcome": produced} if outcome else {})


def _beside(dataset) -> dict:
    """The SHA-256 of each file read beside the data file (a .csv's organisations file), by name."""
    if not dataset.companions:
        return {}
    return {"beside": {Path(name).name: _sha256(Path(name), _READ_BY_THE_RUN) for name in dataset.companions}}


def _beside_differences(recorded: dict, data: Path, confines: _Confines, max_bytes: int) -> list[str]:
    """Each file recorded beside the data file that is gone or changed since."""
    differences = []
    for name, digest in sorted(recorded.items()):
        companion = data.with_name(name)
        if _status(companion) is None:
            differences.append(f"data file {companion}: removed")
        elif (now := _sha256(confines.check(companion), max_bytes)) != digest:
            differences.append(f"data file {companion}: changed (sha256 {digest[:12]}... -> {now[:12]}...)")
    return differences


def compare_receipt(comparisons, command: list[str]) -> dict:
    """The receipt of a comparison: the baseline run's, with each scenario's record and figures."""
    receipt = _receipt(comparisons[0].baseline, command, None, True)
    receipt["scenarios"] = []
    for comparison in comparisons:
        produced = _outcome(run_json(comparison.scenario))
        receipt["scenarios"].append({**scenario_record(comparison.scenario.scenario), "digest": results_digest(produced),
                                     "outcome": produced})
    return _sealed(receipt)


def scenario_record(scenario: Scenario) -> dict:
    """What a receipt needs to replay a scenario: its name, the file or folder it was read from (with the
    SHA-256 of each of its files) and the ``--set`` options laid over it."""
    names = [name for name in sorted(scenario.sources) if not name.startswith("--set")]
    options = [x.text for x in scenario.settings if x.span.file.startswith("--set")]
    origin = scenario.origin
    return {"name": scenario.name, "origin": origin, "origin_absolute": str(Path(origin).resolve()) if origin else None,
            "files": {name: _sha256(Path(name), MAX_POLICY_BYTES) for name in names},
            "absolute": {name: str(Path(name).resolve()) for name in names}, "sets": options}


def replay_scenario(record: dict | None, plan, dataset, confines: _Confines) -> tuple[Scenario, list[str]]:
    """The scenario a receipt records, read again, and each of its files that changed since."""
    if not record:
        return BASELINE, []
    differences = []
    for name, digest in record["files"].items():
        path = Path(name)
        if _status(path) is None and record["absolute"].get(name):
            path = Path(record["absolute"][name])  # the receipt is checked from another folder
        if _status(path) is None:
            raise InputError("the scenario file the receipt names is gone", name)
        if (now := _sha256(confines.check(path), MAX_POLICY_BYTES)) != digest:
            differences.append(f"scenario file {name}: changed (sha256 {digest[:12]}... -> {now[:12]}...)")
    scenario = BASELINE
    if record["origin"]:
        found = read_scenarios(confines.check(_scenario_origin(record)), plan, dataset)
        if record["name"] not in found:
            raise InputError(f"has no scenario `{record['name']}` any more", record["origin"])
        scenario = found[record["name"]]
    if record["sets"]:
        extra = scenario_from_sets(record["sets"], plan, dataset)
        scenario = extra if scenario is BASELINE else attrs.evolve(
            scenario, settings=scenario.settings + extra.settings, sources={**scenario.sources, **extra.sources})
    return scenario, differences


@attrs.frozen
class Verdict:
    """What verifying a receipt found: each difference (none: identical), and notes worth saying beside them."""

    differences: list[str]
    notes: list[str]


def _read(path: str, max_bytes: int):
    """The JSON a receipt file holds: a regular file of bounded size, UTF-8, nesting as deep as the stack allows."""
    data = read_bytes(Path(path), path, max_bytes, "`--max-data-mb N`")
    try:
        text = data.decode("utf-8-sig")  # -sig: tolerate the byte-order mark some editors write
    except UnicodeDecodeError as error:
        raise InputError(f"is not a receipt: it is not UTF-8 text ({error.reason} at byte {error.start})", path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"is not a receipt: it is not valid JSON: {error.msg}", f"{path}:{error.lineno}:{error.colno}") from None
    except RecursionError:
        line, column = nesting_place(text)
        raise InputError(f"is not a receipt: its objects and lists nest too deeply (more than {MAX_NESTING} levels)",
                         f"{path}:{line}:{column}") from None
    except ValueError:  # the json module converts no integer of more than 4,300 digits
        raise InputError("is not a receipt: it holds a number thousands of digits long", path) from None


def _load(path: str, max_bytes: int) -> tuple[dict, dict]:
    """The receipt as written, and as replayed: with its figures, which a ``run --json`` document holds beside it."""
    document = _read(path, max_bytes)
    receipt = document.get("receipt", document) if isinstance(document, dict) else None
    if not isinstance(receipt, dict) or receipt.get("format") != RECEIPT_FORMAT:
        raise InputError(f"is not a planlang receipt (expected \"format\": \"{RECEIPT_FORMAT}\")", path,
                         "write one with `planlang run ... --receipt FILE.json`")
    if receipt is document:
        shape, value, at = RECEIPT, receipt, "$"
    elif "outcome" in receipt:
        shape, value, at = EMBEDDED, receipt, "$.receipt"
    else:
        shape, value, at = RUN_DOCUMENT, document, "$"
    found = [InputError(message, f"{path}:{where}") for where, message in problems(shape, value, at)]
    if len(found) == 1:
        raise InputError(found[0].message, found[0].where, "this is not a receipt as planlang writes it")
    if found:
        raise DataErrors(found[:MAX_ERRORS], path, stopped=len(found) > MAX_ERRORS)
    return receipt, receipt if "outcome" in receipt else {**receipt, "outcome": _outcome(document)}


def _altered(written: dict, outcome: dict) -> str | None:
    """Why the receipt is not as planlang wrote it, if it is not; a receipt without its own digest cannot say."""
    if "receipt_digest" not in written:
        return None
    if receipt_digest(written) != written["receipt_digest"]:
        return "the receipt itself was altered: its contents no longer give its receipt_digest"
    if results_digest(outcome) != written["digest"]:
        return "the receipt itself was altered: the figures beside it no longer give its digest"
    return None


def _located(entry: dict, field: str) -> Path:
    """A file the receipt names: as written (relative to here), else where it was when the receipt was made."""
    given = Path(entry[field])
    return given if _status(given) is not None else Path(entry["absolute"])


@attrs.frozen
class _Confines:
    """The folders a receipt recorded, and those ``--allow-path`` adds, links resolved: verify reads inside them only.

    A file a receipt names, or a link among its files, that leads elsewhere is refused with its target named.
    """

    folders: tuple[Path, ...]
    allowed: tuple[Path, ...]

    def check(self, path: Path) -> Path:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a loop of links
            raise InputError("is a link that leads nowhere (a loop of links)", str(path)) from None
        if not any(real.is_relative_to(folder) for folder in self.folders + self.allowed):
            link = f" (a link to {real})" if real != path.absolute() else ""
            raise InputError(f"refused: it lies outside the folders the receipt recorded{link}: "
                             + ", ".join(map(str, self.folders)), str(path),
                             f"`planlang verify --allow-path {real.parent}` reads it, if you trust the receipt")
        return path


def _confines(receipt: dict, directory: Path, data: Path, allow: Sequence[str]) -> _Confines:
    """The pack's folder, the data file's and each scenario's: the folder of scenarios, or the one holding the
    .plan file of scenarios. A scenario file not ending .plan records no folder, and must lie in another: else a
    receipt could have any file on the machine parsed as a scenario, and its lines shown as syntax errors."""
    folders = [directory, data.parent]
    for record in ([receipt["scenario"]] if "scenario" in receipt else []) + receipt.get("scenarios", []):
        if record["origin"]:
            origin = _scenario_origin(record)
            if (status := _status(origin)) is not None and stat.S_ISDIR(status.st_mode):
                folders.append(origin)
            elif origin.suffix == ".plan":
                folders.append(origin.parent)
    return _Confines(tuple(_real(folder) for folder in folders), tuple(_real(Path(x)) for x in allow))


def _scenario_origin(record: dict) -> Path:
    """Where a scenario was read from: as written (relative to here), else where it was when recorded."""
    given = Path(record["origin"])
    return given if _status(given) is not None or not record["origin_absolute"] else Path(record["origin_absolute"])


def _status(path: Path) -> os.stat_result | None:
    """What is at a path a receipt names, or None when nothing is; a path that cannot be looked up
    (a name too long, a folder without permission) is an error naming it."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", str(path)) from None


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of links: nothing lies inside it
        return path.absolute()


def verify(path: str, *, allow: Sequence[str] = (), max_bytes: int = MAX_DATA_BYTES) -> Verdict:
    """Re-run a receipt's command from its files: every difference found (none when identical), and notes.

    ``allow`` names folders outside those the receipt recorded that it may read; ``max_bytes`` bounds
    the receipt and the data files as ``--max-data-mb`` does.
    """
    written, receipt = _load(path, max_bytes)
    notes = _environment_notes(receipt)
    if "receipt_digest" not in written:
        notes.append("the receipt has no receipt_digest (it was written before planlang recorded one): "
                     "whether the receipt itself was altered cannot be checked")
    elif altered := _altered(written, receipt["outcome"]):
        return Verdict([altered], notes)
    directory, data = _located(receipt["policy"], "directory"), _located(receipt["data"], "path")
    if _status(directory) is None:
        raise InputError("the policy folder the receipt names is gone", str(directory))
    confines = _confines(receipt, directory, data, allow)
    differences: list[str] = []
    recorded_files, current = receipt["policy"]["files"], _policy_files(directory, confines)
    for name in sorted(set(recorded_files) | set(current)):
        if name not in current:
            differences.append(f"policy file {name}: removed")
        elif name not in recorded_files:
            differences.append(f"policy file {name}: added")
        elif current[name] != recorded_files[name]:
            differences.append(f"policy file {name}: changed (sha256 {recorded_files[name][:12]}... -> {current[name][:12]}...)")
    if _status(data) is None:
        raise InputError("the data file the receipt names is gone", str(data))
    if (now := _sha256(data, max_bytes)) != (recorded_data := receipt["data"]["sha256"]):
        differences.append(f"data file {data}: changed (sha256 {recorded_data[:12]}... -> {now[:12]}...)")
    recorded_beside = receipt["data"].get("beside", {})
    differences += _beside_differences(recorded_beside, data, confines, max_bytes)
    program = compile_pack(directory)
    dataset = load_data(data, program, max_bytes=max_bytes)
    differences += [f"data file {name}: added" for name in dataset.companions if Path(name).name not in recorded_beside]
    plan = compile_plan(program)
    scenario, changed = replay_scenario(receipt.get("scenario"), plan, dataset, confines)
    differences += changed
    baseline = run(plan, dataset)
    results = run(plan, dataset, scenario, baseline=baseline) if scenario.settings else baseline
    outcome = _outcome(run_json(results))
    for record in receipt.get("scenarios", ()):
        scenario, changed = replay_scenario(record, plan, dataset, confines)
        differences += changed
        scenario_results = run(plan, dataset, scenario, baseline=baseline)
        differences += _outcome_differences(record["outcome"], _outcome(run_json(scenario_results)), scenario_results,
                                            f"scenario {record['name']}: ")
    differences += _outcome_differences(receipt["outcome"], outcome, results)
    return Verdict(differences, notes)


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


def _environment_notes(receipt: dict) -> list[str]:
    """Versions that differ from the receipt's: worth saying, though the figures decide."""
    now, recorded = _versions(), receipt["versions"]
    return [f"{name} {recorded.get(name)} when recorded, {now[name]} now" for name in _PACKAGES
            if recorded.get(name) not in (None, now[name])]
