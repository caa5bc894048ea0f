"""The command line's argparse tree, built from the shared option groups of :mod:`.options`.

Each command names its family, the module of this package that runs it (``cmd_<command>`` there):

    check     check, fmt            run       run, report          whatif    compare, solve, sweep
    assurance reconcile, mutate, coverage
    explain   explain               test      test                 diff      diff
    verify    verify                deadlines deadlines            rules     rules       lsp  lsp
    serve     serve (the workbench: :mod:`planlang.workbench`)
    excel     template (a blank input workbook), export (the pack as a live Excel model)

A command's parser is built the first time it is looked up, so ``planlang --version`` and
``planlang --help`` build none of them and import no command's modules (a test holds this).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from .. import __version__
from . import options
from .exits import EPILOG, UsageExit

__all__ = ["parser"]

WORKED = "examples/erf_worked_example.json"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise UsageExit


def parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="planlang", description="Rules-as-code for NHS operational-planning finance.", epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"planlang {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", action=_Commands)
    add = commands.add_command
    add("check", "check", _check, "compile a policy pack and report every problem",
        "planlang check policies/2021_22", "planlang check policies/2021_22 --sources ../shared/seeds")
    add("run", "run", _run, "evaluate a policy pack on organisation data",
        "planlang run policies/2020_21 --data examples/2020_21.xlsx --output results.xlsx --receipt receipt.json",
        f"planlang run policies/2021_22 --data {WORKED} --only erf_additional_funding --entity EXAMPLE2",
        f"planlang run policies/2021_22 --data {WORKED} --set 'erf_thresholds in 2021-05 = 70%'")
    add("compare", "whatif", _compare, "run the baseline and scenarios and show what changed",
        f"planlang compare policies/2021_22 --data {WORKED} --set 'erf_thresholds in 2021-05 = 70%'",
        f"planlang compare policies/2021_22 --data {WORKED} --scenario examples/scenarios/2021_22/erf.plan")
    add("explain", "explain", _explain, "show how one value was worked out",
        f"planlang explain policies/2021_22 --data {WORKED} --entity EXAMPLE2 --period 2021-05 erf_additional_funding",
        "planlang explain policies/2020_21 --data examples/2020_21.xlsx --entity TRUST_A1 --period 2020/21 --depth 2 frf_pdc_conversion",
        'planlang explain policies/2020_21 --data examples/2020_21.xlsx --entity TRUST_A1 --period "2020/21 Q1" --all --html q1.html',
        f"planlang explain policies/2021_22 --data {WORKED} --entity EXAMPLE2 --period 2021-05 erf_additional_funding "
        "--compare --set 'erf_thresholds in 2021-05 = 70%'")
    add("solve", "whatif", _solve, "goal seek: the value of an input or parameter that reaches a target",
        f"planlang solve policies/2021_22 --data {WORKED} --vary 'erf_actual for EXAMPLE2 in 2021-05' "
        "--until 'erf_additional_funding for EXAMPLE2 in 2021-05 = £8,000,000'")
    add("sweep", "whatif", _sweep, "run a grid of scenarios, or draws of uncertain inputs, and total outputs",
        f"planlang sweep policies/2021_22 --data {WORKED} --vary 'erf_rate_above_upper = 100% to 150% step 10%' "
        "--output erf_additional_funding",
        "planlang sweep policies/2020_21 --data examples/2020_21.xlsx --vary 'frf_taper_rate = 0% to 100% step 25%' "
        "--output frf_earned_year --out steps.parquet",
        f"planlang sweep policies/2021_22 --data {WORKED} --vary 'erf_actual = erf_actual * uniform(95%, 105%)' "
        "--draws 1000 --seed 7 --output erf_additional_funding --json")
    add("deadlines", "deadlines", _deadlines, "list a pack's dated milestones: past, due and upcoming",
        "planlang deadlines policies/2021_22 --as-of 2021-05-20")
    add("rules", "rules", None, "list every rule of a pack with its source and interpretations (Markdown)",
        "planlang rules policies/2021_22 > rules.md")
    add("report", "run", _report, "write a self-contained HTML audit report of a run",
        "planlang report policies/2020_21 --data examples/2020_21.xlsx -o report.html")
    add("template", "excel", _template, "write the pack's blank input workbook, ready to fill in Excel",
        "planlang template policies/2021_22 -o inputs.xlsx",
        "planlang template policies/2021_22 -o inputs.xlsx --entities examples/2021_22.xlsx")
    add("export", "excel", _export, "compile the pack and its data into a live Excel model, every figure a formula",
        "planlang export policies/2021_22 --data examples/2021_22.xlsx --excel-model model.xlsx")
    add("verify", "verify", _verify, "re-run a receipt and say whether anything changed",
        "planlang verify receipt.json", policy=False)
    add("diff", "diff", _diff, "compare two policy packs: declarations added, removed, renamed and changed",
        "planlang diff policies/2020_21 my_pack --markdown > sign-off.md",
        "planlang diff policies/2020_21 my_pack --data examples/2020_21.xlsx --output frf_earned_year", policy=False)
    add("fmt", "check", _fmt, "lay policy files out canonically (comments kept)",
        "planlang fmt --check policies/2021_22", policy=False)
    add("serve", "serve", _serve, "open the what-if and audit workbench in a browser (a local web server)",
        f"planlang serve policies/2021_22 --data {WORKED}")
    add("lsp", "lsp", _lsp, "run the language server for editors, on standard input and output",
        "planlang lsp", policy=False)
    add("reconcile", "assurance", _reconcile, "compare someone else's figures with a run: where the derivations part",
        f"planlang reconcile policies/2021_22 --data {WORKED} --expected examples/erf_worked_example.figures.csv")
    add("mutate", "assurance", _mutate, "mutation testing: the one-line rule changes no test of the pack notices",
        "planlang mutate policies/2021_22 --max-seconds 300")
    add("coverage", "assurance", _coverage, "rule coverage: which bands, branches and flags a data file exercises",
        f"planlang coverage policies/2021_22 --data {WORKED}",
        f"planlang coverage policies/2021_22 --data {WORKED} --json --fail-under 80")
    add("test", "test", _test, "run the tests written in a policy pack, or those written under scenarios",
        "planlang test policies/2021_22",
        "planlang test policies/2021_22 --scenario examples/scenarios/2021_22/erf.plan",
        "planlang test policies/2021_22 --coverage --fail-under 90")
    return parser


class _Commands(argparse._SubParsersAction):
    """The subcommands, each one's parser built when it is first looked up (argparse looks up only the one chosen).

    Listing them in ``--help`` needs only their names and one-line helps, which are kept apart as argparse
    keeps them (its "choices pseudo-actions").
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._name_parser_map = self.choices = _BuiltWhenAsked()

    def add_command(self, name: str, family: str, options_of, help_: str, *examples: str, policy: bool = True) -> None:
        """``name`` (taking POLICY_DIR first, unless ``policy`` is false), run by ``cmd_<name>`` of the module
        ``family``, its options added by ``options_of``; its --help ends with ``examples``."""
        def build() -> argparse.ArgumentParser:
            command = self._parser_class(prog=f"{self._prog_prefix} {name}", formatter_class=argparse.RawDescriptionHelpFormatter,
                                         epilog="example:\n" + "".join(f"  {e}\n" for e in examples))
            if policy:
                command.add_argument("policy", metavar="POLICY_DIR")
            command.set_defaults(family=family)
            if options_of is not None:
                options_of(command)
            return command

        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help_))
        self._name_parser_map.later(name, build)


