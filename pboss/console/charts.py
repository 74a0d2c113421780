"""Report charts drawn on the server as SVG with matplotlib, so the browser runs no chart script.

Why matplotlib's SVG backend (measured on this project's 2-core machine under the other engineers'
load, a 25-bar chart with Chinese labels; /tmp scripts, figures in docs/console.md):
- matplotlib 3.11: import 1.1-1.5 s once per process, first chart 0.23-0.45 s, then 0.28-0.44 s a
  chart (mostly the machine's load; the same chart takes well under 0.1 s on an idle core), about
  +37 MB resident over a bare FastAPI process.
- vl-convert-python 1.9 (Vega-Lite through an embedded Deno/V8): first chart 2.0 s, then 0.7-0.9 s
  a chart, +73 MB, a 30 MB wheel carrying a JavaScript engine.
- Vega-Lite in the browser: vega's default expression evaluator builds code with `new Function`,
  which the console's CSP (no inline script, no eval) forbids; vega-interpreter avoids it but
  adds ~1 MB of vendored JavaScript to keep current, and every chart would still need a text
  alternative built on the server.
matplotlib is the best kept of them (a NumFOCUS project with regular releases), needs no JS at
all, and with `svg.fonttype = none` writes labels as `<text>`, so Chinese names stay text that
the browser sets with its own CJK fonts (and a screen reader or search can read). Charts are drawn
with the object-oriented `Figure` API (no pyplot, no global figure manager), one at a time under a
lock because matplotlib does not promise thread safety and pages render in a thread pool.
"""

from __future__ import annotations

import functools
import io
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import get_font_names
from matplotlib.ticker import MaxNLocator, PercentFormatter

#: Fonts the charts' text asks for, CJK first; the browser sets the text with what it has.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Source Han Sans SC")
#: Colours of a chart's series (AA contrast on white, told apart without colour by the legend).
PALETTE = ("#0b5cad", "#9a6700", "#b42318", "#1a7f37")
#: Inches per bar and the frame around the bars.
BAR_INCHES = 0.32
FRAME_INCHES = 1.2
WIDTH_INCHES = 8.0
#: Charts kept drawn (keyed by their figures: a report unchanged since is not drawn again).
CACHE_SIZE = 64

_lock = threading.Lock()


def _font_stack() -> list[str]:
    """The CJK fonts this machine has (matplotlib measures text with them), then DejaVu Sans."""
    known = set(get_font_names())
    return [name for name in CJK_FONTS if name in known] + ["DejaVu Sans"]


matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text (Chinese included), set by the browser's fonts
        "svg.hashsalt": "pboss",  # stable element ids: the same figures give the same SVG
        "font.family": _font_stack(),
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


@dataclass(frozen=True)
class Series:
    """One series of bars: its name (the legend) and one value per bar."""

    name: str
    values: Sequence[float]


def _text_points(text: str, size: float) -> float:
    """About how wide `text` is set at `size` points (CJK characters a full em, others 0.6)."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.6 * size for c in text)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    axis: str,
    *,
    percent: bool = False,
    limit: float | None = None,
) -> str:
    """Horizontal bars, one per label, top to bottom in the labels' order; several series are
    stacked (legend shown). `percent`: the values are shares of 1, shown as %. An SVG document;
    the same figures give the same document, kept for the next asker (`CACHE_SIZE`)."""
    return _drawn(
        title,
        tuple(labels),
        tuple(Series(s.name, tuple(s.values)) for s in series),
        axis,
        percent,
        limit,
    )


@functools.lru_cache(maxsize=CACHE_SIZE)
def _drawn(
    title: str,
    labels: tuple[str, ...],
    series: tuple[Series, ...],
    axis: str,
    percent: bool,
    limit: float | None,
) -> str:
    """`bar_chart`'s drawing, laid out by hand (measuring the labels' widths is ~3x cheaper than
    matplotlib's tight_layout, which draws the figure twice)."""
    with _lock:
        height = FRAME_INCHES + BAR_INCHES * max(len(labels), 1)
        width_pt = WIDTH_INCHES * 72
        label_pt = max((_text_points(t, 10) for t in labels), default=0.0)
        fig = Figure(figsize=(WIDTH_INCHES, height))
        fig.subplots_adjust(
            left=min(0.5, (label_pt + 14) / width_pt),
            right=1 - 50 / width_pt,  # room for the last bar's value label
            top=1 - 0.4 / height,
            bottom=0.62 / height,
        )
        ax = fig.subplots()
        positions = list(range(len(labels)))
        left = [0.0] * len(labels)
        for n, one in enumerate(series):
            ax.barh(
                positions,
                list(one.values),
                left=left,
                color=PALETTE[n % len(PALETTE)],
                label=one.name,
                height=0.7,
            )
            left = [a + b for a, b in zip(left, one.values, strict=True)]
        if len(series) == 1:  # each bar says its value, as the table and the CSV do
            shown = [f"{v * 100:.1f}%" if percent else f"{v:g}" for v in series[0].values]
            ax.bar_label(ax.containers[0], labels=shown, padding=3, fontsize=9)
        ax.set_yticks(positions, list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(axis)
        ax.set_title(title, loc="left", fontsize=11)
        if percent:
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        else:  # counts and scores: whole-number ticks
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if limit is not None:
            ax.set_xlim(0, limit)
        ax.grid(axis="x", color="#d0d7de", linewidth=0.6)
        ax.set_axisbelow(True)
        if len(series) > 1 and labels:
            ax.legend(loc="lower right", frameon=True, fontsize=9)
        if not labels:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color="#57606a")
            ax.set_yticks([])
            ax.set_xlim(0, limit or 1.0)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()
