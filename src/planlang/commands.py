"""The commands of the command line: ``planlang check | run | compare | solve | sweep | explain | test | deadlines | rules | diff | fmt | lsp``.

Exit codes are a contract: 0 success; 1 the policy has errors or its tests fail; 2 bad data or
usage (including missing inputs under ``--strict``). No input produces a Python traceback.
:mod:`planlang.cli` is the process's edge (signals, the terminal, broken pipes); this module is
what each command does.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import itertools
import json
import os
import sys
from pathlib import Path

import attrs
import networkx as nx

from . import __version__
from . import syntax as s
from .audit.receipt import compare_receipt, make_receipt, verify
from .citations import SOURCES_VARIABLE, check_quotes, cited, source_folders
from .colour import paint, paint_severities
from .compare import MAX_COMPARED, compare
from .compiler import Program, compile_pack, compile_sources, read_pack, read_policy_file
from .data import load_data, make_dataset
from .diagnostics import DataErrors, InputError, PolicyError, UsageError, format_diagnostic, suggest
from .explanation import explain
from .files import MAX_DATA_BYTES, refuse_overwrites, write_atomically, write_text_atomically
from .formatter import format_source
from .impact import attribute, check_comparable
from .jsonout import write_json
from .periods import PeriodError, is_working_day, parse_date, period_in_year, working_days_between
from .plan import compile_plan
from .render import (
    Selection,
    compare_json,
    compare_text,
    explanation_compare_text,
    explanation_json,
    explanation_text,
    json_value,
    rulebook_markdown,
    run_json,
    run_text,
    scenario_json,
    solve_text,
)
from .render_diff import diff_json, diff_markdown, diff_text, impact_json, impact_text
from .rulediff import diff_programs
from .run import BACKENDS, choose_backend, evaluate, run
from .run.bulk import BACKENDS as BULK_BACKENDS
from .run.bulk import step_results
from .run.scaleout import CONNECT_SECONDS
from .scenario import BASELINE, Scenario, ScenarioError, read_scenarios, scenario_from_sets
from .solve import read_goal, read_vary, solve
from .source import SourceFile
from .sweep import MAX_STEPS, covers_of, steps, summarise, sweep_outputs, sweep_varies
from .testing import run_scenario_tests, run_tests

__all__ = ["parser", "dispatch", "UsageExit", "EXIT_OK", "EXIT_POLICY", "EXIT_DATA", "EXIT_MISSING", "EXIT_USAGE",
           "EXIT_INTERNAL", "EXIT_OUTPUT"]

EXIT_OK, EXIT_POLICY, EXIT_DATA, EXIT_MISSING, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3, 64, 70
EXIT_OUTPUT = 74  # EX_IOERR: standard output could not be written (cli.py); a file that cannot be written is 2


class UsageExit(Exception):
    """argparse found the command line wrong; it has printed the usage and the message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise UsageExit


def _print_diagnostics(diagnostics, sources, stream) -> None:
    for diagnostic in diagnostics:
        print(paint_severities(format_diagnostic(diagnostic, sources), stream), file=stream)
        print(file=stream)


def _error(message: str) -> None:
    print(f"planlang: {paint('error', 'error', sys.stderr)}: {message}", file=sys.stderr)


def _summary(diagnostics) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def cmd_check(args) -> int:
    sources = read_pack(args.policy)
    program, diagnostics = compile_sources(sources, args.policy)
    for folder in args.sources:
        if not Path(folder).is_dir():
            raise InputError("is not a folder", f"--sources {folder}", "give the folder that holds the documents the pack cites")
    unchecked: tuple[str, ...] = ()
    if program is not None:
        quotes = check_quotes(program, source_folders(args.policy, args.sources))
        diagnostics = sorted([*diagnostics, *quotes.diagnostics], key=lambda d: (d.span.file, d.span.line, d.span.column))
        unchecked = tuple(name for name in quotes.missing
                          if any(c.source == name and c.quote is not None for c in cited(program)))
    _print_diagnostics(diagnostics, {x.name: x for x in sources}, sys.stdout)
    if unchecked:
        print(f"note: quotes not checked against {', '.join(unchecked)}: not found beside the pack "
              f"(give --sources DIR or set {SOURCES_VARIABLE})")
    status = "ok" if program is not None else "failed"
    print(f"{args.policy}: {status}: {_summary(diagnostics)}")
    return EXIT_OK if program is not None else EXIT_POLICY


def _program(args) -> Program:
    return compile_pack(args.policy)


