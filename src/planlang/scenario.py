"""Scenarios: what-if overrides layered over a run's inputs and a plan's parameters and definitions.

A :class:`Scenario` is a list of checked :class:`Setting` s. A setting replaces the value of one
name (an input, a parameter or a definition) for every entity or one, in every period or some.
Its expression reads **baseline** values (``set erf_actual = erf_actual * 103%`` is 103% of the
baseline figure), except a ``replace``, which is a new formula for a definition and reads the
scenario's own values like any formula. Nothing is copied: a run looks a setting up before it
looks at the data.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from . import syntax as s
from .compiler import span_text
from .diagnostics import Diagnostic, placed, suggest
from .periods import Period, period_range, rank
from .printer import GRANULARITY_WORDS, format_setting
from .source import SourceFile, Span

__all__ = ["Setting", "Scenario", "BASELINE", "ScenarioError", "check_setting", "scenario_from_sets", "read_scenarios",
           "scenarios_of"]


@attrs.frozen
class Setting:
    """One ``set`` (or ``replace``) of a scenario, checked against the plan."""

    span: Span
    name: str
    value: s.Expr
    entity: str | None = None  # None: every entity
    periods: tuple[Period, ...] | None = None  # None: every period
    formula: bool = False  # a new formula (reads the scenario's values), not a value (reads the baseline's)
    text: str = ""  # as the canonical printer prints it (comments and line breaks dropped), for messages, reports and receipts

    def covers(self, entity: str | None, period: Period | None) -> bool:
        """Whether this setting decides the cell (``entity``, ``period``)."""
        if self.entity is not None and entity != self.entity:
            return False
        if self.periods is None:
            return True
        # a setting for some periods leaves alone a use with no period at all
        return period is not None and any(p == period or p.contains(period) for p in self.periods)

    def as_dict(self) -> dict:
        """The setting as JSON holds it: its text, where it was written, and what it decides."""
        return {"text": self.text, "span": self.span.as_dict(), "formula": self.formula, "entity": self.entity,
                "periods": None if self.periods is None else [str(p) for p in self.periods]}


@attrs.frozen
class Scenario:
    """A named set of settings; the baseline has none."""

    name: str
    settings: tuple[Setting, ...] = ()
    description: str | None = None
    based_on: tuple[str, ...] = ()  # the scenarios it builds on, outermost first
    span: Span | None = None

    sources: dict = attrs.field(factory=dict, eq=False)  # file name -> SourceFile, for the text of its spans
    tests: tuple = attrs.field(default=(), eq=False)  # the tests written under it in its files
    origin: str | None = None  # the file or folder it was read from

    def text_of(self, span: Span) -> str:
        source = self.sources.get(span.file)
        return "" if source is None else span_text(source, span)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(setting.name for setting in self.settings)

    def settings_for(self, name: str) -> tuple[Setting, ...]:
        """The settings of ``name``, the one written last first (a later setting wins)."""
        return tuple(x for x in reversed(self.settings) if x.name == name)


BASELINE = Scenario("baseline")


# ---- reading and checking scenarios --------------------------------------------------------------

class ScenarioError(Exception):
    """A scenario (a file, or a ``--set`` option) that does not check: every diagnostic, with the texts to show them."""

    def __init__(self, diagnostics, sources):
        super().__init__(f"{len(diagnostics)} problem(s) in a scenario")
        self.diagnostics, self.sources = list(diagnostics), dict(sources)

    def __str__(self) -> str:
        return placed(self.args[0], self.diagnostics, self.sources)


_SETTABLE = {s.InputDecl: "an input", s.ParameterDecl: "a parameter", s.DefineDecl: "a definition"}


class _ScenarioChecker:
    def __init__(self, plan, dataset):
        from .checker import ExpressionChecker

        self.plan = plan
        self.dataset = dataset
        self.declarations = plan.declarations
        self.expressions = ExpressionChecker(plan.declarations)
        self.errors: list[Diagnostic] = []

    def error(self, message, span, suggestion=None):
        self.errors.append(Diagnostic("error", message, span, suggestion))

    def setting(self, clause: s.SetClause, keyword: bool = False) -> Setting | None:
        """``clause`` checked; ``keyword``: it was written in a file, with `set` or `replace`, not as a ``--set`` option."""
        target = clause.target
        decl = self.declarations.get(target.name)
        if decl is None or type(decl) not in _SETTABLE:
            self._not_settable(target, decl)
            return None
        if clause.formula and not isinstance(decl, s.DefineDecl):
            self.error(f"`replace` gives a definition a new formula; `{target.name}` is {_SETTABLE[type(decl)]}",
                       target.name_span, f"to change its value write `set {target.name} = ...`")
            return None
        entity = self._entity(target, decl)
        periods = self._periods(target, decl)
        kinds = frozenset(getattr(decl, "kinds", ()) or ())
        if entity is not None and entity is not _BAD:
            kinds = frozenset({self.dataset.organisations[entity].kind})
        what = f"the formula given for `{decl.name}`" if clause.formula else f"the value set for `{decl.name}`"
        value, errors, used = self.expressions.check(clause.value, decl.name, kinds, getattr(decl, "granularity", None),
                                                     decl.type, what)
        self.errors += errors
        if clause.formula:
            self._no_cycle(clause, decl.name, used)
        if errors or entity is _BAD or periods is _BAD:
            return None
        # shown as printed, not as written: a comment before a continuation line would read as part of the value
        return Setting(clause.span, decl.name, value, entity, periods, clause.formula, format_setting(clause, keyword))

    def _not_settable(self, target: s.SettingTarget, decl):
        if decl is None:
            self.error(f"unknown name `{target.name}`", target.name_span, suggest(target.name, self.declarations))
        else:
            kind = {s.FlagDecl: "a flag", s.DeadlineDecl: "a deadline"}.get(type(decl), "not a value")
            self.error(f"a scenario sets inputs, parameters and definitions; `{target.name}` is {kind}", target.name_span,
                       "set what the flag is worked out from instead" if isinstance(decl, s.FlagDecl) else None)

    def _entity(self, target: s.SettingTarget, decl):
        if target.entity is None:
            return None
        organisations = self.dataset.organisations
        if not getattr(decl, "kinds", ()):
            self.error(f"`{decl.name}` has one value for every organisation; it cannot be set for {target.entity}",
                       target.entity_span, f"leave out `for {target.entity}`")
            return _BAD
        if target.entity not in organisations:
            self.error(f"no organisation {target.entity!r} in {self.dataset.source}", target.entity_span,
                       suggest(target.entity, organisations))
            return _BAD
        kind = organisations[target.entity].kind
        if kind not in decl.kinds:
            self.error(f"`{decl.name}` is worked out per {' or '.join(decl.kinds)}; {target.entity} is a {kind}",
                       target.entity_span)
            return _BAD
        return target.entity

    def _periods(self, target: s.SettingTarget, decl):
        if target.periods is None:
            return None
        first, last = target.periods
        periods = tuple(period_range(first, last))
        year = self.plan.year
        granularity = getattr(decl, "granularity", None)
        for period in periods:
            if not year.contains(period):
                self.error(f"{period} is outside the policy year {year}", target.periods_span)
                return _BAD
            if isinstance(decl, s.ParameterDecl):
                continue
            if granularity is None or rank(period.kind) < rank(granularity):
                self.error(f"`{decl.name}` is {GRANULARITY_WORDS.get(granularity, 'given once')}; {period} is a {period.kind}",
                           target.periods_span, f"name a {granularity} or a longer period" if granularity else None)
                return _BAD
            if not any(self.plan.applies(decl.name, part) for part in period.parts(granularity)) \
                    if period.kind != granularity else not self.plan.applies(decl.name, period):
                first_day, last_day = decl.during
                self.error(f"`{decl.name}` applies only from {first_day} to {last_day}, not in {period}", target.periods_span)
                return _BAD
        if not isinstance(decl, s.DefineDecl) and not any(self._read_in(decl.name, period) for period in periods):
            self.error(f"nothing reads `{decl.name}` in {_periods_text(periods)}, so setting it there changes no figure: "
                       f"{self._readers_text(decl.name)}", target.periods_span, "name a period in which it is read")
            return _BAD
        return periods

    def _read_in(self, name: str, period: Period) -> bool:
        """Whether a rule that uses ``name`` is worked out in some part of ``period``."""
        for reader in self.plan.program.graph.successors(name):
            bounds = self.plan.during.get(reader)
            if bounds is None or (bounds[0] <= period.last_day and period.first_day <= bounds[1]):
                return True
        return False

    def _readers_text(self, name: str) -> str:
        readers = []
        for reader in sorted(self.plan.program.graph.successors(name)):
            during = getattr(self.declarations[reader], "during", None)
            readers.append(f"{reader} (during {_periods_text(during)})" if during else reader)
        return f"it is read only by {', '.join(readers)}" if readers else "no rule uses it"

    def _no_cycle(self, clause: s.SetClause, name: str, used: set[str]):
        circular = sorted(used & self.plan.downstream({name}))
        if circular:
            self.error(f"circular formula: `{circular[0]}` depends on `{name}`, so `{name}` cannot be worked out from it",
                       clause.value.span, "a new formula may use only names that do not depend on the one it replaces")


_BAD = object()


def _periods_text(periods) -> str:
    """A run of periods (or a ``during`` pair) as written in a policy: ``2021-05`` or ``2021-04 to 2021-09``."""
    return str(periods[0]) if periods[0] == periods[-1] else f"{periods[0]} to {periods[-1]}"


def check_setting(clause: s.SetClause, source: SourceFile, plan, dataset) -> Setting:
    """One setting checked against the plan and data; raises :class:`ScenarioError`."""
    checker = _ScenarioChecker(plan, dataset)
    setting = checker.setting(clause)
    if checker.errors or setting is None:
        raise ScenarioError(checker.errors, {source.name: source})
    return setting


def scenario_from_sets(texts, plan, dataset, name: str = "--set") -> Scenario:
    """One scenario from ``--set`` option texts (``TARGET = EXPR``); raises :class:`ScenarioError`."""
    from .parser import parse_setting

    checker = _ScenarioChecker(plan, dataset)
    sources, settings = {}, []
    for k, text in enumerate(texts):
        source = SourceFile("--set" if len(texts) == 1 else f"--set#{k + 1}", text)
        sources[source.name] = source
        clause, errors = parse_setting(source)
        checker.errors += errors
        if clause is not None:
            setting = checker.setting(clause)
            if setting is not None:
                settings.append(setting)
    if checker.errors:
        raise ScenarioError(checker.errors, sources)
    return Scenario(name, tuple(settings), sources=sources)


def read_scenarios(path, plan, dataset) -> dict[str, Scenario]:
    """Every scenario of a ``.plan`` file, or of every ``.plan`` file in a folder, by name; raises :class:`ScenarioError`."""
    from .compiler import read_pack, read_policy_file

    folder = Path(path)
    return scenarios_of(read_pack(folder) if folder.is_dir() else [read_policy_file(folder)], plan, dataset, str(path))


def scenarios_of(files, plan, dataset, origin: str) -> dict[str, Scenario]:
    """Every scenario of the scenario files' texts ``files`` (:class:`SourceFile` s), by name, as :func:`read_scenarios`."""
    from .checker import check_tests
    from .parser import parse_source

    checker = _ScenarioChecker(plan, dataset)
    sources = {source.name: source for source in files}
    declared: dict[str, tuple[s.ScenarioDecl, SourceFile]] = {}
    tests: list[s.TestDecl] = []
    for source in files:
        tree, errors = parse_source(source)
        checker.errors += errors
        for decl in tree.declarations:
            if isinstance(decl, s.TestDecl) and decl.under is not None:
                tests.append(decl)
            elif isinstance(decl, s.TestDecl):
                checker.error("a test in a scenario file names the scenario it runs under", decl.name_span,
                              "add a line `under NAME`")
            elif not isinstance(decl, s.ScenarioDecl):
                checker.error("a scenario file holds scenarios only", decl.span,
                              "rules belong in the pack; a scenario changes them with `set` and `replace`")
            elif decl.name in declared:
                checker.error(f"the scenario `{decl.name}` is declared twice", decl.name_span)
            else:
                declared[decl.name] = (decl, source)
    own = {name: tuple(x for x in (checker.setting(c, keyword=True) for c in decl.settings) if x is not None)
           for name, (decl, _) in declared.items()}
    scenarios = {}
    chains = _based_on(declared, checker)
    for name, (decl, _) in declared.items():
        chain = chains[name]
        if chain is None:
            continue
        settings = tuple(x for base in chain for x in own[base]) + own[name]
        scenarios[name] = Scenario(name, settings, decl.description, tuple(chain), decl.span, sources)
    for test in tests:
        name, span = test.under
        if name not in declared:
            checker.error(f"no scenario `{name}` in the files given", span, suggest(name, declared))
    checked, errors = check_tests(tests, plan.declarations)
    checker.errors += errors
    if checker.errors:
        raise ScenarioError(checker.errors, sources)
    for name in scenarios:
        scenarios[name] = attrs.evolve(scenarios[name], tests=tuple(x for x in checked if x.under[0] == name), origin=origin)
    return scenarios


