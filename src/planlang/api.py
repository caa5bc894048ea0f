"""The Python door: a pack loaded once, run on data under scenarios, its values read exactly.

    pack = planlang.load("policies/2021_22")                  # Pack (PolicyError if it does not compile)
    what_if = pack.scenario("erf_thresholds = erf_thresholds - 5%")
    results = pack.run("examples/erf_worked_example.json", scenario=what_if)
    results.value("erf_additional_funding", "EXAMPLE2", "2021-05")   # Value: exact, with its unit
    results.frame()                                           # pandas, long form (the `frame` extra)
    pack.compare(data, what_if), pack.solve(...), pack.sweep(...), planlang.diff(old, new)

Each method asks what the command of its name asks (:mod:`planlang.cli`), through the same
stages and checks, so it gives the same figures; a problem raises :class:`PolicyError`,
:class:`~planlang.scenario.ScenarioError` or :class:`InputError` whose message holds the placed
diagnostics the command line prints. ``docs/python.md`` walks through it; the suite runs it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import weakref
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from . import syntax as s
from .audit.layout import unit_of
from .compare import compare as _compare
from .compiler import Program, compile_pack, read_pack, read_policy_file
from .data import Dataset, load_data, make_dataset
from .diagnostics import UsageError, suggest
from .explanation import TraceNode, explain
from .files import MAX_DATA_BYTES
from .parser import parse_setting, parse_source
from .periods import Period, period_in_year
from .plan import Plan, compile_plan
from .render import (
    Selection,
    assumed_defaults,
    compare_json,
    compare_text,
    explanation_text,
    format_value,
    run_json,
    scenario_json,
    solve_text,
)
from .render.compare import flags_json
from .render.diff import diff_json, diff_markdown, diff_text
from .rulediff import diff_programs
from .run import BACKENDS, choose_backend, run
from .scenario import BASELINE, ScenarioError, check_setting, read_scenarios, scenario_from_sets, scenarios_of
from .scenario import Scenario as _Checked
from .source import SourceFile
from .values import Missing, decimal_text, money_text

__all__ = ["load", "diff", "Pack", "Scenario", "Results", "Value", "Comparison", "Solution", "Sweep", "Diff"]


def load(directory: str | os.PathLike) -> "Pack":
    """Compile the policy pack in ``directory``; raises :class:`PolicyError` with every placed diagnostic."""
    program = compile_pack(directory)
    return Pack(program, compile_plan(program), os.fspath(directory))


def diff(old: "Pack | str | os.PathLike", new: "Pack | str | os.PathLike") -> "Diff":
    """What changed from the pack ``old`` to ``new`` (packs or folders): declarations added, removed, renamed, changed."""
    return Diff(diff_programs(_pack(old).program, _pack(new).program))


def _pack(given) -> "Pack":
    return given if isinstance(given, Pack) else load(given)


# which pack read each dataset: a dataset checked against one pack's inputs means nothing to another's
_READ_BY: "weakref.WeakKeyDictionary[Dataset, Program]" = weakref.WeakKeyDictionary()


@attrs.frozen(eq=False)
class Pack:
    """A compiled policy pack: made once by :func:`load`, run many times.

    ``program`` is the compiled pack, for planlang's own modules; the methods are the door.
    """

    program: Program = attrs.field(repr=False)
    _plan: Plan = attrs.field(repr=False)
    path: str
    # each dataset's baseline run by backend, worked out once: a dataset is read-only once read (a what-if never changes it)
    _baselines: "weakref.WeakKeyDictionary[Dataset, dict]" = attrs.field(
        factory=weakref.WeakKeyDictionary, repr=False, init=False)

    @property
    def title(self) -> str:
        return self.program.title

    @property
    def year(self) -> Period:
        return self.program.year

    def load_data(self, path: str | os.PathLike, *, max_mb: int | None = None) -> Dataset:
        """Read a ``.json``, ``.xlsx``, ``.csv`` or ``.parquet`` data file for this pack, checking every value
        (an :class:`InputError` lists the problems, each placed); read it once to run it many times."""
        if max_mb is not None and (type(max_mb) is not int or not 1 <= max_mb <= 1024 * 1024):
            raise UsageError(f"expected a whole number of megabytes from 1 to 1048576, found {max_mb!r}", "max_mb")
        limit = MAX_DATA_BYTES if max_mb is None else max_mb * 1024 * 1024
        dataset = load_data(path, self.program, max_bytes=limit)
        _READ_BY[dataset] = self.program
        return dataset

    def scenario(self, *settings: str, file: str | os.PathLike | None = None, name: str | None = None,
                 text: str | None = None) -> "Scenario":
        """A what-if: ``TARGET = EXPR`` settings (as ``--set``), or the scenario ``name`` of a ``.plan`` file (or
        folder, or of a scenario file's ``text``), the settings layered on top of it (as ``--scenario FILE:NAME --set ...``).

        What does not depend on data is checked now: the settings' syntax, and those that name no
        organisation in full. The rest is checked against each dataset the scenario runs on.
        """
        if file is not None or text is not None:
            declared = self.scenarios(file, text=text)
            where = "text" if file is None else os.fspath(file)
            if name is None and len(declared) != 1:
                raise UsageError(f"holds {len(declared)} scenarios ({', '.join(declared)}); say which with name=", where)
            name = name if name is not None else next(iter(declared))
            if name not in declared:
                raise UsageError(f"has no scenario `{name}`", where, suggest(name, declared))
        for k, setting in enumerate(settings):
            source = SourceFile("--set" if len(settings) == 1 else f"--set#{k + 1}", setting)
            clause, errors = parse_setting(source)
            if errors:
                raise ScenarioError(errors, {source.name: source})
            if clause.target.entity is None:
                check_setting(clause, source, self._plan, _NO_DATA)
        return Scenario(name or "what-if", tuple(settings), None if file is None else os.fspath(file), self, text)

    def scenarios(self, file: str | os.PathLike | None = None, *, text: str | None = None) -> dict[str, "Scenario"]:
        """Every scenario declared in a ``.plan`` file, in the ``.plan`` files of a folder, or in the ``text`` of a
        scenario file (placed as the file ``scenario``), by name."""
        if (file is None) == (text is None):
            raise UsageError("give a scenario file or folder, or a scenario file's text (not both)", "scenarios")
        if text is not None:
            sources = [SourceFile(_TEXT, text)]
        else:
            folder = Path(file)
            sources = read_pack(folder) if folder.is_dir() else [read_policy_file(folder)]
        names = []
        for source in sources:
            tree, errors = parse_source(source)
            if errors:
                raise ScenarioError(errors, {x.name: x for x in sources})
            names += [d.name for d in tree.declarations if isinstance(d, s.ScenarioDecl)]
        if text is not None:
            return {name: Scenario(name, (), None, self, text) for name in names}
        return {name: Scenario(name, (), os.fspath(file), self) for name in names}

    def run(self, data, scenario: "Scenario | None" = None, backend: str = "auto") -> "Results":
        """Every value of the pack on ``data`` (a path or a dataset of :meth:`load_data`), under ``scenario``.

        ``backend`` is ``exact``, ``vector`` or ``auto`` (the faster for the data's size), as ``run --backend``.
        """
        dataset = self._dataset(data)
        checked = self._checked(scenario, dataset)
        if backend == "auto":
            backend = choose_backend(dataset)
        elif backend not in BACKENDS:
            raise UsageError(f"no backend {backend!r}", "backend", f"the backends are auto, {', '.join(BACKENDS)}")
        baseline = self._baseline(dataset, backend)
        results = run(self._plan, dataset, checked, baseline=baseline, backend=backend) if checked.settings else baseline
        return Results(results)

    def compare(self, data, scenarios: "Scenario | Iterable[Scenario]", *, only: Iterable[str] | None = None,
                entities: Iterable[str] | None = None, backend: str = "exact") -> "Comparison | list[Comparison]":
        """What each scenario changes against the baseline on ``data``, as ``planlang compare``: a
        :class:`Comparison` for one scenario, a list of them for several.

        ``backend`` runs both sides, as in :meth:`run`; the figures are the same whichever runs them."""
        dataset = self._dataset(data)
        if backend == "auto":
            backend = choose_backend(dataset)
        elif backend not in BACKENDS:
            raise UsageError(f"no backend {backend!r}", "backend", f"the backends are auto, {', '.join(BACKENDS)}")
        one = isinstance(scenarios, Scenario)
        chosen = [scenarios] if one else list(scenarios)
        if not chosen:
            raise UsageError("compare needs a scenario: give one made by pack.scenario(...)", "scenarios")
        only, entities = set(_names(only)), set(_names(entities))
        for code in entities:
            dataset.known(code, "entities")
        definitions = self.program.of_kind(s.DefineDecl)
        for name in only:
            if name not in definitions:
                raise UsageError(f"`{name}` is not a definition of {self.path}", "only", suggest(name, definitions))
        baseline = self._baseline(dataset, backend)
        found = [Comparison(_compare(baseline, run(self._plan, dataset, self._checked(x, dataset), baseline=baseline,
                                                   backend=backend),
                                     only, entities)) for x in chosen]
        return found[0] if one else found

    def solve(self, data, vary: str, until: str, scenario: "Scenario | None" = None) -> "Solution":
        """Goal seek, as ``planlang solve``: the value of the input or parameter ``vary`` (``NAME for CODE in
        PERIOD``, ``NAME [in PERIOD]``) at which ``until`` is reached (``NAME for CODE in PERIOD = VALUE``,
        ``total NAME [in PERIOD] = VALUE``, ``flag NAME for CODE in PERIOD raised|cleared``)."""
        from .solve import read_goal, read_vary, solve

        dataset = self._dataset(data)
        checked = self._checked(scenario, dataset)
        baseline = run(self._plan, dataset)
        name, entity, periods, type_ = read_vary(vary, self._plan, dataset, "vary")
        goal, goal_type = read_goal(until, self._plan, dataset, "until")
        found = solve(baseline, checked, name, entity, periods, type_, goal)
        return Solution(_value(found.value, type_), _value(found.baseline_value, type_), _value(found.achieved, goal_type),
                        solve_text(vary, until, type_, goal_type, found))

    def sweep(self, data, vary: str | Sequence[str], outputs: str | Sequence[str], *, draws: int | None = None,
              seed: int = 0, scenario: "Scenario | None" = None, backend: str = "vector") -> "Sweep":
        """Each output's total over every organisation and period at each step of a grid (``NAME = A to B step
        S``), or over ``draws`` draws of uncertain inputs (``NAME = NAME * uniform(LOW, HIGH)``), as ``planlang sweep``."""
        from .render.sweep import sweep_json, sweep_text
        from .run.bulk import BACKENDS as BULK_BACKENDS
        from .run.bulk import step_results
        from .sweep import MAX_STEPS, covers_of, steps, summarise, sweep_outputs, sweep_varies

        for value, what, lowest, highest in ((draws, "draws", 1, MAX_STEPS), (seed, "seed", 0, 2**63 - 1)):
            if value is not None and (type(value) is not int or not lowest <= value <= highest):
                raise UsageError(f"expected a whole number of {what} from {lowest} to {highest:,}, found {value!r}", what)
        dataset = self._dataset(data)
        base = self._checked(scenario, dataset)
        names = sweep_outputs(_names(outputs), self.program, self.path, "outputs")
        if backend not in BULK_BACKENDS:
            raise UsageError(f"no backend {backend!r}", "backend", f"the backends are {', '.join(BULK_BACKENDS)}")
        grids, drawn, sources, total = sweep_varies(_names(vary), draws, self._plan, dataset, base)
        points, to_run = itertools.tee(steps(base, grids, drawn, sources, draws or 1, seed))
        results = step_results(self._plan, dataset, (step for _, step in to_run), names, backend)
        summaries = list(summarise(zip((point for point, _ in points), results), names))
        units = {name: self.program.declarations[name].type for name in names}
        count, seed = (draws, seed) if drawn else (None, None)
        covers = covers_of(self._plan, dataset, names)
        document = sweep_json(grids, drawn, names, units, summaries, count, seed, covers)
        title = f"{self.title} ({self.year}) on {dataset.source}: a sweep of {total:,} step{'s' * (total != 1)}"
        if base.settings:
            document = {"scenario": scenario_json(base), **document}
            title += f"\nunder the scenario {base.name}: {'; '.join(x.text for x in base.settings)}"
        return Sweep(tuple(summaries), document, sweep_text(title, grids, drawn, names, units, summaries, count, seed, covers))

    def _baseline(self, dataset: Dataset, backend: str = "exact"):
        held = self._baselines.setdefault(dataset, {})
        baseline = held.get(backend)
        if baseline is None:
            baseline = held[backend] = run(self._plan, dataset, backend=backend)
        return baseline

    def _dataset(self, data) -> Dataset:
        if not isinstance(data, Dataset):
            return self.load_data(data)
        if _READ_BY.get(data) is not self.program:
            raise UsageError("was not read for this pack", data.source, "read it with this pack's load_data(path)")
        return data

    def _checked(self, scenario: "Scenario | None", dataset: Dataset) -> _Checked:
        """The scenario checked against ``dataset`` (the baseline for None)."""
        if scenario is None:
            return BASELINE
        if not isinstance(scenario, Scenario) or scenario._pack is not self:
            raise UsageError("is not a scenario of this pack", "scenario", "make one with pack.scenario(...)")
        extra = scenario_from_sets(scenario.settings, self._plan, dataset, scenario.name) if scenario.settings else None
        if scenario.text is not None:
            declared = scenarios_of([SourceFile(_TEXT, scenario.text)], self._plan, dataset, _TEXT)[scenario.name]
        elif scenario.file is None:
            return extra
        else:
            declared = read_scenarios(scenario.file, self._plan, dataset)[scenario.name]
        if extra is None:
            return declared
        return attrs.evolve(declared, settings=declared.settings + extra.settings,
                            sources={**declared.sources, **extra.sources})


def _names(given: str | Iterable[str] | None) -> list[str]:
    """One name or several, as given: a lone string is one name, not its letters."""
    return [] if given is None else [given] if isinstance(given, str) else list(given)


_NO_DATA = make_dataset([], {}, {}, "no data")  # what a setting naming no organisation is checked against
_TEXT = "scenario"  # the file name a scenario given as text is placed in


@attrs.frozen
class Scenario:
    """A what-if made by :meth:`Pack.scenario`: settings (and a scenario of a file), checked against each dataset
    it runs on."""

    name: str
    settings: tuple[str, ...] = ()
    file: str | None = None
    _pack: Pack = attrs.field(default=None, repr=False, eq=False)
    text: str | None = attrs.field(default=None, repr=False)  # a scenario file's text, when it came as text


@attrs.frozen
class Value:
    """One value of a run. ``exact`` is the value itself: a :class:`~fractions.Fraction` for money, percentages,
    ratios, counts and numbers (a percentage as a fraction of one: 75% is 3/4), a bool for a flag, a date for a
    deadline; None when it is missing, and then ``missing`` says why (missing is never zero)."""

    exact: Fraction | bool | dt.date | str | None
    unit: str
    missing: str | None = None

    @property
    def decimal(self) -> Decimal | None:
        """A number as ``run --json`` and the CSV write it: money to the penny, others to 10 decimal places."""
        if type(self.exact) is not Fraction:
            return None
        return Decimal(money_text(self.exact) if self.unit == "money" else decimal_text(self.exact))

    def __str__(self) -> str:
        return "missing" if self.missing is not None else format_value(self.exact, self.unit)


def _value(value, unit: str) -> Value:
    if isinstance(value, Missing):
        return Value(None, unit, value.describe())
    return Value(value, unit)


class Results:
    """Every value of one run (:meth:`Pack.run`): read one with :meth:`value`, all with :meth:`frame`, the
    derivation of one with :meth:`explain`."""

    def __init__(self, results):
        self._results = results

    def __repr__(self) -> str:
        return f"<Results of {self._results.program.title} on {self._results.dataset.source} under {self.scenario}>"

    @property
    def scenario(self) -> str:
        return self._results.scenario.name

    def value(self, name: str, entity: str | None = None, period: Period | str | None = None) -> Value:
        """The value of ``name`` for ``entity`` (an organisation's code, when it is worked out per organisation)
        in ``period`` (``"2021-05"``, ``"2021/22 Q1"`` or a Period, when it has one)."""
        decl, entity, period = self._cell(name, entity, period)
        return _value(self._results.get(name, entity, period), unit_of(decl))

    def defaults(self) -> list[dict]:
        """The inputs assumed at their declared defaults, as ``run --json`` lists them under ``defaults``."""
        return assumed_defaults(self._results)

    def json(self, only: Iterable[str] | None = None, entities: Iterable[str] | None = None) -> dict:
        """What ``run --json --only ... --entity ...`` prints for this run, without the receipt (which vouches
        for a command line)."""
        results = self._results
        names, codes = set(_names(only)), set(_names(entities))
        definitions = results.program.of_kind(s.DefineDecl)
        for name in names:
            if name not in definitions:
                raise UsageError(f"`{name}` is not a definition of the pack", "only", suggest(name, definitions))
        for code in codes:
            results.dataset.known(code, "entities")
        chosen = Selection(frozenset(names) or None, frozenset(codes) or None) if names or codes else None
        document = run_json(results, only=chosen)
        if results.scenario.settings:
            document["scenario"] = scenario_json(results.scenario)
        return document

    def explain(self, name: str, entity: str | None = None, period: Period | str | None = None) -> TraceNode:
        """How the value was worked out, as a tree of :class:`TraceNode` down to the inputs and parameters."""
        _, entity, period = self._cell(name, entity, period)
        return explain(self._results, name, entity, period)

    def explain_text(self, name: str, entity: str | None = None, period: Period | str | None = None,
                     depth: int | None = None) -> str:
        """:meth:`explain` in the words ``planlang explain`` prints."""
        return explanation_text(self.explain(name, entity, period), depth)

    def frame(self, names: Iterable[str] | None = None):
        """Every definition's and flag's value (or those of ``names``) as a pandas DataFrame in long form: one row
        per value, columns organisation, period, name, value (a Decimal as :attr:`Value.decimal`; bool and
        dates as they are), unit, missing (why, or None), citation, exact (the exact value)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Results.frame() needs pandas: pip install 'planlang[frame]'") from None
        results = self._results
        declarations = results.program.declarations
        wanted = None if names is None else set(_names(names))
        kept = (s.DefineDecl, s.FlagDecl)
        for name in wanted or ():
            if not isinstance(declarations.get(name), kept):
                raise UsageError(f"`{name}` is not a definition or a flag of the pack", "names",
                                 suggest(name, [n for n, d in declarations.items() if isinstance(d, kept)]))
        rows = []
        for name, keys in results.scope.items():
            decl = declarations[name]
            if not isinstance(decl, kept) or (wanted is not None and name not in wanted):
                continue
            unit = unit_of(decl)
            citation = "; ".join(map(str, decl.citations)) or None
            for entity, period in keys:
                value = _value(results.get(name, entity, period), unit)
                rows.append((entity, None if period is None else str(period), name,
                             value.decimal if type(value.exact) is Fraction else value.exact, unit, value.missing,
                             citation, value.exact))
        return pandas.DataFrame(rows, columns=["organisation", "period", "name", "value", "unit", "missing", "citation",
                                               "exact"])

    def _cell(self, name: str, entity, period):
        """(declaration, entity, period) of a value asked for, each checked as ``planlang explain`` checks them."""
        program, dataset = self._results.program, self._results.dataset
        decl = program.declarations.get(name)
        if decl is None or isinstance(decl, (s.TestDecl, s.ScenarioDecl)):
            values = [n for n, d in program.declarations.items() if not isinstance(d, (s.TestDecl, s.ScenarioDecl))]
            raise UsageError(f"`{name}` is not declared in the pack", "name", suggest(name, values))
        kinds = getattr(decl, "kinds", ())
        if not kinds:
            entity = None
        elif entity is None:
            raise UsageError(f"`{name}` is worked out per {' or '.join(kinds)}: say which organisation", "entity")
        else:
            kind = dataset.organisations[dataset.known(entity, "entity")].kind
            if kind not in kinds:
                raise UsageError(f"`{name}` is worked out per {' or '.join(kinds)}; {entity} is a {kind}", "entity")
        granularity = getattr(decl, "granularity", None)
        if granularity is None and not isinstance(decl, s.ParameterDecl):
            return decl, entity, None
        if period is None:
            raise UsageError(f"`{name}` has a value per {granularity or 'period'}: say which period", "period")
        period = period if isinstance(period, Period) else period_in_year(period, program.year, "period")
        if not program.year.contains(period):
            raise UsageError(f"{period} is outside the policy year {program.year}", "period")
        if granularity is not None and period.kind != granularity:
            raise UsageError(f"`{name}` is {granularity}ly; {period} is a {period.kind}", "period")
        return decl, entity, period


class Comparison:
    """What one scenario changed against the baseline (:meth:`Pack.compare`); ``str()`` is ``planlang compare``'s text.

    ``differences`` lists every changed cell (largest £ change first) and ``totals`` every changed total of a
    money or count output over the organisations, per period and year; ``by_organisation`` and ``by_system``
    every changed year total of one organisation, or of a system's trusts and CCGs (with ``entity`` and
    ``covers``); each has ``name``, ``period``, ``baseline``, ``scenario`` and ``difference`` (exact, or
    missing), and ``change``.
    """

    def __init__(self, comparison):
        self._comparison = comparison
        self.baseline = Results(comparison.baseline)
        self.results = Results(comparison.scenario)
        self.differences = comparison.differences
        self.totals = comparison.totals
        self.by_organisation = comparison.by_organisation
        self.by_system = comparison.by_system
        self.flags_raised = comparison.flags_raised
        self.flags_cleared = comparison.flags_cleared

    @property
    def scenario(self) -> str:
        return self.results.scenario

    def __repr__(self) -> str:
        return f"<Comparison of {self.scenario}: {len(self.differences)} values changed>"

    def __str__(self) -> str:
        return compare_text([self._comparison])

    def json(self) -> dict:
        """What ``planlang compare --json`` prints for this scenario."""
        return compare_json([self._comparison])

    def settings(self) -> list[str]:
        """The scenario's settings as text, as ``compare --json`` lists them under ``sets``."""
        return [x.text for x in self._comparison.scenario.scenario.settings]

    def flags_json(self) -> dict:
        """The flags this scenario raises and clears, as :meth:`json` lists them (without working out the rest)."""
        return flags_json(self._comparison)

    def write_workbook(self, path: str | os.PathLike) -> None:
        """Write the compare workbook, as ``planlang compare --output FILE.xlsx`` does (atomically)."""
        from .audit.excel import write_compare_workbook

        write_compare_workbook(path, [self._comparison])

    def receipt(self, command: Sequence[str]) -> dict:
        """The receipt of this comparison, as ``planlang compare --receipt FILE`` writes it, recording ``command``."""
        from .audit.receipt import compare_receipt

        return compare_receipt([self._comparison], list(command))


@attrs.frozen
class Solution:
    """A goal seek's answer (:meth:`Pack.solve`): ``value`` reaches the goal (missing when none was found),
    ``baseline_value`` is where the search began and ``achieved`` what the goal's measure is at ``value``;
    ``str()`` is ``planlang solve``'s text."""

    value: Value
    baseline_value: Value
    achieved: Value
    text: str = attrs.field(repr=False)

    @property
    def reached(self) -> bool:
        return self.value.exact is not None  # a value not found is Value(None) with no reason given

    def __str__(self) -> str:
        return self.text


@attrs.frozen
class Sweep:
    """A sweep's outcome (:meth:`Pack.sweep`): ``steps`` holds each grid point's exact totals
    (:class:`~planlang.sweep.Summary`), :meth:`json` what ``sweep --json`` prints, ``str()`` its table."""

    steps: tuple
    _document: dict = attrs.field(repr=False)
    _text: str = attrs.field(repr=False)

    def json(self) -> dict:
        return self._document

    def __str__(self) -> str:
        return self._text


@attrs.frozen
class Diff:
    """The changes from one pack to another (:func:`diff`): ``changes`` as data, ``str()`` as ``planlang diff``
    prints them, :meth:`markdown` for a sign-off paper, :meth:`json` as ``diff --json``."""

    _diff: object = attrs.field(repr=False)

    @property
    def changes(self) -> tuple:
        return self._diff.changes

    def json(self) -> dict:
        return diff_json(self._diff)

    def markdown(self) -> str:
        return diff_markdown(self._diff)

    def __str__(self) -> str:
        return diff_text(self._diff)
