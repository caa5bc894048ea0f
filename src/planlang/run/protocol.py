"""What every backend provides: the :class:`Backend` protocol that :data:`planlang.run.BACKENDS` are typed by.

A backend is a run of one plan over one dataset under one scenario, built as
``Backend(plan, inputs, scenario, baseline)``. It builds its per-plan machinery once (the exact
engine's :func:`planlang.run.exact.compiled`) and holds only the run's data. :class:`Results`,
explanations and renderers ask it for values by name, organisation and period, and for where an
input or parameter came from; they never depend on which backend it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

from .. import syntax as s
from ..compiler import Program
from ..data import Dataset
from ..periods import Period
from ..plan import Plan
from ..scenario import Scenario
from ..source import Span

__all__ = ["Backend", "BackendClass"]


@runtime_checkable
class Backend(Protocol):
    plan: Plan
    program: Program
    dataset: Dataset
    scenario: Scenario
    changed: frozenset[str]  # what the scenario can change: the names downstream of its settings

    def value(self, name: str, entity: str | None, period: Period | None) -> Any:
        """The value of a cell: a Fraction, bool, date, period or Missing (with its reasons)."""

    def work_out(self, name: str, keys: Iterable[tuple[str | None, Period | None]],
                 on_computed: Callable[[str, str | None, Period | None, Any], None] | None = None) -> None:
        """Work out the cells ``keys`` of ``name``, calling ``on_computed`` with each value when given."""

    def evaluate(self, node: s.Expr, entity: str | None, period: Period | None) -> Any:
        """The value of any expression of the plan for one cell."""

    def input_origin(self, name: str, entity: str, period: Period) -> dict:
        """Where an input's value came from: the scenario, the data (and where in it), a declared default, or nowhere."""

    def is_default(self, name: str, entity: str, period: Period) -> bool:
        """Whether an input's value is its declared default (the data has none, no setting decides it)."""

    def setting(self, name: str, entity: str | None, period: Period | None) -> Any:
        """The scenario's setting that decides this cell, or None."""

    def parameter(self, name: str, period: Period | None) -> Any:
        """A parameter's value in a period."""

    def parameter_version(self, name: str, period: Period | None) -> tuple:
        """(value, amendment or None, schedule entry or None, setting or None) for a parameter in a period."""

    def flag_periods(self, name: str, period: Period) -> list[Period]:
        """The periods of a flag inside ``period`` that its ``during`` allows."""

    def text_of(self, span: Span) -> str:
        """The source text of a span of the plan or of the scenario."""


class BackendClass(Protocol):
    """A backend's constructor: a run of ``plan`` over ``inputs`` under ``scenario``, reading unchanged names from ``baseline``."""

    def __call__(self, plan: Plan, inputs: Dataset, scenario: Scenario, baseline: Backend | None = None) -> Backend: ...
