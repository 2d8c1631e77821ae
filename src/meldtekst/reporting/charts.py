"""Report charts as PNG bytes (matplotlib, Agg, no pyplot state), with small counts left out.

A suppressed count is never drawn: its bar or point is missing and its label reads
"< 5" (or "×" where it is hidden to protect another cell), so a chart reveals nothing the
tables hide. A chart with nothing to draw is left out, and ``Report.chart_notes`` says why.
"""

from __future__ import annotations

import io
import math
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
SECONDARY = "×"  # as in reporting.counts (imported there lazily, so charts stays importable on its own)


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
    ax.set_xlabel("aandeel van de meldingen (met 95%-betrouwbaarheidsinterval; alleen toeval, niet de modelfouten)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _pct(v)))
    ax.set_xlim(0, min(1.0, max([h or 0 for h in hi] + [0.05]) + 0.12))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Thema's in {n} meldingen (aantallen van het model)", fontsize=11, loc="left")
    return _png(fig)


def estimate_chart(
    names: list[str],
    tagged: list[int],
    estimate: list[float | None],
    lo: list[float | None],
    hi: list[float | None],
    n: int,
    verified: int,
    k: int,
) -> bytes:
    """Horizontal bars: the estimated number of reports per theme, whiskers from its 95 % interval
    (verified sample + model), and a diamond at the model's tagged count; largest estimate first."""
    order = sorted(range(len(names)), key=lambda i: (estimate[i] or 0.0, names[i]))
    fig = Figure(figsize=(9, 0.32 * len(names) + 1.4))
    ax = fig.subplots()
    top = max([h or 0.0 for h in hi] + [float(t) for t in tagged if not 0 < t < k] + [1.0])
    for pos, i in enumerate(order):
        if estimate[i] is None or 0 < round(estimate[i] or 0.0) < k:
            ax.text(0.002 * top, pos, f"< {k}", va="center", fontsize=8, color="#555555")
            continue
        e, low, high = float(estimate[i] or 0.0), float(lo[i] or 0.0), float(hi[i] or 0.0)
        ax.barh(pos, e, color=_BLUE, height=0.7)
        ax.errorbar(e, pos, xerr=[[e - low], [high - e]], fmt="none", ecolor="#333333", capsize=2, lw=1)
        shown = not 0 < tagged[i] < k  # a hidden tagged count is not drawn
        if shown:
            ax.plot(tagged[i], pos, "D", color="#d1495b", markersize=4)
        right = max(high, tagged[i] if shown else 0)
        ax.text(
            right + 0.01 * top, pos, f"{math.floor(low + 1e-9)}–{math.ceil(high - 1e-9)}", va="center", fontsize=7.5
        )
    ax.plot([], [], "D", color="#d1495b", markersize=4, label="getagd door het model")
    ax.barh([], [], color=_BLUE, label="geschat aantal, met 95%-interval")
    ax.legend(fontsize=7.5, loc="lower right", frameon=False)
    ax.set_yticks(np.arange(len(order)), [names[i] for i in order], fontsize=8)
    ax.set_xlabel("aantal meldingen")
    ax.set_xlim(0, top * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(
        f"Thema's in {n} meldingen: geschat met {verified} met de hand gecontroleerde meldingen",
        fontsize=11,
        loc="left",
    )
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
        mark = f"< {k}" if 0 < totals[i] < k else SECONDARY
        ax1.text(i, 0, mark, ha="center", va="bottom", fontsize=7, color="#555555", rotation=90)
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
        f"Aantallen onder {k}, wat verborgen is om die te beschermen ({SECONDARY}) en de aandelen die daarop rusten "
        "zijn niet getekend. Aantallen van het model.",
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
                text, colour = (f"<{k}" if 0 < matrix[i, j] < k else SECONDARY), "#666666"
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
    charts: dict[str, Chart] = {}
    notes = report.chart_notes
    if not n:
        notes["themas"] = "Geen grafiek: er zijn geen meldingen in de gekozen periode."
    elif not any(c >= k for c in theme_counts):
        notes["themas"] = f"Geen grafiek: geen enkel thema heeft {k} of meer meldingen."
    elif report.estimates is not None:
        est = [report.estimates[t] for t in data.theme_ids]
        charts["themas"] = Chart(
            "themas",
            "Geschat aantal per thema",
            estimate_chart(
                names,
                theme_counts,
                [e.estimate for e in est],
                [e.low for e in est],
                [e.high for e in est],
                n,
                report.estimates.verified,
                k,
            ),
            "Staafdiagram: geschat aantal meldingen per thema met 95%-betrouwbaarheidsinterval en het aantal van "
            "het model",
        )
    else:
        intervals = [wilson(c, n) for c in theme_counts]
        charts["themas"] = Chart(
            "themas",
            "Aandeel per thema",
            theme_chart(names, theme_counts, [a for a, _ in intervals], [b for _, b in intervals], n, k),
            "Staafdiagram: aandeel van de meldingen per thema met 95%-betrouwbaarheidsinterval",
        )
    # the trend chart leaves out the 'zonder datum' row: it has no place on a time axis
    dated_rows = [i for i, g in enumerate(group_names) if g != UNDATED]
    if not dated_rows:
        notes["trend"] = (
            "Geen grafiek: geen enkele melding heeft een (leesbare) datum."
            if report.by != "rol"
            else "Geen grafiek: er zijn geen rollen."
        )
    elif hidden_totals[dated_rows].all():
        notes["trend"] = f"Geen grafiek: elke periode heeft minder dan {k} meldingen (of is daarom verborgen)."
    else:
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
    if not n:
        notes["samen"] = "Geen grafiek: er zijn geen meldingen in de gekozen periode."
    elif not (co_matrix[~np.eye(len(names), dtype=bool)] > 0).any():
        notes["samen"] = "Geen grafiek: geen enkele melding heeft twee of meer thema's."
    else:
        charts["samen"] = Chart(
            "samen",
            "Samen voorkomende thema's",
            cooccurrence_chart(names, co_matrix, co_hidden, k),
            "Heatmap: aantal meldingen per paar van thema's",
        )
    return charts
