"""Sweeps: a grid of scenarios over parameters and inputs, and draws of uncertain inputs, as :class:`~planlang.bulk.Step` s.

A ``--vary`` text is one of two forms:

- ``NAME [for CODE] [in PERIOD] = A to B step S``: the values A, A + S, A + 2S, ... up to B (B
  included when a step lands on it exactly), exact fractions. Each value is a setting
  ``NAME [for CODE] [in PERIOD] = value`` checked as ``--set`` checks it, so a step means what that
  ``--set`` means. Several grids make their product, the first ``--vary`` outermost.
- ``NAME [for CODE] [in PERIOD] = NAME * uniform(LOW, HIGH)`` (or ``normal(MEAN, SD)``,
  ``triangular(LOW, MODE, HIGH)``): with ``--draws N``, every value the data gives the input (in
  the periods and for the organisation named) is multiplied by its own factor drawn from the
  distribution, independently for each organisation and period.

Draw ``d`` of every grid step uses the same factors (common random numbers), from numpy's
``Generator(PCG64(SeedSequence(seed, spawn_key=(d,))))``, one factor per cell in the order of the
organisations in the data and then of the periods. Each factor is rounded to the nearest multiple
of :data:`FACTOR_GRID` (1e-9) and kept as a Fraction, so every figure after it is exact and the same
on any machine with the same numpy (numpy keeps a Generator's stream only within a version).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction
from math import floor

import attrs

from . import syntax as s
from .data import Dataset
from .diagnostics import Diagnostic, InputError, UsageError, suggest
from .parser import parse_setting
from .plan import Plan
from .run.bulk import Step, StepResult
from .run.totals import Total, total_of
from .scenario import Scenario, ScenarioError, Setting, check_setting
from .source import SourceFile, Span
from .values import AmountError, parse_amount

__all__ = ["GridVary", "DrawVary", "parse_varies", "sweep_varies", "sweep_outputs", "grid_steps", "grid_size", "steps", "Point", "Summary", "summarise", "MAX_STEPS", "FACTOR_GRID", "DISTRIBUTIONS",
           "percentile", "PERCENTILES", "Spread", "spread_of"]

MAX_STEPS = 1_000_000  # grid steps times draws: beyond this a sweep is almost certainly a typo in a step
FACTOR_GRID = Fraction(1, 10**9)
_NUMERIC = ("money", "count", "number", "ratio", "percent")
_KINDS = {s.DefineDecl: "a definition", s.FlagDecl: "a flag", s.DeadlineDecl: "a deadline"}


@attrs.frozen
class GridVary:
    """``TARGET = A to B step S``: ``setting`` is the checked setting with A; ``values`` every step's value."""

    text: str
    target: str  # the target as written, naming the varied value in output
    setting: Setting
    type: str
    first: Fraction
    last: Fraction
    step: Fraction
    values: tuple[Fraction, ...]


@attrs.frozen
class DrawVary:
    """``TARGET = NAME * DISTRIBUTION(ARGS)``: the input cells it draws factors for, and how."""

    text: str
    target: str
    setting: Setting  # says which entity and periods it covers
    distribution: str
    parameters: tuple[Fraction, ...]
    cells: tuple[tuple[str, object], ...]  # (entity, period) with a value in the data, in draw order

    def hidden_by(self, settings: Sequence[Setting]) -> bool:
        """Whether ``settings`` decide every cell this draws (a setting is looked up before the data)."""
        mine = [x for x in settings if x.name == self.setting.name]
        return all(any(x.covers(*cell) for x in mine) for cell in self.cells)

    def factors(self, generator) -> dict:
        """One factor per cell, drawn from ``generator`` and rounded to :data:`FACTOR_GRID`."""
        import numpy as np

        drawn = DISTRIBUTIONS[self.distribution][1](generator, [float(x) for x in self.parameters], len(self.cells))
        # 10**9 is exact in a float, so the product is rounded once, by IEEE 754, the same everywhere
        units = np.rint(np.asarray(drawn, dtype=np.float64) * FACTOR_GRID.denominator)
        return {cell: Fraction(int(k)) * FACTOR_GRID for cell, k in zip(self.cells, units.tolist())}


def _check_uniform(p):
    return None if p[0] <= p[1] else "the low end is above the high end"


def _check_normal(p):
    return None if p[1] >= 0 else "a standard deviation is not negative"


