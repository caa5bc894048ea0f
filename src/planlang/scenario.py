"""Scenarios: what-if overrides layered over a run's inputs and a plan's parameters and definitions.

A :class:`Scenario` is a list of checked :class:`Setting` s. A setting replaces the value of one
name (an input, a parameter or a definition) for every entity or one, in every period or some.
Its expression reads **baseline** values (``set erf_actual = erf_actual * 103%`` is 103% of the
baseline figure), except a ``replace``, which is a new formula for a definition and reads the
scenario's own values like any formula. Nothing is copied: a run looks a setting up before it
looks at the data.
"""

from __future__ import annotations

import attrs

from . import syntax as s
from .periods import Period
from .source import Span

__all__ = ["Setting", "Scenario", "BASELINE"]


@attrs.frozen
class Setting:
    """One ``set`` (or ``replace``) of a scenario, checked against the plan."""

    span: Span
    name: str
    value: s.Expr
    entity: str | None = None  # None: every entity
    periods: tuple[Period, ...] | None = None  # None: every period
    formula: bool = False  # a new formula (reads the scenario's values), not a value (reads the baseline's)
    text: str = ""  # as written, for messages and reports

    def covers(self, entity: str | None, period: Period | None) -> bool:
        """Whether this setting decides the cell (``entity``, ``period``)."""
        if self.entity is not None and entity != self.entity:
            return False
        if self.periods is None or period is None:
            return True
        return any(p == period or (p.contains(period)) for p in self.periods)


@attrs.frozen
class Scenario:
    """A named set of settings; the baseline has none."""

    name: str
    settings: tuple[Setting, ...] = ()
    description: str | None = None
    based_on: tuple[str, ...] = ()  # the scenarios it builds on, outermost first
    span: Span | None = None

    sources: dict = attrs.field(factory=dict, eq=False)  # file name -> SourceFile, for the text of its spans

    def text_of(self, span: Span) -> str:
        source = self.sources.get(span.file)
        if source is None:
            return ""
        from .compiler import span_text

        return span_text(source, span)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(setting.name for setting in self.settings)

    def settings_for(self, name: str) -> tuple[Setting, ...]:
        """The settings of ``name``, the one written last first (a later setting wins)."""
        return tuple(x for x in reversed(self.settings) if x.name == name)


BASELINE = Scenario("baseline")
