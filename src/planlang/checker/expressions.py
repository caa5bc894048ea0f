"""Expressions: each construct typed, its names resolved, misuse of units, kinds and periods reported.

:meth:`Expressions.expr` returns a new node with ``type`` filled in (``attrs.evolve``); a node it
cannot type keeps ``type`` None and its parents do not report again. One method per construct,
found in one table keyed by the node's class (``_RULES``), which names every construct:

>>> [name for name, c in vars(s).items() if isinstance(c, type) and issubclass(c, s.Expr)
...  and c is not s.Expr and c not in Expressions._RULES]
[]

The built-ins' own typing rules (``builtins.py``) report through :meth:`Expressions.error`,
:meth:`~Expressions.expect_type` and :meth:`~Expressions.expect_numeric`.
"""

from __future__ import annotations

import attrs

from .. import syntax as s
from .. import types as t
from ..builtins import BUILTINS, ROUNDING
from ..diagnostics import suggest
from ..values import format_percent
from .names import ORGANISATION_KINDS, RANK, Context, Names, Use, alignment, kinds_of, type_of

AGGREGATES = tuple(name for name, entry in BUILTINS.items() if entry.aggregate is not None)


def _typed(node, type_, **changes):
    return attrs.evolve(node, type=type_, **changes)


class Expressions:
    """Types expressions against the names of ``names``, reporting into it."""

    def __init__(self, names: Names):
        self.names = names
        self.error = names.error

    def expr(self, node: s.Expr, ctx: Context) -> s.Expr:
        return self._RULES[type(node)](self, node, ctx)

    def constant(self, expr: s.Expr, user: str) -> s.Expr:
        """A parameter's value, a default or a test's value: typed, with no name allowed in it."""
        return self.expr(expr, Context(user, frozenset(), None, constant=True))

    def matches(self, expr: s.Expr, declared: str, what: str):
        """Report ``expr`` (called ``what``) when its type is not the ``declared`` one."""
        if declared == "percent" and isinstance(expr, s.Literal) and expr.type == "number":
            self.error(f"{what} is a bare number; write a percentage with %, as in {expr.text}%", expr.span,
                       f"if you mean a fraction of one, write it as a percentage: {expr.text} is {expr.value * 100}%")
            return
        # percentages and ratios are the same kind of number, shown differently: either may be declared
        if expr.type in t.DIMENSIONLESS and declared in ("percent", "ratio"):
            return
        if expr.type and t.unify(expr.type, declared) != declared:
            hint = None
            if declared == "money" and expr.type == "number":
                text = expr.text if isinstance(expr, s.Literal) else "…"
                hint = f"write amounts of money with a £ sign: £{text}"
            self.error(f"{what} is {t.describe(expr.type)}, but {t.describe(declared)} is declared", expr.span, hint)

    # ---- what the constructs share ----
    def numeric(self, node: s.Expr, what: str) -> bool:
        if node.type is not None and node.type not in t.NUMERIC:
            self.error(f"{what} must be a number or amount, not {t.describe(node.type)}", node.span)
            return False
        return node.type is not None

    def expect_bool(self, node: s.Expr, what: str):
        if node.type is not None and node.type != "bool":
            self.error(f"{what} needs true/false, not {t.describe(node.type)}", node.span)

    def _rate(self, node: s.Expr, what: str):
        if node.type and node.type not in t.DIMENSIONLESS:
            self.error(f"{what} is a percentage or ratio, not {t.describe(node.type)}", node.span)

    # the typing rules of the built-ins (builtins.py) report through these
    def expect_type(self, node: s.Expr, type_: str, function: str):
        if node.type and node.type != type_:
            self.error(f"`{function}` needs {t.describe(type_)}, not {t.describe(node.type)}", node.span)

    def expect_numeric(self, node: s.Expr, what: str) -> bool:
        return self.numeric(node, what)

    # ---- one method per construct ----
    def _literal(self, node: s.Literal, ctx):
        return node

    def _current_period(self, node: s.CurrentPeriod, ctx):
        if ctx.granularity is None:
            self.error("`period` is used where there is no period", node.span)
        return _typed(node, "period")

    def _ref(self, node: s.Ref, ctx):
        if node.name in ROUNDING:
            self.error(f"`{node.name}` is a rounding mode; it goes third in round(x, £0.01, {node.name})", node.span)
            return node
        decl = self.names.resolve(node.name, node.span, ctx)
        if decl is None:
            return node
        self.names.check_reach(decl, node.span, ctx)
        return _typed(node, type_of(decl), target=type(decl).__name__, alignment=alignment(decl, "same"))

    def _system_ref(self, node: s.SystemRef, ctx):
        if not ctx.kinds or not ctx.kinds <= ORGANISATION_KINDS:
            self.error(f"system.{node.name} is for organisations (trusts and CCGs) to read their system's value", node.span)
        decl = self.names.resolve(node.name, node.span, ctx)
        if decl is None:
            return node
        if "system" not in kinds_of(decl):
            self.error(f"`{node.name}` is not declared per system", node.span)
        elif ctx.granularity is not None and getattr(decl, "granularity", None) and RANK[ctx.granularity] > RANK[decl.granularity]:
            self.error(f"`{node.name}` is {decl.granularity}ly but is used in a {ctx.granularity}ly context", node.span)
        return _typed(node, type_of(decl), target=type(decl).__name__, alignment=alignment(decl, "system"))

    def _negate(self, node: s.Negate, ctx):
        operand = self.expr(node.operand, ctx)
        self.numeric(operand, "a negated value")
        return _typed(node, operand.type, operand=operand)

    def _not(self, node: s.Not, ctx):
        operand = self.expr(node.operand, ctx)
        self.expect_bool(operand, "`not`")
        return _typed(node, "bool", operand=operand)

    def _binary(self, node: s.Binary, ctx):
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        result = None
        if left.type is not None and right.type is not None:
            rule = {"+": t.add, "-": t.subtract, "*": t.multiply, "/": t.divide}[node.op]
            result = rule(left.type, right.type)
            if result is None:
                verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[node.op]
                hint = None
                if "money" in (left.type, right.type) and "number" in (left.type, right.type):
                    hint = "write amounts of money with a £ sign, such as £5"
                elif {"money", "percent"} == {left.type, right.type} and node.op in "+-":
                    hint = "to apply a percentage to an amount, multiply: amount * (1 + rate)"
                self.error(f"cannot {verb} {t.describe(left.type)} and {t.describe(right.type)}", node.span, hint)
        return _typed(node, result, left=left, right=right)

    def _compare(self, node: s.Compare, ctx):
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        if left.type and right.type and not t.compare(left.type, right.type, node.op):
            hint = "write amounts of money with a £ sign, such as £0" if {left.type, right.type} == {"money", "number"} else None
            self.error(f"cannot compare {t.describe(left.type)} with {t.describe(right.type)}", node.span, hint)
        return _typed(node, "bool", left=left, right=right)

    def _logical(self, node: s.Logical, ctx):
        left, right = self.expr(node.left, ctx), self.expr(node.right, ctx)
        self.expect_bool(left, f"`{node.op}`")
        self.expect_bool(right, f"`{node.op}`")
        return _typed(node, "bool", left=left, right=right)

    def _within(self, node: s.Within, ctx):
        value, tolerance, reference = (self.expr(x, ctx) for x in (node.value, node.tolerance, node.reference))
        if value.type and reference.type and not t.compare(value.type, reference.type):
            self.error(f"cannot compare {t.describe(value.type)} with {t.describe(reference.type)}", node.span)
        if tolerance.type and tolerance.type not in t.DIMENSIONLESS and t.unify(tolerance.type, value.type or "") is None:
            self.error(f"a tolerance is a percentage of the reference or an amount like the values, not {t.describe(tolerance.type)}",
                       tolerance.span)
        elif tolerance.type == "number" and value.type in ("money", "count"):
            # `within 5 of` reads as 5 units as easily as 5 times the reference: say which
            written = node.tolerance
            share = (f"{written.text} would be {format_percent(written.value)} of the reference"
                     if isinstance(written, s.Literal) else "it would be a share of the reference, 1 being 100%")
            amount = "£5" if value.type == "money" else "a count parameter (parameter tolerance_cases : count = 5)"
            self.error(f"a bare number is ambiguous as a tolerance on {t.describe(value.type)}: {share}, not an amount",
                       tolerance.span, f"write 5% for a share of the reference, or {amount} for an amount")
        return _typed(node, "bool", value=value, tolerance=tolerance, reference=reference)

    def _if(self, node: s.If, ctx):
        condition = self.expr(node.condition, ctx)
        self.expect_bool(condition, "the condition of `if`")
        then, otherwise = self.expr(node.then, ctx), self.expr(node.otherwise, ctx)
        result = None
        if then.type and otherwise.type:
            result = t.unify(then.type, otherwise.type)
            if result is None:
                self.error(f"the branches of `if` differ: {t.describe(then.type)} and {t.describe(otherwise.type)}", node.span,
                           "write £0 rather than 0 for no money" if "money" in (then.type, otherwise.type) else None)
        return _typed(node, result, condition=condition, then=then, otherwise=otherwise)

    def _bands(self, node: s.Bands, ctx):
        amount = self.expr(node.amount, ctx)
        self.numeric(amount, "the amount that bands apply to")
        bands = []
        for band in node.bands:
            upper, rate = self.expr(band.upper, ctx), self.expr(band.rate, ctx)
            if amount.type and upper.type and t.unify(amount.type, upper.type) is None:
                self.error(f"a band's threshold must be {t.describe(amount.type)} like the amount, not {t.describe(upper.type)}",
                           upper.span)
            self._rate(rate, "a band's rate")
            bands.append(attrs.evolve(band, upper=upper, rate=rate))
        top = self.expr(node.top_rate, ctx)
        self._rate(top, "the top band's rate")
        return _typed(node, amount.type, amount=amount, bands=tuple(bands), top_rate=top)

    def _taper(self, node: s.Taper, ctx):
        base, shortfall, rate = (self.expr(x, ctx) for x in (node.base, node.shortfall, node.rate))
        self.numeric(base, "the amount a taper reduces")
        if base.type and shortfall.type and t.unify(base.type, shortfall.type) is None:
            self.error(f"the shortfall must be {t.describe(base.type)} like the amount it reduces", shortfall.span)
        self._rate(rate, "the taper rate")
        limits = {}
        for key in ("floor", "cap"):
            limit = getattr(node, key)
            if limit is not None:
                limit = self.expr(limit, ctx)
                if base.type and limit.type and t.unify(base.type, limit.type) is None:
                    self.error(f"the taper's {key} must be {t.describe(base.type)}", limit.span)
            limits[key] = limit
        return _typed(node, base.type, base=base, shortfall=shortfall, rate=rate, **limits)

    def _day_span(self, node: s.DaySpan, ctx):
        count = self.expr(node.count, ctx)
        if count.type and count.type not in ("count", "number"):
            self.error(f"a number of days is a count, not {t.describe(count.type)}", count.span)
        return _typed(node, "working_days" if node.working else "days", count=count)

    def _call(self, node: s.Call, ctx):
        entry = BUILTINS.get(node.name)
        if entry is None:
            self.error(f"unknown function `{node.name}`", node.name_span,
                       suggest(node.name, BUILTINS, cutoff=0.6) or f"the functions are {', '.join(sorted(BUILTINS))}")
            return node
        if any(a.over for a in node.args):
            return self._aggregate(node, ctx)
        if not entry.callable:
            self.error(f"`{node.name}` adds up over something: write {node.name}(x over members)", node.span)
            return node
        if entry.arity is not None and len(node.args) != entry.arity:
            self.error(entry.arity_message or f"`{node.name}` takes {entry.arity} argument(s), not {len(node.args)}",
                       node.span, entry.arity_help if entry.arity_message else entry.help)
            return node
        count = len(node.args) if entry.arguments is None else entry.arguments
        args = tuple(attrs.evolve(a, value=self.expr(a.value, ctx)) for a in node.args[:count]) + node.args[count:]
        result = entry.typing(self, node, args, [a.value.type for a in args[:count]])
        if entry.reads == "error_flags":
            return _typed(node, result, flags=self._error_flags(node, ctx))
        return _typed(node, result, args=args)

    def _error_flags(self, node: s.Call, ctx) -> tuple[str, ...]:
        """The error flags ``any_error_flag()`` looks at where it is used: the organisation's, in the period or within it."""
        if not ctx.kinds or ctx.granularity is None:
            self.error("any_error_flag() counts an organisation's flags in a period, so it is used per organisation and period",
                       node.span)
            return ()
        flags = []
        for name, decl in self.names.decls.items():
            if (isinstance(decl, s.FlagDecl) and decl.severity == "error" and name != ctx.user
                    and set(decl.kinds) & (set(ctx.kinds) | ({"trust", "ccg"} if "organisation" in decl.kinds else set()))
                    and decl.granularity in RANK and RANK[decl.granularity] <= RANK[ctx.granularity]):
                flags.append(name)
                self.names.uses.append(Use(name, ctx.user, node.span))
        return tuple(sorted(flags))

    def _aggregate(self, node: s.Call, ctx):
        if node.name not in AGGREGATES or len(node.args) != 1:
            self.error(f"`over` goes in one of {', '.join(AGGREGATES)} with a single argument, as in sum(x over members)",
                       node.span)
            return node
        arg = node.args[0]
        if arg.over == "members":
            if ctx.kinds != {"system"}:
                self.error("`over members` adds up a system's member organisations, so it is used in a `per system` declaration",
                           arg.span)
            member_kinds = self._member_kinds(arg.value) or ORGANISATION_KINDS
            inner = attrs.evolve(ctx, kinds=member_kinds)
        else:
            part = {"months": "month", "quarters": "quarter"}[arg.over]
            if ctx.granularity is None or RANK[ctx.granularity] <= RANK[part]:
                self.error(f"`over {arg.over}` adds up the {arg.over} of a longer period, so it is used in a longer-than-{part}ly declaration",
                           arg.span)
            member_kinds = frozenset()
            inner = attrs.evolve(ctx, granularity=part)
        value = self.expr(arg.value, inner)
        if arg.over in ("months", "quarters"):
            part = {"months": "month", "quarters": "quarter"}[arg.over]
            decls = self.names.decls
            for ref in (n for n in s.walk(value) if isinstance(n, s.Ref) and n.name in decls):
                granularity = getattr(decls[ref.name], "granularity", None)
                if granularity and RANK[granularity] > RANK[part]:
                    self.error(f"`{ref.name}` is {granularity}ly, so adding it up over {arg.over} would count it more than once",
                               ref.span, f"use `{ref.name}` itself, outside `over {arg.over}`")
        result = None
        if value.type is not None:
            if node.name == "sum":
                result = value.type if self.numeric(value, "what `sum` adds up") else None
            elif node.name in ("min", "max"):
                result = value.type
            elif node.name == "count":
                self.expect_bool(value, "`count`")
                result = "count"
            else:
                self.expect_bool(value, f"`{node.name}`")
                result = "bool"
        new_arg = attrs.evolve(arg, value=value)
        return _typed(node, result, args=(new_arg,), name=node.name) if not member_kinds else \
            _typed(node, result, args=(new_arg,), name=node.name, member_kinds=tuple(sorted(member_kinds)))

    def _member_kinds(self, expr: s.Expr) -> frozenset[str] | None:
        """The kinds of member an aggregate can run over: those having every name it uses."""
        kinds = None
        decls = self.names.decls
        for node in s.walk(expr):
            if isinstance(node, s.Ref) and node.name in decls:
                declared = kinds_of(decls[node.name]) & ORGANISATION_KINDS
                if declared:
                    kinds = declared if kinds is None else kinds & declared
        return kinds

    # a construct is typed by the method its class names; built once, looked up by exact class
    _RULES = {s.Literal: _literal, s.CurrentPeriod: _current_period, s.Ref: _ref, s.SystemRef: _system_ref,
              s.Negate: _negate, s.Not: _not, s.Binary: _binary, s.Compare: _compare, s.Logical: _logical,
              s.Within: _within, s.If: _if, s.Bands: _bands, s.Taper: _taper, s.DaySpan: _day_span, s.Call: _call}
