"""``planlang check`` (compile a pack and report every problem) and ``planlang fmt`` (lay policy files out canonically)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..assurance.register import REGISTER_FILE, read_register
from ..assurance.static import findings
from ..citations import SOURCES_VARIABLE, check_quotes, cited, source_folders
from ..compiler import compile_sources, read_pack, read_policy_file
from ..diagnostics import InputError
from ..files import write_atomically
from ..formatter import format_source
from ..plan import compile_plan
from ..source import SourceFile
from .exits import EXIT_OK, EXIT_POLICY
from .messages import print_diagnostics, summary

__all__ = ["cmd_check", "cmd_fmt"]


def cmd_check(args) -> int:
    sources = read_pack(args.policy)
    program, diagnostics = compile_sources(sources, args.policy)
    for folder in args.sources:
        if not Path(folder).is_dir():
            raise InputError("is not a folder", f"--sources {folder}", "give the folder that holds the documents the pack cites")
    unchecked: tuple[str, ...] = ()
    if program is not None:
        quotes = check_quotes(program, source_folders(args.policy, args.sources))
        register = read_register(Path(args.policy) / REGISTER_FILE)
        static = [f.diagnostic() for f in findings(compile_plan(program)) if not register.explains(f.kind, f.rule)]
        diagnostics = sorted([*diagnostics, *quotes.diagnostics, *static], key=lambda d: (d.span.file, d.span.line, d.span.column))
        unchecked = tuple(name for name in quotes.missing
                          if any(c.source == name and c.quote is not None for c in cited(program)))
    print_diagnostics(diagnostics, {x.name: x for x in sources}, sys.stdout)
    if unchecked:
        print(f"note: quotes not checked against {', '.join(unchecked)}: not found beside the pack "
              f"(give --sources DIR or set {SOURCES_VARIABLE})")
    status = "ok" if program is not None else "failed"
    print(f"{args.policy}: {status}: {summary(diagnostics)}")
    return EXIT_OK if program is not None else EXIT_POLICY


def cmd_fmt(args) -> int:
    """Rewrite each file in canonical layout, or with --check only say which would change."""
    # named as given, so that messages and rewrites refer to the paths on the command line
    sources = [SourceFile(str(path), read_policy_file(path).text) for path in _plan_files(args.paths)]
    failed, changed = [], []
    for source in sources:
        text, errors = format_source(source)
        if text is None:
            print_diagnostics(errors, {source.name: source}, sys.stderr)
            failed.append(source.name)
        elif text != source.text:
            changed.append(source.name)
            if not args.check:
                write_atomically(Path(source.name), lambda path, text=text: Path(path).write_text(text, encoding="utf-8"))
    verb = "would reformat" if args.check else "reformatted"
    for name in changed:
        print(f"{verb} {name}")
    print(f"{len(changed)} file{'s' * (len(changed) != 1)} {verb}, {len(sources) - len(changed) - len(failed)} already canonical"
          + (f", {len(failed)} with syntax errors (not changed)" if failed else ""))
    return EXIT_POLICY if failed or (args.check and changed) else EXIT_OK


def _plan_files(paths: list[str]) -> list[Path]:
    files = []
    for given in map(Path, paths):
        if given.is_dir():
            found = sorted(given.glob("*.plan"))
            if not found:
                raise InputError("holds no .plan files", str(given))
            files += found
        elif given.is_file():
            files.append(given)
        else:
            raise InputError("no such file or folder", str(given))
    return files
