"""Printing: a syntax tree's expression back to planlang text that parses to the same tree.

The output is canonical: one line, single spaces, and parentheses exactly where precedence needs
them, so two expressions that mean the same print the same (a basis for formatting and for
comparing rules across years). ``if``, ``bands`` and ``taper`` are parenthesised wherever they are
an operand, which keeps a trailing ``because`` or ``else`` with the construct it belongs to.

>>> from planlang.source import Span
>>> at = Span("x.plan", 1, 1, 1, 1)
>>> a, b, c = (s.Ref(span=at, name=n) for n in "abc")
>>> format_expr(s.Binary(span=at, op="-", left=a, right=s.Binary(span=at, op="-", left=b, right=c)))
'a - (b - c)'
>>> format_expr(s.Binary(span=at, op="*", left=s.Binary(span=at, op="+", left=a, right=b), right=c))
'(a + b) * c'
"""

from __future__ import annotations

from . import syntax as s
from .periods import GRANULARITIES

__all__ = ["format_expr", "layout_expr", "format_amendments", "format_value_clause",
           "format_scope", "format_setting", "GRANULARITY_WORDS", "WIDTH"]

GRANULARITY_WORDS = {kind: word for word, kind in GRANULARITIES.items()}  # "month" -> "monthly"

# how tightly each form binds, loosest first, as in grammar/planlang.lark
_CONSTRUCT, _OR, _AND, _NOT, _COMPARISON, _SUM, _PRODUCT, _UNARY, _POSTFIX, _ATOM = range(10)
_BINARY = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT}


def format_expr(node: s.Expr) -> str:
    """Planlang text for an expression."""
    return _format(node)[0]


def _at(node: s.Expr, level: int) -> str:
    """``node`` as an operand where at least ``level`` binds: in parentheses if it binds more loosely."""
    text, own = _format(node)
    return text if own >= level else f"({text})"


