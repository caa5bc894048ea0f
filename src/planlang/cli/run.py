"""``planlang run`` (evaluate a pack on data: text, JSON, a workbook or CSV, a receipt) and ``planlang report``
(a self-contained HTML audit report of a run)."""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from pathlib import Path

import networkx as nx

from ..audit.receipt import make_receipt
from ..compare import compare
from ..diagnostics import UsageError
from ..files import write_text_atomically
from ..render import run_json, run_text, scenario_json
from ..render.jsontext import write_json
from ..run import choose_backend, run
from . import load
from .colour import paint_severities
from .exits import EXIT_MISSING, EXIT_OK

__all__ = ["cmd_run", "cmd_report"]


def cmd_run(args) -> int:
    with _few_full_collections():
        return _run(args)


def _run(args) -> int:
    inputs = load.load(args, {"--output": args.output, "--receipt": args.receipt})
    program, dataset, plan = inputs.program, inputs.dataset, inputs.plan
    scenario = inputs.scenario()
    only = inputs.selection()
    backend = choose_backend(dataset) if args.backend == "auto" else args.backend
    results = run(plan, dataset, scenario, baseline=run(plan, dataset, backend=backend) if scenario.settings else None,
                  backend=backend)
    if args.strict:
        absent = results.missing_inputs()
        if only is not None and only.names is not None:  # what is shown is complete if what it is worked out from is
            needed = set().union(*(nx.ancestors(program.graph, name) for name in only.names))
            absent = [reason for reason in absent if reason.name in needed]
        if absent:
            for reason in absent:
                print(f"{results.dataset.source}: error: input {reason.name} has no value for {reason.entity} in {reason.period}",
                      file=sys.stderr)
            print(f"--strict: {len(absent)} missing input value(s)", file=sys.stderr)
            return EXIT_MISSING
    if args.output:
        _write_output(args.output, results, only)
        print(f"wrote {args.output}", file=sys.stderr)
    _write_receipt(args, results)
    if args.json:
        document = run_json(results, only=only, all_missing=args.all_missing)
        if scenario.settings:
            document["scenario"] = scenario_json(scenario)
        if only is None:  # a receipt vouches for a whole run
            document["receipt"] = make_receipt(results, args.command_line, document, outcome=False)
        write_json(document, sys.stdout.write)
        sys.stdout.write("\n")
    elif not args.output:
        text = run_text(results, only=only, all_missing=args.all_missing)
        if scenario.settings:
            head, _, rest = text.partition("\n")
            text = f"{head}\nunder the scenario {scenario.name}: {'; '.join(x.text for x in scenario.settings)}\n{rest}"
        print(paint_severities(text, sys.stdout))
    return EXIT_OK


def cmd_report(args) -> int:
    from ..audit.report import write_report

    inputs = load.load(args, {"--output": args.output, "--receipt": args.receipt}, documents=True)
    if Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise UsageError("cannot write this kind of file", args.output, "give a file ending .html")
    if args.sources is not None and not Path(args.sources).is_dir():
        raise UsageError("is not a folder", args.sources, "give the folder that holds the pack's source documents")
    plan, dataset = inputs.plan, inputs.dataset
    scenario = inputs.scenario()
    results = run(plan, dataset)
    coverage = ()
    if args.coverage:
        from ..assurance.coverage import covered_by_data, covered_by_tests
        from ..render.coverage import coverage_section

        coverage = (coverage_section(covered_by_tests(inputs.program)[1]),
                    coverage_section(covered_by_data(plan, dataset, str(dataset.source))))
    if scenario.settings:
        comparison = compare(results, run(plan, dataset, scenario, baseline=results))
        _write_receipt(args, comparison.scenario)
        write_report(args.output, comparison.scenario, sources=args.sources, comparison=comparison,
                     receipt=make_receipt(comparison.scenario, args.command_line), coverage=coverage)
    else:
        _write_receipt(args, results)
        write_report(args.output, results, sources=args.sources, receipt=make_receipt(results, args.command_line),
                     coverage=coverage)
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _write_receipt(args, results) -> None:
    """``--receipt FILE``: the run's receipt, checked later with ``planlang verify``."""
    if getattr(args, "receipt", None):
        receipt = make_receipt(results, args.command_line)
        write_text_atomically(args.receipt, json.dumps(receipt, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.receipt}", file=sys.stderr)


def _write_output(target: str, results, only) -> None:
    suffix = Path(target).suffix.lower()
    if suffix == ".xlsx":
        from ..audit.excel import write_workbook

        write_workbook(target, results, only=only)
    elif suffix == ".csv":
        from ..audit.csvfile import write_csv

        write_csv(target, results, only=only)
    else:
        raise UsageError("cannot write this kind of file", target, "give a file ending .xlsx or .csv")


@contextlib.contextmanager
def _few_full_collections():
    """Let the cyclic garbage collector pass over the long-lived objects of a bulk run.

    A run of thousands of organisations holds millions of objects that live to its end (values,
    their keys, formatted text); each full collection walks all of them and finds nothing, since
    values form no cycles, and at 20,000 systems those walks were a fifth of the run's time. Young
    objects are still collected as usual; the previous thresholds come back afterwards (the
    language server is a long-lived process and keeps them).
    """
    previous = gc.get_threshold()
    gc.set_threshold(10_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
