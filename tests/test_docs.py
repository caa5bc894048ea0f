"""docs/policies.md is generated from the packs and kept up to date."""

from __future__ import annotations

import importlib.util

from conftest import ROOT


def test_policies_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_policies", ROOT / "docs" / "make_policies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "policies.md").read_text(encoding="utf-8") == module.render(), \
        "run `python docs/make_policies.py` (make docs) and commit docs/policies.md"
