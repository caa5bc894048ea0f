"""Parse -> print -> parse: printing an expression gives text that parses back to the same tree.

The trees are generated at random from every form of expression (Hypothesis), printed, and parsed
as the value of a definition; they must come back the same but for source positions. This tests
the grammar's precedence and associativity and the printer's parentheses together. Every
expression of the shipped policy packs is also printed and re-parsed.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planlang import syntax as s
from planlang.compiler import read_pack
from planlang.parser import parse_source
from planlang.printer import format_expr
from planlang.source import SourceFile, Span
from planlang.syntax import meaning

from conftest import POLICIES

AT = Span("gen.plan", 1, 1, 1, 1)


def parse_expr(text: str) -> s.Expr:
    source = SourceFile("p.plan", f"define x : money\n  per system monthly\n  = {text}\n")
    policy, errors = parse_source(source)
    assert not errors, f"{text}\n{errors[0].message}"
    return policy.declarations[0].value


def literal(type_: str, value, text: str) -> s.Literal:
    return s.Literal(span=AT, value=value, text=text, type=type_)


names = st.sampled_from(["erf_actual", "baseline", "fit_plan", "x1", "rate"])
money = st.integers(0, 10**9).map(lambda p: literal("money", Fraction(p, 100), f"£{p // 100:,}.{p % 100:02d}"))
percent = st.integers(0, 200).map(lambda n: literal("percent", Fraction(n, 100), f"{n}%"))
number = st.integers(0, 1000).map(lambda n: literal("number", Fraction(n), str(n)))
text = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\n\r"), max_size=12)
leaves = st.one_of(
    names.map(lambda n: s.Ref(span=AT, name=n)),
    names.map(lambda n: s.SystemRef(span=AT, name=n)),
    st.just(s.CurrentPeriod(span=AT)),
    money, percent, number,
    text.map(lambda t: literal("text", t, "")),
    st.sampled_from([True, False]).map(lambda b: literal("bool", b, "true" if b else "false")),
)


def composite(children):
    two = st.tuples(children, children)
    return st.one_of(
        st.builds(lambda op, lr: s.Binary(span=AT, op=op, left=lr[0], right=lr[1]), st.sampled_from("+-*/"), two),
        st.builds(lambda op, lr: s.Compare(span=AT, op=op, left=lr[0], right=lr[1]),
                  st.sampled_from([">", ">=", "<", "<=", "==", "!="]), two),
        st.builds(lambda op, lr: s.Logical(span=AT, op=op, left=lr[0], right=lr[1]),
                  st.sampled_from(["and", "or"]), two),
        children.map(lambda x: s.Negate(span=AT, operand=x)),
        children.map(lambda x: s.Not(span=AT, operand=x)),
        st.builds(lambda v, t, r: s.Within(span=AT, value=v, tolerance=t, reference=r), children, children, children),
        st.builds(lambda c, a, b, why, then_why: s.If(span=AT, condition=c, then=a, otherwise=b, because=why,
                                                      then_because=then_why),
                  children, children, children, st.none() | text, st.none() | text),
        st.builds(lambda a, bands, top: s.Bands(span=AT, amount=a, bands=tuple(s.Band(span=AT, upper=u, rate=r)
                                                                               for u, r in bands), top_rate=top),
                  children, st.lists(two, min_size=1, max_size=3), children),
        st.builds(lambda b, sh, r, f, c: s.Taper(span=AT, base=b, shortfall=sh, rate=r, floor=f, cap=c),
                  children, children, children, st.none() | children, st.none() | children),
        st.builds(lambda name, args: s.Call(span=AT, name=name, name_span=AT,
                                            args=tuple(s.Argument(span=AT, value=a) for a in args)),
                  st.sampled_from(["min", "max", "abs"]), st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda name, x, over: s.Call(span=AT, name=name, name_span=AT,
                                               args=(s.Argument(span=AT, value=x, over=over),)),
                  st.sampled_from(["sum", "count", "any", "all"]), children,
                  st.sampled_from(["members", "months", "quarters"])),
        st.builds(lambda n, working: s.DaySpan(span=AT, count=n, working=working),
                  number | names.map(lambda n: s.Ref(span=AT, name=n)), st.booleans()),
    )


expressions = st.recursive(leaves, composite, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_print_then_parse_gives_the_same_tree(expr):
    printed = format_expr(expr)
    assert meaning(parse_expr(printed)) == meaning(expr), printed


@settings(max_examples=100, deadline=None)
@given(expressions)
def test_printing_is_canonical(expr):
    printed = format_expr(expr)
    assert format_expr(parse_expr(printed)) == printed


def _policy_expressions():
    for pack in sorted(p for p in POLICIES.iterdir() if p.is_dir()):
        for source in read_pack(pack):
            policy, _ = parse_source(source)
            for decl in policy.declarations:
                for expr in (getattr(decl, "value", None), getattr(decl, "when", None), getattr(decl, "default", None)):
                    if isinstance(expr, s.Expr):
                        yield pytest.param(expr, id=f"{source.name}:{decl.span.line}")


@pytest.mark.parametrize("expr", list(_policy_expressions()))
def test_every_policy_expression_prints_and_parses_back(expr):
    assert meaning(parse_expr(format_expr(expr))) == meaning(expr)