def _scenarios(args, plan, dataset) -> list[Scenario]:
    """The scenarios of ``--scenario FILE_OR_DIR[:NAME]`` (each), with ``--set`` layered on top of each;
    ``--set`` alone is one scenario."""
    extra = scenario_from_sets(args.set, plan, dataset) if args.set else None
    chosen: list[Scenario] = []
    for spec in args.scenario or ():
        path, name = _scenario_spec(spec)
        found = read_scenarios(path, plan, dataset)
        if name is None:
            if not found:
                raise InputError("holds no scenario", path, "declare one with `scenario NAME` and `set` lines")
            chosen += found.values()
        elif name in found:
            chosen.append(found[name])
        else:
            raise InputError(f"has no scenario `{name}`", path, suggest(name, found) or f"it has {', '.join(found) or 'none'}")
    if extra is None:
        return chosen
    if not chosen:
        return [extra]
    return [attrs.evolve(x, settings=x.settings + extra.settings, sources={**x.sources, **extra.sources}) for x in chosen]


def _scenario_spec(spec: str) -> tuple[str, str | None]:
    """``--scenario FILE_OR_DIR[:NAME]`` as its path and the name, if one is given."""
    if not Path(spec).exists() and ":" in spec:
        path, name = spec.rsplit(":", 1)
        return path, name
    return spec, None


def _refuse_overwrites(args, program, outputs: dict[str, str | None], *, documents: bool = False) -> None:
    """Refuse, before any work, an output that would write over a file the command reads (the pack's files, the
    data and the files beside it, scenario files and, with ``documents``, the cited documents) or over another output."""
    if not any(outputs.values()):
        return
    read: list[tuple[str, str | Path]] = [("the policy file", p) for p in sorted(Path(args.policy).glob("*.plan"))]
    read.append(("--data", args.data))
    if Path(args.data).suffix.lower() in (".csv", ".parquet"):
        from .columnar import companions

        read += [("the file read beside --data", p) for p in companions(Path(args.data))]
    for spec in args.scenario or ():
        path = Path(_scenario_spec(spec)[0])
        read += [("the scenario file", p) for p in (sorted(path.glob("*.plan")) if path.is_dir() else [path])]
    if documents:
        from .audit.sources import SourceLibrary

        library = SourceLibrary(program.directory, getattr(args, "sources", None))
        read += [("the cited document", p) for name in program.sources if (p := library.locate(name)) is not None]
    refuse_overwrites([(option, path) for option, path in outputs.items() if path], read)


def _one_scenario(args, plan, dataset) -> Scenario:
    scenarios = _scenarios(args, plan, dataset)
    if len(scenarios) > 1:
        raise InputError(f"names {len(scenarios)} scenarios ({', '.join(x.name for x in scenarios)}); this command runs one",
                         "--scenario", "name one as FILE:NAME, or use `planlang compare` to see them side by side")
    return scenarios[0] if scenarios else BASELINE


def _filters_chosen(args, program, dataset) -> tuple[frozenset | None, frozenset | None]:
    """The outputs of ``--only`` and the organisations of ``--entity`` (None: all), checked alike by every command
    that takes them: a name or code that does not exist is a usage error (64)."""
    outputs = program.of_kind(s.DefineDecl)
    for name in args.only or ():
        if name not in outputs:
            raise UsageError(f"`{name}` is not a definition of {args.policy}", "--only", suggest(name, outputs))
    for code in args.entity or ():
        dataset.known(code, "--entity")
    return frozenset(args.only) if args.only else None, frozenset(args.entity) if args.entity else None


def _output_filter(args, program, dataset):
    """``run --only NAME... --entity CODE...`` as a :class:`Selection`; None keeps everything."""
    names, codes = _filters_chosen(args, program, dataset)
    return None if names is None and codes is None else Selection(names, codes)


def _write_output(target: str, results, only) -> None:
    suffix = Path(target).suffix.lower()
    if suffix == ".xlsx":
        from .audit.excel import write_workbook

        write_workbook(target, results, only=only)
    elif suffix == ".csv":
        from .audit.csvfile import write_csv

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


def cmd_run(args) -> int:
    with _few_full_collections():
        return _run(args)


def _run(args) -> int:
    program = _program(args)
    _refuse_overwrites(args, program, {"--output": args.output, "--receipt": args.receipt})
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args))
    plan = compile_plan(program)
    scenario = _one_scenario(args, plan, dataset)
    only = _output_filter(args, program, dataset)
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


def _write_receipt(args, results) -> None:
    if getattr(args, "receipt", None):
        receipt = make_receipt(results, args.command_line)
        write_text_atomically(args.receipt, json.dumps(receipt, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.receipt}", file=sys.stderr)


def cmd_report(args) -> int:
    from .audit.report import write_report

    program = _program(args)
    _refuse_overwrites(args, program, {"--output": args.output, "--receipt": args.receipt}, documents=True)
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args))
    if Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise UsageError("cannot write this kind of file", args.output, "give a file ending .html")
    if args.sources is not None and not Path(args.sources).is_dir():
        raise UsageError("is not a folder", args.sources, "give the folder that holds the pack's source documents")
    plan = compile_plan(program)
    scenario = _one_scenario(args, plan, dataset)
    results = run(plan, dataset)
    if scenario.settings:
        comparison = compare(results, run(plan, dataset, scenario, baseline=results))
        _write_receipt(args, comparison.scenario)
        write_report(args.output, comparison.scenario, sources=args.sources, comparison=comparison,
                     receipt=make_receipt(comparison.scenario, args.command_line))
    else:
        _write_receipt(args, results)
        write_report(args.output, results, sources=args.sources, receipt=make_receipt(results, args.command_line))
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_verify(args) -> int:
    verdict = verify(args.receipt, allow=args.allow_path or (), max_bytes=_max_bytes(args))
    differences = verdict.differences
    for note in verdict.notes:
        print(f"note: {note}")
    if not differences:
        print(f"{args.receipt}: identical: the same policy files and data give the same figures")
        return EXIT_OK
    print(f"{args.receipt}: {len(differences)} difference{'s' * (len(differences) != 1)}:")
    for line in differences:
        print(f"  {line}")
    return EXIT_POLICY


