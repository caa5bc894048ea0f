"""From an expression tree to the source of one fused loop over int64 numerators, and its constants.

:func:`fuse` walks the largest part of a formula that :data:`EMITTERS` can write, leaving everything
else (a name, a free subexpression, an operation with no emitter here) as a *leaf*: a column the
vector engine works out. It returns a :class:`Fused`: the loop's source (which depends only on the
tree's shape and the leaves' kinds, so equal shapes share a kernel), the int64 constants the loop
reads from ``k`` (numerators of scalars, the factors that bring operands to a common denominator,
fixed here from the leaves' denominators), and the result's denominator and bound.

Exactness rests on bounds, checked here before any loop runs: every numerator the loop makes is
bounded from the leaves' bounds (the inputs' extremes), and a tree any of whose values could pass
:data:`~planlang.run.columns.LIMIT` is refused (None), so the caller goes the vector way. The
missing rule of each operation is its semantics row's (:mod:`planlang.run.semantics`): strict
operations are missing where any operand is, ``if`` where its condition is or the branch taken is,
``and``/``or`` Kleene. A cell the loop cannot settle (bands whose limits fall) is *deferred*: the
exact engine's to work out.
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs

from ... import syntax as s
from ..columns.column import BOOL, LIMIT, NUM, SCALAR, Column, is_big
from ..semantics import COMPARE, operation_for

__all__ = ["EMITTERS", "Fused", "fuse", "emitter_for"]

_ROUNDING = ("half_up", "half_even", "half_down", "toward_zero", "away_from_zero")


@attrs.frozen
class Fused:
    """A fused loop ready to run: its source, its constants, its leaves' columns, what it gives."""

    source: str
    constants: tuple[int, ...]
    leaves: tuple[Column, ...]
    kind: str  # NUM or BOOL
    den: int
    bound: int


class _Refused(Exception):
    """The tree cannot be fused for these columns (a leaf of the wrong kind, or a bound past LIMIT)."""


@attrs.define
class _Value:
    """What the loop holds for one node: a variable (int64 numerator or bool), its missing flag, its den and bound."""

    var: str
    missing: str  # a variable, or "False"
    kind: str
    den: int = 1
    bound: int = 0


def _or(*flags: str) -> str:
    kept = list(dict.fromkeys(f for f in flags if f != "False"))
    return "False" if not kept else kept[0] if len(kept) == 1 else f"({' or '.join(kept)})"


class _Writer:
    def __init__(self, leaf_of):
        self.leaf_of = leaf_of  # node -> Column (or None: refuse)
        self.lines: list[str] = []
        self.constants: list[int] = []
        self.leaves: list[Column] = []
        self.defer: list[str] = []
        self.count = 0
        self.shape: list[str] = []  # what the source depends on, besides the lines

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def const(self, value: int) -> str:
        if not -LIMIT <= value <= LIMIT:
            raise _Refused
        self.constants.append(value)
        return f"c{len(self.constants) - 1}"  # read from k once, before the loop

    def line(self, text: str) -> None:
        self.lines.append(text)

    def fits(self, *bounds: int) -> None:
        if any(b > LIMIT for b in bounds):
            raise _Refused

    def scaled(self, value: _Value, den: int) -> tuple[str, int]:
        """The value's numerator over ``den`` (a multiple of its denominator), and its bound."""
        factor = den // value.den
        bound = value.bound * factor
        self.fits(bound)
        return (value.var if factor == 1 else f"{value.var} * {self.const(factor)}"), bound

    def node(self, node: s.Expr) -> _Value:
        emit = emitter_for(node)
        if emit is None:
            return self.leaf(node)
        return emit(self, node)

    def leaf(self, node: s.Expr) -> _Value:
        column = self.leaf_of(node)
        if column is None:
            raise _Refused
        if column.kind == SCALAR:
            value = column.num
            if type(value) is bool:
                return _Value("True" if value else "False", "False", BOOL)
            if type(value) is not Fraction:
                raise _Refused  # a missing value, a date, a text: the vector path words it
            return _Value(self.const(value.numerator), "False", NUM, value.denominator, abs(value.numerator))
        if column.kind not in (NUM, BOOL) or column.defer is not None or \
                (column.kind == NUM and (type(column.den) is not int or is_big(column))):
            raise _Refused
        j = len(self.leaves)
        self.leaves.append(column)
        var = self.fresh()
        self.line(f"{var} = a{j}[i]")
        missing = "False"
        if column.missing is not None:
            missing = self.fresh()
            self.line(f"{missing} = m{j}[i]")
        self.shape.append(f"leaf {column.kind} {'masked' if column.missing is not None else 'whole'}")
        return _Value(var, missing, column.kind, column.den if column.kind == NUM else 1, column.bound)


# ---- one emitter per row of the semantics table that has a fused form ----

