"""The vector engine: a run of a plan over every organisation at once, exact to the penny.

``run(plan, inputs, backend="vector")`` works each definition and flag out as one *column* per
period (:mod:`planlang.run.columns`): a value for every organisation of the data, exact by
construction, so a printed figure is the exact engine's because it is the same rational.

Each operation is worked out by the column kernel its semantics row names
(:func:`planlang.run.semantics.operation_for` -> :data:`~planlang.run.columns.kernels.KERNELS`);
a row that says LIFT, and an operation whose operands have no vector form (dates, text), is
*lifted*: the exact engine works the expression out for each organisation and the column is built
from its values. Expressions that read no organisation's values (literals, parameters, the period,
working days) are worked out once per period by the exact engine and broadcast. So the backend
covers every plan, and is fast exactly where the bulk is: arithmetic, comparisons, bands, tapers
and sums over members. What the plan alone decides (which nodes read organisations' values, the
names they read, each node's kernel) is :mod:`~planlang.run.vector.compiled`'s, made once per plan.

Explanations never read this backend: :func:`planlang.explanation.explain` records on the exact engine
that every vector run holds (``run.exact``), so every bulk figure stays explainable; a missing
cell's reasons and a deferred cell's value are asked of it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

from ... import ops
from ... import syntax as s
from ...builtins import BUILTINS
from ...data import Dataset
from ...periods import Period
from ...plan import Plan
from ...scenario import BASELINE, Scenario
from ...values import Missing
from ..columns.column import (
    SCALAR,
    Column,
    any_of,
    from_values,
    masked_at,
    numbers,
    per_step,
    reshaped,
    row,
    select,
    stacked,
    value_at,
)
from ..columns.kernels import multiply
from ..columns.layout import data_columns, layout_of, with_factors
from ..exact import ExactRun
from ..lower import relative_tolerance
from ..semantics import STRICT
from .compiled import NodeInfo, analyse, compiled

__all__ = ["VectorRun"]

ONE = Fraction(1)


class VectorRun:
    """The vector backend's run of a plan over inputs under a scenario (see the module's account).

    Columns are worked out on demand and remembered by (name, period). Under a scenario, a name the
    scenario cannot change is read from the baseline run's columns. ``exact`` is the exact run of
    the same plan, inputs and scenario: explanations, missing values' reasons and deferred cells
    come from it.
    """

    def __init__(self, plan: Plan, inputs: Dataset, scenario: Scenario = BASELINE, baseline=None, *,
                 steps: Sequence[Scenario] | None = None, factors: Sequence[Mapping] | None = None):

        if baseline is not None and not isinstance(baseline, VectorRun):
            baseline = None  # a baseline of another backend has no columns to share
        if (scenario.settings or steps) and baseline is None:
            baseline = VectorRun(plan, inputs)
        self.plan = plan
        self.program = plan.program
        self.dataset = inputs
        self.scenario = scenario
        self.baseline = baseline
        self.exact = ExactRun(plan, inputs, scenario, baseline.exact if baseline is not None else None)
        # Many steps at once: a leading axis over them. ``steps``: each step's scenario (over the plain
        # baseline); ``factors``: each step's input factors (this run is then the steps' baseline).
        self.steps = tuple(steps) if steps is not None else None
        self.factors = tuple(factors) if factors is not None else (baseline.factors if baseline is not None else None)
        self.width = len(self.steps or self.factors or ()) or None
        self.changed = self.exact.changed
        self._step_names = frozenset().union(*(x.names for x in self.steps)) if self.steps is not None else frozenset()
        if self.steps is not None:
            self.changed = plan.downstream(self._step_names)
        elif factors is not None:
            self.changed = plan.downstream(frozenset().union(*factors))
        # the names whose values differ from step to step: what the steps set or factor, and what follows
        self.stepped = self.changed if steps is not None or factors is not None else \
            (baseline.stepped if baseline is not None and self.width else frozenset())
        layout = self.layout = layout_of(inputs)
        self.codes, self.index, self.size = layout.codes, layout.index, layout.size
        self.machinery = compiled(plan)
        self._kinds = self.machinery.kinds
        self._columns: dict[tuple[str, Period | None], Column] = {}
        self._outside: dict[int, tuple[s.Expr, NodeInfo]] = {}  # nodes from outside the plan (a scenario's)
        self._exact_steps: dict[int, object] = {}

    def exact_step(self, k: int):
        """The exact run of step ``k`` (its scenario, its factored data): what a masked cell of the step is asked of."""

        found = self._exact_steps.get(k)
        if found is None:
            if self.steps is not None:
                found = ExactRun(self.plan, self.dataset, self.steps[k], self.baseline.exact)
            else:
                found = ExactRun(self.plan, with_factors(self.dataset, self.factors[k]), self.scenario)
            self._exact_steps[k] = found
        return found

    def positions(self, codes: tuple) -> tuple[list, np.ndarray]:
        """The organisations of ``codes`` this run has, and where each sits in a column (remembered)."""
        found = self.layout.positions.get(codes)
        if found is None:
            kept = [code for code in codes if code in self.index]
            found = self.layout.positions[codes] = (kept, np.array([self.index[code] for code in kept], dtype=np.intp))
        return found

    def _step_parameter(self, step: Scenario, name: str, period: Period | None):
        """A parameter's value in a step: the step's setting for the period (read from the baseline), or the baseline's."""
        for setting in step.settings_for(name):
            if setting.covers(None, period):
                return self.baseline.exact.evaluate(setting.value, None, period)
        return self.baseline.exact.parameter(name, period)

    def value_at(self, k: int, name: str, entity: str | None, period: Period | None):
        """The value of a cell in step ``k`` of a run of many steps."""
        column = self.column(name, period)
        index = self.index.get(entity) if entity is not None else None
        if column.kind != SCALAR and index is not None:
            if not masked_at(column, k, index):
                return value_at(column, k, index)
        elif column.kind == SCALAR and not column.is_missing:
            return column.num
        return self.exact_step(k).value(name, entity, period)

    # ---- what Results and explanations read; explanations are recorded on the exact run ----
    def value(self, name: str, entity: str | None, period: Period | None):
        kind = self._kinds[name]
        if kind not in (s.DefineDecl, s.FlagDecl):
            return self.exact.value(name, entity, period)
        column = self.column(name, period)
        if column.kind == SCALAR and type(column.num) is not Missing:
            return column.num
        index = self.index.get(entity) if entity is not None else None
        if column.kind == SCALAR or index is None or masked_at(column, 0, index):
            return self.exact.value(name, entity, period)  # the reasons of a missing cell, or a deferred one
        return value_at(column, 0, index)

    def work_out(self, name: str, keys, on_computed=None) -> None:
        """Work out the cells ``keys`` (a :class:`~planlang.run.Cells`) of ``name``: whole columns, one per period."""
        if self._kinds[name] in (s.DefineDecl, s.FlagDecl):
            for period in keys.periods:
                self.column(name, period)
        if on_computed is not None or self._kinds[name] not in (s.DefineDecl, s.FlagDecl):
            for entity, period in keys:
                value = self.value(name, entity, period)
                if on_computed is not None:
                    on_computed(name, entity, period, value)

    def evaluate(self, node: s.Expr, entity, period):
        return self.exact.evaluate(node, entity, period)

    def input_origin(self, name, entity, period):
        return self.exact.input_origin(name, entity, period)

    def is_default(self, name, entity, period):
        return self.exact.is_default(name, entity, period)

    def setting(self, name, entity, period):
        return self.exact.setting(name, entity, period)

    def parameter_version(self, name, period):
        return self.exact.parameter_version(name, period)

    def parameter(self, name, period):
        return self.exact.parameter(name, period)

    def flag_periods(self, name, period):
        return self.exact.flag_periods(name, period)

    def text_of(self, span) -> str:
        return self.exact.text_of(span)

    # ---- columns ----
    def column(self, name: str, period: Period | None) -> Column:
        key = (name, period)
        found = self._columns.get(key)
        if found is not None:
            return found
        if self.baseline is not None and name not in self.changed:
            found = self.baseline.column(name, period)
        else:
            found = self._work_out(name, period)
        self._columns[key] = found
        return found

    def _work_out(self, name: str, period: Period | None) -> Column:
        kind = self._kinds[name]
        if kind is s.ParameterDecl:
            if self.steps is not None and name in self._step_names:  # a parameter some step sets: one value per step
                return per_step(self.width, [self._step_parameter(step, name, period) for step in self.steps])
            return Column.scalar(self.exact.parameter(name, period))
        if kind is s.InputDecl:
            found = self._input(name, period)
        elif kind is s.DeadlineDecl:
            if name in self.stepped:
                return stacked(self.size, [self._cells(lambda code, k=k: self.exact_step(k).value(name, code, period))
                                    for k in range(self.width)])
            found = self._cells(lambda code: self.exact.value(name, code, period))
        elif not self.plan.applies(name, period):
            return Column.scalar(self.exact.value(name, None, period))  # missing: outside its `during`
        else:
            found = self.ev(self.plan.formulas[name], period)
        return self._overlay(name, period, found)

    def _overlay(self, name: str, period: Period | None, found: Column) -> Column:
        """``found`` with the scenario's settings of ``name`` in the cells they cover (a later setting wins);
        for many steps, each step's settings, stacked."""
        if self.steps is None:
            return self._settle(self.scenario, name, period, found) if self.scenario.settings else found
        if name not in self._step_names:
            return found
        return stacked(self.size, [self._settle(step, name, period, found, k) for k, step in enumerate(self.steps)])

    def _settle(self, scenario: Scenario, name: str, period: Period | None, found: Column, k: int | None = None) -> Column:
        for setting in reversed(scenario.settings_for(name)):
            if not setting.covers(setting.entity, period):
                continue
            source = self if setting.formula else self.baseline
            value = source.ev(setting.value, period)
            if k is not None:
                value = row(value, k)  # a new formula over many steps: this step's row
            if setting.entity is None:
                found = value
            elif setting.entity in self.index:
                where = np.zeros(self.size, dtype=bool)
                where[self.index[setting.entity]] = True
                found = select(self.size, where, value, found)
        return found

    def _input(self, name: str, period: Period | None) -> Column:
        """The data's values of an input in a period, the declared default where the data give none; for
        many steps with factors, each step's factors multiplying the data's values (not the default)."""
        found = self._data_input(name, period)
        if self.factors is None or self.baseline is not None or not any(name in f for f in self.factors):
            return found
        return multiply(self.size, found, self._factor_column(name, period))

    def _factor_column(self, name: str, period: Period | None) -> Column:
        """Each step's factor of each organisation's value: 1 where the step has none or the data has no value."""
        given = data_columns(self.dataset).get((name, period))
        absent = given.missing if given is not None and given.missing is not None else None
        rows = []
        for factors in self.factors:
            cells = factors.get(name, {})
            row = [cells.get((code, period), ONE) for code in self.codes]
            if absent is not None:
                row = [ONE if gone else x for x, gone in zip(row, absent)]
            rows.append(row)
        column = numbers([x for row in rows for x in row], None)
        return reshaped(column, (self.width, self.size))

    def _data_input(self, name: str, period: Period | None) -> Column:
        found = data_columns(self.dataset).get((name, period))
        default = self.exact._defaults.get(name)
        if found is None:
            return Column.scalar(default if default is not None else Missing.of("no_input"))
        if default is None or found.missing is None:
            return found
        return select(self.size, found.missing, Column.scalar(default),
                            Column(found.kind, found.num, found.den, found.bound, found.dbound, None, found.defer))

    def _cells(self, value_of) -> Column:
        """A column of the exact engine's values, one organisation at a time."""
        return from_values([value_of(code) for code in self.codes])

    # ---- expressions ----
    def ev(self, node: s.Expr, period: Period | None) -> Column:
        info = self.info(node)
        stepped = not info.reads.isdisjoint(self.stepped)
        if info.free and not stepped:
            return Column.scalar(self.exact.evaluate(node, None, period))
        # operands are worked out from here, so that a formula nested hundreds deep costs two frames a level
        if isinstance(node, (s.Ref, s.SystemRef)):
            found = self._ref(node, period)
        elif info.kernel is None:
            found = None  # the row says LIFT, or the node is not an operation
        else:
            found = self._apply(info, _OPERANDS[type(node)](self, node, period))
        if found is not None:
            return found
        if not stepped:
            return self.lift(node, period)
        # what the steps change, with no vector form: each step's exact values
        if info.free:
            return per_step(self.width, [self.exact_step(k).evaluate(node, None, period) for k in range(self.width)])
        return stacked(self.size, [self._cells(lambda code, k=k: self.exact_step(k).evaluate(node, code, period))
                                   for k in range(self.width)])

    def info(self, node: s.Expr) -> NodeInfo:
        """What the plan alone says of a node: from the plan's machinery, or worked out for a node from elsewhere."""
        found = self.machinery.info(node)
        if found is None:
            kept = self._outside.get(id(node))
            if kept is None or kept[0] is not node:
                kept = self._outside[id(node)] = (node, analyse(node))
            found = kept[1]
        return found

    def _apply(self, info: NodeInfo, found) -> Column | None:
        """The row's kernel over the operands' columns, with the row's rule for missing values; None when this data
        has no vector form."""
        if isinstance(found, Column):
            return found  # a lazy operation decided by what was worked out first (an if on one condition)
        operands, options = found
        if info.row.missing == STRICT:
            missing = [x for x in _flat(operands) if x is not None and x.is_missing]
            if missing:
                return Column.scalar(ops.merge_missing(*(x.num for x in missing)))
        return info.kernel(self.size, *operands, **options)

    def lift(self, node: s.Expr, period: Period | None) -> Column:
        """The expression worked out by the exact engine for each organisation."""
        return self._cells(lambda code: self.exact.evaluate(node, code, period))

    def _ref(self, node: s.Ref | s.SystemRef, period) -> Column:
        """A name read through its alignment: the period it names, and each organisation's system's cell for ``system.x``."""
        alignment = node.alignment
        target = None if alignment.period is None else (
            period.within(alignment.granularity) if alignment.period == "containing" and period.kind != alignment.granularity
            else period)
        column = self.column(node.name, target)
        return self._of_system(column) if alignment.entity == "system" else column

    def _of_system(self, column: Column) -> Column:
        """Each organisation's system's cell of ``column``; a system itself has no system, so the exact engine decides."""
        if column.kind == SCALAR:
            return column
        take = self.layout.parent

        def pick(mask):
            return None if mask is None else mask[..., take]

        den = column.den if type(column.den) is int else column.den[..., take]
        return Column(column.kind, column.num[..., take], den, column.bound, column.dbound, pick(column.missing),
                      any_of(pick(column.defer), self.layout.orphan if self.layout.orphan.any() else None))


    def error_flags(self, node: s.Call, period) -> list:
        """Each error flag ``any_error_flag()`` counts, in the period and the periods within it, with the
        organisations whose kind it applies to."""
        found = []
        for name in node.flags:
            counted = np.isin(self.layout.kind_of, list(self.program.declarations[name].kinds))
            found.extend((self.column(name, part), counted) for part in self.exact.flag_periods(name, period))
        return found



