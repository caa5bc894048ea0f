"""The command line: ``planlang check | run | explain | test | deadlines | rules``.

Exit codes are a contract (the README has the table): 0 success; 1 the policy has errors, its tests
fail or a receipt no longer matches; 2 bad data (a file that cannot be read or holds a bad value);
3 missing inputs under ``--strict``; 64 a usage error (the command line itself); 70 an internal
error. No input produces a Python traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from pathlib import Path

from . import __version__
from . import syntax as s
from .compiler import Program, compile_pack, compile_sources, read_pack
from .data import load_data, make_dataset
from .diagnostics import DataErrors, InputError, PolicyError, UsageError, format_diagnostic, suggest
from .evaluator import evaluate
from .explain import explain
from .colour import paint, paint_severities
from .files import write_text_atomically
from .periods import PeriodError, add_working_days, parse_date, parse_period, working_days_between
from .render import Selection, explanation_json, explanation_text, rulebook_markdown, run_json, run_text
from .testing import run_tests
from .audit.receipt import environment_notes, make_receipt, verify

__all__ = ["main"]

EXIT_OK, EXIT_POLICY, EXIT_DATA, EXIT_MISSING, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3, 64, 70


class _UsageExit(Exception):
    """argparse found the command line wrong; it has printed the usage and the message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise _UsageExit


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
    _print_diagnostics(diagnostics, {x.name: x for x in sources}, sys.stdout)
    status = "ok" if program is not None else "failed"
    print(f"{args.policy}: {status}: {_summary(diagnostics)}")
    return EXIT_OK if program is not None else EXIT_POLICY


def _program(args) -> Program:
    return compile_pack(args.policy)


def _output_filter(args, program, dataset):
    """``run --only NAME... --entity CODE...`` as a :class:`Selection`; None keeps everything."""
    outputs = {n for n, d in program.declarations.items() if isinstance(d, s.DefineDecl)}
    for name in args.only or ():
        if name not in outputs:
            raise UsageError(f"`{name}` is not a definition of {args.policy}", "--only", suggest(name, outputs))
    for code in args.entity or ():
        if code not in dataset.organisations:
            raise UsageError(f"no organisation {code!r} in {dataset.source}", "--entity", suggest(code, dataset.organisations))
    if not args.only and not args.entity:
        return None
    return Selection(frozenset(args.only) if args.only else None, frozenset(args.entity) if args.entity else None)


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


def cmd_run(args) -> int:
    program = _program(args)
    results = evaluate(program, load_data(args.data, program))
    only = _output_filter(args, program, results.dataset)
    if args.strict:
        absent = results.missing_inputs()
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
        document = run_json(results, only=only)
        if only is None:  # a receipt vouches for a whole run
            document["receipt"] = make_receipt(results, args.command_line, document, outcome=False)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    elif not args.output:
        print(paint_severities(run_text(results, only=only), sys.stdout))
    return EXIT_OK


