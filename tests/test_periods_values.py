"""Periods, the working-day calendar, and exact amounts: unit tests and Hypothesis properties."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_DOWN, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from planlang.periods import (
    Period,
    PeriodError,
    add_working_days,
    bank_holidays,
    is_working_day,
    parse_date,
    parse_period,
    working_days,
    working_days_between,
)
from planlang.values import (
    ROUNDING_MODES,
    AmountError,
    decimal_text,
    money_text,
    parse_amount,
    round_to,
)

SETTINGS = settings(max_examples=200, deadline=None)
DAY = dt.timedelta(days=1)

# ================================================================ periods

# Years whose labels are four digits and whose last day is still a date (see the out-of-range tests below).
label_years = st.integers(1000, 9998)
calendar_years = st.integers(1990, 2060)  # where the working-day calendar is exercised


@st.composite
def periods(draw, years=label_years):
    kind = draw(st.sampled_from(["month", "quarter", "half", "year"]))
    index = draw(st.integers(1, {"month": 12, "quarter": 4, "half": 2, "year": 1}[kind]))
    return Period(kind, draw(years), index)


@SETTINGS
@given(p=periods())
@example(p=Period("year", 1999))      # 1999/00: the century rolls over
@example(p=Period("quarter", 2021, 4))
@example(p=Period("month", 2022, 1))
def test_parse_period_round_trips_the_label(p):
    assert parse_period(p.label) == p
    assert parse_period(f"  {p.label} ") == p


def test_labels_of_each_kind():
    assert [Period(k, 2021, i).label for k, i in [("month", 4), ("year", 1), ("quarter", 1), ("half", 2)]] == \
        ["2021-04", "2021/22", "2021/22 Q1", "2021/22 H2"]
    assert Period("year", 1999).label == "1999/00"


@SETTINGS
@given(p=periods())
def test_a_period_lies_within_its_financial_year(p):
    year = p.within("year")
    assert year.kind == "year"
    assert year.contains(p)
    assert year.first_day.month == 4 and year.first_day.day == 1
    assert year.first_day <= p.first_day <= p.last_day <= year.last_day
    if p.kind != "year" and year.year < 9998:
        assert not Period("year", year.year + 1).contains(p)
        assert not Period("year", year.year - 1).contains(p)


@SETTINGS
@given(p=st.builds(Period, st.just("month"), label_years, st.integers(1, 12)))
def test_a_month_lies_within_its_quarter_and_half(p):
    quarter, half = p.within("quarter"), p.within("half")
    assert quarter.contains(p) and half.contains(p) and half.contains(quarter)
    assert p in quarter.months() and p in half.months()


def test_january_belongs_to_the_financial_year_before():
    january = parse_period("2022-01")
    assert january.within("year") == parse_period("2021/22")
    assert january.within("quarter") == parse_period("2021/22 Q4")
    assert january.within("half") == parse_period("2021/22 H2")
    assert parse_period("2021-03").within("year") == parse_period("2020/21")


@SETTINGS
@given(year=calendar_years)
def test_a_year_has_twelve_months_whose_working_days_sum_to_the_years(year):
    fy = Period("year", year)
    months = fy.months()
    assert len(months) == 12 and len(set(months)) == 12
    assert [m.first_day for m in months] == sorted(m.first_day for m in months)
    assert months[0].first_day == fy.first_day and months[-1].last_day == fy.last_day
    # consecutive: each month starts the day after the previous one ends
    assert all(b.first_day == a.last_day + DAY for a, b in zip(months, months[1:]))
    total = working_days(fy)
    assert sum(working_days(m) for m in months) == total
    assert sum(working_days(q) for q in fy.parts("quarter")) == total
    assert sum(working_days(h) for h in fy.parts("half")) == total
    # a year has 52 or 53 weeks of weekdays, less England's 8 or so bank holidays
    assert 240 <= total <= 256


# working days of months checked by hand against a calendar and England's bank holidays
KNOWN_WORKING_DAYS = {
    "2021-04": 20,  # 22 weekdays less Good Friday 2 Apr and Easter Monday 5 Apr
    "2021-05": 19,  # 21 weekdays less 3 May and 31 May
    "2021-06": 22,
    "2021-07": 22,
    "2021-08": 21,  # 22 weekdays less 30 Aug
    "2021-09": 22,
    "2019-04": 20,  # 22 weekdays less Good Friday 19 Apr and Easter Monday 22 Apr
    "2019-05": 21,  # 23 weekdays less 6 May and 27 May
    "2019-06": 20,
    "2019-07": 23,
    "2019-08": 21,  # 22 weekdays less 26 Aug
    "2019-09": 21,
    "2020-12": 21,  # 23 weekdays less Christmas Fri 25 Dec and Boxing Day (Sat 26, observed Mon 28 Dec)
    "2021-12": 21,  # 23 weekdays less Mon 27 and Tue 28 Dec (Christmas and Boxing Day fall at the weekend)
}


@pytest.mark.parametrize("label, expected", sorted(KNOWN_WORKING_DAYS.items()))
def test_working_days_of_known_months(label, expected):
    assert working_days(parse_period(label)) == expected


def test_the_erf_working_day_ratios_of_the_worked_example():
    ratio = {m: Fraction(working_days(parse_period(f"2021-{m:02d}")), working_days(parse_period(f"2019-{m:02d}")))
             for m in (4, 5, 6, 7)}
    assert ratio == {4: 1, 5: Fraction(19, 21), 6: Fraction(22, 20), 7: Fraction(22, 23)}


def test_bank_holidays_of_england_2021():
    assert set(bank_holidays(2021)) >= {
        dt.date(2021, 1, 1), dt.date(2021, 4, 2), dt.date(2021, 4, 5), dt.date(2021, 5, 3),
        dt.date(2021, 5, 31), dt.date(2021, 8, 30), dt.date(2021, 12, 27), dt.date(2021, 12, 28)}
    # the weekday holidays are exactly these eight (Christmas and Boxing Day 2021 were a weekend)
    weekday_holidays = {d for d in bank_holidays(2021) if d.weekday() < 5}
    assert len(weekday_holidays) == 8
    # Scotland's 2 January and St Andrew's Day are not England's
    assert is_working_day(dt.date(2021, 11, 30))


def test_working_days_of_a_week_without_holidays():
    monday = dt.date(2021, 6, 7)
    assert [is_working_day(monday + k * DAY) for k in range(7)] == [True] * 5 + [False] * 2
    assert working_days_between(monday, monday + 6 * DAY) == 5
    assert working_days_between(monday + DAY, monday) == 0


def test_add_working_days_skips_easter_2021():
    thursday = dt.date(2021, 4, 1)  # the day before Good Friday
    assert not is_working_day(dt.date(2021, 4, 2)) and not is_working_day(dt.date(2021, 4, 5))
    assert add_working_days(thursday, 1) == dt.date(2021, 4, 6)  # Tuesday after Easter Monday
    assert add_working_days(thursday, 2) == dt.date(2021, 4, 7)
    assert add_working_days(dt.date(2021, 4, 6), -1) == thursday
    assert add_working_days(dt.date(2021, 4, 2), 1) == dt.date(2021, 4, 6)  # from Good Friday itself
    assert add_working_days(thursday, 0) == thursday


dates = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))


@SETTINGS
@given(day=dates, count=st.integers(-400, 400))
@example(day=dt.date(2021, 4, 1), count=1)
@example(day=dt.date(2021, 4, 3), count=-1)   # from Easter Saturday, back to Thursday
@example(day=dt.date(2021, 4, 5), count=0)    # Easter Monday, no move
def test_add_working_days_counts_exactly_count_working_days(day, count):
    """Moving n working days passes exactly |n| working days, the start not counted, and stops on one.

    So, counting both ends, working_days_between(start, end) == |n| + (1 if the start is a working day).
    """
    end = add_working_days(day, count)
    start_counts = 1 if is_working_day(day) else 0
    if count == 0:
        assert end == day
        return
    assert is_working_day(end)
    if count > 0:
        assert end > day
        assert working_days_between(day, end) == count + start_counts
        assert working_days_between(day + DAY, end) == count
        assert working_days_between(day + DAY, end - DAY) == count - 1  # it stops at the first such day
    else:
        assert end < day
        assert working_days_between(end, day) == -count + start_counts
        assert working_days_between(end, day - DAY) == -count
        assert working_days_between(end + DAY, day - DAY) == -count - 1
    if is_working_day(day):
        assert add_working_days(end, -count) == day


@SETTINGS
@given(first=dates, to_middle=st.integers(0, 400), to_last=st.integers(0, 400))
def test_working_days_between_adds_up(first, to_middle, to_last):
    middle = first + to_middle * DAY
    last = middle + to_last * DAY
    assert working_days_between(first, last) == working_days_between(first, middle) + working_days_between(middle + DAY, last)
    assert working_days_between(last + DAY, first) == 0
    assert 0 <= working_days_between(first, last) <= (last - first).days + 1


BAD_PERIODS = {
    "2021-13": ["'2021-13'", "month 13", "01 and 12"],
    "2021-00": ["'2021-00'", "01 and 12"],
    "2021/23": ["'2021/23'", "2021/22"],
    "2021/22 Q5": ["'2021/22 Q5'", "1 to 4"],
    "2021/22 Q0": ["'2021/22 Q0'", "1 to 4"],
    "2021/22 H3": ["'2021/22 H3'", "1 to 2"],
    "21-04": ["'21-04'", "2021-04", "2021/22"],
    "2021-4": ["'2021-4'", "2021-04"],
    "April 2021": ["'April 2021'", "2021-04"],
    "": ["''", "2021-04"],
    "2021/22 Q": ["'2021/22 Q'", "2021/22 Q1"],
}


@pytest.mark.parametrize("text, fragments", sorted(BAD_PERIODS.items()))
def test_bad_periods_raise_period_error_saying_what_to_write(text, fragments):
    with pytest.raises(PeriodError) as raised:
        parse_period(text)
    for fragment in fragments:
        assert fragment in str(raised.value)


@pytest.mark.parametrize("text", ["2021-02-30", "2021-13-01", "2021-6-3", "03/06/2021", ""])
def test_bad_dates_raise_period_error(text):
    with pytest.raises(PeriodError, match=re.escape(repr(text))):
        parse_date(text)


def test_a_good_date():
    assert parse_date(" 2021-06-03 ") == dt.date(2021, 6, 3)


@pytest.mark.parametrize("text", [
    "0000-01",     # year 0 is not a date
    "9999-12",     # its last day is in year 10000
    "9999/00",     # a financial year ending in year 10000
    "9999/00 Q4",
])
def test_periods_outside_the_calendar_raise_period_error(text):
    with pytest.raises(PeriodError, match=re.escape(repr(text))):
        parse_period(text)


def test_financial_year_labels_before_1000_round_trip():
    p = parse_period("0999/00")
    assert p.label == "0999/00"
    assert parse_period(p.label) == p


# ================================================================ values: parsing amounts

def test_parse_amount_is_exact():
    total = parse_amount("£0.10") + parse_amount("£0.20")
    assert type(total) is Fraction
    assert total == Fraction(3, 10)
    assert parse_amount("£1,000.50") == Fraction(2001, 2)
    assert parse_amount("-£500") == -500
    assert parse_amount("£-500") == -500
    assert parse_amount("−£500") == -500  # a typographic minus
    assert parse_amount(".5") == Fraction(1, 2)
    assert parse_amount("0.1") * 3 == Fraction(3, 10)


@pytest.mark.parametrize("text, value", [
    ("70%", Fraction(7, 10)),
    ("1.25%", Fraction(1, 80)),
    ("100%", Fraction(1)),
    ("120%", Fraction(6, 5)),
    ("0.5 %", Fraction(1, 200)),
    ("-5%", Fraction(-1, 20)),
    ("1,000%", Fraction(10)),
])
def test_percentages_are_fractions_of_one(text, value):
    assert parse_amount(text) == value


@pytest.mark.parametrize("text", ["£1,000", "1,000,000.50", "£12,345", "999", "£1,234,567"])
def test_well_placed_thousands_separators(text):
    assert parse_amount(text) == Fraction(Decimal(text.lstrip("£").replace(",", "")))


@pytest.mark.parametrize("text", ["£1,00", "1,0000", "1000,000", "£1,000,00", "1,,000", "12,34,567", "1,000.5,0"])
def test_misplaced_thousands_separators_are_rejected(text):
    with pytest.raises(AmountError, match=re.escape(repr(text))):
        parse_amount(text)


@pytest.mark.parametrize("text", ["", "abc", "£", "%", "£70%", "1.2.3", "1e5", "£ 1 000", "five", "1-", ",100"])
def test_text_that_is_not_an_amount_is_rejected(text):
    with pytest.raises(AmountError, match=re.escape(repr(text))):
        parse_amount(text)


@pytest.mark.parametrize("text", ["--5", "-£-5", "−-5"])
def test_a_doubled_sign_is_rejected(text):
    with pytest.raises(AmountError):
        parse_amount(text)


@SETTINGS
@given(pence=st.integers(-10**15, 10**15))
def test_written_amounts_parse_exactly(pence):
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    assert parse_amount(f"{sign}£{pounds:,}.{rest:02d}") == Fraction(pence, 100)
    assert parse_amount(f"{sign}{pounds}.{rest:02d}") == Fraction(pence, 100)


@SETTINGS
@given(n=st.integers(1000, 10**15), shift=st.sampled_from([-1, 1]), which=st.integers(0, 10))
def test_a_moved_thousands_separator_is_rejected(n, shift, which):
    good = f"{n:,}"
    assert parse_amount(good) == n
    commas = [i for i, ch in enumerate(good) if ch == ","]
    at = commas[which % len(commas)]
    digits = good[:at] + good[at + 1:]
    moved = at + shift
    if not 0 < moved < len(digits):
        moved = at - shift
    bad = digits[:moved] + "," + digits[moved:]
    assert bad != good
    with pytest.raises(AmountError):
        parse_amount(bad)


# ================================================================ values: rounding

# (value, step, mode) -> expected, for ties and negative values
ROUNDING_TABLE = {
    "half_up":        {"2.5": "3", "-2.5": "-3", "1.5": "2", "-1.5": "-2", "2.4": "2", "-2.6": "-3", "0.125@0.01": "0.13", "-0.125@0.01": "-0.13", "-0.5": "-1"},
    "half_even":      {"2.5": "2", "-2.5": "-2", "1.5": "2", "-1.5": "-2", "2.4": "2", "-2.6": "-3", "0.125@0.01": "0.12", "-0.125@0.01": "-0.12", "-0.5": "0"},
    "half_down":      {"2.5": "2", "-2.5": "-2", "1.5": "1", "-1.5": "-1", "2.4": "2", "-2.6": "-3", "0.125@0.01": "0.12", "-0.125@0.01": "-0.12", "-0.5": "0"},
    "toward_zero":    {"2.5": "2", "-2.5": "-2", "1.5": "1", "-1.5": "-1", "2.4": "2", "-2.6": "-2", "0.125@0.01": "0.12", "-0.125@0.01": "-0.12", "-0.5": "0"},
    "away_from_zero": {"2.5": "3", "-2.5": "-3", "1.5": "2", "-1.5": "-2", "2.4": "3", "-2.6": "-3", "0.125@0.01": "0.13", "-0.125@0.01": "-0.13", "-0.5": "-1"},
}


def test_the_table_covers_every_rounding_mode():
    assert set(ROUNDING_TABLE) == set(ROUNDING_MODES)


@pytest.mark.parametrize("mode, case, expected",
                         [(m, c, e) for m, cases in ROUNDING_TABLE.items() for c, e in cases.items()])
def test_rounding_modes_on_ties_and_negatives(mode, case, expected):
    value, _, step = case.partition("@")
    result = round_to(Fraction(value), Fraction(step or "1"), mode)
    assert type(result) is Fraction
    assert result == Fraction(expected)


def test_rounding_exact_integers_and_other_steps():
    for mode in ROUNDING_MODES:
        assert round_to(Fraction(7), Fraction(1), mode) == 7
        assert round_to(Fraction(-7), Fraction(1), mode) == -7
        assert round_to(Fraction(0), Fraction(1, 100), mode) == 0
    assert round_to(Fraction(1250), Fraction(1000), "half_up") == 1000
    assert round_to(Fraction(1500), Fraction(1000), "half_even") == 2000
    assert round_to(Fraction(2500), Fraction(1000), "half_even") == 2000
    assert round_to(Fraction(19, 21), Fraction(1, 100), "half_up") == Fraction(90, 100)  # 0.9047...
    assert round_to(Fraction(22, 23), Fraction(1, 100), "half_up") == Fraction(96, 100)  # 0.9565...


DECIMAL_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "half_down": ROUND_HALF_DOWN,
                 "toward_zero": ROUND_DOWN, "away_from_zero": ROUND_UP}


def test_every_mode_has_a_decimal_counterpart():
    assert set(DECIMAL_MODES) == set(ROUNDING_MODES)


@SETTINGS
@given(n=st.integers(-10**12, 10**12), scale=st.integers(0, 6), places=st.integers(0, 4),
       mode=st.sampled_from(sorted(ROUNDING_MODES)))
@example(n=25, scale=1, places=0, mode="half_even")
@example(n=-25, scale=1, places=0, mode="half_up")
def test_rounding_agrees_with_decimal_quantize(n, scale, places, mode):
    value = Fraction(n, 10**scale)
    expected = Decimal(n).scaleb(-scale).quantize(Decimal(1).scaleb(-places), rounding=DECIMAL_MODES[mode])
    assert round_to(value, Fraction(1, 10**places), mode) == Fraction(expected)


@SETTINGS
@given(value=st.fractions(min_value=-10**9, max_value=10**9, max_denominator=10**6),
       step=st.sampled_from([Fraction(1), Fraction(1, 100), Fraction(1000), Fraction(1, 3), Fraction(5, 2)]),
       mode=st.sampled_from(sorted(ROUNDING_MODES)))
def test_rounding_properties(value, step, mode):
    result = round_to(value, step, mode)
    assert (result / step).denominator == 1  # a multiple of the step
    assert abs(result - value) < step
    assert round_to(-value, step, mode) == -result  # every mode is symmetric about zero
    assert round_to(result, step, mode) == result  # idempotent
    if mode.startswith("half"):
        assert abs(result - value) <= step / 2
    if mode == "toward_zero":
        assert abs(result) <= abs(value)
    if mode == "away_from_zero":
        assert abs(result) >= abs(value)


# ================================================================ values: formatting

MONEY = re.compile(r"^-?\d+\.\d{2}$")


@SETTINGS
@given(value=st.fractions(min_value=-10**12, max_value=10**12, max_denominator=10**9))
@example(value=Fraction(-1, 1000))      # rounds to zero: no "-0.00"
@example(value=Fraction(-1, 200))       # a tie below zero rounds away from zero
@example(value=Fraction(139_000_000, 7))
@example(value=Fraction(10**12))
def test_money_text_has_two_decimals_and_round_trips_within_half_a_penny(value):
    text = money_text(value)
    assert MONEY.match(text), text
    assert text != "-0.00"
    back = parse_amount(text)
    assert abs(back - value) <= Fraction(1, 200)
    assert back == round_to(value, Fraction(1, 100), "half_up")


def _fixed_by_round_to(value: Fraction, places: int) -> str:
    """The digits as money_text and decimal_text worked them out before their integer fast path."""
    units = int(round_to(value, Fraction(1, 10**places), "half_up") * 10**places)
    digits = str(abs(units)).rjust(places + 1, "0")
    whole, fraction = digits[: len(digits) - places], digits[len(digits) - places:]
    return ("-" if units < 0 else "") + (f"{whole}.{fraction}" if places else whole)


def _decimal_by_round_to(value: Fraction, places: int) -> str:
    text = _fixed_by_round_to(value, places)
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


# ties (an odd number of half units at the place rounded) and their neighbours, on both sides of zero
_TIES = st.builds(lambda units, places, nudge, sign: sign * (Fraction(2 * units + 1, 2 * 10**places) + nudge),
                  st.integers(0, 10**15), st.integers(0, 10), st.sampled_from([Fraction(0), Fraction(1, 10**30),
                                                                               -Fraction(1, 10**30)]),
                  st.sampled_from([1, -1]))


@SETTINGS
@given(value=st.one_of(st.fractions(max_denominator=10**12), _TIES, st.integers(-10**20, 10**20).map(Fraction)),
       places=st.integers(0, 12))
@example(value=Fraction(-1, 200), places=2)
@example(value=Fraction(1, 200), places=2)
@example(value=Fraction(-5, 1000), places=2)
@example(value=Fraction(-1, 1000), places=2)
@example(value=Fraction(-1, 2 * 10**10), places=10)
def test_money_and_decimal_text_give_the_digits_round_to_gave(value, places):
    assert money_text(value) == _fixed_by_round_to(value, 2)
    assert decimal_text(value, places) == _decimal_by_round_to(value, places)


def test_money_text_examples():
    assert money_text(Fraction(139_000_000, 7)) == "19857142.86"
    assert money_text(Fraction(1, 200)) == "0.01"
    assert money_text(Fraction(-1, 200)) == "-0.01"
    assert money_text(Fraction(100)) == "100.00"
    assert money_text(Fraction(0)) == "0.00"


def test_money_text_of_a_very_large_amount():
    assert money_text(Fraction(10**26)) == "1" + "0" * 26 + ".00"


def plain_decimal(value: Fraction) -> str:
    """The exact decimal of a terminating fraction, written plainly (no exponent, no trailing zeros)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, rest = divmod(value.numerator, value.denominator)
    digits = ""
    while rest:
        rest *= 10
        digit, rest = divmod(rest, value.denominator)
        digits += str(digit)
    return f"{sign}{whole}" + (f".{digits}" if digits else "")