class _BuiltWhenAsked(Mapping):
    """Command names to their parsers, each built by its builder when it is first looked up."""

    def __init__(self):
        self._builders: dict = {}
        self._built: dict[str, argparse.ArgumentParser] = {}

    def later(self, name: str, build) -> None:
        self._builders[name] = build

    def __getitem__(self, name: str) -> argparse.ArgumentParser:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __contains__(self, name) -> bool:  # argparse asks before it looks up: asking builds nothing
        return name in self._builders

    def __iter__(self):
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


def _check(command) -> None:
    from ..citations import SOURCES_VARIABLE

    command.add_argument("--sources", action="append", default=[], metavar="DIR",
                         help=f"a folder holding the documents the pack cites, to check its quotes (also: {SOURCES_VARIABLE})")


def _run(command) -> None:
    options.data(command)
    options.json(command)
    command.add_argument("--strict", action="store_true", help="treat any missing input as an error (exit 3)")
    command.add_argument("--all-missing", action="store_true",
                         help="list every missing value, also of rules the data gives nothing to work with "
                              "(without it, each such rule is said once, with the inputs it lacks)")
    options.output_file(command, "FILE", "write the results to FILE.xlsx (with every figure's provenance) "
                                         "or FILE.csv (long form)")
    options.receipt(command, "write a receipt of the run (file hashes, versions, figures) "
                             "to FILE.json; check it later with `planlang verify FILE.json`")
    options.backend(command)
    options.filters(command, "keep")
    options.data_limit(command)
    options.scenario(command)


