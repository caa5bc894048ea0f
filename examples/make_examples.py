"""Build the example workbooks ``examples/<year>.xlsx`` from the JSON sources in ``examples/src/<year>/``.

Each year's folder holds ``organisations.json`` and any number of ``*.json`` files of
``{"inputs": {INPUT: {ORG: {PERIOD: VALUE}}}, "submissions": {ORG: {DEADLINE: DATE}}}``, one per
area of the guidance. Values are checked against the year's policy (``policies/<year>/``) as they
are written, so a workbook never holds what the policy would refuse.

Usage: ``python examples/make_examples.py [OUTPUT_DIR]`` (default: ``examples/``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from planlang import syntax as s
from planlang.compiler import compile_pack
from planlang.data import SHEETS, Organisation, convert_value, write_workbook

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "examples" / "src"
SHEET_OF = {kind: word for word, kind in SHEETS.items()}


def build(year: str, output: Path) -> Path:
    program = compile_pack(ROOT / "policies" / year)
    inputs = program.of_kind(s.InputDecl)
    folder = SOURCES / year
    listed = json.loads((folder / "organisations.json").read_text(encoding="utf-8"))["organisations"]
    organisations = [Organisation(o["code"], o["name"], o["kind"], o.get("system")) for o in listed]
    rows: dict[str, dict[tuple[str, str], dict]] = {}
    submissions = []
    for path in sorted(folder.glob("*.json")):
        if path.name == "organisations.json":
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        for name, by_org in document.get("inputs", {}).items():
            decl = inputs[name]
            sheet = rows.setdefault(SHEET_OF[decl.granularity], {})
            for code, by_period in by_org.items():
                for period, raw in by_period.items():
                    value = convert_value(raw, decl.type, f"{path.name}: inputs.{name}.{code}.{period}")
                    sheet.setdefault((code, period), {"code": code, "period": period})[name] = value
        for code, milestones in document.get("submissions", {}).items():
            submissions += [{"code": code, "milestone": m, "date": convert_value(d, "date", path.name)}
                            for m, d in milestones.items()]
    sheets = {word: list(entries.values()) for word, entries in rows.items()}
    if submissions:
        sheets["submissions"] = submissions
    target = output / f"{year}.xlsx"
    percent = [name for name, decl in inputs.items() if decl.type == "percent"]
    write_workbook(target, organisations, sheets, percent_columns=percent)
    return target


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in SOURCES.iterdir() if p.is_dir()):
        print(f"wrote {build(folder.name, output)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples")
