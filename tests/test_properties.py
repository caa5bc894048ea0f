"""Properties of the shipped 2021/22 Elective Recovery Fund policy, run through the real engine.

Every example builds a dataset of one or more systems for one month of April to September 2021,
evaluates the compiled ``policies/2021_22`` pack on it and reads ``erf_additional_funding`` (and
its thresholds) back from the results. Amounts are exact: whole pence as :class:`Fraction`.

Two domains of inputs are used:

* *realistic*: the counting and coding adjustment (which may be negative) is no larger than the
  working-day-adjusted lower threshold, so both thresholds are at least £0;
* *wide*: baseline, actual and adjustment are independent (the adjustment anywhere in ±£100m),
  so the thresholds may fall below £0.

The §3 rule is recomputed in plain Python (``reference_funding``) without the engine.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from planlang.compiler import compile_pack
from planlang.data import Organisation, make_dataset
from planlang.periods import Period, parse_period, working_days
from planlang.render import assumed_defaults
from planlang.run import evaluate
from planlang.values import Missing

PACK = Path(__file__).resolve().parents[1] / "policies" / "2021_22"
PROGRAM = compile_pack(PACK)

FUNDING = "erf_additional_funding"
LOWER = "erf_lower_threshold"
UPPER = "erf_upper_threshold"
FLAG = "erf_gateway_not_met"

# §3: the lower threshold by month, the upper at 85%; 100% of tariff between them, 120% above.
THRESHOLD_PCT = {4: Fraction(70, 100), 5: Fraction(75, 100), 6: Fraction(80, 100),
                 7: Fraction(85, 100), 8: Fraction(85, 100), 9: Fraction(85, 100)}
UPPER_PCT = Fraction(85, 100)
RATE_BETWEEN = Fraction(1)
RATE_ABOVE = Fraction(120, 100)

POUNDS_100M = 100_000_000 * 100  # in pence
EPSILON = Fraction(1, 100 * 100)  # a hundredth of a penny

SETTINGS = settings(max_examples=200, deadline=None)

# ---------------------------------------------------------------- the independent computation

def working_day_ratio(month: int) -> Fraction:
    return Fraction(working_days(Period("month", 2021, month)), working_days(Period("month", 2019, month)))


def reference_thresholds(month: int, baseline: Fraction, cc: Fraction) -> tuple[Fraction, Fraction]:
    wd = working_day_ratio(month)
    return baseline * THRESHOLD_PCT[month] * wd - cc, baseline * UPPER_PCT * wd - cc


def reference_funding(month: int, baseline: Fraction, cc: Fraction, actual: Fraction, gateway: bool) -> Fraction:
    """§3 in plain Python: 100% of tariff on activity between the thresholds, 120% above the upper."""
    if not gateway:
        return Fraction(0)
    lower, upper = reference_thresholds(month, baseline, cc)
    between = max(Fraction(0), min(actual, upper) - lower)
    above = max(Fraction(0), actual - upper)
    return RATE_BETWEEN * between + RATE_ABOVE * above


# ---------------------------------------------------------------- running the engine

def month_period(month: int) -> Period:
    return Period("month", 2021, month)


def run(month: int, systems: dict[str, dict[str, object]]):
    """Evaluate the pack for one month; ``systems`` maps a code to its inputs (None = not in the data)."""
    period = month_period(month)
    organisations = [Organisation(code, code, "system", None) for code in systems]
    values = {(name, code, period): value for code, inputs in systems.items()
              for name, value in inputs.items() if value is not None}
    origins = {key: f"hypothesis: {key[0]}.{key[1]}" for key in values}
    return evaluate(PROGRAM, make_dataset(organisations, values, origins, "hypothesis"))


def inputs(baseline, cc, actual, gateway):
    return {"erf_baseline": baseline, "erf_counting_coding_adjustment": cc, "erf_actual": actual,
            "erf_gateway_met": gateway}


def funding(month, baseline, cc, actual, gateway=True):
    results = run(month, {"S": inputs(baseline, cc, actual, gateway)})
    return results.get(FUNDING, "S", month_period(month))


def thresholds(month, baseline, cc):
    """The engine's thresholds (the actual activity does not enter them)."""
    results = run(month, {"S": inputs(baseline, cc, None, True)})
    period = month_period(month)
    lower, upper = results.get(LOWER, "S", period), results.get(UPPER, "S", period)
    assert isinstance(lower, Fraction) and isinstance(upper, Fraction), (lower, upper)
    return lower, upper


