"""Charts for the HTML report, as inline SVG drawn by matplotlib (no browser-side plotting, no network).

Two kinds, found from the explanation tree rather than from scheme names, so any pack's banded
payment or taper gets one:

- a *bands* chart (the ERF): the amount measured against each threshold period by period, and
  the payment in each band;
- a *taper* chart (the FRF): for each period one bar, the whole the taper works on, split into
  what was earned and what the taper took. The two parts come from :func:`taper_bars`, exact, and
  add up to the whole: the taper cannot take more than there is above its floor, however large
  the shortfall (rate × shortfall can exceed the whole; the floor then holds, and the caption says so).

Bars start at zero. A line chart whose axis does not start at zero says where it starts, on the
axis and in the caption (:attr:`Chart.note`), so a £5m difference does not read as a doubling.

Plotted positions are floats: a chart is a picture, and no figure shown as a number comes from it.
"""

from __future__ import annotations

import io
import re
from fractions import Fraction

import attrs
import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..explanation import TraceNode
from ..render.steps import NAMED_KINDS
from ..render.values import format_value

__all__ = ["find_step", "bands_chart", "taper_chart", "taper_bars", "TaperBar", "Chart"]

# labels are literal text: an organisation code such as `$x^2$` or `A$_` is not TeX to typeset (or fail on)
matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "planlang", "font.size": 9,
                            "text.usetex": False, "text.parse_math": False})
_BAND_COLOURS = ("#c6dbef", "#6baed6", "#2171b5", "#08306b")
_COMPLETE = {"bands": "rows", "taper": "reduction"}  # a key the step's detail has only when it was worked out


@attrs.frozen
class Chart:
    svg: str
    note: str = ""  # what the caption must add for the picture to be read right (an axis not from zero)


@attrs.frozen
class TaperBar:
    """One period of a taper: ``earned + taken == whole``, each part between zero and the whole."""

    period: str
    whole: Fraction  # the taper's base: what could be earned
    earned: Fraction  # the taper's value
    taken: Fraction  # what the taper removed from the whole
    reduction: Fraction  # rate × shortfall, which may exceed what there was to take
    floored: bool  # the floor held: the reduction would have taken the value below it


def taper_bars(periods: list[str], steps: list[TraceNode]) -> list[TaperBar]:
    """What each period's taper worked on, earned and took, exactly, from the steps' own figures.

    What was taken is the whole less what was earned, not the reduction the shortfall asked for:
    when the floor or a cap holds, the two differ. A floor above the whole lifts the value above
    it; nothing was taken then, and the bar's whole is the value.
    """
    bars = []
    for period, step in zip(periods, steps):
        base, value = step.detail["base"], step.value
        bars.append(TaperBar(period, max(base, value), value, max(Fraction(0), base - value), step.detail["reduction"],
                             step.detail["floored"]))
    return bars


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
    note = _axis_note(top, "The upper panel's")
    base = [0.0] * len(steps)
    for k, row in enumerate(steps[0].detail["rows"]):
        paid = [float(s.detail["rows"][k]["payment"]) for s in steps]
        rate = format_value(row["rate"], "percent")
        bottom.bar(x, paid, bottom=base, color=_BAND_COLOURS[k % len(_BAND_COLOURS)], label=f"band {k + 1} at {rate}")
        base = [b + p for b, p in zip(base, paid)]
    _from_zero(bottom)
    bottom.yaxis.set_major_formatter(FuncFormatter(_pounds))
    bottom.set_ylabel("paid in each band")
    bottom.legend(loc="best", fontsize=7)
    bottom.set_xticks(x, periods)
    return Chart(_svg(figure, title), note)


def taper_chart(title: str, periods: list[str], steps: list[TraceNode]) -> Chart:
    """One bar per period: what was earned, and above it what the taper took, together the whole."""
    bars = taper_bars(periods, steps)
    figure = Figure(figsize=(7.5, 3.4))
    axes = figure.subplots()
    x = list(range(len(bars)))
    whole = steps[0].label.split(" by ")[0].replace("taper ", "")
    earned = [float(b.earned) for b in bars]
    axes.bar(x, earned, 0.6, color="#2171b5", label="earned")
    axes.bar(x, [float(b.taken) for b in bars], 0.6, bottom=earned, color="#fcbba1",
             label=f"taken by the shortfall taper (with earned: {whole})")
    _from_zero(axes)
    axes.yaxis.set_major_formatter(FuncFormatter(_pounds))
    axes.set_xticks(x, [b.period for b in bars])
    axes.set_title(title)
    axes.legend(loc="best", fontsize=7)
    held = [b for b in bars if b.floored]
    note = ""
    if held:
        asked = "; ".join(f"{b.period}: a reduction of {format_value(b.reduction, 'money')} asked of "
                          f"{format_value(b.whole, 'money')}" for b in held)
        note = f"The floor held ({asked}): the taper took what {whole} held above its floor, and no more."
    return Chart(_svg(figure, title), note)


def _from_zero(axes) -> None:
    """Bars are read by their length: the axis always includes zero (and leaves room above for the legend)."""
    low, high = axes.get_ylim()
    low, high = min(0.0, low), max(0.0, high)
    axes.set_ylim(low, high + 0.2 * (high - low) or 1.0)


def _axis_note(axes, which: str) -> str:
    """A money axis that does not include zero, marked on the axis and described for the caption."""
    low, high = axes.get_ylim()
    if low <= 0 <= high:
        return ""
    # every value below zero: the axis stops short of it from below
    where = f"starts at {_pounds(low)}" if low > 0 else f"ends at {_pounds(high)}"
    axes.set_ylabel(f"axis {where}, not £0")
    return f"{which} axis {where}, not at £0."
