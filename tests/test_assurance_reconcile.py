"""`planlang reconcile` (issue 20, item 4): the ERF worked example's published table against the pack, and a
figures file built to differ in one input."""

from __future__ import annotations

import json

from planlang.cli import main

from conftest import EXAMPLES, POLICIES

PACK = str(POLICIES / "2021_22")
DATA = str(EXAMPLES / "erf_worked_example.json")
TABLE = str(EXAMPLES / "erf_worked_example.figures.csv")


def cli(capsys, *argv):
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_published_worked_example_reconciles_with_example_1_may_explained(capsys):
    code, out, err = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", TABLE)
    assert code == 0, out + err
    assert "44 figures: 42 agree, 2 differ (0 new, 2 explained); 0 register entries no longer occur" in out
    assert "explained  erf_additional_funding for EXAMPLE1 in 2021-05" in out
    assert "theirs £ -, ours £142,857.14: theirs less ours -£142,857.14" in out
    assert "The published table shows £- (nil) additional funding for May in Example 1." in out
    assert "the derivations part at erf_actual for EXAMPLE1 in 2021-05 (input): ours £20,000,000.00" in out


def test_the_register_quotes_the_discrepancy_recorded_in_the_packs_test():
    test_text = (POLICIES / "2021_22" / "erf_worked_example.plan").read_text(encoding="utf-8")
    recorded = test_text.split('discrepancy "', 1)[1].split('"', 1)[0]
    register = (POLICIES / "2021_22" / "assurance.toml").read_text(encoding="utf-8")
    assert " ".join(recorded.split()) in " ".join(register.replace("\\\n", "").split())


def _figures_differing_in_one_input(tmp_path, capsys) -> str:
    code, out, _ = cli(capsys, "run", PACK, "--data", DATA, "--json",
                       "--set", "erf_actual for EXAMPLE2 in 2021-05 = £26,500,000")
    assert code == 0
    path = tmp_path / "theirs.json"
    path.write_text(out, encoding="utf-8")
    return str(path)


def test_a_figures_file_that_differs_in_one_input_names_that_input_and_its_value(tmp_path, capsys):
    figures = _figures_differing_in_one_input(tmp_path, capsys)
    code, out, _ = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", figures, "--json")
    assert code == 1  # a new difference
    document = json.loads(out)
    assert document["explained"] == 0 and document["new"] == len(document["differences"]) >= 2
    for difference in document["differences"]:
        assert (difference["entity"], difference["period"]) == ("EXAMPLE2", "2021-05")
        assert difference["reproduced_by"] == {"kind": "input", "name": "erf_actual", "entity": "EXAMPLE2",
                                               "period": "2021-05", "ours": "26000000.00", "needed": "26500000.00"}
    funding = next(d for d in document["differences"] if d["name"] == "erf_additional_funding")
    assert funding["ours"] == "6828571.43" and funding["difference"] == "600000.00"


def test_the_text_says_new_and_names_the_input(tmp_path, capsys):
    figures = _figures_differing_in_one_input(tmp_path, capsys)
    code, out, _ = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", figures)
    assert code == 1
    assert "NEW  erf_additional_funding for EXAMPLE2 in 2021-05" in out
    assert ("the derivations part at erf_actual for EXAMPLE2 in 2021-05 (input): ours £26,000,000.00, theirs needs "
            "£26,500,000.00, the single value that reproduces their figure") in out


def test_an_entry_for_a_figure_that_now_agrees_is_stale(tmp_path, capsys):
    figures = tmp_path / "figures.csv"
    figures.write_text("name,entity,period,value\nerf_additional_funding,EXAMPLE1,2021-05,\"£142,857\"\n", encoding="utf-8")
    code, out, _ = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", figures)
    assert code == 0
    assert "1 figure: 1 agree, 0 differ" in out
    assert "stale  erf_additional_funding for EXAMPLE1 in 2021-05: the register expects a difference that no longer occurs" in out


def test_a_figure_of_no_such_rule_is_bad_data_without_a_traceback(tmp_path, capsys):
    figures = tmp_path / "figures.json"
    figures.write_text('[{"name": "erf_funding", "entity": "EXAMPLE1", "period": "2021-05", "value": "£1"}]')
    code, out, err = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", figures)
    assert code == 2 and "Traceback" not in err and "`erf_funding` is not a definition" in err


def test_a_register_given_that_is_not_there_is_said(tmp_path, capsys):
    code, _, err = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", TABLE, "--register", tmp_path / "no.toml")
    assert code == 2 and "no such register file" in err