def cmd_compare(args) -> int:
    program = _program(args)
    _refuse_overwrites(args, program, {"--output": args.output, "--receipt": args.receipt})
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args))
    plan = compile_plan(program)
    scenarios = _scenarios(args, plan, dataset)
    if not scenarios:
        raise InputError("compare needs a scenario: give --set 'TARGET = EXPR' or --scenario FILE", "compare")
    if len(scenarios) > MAX_COMPARED:
        raise InputError(f"names {len(scenarios):,} scenarios, more than the {MAX_COMPARED:,} compare runs at once",
                         "--scenario", "name some as FILE:NAME, or compare them in several runs")
    _filters_chosen(args, program, dataset)
    baseline = run(plan, dataset)
    only, entities = set(args.only or ()), set(args.entity or ())
    comparisons = [compare(baseline, run(plan, dataset, x, baseline=baseline), only, entities) for x in scenarios]
    if args.output:
        if Path(args.output).suffix.lower() != ".xlsx":
            raise UsageError("cannot write this kind of file", args.output, "give a file ending .xlsx")
        from .audit.excel import write_compare_workbook

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


def cmd_explain(args) -> int:
    program = _program(args)
    _refuse_overwrites(args, program, {"--html": args.html}, documents=True)
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args))
    if args.all:
        if args.name is not None:
            raise UsageError("give a NAME or --all, not both", "--all")
        return _explain_all(args, program, dataset)
    if args.html:
        raise UsageError("--html writes every value of an organisation and period: use it with --all", "--html")
    if args.name is None:
        raise UsageError("say which value to explain (NAME), or give --all for every value of --entity in --period",
                         "NAME")
    decl = program.declarations.get(args.name)
    explainable = {n for n, d in program.declarations.items() if not isinstance(d, s.TestDecl)}
    if decl is None:
        raise UsageError(f"`{args.name}` is not declared in {args.policy}", "NAME", suggest(args.name, explainable))
    kinds = getattr(decl, "kinds", ())
    entity = args.entity
    if kinds:
        if entity is None:
            raise UsageError(f"`{args.name}` is worked out per {' or '.join(kinds)}: say which with --entity CODE", "--entity")
        kind = dataset.organisations[dataset.known(entity, "--entity")].kind
        if kind not in kinds:
            raise UsageError(f"`{args.name}` is worked out per {' or '.join(kinds)}; {entity} is a {kind}", "--entity")
    else:
        entity = None
    granularity = getattr(decl, "granularity", None)
    period = None
    if granularity is not None or isinstance(decl, s.ParameterDecl):
        if args.period is None:
            example = _example_period(program, granularity)
            raise UsageError(f"`{args.name}` has a value per {granularity or 'period'}: say which with --period, "
                             f"as in --period {example}", "--period")
        period = period_in_year(args.period, program.year, "--period")
        if granularity is not None and period.kind != granularity:
            raise UsageError(f"`{args.name}` is {granularity}ly; {period} is a {period.kind}", "--period")
    plan = compile_plan(program)
    scenario = _one_scenario(args, plan, dataset)
    baseline = run(plan, dataset)
    results = run(plan, dataset, scenario, baseline=baseline) if scenario.settings else baseline
    trace = explain(results, args.name, entity, period)
    if args.compare:
        if not scenario.settings:
            raise UsageError("--compare explains a value under the baseline and a scenario: give --set or --scenario",
                             "--compare")
        before = explain(baseline, args.name, entity, period)
        if args.json:
            print(json.dumps({"scenario": scenario_json(scenario), "baseline": explanation_json(before, args.depth),
                              "explanation": explanation_json(trace, args.depth)}, indent=2, ensure_ascii=False))
        else:
            print(explanation_compare_text(before, trace))
        return EXIT_OK
    if args.json:
        print(json.dumps(explanation_json(trace, args.depth), indent=2, ensure_ascii=False))
    else:
        print(explanation_text(trace, args.depth))
    return EXIT_OK


