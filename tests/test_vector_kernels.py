"""The column kernels against the exact implementations of the semantics table, cell by cell, and the
table and the kernels against each other: every row names a kernel or says LIFT, every kernel is some
row's. Values include half pennies, values sitting on thresholds, zero, missing cells and results past
int64."""

import itertools
from fractions import Fraction

import attrs
import pytest

from planlang.builtins import BUILTINS, ROUNDING
from planlang.data import Organisation, make_dataset
from planlang.plan import compile_plan
from planlang.run import run
from planlang.run.columns import KERNELS, Column, Layout
from planlang.run.columns.column import ABSENT, SCALAR, from_values, masked_at, value_at
from planlang.run.semantics import LIFT, OPERATIONS, STRICT, strict
from planlang.run.vector import VectorRun
from planlang.values import Missing

GONE = Missing.of("no_input", "x")
HALF_PENNIES = [Fraction(1, 200), Fraction(-1, 200), Fraction(3, 200), Fraction(-5, 200), Fraction(250001, 200)]
VALUES = [Fraction(0), Fraction(100), Fraction(-100), Fraction(1, 3), *HALF_PENNIES, GONE]
LARGEST = Fraction(2**62)  # the largest numerator a column holds in int64; three of it do not fit


def test_every_row_names_a_kernel_or_lift():
    for row in OPERATIONS.values():
        assert row.kernel is LIFT or row.kernel in KERNELS, f"{row.name} names no kernel of KERNELS: {row.kernel!r}"


def test_every_kernel_is_some_rows():
    named = {row.kernel for row in OPERATIONS.values() if row.kernel is not LIFT}
    assert set(KERNELS) == named, f"kernels no row names: {sorted(set(KERNELS) - named)}"


def _read(column: Column, size: int) -> list:
    """Each cell's exact value; a missing cell as Missing (its reasons are the exact engine's to give)."""
    if column.kind == SCALAR:
        return [column.num] * size
    cells = []
    for i in range(size):
        if masked_at(column, 0, i):
            assert column.defer is None or not column.defer[i], "a small value was deferred"
            cells.append(GONE)
        else:
            cells.append(value_at(column, 0, i))
    return cells


def _same(vector, exact) -> bool:
    if type(exact) is Missing:
        return type(vector) is Missing
    return type(vector) is type(exact) and vector == exact


def _exact(row, *values):
    """The row's exact implementation on one cell's values, with the row's missing rule."""
    arity = row.exact.__code__.co_argcount if hasattr(row.exact, "__code__") else len(values)
    function = row.exact if arity == len(values) else (lambda *v: row.exact(*v, ""))
    return strict(function)(*values) if row.missing == STRICT else function(*values)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "lt", "le", "gt", "ge", "eq", "ne"])
def test_binary_kernels_give_the_exact_values(name):
    pairs = list(itertools.product(VALUES, VALUES))
    left, right = from_values([a for a, _ in pairs]), from_values([b for _, b in pairs])
    found = _read(KERNELS[name](len(pairs), left, right), len(pairs))
    for (a, b), vector in zip(pairs, found):
        assert _same(vector, _exact(OPERATIONS[name], a, b)), (name, a, b, vector)


@pytest.mark.parametrize("name", ["negate", "abs"])
def test_unary_kernels_give_the_exact_values(name):
    found = _read(KERNELS[name](len(VALUES), from_values(VALUES)), len(VALUES))
    row = OPERATIONS[name]
    for value, vector in zip(VALUES, found):
        exact = value if type(value) is Missing else (row.exact(value) if name == "negate" else row.exact([value], ""))
        assert _same(vector, exact), (name, value, vector)


@pytest.mark.parametrize("mode", ROUNDING)
def test_rounding_half_pennies_to_the_penny(mode):
    values = [v for v in VALUES if type(v) is not Missing] + [GONE]
    step = Fraction(1, 100)
    found = _read(KERNELS["round"](len(values), from_values(values), Column.scalar(step), mode=mode), len(values))
    for value, vector in zip(values, found):
        exact = value if type(value) is Missing else BUILTINS["round"].implementation([value, step], "", mode=mode)
        assert _same(vector, exact), (mode, value, vector)


