"""A goal seek's answer in words (``planlang solve``), or why there is none."""

from __future__ import annotations

from ..solve import UNREACHABLE
from .values import format_value

__all__ = ["solve_text"]


def solve_text(vary: str, until: str, type_: str, goal_type: str, solution) -> str:
    """A goal seek's answer, or why there is none."""
    if solution.value is None:
        return _unsolved_text(vary, until, type_, goal_type, solution)
    return "\n".join([
        f"{vary} = {format_value(solution.value, type_)}",
        f"  reaches {until}: {format_value(solution.achieved, goal_type)}",
        f"  baseline value {format_value(solution.baseline_value, type_)}; one step less gives "
        f"{format_value(solution.below, goal_type)}",
    ])


def _unsolved_text(vary: str, until: str, type_: str, goal_type: str, solution) -> str:
    """No value tried reaches the goal: proved (the goal does not depend on what is varied), or inconclusive."""
    if solution.outcome == UNREACHABLE:
        return (f"no value of {vary} reaches {until}: unreachable, since the goal does not depend on what is varied "
                f"(it is {format_value(solution.seen[0][1], goal_type)} whatever the value)")
    low, high = solution.reach
    reach = (f"; over the values tried the output ran from {format_value(low, goal_type)} to "
             f"{format_value(high, goal_type)}") if low is not None else ""
    seen = [f"{format_value(m, goal_type)} at {format_value(x, type_)}" for x, m in solution.seen]
    shape = ("it rose and fell over the values tried, so it is not monotone, and " if not solution.monotone else
             "planlang cannot prove the output monotone, so ")
    return "\n".join([
        f"no value of {vary} tried reaches {until}: inconclusive",
        f"  tried {solution.evaluations:,} values from {format_value(solution.tried[0], type_)} to "
        f"{format_value(solution.tried[1], type_)}{reach}",
        f"  the output was {', '.join(seen[:-1])} and {seen[-1]}" if len(seen) > 1 else f"  the output was {seen[0]}",
        f"  {shape}a value between those tried may still reach the goal",
    ])