def _explain_all(args, program, dataset) -> int:
    """Every value (definitions and flags) of one organisation in one period, each with its derivation."""
    entity = dataset.known(args.entity, "--entity") if args.entity is not None else None
    period = period_in_year(args.period, program.year, "--period") if args.period is not None else None
    results = evaluate(program, dataset)
    keys = [(n, e, p) for n, e, p, _ in results.outputs() if e == entity and p == period]
    keys += [(f.name, f.entity, f.period) for f in results.flags if f.entity == entity and f.period == period]
    heading = " ".join(x for x in (f"for {entity}" if entity else "of the whole pack", f"in {period}" if period else "") if x)
    if not keys:
        raise UsageError(f"no value is worked out {heading}", "--all",
                         f"try a period of the year such as --period {_example_period(program, 'month')} or "
                         f"--period {program.year}")
    if args.html:
        from .audit.report import explanations_html

        write_text_atomically(args.html, explanations_html(results, keys, heading))
        print(f"wrote {args.html}", file=sys.stderr)
    elif args.json:
        trees = [explanation_json(explain(results, *key), args.depth) for key in keys]
        print(json.dumps({"policy": program.title, "entity": entity, "period": str(period) if period else None,
                          "explanations": trees}, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(explanation_text(explain(results, *key), args.depth) for key in keys))
    return EXIT_OK


def _example_period(program, granularity: str | None) -> str:
    """A period of the value's own granularity within the pack's year, for a hint."""
    year = program.year
    return str(year if granularity in (None, "year") else year.parts(granularity)[0])


def _depth(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of levels such as 2, found {text!r}")
    return int(text)


def cmd_test(args) -> int:
    program = _program(args)
    if args.scenario:
        # scenario files are checked first against no data: a test's settings may name only its own organisations
        nothing = make_dataset([], {}, {}, "no data")
        outcomes = [o for path in args.scenario for o in run_scenario_tests(program, path, nothing)]
    else:
        outcomes = run_tests(program)
    passed = sum(o.passed for o in outcomes)
    for outcome in outcomes:
        status = paint("PASS", "ok", sys.stdout) if outcome.passed else paint("FAIL", "fail", sys.stdout)
        print(f"{status}  {outcome.test.name}  ({outcome.test.span.file}:{outcome.test.span.line})")
        for failure in outcome.failures:
            print(f"      {failure}")
        for note in outcome.notes:
            print(f"      {note.kind}: {note.text}")
    print(f"{passed} passed, {len(outcomes) - passed} failed")
    return EXIT_OK if passed == len(outcomes) else EXIT_POLICY


def cmd_solve(args) -> int:
    program = _program(args)
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args))
    plan = compile_plan(program)
    scenario = _one_scenario(args, plan, dataset)
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


def _sweep_summaries(args, plan, dataset, stream, total: int, outputs, units, grids, draws, suffix) -> list:
    """Every grid point's summary, the steps run here or on Dask, every figure also written to ``--out`` (a ``suffix`` file)."""
    from .longform import LongFormWriter
    from .progress import Progress

    with contextlib.ExitStack() as stack:
        if args.workers is not None or args.scheduler is not None:
            from .run.scaleout import cluster, distributed_results

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


def cmd_sweep(args) -> int:
    from .longform import check_target
    from .render_sweep import sweep_json, sweep_text

    program = _program(args)
    _refuse_overwrites(args, program, {"--out": args.out})
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args))
    plan = compile_plan(program)
    outputs = sweep_outputs(args.output, program, args.policy)
    suffix = check_target(args.out) if args.out else None  # before any work, not at the end of it
    base = _one_scenario(args, plan, dataset)
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


def cmd_deadlines(args) -> int:
    program = _program(args)
    try:
        as_of = parse_date(args.as_of) if args.as_of else dt.date.today()
    except PeriodError as error:
        raise UsageError(str(error), "--as-of") from None
    dataset = load_data(args.data, program, max_bytes=_max_bytes(args)) if args.data else make_dataset([], {}, {}, "no data")
    results = evaluate(program, dataset)
    rows = []
    for name, decl in program.of_kind(s.DeadlineDecl).items():
        entities = [o.code for o in dataset.of_kinds(decl.kinds)] if decl.kinds else [None]
        if decl.kinds and not entities:
            rows.append((None, name, None, f"= {program.text_of(decl.value.span)} (for each {' or '.join(decl.kinds)}; "
                                               "give --data to work it out)", decl))
        for entity in entities:
            rows.append((results.deadline_for(name, entity), name, entity, None, decl))
    rows.sort(key=lambda r: (r[0] if isinstance(r[0], dt.date) else dt.date.max, r[1], r[2] or ""))
    print(f"{program.title}: deadlines as of {as_of}")
    for date, name, entity, note, decl in rows:
        who = f" [{entity}]" if entity else ""
        what = f": {decl.description}" if decl.description else ""
        cite = f"  ({decl.citations[0]})" if decl.citations else ""
        if not isinstance(date, dt.date):
            reason = note or f"missing: {date.describe()}"
            print(f"  {'?':<10}  {'':<22}  {name}{who}{what}  {reason}{cite}")
            continue
        if date < as_of:
            status = f"past ({_working_days_after(date, as_of)} wd ago)"
        elif date == as_of:
            status = "due today"
        else:
            status = f"upcoming ({_working_days_after(as_of, date)} wd left)"
        print(f"  {date}  {status:<22}  {name}{who}{what}{cite}")
    return EXIT_OK