@pytest.mark.parametrize("name", ["and", "or"])
def test_logic_is_kleene(name):
    truths = [True, False, GONE]
    pairs = list(itertools.product(truths, truths))
    found = _read(KERNELS[name](len(pairs), from_values([a for a, _ in pairs]), from_values([b for _, b in pairs])),
                  len(pairs))
    for (a, b), vector in zip(pairs, found):
        assert _same(vector, OPERATIONS[name].exact(lambda: a, lambda: b)), (name, a, b, vector)


def test_bands_on_and_around_the_thresholds():
    amounts = [Fraction(0), Fraction(1000), Fraction(1000) + Fraction(1, 200), Fraction(2000), Fraction(2001), Fraction(-5),
               GONE]
    limits, rates = [Fraction(1000), Fraction(2000)], [Fraction(0), Fraction(1), Fraction(6, 5)]
    found = _read(KERNELS["bands"](len(amounts), from_values(amounts), [Column.scalar(x) for x in limits],
                                   [Column.scalar(x) for x in rates]), len(amounts))
    for amount, vector in zip(amounts, found):
        assert _same(vector, _exact(OPERATIONS["bands"], amount, limits, rates, ["a", "b"])), (amount, vector)


def test_taper_and_within_on_their_boundaries():
    shortfalls = [Fraction(-1), Fraction(0), Fraction(1, 200), Fraction(1800), Fraction(1801), GONE]
    base, rate, floor, cap = Fraction(1000), Fraction(1, 2), Fraction(100), Fraction(900)
    found = _read(KERNELS["taper"](len(shortfalls), Column.scalar(base), from_values(shortfalls), Column.scalar(rate),
                                   Column.scalar(floor), Column.scalar(cap)), len(shortfalls))
    for shortfall, vector in zip(shortfalls, found):
        assert _same(vector, _exact(OPERATIONS["taper"], base, shortfall, rate, floor, cap)), (shortfall, vector)
    values = [Fraction(105), Fraction(95), Fraction(10501, 100), Fraction(0), GONE]
    for relative, tolerance in ((True, Fraction(5, 100)), (False, Fraction(5))):
        found = _read(KERNELS["within"](len(values), from_values(values), Column.scalar(tolerance),
                                        Column.scalar(Fraction(100)), relative=relative), len(values))
        for value, vector in zip(values, found):
            exact = _exact(OPERATIONS["within"], value, tolerance, Fraction(100), relative)
            assert _same(vector, exact), (relative, value, vector)


def test_aggregates_over_members_and_over_months():
    organisations = [Organisation("S1", "one", "system"), Organisation("S2", "none", "system")]
    organisations += [Organisation(f"T{k}", "t", "trust", "S1") for k in range(3)]
    layout = Layout(make_dataset(organisations, {}, {}, "kernels"))
    groups = layout.groups(("trust",))
    members = [ABSENT, ABSENT, Fraction(1, 200), Fraction(-3, 200), Fraction(0)]
    for name in ("sum", "min", "max"):
        found = _read(KERNELS[f"{name}_over"](layout.size, [from_values(members)], groups=groups), layout.size)
        assert found[0] == OPERATIONS[f"{name} over"].exact(members[2:], ("no_members",))
        assert type(found[1]) is Missing  # a system with no members
    months = [from_values([Fraction(1, 200), GONE]), from_values([Fraction(1, 200), Fraction(1)])]
    found = _read(KERNELS["sum_over"](2, months), 2)
    assert found[0] == Fraction(1, 100) and type(found[1]) is Missing


def test_a_division_past_int64_is_exact_not_an_overflow():
    numerators = from_values([LARGEST, -LARGEST, Fraction(7)])
    denominators = from_values([Fraction(1, 3), Fraction(1, 5), Fraction(2**61 - 1, 2**62)])
    found = _read(KERNELS["divide"](3, numerators, denominators), 3)
    assert found == [LARGEST * 3, -LARGEST * 5, Fraction(7) / Fraction(2**61 - 1, 2**62)]