def _check_triangular(p):
    return None if p[0] <= p[1] <= p[2] and p[0] < p[2] else "the bounds run LOW <= MODE <= HIGH, with LOW below HIGH"


# name -> (parameter names, draw(generator, parameters, size), check(parameters) -> problem or None)
DISTRIBUTIONS = {
    "uniform": (("LOW", "HIGH"), lambda g, p, n: g.uniform(p[0], p[1], n), _check_uniform),
    "normal": (("MEAN", "SD"), lambda g, p, n: g.normal(p[0], p[1], n), _check_normal),
    "triangular": (("LOW", "MODE", "HIGH"), lambda g, p, n: g.triangular(p[0], p[1], p[2], n), _check_triangular),
}

_DRAW = re.compile(r"^\s*(?P<name>\w+)\s*\*\s*(?P<dist>\w+)\s*\((?P<args>[^()]*)\)\s*$")
_FORMS = "`NAME [in PERIOD] = A to B step S`, or `NAME = NAME * uniform(LOW, HIGH)` with --draws"


def _range_parts(tail: str) -> list[tuple[int, int]] | None:
    """Where A, B and S stand in ``A to B step S`` (first ``to``, last ``step``), or None.

    Found word by word, in one pass: a pattern of three lazy parts took minutes on a long text.

    >>> _range_parts(" 100% to 150% step 5%")
    [(1, 5), (9, 13), (19, 21)]
    """
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", tail)]
    texts = [tail[a:b] for a, b in words]
    if "to" not in texts or "step" not in texts:
        return None
    to, step = texts.index("to"), len(texts) - 1 - texts[::-1].index("step")
    if not 0 < to < step - 1 < len(texts) - 2:
        return None
    parts = (words[:to], words[to + 1:step], words[step + 1:])
    return [(part[0][0], part[-1][1]) for part in parts]


