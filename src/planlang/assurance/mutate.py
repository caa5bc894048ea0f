"""Mutation testing of a pack's rules: which one-line changes would its own tests not notice?

Each mutant changes one thing in a rule or a parameter (never in a test): a number, an amount or a
percentage moved one step of the precision it is written to either way (``85%`` to ``84%`` and
``86%``, ``£500,000`` to ``£499,999`` and ``£500,001``; band edges, band rates and taper rates among
them), ``true`` and ``false`` swapped, a comparison's boundary moved (``<`` to ``<=``, ``>=`` to
``>``, ``==`` to ``!=``). Each is compiled (the other files' syntax trees reused), compiled into one
plan shared by all the tests, and the pack's tests run in order until one fails: the mutant is
*killed*. One that no test fails *survives*; one that does not compile is *stillborn* and not counted.

Mutants are enumerated in source order and the report is in that order whatever the number of
processes, so a run that finishes is deterministic; ``max_seconds`` bounds it, and mutants not run
in time are counted as such. Survivors the pack's register lists as equivalent (with why no test can
tell them apart) are reported apart. A report carries the digest of what it judged (the pack's files
and the register's equivalents), so a score recorded beside a pack can be checked for staleness.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import attrs

from .. import syntax as s
from ..checker import check
from ..compiler import Program
from ..diagnostics import has_errors
from ..graph import build_graph, evaluation_order, find_cycles
from ..parser import parse_source
from ..plan import compile_plan, formula_of
from ..source import SourceFile
from ..testing import run_test
from .register import Register

__all__ = ["Mutant", "Outcome", "Report", "mutants", "mutate", "pack_digest", "KILLED", "SURVIVED", "STILLBORN", "NOT_RUN"]

KILLED, SURVIVED, STILLBORN, NOT_RUN = "killed", "survived", "stillborn", "not run"
_FLIP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "≤": "<", "≥": ">", "≠": "=="}


@attrs.frozen
class Mutant:
    file: str
    line: int
    column: int
    before: str  # the source line as written
    after: str  # the line mutated
    change: str  # what changed, in a few words: `85%` -> `86%`

    def text(self, source: str) -> str:
        """The file's text with this mutant's line in place of the original."""
        lines = source.split("\n")
        lines[self.line - 1] = self.after
        return "\n".join(lines)


@attrs.frozen
class Outcome:
    mutant: Mutant
    status: str
    by: str | None = None  # the test that killed it
    equivalent: str | None = None  # the register's reason, for a survivor it lists


@attrs.frozen
class Report:
    outcomes: tuple[Outcome, ...]
    digest: str = ""  # pack_digest of the pack and register judged

    def counts(self, file: str | None = None) -> dict[str, int]:
        counts = {KILLED: 0, SURVIVED: 0, "equivalent": 0, STILLBORN: 0, NOT_RUN: 0}
        for outcome in self.outcomes:
            if file is None or outcome.mutant.file == file:
                counts["equivalent" if outcome.equivalent else outcome.status] += 1
        return counts

    def score(self, file: str | None = None) -> Fraction | None:
        """Killed over the mutants that ran and are not equivalent; None when there are none."""
        counts = self.counts(file)
        judged = counts[KILLED] + counts[SURVIVED]
        return Fraction(counts[KILLED], judged) if judged else None

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(o.mutant.file for o in self.outcomes))

    @property
    def survivors(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == SURVIVED and not o.equivalent)


def pack_digest(program: Program, register: Register) -> str:
    """What a report judged, as one SHA-256: each of the pack's files (rules and tests) by name and text, and the
    register's equivalent mutants; the same wherever the pack is, and blind to the rest of the register."""
    digest = hashlib.sha256()
    for path, source in sorted(program.files.items(), key=lambda item: (Path(item[0]).name, item[0])):
        name, text = Path(path).name.encode("utf-8", "surrogatepass"), source.text.encode("utf-8", "surrogatepass")
        digest.update(b"%d:%s%d:%s" % (len(name), name, len(text), text))
    for e in sorted((Path(e.file).name, e.line, e.mutant, e.reason) for e in register.equivalents):
        digest.update(repr(e).encode("utf-8", "surrogatepass"))
    return "sha256:" + digest.hexdigest()


# ---- the mutants ---------------------------------------------------------------------------------

def _rule_expressions(program: Program):
    for decl in program.declarations.values():
        formula = formula_of(decl)
        if formula is not None:
            yield formula
        if isinstance(decl, s.ParameterDecl):
            yield from _values(decl)
    for amendments in program.amendments.values():
        for amendment in amendments:
            yield from _values(amendment)


def _values(decl):
    if decl.value is not None:
        yield decl.value
    for entry in decl.schedule:
        yield entry.value


def mutants(program: Program) -> list[Mutant]:
    """Every mutant of the pack's rules and parameters, in source order."""
    found = []
    for expr in _rule_expressions(program):
        for node in s.walk(expr):
            if isinstance(node, s.Literal):
                found += _literal_mutants(program, node)
            elif isinstance(node, s.Compare):
                found += _compare_mutants(program, node)
    found = list(dict.fromkeys(found))
    found.sort(key=lambda m: (m.file, m.line, m.column, m.change))
    return found


def _line(program: Program, span) -> str | None:
    source = program.files.get(span.file)
    if source is None or span.line != span.end_line:
        return None
    return source.line(span.line)


