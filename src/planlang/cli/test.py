"""``planlang test``: run the tests written in a policy pack, or those written under scenarios."""

from __future__ import annotations

import sys

from ..testing import run_scenario_tests, run_tests
from . import load
from .colour import paint
from .exits import EXIT_OK, EXIT_POLICY

__all__ = ["cmd_test"]


def cmd_test(args) -> int:
    program = load.pack(args)
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
