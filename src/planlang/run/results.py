"""What a run gives: every value, flag and missing value of one run of a plan, and the cells it covers.

:class:`Results` reads its values from the backend's run that computed them (any backend of
:data:`planlang.run.BACKENDS`); explanations are worked out from the same run.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING

import attrs

from .. import syntax as s
from ..compiler import Program
from ..data import Dataset
from ..periods import Period, add_working_days, working_days_between
from ..plan import Plan
from ..scenario import Scenario
from ..values import Missing

if TYPE_CHECKING:
    from .exact import ExactRun
    from .vector import VectorRun

__all__ = ["Results", "Cells", "FlagResult", "LateSubmission", "periods_for"]


@attrs.frozen
class FlagResult:
    name: str
    severity: str
    entity: str
    period: Period | None
    fired: bool | Missing




@attrs.frozen
class LateSubmission:
    """A milestone an organisation submitted after its deadline: the built-in ``late_submission`` warning."""

    entity: str
    milestone: str
    submitted: dt.date
    deadline: dt.date
    working_days_late: int
    origin: str

    name = "late_submission"
    severity = "warning"




@attrs.frozen
class Cells:
    """The cells of one name in a run: every entity in every period, listed entity by entity, without a tuple per cell."""

    entities: tuple[str | None, ...]
    periods: tuple[Period | None, ...]

    def __iter__(self):
        return itertools.product(self.entities, self.periods)

    def __len__(self) -> int:
        return len(self.entities) * len(self.periods)


@attrs.frozen(eq=False)
class Results:
    """Every computed value, flag and missing value of one run, keyed by (name, entity, period).

    ``run`` is the backend's run that computed them; explanations record cells on it.
    """

    run: "ExactRun | VectorRun"
    scope: dict[str, Cells]

    @property
    def plan(self) -> Plan:
        return self.run.plan

    @property
    def program(self) -> Program:
        return self.run.program

    @property
    def dataset(self) -> Dataset:
        return self.run.dataset

    @property
    def scenario(self) -> Scenario:
        return self.run.scenario

    def get(self, name: str, entity: str | None, period: Period | None):
        return self.run.value(name, entity, period)

    def values(self):
        """{(name, entity, period): value} for every definition, flag and deadline in scope."""
        return {(name, entity, period): self.get(name, entity, period)
                for name, keys in self.scope.items() for entity, period in keys}

    def outputs(self):
        """(name, entity, period, value) for every definition, in evaluation order."""
        for name, keys in self.scope.items():
            if isinstance(self.program.declarations[name], s.DefineDecl):
                for entity, period in keys:
                    yield name, entity, period, self.get(name, entity, period)

    @property
    def flags(self) -> list[FlagResult]:
        out = []
        for name, keys in self.scope.items():
            decl = self.program.declarations[name]
            if isinstance(decl, s.FlagDecl):
                out += [FlagResult(name, decl.severity, e, p, self.get(name, e, p)) for e, p in keys]
        return out

    @property
    def missing(self) -> list[tuple[str, str | None, Period | None, Missing]]:
        out = []
        for name, keys in self.scope.items():
            for entity, period in keys:
                value = self.get(name, entity, period)
                if type(value) is Missing:
                    out.append((name, entity, period, value))
        return out

    def deadline_for(self, milestone: str, entity: str | None):
        """The date of a deadline, for an organisation when it differs by organisation."""
        decl = self.program.declarations[milestone]
        period = self.program.year if decl.granularity == "year" else None
        return self.get(milestone, entity if decl.kinds else None, period)

    def late_submissions(self) -> list[LateSubmission]:
        """Every submission the data records after its milestone's deadline."""
        late = []
        for (entity, milestone), submitted in self.dataset.submissions.items():
            deadline = self.deadline_for(milestone, entity)
            if isinstance(deadline, dt.date) and submitted > deadline:
                days = working_days_between(add_working_days(deadline, 1), submitted)
                late.append(LateSubmission(entity, milestone, submitted, deadline, days,
                                           self.dataset.submission_origins.get((entity, milestone), self.dataset.source)))
        return sorted(late, key=lambda x: (x.deadline, x.entity))

    def missing_inputs(self) -> list:
        """Every input, entity and period whose absence made something missing."""
        inputs = self.program.of_kind(s.InputDecl)
        reasons = {r for *_, m in self.missing for r in m.reasons if r.name in inputs}
        return sorted(reasons, key=lambda r: (r.name or "", r.entity or "", r.period or ""))


def periods_for(program: Program, dataset: Dataset, decl: s.Decl) -> list[Period | None]:
    """The periods a run works a declaration out for: those the data speaks of, within the policy year."""
    granularity = getattr(decl, "granularity", None)
    if granularity is None:
        return [None]
    year = program.year
    if granularity == "year":
        candidates = [year]
    else:
        candidates = [p for p in dataset.periods(granularity) if year.contains(p)] or year.parts(granularity)
    during = getattr(decl, "during", None)
    if during is not None:
        candidates = [p for p in candidates if during[0].first_day <= p.first_day and p.last_day <= during[1].last_day]
    return candidates


