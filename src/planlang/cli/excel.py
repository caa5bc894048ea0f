"""``planlang template`` (the pack's blank input workbook) and ``planlang export --excel-model`` (the pack
compiled, with its data, to a live workbook whose figures are formulas)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..diagnostics import UsageError
from ..files import refuse_overwrites
from . import load
from .exits import EXIT_OK

__all__ = ["cmd_template", "cmd_export"]


def cmd_template(args) -> int:
    from ..data.load import load_data
    from ..data.template import write_template

    program = load.pack(args)
    _xlsx(args.output, "-o")
    read = [("the policy file", p) for p in sorted(Path(args.policy).glob("*.plan"))]
    if args.entities:
        read.append(("--entities", args.entities))
    refuse_overwrites([("-o", args.output)], read)
    organisations = ()
    if args.entities:
        organisations = load_data(args.entities, program, max_bytes=load.max_bytes(args)).organisations.values()
    sheets = write_template(args.output, program, organisations)
    laid = ", ".join(f"{word} ({count} input{'s' * (count != 1)})" for word, count in sheets.items())
    print(f"wrote {args.output}: organisations, {laid}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args) -> int:
    from ..audit.model import write_model
    from ..run import run

    _xlsx(args.excel_model, "--excel-model")
    inputs = load.load(args, {"--excel-model": args.excel_model})
    plan, dataset = inputs.plan, inputs.dataset
    scenario = inputs.scenario()
    baseline = run(plan, dataset, backend="exact")
    results = run(plan, dataset, scenario, baseline=baseline, backend="exact") if scenario.settings else baseline
    counts = write_model(args.excel_model, results)
    print(f"wrote {args.excel_model}: {counts['formulas']} formulas over {counts['inputs']} input and "
          f"{counts['parameters']} parameter cells; {counts['values']} of planlang's values where Excel cannot express the "
          "rule (listed on the sheet 'Not expressed')", file=sys.stderr)
    return EXIT_OK


def _xlsx(path: str, option: str) -> None:
    if Path(path).suffix.lower() != ".xlsx":
        raise UsageError("cannot write this kind of file", f"{option} {path}", "give a file ending .xlsx")
