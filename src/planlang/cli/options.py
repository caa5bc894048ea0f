"""The options several commands share, each defined once here, with one help text wherever it appears.

    data         --data FILE (required, or optional with what it is for)   run compare explain solve sweep report
                 and --map FILE.toml (a workbook in another layout)        deadlines diff serve export
    data_limit   --max-data-mb N                                          every command that reads a data file
    scenario     --set 'TARGET = EXPR'..., --scenario FILE_OR_DIR[:NAME]  run compare explain solve sweep report
    filters      --only NAME..., --entity CODE...                         run compare
    entity       --entity CODE (one organisation), --period PERIOD        explain
    json         --json                                                   run compare explain solve sweep diff
    output_file  --output FILE: a file the command writes                 run compare report
    output_names --output NAME...: the definitions a command totals       sweep diff
    receipt      --receipt FILE                                           run compare report
    backend      --backend: the engine of one run, or of many steps       run sweep

``--output`` has two meanings, and each its own definition: a file written (its kinds in the
metavar) or the outputs totalled. ``--backend`` chooses among the run's backends (with ``auto``) or
among the bulk backends of a sweep. The values shown in help (the backends, the limits) are read
from the modules that own them, when a command's parser is built: not for ``--version`` or ``--help``.
"""

from __future__ import annotations

import argparse

__all__ = ["DATA_HELP", "MAP_HELP", "data", "data_limit", "scenario", "filters", "entity", "json", "output_file", "output_names",
           "receipt", "backend", "count_of", "depth"]

MAP_HELP = ("read --data, a workbook in another layout, through this mapping: where each input is (sheet, cell, range, "
            "or row code and period heading), its scale and sign, whose each sheet is")
DATA_HELP = "a .json, .xlsx, .csv or .parquet data file (.csv/.parquet: long form beside <stem>.organisations.csv)"


def data(command, *, purpose: str | None = None) -> None:
    """``--data FILE``: required, unless ``purpose`` says what the optional data is for; with it ``--map FILE``."""
    command.add_argument("--data", required=purpose is None, metavar="FILE",
                         help=DATA_HELP if purpose is None else f"{purpose}: {DATA_HELP}")
    command.add_argument("--map", metavar="FILE.toml", help=MAP_HELP)


def data_limit(command) -> None:
    from ..files import MAX_DATA_BYTES

    command.add_argument("--max-data-mb", type=_megabytes, metavar="N", default=MAX_DATA_BYTES // (1024 * 1024),
                         help=f"read a data file of up to N MB (default {MAX_DATA_BYTES // (1024 * 1024)})")


def scenario(command) -> None:
    command.add_argument("--set", action="append", metavar="'TARGET = EXPR'",
                         help="a what-if setting, as a test's `given` (repeatable; together one scenario)")
    command.add_argument("--scenario", action="append", metavar="FILE_OR_DIR[:NAME]",
                         help="scenarios declared in .plan files outside the pack (repeatable)")


def filters(command, verb: str) -> None:
    """``--only`` and ``--entity``, checked alike by every command that takes them (:func:`.load.Inputs.filters`)."""
    command.add_argument("--only", nargs="+", metavar="NAME", help=f"{verb} only these outputs")
    command.add_argument("--entity", nargs="+", metavar="CODE", help=f"{verb} only these organisations")


def entity(command) -> None:
    """One organisation and one period, for a command about one value."""
    command.add_argument("--entity", metavar="CODE", help="the organisation (when the value is per organisation)")
    command.add_argument("--period", metavar="PERIOD", help="the period (when the value has one)")


def json(command, help_: str = "print one JSON object") -> None:
    command.add_argument("--json", action="store_true", help=help_)


def output_file(command, metavar: str, help_: str, *, required: bool = False) -> None:
    """``--output FILE``: a file the command writes, of the kinds ``metavar`` names (``-o`` too when it is required)."""
    flags = ("-o", "--output") if required else ("--output",)
    command.add_argument(*flags, required=required, metavar=metavar, help=help_)


def output_names(command, help_: str, *, required: bool = False) -> None:
    """``--output NAME...``: the definitions the command totals over every organisation and period."""
    command.add_argument("--output", required=required, nargs="+", metavar="NAME", help=help_)


def receipt(command, help_: str) -> None:
    command.add_argument("--receipt", metavar="FILE", help=help_)


def backend(command, *, bulk: bool = False) -> None:
    """``--backend``: the engine of one run (with ``auto``), or, with ``bulk``, the engine of a sweep's many steps."""
    if bulk:
        from ..run.bulk import BACKENDS as BULK_BACKENDS

        command.add_argument("--backend", choices=list(BULK_BACKENDS), default="vector",
                             help="the evaluation backend: vector (a chunk of steps at once along a steps' axis, exact to "
                                  "the penny; the default), compiled (the same with formulas fused into compiled loops; "
                                  "needs the fast extra, else it is vector) or exact (one step at a time); all give the "
                                  "same figures")
    else:
        from ..run import BACKENDS

        command.add_argument("--backend", choices=("auto", *BACKENDS), default="auto",
                             help="the engine that works the figures out: exact (one value at a time), vector (every "
                                  "organisation at once, exact to the penny), compiled (vector with formulas fused into "
                                  "compiled loops, for large data; needs the fast extra) or auto (the faster for the data's size; "
                                  "the default). Every backend prints the same figures; explain always records on the exact "
                                  "engine")


def count_of(what: str, highest: int, lowest: int = 1):
    """An argparse type: a whole number from ``lowest`` to ``highest``."""
    def parse(text: str) -> int:
        if not text.isascii() or not text.isdigit() or not lowest <= int(text) <= highest:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what} from {lowest} to {highest:,}, found {text!r}")
        return int(text)

    return parse


def depth(text: str) -> int:
    """An argparse type: a number of levels of an explanation."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of levels such as 2, found {text!r}")
    return int(text)


def _megabytes(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"expected a whole number of megabytes from 1 to 1048576, found {text!r}")
    return int(text)