# Within 1e-6 <= |value| < 1e17; zero, smaller and larger values are tested below.
@SETTINGS
@given(n=st.integers(-10**12, 10**12), twos=st.integers(0, 10), fives=st.integers(0, 10))
@example(n=7, twos=1, fives=1)
@example(n=-1, twos=1, fives=0)
@example(n=1, twos=10, fives=10)
def test_decimal_text_is_exact_for_terminating_fractions(n, twos, fives):
    value = Fraction(n, 2**twos * 5**fives)
    if not Fraction(1, 10**6) <= abs(value) < 10**17:
        return
    text = decimal_text(value)
    assert text == plain_decimal(value)
    assert Fraction(text) == value


@SETTINGS
@given(value=st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**6).filter(lambda v: v != 0))
def test_decimal_text_rounds_half_up_to_ten_places_otherwise(value):
    text = decimal_text(value)
    assert re.fullmatch(r"-?\d+(\.\d{0,9}[1-9])?", text), text  # plain, no trailing zeros
    assert Fraction(text) == round_to(value, Fraction(1, 10**10), "half_up")
    assert abs(Fraction(text) - value) <= Fraction(1, 2 * 10**10)


def test_decimal_text_examples():
    assert decimal_text(Fraction(7, 10)) == "0.7"
    assert decimal_text(Fraction(19, 21)) == "0.9047619048"
    assert decimal_text(Fraction(3)) == "3"
    assert decimal_text(Fraction(-1, 10**6)) == "-0.000001"
    assert decimal_text(Fraction(1, 10**6)) == "0.000001"
    assert decimal_text(Fraction(1, 8), places=2) == "0.13"


@pytest.mark.parametrize("value, expected", [
    (Fraction(0), "0"),
    (Fraction(-1, 10**11), "0"),   # rounds to zero at ten places
    (Fraction(1, 10**7), "0.0000001"),
    (Fraction(3, 10**9), "0.000000003"),
    (Fraction(1, 10**10), "0.0000000001"),
    (Fraction(-1, 10**8), "-0.00000001"),
])
def test_decimal_text_of_small_values_is_plain(value, expected):
    assert decimal_text(value) == expected


def test_decimal_text_of_a_large_value():
    assert decimal_text(Fraction(10**18)) == "1" + "0" * 18
