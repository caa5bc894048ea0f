"""Each construct of the language, evaluated end to end on small policies written in the language."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planlang.data import Organisation, make_dataset
from planlang.explanation import explain
from planlang.periods import parse_period
from planlang.render import explanation_text
from planlang.run import evaluate
from planlang.values import Missing

from conftest import compile_text, render

P = parse_period
ORGS = [Organisation("S1", "System 1", "system", None),
        Organisation("T1", "Trust 1", "trust", "S1"),
        Organisation("T2", "Trust 2", "trust", "S1"),
        Organisation("C1", "CCG 1", "ccg", "S1")]


def run(text: str, values: dict, organisations=ORGS):
    program, diagnostics = compile_text(text)
    assert program is not None, render(diagnostics, text)
    data = {(name, code, P(period)): value for (name, code, period), value in values.items()}
    return evaluate(program, make_dataset(organisations, data, {}, "test"))


FRF = '''
input allocation : money
  per trust or ccg quarterly
  cites "s.txt" §1
input plan : money
  per trust or ccg quarterly
  cites "s.txt" §1
input position : money
  per trust or ccg quarterly
  cites "s.txt" §1
define shortfall : money
  per trust or ccg quarterly
  = max(£0, plan - position)
  cites "s.txt" §1
define earned : money
  per trust or ccg quarterly
  = taper allocation by shortfall at 100% floor £0
  cites "s.txt" §1
define system_shortfall : money
  per system quarterly
  = max(£0, sum(plan over members) - sum(position over members))
  cites "s.txt" §1
define system_is_short : bool
  per trust or ccg quarterly
  = system.system_shortfall > £0
  cites "s.txt" §1
define earned_in_year : money
  per trust or ccg annual
  = sum(earned over quarters)
  cites "s.txt" §1
define members_short : count
  per system quarterly
  = count(shortfall > £0 over members)
  cites "s.txt" §1
'''


def frf_values(quarters=("2021/22 Q1",)):
    values = {}
    for q in quarters:
        for code, plan, position in (("T1", -1_000_000, -1_300_000), ("T2", 0, 100_000), ("C1", 0, 0)):
            values[("allocation", code, q)] = Fraction(500_000)
            values[("plan", code, q)] = Fraction(plan)
            values[("position", code, q)] = Fraction(position)
    return values


def test_taper_loses_a_pound_for_each_pound_of_shortfall_with_a_floor():
    results = run(FRF, frf_values())
    q1 = P("2021/22 Q1")
    assert results.get("shortfall", "T1", q1) == 300_000
    assert results.get("earned", "T1", q1) == 200_000
    assert results.get("earned", "T2", q1) == 500_000
    results = run(FRF, {**frf_values(), ("position", "T1", "2021/22 Q1"): Fraction(-2_000_000)})
    assert results.get("earned", "T1", q1) == 0  # the floor: never below £0


def test_aggregation_over_members_and_system_values():
    results = run(FRF, frf_values())
    q1 = P("2021/22 Q1")
    assert results.get("system_shortfall", "S1", q1) == 200_000  # (-1m + 0 + 0) - (-1.3m + 0.1m + 0)
    assert results.get("system_is_short", "T2", q1) is True
    assert results.get("members_short", "S1", q1) == 1


def test_sum_over_quarters_and_missing_quarter_makes_the_year_missing():
    quarters = ("2021/22 Q1", "2021/22 Q2", "2021/22 Q3", "2021/22 Q4")
    results = run(FRF, frf_values(quarters))
    assert results.get("earned_in_year", "T1", P("2021/22")) == 4 * 200_000
    values = frf_values(quarters)
    del values[("position", "T1", "2021/22 Q3")]
    results = run(FRF, values)
    year = results.get("earned_in_year", "T1", P("2021/22"))
    assert isinstance(year, Missing)
    assert any(r.name == "position" and r.entity == "T1" and r.period == "2021/22 Q3" for r in year.reasons)
    assert results.get("earned_in_year", "T2", P("2021/22")) == 4 * 500_000  # others still compute


MEMBERS_AGREE = '''
input agreed : bool
  per trust or ccg annual
  cites "s.txt" §1
define all_agreed : bool
  per system annual
  = all(agreed over members)
  cites "s.txt" §1
define any_agreed : bool
  per system annual
  = any(agreed over members)
  cites "s.txt" §1
'''


@pytest.mark.parametrize("t1, t2, c1, every, some", [
    (True, True, True, True, True),
    (True, False, True, False, True),
    (False, False, False, False, False),
    (False, None, True, False, True),     # settled by a false (all) or a true (any) whatever the missing one is
    (True, None, True, "missing", True),
    (False, None, False, False, "missing"),
])
def test_all_and_any_over_members_with_missing_values(t1, t2, c1, every, some):
    values = {("agreed", code, "2021/22"): v for code, v in (("T1", t1), ("T2", t2), ("C1", c1)) if v is not None}
    results = run(MEMBERS_AGREE, values)
    year = P("2021/22")
    for name, expected in (("all_agreed", every), ("any_agreed", some)):
        got = results.get(name, "S1", year)
        if expected == "missing":
            assert isinstance(got, Missing) and any(r.entity == "T2" for r in got.reasons), (name, got)
        else:
            assert got is expected, (name, got)


SAME_PERIOD = '''
define last_year_month : date
  per system monthly
  = start_of(same_period(period, 2019/20))
  cites "s.txt" §1
define last_year_quarter : date
  per system quarterly
  = start_of(same_period(period, 2019/20))
  cites "s.txt" §1
'''


@pytest.mark.parametrize("name, now, then", [
    ("last_year_month", "2021-04", "2019-04"),
    ("last_year_month", "2021-12", "2019-12"),
    ("last_year_month", "2022-01", "2020-01"),   # January to March fall in the next calendar year
    ("last_year_month", "2022-03", "2020-03"),
    ("last_year_quarter", "2021/22 Q4", "2019/20 Q4"),
])
def test_same_period_in_another_financial_year(name, now, then, compile_policy):
    program = compile_policy(SAME_PERIOD)
    results = evaluate(program, make_dataset(ORGS, {}, {}, "test"))
    assert results.get(name, "S1", P(now)) == P(then).first_day


AMENDED = '''
parameter rate : percent
  = 2.5%
  cites "s.txt" §1
amend rate from 2021-07-01
  = 1.25%
  cites "s.txt" §2
amend rate from 2021-10-01
  = 1%
  cites "s.txt" §3
input value : money
  per trust monthly
  cites "s.txt" §1
define due : money
  per trust monthly
  = round(value * rate, £0.01, half_up)
  cites "s.txt" §1
'''


@pytest.mark.parametrize("month, expected", [("2021-06", "250.01"), ("2021-07", "125.01"), ("2021-12", "100.00")])
def test_effective_dated_amendments_choose_the_latest_in_force(month, expected):
    results = run(AMENDED, {("value", "T1", month): Fraction("10000.45")})
    assert results.get("due", "T1", P(month)) == Fraction(expected)


def test_amendment_shows_in_the_explanation():
    results = run(AMENDED, {("value", "T1", "2021-08"): Fraction(100)})
    text = explanation_text(explain(results, "due", "T1", P("2021-08")))
    assert "amended from 2021-07-01" in text
    assert 'cites s.txt §1' in text


TOLERANCE = '''
input operational : count
  per trust annual
  cites "s.txt" §1
input strategic : count
  per trust annual
  cites "s.txt" §1
input explanation : text
  per trust annual
  cites "s.txt" §1
parameter tolerance : percent
  = 5%
  cites "s.txt" §1
flag variance_beyond_tolerance
  per trust annual
  severity warning
  when not (operational within tolerance of strategic)
  says "{operational} against {strategic}"
  cites "s.txt" §1
flag variance_unexplained
  per trust annual
  severity error
  when operational != strategic and not present(explanation)
  says "explain the variance before submitting"
  cites "s.txt" §1
'''


@pytest.mark.parametrize("operational, explained, beyond, unexplained", [
    (1050, False, False, True),   # exactly 5%: within the tolerance, but any variance needs an explanation
    (1051, False, True, True),
    (1051, True, True, False),
    (1000, False, False, False),
    (949, True, True, False),
])
def test_tolerance_and_hard_validation(operational, explained, beyond, unexplained):
    values = {("operational", "T1", "2021/22"): Fraction(operational), ("strategic", "T1", "2021/22"): Fraction(1000)}
    if explained:
        values[("explanation", "T1", "2021/22")] = "a new ward opened"
    results = run(TOLERANCE, values)
    assert results.get("variance_beyond_tolerance", "T1", P("2021/22")) is beyond
    assert results.get("variance_unexplained", "T1", P("2021/22")) is unexplained


DEADLINES = '''
deadline final_plans
  "Final plan submission"
  = 2021-06-03
  cites "s.txt" §1
input panel_date : date
  per trust annual
  cites "s.txt" §1
input submitted : date
  per trust annual
  cites "s.txt" §1
deadline findings
  "Written findings are issued within two working days after the panel"
  per trust annual
  = panel_date + 2 working days
  cites "s.txt" §1
flag late_submission
  per trust annual
  severity warning
  when submitted > final_plans
  says "submitted {submitted}, after {final_plans}"
  cites "s.txt" §1
define days_late : count
  per trust annual
  = max(0, submitted - final_plans)
  cites "s.txt" §1
'''


def test_deadlines_and_working_days():
    values = {("panel_date", "T1", "2021/22"): dt.date(2021, 4, 1), ("submitted", "T1", "2021/22"): dt.date(2021, 6, 4)}
    results = run(DEADLINES, values)
    assert results.get("findings", "T1", P("2021/22")) == dt.date(2021, 4, 7)  # Good Friday and Easter Monday skipped
    assert results.get("late_submission", "T1", P("2021/22")) is True
    assert results.get("days_late", "T1", P("2021/22")) == 1


KLEENE = '''
input a : bool
  per trust monthly
  cites "s.txt" §1
input b : bool
  per trust monthly
  cites "s.txt" §1
input x : money
  per trust monthly
  cites "s.txt" §1
define both : bool
  per trust monthly
  = a and b
  cites "s.txt" §1
define either : bool
  per trust monthly
  = a or b
  cites "s.txt" §1
define share : ratio
  per trust monthly
  = x / x
  cites "s.txt" §1
'''


def test_missing_is_not_zero_and_logic_is_three_valued():
    results = run(KLEENE, {("a", "T1", "2021-04"): False, ("x", "T1", "2021-04"): Fraction(0)})
    april = P("2021-04")
    assert results.get("both", "T1", april) is False  # false and missing is false
    either = results.get("either", "T1", april)  # false or missing is missing
    assert isinstance(either, Missing) and "b has no value for T1 in 2021-04" in either.describe()
    share = results.get("share", "T1", april)
    assert isinstance(share, Missing) and "division by zero" in share.describe()


BANDS = '''
input amount : money
  per system monthly
  cites "s.txt" §1
input low : money
  per system monthly
  cites "s.txt" §1
input high : money
  per system monthly
  cites "s.txt" §1
define paid : money
  per system monthly
  = bands on amount
      up to low: 0%
      up to high: 100%
      above: 120%
  cites "s.txt" §1
'''


def test_bands_with_thresholds_out_of_order_are_missing_not_wrong():
    values = {("amount", "S1", "2021-04"): Fraction(10), ("low", "S1", "2021-04"): Fraction(8),
              ("high", "S1", "2021-04"): Fraction(5)}
    paid = run(BANDS, values).get("paid", "S1", P("2021-04"))
    assert isinstance(paid, Missing) and "out of order" in paid.describe()


def test_bands_pay_each_rate_on_its_slice():
    values = {("amount", "S1", "2021-04"): Fraction(10), ("low", "S1", "2021-04"): Fraction(5),
              ("high", "S1", "2021-04"): Fraction(8)}
    assert run(BANDS, values).get("paid", "S1", P("2021-04")) == 3 + Fraction(12, 10) * 2


def test_during_limits_a_definition_to_its_periods():
    text = BANDS.replace("  per system monthly\n  = bands", "  per system monthly during 2021-04 to 2021-05\n  = bands")
    values = {(n, "S1", m): Fraction(v) for m in ("2021-04", "2021-06") for n, v in (("amount", 10), ("low", 5), ("high", 8))}
    results = run(text, values)
    assert results.get("paid", "S1", P("2021-04")) == Fraction(27, 5)
    assert [p for _, e, p, _ in results.outputs() if e == "S1"] == [P("2021-04")]
    assert "applies only from 2021-04 to 2021-05" in results.get("paid", "S1", P("2021-06")).describe()



from planlang import ops  # noqa: E402

money = st.integers(min_value=-10**9, max_value=10**9).map(lambda pence: Fraction(pence, 100))


@settings(max_examples=300, deadline=None)
@given(amount=money, limits=st.lists(money, min_size=1, max_size=4),
       rates=st.lists(st.integers(min_value=0, max_value=300).map(lambda r: Fraction(r, 100)), min_size=5, max_size=5))
def test_fast_band_total_agrees_with_the_detailed_bands(amount, limits, rates):
    limits = sorted(limits)
    rates = rates[: len(limits) + 1]
    detailed = ops.bands(amount, limits, rates, [f"t{k}" for k in range(len(limits))])
    assert ops.band_total(amount, limits, rates) == detailed["value"]
    assert detailed["value"] == sum(row["payment"] for row in detailed["rows"])


def test_because_on_either_branch_of_if_shows_in_the_explanation():
    text = '''
input met : bool
  per system monthly
  cites "s.txt" §1
define paid : money
  per system monthly
  = if met then £10 because "the system met its trajectory" else £0 because "it did not"
  cites "s.txt" §1
'''
    for met, reason in ((True, "because the system met its trajectory"), (False, "because it did not")):
        results = run(text, {("met", "S1", "2021-04"): met})
        assert reason in explanation_text(explain(results, "paid", "S1", P("2021-04")))


HALF_AND_ORGANISATION = '''
input spend : money
  per organisation half-yearly
  cites "s.txt" §1
define spend_doubled : money
  per trust or ccg half-yearly
  = spend * 2
  cites "s.txt" §1
define late_in_year : bool
  per trust half-yearly
  = period >= 2021/22 H2
  cites "s.txt" §1
'''


def test_half_yearly_per_organisation_and_ordered_periods():
    results = run(HALF_AND_ORGANISATION, {("spend", "T1", "2021/22 H1"): Fraction(5), ("spend", "C1", "2021/22 H2"): Fraction(7)})
    assert results.get("spend_doubled", "T1", P("2021/22 H1")) == 10
    assert results.get("spend_doubled", "C1", P("2021/22 H2")) == 14
    assert results.get("late_in_year", "T1", P("2021/22 H1")) is False
    assert results.get("late_in_year", "T1", P("2021/22 H2")) is True


def test_explaining_a_comparison_of_dates_says_how_many_days():
    values = {("panel_date", "T1", "2021/22"): dt.date(2021, 4, 1), ("submitted", "T1", "2021/22"): dt.date(2021, 6, 4)}
    results = run(DEADLINES, values)
    text = explanation_text(explain(results, "late_submission", "T1", P("2021/22")))
    assert "2021-06-04 is 1 day after 2021-06-03" in text


@pytest.mark.parametrize("text, message", [
    ('amend rate from 2021-07-01\n  cites "s.txt" §1\nparameter rate : percent\n  = 1%\n  cites "s.txt" §1\n',
     "gives no value"),
    ('parameter rate : percent\n  = 1%\n  cites "s.txt" §1\namend rate from 2023-01-01\n  = 2%\n  cites "s.txt" §1\n'
     'define x : percent\n  per trust annual\n  = rate\n  cites "s.txt" §1\n', "after the policy year"),
])
def test_amendments_that_do_nothing_are_reported(text, message):
    _, diagnostics = compile_text(text)
    assert any(message in d.message for d in diagnostics), [d.message for d in diagnostics]


def test_a_policy_header_names_a_financial_year():
    _, diagnostics = compile_text('policy "x" for 2021-04\nsource "s.txt" "S"\n', header=False)
    assert any("not the month 2021-04" in d.message for d in diagnostics)


def test_a_policy_test_may_list_no_organisations():
    from planlang.testing import run_tests

    program, diagnostics = compile_text(BANDS + '''
test "one system, not named"
  period 2021-04
  given amount = £10
  given low = £5
  given high = £8
  expect paid = £5.40
  cites "s.txt" §1
''')
    assert program is not None, [d.message for d in diagnostics]
    (outcome,) = run_tests(program)
    assert outcome.passed, outcome.failures


@pytest.mark.parametrize("text, message", [
    ('parameter rate : percent\n  = 50\n  cites "s.txt" §1\n', "write a percentage with %, as in 50%"),
    ('input q : money\n  per trust quarterly\n  cites "s.txt" §1\ndefine y : money\n  per trust annual\n'
     '  = sum(q over months)\n  cites "s.txt" §1\n', "would count it more than once"),
    ('input m : money\n  per trust monthly\n  cites "s.txt" §1\ndefine f : bool\n  per trust monthly\n'
     '  = m > 0\n  cites "s.txt" §1\n', "cannot compare money (£) with a number"),
])
def test_traps_are_errors(text, message):
    _, diagnostics = compile_text(text)
    assert any(message in d.message for d in diagnostics), [d.message for d in diagnostics]


# ---- taper: properties of the construct itself ------------------------------------------------------

TAPER = '''
input base : money
  per trust annual
  cites "s.txt" §1
input shortfall : money
  per trust annual
  cites "s.txt" §1
input rate : percent
  per trust annual
  cites "s.txt" §1
input floor_at : money
  per trust annual
  cites "s.txt" §1
input cap_at : money
  per trust annual
  cites "s.txt" §1
define kept : money
  per trust annual
  = taper base by shortfall at rate floor floor_at cap cap_at
  cites "s.txt" §1
'''
_TAPER_PROGRAM = compile_text(TAPER)[0]
pence = st.integers(-10**10, 10**10).map(lambda p: Fraction(p, 100))


def taper_of(base, shortfall, rate, floor, cap):
    values = {("base", "T1", P("2021/22")): base, ("shortfall", "T1", P("2021/22")): shortfall,
              ("rate", "T1", P("2021/22")): rate, ("floor_at", "T1", P("2021/22")): floor,
              ("cap_at", "T1", P("2021/22")): cap}
    return evaluate(_TAPER_PROGRAM, make_dataset(ORGS, values, {}, "test")).get("kept", "T1", P("2021/22"))


@settings(max_examples=150, deadline=None)
@given(base=pence, shortfall=pence, more=pence.map(abs), rate=st.fractions(0, 3, max_denominator=1000),
       floor=pence, headroom=pence.map(abs))
def test_taper_loses_rate_per_unit_of_shortfall_within_floor_and_cap(base, shortfall, more, rate, floor, headroom):
    cap = floor + headroom  # a cap below the floor would make the order of the two matter
    kept = taper_of(base, shortfall, rate, floor, cap)
    assert kept == min(cap, max(floor, base - rate * max(Fraction(0), shortfall)))
    assert floor <= kept <= cap
    assert taper_of(base, shortfall + more, rate, floor, cap) <= kept  # more shortfall never pays more
    if shortfall <= 0:  # being ahead of the trajectory earns nothing extra: a negative shortfall counts as none
        assert kept == min(cap, max(floor, base))


def test_an_unencoded_passage_is_kept_with_the_source_it_quotes():
    program, diagnostics = compile_text('''
unencoded "s.txt" §2 "A national sum of £80m"
  because "no share per system"
input x : money
  per system annual
  cites "s.txt" §1 "x"
''')
    assert program is not None and not diagnostics
    (passage,) = program.sources["s.txt"].unencoded
    assert (passage.citation.source, passage.citation.section, passage.citation.quote, passage.reason) == (
        "s.txt", "§2", "A national sum of £80m", "no share per system")
    assert "s.txt §2" not in program.declarations  # a passage is not a rule: it has no value and is not run