def _quoted(text: str) -> str:
    """A quoted text as the lexer reads it: a backslash escapes the character after it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(node: s.Expr) -> tuple[str, int]:
    match node:
        case s.Literal(type="text"):
            return _quoted(node.value), _ATOM
        case s.Literal(type="period"):
            return str(node.value), _ATOM  # `2021/22  Q1` is `2021/22 Q1`
        case s.Literal():
            return node.text, _ATOM
        case s.Ref():
            return node.name, _ATOM
        case s.SystemRef():
            return f"system.{node.name}", _ATOM
        case s.CurrentPeriod():
            return "period", _ATOM
        case s.Call():
            args = ", ".join(_at(a.value, _CONSTRUCT) + (f" over {a.over}" if a.over else "") for a in node.args)
            return f"{node.name}({args})", _ATOM
        case s.DaySpan():
            return f"{_at(node.count, _ATOM)} {'working days' if node.working else 'days'}", _POSTFIX
        case s.Negate():
            return f"-{_at(node.operand, _UNARY)}", _UNARY
        case s.Binary():
            level = _BINARY[node.op]
            return f"{_at(node.left, level)} {node.op} {_at(node.right, level + 1)}", level
        case s.Compare():
            return f"{_at(node.left, _SUM)} {node.op} {_at(node.right, _SUM)}", _COMPARISON
        case s.Within():
            return (f"{_at(node.value, _SUM)} within {_at(node.tolerance, _SUM)} of {_at(node.reference, _SUM)}",
                    _COMPARISON)
        case s.Not():
            return f"not {_at(node.operand, _NOT)}", _NOT
        case s.Logical():
            level = _OR if node.op == "or" else _AND
            return f"{_at(node.left, level)} {node.op} {_at(node.right, level + 1)}", level
        case s.If():
            then, otherwise = (_at(branch, _OR) + ("" if why is None else f" because {_quoted(why)}")
                               for branch, why in ((node.then, node.then_because), (node.otherwise, node.because)))
            return f"if {_at(node.condition, _OR)} then {then} else {otherwise}", _CONSTRUCT
        case s.Bands():
            bands = " ".join(f"up to {_at(b.upper, _OR)}: {_at(b.rate, _OR)}" for b in node.bands)
            return f"bands on {_at(node.amount, _OR)} {bands} above: {_at(node.top_rate, _OR)}", _CONSTRUCT
        case s.Taper():
            limits = "".join(f" {word} {_at(limit, _OR)}" for word, limit in (("floor", node.floor), ("cap", node.cap))
                             if limit is not None)
            return (f"taper {_at(node.base, _OR)} by {_at(node.shortfall, _OR)} at {_at(node.rate, _OR)}{limits}",
                    _CONSTRUCT)
    raise TypeError(f"cannot print {type(node).__name__}")


# ---- layout over lines ---------------------------------------------------------------------------

WIDTH = 100  # an expression longer than this, from its clause's indent, is laid over several lines


def layout_expr(node: s.Expr, column: int, width: int = WIDTH) -> list[str]:
    """An expression as lines: the first continues a line at ``column`` (0-based); the rest carry their indent.

    On one line when it fits in ``width``; otherwise ``if``, ``bands`` and ``taper`` put their parts
    on lines of their own, and a chain of ``and``, ``or``, ``+`` or ``*`` starts a line with each
    operator, under the chain's first operand.

    >>> from planlang.source import Span
    >>> at = Span("x.plan", 1, 1, 1, 1)
    >>> a, b, c = (s.Ref(span=at, name=n * 12) for n in "abc")
    >>> print("    " + "\\n".join(layout_expr(s.If(span=at, condition=a, then=b, otherwise=c, because="why"), 4, 40)))
        if aaaaaaaaaaaa then bbbbbbbbbbbb
        else cccccccccccc because "why"
    >>> print("  = " + "\\n".join(layout_expr(s.Logical(span=at, op="and", left=a, right=s.Not(span=at, operand=b)), 4, 20)))
      = aaaaaaaaaaaa
        and not bbbbbbbbbbbb
    """
    flat = format_expr(node)
    if column + len(flat) <= width:
        return [flat]
    match node:
        case s.If():
            return _layout_if(node, column, width)
        case s.Bands():
            lines = [f"bands on {_at(node.amount, _OR)}"]
            lines += [" " * (column + 2) + f"up to {_at(b.upper, _OR)}: {_at(b.rate, _OR)}" for b in node.bands]
            return lines + [" " * (column + 2) + f"above: {_at(node.top_rate, _OR)}"]
        case s.Taper():
            head = f"taper {_at(node.base, _OR)} by {_at(node.shortfall, _OR)} at {_at(node.rate, _OR)}"
            return [head] + [" " * (column + 2) + f"{word} {_at(limit, _OR)}"
                             for word, limit in (("floor", node.floor), ("cap", node.cap)) if limit is not None]
        case s.Logical() | s.Binary():
            return _layout_chain(node, column, width)
    return [flat]


def _laid(node: s.Expr, level: int, column: int, width: int) -> list[str]:
    """``node`` laid out as an operand where ``level`` binds: in parentheses when it binds more loosely."""
    if _format(node)[1] >= level:
        return layout_expr(node, column, width)
    lines = layout_expr(node, column + 1, width)
    lines = ["(" + lines[0], *lines[1:]]
    lines[-1] += ")"
    return lines


def _branch(node: s.Expr, why: str | None, column: int, width: int) -> list[str]:
    """A branch of an ``if`` and its ``because``: after it when there is room, else on the next line."""
    lines = _laid(node, _OR, column, width)
    if why is None:
        return lines
    because = f"because {_quoted(why)}"
    last = lines[-1] if len(lines) > 1 else " " * column + lines[-1]
    if len(last) + 1 + len(because) <= width:
        return [*lines[:-1], lines[-1] + " " + because]
    return [*lines, " " * (column + 2) + because]


def _layout_if(node: s.If, column: int, width: int) -> list[str]:
    condition = _laid(node.condition, _OR, column + 3, width)
    otherwise = _branch(node.otherwise, node.because, column + 5, width)
    else_lines = [" " * column + "else " + otherwise[0], *otherwise[1:]]
    if len(condition) == 1:
        start = f"if {condition[0]} then "
        then = _branch(node.then, node.then_because, column + len(start), width)
        if len(then) == 1 and column + len(start) + len(then[0]) <= width:
            return [start + then[0], *else_lines]
    then = _branch(node.then, node.then_because, column + 2, width)
    first = ["if " + condition[0], *condition[1:]]
    first[-1] += " then"
    return [*first, " " * (column + 2) + then[0], *then[1:], *else_lines]


def _layout_chain(node: s.Logical | s.Binary, column: int, width: int) -> list[str]:
    level = _format(node)[1]
    operands: list[s.Expr] = [node]
    operators: list[str] = []
    while isinstance(operands[0], (s.Logical, s.Binary)) and _format(operands[0])[1] == level:
        head = operands[0]
        operands[0:1] = [head.left, head.right]
        operators.insert(0, head.op)
    lines = _laid(operands[0], level, column, width)
    for op, operand in zip(operators, operands[1:]):
        part = _laid(operand, level + 1, column + len(op) + 1, width)
        lines += [" " * column + f"{op} {part[0]}", *part[1:]]
    return lines


def _range(first, last) -> str:
    return str(first) if last == first else f"{first} to {last}"


def format_value_clause(decl) -> str | None:
    """A parameter's or amendment's value: ``= 5%``, or its schedule as ``2021-04: 70%; 2021-05: 75%``."""
    if getattr(decl, "value", None) is not None:
        return "= " + format_expr(decl.value)
    entries = getattr(decl, "schedule", ())
    return "; ".join(f"{_range(e.first, e.last)}: {format_expr(e.value)}" for e in entries) or None


def format_scope(decl) -> str | None:
    """Whom and how often a declaration is worked out for: ``per trust or ccg monthly during 2021-04 to 2021-09``."""
    words = []
    if getattr(decl, "kinds", ()):
        words.append("per " + " or ".join(decl.kinds))
    if getattr(decl, "granularity", None):
        words.append(GRANULARITY_WORDS[decl.granularity])
    if getattr(decl, "during", None):
        words.append("during " + _range(*decl.during))
    return " ".join(words) or None


def format_amendments(amendments) -> str | None:
    """A parameter's amendments, each as ``from 2019-10-01 = 1.25%``."""
    return "; ".join(f"from {a.effective} {format_value_clause(a)}" for a in amendments) or None