MAX_BASES = 100  # the scenarios one builds on, directly or not; real files build on a handful


class _Resolving:
    """A scenario whose ``based on`` is being worked out: the bases still to follow, what it builds on so far."""

    def __init__(self, name: str, decl: s.ScenarioDecl):
        self.name, self.bases, self.chain, self.ok = name, iter(decl.based_on), {}, True
        self.span: Span | None = None  # the `based on` being followed


def _based_on(declared, checker) -> dict[str, tuple[str, ...] | None]:
    """The scenarios each one builds on, outermost first; None (with an error, reported once) for an
    unknown, circular or too long ``based on``.

    Each scenario is worked out once and remembered: a diamond (two scenarios built on one, a third
    on both, and so on) would otherwise be worked out again along every path, twice per level. The
    walk keeps its own stack, so a long chain cannot exhaust Python's.
    """
    chains: dict[str, tuple[str, ...] | None] = {}
    reported: set[str] = set()  # the scenarios whose cycle has been reported
    for root in declared:
        if root in chains:
            continue
        stack = [_Resolving(root, declared[root][0])]
        depth = {root: 0}  # the scenarios on the stack, by their place in it
        while stack:
            top = stack[-1]
            step = next(top.bases, None) if top.ok else None
            if step is None:
                stack.pop()
                del depth[top.name]
                chains[top.name] = tuple(top.chain) if top.ok else None
                if stack:
                    _build_on(stack[-1], top.name, chains[top.name], checker)
                continue
            base, top.span = step
            if base in depth:
                _circular(stack[depth[base]:], top.span, reported, checker)
                top.ok = False
            elif base not in declared:
                checker.error(f"no scenario `{base}` in the files given", top.span, suggest(base, declared))
                top.ok = False
            elif base in chains:
                _build_on(top, base, chains[base], checker)
            else:
                depth[base] = len(stack)
                stack.append(_Resolving(base, declared[base][0]))
    return chains


def _build_on(scenario: _Resolving, base: str, chain: tuple[str, ...] | None, checker) -> None:
    """Add ``base`` (which builds on ``chain``) to what ``scenario`` builds on."""
    if chain is None:
        scenario.ok = False  # the base's own error says why
        return
    scenario.chain.update(dict.fromkeys((*chain, base)))
    if len(scenario.chain) > MAX_BASES:
        checker.error(f"`{scenario.name}` builds on more than {MAX_BASES:,} scenarios, more than planlang follows",
                      scenario.span, "build on fewer: set in this scenario what the others set")
        scenario.ok = False


def _circular(cycle: list[_Resolving], closing: Span, reported: set[str], checker) -> None:
    """An error for each scenario of a cycle, at the `based on` that comes back to it (once per scenario)."""
    names = [x.name for x in cycle]
    spans = [closing, *(x.span for x in cycle[:-1])]
    for k, (name, span) in enumerate(zip(names, spans)):
        if name not in reported:
            reported.add(name)
            checker.error(f"circular `based on`: {' -> '.join((*names[k:], *names[:k], name))}", span)
