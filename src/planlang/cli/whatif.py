"""The what-if commands: ``planlang compare`` (the baseline beside scenarios), ``planlang solve`` (goal seek)
and ``planlang sweep`` (a grid of scenarios or draws of uncertain inputs, each step's outputs totalled)."""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
from pathlib import Path

from ..audit.receipt import compare_receipt
from ..compare import MAX_COMPARED, compare
from ..diagnostics import InputError, UsageError
from ..files import write_atomically, write_text_atomically
from ..render import compare_json, compare_text, json_value, scenario_json, solve_text
from ..run import run
from ..run.bulk import step_results
from ..solve import read_goal, read_vary, solve
from ..sweep import covers_of, steps, summarise, sweep_outputs, sweep_varies
from . import load
from .exits import EXIT_OK, EXIT_POLICY

__all__ = ["cmd_compare", "cmd_solve", "cmd_sweep"]


def cmd_compare(args) -> int:
    inputs = load.load(args, {"--output": args.output, "--receipt": args.receipt})
    plan, dataset = inputs.plan, inputs.dataset
    scenarios = inputs.scenarios()
    if not scenarios:
        raise InputError("compare needs a scenario: give --set 'TARGET = EXPR' or --scenario FILE", "compare")
    if len(scenarios) > MAX_COMPARED:
        raise InputError(f"names {len(scenarios):,} scenarios, more than the {MAX_COMPARED:,} compare runs at once",
                         "--scenario", "name some as FILE:NAME, or compare them in several runs")
    names, codes = inputs.filters()
    baseline = run(plan, dataset)
    only, entities = set(names or ()), set(codes or ())
    comparisons = [compare(baseline, run(plan, dataset, x, baseline=baseline), only, entities) for x in scenarios]
    if args.output:
        if Path(args.output).suffix.lower() != ".xlsx":
            raise UsageError("cannot write this kind of file", args.output, "give a file ending .xlsx")
        from ..audit.excel import write_compare_workbook

        write_compare_workbook(args.output, comparisons)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.receipt:
        receipt = compare_receipt(comparisons, args.command_line)
        write_text_atomically(args.receipt, json.dumps(receipt, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.receipt}", file=sys.stderr)
    if args.json:
        print(json.dumps(compare_json(comparisons), indent=2, ensure_ascii=False))
    else:
        print(compare_text(comparisons))
    return EXIT_OK


def cmd_solve(args) -> int:
    inputs = load.load(args)
    plan, dataset = inputs.plan, inputs.dataset
    scenario = inputs.scenario()
    baseline = run(plan, dataset)
    name, entity, periods, type_ = read_vary(args.vary, plan, dataset)
    goal, goal_type = read_goal(args.until, plan, dataset)
    solution = solve(baseline, scenario, name, entity, periods, type_, goal)
    if args.json:
        document = {"vary": args.vary, "until": args.until, "value": json_value(solution.value, type_),
                    "baseline_value": json_value(solution.baseline_value, type_),
                    "achieved": json_value(solution.achieved, goal_type), "reached": solution.value is not None}
        if solution.value is None:  # why not: proved, or only not met at the values tried
            document |= {"outcome": solution.outcome, "tried": [json_value(x, type_) for x in solution.tried],
                         "seen": [{"value": json_value(x, type_), "output": json_value(m, goal_type)}
                                  for x, m in solution.seen]}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(solve_text(args.vary, args.until, type_, goal_type, solution))
    return EXIT_OK if solution.value is not None else EXIT_POLICY


def cmd_sweep(args) -> int:
    from ..render.longform import check_target
    from ..render.sweep import sweep_json, sweep_text

    inputs = load.load(args, {"--out": args.out})
    program, dataset, plan = inputs.program, inputs.dataset, inputs.plan
    outputs = sweep_outputs(args.output, program, args.policy)
    suffix = check_target(args.out) if args.out else None  # before any work, not at the end of it
    base = inputs.scenario()
    grids, draws, sources, total = sweep_varies(args.vary, args.draws, plan, dataset, base)
    units = {name: program.declarations[name].type for name in outputs}
    count, seed = (args.draws, args.seed) if draws else (None, None)
    stream = steps(base, grids, draws, sources, count or 1, args.seed)
    summaries = _sweep_summaries(args, plan, dataset, stream, total, outputs, units, grids, draws, suffix)
    covers = covers_of(plan, dataset, outputs)
    if args.json:
        document = sweep_json(grids, draws, outputs, units, summaries, count, seed, covers)
        if base.settings:
            document = {"scenario": scenario_json(base), **document}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        title = f"{program.title} ({program.year}) on {dataset.source}: a sweep of {total:,} step{'s' * (total != 1)}"
        if base.settings:
            title += f"\nunder the scenario {base.name}: {'; '.join(x.text for x in base.settings)}"
        print(sweep_text(title, grids, draws, outputs, units, summaries, count, seed, covers))
    return EXIT_OK


def _sweep_summaries(args, plan, dataset, stream, total: int, outputs, units, grids, draws, suffix) -> list:
    """Every grid point's summary, the steps run here or on Dask, every figure also written to ``--out`` (a ``suffix`` file)."""
    from ..render.longform import LongFormWriter
    from .progress import Progress

    with contextlib.ExitStack() as stack:
        if args.workers is not None or args.scheduler is not None:
            from ..run.scaleout import cluster, distributed_results

            client = stack.enter_context(cluster(args.workers, args.scheduler, args.scheduler_timeout))

            def evaluate(items):
                return distributed_results(client, plan, dataset, items, outputs, args.backend, cells=bool(args.out))
        else:
            def evaluate(items):
                return step_results(plan, dataset, items, outputs, args.backend)
        progress = stack.enter_context(Progress(total, "steps"))
        points, to_run = itertools.tee(stream)

        def paired():
            for (point, _), result in zip(points, evaluate(step for _, step in to_run)):
                progress.advance()
                yield point, result

        if not args.out:
            return list(summarise(paired(), outputs))
        summaries: list = []

        def write(path):
            with LongFormWriter(path, suffix, [v.target for v in grids], [v.type for v in grids], units, bool(draws)) as out:
                summaries.extend(summarise(paired(), outputs, out.add))

        write_atomically(args.out, write)
    print(f"wrote {args.out}", file=sys.stderr)
    return summaries