def _figures_workbook(tmp_path, capsys, title="figures"):
    """The run's figures as a workbook of rows name, entity, period, value, with one figure differing."""
    import openpyxl

    code, out, _ = cli(capsys, "run", PACK, "--data", DATA, "--json",
                       "--set", "erf_actual for EXAMPLE2 in 2021-05 = £26,500,000")
    assert code == 0
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(["name", "entity", "period", "value"])
    for name, cells in json.loads(out)["results"].items():
        for entity, periods in cells.items():
            for period, value in periods.items():
                if value is not None:
                    sheet.append([name, entity, period, value if isinstance(value, bool) else float(value)])
    path = tmp_path / "theirs.xlsx"
    book.save(path)
    return path


def test_a_workbook_of_figures_gives_the_report_a_json_file_does(tmp_path, capsys):
    from_json = json.loads(cli(capsys, "reconcile", PACK, "--data", DATA, "--expected",
                               _figures_differing_in_one_input(tmp_path, capsys), "--json")[1])
    code, out, err = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", _figures_workbook(tmp_path, capsys), "--json")
    assert code == 1, err
    document = json.loads(out)
    strip = lambda d: [{k: v for k, v in x.items() if k != "where"} for x in d["differences"]]  # noqa: E731
    assert strip(document) == strip(from_json) and document["figures"] == from_json["figures"]
    assert all(d["where"].startswith(f"{tmp_path / 'theirs.xlsx'}: figures!D") for d in document["differences"])


def _template(tmp_path, capsys):
    """A planning-template-like workbook: a sheet per organisation, row codes in A, months across from C, in £000s."""
    import openpyxl

    code, out, _ = cli(capsys, "run", PACK, "--data", DATA, "--json",
                       "--set", "erf_actual for EXAMPLE2 in 2021-05 = £26,500,000")
    results = json.loads(out)["results"]
    book = openpyxl.Workbook()
    book.remove(book.active)
    for entity in ("EXAMPLE1", "EXAMPLE2"):
        sheet = book.create_sheet(entity)
        sheet.append(["ERF plan", entity])
        sheet.append([])
        months = [f"2021-{m:02d}" for m in range(4, 13)] + [f"2022-{m:02d}" for m in range(1, 4)]
        sheet.append(["Code", "Line", *[f"{['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][int(m[5:]) - 1]}-{m[2:4]}" for m in months]])
        row = [results["erf_additional_funding"][entity].get(m) for m in months]
        sheet.append(["ERF09", "Additional funding (£000s)", *[None if v is None else float(v) / 1000 for v in row]])
    path = tmp_path / "template.xlsx"
    book.save(path)
    mapping = tmp_path / "figures.toml"
    mapping.write_text('[defaults]\nkey_column = "A"\nheader_row = 3\nscale = "£000s"\n\n'
                       '[[sheet]]\nname = "EXAMPLE1"\norganisation = "EXAMPLE1"\n\n'
                       '[[sheet]]\nname = "EXAMPLE2"\norganisation = "EXAMPLE2"\n\n'
                       '[[input]]\nname = "erf_additional_funding"\nrow = "ERF09"\n', encoding="utf-8")
    return path, mapping


def test_a_mapped_template_of_figures_finds_the_differing_one_at_its_cell(tmp_path, capsys):
    path, mapping = _template(tmp_path, capsys)
    code, out, err = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", path, "--expected-map", mapping, "--json")
    assert code == 1, err
    document = json.loads(out)
    differing = [(d["name"], d["entity"], d["period"]) for d in document["differences"] if d["explained"] is False] \
        if "explained" in document["differences"][0] else [(d["name"], d["entity"], d["period"]) for d in document["differences"]]
    assert ("erf_additional_funding", "EXAMPLE2", "2021-05") in differing
    funding = next(d for d in document["differences"] if d["entity"] == "EXAMPLE2")
    assert funding["reproduced_by"]["name"] == "erf_actual" and funding["reproduced_by"]["needed"] == "26500000.00"
    assert funding["where"] == f"{path}: EXAMPLE2!D4"


def test_a_bad_expected_map_is_placed_in_it(tmp_path, capsys):
    path, mapping = _template(tmp_path, capsys)
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('"erf_additional_funding"', '"erf_additional_fundng"'))
    code, _, err = cli(capsys, "reconcile", PACK, "--data", DATA, "--expected", path, "--expected-map", mapping)
    assert code == 2 and "Traceback" not in err
    assert f"{mapping}:15:8" in err and "is not a definition, flag or input of the policy" in err
