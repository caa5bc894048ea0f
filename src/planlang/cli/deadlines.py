"""``planlang deadlines``: a pack's dated milestones, past, due and upcoming, counted in working days."""

from __future__ import annotations

import datetime as dt

from .. import syntax as s
from ..diagnostics import UsageError
from ..periods import PeriodError, is_working_day, parse_date, working_days_between
from ..run import evaluate
from . import load
from .exits import EXIT_OK

__all__ = ["cmd_deadlines"]


def cmd_deadlines(args) -> int:
    program = load.pack(args)
    try:
        as_of = parse_date(args.as_of) if args.as_of else dt.date.today()
    except PeriodError as error:
        raise UsageError(str(error), "--as-of") from None
    dataset = load.data(args, program)
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
            status = f"past ({_working_days_after(date, as_of)} wd ago)"
        elif date == as_of:
            status = "due today"
        else:
            status = f"upcoming ({_working_days_after(as_of, date)} wd left)"
        print(f"  {date}  {status:<22}  {name}{who}{what}{cite}")
    return EXIT_OK


def _working_days_after(first: dt.date, last: dt.date) -> int:
    """Working days after ``first`` up to ``last``: no date past ``last`` is made, so none leaves the calendar."""
    return working_days_between(first, last) - is_working_day(first)