def _numeric(*values: _Value) -> None:
    if any(v.kind != NUM for v in values):
        raise _Refused


def _common(w: _Writer, values: list[_Value]) -> tuple[int, list[str], list[int]]:
    den = 1
    for v in values:
        den = math.lcm(den, v.den)
    w.fits(den)
    parts = [w.scaled(v, den) for v in values]
    return den, [p for p, _ in parts], [b for _, b in parts]


def _additive(sign: str):
    def emit(w: _Writer, node: s.Binary) -> _Value:
        a, b = w.node(node.left), w.node(node.right)
        _numeric(a, b)
        den, (x, y), (bx, by) = _common(w, [a, b])
        w.fits(bx + by)
        var = w.fresh()
        w.line(f"{var} = {x} {sign} {y}")
        return _Value(var, _or(a.missing, b.missing), NUM, den, bx + by)
    return emit


def _multiply(w: _Writer, node: s.Binary) -> _Value:
    a, b = w.node(node.left), w.node(node.right)
    _numeric(a, b)
    w.fits(a.den * b.den, a.bound * b.bound)
    var = w.fresh()
    w.line(f"{var} = {a.var} * {b.var}")
    return _Value(var, _or(a.missing, b.missing), NUM, a.den * b.den, a.bound * b.bound)


def _negate(w: _Writer, node: s.Negate) -> _Value:
    a = w.node(node.operand)
    _numeric(a)
    var = w.fresh()
    w.line(f"{var} = -{a.var}")
    return _Value(var, a.missing, NUM, a.den, a.bound)


def _compare(w: _Writer, node: s.Compare) -> _Value:
    a, b = w.node(node.left), w.node(node.right)
    if a.kind == BOOL and b.kind == BOOL and node.op in ("==", "!="):
        x, y = a.var, b.var
    else:
        _numeric(a, b)
        _, (x, y), _ = _common(w, [a, b])
    var = w.fresh()
    w.line(f"{var} = {x} {node.op} {y}")
    return _Value(var, _or(a.missing, b.missing), BOOL)


def _not(w: _Writer, node: s.Not) -> _Value:
    a = w.node(node.operand)
    if a.kind != BOOL:
        raise _Refused
    var = w.fresh()
    w.line(f"{var} = not {a.var}")
    return _Value(var, a.missing, BOOL)


def _logical(w: _Writer, node: s.Logical) -> _Value:
    a, b = w.node(node.left), w.node(node.right)
    if a.kind != BOOL or b.kind != BOOL:
        raise _Refused
    var, missing = w.fresh(), w.fresh()
    # Kleene: a decisive operand (false for and, true for or) settles it even when the other is missing
    decisive = "not " if node.op == "and" else ""
    settled = f"(not {a.missing} and {decisive}{a.var}) or (not {b.missing} and {decisive}{b.var})"
    w.line(f"{missing} = ({_or(a.missing, b.missing)}) and not ({settled})")
    w.line(f"{var} = {a.var} {node.op} {b.var}")
    return _Value(var, missing, BOOL)


def _if(w: _Writer, node: s.If) -> _Value:
    c = w.node(node.condition)
    if c.kind != BOOL:
        raise _Refused
    x, y = w.node(node.then), w.node(node.otherwise)
    if x.kind != y.kind:
        raise _Refused
    var, missing = w.fresh(), w.fresh()
    w.line(f"{missing} = {c.missing} or (({x.missing}) if {c.var} else ({y.missing}))")  # the branch taken's
    if x.kind == BOOL:
        w.line(f"{var} = {x.var} if {c.var} else {y.var}")
        return _Value(var, missing, BOOL)
    den, (p, q), (bp, bq) = _common(w, [x, y])
    w.line(f"{var} = ({p}) if {c.var} else ({q})")
    return _Value(var, missing, NUM, den, max(bp, bq))


def _extreme(which: str):
    def emit(w: _Writer, node: s.Call) -> _Value:
        if any(a.over for a in node.args):
            raise _Refused
        values = [w.node(a.value) for a in node.args]
        _numeric(*values)
        den, parts, bounds = _common(w, values)
        var = w.fresh()
        w.line(f"{var} = {parts[0]}")
        for part in parts[1:]:
            w.line(f"{var} = {which}({var}, {part})")
        return _Value(var, _or(*(v.missing for v in values)), NUM, den, max(bounds))
    return emit


