"""``planlang verify``: re-run a receipt and say whether anything changed."""

from __future__ import annotations

from ..audit.receipt import verify
from . import load
from .exits import EXIT_OK, EXIT_POLICY

__all__ = ["cmd_verify"]


def cmd_verify(args) -> int:
    verdict = verify(args.receipt, allow=args.allow_path or (), max_bytes=load.max_bytes(args))
    differences = verdict.differences
    for note in verdict.notes:
        print(f"note: {note}")
    if not differences:
        print(f"{args.receipt}: identical: the same policy files and data give the same figures")
        return EXIT_OK
    print(f"{args.receipt}: {len(differences)} difference{'s' * (len(differences) != 1)}:")
    for line in differences:
        print(f"  {line}")
    return EXIT_POLICY
