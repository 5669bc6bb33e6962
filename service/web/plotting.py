"""The fan chart: observed months, the published forecast's 50/80/95 % bands, rainy seasons
shaded and anomalies marked. Drawn with matplotlib's object API (no pyplot state, thread-safe)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from service.measures import noun
from service.series.repository import UNKNOWN
from service.web.chartdata import ChartData

INK, MUTED, GRID = "#1f2933", "#616e7c", "#e4e7eb"
FORECAST = "#1d5fbf"
BANDS = ((("q025", "q975"), "95 %", 0.16), (("q100", "q900"), "80 %", 0.26),
         (("q250", "q750"), "50 %", 0.40))  # fmt: skip
RAIN = "#d8efd3"
ABOVE, BELOW = "#c0392b", "#b7791f"
STYLE: dict[Any, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "svg.fonttype": "none",  # text stays text: selectable, small, readable by screen readers
    "svg.hashsalt": "sahelcast",  # stable ids: the same data gives the same markup
}


def _x(days: Iterable[dt.date]) -> np.ndarray:
    """Matplotlib's date numbers of `days`."""
    return np.asarray(date2num(list(days)), dtype=float)


def _mid(months: Iterable[dt.date]) -> np.ndarray:
    """A month's count stands for the whole month: draw it in the middle."""
    return _x(m.replace(day=15) for m in months)


def _months(column: Any) -> list[dt.date]:
    return [m.date() for m in column]


def _draw(ax: Axes, data: ChartData) -> None:
    """The fan chart's pieces: rainy seasons, history, forecast bands, anomalies, axes."""
    _seasons(ax, data)
    _history(ax, data)
    _forecast(ax, data)
    _anomalies(ax, data)
    _axes(ax, data)


def fan_chart(data: ChartData, *, heading: bool = False) -> Figure:
    """Draw the fan chart of `data`; `heading` adds the series' name above (for files)."""
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=(10, 4.6 if heading else 4.4), dpi=100)
        ax = fig.add_subplot()
        _draw(ax, data)
        rows = _legend(ax, data)
        # Margins from what is drawn in them (a layout engine would draw the figure twice and
        # double the time): room for the widest y tick label and the axis label on the left,
        # for the legend's rows on top. Generous, as browsers may draw wider fonts.
        top = (0.865 if heading else 0.9) - 0.055 * (rows - 1)
        fig.subplots_adjust(left=_left(ax, 1000), right=0.975, bottom=0.075, top=top)
        if heading:
            fig.suptitle(data.label, x=0.01, y=0.985, ha="left", fontsize=12, color=INK,
                         weight="bold")  # fmt: skip
    return fig


def _seasons(ax: Axes, data: ChartData) -> None:
    for start, end in data.seasons:
        lo, hi = _x((start, end))
        ax.axvspan(float(lo), float(hi), color=RAIN, lw=0, zorder=0)


def _history(ax: Axes, data: ChartData) -> None:
    known = data.known
    if len(known):
        ax.plot(_mid(_months(known["month"])), known["count"].to_numpy(float), color=INK,
                lw=1.4, marker="o", ms=2.6, zorder=3)  # fmt: skip
    history = data.history
    partial = history[(history["status"] == UNKNOWN) & history["count"].notna()]
    if len(partial):
        ax.plot(_mid(_months(partial["month"])), partial["count"].to_numpy(float), ls="none",
                marker="o", ms=5, mfc="white", mec=MUTED, zorder=3)  # fmt: skip


def _forecast(ax: Axes, data: ChartData) -> None:
    if data.forecast is None or not data.forecast.points:
        return
    points = data.forecast.points
    x = _mid(p.month for p in points)
    known = data.known
    # Start the fan at the last observed month, so forecast and history read as one line.
    anchor: tuple[float, float] | None = None
    if len(known):
        last = known["month"].iloc[-1].date()
        if (last.year * 12 + last.month) + 1 == points[0].month.year * 12 + points[0].month.month:
            anchor = (float(_mid([last])[0]), float(known["count"].iloc[-1]))
    if anchor is not None:
        x = np.concatenate([[anchor[0]], x])

    def column(name: str) -> np.ndarray:
        values = [float(getattr(p, name)) for p in points]
        return np.asarray([anchor[1], *values] if anchor is not None else values)

    for (lo, hi), _, alpha in BANDS:
        ax.fill_between(x, column(lo), column(hi), color=FORECAST, alpha=alpha, lw=0, zorder=1)
    ax.plot(x, column("q500"), color=FORECAST, lw=1.8, zorder=2)
    boundary = float(_x([points[0].month])[0])
    ax.axvline(boundary, color=MUTED, lw=0.9, ls=(0, (3, 3)), zorder=1)
    ax.annotate("forecast →", (boundary, 1), xycoords=("data", "axes fraction"),
                xytext=(4, -4), textcoords="offset points", va="top", color=MUTED,
                fontsize=9)  # fmt: skip


def _anomalies(ax: Axes, data: ChartData) -> None:
    for direction, color, marker in (("above", ABOVE, "^"), ("below", BELOW, "v")):
        rows = [a for a in data.anomalies if a.direction == direction]
        if not rows:
            continue
        faces = [color if a.status == "new" else "white" for a in rows]
        ax.scatter(_mid(a.month for a in rows), [a.observed for a in rows], s=58, marker=marker,
                   c=faces, edgecolors=color, linewidths=1.4, zorder=4)  # fmt: skip


