"""The §3 worked example of the 2021/22 implementation guidance, figure by figure.

The published table is transcribed below exactly as printed (whole pounds). Each figure is
compared with the engine's exact result rounded to the pound. Where the table disagrees with the
published rule, the rule wins: the test asserts the engine's figure and that the table differs.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from planlang.compiler import compile_pack
from planlang.data import load_data
from planlang.periods import parse_period
from planlang.run import evaluate
from planlang.values import round_to

from conftest import EXAMPLES, POLICIES

MONTHS = ["2021-04", "2021-05", "2021-06", "2021-07"]

# 002_0a239ee164b5232a.txt §3, as printed
PUBLISHED_THRESHOLDS = {
    "erf_lower_threshold": [20_500_000, 19_857_143, 25_900_000, 23_891_304],
    "erf_upper_threshold": [25_000_000, 22_571_429, 27_550_000, 23_891_304],
}
PUBLISHED_FUNDING = {
    "EXAMPLE1": {"erf_activity_above_upper": [0, 0, 0, 0],
                 "erf_activity_between_thresholds": [0, 0, 0, 0],
                 "erf_additional_funding": [0, 0, 0, 0]},
    "EXAMPLE2": {"erf_activity_above_upper": [1_000_000, 3_428_571, 450_000, 1_108_696],
                 "erf_activity_between_thresholds": [4_500_000, 2_714_286, 1_650_000, 0],
                 "erf_additional_funding": [5_700_000, 6_828_571, 2_190_000, 1_330_435]},
    "EXAMPLE3": {"erf_activity_above_upper": [0, 0, 450_000, 0],
                 "erf_activity_between_thresholds": [2_500_000, 2_142_857, 1_650_000, 0],
                 "erf_additional_funding": [2_500_000, 2_142_857, 2_190_000, 0]},
}

# Where the printed table departs from the rule. Example 1 delivers £20,000,000 in May, above
# May's lower threshold of £19,857,142.86; the rule pays 100% of tariff on the £142,857.14
# between, but the table prints "£ -".
DISCREPANCIES = {
    ("EXAMPLE1", "erf_activity_between_thresholds", "2021-05"): 142_857,
    ("EXAMPLE1", "erf_additional_funding", "2021-05"): 142_857,
}


@pytest.fixture(scope="module")
def results():
    program = compile_pack(POLICIES / "2021_22")
    return evaluate(program, load_data(EXAMPLES / "erf_worked_example.json", program))


def to_pound(value: Fraction) -> int:
    return int(round_to(value, Fraction(1), "half_up"))


@pytest.mark.parametrize("system", sorted(PUBLISHED_FUNDING))
@pytest.mark.parametrize("name", sorted(PUBLISHED_THRESHOLDS))
def test_thresholds_match_the_table(results, system, name):
    got = [to_pound(results.get(name, system, parse_period(m))) for m in MONTHS]
    assert got == PUBLISHED_THRESHOLDS[name]


def test_exact_thresholds_use_the_calendar_ratio(results):
    may = parse_period("2021-05")
    assert results.get("erf_working_day_adjustment", "EXAMPLE2", may) == Fraction(19, 21)
    assert results.get("erf_lower_threshold", "EXAMPLE2", may) == Fraction(30_000_000) * Fraction(3, 4) * Fraction(19, 21) - 500_000


@pytest.mark.parametrize("system", sorted(PUBLISHED_FUNDING))
@pytest.mark.parametrize("name", ["erf_activity_above_upper", "erf_activity_between_thresholds", "erf_additional_funding"])
def test_funding_matches_the_table_or_the_rule(results, system, name):
    for month, published in zip(MONTHS, PUBLISHED_FUNDING[system][name]):
        got = to_pound(results.get(name, system, parse_period(month)))
        rule = DISCREPANCIES.get((system, name, month))
        if rule is None:
            assert got == published, f"{system} {name} {month}"
        else:
            assert published != rule, "a recorded discrepancy must actually differ from the table"
            assert got == rule, f"{system} {name} {month}: the engine must follow the rule"


def test_total_additional_funding(results):
    totals = {system: sum(results.get("erf_additional_funding", system, parse_period(m)) for m in MONTHS)
              for system in PUBLISHED_FUNDING}
    assert to_pound(totals["EXAMPLE2"]) == 5_700_000 + 6_828_571 + 2_190_000 + 1_330_435
    assert totals["EXAMPLE3"] == Fraction(2_500_000) + (22_000_000 - (Fraction(22_500_000 * 19, 21) - 500_000)) + 2_190_000
    assert to_pound(totals["EXAMPLE1"]) == 142_857