class _Reader:
    """Reads ``--vary`` texts, collecting every problem before failing."""

    def __init__(self, plan: Plan, dataset: Dataset):
        self.plan, self.dataset = plan, dataset
        self.errors: list[Diagnostic] = []
        self.sources: dict[str, SourceFile] = {}

    def error(self, source: SourceFile, start: int, end: int, message: str, suggestion: str | None = None):
        self.errors.append(Diagnostic("error", message, Span(source.name, 1, start + 1, 1, max(end, start + 1) + 1),
                                      suggestion))

    def vary(self, source: SourceFile) -> GridVary | DrawVary | None:
        text = source.text
        newline = next((k for k, c in enumerate(text) if c in "\r\n"), None)
        if newline is not None:  # every place in a --vary is a column of its one line
            self.error(source, newline, newline, "a --vary is written on one line")
            return None
        equals = text.find("=")
        if equals < 0:
            self.error(source, len(text), len(text), f"expected `=` and what to vary over: {_FORMS}")
            return None
        tail = text[equals + 1:]
        offset = equals + 1
        if (found := _range_parts(tail)) is not None:
            return self._grid(source, equals, {k: (offset + a, offset + b) for k, (a, b) in zip("abs", found)})
        if (found := _DRAW.match(tail)) is not None:
            return self._draw(source, equals, found, offset)
        start = offset + len(tail) - len(tail.lstrip())
        self.error(source, start, len(text.rstrip()), f"expected {_FORMS}",
                   "a range is written with amounts such as `100% to 150% step 5%`")
        return None

    def clashes(self, varies: Sequence[GridVary | DrawVary | None]) -> None:
        """Refuse two grids of one target (one would hide the other) and draws of an input that grids set in every cell."""
        seen: set[str] = set()
        grid_settings = [v.setting for v in varies if isinstance(v, GridVary)]
        for vary in varies:
            if vary is None:
                continue
            source = self.sources[vary.setting.span.file]
            end = len(vary.target)
            if isinstance(vary, GridVary) and vary.target in seen:
                self.error(source, 0, end, f"`{vary.target}` is varied twice", "give each target one range")
            elif isinstance(vary, DrawVary) and vary.hidden_by(grid_settings):
                self.error(source, 0, end, f"a range sets `{vary.target}` in every cell it draws, so its draws would change nothing")
            if isinstance(vary, GridVary):
                seen.add(vary.target)

    def _checked(self, source: SourceFile, equals: int, start: int, end: int) -> Setting | None:
        """The setting ``TARGET = <text[start:end]>``, parsed and checked where it stands in the text."""
        probe = SourceFile(source.name, source.text[:equals + 1] + " " * (start - equals - 1) + source.text[start:end])
        clause, errors = parse_setting(probe)
        if errors:
            self.errors += errors
            return None
        decl = self.plan.declarations.get(clause.target.name)
        problem = (None if decl is None else
                   f"a sweep varies inputs and parameters; `{decl.name}` is {_KINDS.get(type(decl), 'not a value')}"
                   if not isinstance(decl, (s.InputDecl, s.ParameterDecl)) else
                   f"a sweep varies amounts, percentages and counts; `{decl.name}` is {decl.type}"
                   if decl.type not in _NUMERIC else None)
        if problem is not None:
            span = clause.target.name_span
            self.error(source, span.column - 1, span.end_column - 1, problem)
            return None
        try:
            return check_setting(clause, probe, self.plan, self.dataset)
        except ScenarioError as error:
            self.errors += error.diagnostics
            return None

    def _amount(self, source: SourceFile, equals: int, where: tuple[int, int]) -> tuple[Setting, Fraction] | None:
        setting = self._checked(source, equals, *where)
        if setting is None:
            return None
        value = setting.value
        negative = isinstance(value, s.Negate)
        literal = value.operand if negative else value
        if not isinstance(literal, s.Literal) or not isinstance(literal.value, Fraction):
            self.error(source, *where, "a range runs between fixed values, such as £1,000 or 70%")
            return None
        return setting, -literal.value if negative else literal.value

    def _grid(self, source: SourceFile, equals: int, where: dict) -> GridVary | None:
        parts = []
        for k in "abs":  # A first: a target that does not check is reported once, not once per value
            part = self._amount(source, equals, where[k])
            if part is None:
                return None
            parts.append(part)
        (setting, first), (_, last), (_, step) = parts
        if step <= 0:
            self.error(source, *where["s"], "the step of a range is above zero")
            return None
        if first > last:
            self.error(source, where["a"][0], where["b"][1], "a range runs from the lower value to the higher",
                       f"write `{source.text[slice(*where['b'])]} to {source.text[slice(*where['a'])]}`")
            return None
        count = floor((last - first) / step) + 1
        if count > MAX_STEPS:
            self.error(source, where["a"][0], where["s"][1],
                       f"this range has {count:,} steps, more than the {MAX_STEPS:,} a sweep runs", "take a larger step")
            return None
        target = source.text[:equals].strip()
        values = tuple(first + k * step for k in range(count))
        return GridVary(source.text, target, setting, self.plan.declarations[setting.name].type, first, last, step, values)

    def _draw(self, source: SourceFile, equals: int, found: re.Match, offset: int) -> DrawVary | None:
        name_at = (offset + found.start("name"), offset + found.end("name"))
        probe_end = name_at[1]
        setting = self._checked(source, equals, name_at[0], probe_end)
        if setting is None:
            return None
        if found["name"] != setting.name:
            self.error(source, *name_at, f"a draw multiplies the value of `{setting.name}` itself",
                       f"write `{setting.name} * {found['dist']}(...)`")
            return None
        if not isinstance(self.plan.declarations[setting.name], s.InputDecl):
            self.error(source, *name_at, f"draws multiply an input's values; `{setting.name}` is a parameter",
                       "sweep a parameter over a range: `NAME = A to B step S`")
            return None
        dist_at = (offset + found.start("dist"), offset + found.end("dist"))
        if found["dist"] not in DISTRIBUTIONS:
            self.error(source, *dist_at, f"unknown distribution `{found['dist']}`; planlang draws from "
                       f"{', '.join(DISTRIBUTIONS)}", suggest(found["dist"], DISTRIBUTIONS))
            return None
        names, _, check = DISTRIBUTIONS[found["dist"]]
        parameters = self._parameters(source, found, offset, names)
        if parameters is None:
            return None
        problem = check(parameters)
        if problem is not None:
            self.error(source, offset + found.start("args"), offset + found.end("args"),
                       f"{found['dist']}({', '.join(names)}): {problem}")
            return None
        order = {code: k for k, code in enumerate(self.dataset.organisations)}
        cells = sorted(((e, p) for (n, e, p), v in self.dataset.values.items()
                        if n == setting.name and type(v) is Fraction and setting.covers(e, p)),
                       key=lambda cell: (order.get(cell[0], len(order)), cell[1].sort_key() if cell[1] else ()))
        return DrawVary(source.text, source.text[:equals].strip(), setting, found["dist"], parameters, tuple(cells))

    def _parameters(self, source: SourceFile, found: re.Match, offset: int, names) -> tuple[Fraction, ...] | None:
        start = offset + found.start("args")
        texts = found["args"].split(",")
        if len(texts) != len(names):
            self.error(source, start, offset + found.end("args"),
                       f"{found['dist']} takes {len(names)} values, {', '.join(names)}; found {len(texts)}")
            return None
        values = []
        for text in texts:
            at = (start + len(text) - len(text.lstrip()), start + len(text.rstrip()))
            start += len(text) + 1
            try:
                if "£" in text:
                    raise AmountError("a factor is a percentage or a number, such as 95% or 0.95, not an amount of money")
                values.append(parse_amount(text))
            except AmountError as error:
                self.error(source, *at, str(error))
                return None
        return tuple(values)