def _working_days_after(first: dt.date, last: dt.date) -> int:
    """Working days after ``first`` up to ``last``: no date past ``last`` is made, so none leaves the calendar."""
    return working_days_between(first, last) - is_working_day(first)


def cmd_diff(args) -> int:
    # a pack that does not compile is named in the error message as ``args.policy``
    args.policy = args.old
    old = compile_pack(args.old)
    args.policy = args.new
    new = compile_pack(args.new)
    changes = diff_programs(old, new)
    if bool(args.data) != bool(args.output):
        raise UsageError("impact attribution needs both --data FILE and --output NAME...", "diff")
    impacts = None
    if args.data:
        check_comparable(changes)
        impacts = attribute(changes, load_data(args.data, old, max_bytes=_max_bytes(args)),
                            load_data(args.data, new, max_bytes=_max_bytes(args)), args.output)
    if args.json:
        document = diff_json(changes)
        if impacts is not None:
            document["impact"] = impact_json(impacts)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    elif args.markdown:
        print(diff_markdown(changes), end="")
    else:
        print(diff_text(changes) + (impact_text(impacts) if impacts is not None else ""), end="")
    return EXIT_OK


def _plan_files(paths: list[str]) -> list[Path]:
    files = []
    for given in map(Path, paths):
        if given.is_dir():
            found = sorted(given.glob("*.plan"))
            if not found:
                raise InputError("holds no .plan files", str(given))
            files += found
        elif given.is_file():
            files.append(given)
        else:
            raise InputError("no such file or folder", str(given))
    return files


def cmd_fmt(args) -> int:
    """Rewrite each file in canonical layout, or with --check only say which would change."""
    # named as given, so that messages and rewrites refer to the paths on the command line
    sources = [SourceFile(str(path), read_policy_file(path).text) for path in _plan_files(args.paths)]
    failed, changed = [], []
    for source in sources:
        text, errors = format_source(source)
        if text is None:
            _print_diagnostics(errors, {source.name: source}, sys.stderr)
            failed.append(source.name)
        elif text != source.text:
            changed.append(source.name)
            if not args.check:
                write_atomically(Path(source.name), lambda path, text=text: Path(path).write_text(text, encoding="utf-8"))
    verb = "would reformat" if args.check else "reformatted"
    for name in changed:
        print(f"{verb} {name}")
    print(f"{len(changed)} file{'s' * (len(changed) != 1)} {verb}, {len(sources) - len(changed) - len(failed)} already canonical"
          + (f", {len(failed)} with syntax errors (not changed)" if failed else ""))
    return EXIT_POLICY if failed or (args.check and changed) else EXIT_OK


def cmd_lsp(args) -> int:
    from .lsp import serve  # the server's libraries load only for editors

    return serve()  # 0 after the editor's shutdown, 1 if it ended the server without one (the protocol's rule)


def cmd_rules(args) -> int:
    print(rulebook_markdown(_program(args)), end="")
    return EXIT_OK


DATA_HELP = "a .json, .xlsx, .csv or .parquet data file (.csv/.parquet: long form beside <stem>.organisations.csv)"