def _compare(command) -> None:
    options.data(command)
    options.json(command)
    options.filters(command, "compare")
    options.receipt(command, "write a receipt of the baseline and every scenario run, "
                             "checked later with `planlang verify FILE.json`")
    options.output_file(command, "FILE.xlsx", "also write a workbook: for every output, the baseline's, "
                                              "each scenario's and the difference's columns")
    options.scenario(command)
    options.data_limit(command)


def _explain(command) -> None:
    options.data(command)
    options.entity(command)
    options.json(command, "print the derivation as JSON")
    command.add_argument("--depth", type=options.depth, metavar="N", help="show N levels of steps; deeper ones are summarised "
                                                                          "as one line with their value")
    command.add_argument("--all", action="store_true", help="explain every value of --entity in --period")
    command.add_argument("--html", metavar="FILE", help="with --all: write the explanations to FILE.html")
    command.add_argument("--compare", action="store_true", help="explain the value under the baseline and the scenario together")
    options.scenario(command)
    options.data_limit(command)
    command.add_argument("name", metavar="NAME", nargs="?")


def _serve(command) -> None:
    from ..workbench.cli import add_serve_options  # the workbench's own options; Starlette loads only to serve

    options.data(command, purpose="the data to open with (or upload one in the page)")
    add_serve_options(command)


def _solve(command) -> None:
    options.data(command)
    command.add_argument("--vary", required=True, metavar="TARGET",
                         help="an input (NAME for CODE in PERIOD) or a parameter (NAME [in PERIOD])")
    command.add_argument("--until", required=True, metavar="GOAL",
                         help="'NAME for CODE in PERIOD = VALUE', 'total NAME [in PERIOD] = VALUE' or "
                              "'flag NAME for CODE in PERIOD raised|cleared'")
    options.json(command)
    options.scenario(command)
    options.data_limit(command)


def _sweep(command) -> None:
    from ..run.scaleout import CONNECT_SECONDS
    from ..sweep import MAX_STEPS

    options.data(command)
    command.add_argument("--vary", required=True, action="append", metavar="'NAME [in PERIOD] = A to B step S'",
                         help="a parameter or input swept over a range (repeatable: the product grid, the first outermost), "
                              "or 'NAME = NAME * uniform(LOW, HIGH)' (normal(MEAN, SD), triangular(LOW, MODE, HIGH)) with --draws")
    options.output_names(command, "the definitions to total over every organisation and period at each step", required=True)
    options.json(command)
    command.add_argument("--out", metavar="FILE", help="also write every step, output, organisation and period in long form "
                                                       "to FILE.parquet, FILE.csv or FILE.xlsx (with a line chart of each total per step)")
    command.add_argument("--draws", type=options.count_of("draws", MAX_STEPS), metavar="N",
                         help="sample the --vary distributions N times; each total is reported as its mean and 5th, 50th "
                              "and 95th percentiles")
    command.add_argument("--seed", type=options.count_of("seed", 2**63 - 1, lowest=0), default=0, metavar="S",
                         help="the seed of the draws (default 0): the same seed gives the same draws")
    options.backend(command, bulk=True)
    where = command.add_mutually_exclusive_group()
    where.add_argument("--workers", type=options.count_of("workers", 256), metavar="N",
                       help="run the steps on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run the steps on the Dask cluster of this scheduler")
    command.add_argument("--scheduler-timeout", type=options.count_of("seconds", 3600), default=CONNECT_SECONDS,
                         metavar="SECONDS", help=f"how long to wait for --scheduler to answer (default {CONNECT_SECONDS})")
    options.scenario(command)
    options.data_limit(command)


def _deadlines(command) -> None:
    command.add_argument("--as-of", metavar="DATE", help="the date to count from (default: today)")
    options.data(command, purpose="data for deadlines that differ by organisation")
    options.data_limit(command)