def parse_varies(texts: Sequence[str], plan: Plan, dataset: Dataset) -> tuple[list[GridVary | DrawVary], dict]:
    """Every ``--vary`` text read and checked, with the sources of their spans; raises :class:`ScenarioError`."""
    reader = _Reader(plan, dataset)
    varies = []
    for k, text in enumerate(texts):
        source = SourceFile("--vary" if len(texts) == 1 else f"--vary#{k + 1}", text)
        reader.sources[source.name] = source
        varies.append(reader.vary(source))
    reader.clashes(varies)
    if reader.errors:
        raise ScenarioError(reader.errors, reader.sources)
    return varies, reader.sources


_TOTALLED = ("money", "count", "number")


def sweep_outputs(names: Sequence[str], program, pack: str, where: str = "--output") -> list[str]:
    """The outputs a sweep totals, each once: definitions of ``pack`` whose values add up."""
    definitions = program.of_kind(s.DefineDecl)
    for name in names:
        decl = definitions.get(name)
        if decl is None:
            raise UsageError(f"`{name}` is not a definition of {pack}", where, suggest(name, definitions))
        if decl.type not in _TOTALLED:
            raise UsageError(f"a sweep totals each output over every organisation and period; `{name}` is {decl.type}",
                             where, "sweep an amount or a count")
    return list(dict.fromkeys(names))


def sweep_varies(texts: Sequence[str], count: int | None, plan: Plan, dataset: Dataset, base: Scenario):
    """(grids, draws, sources, steps) of the ``--vary`` texts, checked against each other, the ``count`` of
    draws (``--draws``; None for none) and the step cap."""
    varies, sources = parse_varies(texts, plan, dataset)
    grids = [v for v in varies if isinstance(v, GridVary)]
    draws = [v for v in varies if isinstance(v, DrawVary)]
    if draws and count is None:
        raise UsageError("a --vary that draws from a distribution needs --draws N (and --seed S to choose the draws)", "--vary")
    if count is not None and not draws:
        raise UsageError("--draws samples inputs: give one with --vary 'NAME = NAME * uniform(95%, 105%)'", "--draws")
    for vary in draws:
        if vary.hidden_by(base.settings):
            raise InputError(f"the scenario sets `{vary.target}` in every cell it draws, so its draws would change nothing",
                             "--vary", "leave it out of --set/--scenario")
    total = grid_size(grids) * (count or 1)
    if total > MAX_STEPS:
        raise InputError(f"the sweep has {total:,} steps, more than the {MAX_STEPS:,} it runs", "--vary",
                         "take larger steps or fewer draws")
    return grids, draws, sources, total


def grid_size(varies: Sequence[GridVary]) -> int:
    size = 1
    for vary in varies:
        size *= len(vary.values)
    return size


def grid_steps(base: Scenario, varies: Sequence[GridVary], sources: dict) -> Iterator[tuple[tuple[Fraction, ...], Scenario]]:
    """(values, scenario) for every point of the product grid, the first vary outermost; made one at a time."""
    for k, values in enumerate(itertools.product(*(v.values for v in varies))):
        settings = tuple(attrs.evolve(v.setting, value=s.Literal(span=v.setting.value.span, type=v.type, value=x, text=str(x)),
                                      text=f"{v.target} = {x}") for v, x in zip(varies, values))
        yield values, Scenario(f"step {k + 1}", base.settings + settings, sources={**base.sources, **sources})


