"""The table of operations is complete: every operator and every built-in has a row, an exact
implementation and a column kernel or an explicit lift."""

import inspect

import attrs
import pytest

from planlang import syntax as s
from planlang.builtins import BUILTINS
from planlang.run.semantics import KLEENE, LAZY, LIFT, OPERATIONS, STRICT, Operation, operation_for

_LEAVES = {s.Literal, s.Ref, s.SystemRef, s.CurrentPeriod}
_OPERATORS = {s.Binary: ("+", "-", "*", "/"), s.Compare: ("<", "<=", ">", ">=", "==", "!="), s.Logical: ("and", "or")}


def _expression_nodes():
    return [k for _, k in inspect.getmembers(s, inspect.isclass) if issubclass(k, s.Expr) and k is not s.Expr]


def _node(kind, **fields):
    values = {f.name: None for f in attrs.fields(kind) if f.default is attrs.NOTHING}
    values.update(fields)
    return kind(**values)


@pytest.mark.parametrize("kind", _expression_nodes(), ids=lambda k: k.__name__)
def test_every_syntax_operator_has_a_row(kind):
    if kind in _LEAVES or kind is s.Call:
        return
    for op in _OPERATORS.get(kind, (None,)):
        node = _node(kind, op=op) if op is not None else _node(kind)
        assert isinstance(operation_for(node), Operation), f"{kind.__name__} {op or ''} has no semantics row"


def test_leaves_are_not_operations():
    for kind in _LEAVES:
        assert operation_for(_node(kind)) is None


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_has_a_row(name):
    entry = BUILTINS[name]
    if entry.implementation is not None:
        assert operation_for(_node(s.Call, name=name, args=(_node(s.Argument, value=None),))).builtin is entry
    if entry.aggregate is not None:
        call = _node(s.Call, name=name, args=(_node(s.Argument, value=None, over="members"),))
        assert operation_for(call).exact is entry.aggregate
    assert entry.implementation is not None or entry.aggregate is not None, f"{name} does nothing"


@pytest.mark.parametrize("row", list(OPERATIONS.values()), ids=lambda row: row.name)
def test_every_row_is_complete(row):
    assert callable(row.exact), f"{row.name} has no exact implementation"
    assert row.missing in (STRICT, KLEENE, LAZY)
    assert row.kernel is LIFT or (isinstance(row.kernel, str) and row.kernel), f"{row.name} has neither a kernel nor LIFT"
