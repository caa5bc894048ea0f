"""`planlang check` checks quotes and sections against the cited document, wherever it finds it.

The documents here are small ones written for each test, so these tests need no source texts;
tests/test_citations.py checks the shipped packs against the real ones.
"""

from __future__ import annotations

import pytest

from planlang.cli import main

DOCUMENT = """# Guidance

## 3. Elective recovery

Systems will be paid **100%** of tariff for activity between the thresholds, and 120% above.

## 3.2 Gateway criteria

Better care fund: contributions will grow by 5.3%.
"""

POLICY = '''policy "quotes" for 2021/22
source "guide.txt" "The guidance"

parameter rate : percent
  = 100%
  cites "guide.txt" §3 "paid 100% of tariff for activity … 120% above"

parameter growth : percent
  = 5.3%
  cites "guide.txt" §BCF "contributions will grow by 5.3%"
'''


@pytest.fixture
def pack(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files are named in messages relative to where check runs
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "policy.plan").write_text(POLICY, encoding="utf-8")
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "guide.txt").write_text(DOCUMENT, encoding="utf-8")
    return folder.relative_to(tmp_path), documents


def check(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_quotes_found_ignoring_markup_and_gaps_raise_nothing(pack, capsys):
    folder, documents = pack
    assert check(capsys, folder, "--sources", documents) == (0, f"{folder}: ok: 0 errors, 0 warnings\n")


def test_a_quote_not_in_the_document_is_a_placed_warning_with_the_closest_passage(pack, capsys):
    folder, documents = pack
    (folder / "policy.plan").write_text(POLICY.replace("will grow by 5.3%", "will grow by 5.4%"), encoding="utf-8")
    code, out = check(capsys, folder, "--sources", documents)
    assert code == 0
    assert f"{folder / 'policy.plan'}:10:3: warning: the quoted words are not in guide.txt" in out
    assert '  help: the closest passage is "contributions will grow by 5.3%."' in out
    assert out.endswith(": ok: 0 errors, 1 warning\n")


def test_a_section_the_document_does_not_have_is_a_placed_warning(pack, capsys):
    folder, documents = pack
    (folder / "policy.plan").write_text(POLICY.replace("§3 ", "§4 "), encoding="utf-8")
    code, out = check(capsys, folder, "--sources", documents)
    assert f"{folder / 'policy.plan'}:6:3: warning: guide.txt has no section §4" in out
    assert "the quoted words" not in out


def test_the_document_is_found_through_the_environment(pack, capsys, monkeypatch):
    folder, documents = pack
    (folder / "policy.plan").write_text(POLICY.replace("§3 ", "§4 "), encoding="utf-8")
    monkeypatch.setenv("PLANLANG_SOURCES", f"/no/such/folder:{documents}")
    assert "guide.txt has no section §4" in check(capsys, folder)[1]


def test_the_document_is_found_beside_the_pack(pack, capsys, monkeypatch):
    folder, documents = pack
    monkeypatch.delenv("PLANLANG_SOURCES", raising=False)
    (folder.parent / "guide.txt").write_text(DOCUMENT.replace("5.3%", "6%"), encoding="utf-8")
    assert "the quoted words are not in guide.txt" in check(capsys, folder)[1]


def test_without_the_document_check_says_once_that_quotes_were_not_checked(pack, capsys, monkeypatch):
    folder, _ = pack
    monkeypatch.delenv("PLANLANG_SOURCES", raising=False)
    code, out = check(capsys, folder)
    assert code == 0
    assert out.splitlines() == [
        "note: quotes not checked against guide.txt: not found beside the pack "
        "(give --sources DIR or set PLANLANG_SOURCES)",
        f"{folder}: ok: 0 errors, 0 warnings"]


def test_a_sources_folder_that_is_not_there_is_one_clear_error(pack, capsys):
    folder, _ = pack
    assert main(["check", str(folder), "--sources", "no/such/folder"]) == 2
    assert capsys.readouterr().err.startswith("planlang: error: --sources no/such/folder: is not a folder")