def draw_factors(draws: Sequence[DrawVary], seed: int, draw: int) -> dict:
    """The factors of one draw: input -> {(entity, period): factor}, reproducible from (seed, draw) alone."""
    import numpy as np  # here, not at the top: every command imports this module, and only draws need numpy

    generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(draw,))))
    factors: dict[str, dict] = {}
    for vary in draws:
        # a later vary of the same input (for other periods, say) adds its cells; on a cell both name, the later wins
        factors.setdefault(vary.setting.name, {}).update(vary.factors(generator))
    return factors


@attrs.frozen
class Point:
    """Where a step sits in a sweep: its grid point (numbered from 1), the point's values, and its draw (or None)."""

    index: int
    values: tuple[Fraction, ...]
    draw: int | None


def steps(base: Scenario, grids: Sequence[GridVary], draws: Sequence[DrawVary], sources: dict, count: int,
          seed: int) -> Iterator[tuple[Point, Step]]:
    """(point, step) in order: the grid, the first vary outermost, then the draws of each grid point."""
    for k, (values, scenario) in enumerate(grid_steps(base, grids, sources)):
        if not draws:
            yield Point(k + 1, values, None), Step(scenario)
            continue
        for d in range(count):
            yield Point(k + 1, values, d + 1), Step(scenario, draw_factors(draws, seed, d))


@attrs.frozen
class Summary:
    """One grid point's outcome: each output's total, or with draws the spread of its totals."""

    index: int
    values: tuple[Fraction, ...]
    totals: dict[str, Total | Spread]


def summarise(results: Iterator[tuple[Point, StepResult]], outputs: Sequence[str], sink=None) -> Iterator[Summary]:
    """Each grid point's :class:`Summary`, from the (point, result) of its steps in order; ``sink(point, result)``
    sees every result on the way (the long-form file)."""
    for (index, values), group in itertools.groupby(results, key=lambda x: (x[0].index, x[0].values)):
        totals: dict[str, list[Total]] = {name: [] for name in outputs}
        draws = False
        for point, result in group:
            draws = point.draw is not None
            if sink is not None:
                sink(point, result)
            for name in outputs:
                totals[name].append(result.total(name))
        yield Summary(index, values, {name: spread_of(found) if draws else found[0] for name, found in totals.items()})


PERCENTILES = (Fraction(5), Fraction(50), Fraction(95))


def percentile(ordered: Sequence[Fraction], p: Fraction) -> Fraction:
    """The ``p``-th percentile of sorted values, exactly, by linear interpolation between order statistics
    (numpy's default method "linear", Hyndman and Fan's type 7).

    >>> percentile([Fraction(1), Fraction(2), Fraction(4)], Fraction(50)), percentile([Fraction(1), Fraction(2)], Fraction(5))
    (Fraction(2, 1), Fraction(21, 20))
    """
    h = (len(ordered) - 1) * p / 100
    low = floor(h)
    if low + 1 >= len(ordered):
        return ordered[-1]
    return ordered[low] + (h - low) * (ordered[low + 1] - ordered[low])


@attrs.frozen
class Spread:
    """An output's total over the draws of one grid step: mean and percentiles, or None where any draw's total is missing."""

    mean: Fraction | None
    percentiles: tuple[Fraction | None, ...]
    missing_draws: int
    draws: int


def spread_of(totals: Sequence[Total]) -> Spread:
    over_draws = total_of((t.value for t in totals), why=False)
    if over_draws.value is None or not totals:
        return Spread(None, (None,) * len(PERCENTILES), over_draws.missing, len(totals))
    ordered = sorted(t.value for t in totals)
    return Spread(over_draws.value / len(totals), tuple(percentile(ordered, p) for p in PERCENTILES), 0, len(totals))


def covers_of(plan: Plan, dataset: Dataset, outputs: Sequence[str]) -> dict:
    """For each output worked out by month or quarter, the :class:`~planlang.coverage.Coverage` of its
    year that its totals add up (the periods the data speaks of, of those its ``during`` allows)."""
    from .coverage import year_coverage
    from .run import periods_for

    found = {name: year_coverage(plan, name, periods_for(plan.program, dataset, plan.declarations[name])) for name in outputs}
    return {name: covers for name, covers in found.items() if covers is not None}