# ---- declarations --------------------------------------------------------------------------------

INDENT = "  "  # a declaration's clauses, under its keyword
SCOPE_CLAUSES = ("entity", "granularity", "during")  # written together on one line: `per trust monthly during ...`


def format_head(keyword: str, head: tuple) -> str:
    """A declaration's first line, from the head :func:`planlang.parser.parse_layout` gives."""
    match keyword, head:
        case "policy", (title, year):
            return f"policy {_quoted(title)} for {year}"
        case "source", (name, title):
            return f"source {_quoted(name)}" + ("" if title is None else f" {_quoted(title)}")
        case ("input" | "parameter" | "define"), (name, type_):
            return f"{keyword} {name} : {type_}"
        case "amend", (name, date):
            return f"amend {name} from {date}"
        case "test", (title,):
            return f"test {_quoted(title)}"
        case "unencoded", (source, section, quote):
            return f"unencoded {_quoted(source)} {section} {_quoted(quote)}"
    return f"{keyword} {head[0]}"


def _target(target: s.Target) -> str:
    return (target.name + ("" if target.entity is None else f" for {target.entity}")
            + ("" if target.period is None else f" in {target.period}"))


def _setting_target(target: s.SettingTarget) -> str:
    return (target.name + ("" if target.entity is None else f" for {target.entity}")
            + ("" if target.periods is None else f" in {_range(*target.periods)}"))