def _report(command) -> None:
    options.data(command)
    options.output_file(command, "FILE.html", "where to write the report", required=True)
    command.add_argument("--sources", metavar="DIR", help="the folder of the guidance documents the pack cites "
                                                          "(default: beside the pack, or shared/seeds above it)")
    options.receipt(command, "also write the run's receipt to FILE.json")
    command.add_argument("--coverage", action="store_true",
                         help="add a section of rule coverage: which parts of each rule the pack's tests and the data exercise")
    options.data_limit(command)
    options.scenario(command)


def _template(command) -> None:
    options.output_file(command, "FILE.xlsx", "where to write the blank input workbook", required=True)
    command.add_argument("--entities", metavar="FILE",
                         help="lay out a row for each organisation of this data file and period: " + options.DATA_HELP)
    options.data_limit(command)


def _export(command) -> None:
    options.data(command)
    command.add_argument("--excel-model", required=True, metavar="FILE.xlsx",
                         help="where to write the live workbook: inputs and parameters in cells, every definition a formula")
    options.data_limit(command)
    options.scenario(command)


def _verify(command) -> None:
    command.add_argument("receipt", metavar="RECEIPT")
    command.add_argument("--allow-path", action="append", metavar="DIR",
                         help="also read files the receipt names inside DIR, outside the folders it recorded (repeatable)")
    options.data_limit(command)
    command.set_defaults(policy="verify")


def _diff(command) -> None:
    command.add_argument("old", metavar="OLD_PACK")
    command.add_argument("new", metavar="NEW_PACK")
    options.data(command, purpose="with --output: run both packs on this data and attribute the change")
    options.output_names(command, "the definitions whose change (totalled over every organisation and period) is shared "
                                  "among the rule changes by Shapley values")
    options.data_limit(command)
    form = command.add_mutually_exclusive_group()
    options.json(form)
    form.add_argument("--markdown", action="store_true", help="print Markdown, for a sign-off paper")
    command.set_defaults(policy=None)


def _fmt(command) -> None:
    command.add_argument("paths", nargs="+", metavar="PATH", help="a .plan file, or a folder of them")
    command.add_argument("--check", action="store_true", help="change nothing; exit 1 if any file is not canonical")
    command.set_defaults(policy="fmt")


def _lsp(command) -> None:
    command.set_defaults(policy="lsp")


def _reconcile(command) -> None:
    options.data(command)
    command.add_argument("--expected", required=True, metavar="FIGURES",
                         help="their figures: a .csv (name, entity, period, value) or .json file (a list of those, "
                              "or the `results` of `planlang run --json`), or an .xlsx workbook (a sheet `figures` "
                              "of those columns, or read through --expected-map)")
    command.add_argument("--expected-map", metavar="MAP",
                         help="read the --expected workbook through a mapping file (TOML, as --map; its [[input]] "
                              "tables may name definitions and flags of the pack)")
    command.add_argument("--register", action="append", metavar="FILE",
                         help="an expected-differences register (TOML) besides the pack's assurance.toml (repeatable)")
    options.json(command)
    options.data_limit(command)


def _mutate(command) -> None:
    command.add_argument("--workers", type=options.count_of("workers", 256), metavar="N",
                         help="judge the mutants on N processes (default: one per core, at most 8; 1 runs them here)")
    command.add_argument("--max-seconds", type=options.count_of("seconds", 86_400), metavar="S",
                         help="stop after S seconds; mutants not judged by then are counted as not run")
    command.add_argument("--fail-under", type=options.count_of("percent", 100, lowest=0), metavar="PERCENT",
                         help="exit 1 when the score (killed of the mutants judged, equivalent ones aside) is below PERCENT")
    options.json(command)


def _coverage_fail_under(command) -> None:
    command.add_argument("--fail-under", type=options.count_of("percent", 100, lowest=0), metavar="PERCENT",
                         help="exit 1 when the coverage (parts exercised of all the rules' parts) is below PERCENT")


def _coverage(command) -> None:
    options.data(command)
    options.json(command)
    _coverage_fail_under(command)
    options.data_limit(command)


def _test(command) -> None:
    command.add_argument("--scenario", action="append", metavar="FILE_OR_DIR",
                         help="run the tests written in these scenario files, each under its scenario")
    command.add_argument("--coverage", action="store_true",
                         help="also report which parts of each rule (bands, branches, flags, ...) the pack's tests exercise")
    options.json(command, "with --coverage: print the tests' counts and the coverage as one JSON object")
    _coverage_fail_under(command)
