"""Report charts as PNG bytes (matplotlib, Agg, no pyplot state), with small counts left out.

A suppressed count is never drawn: its bar or point is missing and its label reads
"< 5", so a chart reveals nothing the tables hide.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib.ticker
import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from meldtekst.reporting.counts import Chart, Report
    from meldtekst.reporting.data import TaggedReports

_BLUE = "#2f6690"
_GREY = "#9aa5b1"
_LINE_COLOURS = ("#2f6690", "#d1495b", "#edae49", "#00798c", "#6a4c93", "#3a7d44")
TOP_THEMES_IN_TREND = 6


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)  # the Agg canvas, without touching pyplot's global backend
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%".replace(".", ",")


def theme_chart(
    names: list[str], counts: list[int], lo: list[float | None], hi: list[float | None], n: int, k: int
) -> bytes:
    """Horizontal bars: share of reports per theme with its 95 % Wilson interval, largest first."""
    order = sorted(range(len(names)), key=lambda i: (counts[i], names[i]))
    fig = Figure(figsize=(9, 0.32 * len(names) + 1.2))
    ax = fig.subplots()
    y = np.arange(len(order))
    for pos, i in enumerate(order):
        c = counts[i]
        if 0 < c < k:
            ax.text(0.002, pos, f"< {k}", va="center", fontsize=8, color="#555555")
            continue
        share = c / n if n else 0.0
        ax.barh(pos, share, color=_BLUE, height=0.7)
        if lo[i] is not None and hi[i] is not None:
            ax.errorbar(
                share, pos, xerr=[[share - lo[i]], [hi[i] - share]], fmt="none", ecolor="#333333", capsize=2, lw=1
            )
            ax.text((hi[i] or share) + 0.005, pos, f"{c} ({_pct(share)})", va="center", fontsize=8)
    ax.set_yticks(y, [names[i] for i in order], fontsize=8)
    ax.set_xlabel("aandeel van de meldingen (met 95%-betrouwbaarheidsinterval)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _pct(v)))
    ax.set_xlim(0, min(1.0, max([h or 0 for h in hi] + [0.05]) + 0.12))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Thema's in {n} meldingen", fontsize=11, loc="left")
    return _png(fig)


def trend_chart(
    labels: list[str],
    totals: np.ndarray,
    total_hidden: np.ndarray,
    counts: np.ndarray,
    hidden: np.ndarray,
    theme_names: list[str],
    k: int,
    *,
    categorical: bool,
) -> bytes:
    """Top: reports per period (or role). Bottom: share of the most frequent themes per period."""
    n_groups = len(labels)
    fig = Figure(figsize=(10, 6.5))
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.6]})
    x = np.arange(n_groups)
    ax1.bar(x[~total_hidden], totals[~total_hidden], color=_BLUE, width=0.7)
    for i in np.flatnonzero(total_hidden):
        ax1.text(i, 0, f"< {k}", ha="center", va="bottom", fontsize=7, color="#555555", rotation=90)
    ax1.set_ylabel("meldingen")
    ax1.spines[["top", "right"]].set_visible(False)
    ax1.set_title("Aantal meldingen en aandeel van de meest voorkomende thema's", fontsize=11, loc="left")

    top = np.argsort(-counts.sum(axis=0), kind="stable")[:TOP_THEMES_IN_TREND]
    for colour, j in zip(_LINE_COLOURS, top, strict=False):
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = (totals > 0) & ~hidden[:, j] & ~total_hidden  # a share would reveal a hidden total
            share = np.where(shown, counts[:, j] / np.maximum(totals, 1), np.nan)
        style = "o" if categorical else "o-"
        ax2.plot(x, share, style, color=colour, label=theme_names[j], markersize=3.5, lw=1.5)
    ax2.set_ylabel("aandeel van de meldingen")
    ax2.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _pct(v)))
    ax2.set_ylim(bottom=0)
    ax2.spines[["top", "right"]].set_visible(False)
    ax2.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    step = max(1, int(np.ceil(n_groups / 24)))
    ax2.set_xticks(
        x[::step], [labels[i] for i in range(0, n_groups, step)], rotation=60 if n_groups > 6 else 0, fontsize=8
    )
    if n_groups:
        ax2.set_xlim(-0.6, n_groups - 0.4)
    fig.text(
        0.01,
        -0.01,
        f"Aantallen onder {k} en de aandelen die daarop rusten zijn niet getekend.",
        fontsize=7.5,
        color="#555555",
    )
    return _png(fig)


def cooccurrence_chart(names: list[str], matrix: np.ndarray, hidden: np.ndarray, k: int) -> bytes:
    """Heatmap of reports per pair of themes; hidden cells grey with '<k'."""
    size = len(names)
    fig = Figure(figsize=(0.42 * size + 3, 0.42 * size + 2))
    ax = fig.subplots()
    shown = np.ma.masked_array(matrix.astype(float), mask=hidden)
    cmap = colormaps["Blues"].with_extremes(bad="#e6e6e6")
    off_diagonal = matrix[~np.eye(size, dtype=bool)] if size > 1 else matrix.ravel()
    top = float(off_diagonal.max()) if off_diagonal.size and off_diagonal.max() > 0 else 1.0
    # the colour scale follows the pairs; the diagonal (a theme with itself) is clipped to the darkest blue
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=top)
    for i in range(size):
        for j in range(size):
            if hidden[i, j]:
                text, colour = f"<{k}", "#666666"
            else:
                text, colour = str(int(matrix[i, j])), "white" if matrix[i, j] > 0.6 * top else "#222222"
            ax.text(j, i, text, ha="center", va="center", fontsize=6, color=colour)
    ax.set_xticks(range(size), names, rotation=90, fontsize=7)
    ax.set_yticks(range(size), names, fontsize=7)
    ax.set_title("Thema's die samen in één melding voorkomen (aantal meldingen)", fontsize=11, loc="left")
    fig.colorbar(im, ax=ax, shrink=0.6, label="meldingen")
    return _png(fig)


def all_charts(
    report: Report,
    data: TaggedReports,
    group_names: list[str],
    totals: np.ndarray,
    counts: np.ndarray,
    hidden: np.ndarray,
    hidden_totals: np.ndarray,
    co_matrix: np.ndarray,
    co_hidden: np.ndarray,
) -> dict[str, Chart]:
    """The HTML report's charts, keyed by the table they illustrate."""
    from meldtekst.reporting.counts import UNDATED, Chart, wilson

    names = [report.theme_names[t] for t in data.theme_ids]
    k = report.min_count
    n = len(data)
    theme_counts = [int(v) for v in data.assigned.sum(axis=0)]
    intervals = [wilson(c, n) for c in theme_counts]
    charts = {
        "themas": Chart(
            "themas",
            "Aandeel per thema",
            theme_chart(names, theme_counts, [a for a, _ in intervals], [b for _, b in intervals], n, k),
            "Staafdiagram: aandeel van de meldingen per thema met 95%-betrouwbaarheidsinterval",
        )
    }
    # the trend chart leaves out the 'zonder datum' row: it has no place on a time axis
    dated_rows = [i for i, g in enumerate(group_names) if g != UNDATED]
    if dated_rows:
        idx = np.asarray(dated_rows)
        charts["trend"] = Chart(
            "trend",
            "Verloop",
            trend_chart(
                [group_names[i] for i in dated_rows],
                totals[idx],
                hidden_totals[idx],
                counts[idx],
                hidden[idx],
                names,
                k,
                categorical=report.by == "rol",
            ),
            "Grafiek: aantal meldingen en aandeel van de meest voorkomende thema's per periode",
        )
    if n:
        charts["samen"] = Chart(
            "samen",
            "Samen voorkomende thema's",
            cooccurrence_chart(names, co_matrix, co_hidden, k),
            "Heatmap: aantal meldingen per paar van thema's",
        )
    return charts