def _command(commands, name: str, handler, help_: str, *examples: str, policy: bool = True) -> argparse.ArgumentParser:
    """A subcommand (taking POLICY_DIR first, unless ``policy`` is false) whose --help ends with examples."""
    command = commands.add_parser(name, help=help_, epilog="example:\n" + "".join(f"  {e}\n" for e in examples),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    if policy:
        command.add_argument("policy", metavar="POLICY_DIR")
    command.set_defaults(handler=handler)
    return command


def parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="planlang", description="Rules-as-code for NHS operational-planning finance.",
                     epilog="exit status: 0 success, 1 policy errors or failing tests or a changed receipt or no value solves, 2 bad data "
                            "or a scenario that does not check, 3 missing inputs under --strict, 64 usage error, "
                            "70 internal error, 74 standard output could not be written")
    parser.add_argument("--version", action="version", version=f"planlang {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worked = "examples/erf_worked_example.json"

    check = _command(commands, "check", cmd_check, "compile a policy pack and report every problem",
                     "planlang check policies/2021_22", "planlang check policies/2021_22 --sources ../shared/seeds")
    check.add_argument("--sources", action="append", default=[], metavar="DIR",
                       help=f"a folder holding the documents the pack cites, to check its quotes (also: {SOURCES_VARIABLE})")

    run_ = _command(commands, "run", cmd_run, "evaluate a policy pack on organisation data",
                    "planlang run policies/2020_21 --data examples/2020_21.xlsx --output results.xlsx --receipt receipt.json",
                    f"planlang run policies/2021_22 --data {worked} --only erf_additional_funding --entity EXAMPLE2",
                    f"planlang run policies/2021_22 --data {worked} --set 'erf_thresholds in 2021-05 = 70%'")
    run_.add_argument("--data", required=True, metavar="FILE", help=DATA_HELP)
    run_.add_argument("--json", action="store_true", help="print one JSON object")
    run_.add_argument("--strict", action="store_true", help="treat any missing input as an error (exit 3)")
    run_.add_argument("--all-missing", action="store_true",
                      help="list every missing value, also of rules the data gives nothing to work with "
                           "(without it, each such rule is said once, with the inputs it lacks)")
    run_.add_argument("--output", metavar="FILE", help="write the results to FILE.xlsx (with every figure's provenance) "
                                                       "or FILE.csv (long form)")
    run_.add_argument("--receipt", metavar="FILE", help="write a receipt of the run (file hashes, versions, figures) "
                                                        "to FILE.json; check it later with `planlang verify FILE.json`")
    run_.add_argument("--backend", choices=("auto", *BACKENDS), default="auto",
                      help="the engine that works the figures out: exact (one value at a time), vector (every "
                           "organisation at once, exact to the penny) or auto (the faster for the data's size; the "
                           "default). Every backend prints the same figures; explain always records on the exact engine")
    _filters(run_, "keep")
    _data_limit(run_)
    _scenario_options(run_)

    compare_ = _command(commands, "compare", cmd_compare, "run the baseline and scenarios and show what changed",
                        f"planlang compare policies/2021_22 --data {worked} --set 'erf_thresholds in 2021-05 = 70%'",
                        f"planlang compare policies/2021_22 --data {worked} --scenario examples/scenarios/2021_22/erf.plan")
    compare_.add_argument("--data", required=True, metavar="FILE", help=DATA_HELP)
    compare_.add_argument("--json", action="store_true", help="print one JSON object")
    _filters(compare_, "compare")
    compare_.add_argument("--receipt", metavar="FILE", help="write a receipt of the baseline and every scenario run, "
                                                            "checked later with `planlang verify FILE.json`")
    compare_.add_argument("--output", metavar="FILE.xlsx", help="also write a workbook: for every output, the baseline's, "
                                                               "each scenario's and the difference's columns")
    _scenario_options(compare_)
    _data_limit(compare_)

    explain_ = _command(commands, "explain", cmd_explain, "show how one value was worked out",
                        f"planlang explain policies/2021_22 --data {worked} --entity EXAMPLE2 --period 2021-05 erf_additional_funding",
                        "planlang explain policies/2020_21 --data examples/2020_21.xlsx --entity TRUST_A1 --period 2020/21 --depth 2 frf_pdc_conversion",
                        'planlang explain policies/2020_21 --data examples/2020_21.xlsx --entity TRUST_A1 --period "2020/21 Q1" --all --html q1.html',
                        f"planlang explain policies/2021_22 --data {worked} --entity EXAMPLE2 --period 2021-05 erf_additional_funding "
                        "--compare --set 'erf_thresholds in 2021-05 = 70%'")
    explain_.add_argument("--data", required=True, metavar="FILE", help=DATA_HELP)
    explain_.add_argument("--entity", metavar="CODE", help="the organisation (when the value is per organisation)")
    explain_.add_argument("--period", metavar="PERIOD", help="the period (when the value has one)")
    explain_.add_argument("--json", action="store_true", help="print the derivation as JSON")
    explain_.add_argument("--depth", type=_depth, metavar="N", help="show N levels of steps; deeper ones are summarised "
                                                                  "as one line with their value")
    explain_.add_argument("--all", action="store_true", help="explain every value of --entity in --period")
    explain_.add_argument("--html", metavar="FILE", help="with --all: write the explanations to FILE.html")
    explain_.add_argument("--compare", action="store_true", help="explain the value under the baseline and the scenario together")
    _scenario_options(explain_)
    _data_limit(explain_)
    explain_.add_argument("name", metavar="NAME", nargs="?")

    solve_ = _command(commands, "solve", cmd_solve, "goal seek: the value of an input or parameter that reaches a target",
                      f"planlang solve policies/2021_22 --data {worked} --vary 'erf_actual for EXAMPLE2 in 2021-05' "
                      "--until 'erf_additional_funding for EXAMPLE2 in 2021-05 = £8,000,000'")
    solve_.add_argument("--data", required=True, metavar="FILE", help=DATA_HELP)
    solve_.add_argument("--vary", required=True, metavar="TARGET",
                        help="an input (NAME for CODE in PERIOD) or a parameter (NAME [in PERIOD])")
    solve_.add_argument("--until", required=True, metavar="GOAL",
                        help="'NAME for CODE in PERIOD = VALUE', 'total NAME [in PERIOD] = VALUE' or "
                             "'flag NAME for CODE in PERIOD raised|cleared'")
    solve_.add_argument("--json", action="store_true", help="print one JSON object")
    _scenario_options(solve_)
    _data_limit(solve_)

    sweep = _command(commands, "sweep", cmd_sweep, "run a grid of scenarios, or draws of uncertain inputs, and total outputs",
                     f"planlang sweep policies/2021_22 --data {worked} --vary 'erf_rate_above_upper = 100% to 150% step 10%' "
                     "--output erf_additional_funding",
                     "planlang sweep policies/2020_21 --data examples/2020_21.xlsx --vary 'frf_taper_rate = 0% to 100% step 25%' "
                     "--output frf_earned_year --out steps.parquet",
                     f"planlang sweep policies/2021_22 --data {worked} --vary 'erf_actual = erf_actual * uniform(95%, 105%)' "
                     "--draws 1000 --seed 7 --output erf_additional_funding --json")
    sweep.add_argument("--data", required=True, metavar="FILE", help=DATA_HELP)
    sweep.add_argument("--vary", required=True, action="append", metavar="'NAME [in PERIOD] = A to B step S'",
                       help="a parameter or input swept over a range (repeatable: the product grid, the first outermost), "
                            "or 'NAME = NAME * uniform(LOW, HIGH)' (normal(MEAN, SD), triangular(LOW, MODE, HIGH)) with --draws")
    sweep.add_argument("--output", required=True, nargs="+", metavar="NAME",
                       help="the definitions to total over every organisation and period at each step")
    sweep.add_argument("--json", action="store_true", help="print one JSON object")
    sweep.add_argument("--out", metavar="FILE", help="also write every step, output, organisation and period in long form "
                                                     "to FILE.parquet or FILE.csv")
    sweep.add_argument("--draws", type=_count_of("draws", MAX_STEPS), metavar="N",
                       help="sample the --vary distributions N times; each total is reported as its mean and 5th, 50th "
                            "and 95th percentiles")
    sweep.add_argument("--seed", type=_count_of("seed", 2**63 - 1, lowest=0), default=0, metavar="S",
                       help="the seed of the draws (default 0): the same seed gives the same draws")
    sweep.add_argument("--backend", choices=list(BULK_BACKENDS), default="vector",
                       help="the evaluation backend: vector (a chunk of steps at once along a steps' axis, exact to the "
                            "penny; the default) or exact (one step at a time); both give the same figures")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_count_of("workers", 256), metavar="N",
                       help="run the steps on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run the steps on the Dask cluster of this scheduler")
    sweep.add_argument("--scheduler-timeout", type=_count_of("seconds", 3600), default=CONNECT_SECONDS, metavar="SECONDS",
                       help=f"how long to wait for --scheduler to answer (default {CONNECT_SECONDS})")
    _scenario_options(sweep)
    _data_limit(sweep)

    deadlines = _command(commands, "deadlines", cmd_deadlines, "list a pack's dated milestones: past, due and upcoming",
                         "planlang deadlines policies/2021_22 --as-of 2021-05-20")
    deadlines.add_argument("--as-of", metavar="DATE", help="the date to count from (default: today)")
    deadlines.add_argument("--data", metavar="FILE", help="data for deadlines that differ by organisation")
    _data_limit(deadlines)

    _command(commands, "rules", cmd_rules, "list every rule of a pack with its source and interpretations (Markdown)",
             "planlang rules policies/2021_22 > rules.md")

    report = _command(commands, "report", cmd_report, "write a self-contained HTML audit report of a run",
                      "planlang report policies/2020_21 --data examples/2020_21.xlsx -o report.html")
    report.add_argument("--data", required=True, metavar="FILE", help=DATA_HELP)
    report.add_argument("-o", "--output", required=True, metavar="FILE.html", help="where to write the report")
    report.add_argument("--sources", metavar="DIR", help="the folder of the guidance documents the pack cites "
                                                         "(default: beside the pack, or shared/seeds above it)")
    report.add_argument("--receipt", metavar="FILE", help="also write the run's receipt to FILE.json")
    _data_limit(report)
    _scenario_options(report)

    verify_ = _command(commands, "verify", cmd_verify, "re-run a receipt and say whether anything changed",
                       "planlang verify receipt.json", policy=False)
    verify_.add_argument("receipt", metavar="RECEIPT")
    verify_.add_argument("--allow-path", action="append", metavar="DIR",
                         help="also read files the receipt names inside DIR, outside the folders it recorded (repeatable)")
    _data_limit(verify_)
    verify_.set_defaults(policy="verify")

    diff = _command(commands, "diff", cmd_diff, "compare two policy packs: declarations added, removed, renamed and changed",
                    "planlang diff policies/2020_21 my_pack --markdown > sign-off.md",
                    "planlang diff policies/2020_21 my_pack --data examples/2020_21.xlsx --output frf_earned_year", policy=False)
    diff.add_argument("old", metavar="OLD_PACK")
    diff.add_argument("new", metavar="NEW_PACK")
    diff.add_argument("--data", metavar="FILE", help="with --output: run both packs on this data and attribute the change")
    diff.add_argument("--output", nargs="+", metavar="NAME",
                      help="the definitions whose change (totalled over every organisation and period) is shared among "
                           "the rule changes by Shapley values")
    _data_limit(diff)
    form = diff.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print one JSON object")
    form.add_argument("--markdown", action="store_true", help="print Markdown, for a sign-off paper")
    diff.set_defaults(policy=None)

    fmt = _command(commands, "fmt", cmd_fmt, "lay policy files out canonically (comments kept)",
                   "planlang fmt --check policies/2021_22", policy=False)
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="a .plan file, or a folder of them")
    fmt.add_argument("--check", action="store_true", help="change nothing; exit 1 if any file is not canonical")
    fmt.set_defaults(policy="fmt")

    lsp = _command(commands, "lsp", cmd_lsp, "run the language server for editors, on standard input and output",
                   "planlang lsp", policy=False)
    lsp.set_defaults(policy="lsp")

    test = _command(commands, "test", cmd_test, "run the tests written in a policy pack, or those written under scenarios",
                    "planlang test policies/2021_22",
                    "planlang test policies/2021_22 --scenario examples/scenarios/2021_22/erf.plan")
    test.add_argument("--scenario", action="append", metavar="FILE_OR_DIR",
                      help="run the tests written in these scenario files, each under its scenario")
    return parser


