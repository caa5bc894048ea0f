"""``planlang explain``: how one value was worked out (or, with ``--all``, every value of an organisation in a
period), as text, JSON or HTML, under the baseline, a scenario or both."""

from __future__ import annotations

import json
import sys

from .. import syntax as s
from ..diagnostics import UsageError, suggest
from ..explanation import explain
from ..files import write_text_atomically
from ..periods import period_in_year
from ..render import explanation_compare_text, explanation_json, explanation_text, scenario_json
from ..run import evaluate, run
from . import load
from .exits import EXIT_OK

__all__ = ["cmd_explain"]


def cmd_explain(args) -> int:
    inputs = load.load(args, {"--html": args.html}, documents=True)
    program, dataset = inputs.program, inputs.dataset
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
    plan = inputs.plan
    scenario = inputs.scenario()
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
        from ..audit.report import explanations_html

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