# ---- each construct's operands, worked out as columns: (operands, options) for its kernel ----

def _flat(operands):
    for x in operands:
        if isinstance(x, list):
            yield from x
        else:
            yield x


def _pair(run: VectorRun, node, period):
    return (run.ev(node.left, period), run.ev(node.right, period)), {}


def _operand(run: VectorRun, node, period):
    return (run.ev(node.operand, period),), {}


def _if(run: VectorRun, node: s.If, period):
    condition = run.ev(node.condition, period)
    if condition.kind == SCALAR:  # lazy: only the branch taken is worked out
        return condition if condition.is_missing else run.ev(node.then if condition.num else node.otherwise, period)
    return (condition, run.ev(node.then, period), run.ev(node.otherwise, period)), {}


def _within(run: VectorRun, node: s.Within, period):
    return tuple(run.ev(x, period) for x in (node.value, node.tolerance, node.reference)), \
        {"relative": relative_tolerance(node.tolerance.type)}


def _bands(run: VectorRun, node: s.Bands, period):
    limits = [run.ev(b.upper, period) for b in node.bands]
    rates = [run.ev(b.rate, period) for b in node.bands] + [run.ev(node.top_rate, period)]
    return (run.ev(node.amount, period), limits, rates), {}


def _taper(run: VectorRun, node: s.Taper, period):
    return tuple(None if x is None else run.ev(x, period)
                 for x in (node.base, node.shortfall, node.rate, node.floor, node.cap)), {}


def _call(run: VectorRun, node: s.Call, period):
    entry = BUILTINS[node.name]
    over = next((a.over for a in node.args if a.over), None)
    if over == "members":
        groups = run.layout.groups(tuple(sorted(node.member_kinds)))
        return ([run.ev(node.args[0].value, period)],), {"groups": groups}
    if over is not None:
        parts = period.parts({"months": "month", "quarters": "quarter"}[over])
        return ([run.ev(node.args[0].value, p) for p in parts],), {}
    if entry.reads == "error_flags":
        return (run.error_flags(node, period),), {}
    args = node.args if entry.arguments is None else node.args[:entry.arguments]
    return tuple(run.ev(a.value, period) for a in args), (entry.options(node) if entry.options is not None else {})


_OPERANDS = {s.Binary: _pair, s.Compare: _pair, s.Logical: _pair, s.Negate: _operand, s.Not: _operand, s.If: _if,
             s.Within: _within, s.Bands: _bands, s.Taper: _taper, s.Call: _call}