def _bands(w: _Writer, node: s.Bands) -> _Value:
    amount = w.node(node.amount)
    limits = [w.node(b.upper) for b in node.bands]
    rates = [w.node(b.rate) for b in node.bands] + [w.node(node.top_rate)]
    _numeric(amount, *limits, *rates)
    den, parts, bounds = _common(w, [amount, *limits])
    rden, rparts, rbounds = _common(w, rates)
    span = 2 * max(bounds)
    total_bound = span * max(rbounds) * len(rates)  # each band's part is at most the whole span
    w.fits(span, total_bound, den * rden)
    x, tops = parts[0], parts[1:]
    total, lower, top = w.fresh(), w.fresh(), w.fresh()
    w.line(f"{lower} = {tops[0]}")
    w.line(f"{lower} = {lower} if {lower} < 0 else 0")
    w.line(f"{total} = 0")
    for upper, rate in zip(tops, rparts):
        w.line(f"{top} = {x} if {x} < {upper} else {upper}")
        w.line(f"if {top} > {lower}: {total} += ({top} - {lower}) * ({rate})")
        w.line(f"if {upper} > {lower}: {lower} = {upper}")
    w.line(f"if {x} > {lower}: {total} += ({x} - {lower}) * ({rparts[-1]})")
    if len(tops) > 1:  # limits that fall: the exact engine says which (a missing value with the thresholds named)
        falls = " or ".join(f"{tops[k]} < {tops[k - 1]}" for k in range(1, len(tops)))
        flag = w.fresh()
        w.line(f"{flag} = {falls}")
        w.defer.append(flag)
    missing = _or(amount.missing, *(v.missing for v in limits), *(v.missing for v in rates))
    return _Value(total, missing, NUM, den * rden, total_bound)


def _round(w: _Writer, node: s.Call) -> _Value:
    value, step = w.node(node.args[0].value), node.args[1].value
    mode = node.args[2].value.name if len(node.args) > 2 and isinstance(node.args[2].value, s.Ref) else None
    if mode not in _ROUNDING or not isinstance(step, s.Literal) or type(step.value) is not Fraction or step.value <= 0:
        raise _Refused
    _numeric(value)
    sn, sd = step.value.numerator, step.value.denominator
    # units = value / step = (num * sd) / (den * sn), rounded to a whole number, times the step
    scale, over = sd, value.den * sn
    w.fits(value.bound * scale, over, (value.bound * scale // over + 1) * sn)
    units, whole, rest, n = w.fresh(), w.fresh(), w.fresh(), w.fresh()
    w.line(f"{units} = {value.var} * {w.const(scale)}" if scale != 1 else f"{units} = {value.var}")
    q = w.const(over)
    w.line(f"{whole} = abs({units}) // {q}")
    w.line(f"{rest} = abs({units}) - {whole} * {q}")
    up = {"half_up": f"2 * {rest} >= {q}", "half_down": f"2 * {rest} > {q}",
          "half_even": f"2 * {rest} > {q} or (2 * {rest} == {q} and {whole} % 2 == 1)",
          "toward_zero": "False", "away_from_zero": f"{rest} > 0"}[mode]
    w.line(f"if {up}: {whole} += 1")
    w.line(f"{n} = ({whole} if {units} >= 0 else -{whole}) * {w.const(sn)}")
    w.shape.append(f"round {mode}")
    return _Value(n, value.missing, NUM, sd, (value.bound * scale // over + 1) * sn)


EMITTERS = {"add": _additive("+"), "subtract": _additive("-"), "multiply": _multiply, "negate": _negate,
            **{name: _compare for name in COMPARE.values()}, "not": _not, "and": _logical, "or": _logical,
            "if": _if, "min": _extreme("min"), "max": _extreme("max"), "bands": _bands, "round": _round}


def emitter_for(node: s.Expr):
    """The emitter of the node's semantics row, or None (a leaf: the vector engine works it out)."""
    row = operation_for(node)
    if row is None or (type(node) is s.Call and any(a.over for a in node.args)):
        return None
    return EMITTERS.get(row.name)


def fuse(node: s.Expr, leaf_of) -> Fused | None:
    """The fused loop of ``node`` over the columns ``leaf_of(leaf)`` gives, or None when it cannot be fused exactly."""
    w = _Writer(leaf_of)
    try:
        result = w.node(node)
    except _Refused:
        return None
    if result.kind == NUM:
        w.fits(result.bound, result.den)
    if not w.leaves:
        return None
    body = [f"        {line}" for line in w.lines]
    body.append(f"        out[i] = {result.var}")
    body.append(f"        miss[i] = {result.missing}")
    body.append(f"        defer[i] = {_or(*w.defer)}")
    args = ", ".join(f"a{j}, m{j}" for j in range(len(w.leaves)))
    source = "\n".join([
        f"def kernel({args}, k, out, miss, defer):",
        *(f"    c{j} = k[{j}]" for j in range(len(w.constants))),
        "    for i in range(out.shape[0]):",
        *body,
    ]) + "\n"
    return Fused(source, tuple(w.constants), tuple(w.leaves), result.kind, result.den if result.kind == NUM else 1,
                 result.bound if result.kind == NUM else 0)