DIVIDING = '''
input x : ratio per trust monthly
input y : ratio per trust monthly
define share : ratio per trust monthly = x / y
define cubed_share : ratio per trust monthly = (x * x * x) / y
define system_share : ratio per system monthly = sum((x * x * x) / y over members)
define big : bool per trust monthly = (x * x) / y > 1
'''


def test_dividing_huge_numerators_falls_back_exactly(compile_policy):
    """Numerators past int64 and denominators whose common multiple passes it: worked out in Python
    integers, the same figures as the exact engine's, never an OverflowError."""
    plan = compile_plan(compile_policy(DIVIDING))
    month = plan.program.year.parts("month")[0]
    organisations = [Organisation("S", "s", "system")] + [Organisation(f"T{k}", "t", "trust", "S") for k in range(7)]
    xs = [Fraction(3 * 10**18, 7), Fraction(5, 7), Fraction(2**61 + 3), Fraction(2**61 + 3, 3), Fraction(10**18),
          -LARGEST, Fraction(5)]
    ys = [Fraction(10**12 + 9), Fraction(-(2**40) + 1), Fraction(1), Fraction(1), Fraction(3, 11), Fraction(10**12 + 9),
          Fraction(0)]
    values = {}
    for k, (x, y) in enumerate(zip(xs, ys)):
        values[("x", f"T{k}", month)], values[("y", f"T{k}", month)] = x, y
    dataset = make_dataset(organisations, values, {}, "huge")
    exact, vector = run(plan, dataset), run(plan, dataset, backend="vector")
    for name, cells in exact.scope.items():
        for key in cells:
            assert _same(vector.get(name, *key), exact.get(name, *key)), (name, key)
    assert vector.get("cubed_share", "T0", month) == xs[0] ** 3 / ys[0]


def test_the_plans_machinery_is_built_once_and_shared_by_its_runs(compile_policy):
    plan = compile_plan(compile_policy(DIVIDING))
    month = plan.program.year.parts("month")[0]
    organisations = [Organisation("S", "s", "system"), Organisation("T1", "t", "trust", "S")]
    first = VectorRun(plan, make_dataset(organisations, {("x", "T1", month): Fraction(1)}, {}, "a"))
    second = VectorRun(plan, make_dataset(organisations, {("y", "T1", month): Fraction(2)}, {}, "b"))
    assert first.machinery is second.machinery
    assert first.info(plan.formulas["share"]).kernel is KERNELS["divide"]


def test_every_construct_with_a_kernel_has_its_operands_gathered():
    from planlang import syntax as s
    from planlang.run.semantics import operation_for
    from planlang.run.vector.engine import _OPERANDS

    for kind in (s.Binary, s.Compare, s.Logical, s.Negate, s.Not, s.If, s.Within, s.Bands, s.Taper, s.DaySpan):
        fields = {f.name: None for f in attrs.fields(kind) if f.default is attrs.NOTHING}
        fields.update({"op": {s.Binary: "+", s.Compare: "<", s.Logical: "and"}.get(kind)} if "op" in fields else {})
        row = operation_for(kind(**fields))
        assert row.kernel is LIFT or kind in _OPERANDS, kind.__name__
    assert s.Call in _OPERANDS


def test_a_formula_nested_hundreds_deep_runs_on_the_vector_backend(compile_policy):
    plan = compile_plan(compile_policy("input y : ratio per system monthly\n"
                                       f"define z : ratio per system monthly = {' + '.join(['y'] * 400)}\n"))
    month = plan.program.year.parts("month")[0]
    dataset = make_dataset([Organisation("S", "s", "system"), Organisation("S2", "s", "system")],
                           {("y", "S", month): Fraction(1, 3)}, {}, "deep")
    vector = run(plan, dataset, backend="vector")
    assert vector.get("z", "S", month) == Fraction(400, 3) and type(vector.get("z", "S2", month)) is Missing