# ---------------------------------------------------------------- strategies

months = st.sampled_from(sorted(THRESHOLD_PCT))
pence = st.integers(0, POUNDS_100M).map(lambda p: Fraction(p, 100))
signed_pence = st.integers(-POUNDS_100M, POUNDS_100M).map(lambda p: Fraction(p, 100))
# the gateway as the data has it: absent (the declared default, true), true or false
gateway_cells = st.sampled_from([None, True, False])


@st.composite
def realistic(draw):
    """(month, baseline, adjustment) with both thresholds at least £0; the adjustment may be negative."""
    month = draw(months)
    baseline = draw(pence)
    room = math.floor(baseline * THRESHOLD_PCT[month] * working_day_ratio(month) * 100)  # in pence
    cc = Fraction(draw(st.integers(-POUNDS_100M, room)), 100)
    return month, baseline, cc


@st.composite
def wide(draw):
    """(month, baseline, adjustment) drawn independently: thresholds may be below £0."""
    return draw(months), draw(pence), draw(signed_pence)


def gateway_met(cell) -> bool:
    return True if cell is None else cell


# ---------------------------------------------------------------- (a) monotone in actual activity

@SETTINGS
@given(case=wide(), a=pence, b=pence, gateway=gateway_cells)
@example(case=(5, Fraction(30_000_000), Fraction(500_000)), a=Fraction(19_000_000), b=Fraction(26_000_000), gateway=None)
def test_funding_never_decreases_as_activity_rises(case, a, b, gateway):
    month, baseline, cc = case
    low, high = min(a, b), max(a, b)
    results = run(month, {"LOW": inputs(baseline, cc, low, gateway), "HIGH": inputs(baseline, cc, high, gateway)})
    period = month_period(month)
    f_low, f_high = results.get(FUNDING, "LOW", period), results.get(FUNDING, "HIGH", period)
    assert isinstance(f_low, Fraction) and isinstance(f_high, Fraction)
    assert f_low <= f_high, f"{month=} {baseline=} {cc=}: f({low})={f_low} > f({high})={f_high}"


# ---------------------------------------------------------------- (b) nothing at or below the lower threshold

@SETTINGS
@given(case=realistic(), share=st.fractions(0, 1, max_denominator=1000), gap=pence, gateway=gateway_cells)
def test_no_funding_at_or_below_the_lower_threshold(case, share, gap, gateway):
    month, baseline, cc = case
    lower, _ = thresholds(month, baseline, cc)
    assert lower >= 0
    actuals = {"AT": lower, "SHARE": lower * share, "GAP": max(Fraction(0), lower - gap), "ZERO": Fraction(0)}
    results = run(month, {code: inputs(baseline, cc, actual, gateway) for code, actual in actuals.items()})
    period = month_period(month)
    for code, actual in actuals.items():
        assert actual <= lower
        value = results.get(FUNDING, code, period)
        assert type(value) is Fraction and value == 0, (code, actual, lower, value)


# ---------------------------------------------------------------- (c) continuous at both thresholds

