"""The one loader of a command's inputs: its pack, its data and its scenarios, each checked alike for every command.

    pack(args)              --policy's folder compiled (PolicyError if it has errors)
    data(args, program)     --data read for the program (limited by --max-data-mb), or no data when none is given
    load(args, writes)      both, after refusing outputs that would write over what the command reads
    Inputs.plan             the compiled plan, built once, when first asked for
    Inputs.scenarios()      --scenario FILE_OR_DIR[:NAME] (each) with --set layered on each; --set alone is one
    Inputs.scenario()       the one scenario a command that runs one takes (the baseline when none is given)
    Inputs.filters()        --only and --entity checked once: a name or code that does not exist is a usage error

Each step stays where the command asks for it, so a command line with several problems reports
the same one first as it always has.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from .. import syntax as s
from ..compiler import Program, compile_pack
from ..data import Dataset, load_data, make_dataset
from ..diagnostics import InputError, UsageError, suggest
from ..files import refuse_overwrites
from ..plan import Plan, compile_plan
from ..render import Selection
from ..scenario import BASELINE, Scenario, read_scenarios, scenario_from_sets
from . import messages

__all__ = ["Inputs", "load", "pack", "data", "no_data", "max_bytes", "scenario_spec"]


def pack(args) -> Program:
    return compile_pack(args.policy)


def max_bytes(args) -> int:
    return args.max_data_mb * 1024 * 1024


def no_data() -> Dataset:
    return make_dataset([], {}, {}, "no data")


def data(args, program: Program) -> Dataset:
    """The data of ``--data`` as ``program`` reads it; no organisations at all when the command was given none."""
    if not args.data:
        if getattr(args, "map", None):
            raise UsageError("reads a workbook, but no --data was given", f"--map {args.map}", "give the workbook as --data")
        return no_data()
    dataset = load_data(args.data, program, max_bytes=max_bytes(args), mapping=getattr(args, "map", None))
    for text in dataset.warnings:
        messages.warning(text)
    return dataset


def load(args, writes: dict[str, str | None] | None = None, *, documents: bool = False) -> Inputs:
    """The pack and the data of ``args``, once the files the command ``writes`` (option: path) are known
    not to be any it reads (with ``documents``, the documents the pack cites too)."""
    program = pack(args)
    _refuse_overwrites(args, program, writes or {}, documents=documents)
    return Inputs(args, program, data(args, program))


@attrs.define
class Inputs:
    """What a command works on: the parsed ``args``, the compiled ``program`` and its ``dataset``."""

    args: object
    program: Program
    dataset: Dataset
    _plan: Plan | None = attrs.field(default=None, init=False)
    _filters: tuple[frozenset | None, frozenset | None] | None = attrs.field(default=None, init=False)

    @property
    def plan(self) -> Plan:
        """The compiled plan, built the first time a step asks for it."""
        if self._plan is None:
            self._plan = compile_plan(self.program)
        return self._plan

    def scenarios(self) -> list[Scenario]:
        """The scenarios of ``--scenario FILE_OR_DIR[:NAME]`` (each), with ``--set`` layered on top of each;
        ``--set`` alone is one scenario."""
        args, plan, dataset = self.args, self.plan, self.dataset
        extra = scenario_from_sets(args.set, plan, dataset) if args.set else None
        chosen: list[Scenario] = []
        for spec in args.scenario or ():
            path, name = scenario_spec(spec)
            found = read_scenarios(path, plan, dataset)
            if name is None:
                if not found:
                    raise InputError("holds no scenario", path, "declare one with `scenario NAME` and `set` lines")
                chosen += found.values()
            elif name in found:
                chosen.append(found[name])
            else:
                raise InputError(f"has no scenario `{name}`", path, suggest(name, found) or f"it has {', '.join(found) or 'none'}")
        if extra is None:
            return chosen
        if not chosen:
            return [extra]
        return [attrs.evolve(x, settings=x.settings + extra.settings, sources={**x.sources, **extra.sources}) for x in chosen]

    def scenario(self) -> Scenario:
        """The one scenario of a command that runs one: the baseline when none is given."""
        scenarios = self.scenarios()
        if len(scenarios) > 1:
            raise InputError(f"names {len(scenarios)} scenarios ({', '.join(x.name for x in scenarios)}); this command runs one",
                             "--scenario", "name one as FILE:NAME, or use `planlang compare` to see them side by side")
        return scenarios[0] if scenarios else BASELINE

    def filters(self) -> tuple[frozenset | None, frozenset | None]:
        """The outputs of ``--only`` and the organisations of ``--entity`` (None: all), checked alike by every command
        that takes them: a name or code that does not exist is a usage error (64)."""
        if self._filters is not None:
            return self._filters
        args = self.args
        outputs = self.program.of_kind(s.DefineDecl)
        for name in args.only or ():
            if name not in outputs:
                raise UsageError(f"`{name}` is not a definition of {args.policy}", "--only", suggest(name, outputs))
        for code in args.entity or ():
            self.dataset.known(code, "--entity")
        self._filters = frozenset(args.only) if args.only else None, frozenset(args.entity) if args.entity else None
        return self._filters

    def selection(self) -> Selection | None:
        """``--only NAME... --entity CODE...`` as a :class:`Selection`; None keeps everything."""
        names, codes = self.filters()
        return None if names is None and codes is None else Selection(names, codes)


def scenario_spec(spec: str) -> tuple[str, str | None]:
    """``--scenario FILE_OR_DIR[:NAME]`` as its path and the name, if one is given."""
    if not Path(spec).exists() and ":" in spec:
        path, name = spec.rsplit(":", 1)
        return path, name
    return spec, None


def _refuse_overwrites(args, program: Program, writes: dict[str, str | None], *, documents: bool) -> None:
    """Refuse, before any work, an output that would write over a file the command reads (the pack's files, the
    data and the files beside it, scenario files and, with ``documents``, the cited documents) or over another output."""
    if not any(writes.values()):
        return
    read: list[tuple[str, str | Path]] = [("the policy file", p) for p in sorted(Path(args.policy).glob("*.plan"))]
    read.append(("--data", args.data))
    if getattr(args, "map", None):
        read.append(("--map", args.map))
    if Path(args.data).suffix.lower() in (".csv", ".parquet"):
        from ..data.columnar import companions

        read += [("the file read beside --data", p) for p in companions(Path(args.data))]
    for spec in args.scenario or ():
        path = Path(scenario_spec(spec)[0])
        read += [("the scenario file", p) for p in (sorted(path.glob("*.plan")) if path.is_dir() else [path])]
    if documents:
        from ..audit.sources import SourceLibrary

        library = SourceLibrary(program.directory, getattr(args, "sources", None))
        read += [("the cited document", p) for name in program.sources if (p := library.locate(name)) is not None]
    refuse_overwrites([(option, path) for option, path in writes.items() if path], read)

