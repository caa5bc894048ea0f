"""Golden tests of error messages: what `planlang check` prints for a policy with one mistake.

Each case is ``tests/golden/bad/<case>.plan``, a small complete policy file with one mistake (or,
for ``syntax_two_errors``, two), and ``<case>.expected``, the exact output of ``planlang check .``
run in a folder holding only that file, copied there as ``<case>.plan``.

To accept new output after a deliberate change to a message, run

    .venv/bin/pytest tests/test_golden.py --update-goldens

(or PLANLANG_UPDATE_GOLDEN=1), which rewrites the ``.expected`` files, and review the change with
``git diff tests/golden``.

A case named ``warning_*`` has only warnings, so ``check`` passes (exit 0); every other case has
at least one error (exit 1).

Some messages are known to be wrong or misleading. Their ``.expected`` files record what is printed
today (so any change shows up as a diff), and ``HARD_CASES`` below states what the output should
say instead, as strict xfails: when a fix lands, the xfail starts passing, pytest reports it, and
the entry is deleted and the golden file updated.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from planlang.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "bad"
CASES = sorted(path.stem for path in GOLDEN.glob("*.plan"))

# Cases about the policy header itself, or about text before it, do not start with the usual lines.
HEADER = ['policy "golden case" for 2021/22', 'source "s.txt" "S"']
HEADER_CASES = {"no_policy_header", "syntax_text_before_first_declaration"}

DIAGNOSTIC = re.compile(r"^(?P<file>[^\s:]+\.plan):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|note): (?P<message>.*)$")


def check_case(case: str, folder: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """Run `planlang check .` in ``folder`` holding only ``<case>.plan``; (exit code, stdout, stderr)."""
    shutil.copyfile(GOLDEN / f"{case}.plan", folder / f"{case}.plan")
    monkeypatch.chdir(folder)
    capsys.readouterr()
    code = main(["check", "."])
    out, err = capsys.readouterr()
    return code, out, err


def diagnostics(output: str) -> list[dict]:
    """The `file:line:col: severity: message` lines of an output (notes included)."""
    return [match.groupdict() for match in map(DIAGNOSTIC.match, output.splitlines()) if match]


def expected_exit(case: str) -> int:
    return 0 if case.startswith("warning_") else 1


@pytest.mark.parametrize("case", CASES)
def test_golden_output(case, tmp_path, monkeypatch, capsys, golden):
    code, out, err = check_case(case, tmp_path, monkeypatch, capsys)
    assert "Traceback" not in out + err
    assert err == "", f"`check` writes its report to stdout; stderr had:\n{err}"
    assert code == expected_exit(case), out

    golden.check(GOLDEN / f"{case}.expected", out)


@pytest.mark.parametrize("case", CASES)
def test_every_diagnostic_is_located_and_underlined(case, tmp_path, monkeypatch, capsys):
    """file:line:col into the case's own file, then that line of the source, then a caret under the column."""
    _, out, _ = check_case(case, tmp_path, monkeypatch, capsys)
    source = (GOLDEN / f"{case}.plan").read_text(encoding="utf-8").splitlines()
    lines = out.splitlines()
    found = [(k, DIAGNOSTIC.match(line)) for k, line in enumerate(lines)]
    found = [(k, m) for k, m in found if m]
    assert found, out
    assert [m for _, m in found if m["severity"] != "note"], "no error or warning reported"
    for k, match in found:
        assert match["file"] == f"{case}.plan"
        line, col = int(match["line"]), int(match["col"])
        assert 1 <= line <= len(source), match.group(0)
        gutter = f"{line:>4} | "
        assert lines[k + 1] == gutter + source[line - 1], f"the source line is not quoted after {match.group(0)!r}"
        carets = lines[k + 2]
        assert carets.strip() and set(carets.strip()) == {"^"}, f"no underline after {match.group(0)!r}"
        assert carets.index("^") == len(gutter) + col - 1, f"the underline is not at column {col}"
    summary = lines[-1]
    assert re.fullmatch(r"\.: (ok|failed): \d+ errors?, \d+ warnings?", summary), summary


@pytest.mark.parametrize("case", CASES)
def test_case_file_is_well_formed(case):
    text = (GOLDEN / f"{case}.plan").read_text(encoding="utf-8")
    if case not in HEADER_CASES:
        assert text.splitlines()[:2] == HEADER, "start each case with the usual policy header and source"
    assert text.endswith("\n")


def test_there_are_enough_cases_and_no_stale_expectations():
    assert len(CASES) >= 25
    stale = sorted(path.name for path in GOLDEN.glob("*.expected") if path.stem not in CASES)
    assert stale == [], "an .expected file without its .plan"


