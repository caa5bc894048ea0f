"""The installed wheel carries the grammar and the report templates, so planlang works without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_contains_grammar_and_works_without_source_tree(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("planlang-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("planlang/grammar/planlang.lark").decode()
        names = set(archive.namelist())
        assert {f"planlang/audit/templates/{n}" for n in ("report.html.j2", "report.css", "report.js")} <= names
        archive.extractall(tmp_path / "site")
    assert packaged == (ROOT / "grammar" / "planlang.lark").read_text()
    # Import from the unpacked wheel only (not src/), from a folder outside the repository.
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import planlang, planlang.parser as p; "
             "assert planlang.__file__.startswith(sys.argv[1]), planlang.__file__; p._lark(); "
             "from planlang.audit.report import _environment; _environment().get_template('report.html.j2'); print('ok')")
    ran = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path / "site")], capture_output=True, text=True,
                         cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stderr
