"""Every policy pack compiles cleanly, cites its sources, and passes the tests written in it."""

from __future__ import annotations

import pytest

from planlang.compiler import compile_pack
from planlang.diagnostics import PolicyError, format_diagnostic
from planlang.testing import run_tests

from conftest import POLICIES

PACKS = sorted(p for p in POLICIES.iterdir() if p.is_dir())


def _compile(pack):
    """The program, or the text of every diagnostic when the pack does not compile."""
    try:
        return compile_pack(pack), None
    except PolicyError as error:
        return None, "\n".join(format_diagnostic(d, error.sources) for d in error.diagnostics)


def _cases():
    for pack in PACKS:
        program, _ = _compile(pack)
        if program is None:
            continue  # reported by test_pack_compiles_without_warnings
        for outcome in run_tests(program):
            yield pytest.param(outcome, id=f"{pack.name}: {outcome.test.name}")


@pytest.mark.parametrize("pack", PACKS, ids=lambda p: p.name)
def test_pack_compiles_without_warnings(pack):
    program, errors = _compile(pack)
    assert program is not None, errors
    assert [d.message for d in program.diagnostics] == []


@pytest.mark.parametrize("outcome", list(_cases()))
def test_policy_test(outcome):
    assert outcome.checked > 0
    assert outcome.passed, "\n".join(outcome.failures)


def test_frf_converts_to_public_dividend_capital_for_trusts_only():
    """PDC is a trust instrument: a CCG's unearned FRF is reported (frf_unearned_by_ccg), never converted."""
    declarations = compile_pack(POLICIES / "2020_21").declarations
    assert declarations["frf_pdc_conversion"].kinds == ("trust",)
    assert declarations["frf_converted_to_pdc"].kinds == ("trust",)
    assert declarations["frf_unearned_by_ccg"].kinds == ("ccg",)