@SETTINGS
@given(case=realistic())
@example(case=(5, Fraction(30_000_000), Fraction(500_000)))  # the worked example: lower < upper
@example(case=(7, Fraction(30_000_000), Fraction(500_000)))  # July: lower == upper
@example(case=(4, Fraction(0), Fraction(0)))                 # a zero baseline: both thresholds £0
def test_funding_is_continuous_at_both_thresholds(case):
    month, baseline, cc = case
    lower, upper = thresholds(month, baseline, cc)
    assert lower <= upper
    # two distinct thresholds are always more than epsilon apart here (>= 5% of a baseline of 1p)
    assume(lower == upper or upper - lower > 2 * EPSILON)
    rate_below_lower = Fraction(0)
    rate_above_upper = RATE_ABOVE
    rate_between = RATE_BETWEEN if lower < upper else None

    def piecewise(x: Fraction) -> Fraction:
        # the formula of §3 on the engine's thresholds
        return RATE_BETWEEN * max(Fraction(0), min(x, upper) - lower) + RATE_ABOVE * max(Fraction(0), x - upper)

    points = {"L": lower, "L-": lower - EPSILON, "L+": lower + EPSILON,
              "U": upper, "U-": upper - EPSILON, "U+": upper + EPSILON}
    results = run(month, {code: inputs(baseline, cc, x, True) for code, x in points.items()})
    period = month_period(month)
    f = {code: results.get(FUNDING, code, period) for code in points}
    assert all(type(v) is Fraction for v in f.values()), f

    # the value at each threshold is the formula's (no jump, no off-by-one band)
    assert f["L"] == piecewise(lower) == 0
    assert f["U"] == piecewise(upper) == RATE_BETWEEN * (upper - lower)
    # the slope on either side of the lower threshold
    assert f["L"] - f["L-"] == rate_below_lower * EPSILON
    assert f["L+"] - f["L"] == (rate_between if rate_between is not None else rate_above_upper) * EPSILON
    # and of the upper
    assert f["U"] - f["U-"] == (rate_between if rate_between is not None else rate_below_lower) * EPSILON
    assert f["U+"] - f["U"] == rate_above_upper * EPSILON


# ---------------------------------------------------------------- (d) never negative

@SETTINGS
@given(case=wide(), actual=pence, gateway=gateway_cells)
def test_funding_is_never_negative(case, actual, gateway):
    month, baseline, cc = case
    value = funding(month, baseline, cc, actual, gateway)
    assert type(value) is Fraction
    assert value >= 0


# ---------------------------------------------------------------- (e) the gateway

@SETTINGS
@given(case=wide(), actual=pence, gateway=gateway_cells)
def test_no_funding_and_a_flag_when_the_gateway_is_not_met(case, actual, gateway):
    month, baseline, cc = case
    results = run(month, {"S": inputs(baseline, cc, actual, gateway)})
    period = month_period(month)
    value, flag = results.get(FUNDING, "S", period), results.get(FLAG, "S", period)
    if gateway_met(gateway):
        assert flag is False
        assert value == funding(month, baseline, cc, actual, True)
    else:
        assert type(value) is Fraction and value == 0
        assert flag is True
        fired = [r for r in results.flags if r.name == FLAG and r.entity == "S" and r.period == period]
        assert [r.fired for r in fired] == [True]


# ---------------------------------------------------------------- (f) the engine against plain Python

@SETTINGS
@given(case=realistic(), actual=pence, gateway=gateway_cells)
@example(case=(4, Fraction(30_000_000), Fraction(500_000)), actual=Fraction(26_000_000), gateway=None)
@example(case=(5, Fraction(30_000_000), Fraction(500_000)), actual=Fraction(26_000_000), gateway=None)
@example(case=(6, Fraction(30_000_000), Fraction(500_000)), actual=Fraction(28_000_000), gateway=None)
@example(case=(7, Fraction(30_000_000), Fraction(500_000)), actual=Fraction(25_000_000), gateway=None)
def test_funding_matches_an_independent_computation_of_section_3(case, actual, gateway):
    month, baseline, cc = case
    results = run(month, {"S": inputs(baseline, cc, actual, gateway)})
    period = month_period(month)
    lower, upper = reference_thresholds(month, baseline, cc)
    assert results.get(LOWER, "S", period) == lower
    assert results.get(UPPER, "S", period) == upper
    assert results.get(FUNDING, "S", period) == reference_funding(month, baseline, cc, actual, gateway_met(gateway))


def test_the_independent_computation_reproduces_the_worked_example():
    """Guards the reference itself: §3 example 2, to the penny as README shows it."""
    baseline, cc = Fraction(30_000_000), Fraction(500_000)
    got = [reference_funding(m, baseline, cc, a, True)
           for m, a in [(4, 26_000_000), (5, 26_000_000), (6, 28_000_000), (7, 25_000_000)]]
    assert [round(x) for x in got] == [5_700_000, 6_828_571, 2_190_000, 1_330_435]
    assert got[1] == Fraction(47_800_000, 7)  # £6,828,571.43 exactly


