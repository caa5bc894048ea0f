"""``planlang reconcile`` (someone else's figures against a run), ``planlang mutate`` (mutation testing of the rules)
and ``planlang coverage`` (which parts of the rules a data file exercises)."""

from __future__ import annotations

import json
from pathlib import Path

from ..assurance.coverage import covered_by_data
from ..assurance.mutate import mutate
from ..assurance.reconcile import read_figures, reconcile
from ..assurance.register import REGISTER_FILE, Register, read_register
from ..diagnostics import InputError
from ..render.coverage import coverage_json, coverage_text
from ..render.mutate import mutation_json, mutation_text
from ..render.reconcile import reconciliation_json, reconciliation_text
from ..run import run
from . import load
from .exits import EXIT_OK, EXIT_POLICY

__all__ = ["cmd_reconcile", "cmd_mutate", "cmd_coverage", "print_coverage"]


def _register(args) -> Register:
    """The pack's register, the one beside the figures if there is one, and each ``--register`` (which must exist)."""
    for path in args.register or ():
        if not Path(path).is_file():
            raise InputError("no such register file", path, f"a register is a TOML file such as the pack's {REGISTER_FILE}")
    register, seen = Register(), set()
    for path in [Path(args.policy) / REGISTER_FILE, Path(args.expected).parent / REGISTER_FILE, *map(Path, args.register or ())]:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            register = register.merged(read_register(path))
    return register


def cmd_reconcile(args) -> int:
    inputs = load.load(args)
    plan, dataset = inputs.plan, inputs.dataset
    figures = read_figures(args.expected, plan, dataset, args.expected_map, inputs.program)
    result = reconcile(run(plan, dataset), figures, _register(args))
    if args.json:
        print(json.dumps(reconciliation_json(result), indent=2, ensure_ascii=False))
    else:
        title = f"{inputs.program.title} ({inputs.program.year}) on {dataset.source} against {args.expected}"
        print(reconciliation_text(title, result))
    return EXIT_POLICY if result.new else EXIT_OK


def cmd_mutate(args) -> int:
    program = load.pack(args)
    report = mutate(program, read_register(Path(args.policy) / REGISTER_FILE), workers=args.workers,
                    max_seconds=args.max_seconds)
    if args.json:
        print(json.dumps(mutation_json(report), indent=2, ensure_ascii=False))
    else:
        print(mutation_text(f"{program.title} ({program.year})", report))
    score = report.score()
    return EXIT_POLICY if args.fail_under is not None and score is not None and score * 100 < args.fail_under else EXIT_OK


def print_coverage(args, title: str, report, extra: dict | None = None) -> int:
    """Print a coverage report (text, or JSON with ``extra`` keys first); exit 1 when below ``--fail-under``."""
    if args.json:
        print(json.dumps({**(extra or {}), "coverage": coverage_json(report)}, indent=2, ensure_ascii=False))
    else:
        print(coverage_text(title, report))
    score = report.score()
    return EXIT_POLICY if args.fail_under is not None and score is not None and score * 100 < args.fail_under else EXIT_OK


def cmd_coverage(args) -> int:
    inputs = load.load(args)
    report = covered_by_data(inputs.plan, inputs.dataset, str(inputs.dataset.source))
    return print_coverage(args, f"{inputs.program.title} ({inputs.program.year})", report)
