"""Run the command the parsed command line names: its family's module is imported only now, and
every failure becomes its exit status (:mod:`.exits`) and a message, never a traceback."""

from __future__ import annotations

import importlib
import os
import sys

from ..diagnostics import DataErrors, InputError, PolicyError, UsageError
from ..scenario import ScenarioError
from . import messages
from .exits import EXIT_DATA, EXIT_INTERNAL, EXIT_POLICY, EXIT_USAGE

__all__ = ["dispatch"]


def dispatch(args) -> int:
    """Run the command ``args`` names (``cmd_<command>`` of the module ``args.family``); return its exit status."""
    try:
        handler = getattr(importlib.import_module(f".{args.family}", __package__), f"cmd_{args.command}")
        return handler(args)
    except PolicyError as error:
        messages.print_diagnostics(error.diagnostics, error.sources, sys.stderr)
        print(f"{args.policy}: the policy does not compile: {messages.summary(error.diagnostics)}", file=sys.stderr)
        return EXIT_POLICY
    except ScenarioError as error:
        messages.print_diagnostics(error.diagnostics, error.sources, sys.stderr)
        print(f"planlang: error: the scenario does not check: {messages.summary(error.diagnostics)}", file=sys.stderr)
        return EXIT_DATA
    except DataErrors as error:
        for problem in error.errors:
            messages.error(str(problem))
        print(f"planlang: {error.summary}", file=sys.stderr)
        return EXIT_DATA
    except UsageError as error:
        messages.error(str(error))
        return EXIT_USAGE
    except InputError as error:
        messages.error(str(error))
        return EXIT_DATA
    except OSError as error:
        if error.filename is None:  # not about a path planlang was given: unexpected
            messages.internal(error)
            return EXIT_INTERNAL
        # a path the system cannot even look up (a name too long, a loop of links) wherever it is first touched
        messages.error(f"{os.fsdecode(error.filename)}: cannot be read: {error.strerror or error}")
        return EXIT_DATA
    except RecursionError:
        print(f"planlang: error: {args.policy}: an expression or a chain of definitions nests too deeply to follow "
              f"(beyond {sys.getrecursionlimit():,} nested steps)\n  help: split long expressions into named definitions",
              file=sys.stderr)
        return EXIT_POLICY
    except Exception as error:  # the last line of defence: never show a traceback
        messages.internal(error)
        return EXIT_INTERNAL