# ---------------------------------------------------------------- (g) missing is not zero

@SETTINGS
@given(case=realistic(), actual=pence, gateway=st.sampled_from([None, True]))
def test_missing_actual_makes_funding_missing_and_leaves_other_systems_alone(case, actual, gateway):
    month, baseline, cc = case
    period = month_period(month)
    results = run(month, {"GAP": inputs(baseline, cc, None, gateway), "OK": inputs(baseline, cc, actual, gateway)})
    value = results.get(FUNDING, "GAP", period)
    assert type(value) is Missing
    assert any(r.name == "erf_actual" and r.entity == "GAP" and r.period == period.label for r in value.reasons), value
    assert all(r.entity in ("GAP", None) for r in value.reasons), value  # nothing of the other system leaks in
    text = value.describe()
    assert "erf_actual" in text and "GAP" in text and period.label in text
    # the thresholds do not need the actual, and the other system computes in full
    assert results.get(LOWER, "GAP", period) == reference_thresholds(month, baseline, cc)[0]
    assert results.get(FUNDING, "OK", period) == reference_funding(month, baseline, cc, actual, True)
    assert any(r.name == "erf_actual" and r.entity == "GAP" for r in results.missing_inputs())


# ---------------------------------------------------------------- negative thresholds

# A counting and coding adjustment larger than the adjusted baseline puts both thresholds below £0.
# July 2021, baseline £10m, adjustment £10m: lower = upper = £10m x 85% x 22/23 - £10m = -£1,869,565.22.
NEGATIVE = dict(month=7, baseline=Fraction(10_000_000), cc=Fraction(10_000_000))


def test_funding_agrees_with_the_policys_own_breakdown_when_thresholds_are_negative():
    month = NEGATIVE["month"]
    period = month_period(month)
    results = run(month, {"S": inputs(NEGATIVE["baseline"], NEGATIVE["cc"], Fraction(0), None)})
    lower = results.get(LOWER, "S", period)
    assert lower == Fraction(-43_000_000, 23)
    between = results.get("erf_activity_between_thresholds", "S", period)
    above = results.get("erf_activity_above_upper", "S", period)
    assert above == Fraction(43_000_000, 23)
    assert results.get(FUNDING, "S", period) == RATE_BETWEEN * between + RATE_ABOVE * above


@SETTINGS
@given(case=realistic(), actual=pence, gateway=gateway_cells)
def test_funding_agrees_with_the_policys_own_breakdown(case, actual, gateway):
    """Where thresholds are at least £0, the funding is 100% of the between part and 120% of the above part."""
    month, baseline, cc = case
    period = month_period(month)
    results = run(month, {"S": inputs(baseline, cc, actual, gateway)})
    between = results.get("erf_activity_between_thresholds", "S", period)
    above = results.get("erf_activity_above_upper", "S", period)
    expected = RATE_BETWEEN * between + RATE_ABOVE * above if gateway_met(gateway) else 0
    assert results.get(FUNDING, "S", period) == expected


# ---- assumed defaults: the run's count is the entity-periods the data leaves out ---------------

@settings(max_examples=40, deadline=None)
@given(systems=st.integers(min_value=1, max_value=4),
       given_gateway=st.sets(st.tuples(st.integers(0, 3), st.integers(0, 5))))
def test_assumed_defaults_count_the_entity_periods_the_data_leaves_out(systems, given_gateway):
    months = [parse_period(f"2021-{m:02d}") for m in range(4, 10)]
    organisations = [Organisation(f"S{k}", f"System {k}", "system", None) for k in range(systems)]
    values = {("erf_baseline", o.code, month): Fraction(30_000_000) for o in organisations for month in months}
    given_keys = {(f"S{k}", months[m]) for k, m in given_gateway if k < systems}
    values.update({("erf_gateway_met", code, month): True for code, month in given_keys})
    results = evaluate(PROGRAM, make_dataset(organisations, values, {}, "property"))
    counts = {d["input"]: (d["assumed"], d["of"]) for d in assumed_defaults(results)}
    assert counts["erf_gateway_met"] == (systems * 6 - len(given_keys), systems * 6)
    assert counts["erf_counting_coding_adjustment"] == (systems * 6, systems * 6)