def test_each_case_is_a_different_diagnostic(golden):
    """No two cases report the same set of messages: each case earns its place."""
    if golden.updating:
        pytest.skip("reads the .expected files being rewritten")
    seen: dict[tuple, str] = {}
    for case in CASES:
        text = (GOLDEN / f"{case}.expected").read_text(encoding="utf-8")
        messages = tuple(sorted(Counter(f"{d['severity']}: {d['message']}" for d in diagnostics(text)
                                        if d["severity"] != "note").items()))
        assert messages not in seen, f"{case} reports the same as {seen.get(messages)}"
        seen[messages] = case


def test_syntax_two_errors_reports_both(golden):
    if golden.updating:
        pytest.skip("reads the .expected files being rewritten")
    text = (GOLDEN / "syntax_two_errors.expected").read_text(encoding="utf-8")
    errors = [d for d in diagnostics(text) if d["severity"] == "error"]
    assert [int(d["line"]) for d in errors] == [10, 15]
    assert text.rstrip().endswith("failed: 2 errors, 0 warnings")


# ---- hard cases: where the mistake is and what to do about it -------------------------------------

def _only_error(out: str) -> dict:
    errors = [d for d in diagnostics(out) if d["severity"] == "error"]
    assert len(errors) == 1, f"expected one error, got:\n{out}"
    return errors[0]


def _at(error: dict) -> tuple[int, int]:
    return int(error["line"]), int(error["col"])


def _missing_value_before_cites(out):
    # `=` with nothing after it, then the usual `cites` line: the parser reads `cites` as a name and
    # `"s.txt"` as a description, and complains about `§1` on the next line, expecting `=`.
    error = _only_error(out)
    assert _at(error) == (10, 3), "the error belongs to the `=` that has no value"
    assert "§1" not in error["message"]


def _equals_in_flag_when(out):
    # `when activity = £0` parses as `when activity` plus a second clause `= £0`, giving two errors
    # ("needs true/false" and "does not take `= value`") and never the parser's `==` hint.
    error = _only_error(out)
    assert _at(error) == (11, 17)
    assert "help: to compare two values write `==`" in out


def _reserved_word_as_name(out):
    # `define bands : money` is accepted; the error appears only where it is used, as
    # "unexpected `*`; expected `on`". (`define period`, `define true`, `define if` are accepted too,
    # and `period`/`true` then silently mean the current period / the literal where used.)
    errors = [d for d in diagnostics(out) if d["severity"] == "error"]
    assert _at(errors[0]) == (8, 8), "the first error belongs to the declaration's name"
    assert "reserved word" in out


def _unterminated_string(out):
    # reported as "unexpected character `\"`" with no help
    error = _only_error(out)
    assert _at(error) == (6, 3)
    told = out.replace("syntax_unterminated_string.plan", "")  # the file name itself says "unterminated"
    assert re.search(r"not closed|unterminated|closing", told), out


def _indented_declaration(out):
    # an indented `define` is read as part of the declaration above: "unexpected `define`; expected
    # a financial year ..., a month ..., ... or a keyword", with no word about column 1.
    error = _only_error(out)
    assert _at(error) == (8, 3)
    assert "column 1" in out


def _unknown_kind(out):
    # `per trsut` on line 5 is reported at line 4 column 1, the start of the declaration, and that
    # whole line is underlined: the misspelt word itself is never shown.
    error = _only_error(out)
    assert _at(error) == (5, 7), "the error belongs to the word `trsut`"
    assert "did you mean `trust`?" in out


# Each was once reported badly (the reason says how); the check states what good reporting is.
HARD_CASES = {
    "syntax_missing_value_before_cites": (
        _missing_value_before_cites, "`=` with no value before a `cites` line is reported at the `§1` of the next line"),
    "syntax_equals_in_flag_when": (
        _equals_in_flag_when, "`when x = y` in a flag is read as a second `= value` clause, with no `==` hint"),
    "syntax_reserved_word_as_name": (
        _reserved_word_as_name, "a reserved word is accepted as a declared name; the error appears only where it is used"),
    "syntax_unterminated_string": (
        _unterminated_string, "an unterminated string is reported as an unexpected `\"` with no hint"),
    "syntax_indented_declaration": (
        _indented_declaration, "an indented declaration keyword gets a long expected-list and no column-1 hint"),
    "kind_unknown_kind": (
        _unknown_kind, "an unknown kind after `per` is located at the declaration's first line, not at the word"),
}


@pytest.mark.parametrize("case", sorted(HARD_CASES))
def test_hard_case_is_reported_well(case, tmp_path, monkeypatch, capsys):
    _, out, _ = check_case(case, tmp_path, monkeypatch, capsys)
    HARD_CASES[case][0](out)


def test_hard_cases_are_cases():
    assert set(HARD_CASES) <= set(CASES)