def _filters(command, verb: str) -> None:
    command.add_argument("--only", nargs="+", metavar="NAME", help=f"{verb} only these outputs")
    command.add_argument("--entity", nargs="+", metavar="CODE", help=f"{verb} only these organisations")


def _scenario_options(command) -> None:
    command.add_argument("--set", action="append", metavar="'TARGET = EXPR'",
                         help="a what-if setting, as a test's `given` (repeatable; together one scenario)")
    command.add_argument("--scenario", action="append", metavar="FILE_OR_DIR[:NAME]",
                         help="scenarios declared in .plan files outside the pack (repeatable)")


def _data_limit(command: argparse.ArgumentParser) -> None:
    command.add_argument("--max-data-mb", type=_megabytes, metavar="N", default=MAX_DATA_BYTES // (1024 * 1024),
                         help=f"read a data file of up to N MB (default {MAX_DATA_BYTES // (1024 * 1024)})")


def _count_of(what: str, highest: int, lowest: int = 1):
    """An argparse type: a whole number from ``lowest`` to ``highest``."""
    def parse(text: str) -> int:
        if not text.isascii() or not text.isdigit() or not lowest <= int(text) <= highest:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what} from {lowest} to {highest:,}, found {text!r}")
        return int(text)

    return parse


def _megabytes(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"expected a whole number of megabytes from 1 to 1048576, found {text!r}")
    return int(text)


