"""The vectorised backend: a run of a plan over every organisation at once, exact to the penny.

``run(plan, inputs, backend="vector")`` works each definition and flag out as one *column* per
period: a value for every organisation of the data, held in NumPy arrays. A number is a rational
``num / den`` in int64 (``den`` one Python int for the whole column while the data allow it, an
array otherwise), so every value is exact by construction: nothing is ever rounded, and a printed
figure is the exact engine's because it is the same rational. What int64 cannot hold is never
wrapped round: each column carries a bound on its numerators, every operation checks the bound
of its result before it computes (tightening it from the data, then cancelling common factors,
when the static bound is too loose), and what still does not fit is computed on Python integers
(NumPy object arrays: exact, slower). A cell whose numbers would pass what the exact engine allows
a number is *deferred* to the exact engine.

A column has two masks:

- ``missing``: cells known to be missing. The reasons are not held; :meth:`VectorRun.value` asks
  the exact engine for any missing cell, which gives the same missing value with its reasons.
- ``defer``: cells the backend leaves to the exact engine (a number past :data:`BIG_BITS` bits,
  which the exact engine may refuse as too large), worked out by it when read. A deferred cell
  counts as "could be anything" in what uses it: ``false and x`` is still false, ``x + 1`` is
  deferred too.

Expressions that read no organisation's values (literals, parameters, the period, working days)
are worked out once per period by the exact engine and broadcast. Constructs with no vector form
(date arithmetic, day spans, comparisons of dates) are *lifted*: the exact engine works the expression out for
each organisation and the column is built from its values. So the backend covers every plan, and
is fast exactly where the bulk is: arithmetic, comparisons, bands, tapers and sums over members.

Explanations never read this backend: :func:`planlang.explanation.explain` replays the exact engine
that every vector run holds (``run.exact``), so every bulk figure stays explainable.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping, Sequence
from fractions import Fraction

import attrs
import numpy as np

from .. import ops
from .. import syntax as s
from ..builtins import BUILTINS
from ..data import Dataset
from ..periods import Period
from ..plan import Plan
from ..scenario import BASELINE, Scenario
from ..source import Span
from ..values import Missing
from .exact import ExactRun
from .lower import relative_tolerance
from .totals import Total

__all__ = ["VectorRun", "Column", "LIMIT"]

# Every numerator and denominator of a column stays at most LIMIT in size, so that one addition
# of two of them cannot pass int64's 2**63 - 1.
LIMIT = 1 << 62
# Beyond int64, a column holds Python integers; a cell whose numbers pass this many bits is left to
# the exact engine, so that a product of two stays within ops.MAX_BITS as the exact engine requires.
BIG_BITS = 1400

SCALAR, NUM, BOOL, OBJ = "scalar", "num", "bool", "obj"


class Column:
    """One value for every organisation (a NumPy array over them), or one value for all (``SCALAR``).

    ``NUM``: ``num / den`` exactly, int64, with ``|num| <= bound`` and ``0 < den <= dbound`` in
    every cell, masked or not. ``BOOL``, ``OBJ``: ``num`` holds the values. ``SCALAR``: ``num`` is
    the exact engine's value itself (a Fraction, bool, date, text or Missing). Masks are None when
    no cell is masked.
    """

    __slots__ = ("kind", "num", "den", "bound", "dbound", "missing", "defer")

    def __init__(self, kind, num, den=1, bound=0, dbound=1, missing=None, defer=None):
        self.kind, self.num, self.den, self.bound, self.dbound = kind, num, den, bound, dbound
        self.missing, self.defer = missing, defer

    @classmethod
    def scalar(cls, value) -> "Column":
        return cls(SCALAR, value)

    @property
    def is_missing(self) -> bool:
        """Whether this is one missing value for every cell."""
        return self.kind == SCALAR and type(self.num) is Missing


def _or(*masks):
    found = None
    for mask in masks:
        if mask is not None:
            found = mask if found is None else found | mask
    return found


def _fits(value: int) -> bool:
    return -LIMIT <= value <= LIMIT


def _bound_of(array) -> int:
    return int(np.abs(array).max(initial=0)) if isinstance(array, np.ndarray) else abs(int(array))


def _number(value: Fraction) -> Column | None:
    """A scalar number as a NUM column, or None when it does not fit in int64."""
    if not (_fits(value.numerator) and value.denominator <= LIMIT):
        return None
    return Column(NUM, value.numerator, value.denominator, abs(value.numerator), value.denominator)


def _measured(column: Column) -> Column:
    """The column with its bounds measured from its cells, where the bounds carried can be loose."""
    if not isinstance(column.num, np.ndarray):
        return column
    dbound = column.dbound if type(column.den) is int else _bound_of(column.den)
    return Column(NUM, column.num, column.den, _bound_of(column.num), dbound, column.missing, column.defer)


def _over(column: Column, den: int) -> Column:
    """The column written over the denominator ``den``, a multiple of its own."""
    factor = den // column.den
    return Column(NUM, _scaled(column.num, factor), den, column.bound * factor, den, column.missing, column.defer)


def _big(column: Column) -> bool:
    """Whether a column holds Python integers (numbers too large for int64) rather than int64."""
    return any(isinstance(x, np.ndarray) and x.dtype == object for x in (column.num, column.den))


_bits = np.frompyfunc(int.bit_length, 1, 1)


def _scaled(num, factor: int):
    return num * factor if factor != 1 else num


def _cross_sizes(a: Column, b: Column) -> tuple[int, int]:
    """The largest numerator and denominator of ``a`` and ``b`` brought to a common denominator (adding, comparing)."""
    if type(a.den) is int and type(b.den) is int:
        den = math.lcm(a.den, b.den)
        return a.bound * (den // a.den) + b.bound * (den // b.den), den
    return a.bound * b.dbound + b.bound * a.dbound, a.dbound * b.dbound


def _reduced(column: Column) -> Column:
    """The column with the common factors of each cell's numerator and denominator cancelled."""
    if type(column.den) is int:
        g = math.gcd(column.den, int(np.gcd.reduce(column.num, axis=None))) if isinstance(column.num, np.ndarray) \
            else math.gcd(column.den, int(column.num))
        if g > 1:
            column = Column(NUM, column.num // g, column.den // g, column.bound // g, column.den // g,
                            column.missing, column.defer)
        return column
    g = np.gcd(column.num, column.den)
    num, den = column.num // g, column.den // g
    return Column(NUM, num, den, _bound_of(num), _bound_of(den), column.missing, column.defer)


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
        self._kinds = {name: type(decl) for name, decl in plan.declarations.items()}
        self._columns: dict[tuple[str, Period | None], Column] = {}
        self._free: dict[int, bool] = {}
        self._reads: dict[int, frozenset[str]] = {}
        self._exact_steps: dict[int, object] = {}
        self._positions: dict[tuple, tuple] = {}

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
        found = self._positions.get(codes)
        if found is None:
            kept = [code for code in codes if code in self.index]
            found = self._positions[codes] = (kept, np.array([self.index[code] for code in kept], dtype=np.intp))
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
            if not _masked_at(column, k, index):
                return _value_at(column, k, index)
        elif column.kind == SCALAR and not column.is_missing:
            return column.num
        return self.exact_step(k).value(name, entity, period)

    # ---- what Results and explanations read; explanations replay the exact run ----
    def value(self, name: str, entity: str | None, period: Period | None):
        kind = self._kinds[name]
        if kind not in (s.DefineDecl, s.FlagDecl):
            return self.exact.value(name, entity, period)
        column = self.column(name, period)
        if column.kind == SCALAR and type(column.num) is not Missing:
            return column.num
        index = self.index.get(entity) if entity is not None else None
        if column.kind == SCALAR or index is None or _masked_at(column, 0, index):
            return self.exact.value(name, entity, period)  # the reasons of a missing cell, or a deferred one
        return _value_at(column, 0, index)

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
                return self._per_step([self._step_parameter(step, name, period) for step in self.steps])
            return Column.scalar(self.exact.parameter(name, period))
        if kind is s.InputDecl:
            found = self._input(name, period)
        elif kind is s.DeadlineDecl:
            if name in self.stepped:
                return self._stack([self._cells(lambda code, k=k: self.exact_step(k).value(name, code, period))
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
        return self._stack([self._settle(step, name, period, found, k) for k, step in enumerate(self.steps)])

    def _settle(self, scenario: Scenario, name: str, period: Period | None, found: Column, k: int | None = None) -> Column:
        for setting in reversed(scenario.settings_for(name)):
            if not setting.covers(setting.entity, period):
                continue
            source = self if setting.formula else self.baseline
            value = source.ev(setting.value, period)
            if k is not None:
                value = _row(value, k)  # a new formula over many steps: this step's row
            if setting.entity is None:
                found = value
            elif setting.entity in self.index:
                where = np.zeros(self.size, dtype=bool)
                where[self.index[setting.entity]] = True
                found = self._select(where, value, found)
        return found

    def _input(self, name: str, period: Period | None) -> Column:
        """The data's values of an input in a period, the declared default where the data give none; for
        many steps with factors, each step's factors multiplying the data's values (not the default)."""
        found = self._data_input(name, period)
        if self.factors is None or self.baseline is not None or not any(name in f for f in self.factors):
            return found
        return self.multiply(found, self._factor_column(name, period))

    def _factor_column(self, name: str, period: Period | None) -> Column:
        """Each step's factor of each organisation's value: 1 where the step has none or the data has no value."""
        given = data_columns(self.dataset).get((name, period))
        absent = given.missing if given is not None and given.missing is not None else None
        rows = []
        for factors in self.factors:
            cells = factors.get(name, {})
            row = [cells.get((code, period), _ONE) for code in self.codes]
            if absent is not None:
                row = [_ONE if gone else x for x, gone in zip(row, absent)]
            rows.append(row)
        column = _numbers([x for row in rows for x in row], None)
        return _reshaped(column, (self.width, self.size))

    def _data_input(self, name: str, period: Period | None) -> Column:
        found = data_columns(self.dataset).get((name, period))
        default = self.exact._defaults.get(name)
        if found is None:
            return Column.scalar(default if default is not None else Missing.of("no_input"))
        if default is None or found.missing is None:
            return found
        return self._select(found.missing, Column.scalar(default),
                            Column(found.kind, found.num, found.den, found.bound, found.dbound, None, found.defer))

    def _cells(self, value_of) -> Column:
        """A column of the exact engine's values, one organisation at a time."""
        return _from_values([value_of(code) for code in self.codes])

    # ---- expressions ----
    def ev(self, node: s.Expr, period: Period | None) -> Column:
        stepped = not self.reads(node).isdisjoint(self.stepped)
        if self.free(node) and not stepped:
            return Column.scalar(self.exact.evaluate(node, None, period))
        method = getattr(self, "_v_" + type(node).__name__, None)
        found = method(node, period) if method is not None else None
        if found is not None:
            return found
        if not stepped:
            return self.lift(node, period)
        # what the steps change, with no vector form: each step's exact values
        if self.free(node):
            return self._per_step([self.exact_step(k).evaluate(node, None, period) for k in range(self.width)])
        return self._stack([self._cells(lambda code, k=k: self.exact_step(k).evaluate(node, code, period))
                            for k in range(self.width)])

    def lift(self, node: s.Expr, period: Period | None) -> Column:
        """The expression worked out by the exact engine for each organisation."""
        return self._cells(lambda code: self.exact.evaluate(node, code, period))

    def free(self, node: s.Expr) -> bool:
        """Whether the expression reads no organisation's values, so one value serves every organisation."""
        found = self._free.get(id(node))
        if found is None:
            found = self._free[id(node)] = _reads_no_entity(node)
        return found

    def reads(self, node: s.Expr) -> frozenset[str]:
        """The names an expression reads."""
        found = self._reads.get(id(node))
        if found is None:
            found = self._reads[id(node)] = frozenset(_names_read(node))
        return found

    def _v_Ref(self, node: s.Ref, period):
        alignment = node.alignment
        target = None if alignment.period is None else (
            period.within(alignment.granularity) if alignment.period == "containing" and period.kind != alignment.granularity
            else period)
        column = self.column(node.name, target)
        return self._of_system(column) if alignment.entity == "system" else column

    def _v_SystemRef(self, node: s.SystemRef, period):
        return self._v_Ref(node, period)

    def _of_system(self, column: Column) -> Column:
        """Each organisation's system's cell of ``column``; a system itself has no system, so the exact engine decides."""
        if column.kind == SCALAR:
            return column
        take = self.layout.parent

        def pick(mask):
            return None if mask is None else mask[..., take]

        den = column.den if type(column.den) is int else column.den[..., take]
        return Column(column.kind, column.num[..., take], den, column.bound, column.dbound, pick(column.missing),
                      _or(pick(column.defer), self.layout.orphan if self.layout.orphan.any() else None))

    def _v_Negate(self, node, period):
        x = self.ev(node.operand, period)
        if x.kind == SCALAR:
            return x if x.is_missing else Column.scalar(-x.num)
        if x.kind != NUM:
            return None
        return Column(NUM, -x.num, x.den, x.bound, x.dbound, x.missing, x.defer)

    def _v_Not(self, node, period):
        x = self.ev(node.operand, period)
        if x.kind == SCALAR:
            return x if x.is_missing else Column.scalar(not x.num)
        if x.kind != BOOL:
            return None
        return Column(BOOL, ~x.num, missing=x.missing, defer=x.defer)

    def _v_Binary(self, node: s.Binary, period):
        a, b = self.ev(node.left, period), self.ev(node.right, period)
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        if node.op == "/":
            return self.divide(a, b)
        sign = -1 if node.op == "-" else 1
        return self.multiply(a, b) if node.op == "*" else self.add(a, b, sign)

    def _v_Compare(self, node: s.Compare, period):
        a, b = self.ev(node.left, period), self.ev(node.right, period)
        return self.compare(node.op, a, b)

    def _v_Logical(self, node: s.Logical, period):
        a, b = self.ev(node.left, period), self.ev(node.right, period)
        return self.kleene(node.op == "or", a, b)

    def _v_If(self, node: s.If, period):
        condition = self.ev(node.condition, period)
        if condition.kind == SCALAR:
            if condition.is_missing:
                return condition
            return self.ev(node.then if condition.num else node.otherwise, period)
        if condition.kind != BOOL:
            return None
        then, otherwise = self.ev(node.then, period), self.ev(node.otherwise, period)
        found = self._select(condition.num, then, otherwise)
        if found is None:
            return None
        return self._masked(found, condition.missing, condition.defer)

    def _v_Within(self, node: s.Within, period):
        value, tolerance, reference = (self.ev(x, period) for x in (node.value, node.tolerance, node.reference))
        difference = self.add(value, reference, -1)
        limit = self.multiply(tolerance, self.absolute(reference)) if relative_tolerance(node.tolerance.type) \
            else tolerance
        return self.compare("<=", self.absolute(difference), limit)

    def _v_Bands(self, node: s.Bands, period):
        amount = self.ev(node.amount, period)
        limits = [self.ev(b.upper, period) for b in node.bands]
        rates = [self.ev(b.rate, period) for b in node.bands] + [self.ev(node.top_rate, period)]
        parts = [amount, *limits, *rates]
        if any(x.is_missing for x in parts):
            return Column.scalar(ops.merge_missing(*(x.num for x in parts)))
        zero = Column.scalar(Fraction(0))
        disorder = None
        for k in range(1, len(limits)):
            disorder = self.kleene(True, disorder, self.compare("<", limits[k], limits[k - 1])) if disorder is not None \
                else self.compare("<", limits[k], limits[k - 1])
        lower = self.extreme(min, limits[0], zero) if limits else zero
        total = zero
        for upper, rate in zip(limits, rates):
            portion = self.extreme(max, self.add(self.extreme(min, amount, upper), lower, -1), zero)
            total = self.add(total, self.multiply(portion, rate), 1)
            lower = self.extreme(max, lower, upper)
        total = self.add(total, self.multiply(self.extreme(max, self.add(amount, lower, -1), zero), rates[-1]), 1)
        if disorder is None:
            return total
        return self._missing_where(total, disorder)

    def _v_Taper(self, node: s.Taper, period):
        base, shortfall, rate = (self.ev(x, period) for x in (node.base, node.shortfall, node.rate))
        value = self.add(base, self.multiply(rate, self.extreme(max, Column.scalar(Fraction(0)), shortfall)), -1)
        if node.floor is not None:
            value = self.extreme(max, value, self.ev(node.floor, period))
        if node.cap is not None:
            value = self.extreme(min, value, self.ev(node.cap, period))
        return value

    def _v_Call(self, node: s.Call, period):
        if any(a.over for a in node.args):
            return self._aggregate(node, period)
        name = node.name
        if name in ("min", "max"):
            values = [self.ev(a.value, period) for a in node.args]
            found = values[0]
            for other in values[1:]:
                found = self.extreme(min if name == "min" else max, found, other)
            return found
        if name == "abs":
            return self.absolute(self.ev(node.args[0].value, period))
        if name == "round":
            return self.round(self.ev(node.args[0].value, period), node.args[1].value.value, node.args[2].value.name)
        if name == "variance":
            value, reference = (self.ev(a.value, period) for a in node.args)
            return self.divide(self.add(value, reference, -1), reference)
        if name == "any_error_flag":
            return self._any_error_flag(node, period)
        if name == "present":
            x = self.ev(node.args[0].value, period)
            if x.kind == SCALAR:
                return Column.scalar(not x.is_missing)
            return Column(BOOL, ~x.missing if x.missing is not None else np.ones(self.size, dtype=bool), defer=x.defer)
        return None  # dates, periods, any_error_flag: lifted

    # ---- operations on columns; each returns None when it has no vector form (the node is then lifted) ----
    def add(self, a: Column | None, b: Column | None, sign: int) -> Column | None:
        if a is None or b is None:
            return None
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        if a.kind == SCALAR and b.kind == SCALAR:
            return Column.scalar(a.num + sign * b.num) if type(a.num) is Fraction and type(b.num) is Fraction else None
        pair = self._fitted(a, b, _cross_sizes)
        if pair is None:
            return None  # not numbers: no vector form
        a, b = pair
        masks = _or(a.missing, b.missing), _or(a.defer, b.defer)
        if type(a.den) is int and type(b.den) is int:
            den = math.lcm(a.den, b.den)
            ka, kb = den // a.den, den // b.den
            num = _scaled(a.num, ka) + _scaled(b.num, kb) * sign
            return Column(NUM, num, den, a.bound * ka + b.bound * kb, den, *masks)
        return Column(NUM, a.num * b.den + sign * b.num * a.den, a.den * b.den, a.bound * b.dbound + b.bound * a.dbound,
                      a.dbound * b.dbound, *masks)

    def multiply(self, a: Column | None, b: Column | None) -> Column | None:
        if a is None or b is None:
            return None
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        if a.kind == SCALAR and b.kind == SCALAR:
            return Column.scalar(a.num * b.num) if type(a.num) is Fraction and type(b.num) is Fraction else None
        pair = self._fitted(a, b, lambda a, b: (a.bound * b.bound, a.dbound * b.dbound))
        if pair is None:
            return None  # not numbers: no vector form
        a, b = pair
        return Column(NUM, a.num * b.num, a.den * b.den, a.bound * b.bound, a.dbound * b.dbound,
                      _or(a.missing, b.missing), _or(a.defer, b.defer))

    def divide(self, a: Column | None, b: Column | None) -> Column | None:
        if a is None or b is None:
            return None
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        if a.kind == SCALAR and b.kind == SCALAR:
            return Column.scalar(ops.divide(a.num, b.num, ""))  # a missing result is asked of the exact engine
        if b.kind == SCALAR:
            if type(b.num) is not Fraction:
                return None
            if b.num == 0:
                return Column.scalar(ops.divide(Fraction(0), b.num, ""))
            return self.multiply(a, Column.scalar(1 / b.num))
        pair = self._fitted(a, b, lambda a, b: (a.bound * b.dbound, b.bound * a.dbound))
        if pair is None:
            return None  # not numbers: no vector form
        a, b = pair
        masks = _or(a.missing, b.missing), _or(a.defer, b.defer)
        num, den = a.num * b.den, b.num * a.den
        negative, zero = den < 0, den == 0
        if negative.any():
            num, den = np.where(negative, -num, num), np.where(negative, -den, den)
        if zero.any():  # division by zero: missing, the reason asked of the exact engine
            num, den = np.where(zero, 0, num), np.where(zero, 1, den)
            masks = _or(masks[0], zero), masks[1]
        return Column(NUM, num, den, a.bound * b.dbound, max(b.bound * a.dbound, 1), *masks)

    def absolute(self, x: Column) -> Column | None:
        if x is None:
            return None
        if x.kind == SCALAR:
            return x if x.is_missing or type(x.num) is not Fraction else Column.scalar(abs(x.num))
        if x.kind != NUM:
            return None
        return Column(NUM, np.abs(x.num), x.den, x.bound, x.dbound, x.missing, x.defer)

    def compare(self, op: str, a: Column, b: Column) -> Column | None:
        if a is None or b is None:
            return None
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        if a.kind == SCALAR and b.kind == SCALAR:
            return Column.scalar(ops.COMPARISONS[op](a.num, b.num))
        masks = _or(a.missing, b.missing), _or(a.defer, b.defer)
        pair = self._fitted(a, b, _cross_sizes) if a.kind in (NUM, SCALAR) and b.kind in (NUM, SCALAR) else None
        if pair is not None:
            a, b = pair
            if type(a.den) is int and type(b.den) is int:
                den = math.lcm(a.den, b.den)
                x, y = _scaled(a.num, den // a.den), _scaled(b.num, den // b.den)
            else:
                x, y = a.num * b.den, b.num * a.den
        elif op in ("==", "!=") and {a.kind, b.kind} <= {OBJ, SCALAR, BOOL} and a.kind != NUM and b.kind != NUM:
            x, y = a.num, b.num
        else:
            return None
        result = np.asarray(ops.COMPARISONS[op](x, y), dtype=bool)
        return Column(BOOL, np.broadcast_to(result, (self.size,)) if result.ndim == 0 else result, missing=masks[0],
                      defer=masks[1])

    def kleene(self, decisive: bool, a: Column | None, b: Column | None) -> Column | None:
        """``or`` (``decisive`` true) or ``and`` (false): the decisive value wins over missing and deferred cells."""
        if a is None or b is None:
            return None
        if a.kind == SCALAR and b.kind == SCALAR:
            if a.num is decisive or b.num is decisive:
                return Column.scalar(decisive)
            if a.is_missing or b.is_missing:
                return Column.scalar(ops.merge_missing(a.num, b.num))
            return Column.scalar(not decisive)
        parts = []
        for x in (a, b):
            if x.kind == SCALAR:
                if x.num is decisive:
                    return Column.scalar(decisive)
                if x.num is (not decisive):
                    parts.append((np.bool_(not decisive), _NO, _NO))
                    continue
                if not x.is_missing:
                    return None
                parts.append((np.bool_(not decisive), np.True_, _NO))
            elif x.kind == BOOL:
                parts.append((x.num, _NO if x.missing is None else x.missing, _NO if x.defer is None else x.defer))
            else:
                return None
        (va, ma, da), (vb, mb, db) = parts
        wins = ((va == decisive) & ~ma & ~da) | ((vb == decisive) & ~mb & ~db)
        defer = ~wins & (da | db)
        missing = ~wins & ~defer & (ma | mb)
        return Column(BOOL, np.asarray(wins if decisive else ~wins), missing=_mask(missing), defer=_mask(defer))

    def extreme(self, pick, a: Column | None, b: Column | None) -> Column | None:
        """``min`` or ``max`` of two columns."""
        if a is None or b is None:
            return None
        if a.kind == SCALAR and b.kind == SCALAR:
            if a.is_missing or b.is_missing:
                return Column.scalar(ops.merge_missing(a.num, b.num))
            return Column.scalar(pick(a.num, b.num))
        if a.is_missing or b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        pair = self._numeric(a, b)
        if pair is not None and type(pair[0].den) is int and type(pair[1].den) is int:
            # one denominator for both: the smaller or larger numerator is the answer, in one pass
            pair = self._fitted(a, b, _cross_sizes)
            if pair is None:
                return None  # not numbers: no vector form
            a, b = pair
            den = math.lcm(a.den, b.den)
            num = (np.minimum if pick is min else np.maximum)(_scaled(a.num, den // a.den), _scaled(b.num, den // b.den))
            return Column(NUM, num, den, max(a.bound * (den // a.den), b.bound * (den // b.den)), den,
                          _or(a.missing, b.missing), _or(a.defer, b.defer))
        first = self.compare("<=" if pick is min else ">=", a, b)
        if first is None or first.kind != BOOL:
            return first if first is not None and first.is_missing else None
        return self._masked(self._select(first.num, a, b), first.missing, first.defer)

    def round(self, x: Column, step: Fraction, mode: str) -> Column | None:
        if x.kind == SCALAR:
            return x if x.is_missing else Column.scalar(BUILTINS["round"].implementation([x.num, step], "", mode=mode))
        # the units of step: num * q / (den * p), rounded to a whole number with the mode
        p, q = step.numerator, step.denominator
        pair = self._fitted(x, Column.scalar(step), lambda a, b: (a.bound * q, a.dbound * p * 2))
        if pair is None:
            return None
        x = pair[0]
        top, bottom = x.num * q, x.den * p
        size = np.abs(top)
        whole, rest = size // bottom, size % bottom
        twice = rest * 2
        if mode == "half_up":
            whole = whole + (twice >= bottom)
        elif mode == "half_down":
            whole = whole + (twice > bottom)
        elif mode == "half_even":
            whole = whole + ((twice > bottom) | ((twice == bottom) & (whole % 2 == 1)))
        elif mode == "away_from_zero":
            whole = whole + (rest > 0)
        units = np.where(top < 0, -whole, whole)
        bound = (x.bound * q // max(1, int(np.min(bottom)) if isinstance(bottom, np.ndarray) else bottom) + 1) * p
        if bound > LIMIT and isinstance(units, np.ndarray):
            units = units.astype(object)  # the rounded figure in Python integers: int64 cannot hold it
        return Column(NUM, units * p, q, bound, q, x.missing, x.defer)

    def _any_error_flag(self, node: s.Call, period):
        """Whether any error flag of the organisation's kind is raised in the period, or a period within it."""
        found = Column.scalar(False)
        for name in node.flags:
            counted = np.isin(self.layout.kind_of, list(self.program.declarations[name].kinds))
            for part in self.exact.flag_periods(name, period):
                flag = self.column(name, part)
                if flag.kind == SCALAR:
                    flag = self._full(flag, Column.scalar(False))
                if flag is None or flag.kind != BOOL:
                    return None
                # a flag that does not apply to the organisation's kind counts as not raised
                found = self.kleene(True, found, Column(BOOL, flag.num & counted,
                                                        missing=None if flag.missing is None else flag.missing & counted,
                                                        defer=None if flag.defer is None else flag.defer & counted))
        return found

    # ---- aggregates ----
    def _aggregate(self, node: s.Call, period):
        arg = node.args[0]
        reduce = node.name
        if arg.over == "members":
            return self._over_members(reduce, self.ev(arg.value, period), tuple(sorted(node.member_kinds)))
        parts = period.parts({"months": "month", "quarters": "quarter"}[arg.over])
        if not parts:
            return None
        values = [self.ev(arg.value, p) for p in parts]
        if reduce == "count":
            values = [self._as_count(v) for v in values]
        found = values[0]
        for other in values[1:]:
            if found is None or other is None:
                return None
            if reduce in ("sum", "count"):
                found = self.add(found, other, 1)
            elif reduce in ("min", "max"):
                found = self.extreme(min if reduce == "min" else max, found, other)
            else:
                found = self.kleene(reduce == "any", found, other)
        return found

    def _as_count(self, x: Column) -> Column | None:
        """A condition as the number it adds to a count: 1 when true."""
        if x.kind == SCALAR:
            return x if x.is_missing else Column.scalar(Fraction(1 if x.num else 0))
        if x.kind != BOOL:
            return None
        return Column(NUM, x.num.astype(np.int64), 1, 1, 1, x.missing, x.defer)

    def _over_members(self, reduce: str, inner: Column, kinds: tuple[str, ...]) -> Column | None:
        order, starts, systems, largest = self.layout.groups(kinds)
        if not len(order):
            return Column.scalar(Missing.of("no_members"))  # no organisation has members of these kinds
        none = np.ones(self.size, dtype=bool)
        none[systems] = False  # organisations with no members of these kinds: missing (no_members)
        if inner.kind == SCALAR:
            if inner.is_missing:
                return inner  # missing for every member, and for an organisation with none
            inner = self._broadcast(inner)
            if inner is None:
                return None
        if reduce == "count":
            inner = self._as_count(inner)
            if inner is None:
                return None

        def grouped(array, ufunc, fill):
            out = np.full(array.shape[:-1] + (self.size,), fill, dtype=array.dtype)
            out[..., systems] = ufunc.reduceat(array[..., order], starts, axis=-1)
            return out

        def gathered(mask):
            return None if mask is None else grouped(mask, np.logical_or, False)

        missing, defer = gathered(inner.missing), gathered(inner.defer)
        if reduce in ("any", "all"):
            if inner.kind != BOOL:
                return None
            decisive = reduce == "any"
            known = inner.num == decisive
            if inner.missing is not None:
                known &= ~inner.missing
            if inner.defer is not None:
                known &= ~inner.defer
            wins = grouped(known, np.logical_or, False)
            defer = None if defer is None else defer & ~wins
            missing = None if missing is None else missing & ~wins & (~defer if defer is not None else True)
            value = wins if decisive else ~wins
            return Column(BOOL, value, missing=_or(missing, none if none.any() else None), defer=defer)
        if inner.kind != NUM:
            return None
        inner = self._common_den(inner)
        if inner is None:
            return None
        if reduce in ("sum", "count"):
            bound = inner.bound * max(largest, 1)
            if bound > LIMIT and not _big(inner):
                inner = self._as_big([inner])[0]  # the sums in Python integers: int64 cannot hold them
            num = grouped(inner.num, np.add, 0)
        else:
            bound = inner.bound
            num = grouped(inner.num, np.minimum if reduce == "min" else np.maximum, 0)
        return Column(NUM, num, inner.den, bound, inner.den, _or(missing, none if none.any() else None), defer)

    def _common_den(self, x: Column) -> Column | None:
        """The column with one denominator for every cell, when one fits."""
        if type(x.den) is int:
            return x
        dens = [int(d) for d in np.unique(x.den)]
        den = 1
        for d in dens:
            den = math.lcm(den, d)
            if den.bit_length() > BIG_BITS:
                return None
        scale = den // x.den
        bound = x.bound * int(scale.max(initial=1))
        if bound > LIMIT or _big(x):
            x, scale = self._as_big([x])[0], scale.astype(object)
        return Column(NUM, x.num * scale, den, bound, den, x.missing, x.defer)

    # ---- helpers ----
    def _numeric(self, a: Column, b: Column):
        """Both columns as NUM (a scalar number made one), or None when either is not a number."""
        out = []
        for x in (a, b):
            if x.kind == SCALAR:
                if type(x.num) is not Fraction:
                    return None
                x = _number(x.num)
                if x is None:
                    return None
            elif x.kind != NUM:
                return None
            out.append(x)
        return out

    def _fitted(self, a: Column, b: Column, sizes):
        """Both as NUM columns whose ``sizes(a, b)`` (the largest numerator and denominator the operation can
        make) fit in int64: as they are, else with their bounds measured from their cells, else with common
        factors cancelled; else both as columns of Python integers (:meth:`_as_big`). None when either is not
        a number."""
        pair = self._numeric(a, b)
        if pair is None:
            return None
        if not any(map(_big, pair)):
            for step in (None, _measured, _reduced):
                if step is not None:
                    pair = [step(x) for x in pair]
                if max(sizes(*pair)) <= LIMIT:
                    return pair
        return self._as_big(pair)

    def _as_big(self, pair: list[Column]) -> list[Column]:
        """The columns with Python integers in place of int64 (slower, never too small). A cell whose numbers
        pass :data:`BIG_BITS` bits is deferred, so that what one operation makes of two stays below the exact
        engine's limit on a number (ops.MAX_BITS): that cell is then the exact engine's to work out."""
        out = []
        for x in pair:
            num = x.num.astype(object) if isinstance(x.num, np.ndarray) else x.num
            den = x.den.astype(object) if isinstance(x.den, np.ndarray) else x.den
            out.append(Column(NUM, num, den, x.bound, x.dbound, x.missing, x.defer))
        too_big = None
        for x in out:
            for part in (x.num, x.den):
                if isinstance(part, np.ndarray) and max(x.bound, x.dbound) >= 1 << BIG_BITS:
                    found = _bits(np.abs(part)) > BIG_BITS
                    too_big = found if too_big is None else too_big | found
        if too_big is not None and too_big.any():
            out = [Column(NUM, np.where(too_big, 0, x.num) if isinstance(x.num, np.ndarray) else x.num,
                          np.where(too_big, 1, x.den) if isinstance(x.den, np.ndarray) else x.den, x.bound, x.dbound,
                          x.missing, _or(x.defer, too_big)) for x in out]
        return out

    def _deferred(self, missing, kind=NUM) -> Column:
        """Every cell left to the exact engine (except those known missing): int64 cannot hold the result."""
        zeros = np.zeros(self.size, dtype=np.int64 if kind == NUM else bool)
        return Column(kind, zeros, 1, 0, 1, missing, np.ones(self.size, dtype=bool))

    def _broadcast(self, x: Column) -> Column | None:
        """A scalar as a column with the same value in every cell."""
        if type(x.num) is bool:
            return Column(BOOL, np.full(self.size, x.num, dtype=bool))
        if type(x.num) is Fraction:
            number = _number(x.num)
            if number is None:
                return None
            return Column(NUM, np.full(self.size, number.num, dtype=np.int64), number.den, number.bound, number.dbound)
        return Column(OBJ, np.array([x.num] * self.size, dtype=object))

    def _select(self, where, a: Column | None, b: Column | None) -> Column | None:
        """``a`` where ``where`` is true, else ``b``, masks included."""
        if a is None or b is None:
            return None
        if a.is_missing and b.is_missing:
            return Column.scalar(ops.merge_missing(a.num, b.num))
        a, b = self._full(a, b), self._full(b, a)
        if a is None or b is None or a.kind != b.kind:
            return None

        def pick(x, y):
            if x is None and y is None:
                return None
            return np.where(where, _NO if x is None else x, _NO if y is None else y)

        missing, defer = pick(a.missing, b.missing), pick(a.defer, b.defer)
        if a.kind != NUM:
            return Column(a.kind, np.where(where, a.num, b.num), missing=missing, defer=defer)
        if type(a.den) is int and type(b.den) is int and a.den != b.den:
            # one denominator for both, so that the column keeps one (cheaper than one per cell)
            den = math.lcm(a.den, b.den)
            if den <= LIMIT and a.bound * (den // a.den) <= LIMIT and b.bound * (den // b.den) <= LIMIT:
                a, b = _over(a, den), _over(b, den)
        den = a.den if type(a.den) is int and type(b.den) is int and a.den == b.den else np.where(where, a.den, b.den)
        return Column(NUM, np.where(where, a.num, b.num), den, max(a.bound, b.bound), max(a.dbound, b.dbound), missing, defer)

    def _full(self, x: Column, other: Column) -> Column | None:
        """``x`` as a column over every organisation: a scalar repeated, one missing value a blank all missing."""
        if x.kind != SCALAR:
            return x
        if not x.is_missing:
            return self._broadcast(x)
        like = other if other.kind != SCALAR else self._broadcast(other)
        if like is None:
            return None
        blank = self._blank(like)
        return Column(blank.kind, blank.num, blank.den, blank.bound, blank.dbound, np.ones(self.size, dtype=bool))

    def _per_step(self, values: list) -> Column:
        """One exact value per step, as a column over steps that every organisation shares."""
        if all(type(v) is type(values[0]) and v == values[0] for v in values):
            return Column.scalar(values[0])
        return _reshaped(_from_values(values), (self.width, 1))

    def _stack(self, columns: list[Column]) -> Column:
        """One column per step, stacked along the steps' axis."""
        first = columns[0]
        if all(c.kind == SCALAR and type(c.num) is type(first.num) and c.num == first.num for c in columns):
            return first
        like = next((c for c in columns if c.kind != SCALAR), None) or \
            self._broadcast(next((c for c in columns if not c.is_missing), first))
        full = [self._full(c, like) for c in columns]
        if any(c is None or c.kind != like.kind for c in full):
            return self._deferred(None, like.kind if like.kind != OBJ else NUM)
        shape = (self.size,)
        if like.kind == NUM and all(type(c.den) is int for c in full):
            den = 1
            for c in full:
                den = math.lcm(den, c.den)
            if den > LIMIT or any(c.bound * (den // c.den) > LIMIT for c in full):
                return self._deferred(None)
            full = [_over(c, den) for c in full]
        nums = np.stack([np.broadcast_to(c.num, shape) for c in full])
        masks = []
        for part in ("missing", "defer"):
            found = [getattr(c, part) for c in full]
            masks.append(None if all(m is None for m in found) else
                         np.stack([np.broadcast_to(m if m is not None else _NO, shape) for m in found]))
        if like.kind != NUM:
            return Column(like.kind, nums, missing=masks[0], defer=masks[1])
        den = full[0].den if type(full[0].den) is int else np.stack([np.broadcast_to(c.den, shape) for c in full])
        return Column(NUM, nums, den, max(c.bound for c in full), max(c.dbound for c in full), *masks)

    def _blank(self, like: Column) -> Column:
        if like.kind == NUM:
            return Column(NUM, np.zeros(self.size, dtype=np.int64), like.den if type(like.den) is int else 1, 0,
                          like.den if type(like.den) is int else 1)
        if like.kind == BOOL:
            return Column(BOOL, np.zeros(self.size, dtype=bool))
        return Column(OBJ, np.full(self.size, None, dtype=object))

    def _masked(self, x: Column | None, missing, defer) -> Column | None:
        """``x`` with more cells masked (the masks of a condition that decided it)."""
        if x is None:
            return None
        return Column(x.kind, x.num, x.den, x.bound, x.dbound, _or(x.missing, missing), _or(x.defer, defer))

    def _missing_where(self, x: Column | None, condition: Column | None) -> Column | None:
        """``x`` missing in the cells where ``condition`` (bands whose thresholds are out of order) holds."""
        if x is None or condition is None:
            return None
        if condition.kind == SCALAR:
            return x if condition.num is False else Column.scalar(Missing.of("thresholds_out_of_order")) \
                if condition.num is True else condition
        if x.kind == SCALAR:
            x = self._broadcast(x) if not x.is_missing else x
            if x is None or x.is_missing:
                return x
        bad = condition.num
        if condition.missing is not None:
            bad = bad & ~condition.missing
        return self._masked(x, _or(bad if bad.any() else None, condition.missing), condition.defer)


def _from_values(values: list) -> Column:
    """A column holding exact values (Fractions, bools, text, dates; Missing or _ABSENT where none)."""
    present = [v for v in values if v is not _ABSENT and type(v) is not Missing]
    missing = np.array([v is _ABSENT or type(v) is Missing for v in values], dtype=bool)
    if not present:
        first = next((v for v in values if type(v) is Missing), None)
        return Column.scalar(first if first is not None else Missing.of("no_input"))
    mask = missing if missing.any() else None
    if all(type(v) is bool for v in present):
        return Column(BOOL, np.array([v is True for v in values], dtype=bool), missing=mask)
    if all(type(v) is Fraction for v in present):
        return _numbers(values, mask)
    return Column(OBJ, np.array([None if v is _ABSENT or type(v) is Missing else v for v in values], dtype=object),
                  missing=mask)

def _numbers(values: list, missing) -> Column:
    den = 1
    for v in values:
        if type(v) is Fraction and den % v.denominator:
            den = math.lcm(den, v.denominator)
            if den > LIMIT:
                break
    if den <= LIMIT:
        nums = [v.numerator * (den // v.denominator) if type(v) is Fraction else 0 for v in values]
        dens = None
    else:  # no common denominator fits: one per cell
        nums = [v.numerator if type(v) is Fraction else 0 for v in values]
        dens = [v.denominator if type(v) is Fraction else 1 for v in values]
    defer = [not _fits(n) or (dens is not None and d > LIMIT) for n, d in zip(nums, dens or [1] * len(nums))]
    if any(defer):
        nums = [0 if d else n for n, d in zip(nums, defer)]
        dens = [1 if d else x for x, d in zip(dens, defer)] if dens is not None else None
    num = np.array(nums, dtype=np.int64)
    column = Column(NUM, num, den if dens is None else np.array(dens, dtype=np.int64), _bound_of(num),
                    den if dens is None else max(dens), missing, np.array(defer) if any(defer) else None)
    return column


class Layout:
    """Where each organisation of a dataset sits in a column, and who belongs to whom: made once per dataset."""

    def __init__(self, dataset: Dataset):
        self.organisations = dataset.organisations
        self.codes = list(dataset.organisations)
        self.index = {code: i for i, code in enumerate(self.codes)}
        self.size = len(self.codes)
        self.kind_of = np.array([org.kind for org in self.organisations.values()], dtype=object)
        systems = [org.system for org in self.organisations.values()]
        self.parent = np.array([self.index.get(x, 0) if x is not None else 0 for x in systems], dtype=np.intp)
        self.orphan = np.array([x is None for x in systems], dtype=bool)  # systems themselves: no system of their own
        self._grouped: dict[tuple[str, ...], tuple] = {}

    def groups(self, kinds: tuple[str, ...]):
        """(order, starts, systems): the members of these kinds sorted by system, where each system's run
        starts, and which organisation each run belongs to; and the largest number of members of one."""
        found = self._grouped.get(kinds)
        if found is None:
            organisations = self.organisations
            pairs = sorted((self.index[org.system], i) for i, org in enumerate(organisations.values())
                           if org.system is not None and org.kind in kinds and org.system in self.index)
            order = np.array([i for _, i in pairs], dtype=np.intp)
            owners = np.array([system for system, _ in pairs], dtype=np.intp)
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(pairs) else np.array([], dtype=np.intp)
            systems = owners[starts] if len(pairs) else owners
            largest = int(np.diff(np.r_[starts, len(pairs)]).max(initial=0)) if len(pairs) else 0
            found = self._grouped[kinds] = (order, starts, systems, largest)
        return found


_ABSENT = object()  # no value in the data and no default
_DATA_COLUMNS: "weakref.WeakKeyDictionary[Dataset, dict]" = weakref.WeakKeyDictionary()


_LAYOUTS: "weakref.WeakKeyDictionary[Dataset, Layout]" = weakref.WeakKeyDictionary()


def layout_of(dataset: Dataset) -> Layout:
    found = _LAYOUTS.get(dataset)
    if found is None:
        found = _LAYOUTS[dataset] = Layout(dataset)
    return found


def data_columns(dataset: Dataset) -> dict[tuple[str, Period | None], Column]:
    """The data's values as columns by (input, period), missing where the data give none; made once per dataset
    and shared by every run over it (a sweep's steps, a scenario and its baseline)."""
    found = _DATA_COLUMNS.get(dataset)
    if found is None:
        by_input: dict[tuple, dict] = {}
        for (name, code, period), value in dataset.values.items():
            by_input.setdefault((name, period), {})[code] = value
        codes = layout_of(dataset).codes
        found = _DATA_COLUMNS[dataset] = {key: _from_values([table.get(code, _ABSENT) for code in codes])
                                          for key, table in by_input.items()}
    return found
_NO = np.False_
_ONE = Fraction(1)


def _reshaped(column: Column, shape: tuple) -> Column:
    def fit(x):
        return x.reshape(shape) if isinstance(x, np.ndarray) else x

    if column.kind == SCALAR:
        return column
    return Column(column.kind, fit(column.num), fit(column.den), column.bound, column.dbound, fit(column.missing),
                  fit(column.defer))


def _row(column: Column, k: int) -> Column:
    """Step ``k``'s part of a column over many steps (a column over one step is its own row)."""
    if column.kind == SCALAR or np.ndim(column.num) < 2:
        return column

    def take(x):
        return x[k] if isinstance(x, np.ndarray) and x.ndim == 2 else x

    return Column(column.kind, take(column.num), take(column.den), column.bound, column.dbound, take(column.missing),
                  take(column.defer))


def _at(x, k: int, index: int):
    """Step ``k``'s entry for an organisation of an array over organisations, over steps (one row
    per step, or one column every organisation shares), or of a scalar."""
    if not isinstance(x, np.ndarray):
        return x
    if x.ndim == 2:
        return x[k if x.shape[0] > 1 else 0, index if x.shape[1] > 1 else 0]
    return x[index if x.shape[0] > 1 else 0]


def _masked_at(column: Column, k: int, index: int) -> bool:
    """Whether step ``k``'s cell of an organisation is missing or deferred (``k`` 0 for a run of one step)."""
    return any(m is not None and bool(_at(m, k, index)) for m in (column.missing, column.defer))


def _value_at(column: Column, k: int, index: int):
    """The exact value of step ``k``'s cell of an organisation (not masked)."""
    if column.kind == NUM:
        return Fraction(int(_at(column.num, k, index)), int(_at(column.den, k, index)))
    if column.kind == BOOL:
        return bool(_at(column.num, k, index))
    return _at(column.num, k, index)


def _names_read(node) -> set[str]:
    found = set()
    if isinstance(node, (s.Ref, s.SystemRef)):
        found.add(node.name)
    if isinstance(node, s.Call):
        found.update(node.flags)
    for field in attrs.fields(type(node)):
        value = getattr(node, field.name)
        for child in value if isinstance(value, tuple) else (value,):
            if attrs.has(type(child)) and not isinstance(child, (Span, s.Alignment)):
                found |= _names_read(child)
    return found


def with_factors(dataset: Dataset, factors: Mapping) -> Dataset:
    """The dataset with each factored input value multiplied by its factor; origins and organisations kept.

    ``factors`` maps an input to ``{(entity, period): factor}``; a cell the data has no value for is
    left as it is (missing stays missing, a declared default stays the default).
    """
    values = dict(dataset.values)
    for name, cells in factors.items():
        for (entity, period), factor in cells.items():
            key = (name, entity, period)
            value = values.get(key)
            if type(value) is Fraction:
                values[key] = value * factor
    return attrs.evolve(dataset, values=values)


def _mask(mask):
    return mask if mask.any() else None


def _reads_no_entity(node: s.Expr) -> bool:
    """Whether an expression's value is the same for every organisation (it reads nothing per organisation)."""
    match node:
        case s.Ref(alignment=a) | s.SystemRef(alignment=a):
            return a is None or a.entity is None
        case s.Call(name=name, args=args):
            if name == "any_error_flag" or any(arg.over == "members" for arg in args):
                return False
            return all(_reads_no_entity(arg.value) for arg in args)
    for field in ("operand", "left", "right", "value", "tolerance", "reference", "condition", "then", "otherwise",
                  "amount", "top_rate", "base", "shortfall", "rate", "floor", "cap", "count"):
        child = getattr(node, field, None)
        if isinstance(child, s.Expr) and not _reads_no_entity(child):
            return False
    for band in getattr(node, "bands", ()):
        if not (_reads_no_entity(band.upper) and _reads_no_entity(band.rate)):
            return False
    return True


# ---- many steps of a sweep (planlang.bulk's "vector" backend) ----

# organisations x steps held in one column at once: a sweep's steps go through in chunks this size,
# so memory stays bounded however many steps there are
CHUNK_CELLS = 1 << 18


def vector_steps(plan: Plan, dataset: Dataset, steps, outputs: Sequence[str], *, chunk_cells: int = CHUNK_CELLS):
    """Each step's results for ``outputs`` (see :func:`planlang.bulk.step_results`), worked out a chunk of
    steps at a time along the steps' axis; steps with factors and the same scenario share a chunk."""
    baseline = _baseline_of(plan, dataset)
    width = max(1, chunk_cells // max(1, baseline.run.size))
    steps = list(steps)
    start = 0
    while start < len(steps):
        chunk = steps[start:start + width]
        if any(step.factors for step in chunk):
            settings = chunk[0].scenario.settings
            chunk = chunk[:next((k for k, step in enumerate(chunk) if step.scenario.settings != settings), len(chunk))]
            batch = VectorRun(plan, dataset, factors=[step.factors for step in chunk])
            if settings:
                batch = VectorRun(plan, dataset, chunk[0].scenario, baseline=batch)
        else:
            batch = VectorRun(plan, dataset, baseline=baseline.run, steps=[step.scenario for step in chunk])
        for k, step in enumerate(chunk):
            yield StepView(step, batch, k, outputs, baseline.scope)
        start += len(chunk)


_BASELINES: "weakref.WeakKeyDictionary[Dataset, tuple]" = weakref.WeakKeyDictionary()


def _baseline_of(plan: Plan, dataset: Dataset):
    """The plain vector run of the plan over the dataset, made once and shared by every chunk of steps
    over them (a Dask worker evaluates many chunks of one sweep)."""
    from .backends import run  # the dispatcher imports this module: the vector-steps code moves out of it (issue 17)

    found = _BASELINES.get(dataset)
    if found is None or found[0] is not plan:
        found = _BASELINES[dataset] = (plan, run(plan, dataset, backend="vector"))
    return found[1]


class StepView:
    """One step of a run of many steps: its cells and totals, read from the run's columns."""

    def __init__(self, step, batch: VectorRun, k: int, outputs: Sequence[str], scope):
        self.step, self.batch, self.k, self.outputs, self.scope = step, batch, k, tuple(outputs), scope

    def cells(self, output: str) -> list:
        return [(key, self.batch.value_at(self.k, output, *key)) for key in self.scope[output]]

    @property
    def by_output(self) -> dict:
        """Every asked output's cells, as :class:`planlang.bulk.StepResult` holds them."""
        return {name: self.cells(name) for name in self.outputs}

    def total(self, output: str):
        """The output's :class:`~planlang.totals.Total` over its cells, summed as integers column by column."""
        batch, k = self.batch, self.k
        cells = self.scope[output]
        codes, where = batch.positions(cells.entities)
        present, missing, count = Fraction(0), 0, len(cells)
        for period in cells.periods:
            column = _row(batch.column(output, period), k)
            if column.kind == SCALAR or len(codes) != len(cells.entities):
                values = [batch.value_at(k, output, code, period) for code in cells.entities]
                numbers = [v for v in values if type(v) is Fraction]
                present += sum(numbers, Fraction(0))
                missing += len(values) - len(numbers)
                continue
            if column.kind != NUM:
                missing += len(codes)  # a total counts only numbers
                continue
            def part(x):
                return np.broadcast_to(x, (batch.size,))[where]

            gone = part(column.missing) if column.missing is not None else np.zeros(len(codes), dtype=bool)
            doubt = part(column.defer) & ~gone if column.defer is not None else np.zeros(len(codes), dtype=bool)
            known = ~gone & ~doubt
            den = column.den if type(column.den) is int else part(column.den)[known]
            present += _exact_sum(part(column.num)[known], den)
            missing += int(np.count_nonzero(gone))
            for i in np.flatnonzero(doubt):  # deferred cells: the exact engine's values
                value = batch.exact_step(k).value(output, codes[i], period)
                if type(value) is Fraction:
                    present += value
                else:
                    missing += 1
        return Total.of_sum(present, missing, count)


def _exact_sum(num, den) -> Fraction:
    """The exact sum of the fractions ``num / den`` (``den`` one int, or one per value): numerators added
    per denominator, then the few partial sums over their least common multiple, in Python integers."""
    if type(den) is int:
        if len(num) * max(1, _bound_of(num)) <= LIMIT:
            return Fraction(int(num.sum()), den)
        return Fraction(sum(int(x) for x in num), den)
    if not len(num):
        return Fraction(0)
    order = np.argsort(den, kind="stable")
    dens, nums = den[order], num[order]
    starts = np.flatnonzero(np.r_[True, dens[1:] != dens[:-1]])
    if len(num) * max(1, _bound_of(num)) > LIMIT:
        nums = nums.astype(object)
    sums = np.add.reduceat(nums, starts)
    dens = [int(d) for d in dens[starts]]
    common = math.lcm(*dens)
    return Fraction(sum(int(s) * (common // d) for s, d in zip(sums, dens)), common)
