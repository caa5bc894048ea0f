"""``planlang diff``: two policy packs compared, declarations added, removed, renamed and changed; with data, the
change in outputs shared among the rule changes."""

from __future__ import annotations

import json

from ..compiler import compile_pack
from ..diagnostics import UsageError
from ..impact import attribute, check_comparable
from ..render.diff import diff_json, diff_markdown, diff_text, impact_json, impact_text
from ..rulediff import diff_programs
from . import load
from .exits import EXIT_OK

__all__ = ["cmd_diff"]


def cmd_diff(args) -> int:
    # a pack that does not compile is named in the error message as ``args.policy``
    args.policy = args.old
    old = compile_pack(args.old)
    args.policy = args.new
    new = compile_pack(args.new)
    changes = diff_programs(old, new)
    if bool(args.data) != bool(args.output):
        raise UsageError("impact attribution needs both --data FILE and --output NAME...", "diff")
    impacts = None
    if args.data:
        check_comparable(changes)
        impacts = attribute(changes, load.data(args, old), load.data(args, new), args.output)
    if args.json:
        document = diff_json(changes)
        if impacts is not None:
            document["impact"] = impact_json(impacts)
        print(json.dumps(document, indent=2, ensure_ascii=False))
    elif args.markdown:
        print(diff_markdown(changes), end="")
    else:
        print(diff_text(changes) + (impact_text(impacts) if impacts is not None else ""), end="")
    return EXIT_OK