def _max_bytes(args) -> int:
    return args.max_data_mb * 1024 * 1024


def dispatch(args) -> int:
    """Run the command ``args`` names; every failure becomes its exit code and a message, never a traceback."""
    try:
        return args.handler(args)
    except PolicyError as error:
        _print_diagnostics(error.diagnostics, error.sources, sys.stderr)
        print(f"{args.policy}: the policy does not compile: {_summary(error.diagnostics)}", file=sys.stderr)
        return EXIT_POLICY
    except ScenarioError as error:
        _print_diagnostics(error.diagnostics, error.sources, sys.stderr)
        print(f"planlang: error: the scenario does not check: {_summary(error.diagnostics)}", file=sys.stderr)
        return EXIT_DATA
    except DataErrors as error:
        for problem in error.errors:
            _error(str(problem))
        print(f"planlang: {error.summary}", file=sys.stderr)
        return EXIT_DATA
    except UsageError as error:
        _error(str(error))
        return EXIT_USAGE
    except InputError as error:
        _error(str(error))
        return EXIT_DATA
    except OSError as error:
        if error.filename is None:  # not about a path planlang was given: unexpected
            return _internal(error)
        # a path the system cannot even look up (a name too long, a loop of links) wherever it is first touched
        _error(f"{os.fsdecode(error.filename)}: cannot be read: {error.strerror or error}")
        return EXIT_DATA
    except RecursionError:
        print(f"planlang: error: {args.policy}: an expression or a chain of definitions nests too deeply to follow "
              f"(beyond {sys.getrecursionlimit():,} nested steps)\n  help: split long expressions into named definitions",
              file=sys.stderr)
        return EXIT_POLICY
    except Exception as error:  # the last line of defence: never show a traceback
        return _internal(error)


def _internal(error: Exception) -> int:
    print(f"planlang: internal error ({type(error).__name__}: {error}); please report it with the command you ran",
          file=sys.stderr)
    return EXIT_INTERNAL