def _write_receipt(args, results) -> None:
    if getattr(args, "receipt", None):
        receipt = make_receipt(results, args.command_line)
        write_text_atomically(args.receipt, json.dumps(receipt, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.receipt}", file=sys.stderr)


def cmd_report(args) -> int:
    from .audit.report import write_report

    program = _program(args)
    results = evaluate(program, load_data(args.data, program))
    if Path(args.output).suffix.lower() not in (".html", ".htm"):
        raise UsageError("cannot write this kind of file", args.output, "give a file ending .html")
    if args.sources is not None and not Path(args.sources).is_dir():
        raise UsageError("is not a folder", args.sources, "give the folder that holds the pack's source documents")
    _write_receipt(args, results)
    write_report(args.output, results, sources=args.sources, receipt=make_receipt(results, args.command_line))
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_verify(args) -> int:
    differences = verify(args.receipt)
    for note in environment_notes(args.receipt):
        print(f"note: {note}")
    if not differences:
        print(f"{args.receipt}: identical: the same policy files and data give the same figures")
        return EXIT_OK
    print(f"{args.receipt}: {len(differences)} difference{'s' * (len(differences) != 1)}:")
    for line in differences:
        print(f"  {line}")
    return EXIT_POLICY


def _organisation(code: str, dataset) -> str:
    if code not in dataset.organisations:
        raise UsageError(f"no organisation {code!r} in {dataset.source}", "--entity", suggest(code, dataset.organisations))
    return code


def _period_in_year(text: str, program):
    try:
        period = parse_period(text)
    except PeriodError as error:
        raise UsageError(str(error), "--period") from None
    if not program.year.contains(period):
        raise UsageError(f"{period} is outside the policy year {program.year}", "--period")
    return period


def cmd_explain(args) -> int:
    program = _program(args)
    dataset = load_data(args.data, program)
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
        kind = dataset.organisations[_organisation(entity, dataset)].kind
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
        period = _period_in_year(args.period, program)
        if granularity is not None and period.kind != granularity:
            raise UsageError(f"`{args.name}` is {granularity}ly; {period} is a {period.kind}", "--period")
    results = evaluate(program, dataset)
    trace = explain(results, args.name, entity, period)
    if args.json:
        print(json.dumps(explanation_json(trace, args.depth), indent=2, ensure_ascii=False))
    else:
        print(explanation_text(trace, args.depth))
    return EXIT_OK


def _explain_all(args, program, dataset) -> int:
    """Every value (definitions and flags) of one organisation in one period, each with its derivation."""
    entity = _organisation(args.entity, dataset) if args.entity is not None else None
    period = _period_in_year(args.period, program) if args.period is not None else None
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


def cmd_deadlines(args) -> int:
    program = _program(args)
    try:
        as_of = parse_date(args.as_of) if args.as_of else dt.date.today()
    except PeriodError as error:
        raise UsageError(str(error), "--as-of") from None
    dataset = load_data(args.data, program) if args.data else make_dataset([], {}, {}, "no data")
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
            status = f"past ({working_days_between(add_working_days(date, 1), as_of)} wd ago)"
        elif date == as_of:
            status = "due today"
        else:
            status = f"upcoming ({working_days_between(add_working_days(as_of, 1), date)} wd left)"
        print(f"  {date}  {status:<22}  {name}{who}{what}{cite}")
    return EXIT_OK


def cmd_rules(args) -> int:
    print(rulebook_markdown(_program(args)), end="")
    return EXIT_OK


def _command(commands, name: str, handler, help_: str, *examples: str, policy: bool = True) -> argparse.ArgumentParser:
    """A subcommand (taking POLICY_DIR first, unless ``policy`` is false) whose --help ends with examples."""
    command = commands.add_parser(name, help=help_, epilog="example:\n" + "".join(f"  {e}\n" for e in examples),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    if policy:
        command.add_argument("policy", metavar="POLICY_DIR")
    command.set_defaults(handler=handler)
    return command


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="planlang", description="Rules-as-code for NHS operational-planning finance.",
                     epilog="exit status: 0 success, 1 policy errors or failing tests or a changed receipt, 2 bad data, "
                            "3 missing inputs under --strict, 64 usage error, 70 internal error")
    parser.add_argument("--version", action="version", version=f"planlang {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _command(commands, "check", cmd_check, "compile a policy pack and report every problem",
                     "planlang check policies/2021_22")

    run = _command(commands, "run", cmd_run, "evaluate a policy pack on organisation data",
                     "planlang run policies/2020_21 --data examples/2020_21.xlsx --output results.xlsx --receipt receipt.json",
                     "planlang run policies/2021_22 --data examples/erf_worked_example.json --only erf_additional_funding --entity EXAMPLE2")
    run.add_argument("--data", required=True, metavar="FILE", help="a .json or .xlsx data file")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--strict", action="store_true", help="treat any missing input as an error (exit 3)")
    run.add_argument("--output", metavar="FILE", help="write the results to FILE.xlsx (with every figure's provenance) "
                                                      "or FILE.csv (long form)")
    run.add_argument("--receipt", metavar="FILE", help="write a receipt of the run (file hashes, versions, figures) "
                                                         "to FILE.json; check it later with `planlang verify FILE.json`")
    run.add_argument("--only", nargs="+", metavar="NAME", help="keep only these outputs")
    run.add_argument("--entity", nargs="+", metavar="CODE", help="keep only these organisations")

    explain_ = _command(commands, "explain", cmd_explain, "show how one value was worked out",
                     "planlang explain policies/2021_22 --data examples/erf_worked_example.json --entity EXAMPLE2 --period 2021-05 erf_additional_funding",
                     "planlang explain policies/2020_21 --data examples/2020_21.xlsx --entity TRUST_A1 --period 2020/21 --depth 2 frf_pdc_conversion",
                     'planlang explain policies/2020_21 --data examples/2020_21.xlsx --entity TRUST_A1 --period "2020/21 Q1" --all --html q1.html')
    explain_.add_argument("--data", required=True, metavar="FILE")
    explain_.add_argument("--entity", metavar="CODE", help="the organisation (when the value is per organisation)")
    explain_.add_argument("--period", metavar="PERIOD", help="the period (when the value has one)")
    explain_.add_argument("--json", action="store_true", help="print the derivation as JSON")
    explain_.add_argument("--depth", type=_depth, metavar="N", help="show N levels of steps; deeper ones are summarised "
                                                                  "as one line with their value")
    explain_.add_argument("--all", action="store_true", help="explain every value of --entity in --period")
    explain_.add_argument("--html", metavar="FILE", help="with --all: write the explanations to FILE.html")
    explain_.add_argument("name", metavar="NAME", nargs="?")

    deadlines = _command(commands, "deadlines", cmd_deadlines, "list a pack's dated milestones: past, due and upcoming",
                     "planlang deadlines policies/2021_22 --as-of 2021-05-20")
    deadlines.add_argument("--as-of", metavar="DATE", help="the date to count from (default: today)")
    deadlines.add_argument("--data", metavar="FILE", help="data for deadlines that differ by organisation")

    _command(commands, "rules", cmd_rules, "list every rule of a pack with its source and interpretations (Markdown)",
                     "planlang rules policies/2021_22 > rules.md")

    report = _command(commands, "report", cmd_report, "write a self-contained HTML audit report of a run",
                     "planlang report policies/2020_21 --data examples/2020_21.xlsx -o report.html")
    report.add_argument("--data", required=True, metavar="FILE", help="a .json or .xlsx data file")
    report.add_argument("-o", "--output", required=True, metavar="FILE.html", help="where to write the report")
    report.add_argument("--sources", metavar="DIR", help="the folder of the guidance documents the pack cites "
                                                         "(default: beside the pack, or shared/seeds above it)")
    report.add_argument("--receipt", metavar="FILE", help="also write the run's receipt to FILE.json")

    verify_ = _command(commands, "verify", cmd_verify, "re-run a receipt and say whether anything changed",
                     "planlang verify receipt.json", policy=False)
    verify_.add_argument("receipt", metavar="RECEIPT")

    _command(commands, "test", cmd_test, "run the tests written in a policy pack",
                     "planlang test policies/2021_22")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        # argparse gives an optional positional (explain's NAME) the empty slot after POLICY_DIR when
        # options follow it, so a NAME written after the options arrives here, left over
        if args.command == "explain" and args.name is None and len(extra) == 1 and not extra[0].startswith("-"):
            args.name, extra = extra[0], []
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except _UsageExit:
        return EXIT_USAGE
    except SystemExit as done:  # --help and --version have printed what was asked
        return done.code if isinstance(done.code, int) else EXIT_OK
    args.command_line = ["planlang", *argv]
    return _on_deep_stack(lambda: _dispatch(args))


def _dispatch(args) -> int:
    try:
        return args.handler(args)
    except PolicyError as error:
        _print_diagnostics(error.diagnostics, error.sources, sys.stderr)
        print(f"{args.policy}: the policy does not compile: {_summary(error.diagnostics)}", file=sys.stderr)
        return EXIT_POLICY
    except DataErrors as error:
        for problem in error.errors:
            _error(str(problem))
        print(f"planlang: {error}", file=sys.stderr)
        return EXIT_DATA
    except UsageError as error:
        _error(str(error))
        return EXIT_USAGE
    except InputError as error:
        _error(str(error))
        return EXIT_DATA
    except BrokenPipeError:
        return EXIT_OK
    except RecursionError:
        print(f"planlang: error: {args.policy}: an expression or a chain of definitions nests too deeply to follow "
              f"(beyond {_RECURSION_LIMIT:,} nested steps)\n  help: split long expressions into named definitions",
              file=sys.stderr)
        return EXIT_POLICY
    except Exception as error:  # the last line of defence: never show a traceback
        print(f"planlang: internal error ({type(error).__name__}: {error}); please report it with the command you ran",
              file=sys.stderr)
        return EXIT_INTERNAL


# Parsing, checking, evaluating and explaining all follow the syntax tree and the chain of
# definitions recursively. Python's default limit (1,000 frames) is reached by a sum of a few
# hundred terms; a thread with a large stack lets real policies nest far deeper than they need to.
_RECURSION_LIMIT = 50_000
_STACK_BYTES = 1024 * 1024 * 1024


def _on_deep_stack(work) -> int:
    """Run ``work`` in a thread whose stack holds ``_RECURSION_LIMIT`` frames; return its exit code."""
    outcome: list[int] = []
    previous_limit, previous_size = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(_RECURSION_LIMIT)
    threading.stack_size(_STACK_BYTES)
    try:
        worker = threading.Thread(target=lambda: outcome.append(work()), name="planlang", daemon=True)
        worker.start()
    finally:
        threading.stack_size(previous_size)
    try:
        worker.join()
    except KeyboardInterrupt:
        return 130
    finally:
        sys.setrecursionlimit(previous_limit)
    return outcome[0] if outcome else EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
