"""Charts for the HTML report, as inline SVG drawn by matplotlib (no browser-side plotting, no network).

Two kinds, found from the explanation tree rather than from scheme names, so any pack's banded
payment or taper gets one:

- a *bands* chart (the ERF): the amount measured against each threshold period by period, and
  the payment in each band;
- a *taper* chart (the FRF): what could be earned against what was earned, and the reduction
  the shortfall taper took.

Plotted positions are floats: a chart is a picture, and no figure shown as a number comes from it.
"""

from __future__ import annotations

import io
import re

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..explain import TraceNode
from ..render import NAMED_KINDS, format_value

__all__ = ["find_step", "bands_chart", "taper_chart"]

# labels are literal text: an organisation code such as `$x^2$` or `A$_` is not TeX to typeset (or fail on)
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "planlang", "font.size": 9,
                            "text.usetex": False, "text.parse_math": False})
_BAND_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")
_COMPLETE = {"bands": "rows", "taper": "reduction"}  # a key the step's detail has only when it was worked out


def find_step(node: TraceNode, kind: str) -> TraceNode | None:
    """The first step of ``kind`` in a definition's own formula (not inside the values it names)."""
    pending = list(reversed(node.children))
    while pending:
        step = pending.pop()
        if step.kind == kind and _COMPLETE[kind] in step.detail:  # not a step with a missing operand
            return step
        if step.kind not in NAMED_KINDS:
            pending += reversed(step.children)
    return None


def _pounds(value, _position=None) -> str:
    if abs(value) >= 1_000_000:
        return f"£{value / 1_000_000:,.1f}m"
    if abs(value) >= 1_000:
        return f"£{value / 1_000:,.0f}k"
    return f"£{value:,.0f}"


def _svg(figure: Figure, title: str) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]  # inline: no XML declaration or doctype
    # a title for screen readers, and a scalable picture
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r'<svg \1', svg, count=1)
    return svg.replace(">", f' role="img" aria-label="{_attribute(title)}">', 1)


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def bands_chart(title: str, periods: list[str], steps: list[TraceNode]) -> str:
    """The amount against each threshold, and the payment in each band, period by period."""
    figure = Figure(figsize=(7.5, 4.6))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 2)})
    x = list(range(len(periods)))
    amounts = [float(s.detail["amount"]) for s in steps]
    top.plot(x, amounts, marker="o", color="#111111", label=steps[0].detail["amount_label"])
    for k, row in enumerate(steps[0].detail["rows"]):
        if row["to"] is None:
            continue
        limits = [float(s.detail["rows"][k]["to"]) for s in steps]
        top.plot(x, limits, linestyle="--", color=_BAND_COLOURS[(k + 1) % len(_BAND_COLOURS)], label=row["threshold"])
    top.yaxis.set_major_formatter(FuncFormatter(_pounds))
    top.legend(loc="best", fontsize=7)
    top.set_title(title)
    base = [0.0] * len(steps)
    for k, row in enumerate(steps[0].detail["rows"]):
        paid = [float(s.detail["rows"][k]["payment"]) for s in steps]
        rate = format_value(row["rate"], "percent")
        bottom.bar(x, paid, bottom=base, color=_BAND_COLOURS[k % len(_BAND_COLOURS)], label=f"band {k + 1} at {rate}")
        base = [b + p for b, p in zip(base, paid)]
    bottom.yaxis.set_major_formatter(FuncFormatter(_pounds))
    bottom.set_ylabel("paid in each band")
    bottom.legend(loc="best", fontsize=7)
    bottom.set_xticks(x, periods)
    return _svg(figure, title)


def taper_chart(title: str, periods: list[str], steps: list[TraceNode]) -> str:
    """What could be earned (the taper's base) against what was earned, and the reduction taken."""
    figure = Figure(figsize=(7.5, 3.4))
    axes = figure.subplots()
    x = list(range(len(periods)))
    width = 0.38
    bases = [float(s.detail["base"]) for s in steps]
    earned = [float(s.value) for s in steps]
    reductions = [float(s.detail["reduction"]) for s in steps]
    axes.bar([p - width / 2 for p in x], bases, width, color="#c6dbef", label=steps[0].label.split(" by ")[0].replace("taper ", ""))
    axes.bar([p + width / 2 for p in x], earned, width, color="#2171b5", label="earned")
    axes.plot(x, reductions, marker="v", color="#cb181d", linestyle=":", label="taken by the shortfall taper")
    axes.yaxis.set_major_formatter(FuncFormatter(_pounds))
    axes.set_xticks(x, periods)
    axes.set_title(title)
    axes.legend(loc="best", fontsize=7)
    return _svg(figure, title)
