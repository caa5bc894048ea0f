"""``planlang test``: run the tests written in a policy pack, or those written under scenarios."""

from __future__ import annotations

import sys

from ..diagnostics import UsageError
from ..testing import run_scenario_tests, run_tests
from . import load
from .colour import paint
from .exits import EXIT_OK, EXIT_POLICY

__all__ = ["cmd_test"]


def cmd_test(args) -> int:
    if not args.coverage and (args.json or args.fail_under is not None):
        raise UsageError("--json and --fail-under need --coverage", "--json" if args.json else "--fail-under",
                         "add --coverage to measure which parts of the rules the tests exercise")
    if args.coverage and args.scenario:
        raise UsageError("--coverage measures the pack's own tests", "--scenario", "give --coverage without --scenario")
    program = load.pack(args)
    if args.coverage:
        return _test_coverage(args, program)
    if args.scenario:
        # scenario files are checked first against no data: a test's settings may name only its own organisations
        nothing = load.no_data()
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


def _test_coverage(args, program) -> int:
    """``--coverage``: the pack's tests, each checked cell traced once, and which parts of the rules they exercised."""
    from ..assurance.coverage import covered_by_tests
    from .assurance import print_coverage

    outcomes, report = covered_by_tests(program)
    passed = sum(o.passed for o in outcomes)
    if not args.json:
        for outcome in outcomes:
            if not outcome.passed:
                print(f"{paint('FAIL', 'fail', sys.stdout)}  {outcome.test.name}  ({outcome.test.span.file}:{outcome.test.span.line})")
                for failure in outcome.failures:
                    print(f"      {failure}")
        print(f"{passed} passed, {len(outcomes) - passed} failed\n")
    tests = {"tests": {"passed": passed, "failed": len(outcomes) - passed}}
    status = print_coverage(args, f"{program.title} ({program.year})", report, tests)
    return EXIT_POLICY if passed < len(outcomes) else status