def format_setting(setting: s.SetClause, keyword: bool = True) -> str:
    """A scenario's setting on one line, as ``fmt`` prints it: what runs, without the comments and line
    breaks of its source. Without ``keyword``, in the form a ``--set`` option takes (``TARGET = EXPR``).

    >>> from planlang.source import Span
    >>> at = Span("x.plan", 1, 1, 1, 1)
    >>> rate = s.SettingTarget(span=at, name="rate", name_span=at)
    >>> value = s.Binary(span=at, op="*", left=s.Literal(span=at, value=1, text="110%", type="percent"),
    ...                  right=s.Literal(span=at, value=2, text="2", type="number"))
    >>> format_setting(s.SetClause(span=at, target=rate, value=value))
    'set rate = 110% * 2'
    >>> format_setting(s.SetClause(span=at, target=rate, value=value), keyword=False)
    'rate = 110% * 2'
    """
    if setting.formula:  # written only in a scenario file
        return f"replace {setting.target.name} = {format_expr(setting.value)}"
    text = f"{_setting_target(setting.target)} = {format_expr(setting.value)}"
    return f"set {text}" if keyword else text


def _scope_words(clause) -> str:
    if clause.kind == "entity":
        return "per " + " or ".join(kind for kind, _ in clause.value)
    if clause.kind == "granularity":
        return GRANULARITY_WORDS[clause.value]
    return "during " + _range(*clause.value)


def format_clauses(clauses, width: int = WIDTH) -> list[str]:
    """Clauses as indented lines: each on its own, but consecutive scope clauses share one."""
    lines: list[str] = []
    scope: list[str] = []
    for clause in clauses:
        if clause.kind in SCOPE_CLAUSES:
            scope.append(_scope_words(clause))
            continue
        if scope:
            lines.append(INDENT + " ".join(scope))
            scope = []
        lines += _clause_lines(clause, width)
    if scope:
        lines.append(INDENT + " ".join(scope))
    return lines


def _with_expr(prefix: str, expr: s.Expr, width: int) -> list[str]:
    laid = layout_expr(expr, len(INDENT) + len(prefix), width)
    return [INDENT + prefix + laid[0], *laid[1:]]


def _clause_lines(clause, width: int) -> list[str]:
    value = clause.value
    match clause.kind:
        case "description":
            return [INDENT + _quoted(value)]
        case "citation":
            return [INDENT + f"cites {_quoted(value.source)} {value.section}"
                    + ("" if value.quote is None else f" {_quoted(value.quote)}")]
        case "default":
            return _with_expr("default ", value, width)
        case "range":
            return [INDENT + f"range {format_expr(value[0])} to {format_expr(value[1])}"]
        case "value":
            return _with_expr("= ", value, width)
        case "when":
            return _with_expr("when ", value, width)
        case "schedule":
            return _with_expr(f"{_range(value.first, value.last)}: ", value.value, width)
        case "severity":
            return [INDENT + f"severity {value}"]
        case "message":
            return [INDENT + f"says {_quoted(value)}"]
        case "test_entity":
            return [INDENT + f"{value.kind} {value.code}" + ("" if value.system is None else f" in {value.system}")]
        case "test_period":
            return [INDENT + "period " + _range(*value)]
        case "given":
            return _with_expr(f"given {_target(value.target)} = ", value.value, width)
        case "expect" if value.kind == "value":
            return _with_expr(f"expect {_target(value.target)} = ", value.value, width)
        case "expect" if value.kind == "missing":
            return [INDENT + f"expect {_target(value.target)} is missing"]
        case "expect":
            return [INDENT + f"expect {'no ' if value.kind == 'no_flag' else ''}flag {_target(value.target)}"]
        case "note":
            return [INDENT + f"{value.kind} {_quoted(value.text)}"]
        case "under":
            return [INDENT + f"under {value[0]}"]
        case "because":
            return [INDENT + f"because {_quoted(value)}"]
        case "based_on":
            return [INDENT + "based on " + ", ".join(name for name, _ in value)]
        case "set" if value.formula:
            return _with_expr(f"replace {value.target.name} = ", value.value, width)
        case "set":
            return _with_expr(f"set {_setting_target(value.target)} = ", value.value, width)
    raise TypeError(f"cannot print a {clause.kind} clause")
