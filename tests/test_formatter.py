"""`planlang fmt`: the canonical layout of a policy file, comments kept, meaning unchanged.

Properties: formatting twice changes nothing, and the formatted file parses to the same
declarations (compared by :func:`planlang.syntax.meaning`, interpretations included). They are
checked on random expressions laid out at random widths, on every shipped file, and on shipped
files whose layout has been scrambled (which must come back exactly as shipped).
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_printer import expressions

from planlang import syntax as s
from planlang.cli import main
from planlang.compiler import read_pack
from planlang.formatter import format_source
from planlang.parser import parse_source
from planlang.printer import format_expr
from planlang.source import SourceFile

from conftest import POLICIES

SHIPPED = [source for pack in sorted(p for p in POLICIES.iterdir() if p.is_dir()) for source in read_pack(pack)]


def declarations(text: str):
    policy, errors = parse_source(SourceFile("f.plan", text))
    assert not errors, f"{text}\n{errors[0].span}: {errors[0].message}"
    return s.meaning(policy.declarations)


def formatted(text: str, width: int = 100) -> str:
    result, errors = format_source(SourceFile("f.plan", text), width)
    assert not errors, errors[0].message
    return result


@pytest.mark.parametrize("source", SHIPPED, ids=lambda source: source.name)
def test_every_shipped_file_is_in_canonical_layout(source):
    assert formatted(source.text) == source.text


@settings(max_examples=200, deadline=None)
@given(expressions, st.integers(10, 120))
def test_a_laid_out_expression_parses_back_and_formats_the_same(expr, width):
    text = f"define x : money\n  per system monthly\n  = {format_expr(expr)}\n"
    once = formatted(text, width)
    assert declarations(once) == declarations(text)
    assert formatted(once, width) == once


GOLDEN_CASES = sorted((POLICIES.parent / "tests" / "golden").rglob("*.plan"))


@pytest.mark.parametrize("path", GOLDEN_CASES, ids=lambda path: path.name)
def test_files_with_mistakes_format_to_the_same_declarations_and_mistakes(path):
    """The golden cases hold every kind of mistake the checker reports: formatting must keep each one."""
    source = SourceFile(path.name, path.read_text(encoding="utf-8"))
    once, syntax_errors = format_source(source)
    if once is None:
        assert syntax_errors and syntax_errors == parse_source(source)[1]
        return
    (before, before_errors), (after, after_errors) = parse_source(source), parse_source(SourceFile(path.name, once))
    assert s.meaning(after.declarations) == s.meaning(before.declarations)
    assert [e.message for e in after_errors] == [e.message for e in before_errors]
    assert formatted(once) == once


def _scrambled(text: str, seed: int) -> str:
    """The same file with its layout disturbed: indents, spaces between words, trailing spaces, extra blank lines."""
    shuffle = random.Random(seed)
    out = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and line.strip():
            line = " " * shuffle.randint(1, 6) + line.strip()
        if not line.lstrip().startswith("#") and '"' not in line and shuffle.random() < 0.5:
            line = re.sub(r"(?<=\S) (?=\S)", "   ", line)
        out.append(line + " " * shuffle.randint(0, 2))
        if not line.strip():
            out.append("")  # a run of blank lines is one blank line
    return "\n".join(out) + "\n" * shuffle.randint(1, 3)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SHIPPED), st.integers(0, 2**32))
def test_a_scrambled_shipped_file_formats_back_to_itself(source, seed):
    assert formatted(_scrambled(source.text, seed)) == source.text


def test_comments_are_kept_in_order_wherever_they_are():
    text = ('# head\n\n# above\ndefine x : money   # after the head\n'
            '  per system annual\n'
            '  # Interpretation: why x.\n'
            '\n'
            '  # a second thought\n'
            '  = (1 +   # inside\n'
            '     2)\n'
            '  cites "s.txt" §1 "a # in a quote"  # after a quote\n'
            '  # trailing, indented\n'
            '# trailing, column 1\n\n'
            'define y : money\n  per system annual\n  = x\n')
    once = formatted(text)
    comments = [line.strip() for line in once.splitlines() if line.strip().startswith("#")]
    assert comments == ["# head", "# above", "# after the head", "# Interpretation: why x.", "# a second thought",
                        "# inside", "# after a quote", "# trailing, indented", "# trailing, column 1"]
    assert once.startswith("# head\n\n# above\ndefine x : money\n  # after the head\n")
    assert declarations(once) == declarations(text)
    assert '  cites "s.txt" §1 "a # in a quote"\n  # after a quote\n' in once and "  = 1 + 2\n  # inside\n" in once
    assert formatted(once) == once


def test_a_comment_after_code_never_joins_an_interpretation():
    text = '# Interpretation: one.\ndefine x : money  # not part of it\n  per system annual\n  # Interpretation: two.\n  = 1  # nor this\n'
    once = formatted(text)
    assert declarations(once) == declarations(text)
    assert parse_source(SourceFile("f.plan", once))[0].declarations[0].interpretations == ("Interpretation: one.",
                                                                                        "Interpretation: two.")


def test_long_expressions_break_where_the_constructs_do():
    text = ('define x : money\n  per system annual\n'
            '  = if aaaaaaaaaaaaaaaaaaaa > bbbbbbbbbbbbbbbbbbbb then cccccccccccccccccccc + dddddddddddddddddddd\n'
            '    else eeeeeeeeeeeeeeeeeeee because "no"\n')
    assert formatted(text, width=60).splitlines()[2:] == [
        "  = if aaaaaaaaaaaaaaaaaaaa > bbbbbbbbbbbbbbbbbbbb then",
        "      cccccccccccccccccccc + dddddddddddddddddddd",
        '    else eeeeeeeeeeeeeeeeeeee because "no"',
    ]


def test_fmt_rewrites_files_and_check_only_reports(tmp_path, capsys):
    messy = tmp_path / "a.plan"
    messy.write_text('define x : money\n     per system    annual\n  = 1+2\n', encoding="utf-8")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith(f"would reformat {messy}\n")
    assert messy.read_text(encoding="utf-8") == 'define x : money\n     per system    annual\n  = 1+2\n'
    assert main(["fmt", str(messy)]) == 0
    assert messy.read_text(encoding="utf-8") == "define x : money\n  per system annual\n  = 1 + 2\n"
    assert main(["fmt", "--check", str(messy)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["a.plan"]  # no temporary file left behind


def test_fmt_check_passes_on_every_shipped_pack(capsys):
    assert main(["fmt", "--check", *(str(p) for p in sorted(POLICIES.iterdir()) if p.is_dir())]) == 0
    assert capsys.readouterr().out.startswith("0 files would reformat")


def test_a_file_that_does_not_parse_is_left_alone_with_placed_errors(tmp_path, capsys):
    broken = tmp_path / "b.plan"
    broken.write_text("define x : money\n  = 1 +\n", encoding="utf-8")
    assert main(["fmt", str(broken)]) == 1
    out, err = capsys.readouterr()
    assert f"{broken}:2:7: error: the declaration ends too early" in err
    assert "1 with syntax errors" in out and broken.read_text(encoding="utf-8") == "define x : money\n  = 1 +\n"


def test_fmt_on_a_path_that_is_not_there_is_one_clear_error(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "nope.plan")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
