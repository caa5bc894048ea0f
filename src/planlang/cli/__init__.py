"""The command line: ``planlang check | run | report | verify | compare | solve | sweep | explain | test | deadlines
| rules | diff | fmt | lsp``, at the edge of everything else.

    main          the entry point (the ``planlang`` script, ``python -m planlang``, ``python -m planlang.cli``)
    process       signals (Ctrl-C exits 130, SIGTERM 143, silently) and the deep stack the work runs on
    terminal      standard output and error, escaped for the terminal; a broken pipe keeps the exit code
    parser        the argparse tree, each command's parser built only when that command is chosen
    options       the options several commands share, each defined once
    load          the one loader of a command's pack, data and scenarios; --entity and --only checked once
    dispatch      imports the command's family and runs it; every failure becomes its exit status
    exits         every exit status, in one place
    messages      diagnostics and errors as printed; colour (only at a terminal), progress (a bar on stderr)
    check, run, explain, whatif, diff, test, verify, deadlines, rules, lsp    one module per family of commands

This package owns the process, its arguments and its terminal; it works everything out through the
rest of planlang and formats through its renderers. ``planlang --version`` and ``--help`` import no
command's family. A reader that goes away (``planlang check BAD | head -1``) does not change the exit
code; output that cannot be written for any other reason ends the command with one line on stderr
saying why and exit code 74 (EX_IOERR) in place of success.
"""

from __future__ import annotations

import contextlib
import sys

from .exits import EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, UsageExit
from .process import on_deep_stack, signals_end_the_process

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    with signals_end_the_process():
        # after the handlers are set: the parser imports only what --version and --help need, and a command
        # imports its own family (Lark, networkx, openpyxl) when it is dispatched
        from .parser import parser
        from .terminal import TerminalStream

        argv = sys.argv[1:] if argv is None else list(argv)
        out, err = TerminalStream(sys.stdout), TerminalStream(sys.stderr)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = _parse_and_run(parser(), argv)
            except UsageExit:
                code = EXIT_USAGE
            except SystemExit as done:  # --help and --version have printed what was asked
                code = done.code if isinstance(done.code, int) else EXIT_OK
            out.flush()
            if out.failure and code == EXIT_OK:  # a failing command's own exit code says more
                print(f"planlang: error: standard output could not be written: {out.failure}", file=sys.stderr)
                code = EXIT_OUTPUT
            err.flush()
        return code


def _parse_and_run(command_line, argv: list[str]) -> int:
    from ..source import not_utf8

    for argument in argv:
        if found := not_utf8(argument):
            # a path or a --set text that is not UTF-8 could not be written into a receipt, a report or a workbook
            command_line.error(f"the argument {argument!r} is not UTF-8 text (it holds {found}); "
                               "planlang reads and writes UTF-8: rename the file or folder, or retype the text")
    args, extra = command_line.parse_known_args(argv)
    # argparse gives an optional positional (explain's NAME) the empty slot after POLICY_DIR when
    # options follow it, so a NAME written after the options arrives here, left over
    if args.command == "explain" and args.name is None and len(extra) == 1 and not extra[0].startswith("-"):
        args.name, extra = extra[0], []
    if extra:
        command_line.error(f"unrecognized arguments: {' '.join(extra)}")
    args.command_line = ["planlang", *argv]

    def work() -> int:
        from .dispatch import dispatch  # heavy: the diagnostics and scenarios every failure is reported through

        return dispatch(args)

    return on_deep_stack(work)
