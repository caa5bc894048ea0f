"""A fuzz test: hostile characters, numbers and dates mixed into the shipped packs and data files.

Whatever lands where, the command line answers with an exit code of 0, 1 or 2 and its own words:
never a traceback, never "internal error", and nothing unprintable on the terminal. Bounded to a
few seconds (the golden and class tests in test_hostile*.py pin the exact messages).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planlang.cli import main
from planlang.source import UNSAFE

from conftest import EXAMPLES, POLICIES

ERF_FILES = ("policy.plan", "erf.plan", "erf_worked_example.plan")
EXAMPLE_TEXT = (EXAMPLES / "erf_worked_example.json").read_text(encoding="utf-8")

CHARACTERS = ["\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1e", "\r", "\x00", "\x1b[2J", "\x1b[31m",
              "\u202e", "\u2066", "\u200f", "\ud800", "\udfff", "\n", "\t", "٣", "３"]
NUMBERS = ["9" * 5000, "1" + "0" * 4400, "1e999999", "£1" + "0" * 5000, "0." + "1" * 60, "1.5", "-" + " " * 3000 + "x",
           "NaN", "-Infinity", "1,00,0", "٣٠", "£٣٠", "1" * 41, "99999999999999999999999999999999999999999%"]
DATES = ["9999-12-31", "0001-01-01", "2021-02-30", "٢٠٢١-٠٥", "2199-12-31", "1899-12-31", "9998/99", "0001/02 Q4",
         " + 1000000000 days", " - 1 working days", " + 1.5 days", " + 200000 working days"]
FRAGMENTS = st.sampled_from(CHARACTERS) | st.sampled_from(NUMBERS) | st.sampled_from(DATES)
MUTATIONS = st.lists(st.tuples(st.floats(0, 1, allow_nan=False), FRAGMENTS, st.booleans()), min_size=1, max_size=3)
# PLANLANG_FUZZ_EXAMPLES=2000 for a long hunt; the suite's 20 of each take a few seconds
FUZZ = settings(max_examples=int(os.environ.get("PLANLANG_FUZZ_EXAMPLES", "20")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow], database=None)


def _erf_pack() -> Path:
    """The 2021/22 ERF rules alone: the pack the example data is for, and quick to compile."""
    pack = Path(tempfile.mkdtemp(prefix="planlang-fuzz-")) / "erf"
    pack.mkdir()
    for name in ERF_FILES:
        shutil.copyfile(POLICIES / "2021_22" / name, pack / name)
    return pack


ERF_PACK = _erf_pack()


def _mutate(text: str, mutations) -> str:
    """Insert each fragment at a place in the text, or put it over the word there."""
    for where, fragment, replace in mutations:
        at = int(where * len(text))
        end = at
        if replace:
            while end < len(text) and (text[end].isalnum() or text[end] in "£%,.-_"):
                end += 1
        text = text[:at] + fragment + text[end:]
    return text


def _run(*argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue() + err.getvalue()


def _assert_handled(code: int, output: str) -> None:
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    assert code in (0, 1, 2), output[-2000:]
    assert not [m[0] for m in UNSAFE.finditer(output) if m[0] not in "\n\t"], "an unsafe character was printed raw"


@FUZZ
@given(file=st.sampled_from(ERF_FILES), mutations=MUTATIONS)
def test_hostile_fragments_in_a_shipped_pack(file, mutations):
    with tempfile.TemporaryDirectory() as folder:
        pack = Path(folder) / "erf"
        shutil.copytree(ERF_PACK, pack)
        text = (pack / file).read_text(encoding="utf-8")
        (pack / file).write_bytes(_mutate(text, mutations).encode("utf-8", "surrogatepass"))
        code, output = _run("check", pack)
        _assert_handled(code, output)
        if code == 0:
            _assert_handled(*_run("run", pack, "--data", EXAMPLES / "erf_worked_example.json"))


@FUZZ
@given(mutations=MUTATIONS, as_json_string=st.booleans())
def test_hostile_fragments_in_a_data_file(mutations, as_json_string):
    # either raw into the file's text (which may then not be JSON at all) or as JSON strings in it
    if as_json_string:
        mutations = [(where, json.dumps(fragment)[1:-1], replace) for where, fragment, replace in mutations]
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.json"
        data.write_bytes(_mutate(EXAMPLE_TEXT, mutations).encode("utf-8", "surrogatepass"))
        _assert_handled(*_run("run", ERF_PACK, "--data", data))
