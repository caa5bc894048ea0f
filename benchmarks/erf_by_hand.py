"""The ERF rule of §3 written out by hand: what `planlang run policies/2021_22 --data F --json` is measured against.

Reads the same JSON data file with :mod:`json` and :class:`~fractions.Fraction` (exact, as planlang
does), applies the rule of ``policies/2021_22/erf.plan`` to every system and month from April to
September 2021, and prints the ERF part of ``run --json``'s document: the ERF outputs in its value
formats (money to the penny rounded half up, other numbers as exact decimals of at most 10 places,
booleans) and the gateway flags with their message, values and citation. No checks of the data
beyond what the rule needs: this is the floor a careful analyst's script would reach.

Usage: ``python benchmarks/erf_by_hand.py DATA.json``. bench_run_json.py runs it beside planlang.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from fractions import Fraction

import holidays

MONTHS = [f"2021-{m:02d}" for m in range(4, 10)]
THRESHOLDS = {"2021-04": Fraction(70, 100), "2021-05": Fraction(75, 100), "2021-06": Fraction(80, 100)}
UPPER, BETWEEN, ABOVE = Fraction(85, 100), Fraction(1), Fraction(120, 100)
PERMITTED = {"a service has shifted across system boundaries",
             "a service has shifted to a provider that cannot submit the data to SUS+",
             "significant counting and coding changes", "an error has been identified in the 2019/20 data"}
GATEWAY_QUOTE = ("To qualify for ERF funding, systems are required to demonstrate their elective recovery plan supports "
                 "the requirements set out in sections C1 and C2 of the planning guidance and the five objectives listed below")


def working_days(year: int, month: int) -> int:
    bank = holidays.country_holidays("GB", subdiv="ENG", years=year)
    day, count = dt.date(year, month, 1), 0
    while day.month == month:
        count += day.weekday() < 5 and day not in bank
        day += dt.timedelta(days=1)
    return count


def money(value: Fraction) -> str:
    pennies, rest = divmod(abs(value) * 100, 1)
    pennies = int(pennies) + (rest >= Fraction(1, 2))
    sign = "-" if value < 0 and pennies else ""
    return f"{sign}{pennies // 100}.{pennies % 100:02d}"


def decimal(value: Fraction, places: int = 10) -> str:
    units = abs(value) * 10**places
    whole = int(units) + (units - int(units) >= Fraction(1, 2))
    text = f"{whole // 10**places}.{whole % 10**places:0{places}d}".rstrip("0").rstrip(".")
    return ("-" if value < 0 and text != "0" else "") + text


def amount(raw) -> Fraction:
    return Fraction(raw) if not isinstance(raw, str) else Fraction(raw.replace("£", "").replace(",", ""))


def main(path: str) -> None:
    with open(path, encoding="utf-8") as file:
        data = json.load(file, parse_float=Fraction)
    inputs = data["inputs"]
    baseline, actual = inputs["erf_baseline"], inputs["erf_actual"]
    adjustment = inputs.get("erf_counting_coding_adjustment", {})
    category = inputs.get("erf_counting_coding_category", {})
    gateway = inputs.get("erf_gateway_met", {})
    wd = {m: Fraction(working_days(2021, int(m[5:])), working_days(2019, int(m[5:]))) for m in MONTHS}
    names = ("erf_counting_coding_permitted", "erf_threshold_pct", "erf_working_day_adjustment", "erf_lower_threshold",
             "erf_upper_threshold", "erf_activity_above_upper", "erf_activity_between_thresholds", "erf_additional_funding")
    results: dict[str, dict] = {name: {} for name in names}
    flags = []
    for org in data["organisations"]:
        code = org["code"]
        rows = {name: results[name].setdefault(code, {}) for name in names}
        for month in MONTHS:
            pct = THRESHOLDS.get(month, UPPER)
            base, act = amount(baseline[code][month]), amount(actual[code][month])
            cc = amount(adjustment.get(code, {}).get(month, 0))
            met = gateway.get(code, {}).get(month, True)
            lower = base * pct * wd[month] - cc
            upper = base * UPPER * wd[month] - cc
            between = max(Fraction(0), min(act, upper) - lower)
            above = max(Fraction(0), act - upper)
            funding = between * BETWEEN + above * ABOVE if met else Fraction(0)
            rows["erf_counting_coding_permitted"][month] = cc == 0 or category.get(code, {}).get(month) in PERMITTED
            rows["erf_threshold_pct"][month] = decimal(pct)
            rows["erf_working_day_adjustment"][month] = decimal(wd[month])
            rows["erf_lower_threshold"][month] = money(lower)
            rows["erf_upper_threshold"][month] = money(upper)
            rows["erf_activity_above_upper"][month] = money(above)
            rows["erf_activity_between_thresholds"][month] = money(between)
            rows["erf_additional_funding"][month] = money(funding)
            if not met:
                flags.append({"flag": "erf_gateway_not_met", "severity": "warning", "entity": code, "period": month,
                              "message": f"No ERF is paid to {code} for {month}: the gateway criteria of §3.2 were not met",
                              "values": {"erf_gateway_met": False},
                              "citations": [{"source": "002_0a239ee164b5232a.txt", "section": "§3.2", "quote": GATEWAY_QUOTE}]})
    print(json.dumps({"results": results, "flags": flags}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