def _axes(ax: Axes, data: ChartData) -> None:
    ax.set_ylabel(f"{noun(data.measure)} per month")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color=GRID, lw=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _year_ticks(ax, data)
    if not len(data.history) and not data.has_forecast:
        ax.text(0.5, 0.5, "no months observed", transform=ax.transAxes, ha="center",
                color=MUTED)  # fmt: skip
    elif not data.has_forecast:
        ax.text(0.99, 0.97, "no forecast: " + _why_no_forecast(data), transform=ax.transAxes,
                ha="right", va="top", color=MUTED, fontsize=9)  # fmt: skip


def _year_ticks(ax: Axes, data: ChartData) -> None:
    """Years as major ticks, quarters as minor ones (fixed positions: matplotlib's date
    locators cost a tenth of a second per chart)."""
    months = _months(data.history["month"])
    if data.forecast is not None:
        months.extend(p.month for p in data.forecast.points)
    if not months:
        return
    first, last = _x([min(months), max(months)])
    # A year's label is centred on its tick: one within two months of the right edge would
    # stick out of the picture, so the ticks stop before it.
    years = [y for y in range(min(months).year, max(months).year + 2)
             if float(_x([dt.date(y, 1, 1)])[0]) <= float(last) - 14]  # fmt: skip
    ax.set_xticks(_x(dt.date(y, 1, 1) for y in years), [str(y) for y in years])
    ax.set_xticks(_x(dt.date(y, m, 1) for y in years for m in (4, 7, 10)), minor=True)
    ax.set_xlim(float(first) - 15, float(last) + 46)


def _why_no_forecast(data: ChartData) -> str:
    if data.forecast is None:
        return "the series is not in the published run, or no run is published"
    return f"the published run could not fit it ({data.forecast.status})"


def rainy_label(data: ChartData) -> str:
    """'rainy season', with the rate ratio the forecast uses when there is one."""
    effect = data.forecast.season if data.forecast is not None else None
    if effect is None or effect.status is None:
        return "rainy season"
    if effect.rate_ratio is None or effect.ci_low is None or effect.ci_high is None:
        return "rainy season (effect: insufficient data)"
    return (f"rainy season (× {effect.rate_ratio:.2f}, 95 % "
            f"{effect.ci_low:.2f}–{effect.ci_high:.2f})")  # fmt: skip


def _left(ax: Axes, width_px: float, font_px: float = 10.0) -> float:
    """The left margin (a share of the figure's width) that holds the y axis: its label, and
    tick labels as wide as the widest one."""
    widest = max((len(f"{t:g}") for t in ax.get_yticks()), default=1)
    return (3 * font_px + 16 + 0.8 * font_px * widest) / width_px


LEGEND_ROOM_PX = 930.0  # the chart's width, less a margin


def _legend(ax: Axes, data: ChartData) -> int:
    """Draw the legend above the chart, on as many rows as its entries need; return them."""
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=INK, lw=1.4, marker="o", ms=2.6, label="observed")
    ]
    if data.has_forecast:
        handles.append(Line2D([], [], color=FORECAST, lw=1.8, label="forecast median"))
        for i in reversed(range(len(BANDS))):
            alpha = min(1.0, sum(band[2] for band in BANDS[: i + 1]))  # the stacked bands' shade
            handles.append(Patch(color=FORECAST, alpha=alpha, lw=0,
                                 label=f"{BANDS[i][1]} interval"))  # fmt: skip
    if data.seasons:
        handles.append(Patch(color=RAIN, lw=0, label=rainy_label(data)))
    for direction, color, marker in (("above", ABOVE, "^"), ("below", BELOW, "v")):
        if any(a.direction == direction for a in data.anomalies):
            handles.append(Line2D([], [], ls="none", marker=marker, ms=7, color=color,
                                  label=f"anomaly, {direction}"))  # fmt: skip
    # An entry: its marker (1.6 em), the gap, its text, the column spacing (8.5 pt type; a
    # glyph ~0.62 em wide in the widest fallback fonts).
    widths = [8.5 * (1.6 + 0.8 + 1.2 + 0.62 * len(str(h.get_label()))) for h in handles]
    rows = 1
    while rows < len(handles):
        per_row = -(-len(handles) // rows)
        if max(sum(widths[i : i + per_row]) for i in range(0, len(widths), per_row)) * 1.34 \
                <= LEGEND_ROOM_PX:  # fmt: skip
            break
        rows += 1
    ncols = -(-len(handles) // rows)
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.01), ncols=ncols,
              frameon=False, fontsize=8.5, handlelength=1.6, columnspacing=1.2,
              borderaxespad=0)  # fmt: skip
    return rows


def chart_top(data: ChartData) -> float:
    """The highest value a chart of `data` draws: observed months and the 95 % band."""
    top = float(data.history["count"].max()) if data.history["count"].notna().any() else 0.0
    if data.forecast is not None and data.forecast.points:
        top = max(top, max(float(p.q975) for p in data.forecast.points))
    return top


def small_multiple(data: ChartData, *, ymax: float) -> Figure:
    """One panel of a comparison: the fan chart's pieces, smaller, on a y scale of 0..`ymax`
    shared by every panel of the page, so heights compare across series."""
    with mpl.rc_context({**STYLE, "font.size": 8.5}):
        fig = Figure(figsize=(5.2, 2.3), dpi=100)
        ax = fig.add_subplot()
        _draw(ax, data)
        ax.set_ylabel(noun(data.measure))
        ax.set_ylim(0, ymax)
        fig.subplots_adjust(left=_left(ax, 520, 8.5), right=0.98, bottom=0.12, top=0.95)
    return fig