def _literal_mutants(program: Program, node: s.Literal) -> list[Mutant]:
    line = _line(program, node.span)
    if line is None:
        return []
    start, end = node.span.column - 1, node.span.end_column - 1
    written = line[start:end]
    if isinstance(node.value, bool):
        replacements = ["false" if node.value else "true"]
    elif isinstance(node.value, Fraction):
        replacements = [text for text in (_stepped(written, -1), _stepped(written, 1)) if text is not None]
    else:
        return []
    return [Mutant(node.span.file, node.span.line, node.span.column, line, line[:start] + new + line[end:],
                   f"`{written}` -> `{new}`") for new in replacements]


def _stepped(written: str, direction: int) -> str | None:
    """``written`` (``£500,000``, ``85%``, ``1.25%``, ``0.5``) moved one step of its last written digit."""
    text = written.strip()
    negative = text.startswith(("-", "−"))
    body = text.lstrip("-−").strip()
    pound = body.startswith("£")
    body = body.lstrip("£").strip()
    percent = body.endswith("%")
    digits = body.rstrip("%").strip()
    commas = "," in digits
    plain = digits.replace(",", "")
    if not plain or not all(c.isdigit() or c == "." for c in plain) or plain.count(".") > 1:
        return None
    places = len(plain.partition(".")[2])
    value = Fraction(plain) * (-1 if negative else 1) + Fraction(direction, 10 ** places)
    sign = "-" if value < 0 else ""
    units = abs(value) * 10 ** places
    whole, fraction = divmod(int(units), 10 ** places)
    number = f"{whole:,}" if commas else str(whole)
    if places:
        number += "." + str(fraction).rjust(places, "0")
    return f"{sign}{'£' if pound else ''}{number}{'%' if percent else ''}"


def _compare_mutants(program: Program, node: s.Compare) -> list[Mutant]:
    line = _line(program, node.span)
    left, right = node.left.span, node.right.span
    if line is None or left.end_line != right.line or left.end_line != node.span.line:
        return []
    start, end = left.end_column - 1, right.column - 1
    between = line[start:end]
    op = between.strip()
    if op not in _FLIP:
        return []
    new = _FLIP[op]
    at = start + between.index(op)
    return [Mutant(node.span.file, node.span.line, at + 1, line, line[:at] + new + line[at + len(op):], f"`{op}` -> `{new}`")]


# ---- running them --------------------------------------------------------------------------------

_STATE: dict = {}


def _start(sources: dict[str, SourceFile], directory: str) -> None:
    """A worker's state: the pack's sources and each one's syntax tree, parsed once."""
    _STATE.clear()
    _STATE.update(sources=sources, directory=directory, trees={name: parse_source(x)[0] for name, x in sources.items()})


def _program(file: str, text: str) -> Program | None:
    sources, trees = dict(_STATE["sources"]), dict(_STATE["trees"])
    source = SourceFile(file, text)
    tree, errors = parse_source(source)
    if errors:
        return None
    sources[file], trees[file] = source, tree
    checked = check([trees[name] for name in sorted(trees)])
    graph = build_graph(checked.declarations, checked.uses)
    if has_errors(checked.diagnostics) or find_cycles(graph) or checked.header is None:
        return None
    return Program(_STATE["directory"], checked.header, checked.sources, checked.declarations, checked.amendments,
                   checked.tests, graph, evaluation_order(graph), checked.diagnostics, sources)


def _judge(mutant: Mutant) -> tuple[str, str | None]:
    program = _program(mutant.file, mutant.text(_STATE["sources"][mutant.file].text))
    if program is None:
        return STILLBORN, None
    plan = compile_plan(program)
    for test in program.tests:
        try:
            outcome = run_test(program, test, plan=plan)
        except Exception:  # a mutant that makes a test fail to run at all is caught by it
            return KILLED, test.name
        if not outcome.passed:
            return KILLED, test.name
    return SURVIVED, None


def mutate(program: Program, register: Register, *, workers: int | None = None, max_seconds: float | None = None,
           progress: Callable[[int], None] | None = None) -> Report:
    """Every mutant of ``program`` judged by its tests, on ``workers`` processes (1: in this process)."""
    found = mutants(program)
    sources = {name: SourceFile(name, source.text) for name, source in program.files.items()}
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    results: dict[int, tuple[str, str | None]] = {}
    workers = workers or min(len(found), os.cpu_count() or 1, 8) or 1
    if workers == 1:
        _start(sources, program.directory)
        for index, mutant in enumerate(found):
            if deadline is not None and time.monotonic() > deadline:
                break
            results[index] = _judge(mutant)
            if progress:
                progress(1)
    else:
        with concurrent.futures.ProcessPoolExecutor(workers, initializer=_start,
                                                    initargs=(sources, program.directory)) as pool:
            futures = {pool.submit(_judge, mutant): index for index, mutant in enumerate(found)}
            try:
                for future in concurrent.futures.as_completed(futures, timeout=None if deadline is None
                                                              else max(0.0, deadline - time.monotonic())):
                    results[futures[future]] = future.result()
                    if progress:
                        progress(1)
            except concurrent.futures.TimeoutError:
                pass
            finally:
                for future in futures:
                    future.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
    outcomes = []
    for index, mutant in enumerate(found):
        status, by = results.get(index, (NOT_RUN, None))
        equivalent = register.equivalent(mutant.file, mutant.line, mutant.change) if status == SURVIVED else None
        outcomes.append(Outcome(mutant, status, by, equivalent.reason if equivalent else None))
    return Report(tuple(outcomes), pack_digest(program, register))
