"""The admin1 map of a country, drawn as SVG on the server from the bundled Natural Earth
polygons (service/data/boundaries), coloured by the overview's numbers.

Regions the polygons do not delineate are folded into the polygon that holds them (Ménaka into
Gao, Taoudénit into Timbuktu) and the map says so. The numbers are the overview's: the engine's
six-month outlook per region and the last six months' count; a folded polygon shows the sum of
its parts' expected totals (means add) and each part's own 80 % interval, never a made-up
interval of the sum.
"""

from __future__ import annotations

import functools
import json
import math
import textwrap
import unicodedata
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from service.desk.overview import Overview, OverviewRow

BOUNDARIES = Path(__file__).resolve().parent.parent / "data" / "boundaries" / "admin1.geojson"
# Regions conflict data name that the boundary file draws inside another polygon.
FOLDS = {("mali", "menaka"): "Gao", ("mali", "taoudeni"): "Timbuktu",
         ("mali", "taoudenit"): "Timbuktu"}  # fmt: skip
FOLD_NOTE = {
    "Mali": "Ménaka is drawn inside Gao and Taoudénit inside Timbuktu (the Natural Earth "
    "polygons do not delineate them): their numbers are added to those polygons."
}
WIDTH = 820.0
MAP_HEIGHT_MAX = 560.0
MARGIN = 12.0
LEGEND_HEIGHT = 96.0
# The outlook against the last six months: ratio bins and their colours (ColorBrewer RdBu).
RATIO_BINS = ((0.5, "#0571b0", "below ½"), (0.8, "#92c5de", "½ to 0.8"),
              (1.25, "#f7f7f7", "0.8 to 1.25"), (2.0, "#f4a582", "1.25 to 2"),
              (math.inf, "#ca0020", "above 2"))  # fmt: skip
NO_BASE = ("#d9d9d9", "no events in the last 6 months")
ESCALATION_BINS = ((0, "#f7f7f7", "none"), (1, "#fcae91", "1"), (math.inf, "#cb181d", "2 or more"))
FONT = 11.0
CHAR = 0.6 * FONT  # a generous average glyph width, to keep labels inside the picture


def _fold_name(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold().strip()


@dataclass(frozen=True)
class Shape:
    country: str
    name: str  # the boundary file's admin1
    names: frozenset[str]  # folded spellings that join to it
    rings: tuple[tuple[tuple[float, float], ...], ...]  # lon, lat


@functools.cache
def shapes(country: str) -> tuple[Shape, ...]:
    """The admin1 polygons of `country` in the bundled file (empty if it has none)."""
    data = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    out = []
    for f in data["features"]:
        p = f["properties"]
        if _fold_name(p["country"]) != _fold_name(country):
            continue
        names = {_fold_name(n) for n in [p["admin1"], p.get("name_local") or "",
                                          *p.get("alt_names", [])] if n}  # fmt: skip
        rings = tuple(tuple((float(x), float(y)) for x, y in ring)
                      for polygon in f["geometry"]["coordinates"] for ring in polygon)  # fmt: skip
        out.append(Shape(p["country"], p["admin1"], frozenset(names), rings))
    return tuple(out)


@dataclass
class Area:
    """One polygon with the overview rows it stands for (its region, and folded ones)."""

    shape: Shape
    rows: list[OverviewRow] = field(default_factory=list)

    @property
    def expected(self) -> float | None:
        means = [r.outlook.mean for r in self.rows if r.outlook is not None]
        return sum(means) if means else None

    @property
    def before(self) -> int | None:
        counts = [r.previous_observed for r in self.rows if r.previous_observed is not None]
        return sum(counts) if counts else None

    @property
    def escalations(self) -> int:
        return len({e for r in self.rows for e in r.escalations})

    @property
    def ratio(self) -> float | None:
        if self.expected is None or not self.before:
            return None
        return self.expected / self.before

    @property
    def label(self) -> str:
        parts = [r.name for r in self.rows if _fold_name(r.name) not in self.shape.names]
        return self.shape.name + (f" + {', '.join(parts)}" if parts else "")


def areas(overview: Overview) -> tuple[list[Area], list[OverviewRow]]:
    """Every polygon of the country with its rows; and the regions no polygon holds."""
    found = [Area(s) for s in shapes(overview.country)]
    by_name = {n: a for a in found for n in a.shape.names}
    unmapped = []
    for row in overview.of_kind("region"):
        name = _fold_name(row.name)
        target = by_name.get(name)
        fold = FOLDS.get((_fold_name(overview.country), name))
        if target is None and fold is not None:
            target = by_name.get(_fold_name(fold))
        if target is None:
            unmapped.append(row)
        else:
            target.rows.append(row)
    return found, unmapped


def _colour(area: Area, mode: str) -> tuple[str, str]:
    if mode == "escalations":
        n = area.escalations
        return next((c, label) for bound, c, label in ESCALATION_BINS if n <= bound)
    ratio = area.ratio
    if ratio is None:
        return NO_BASE
    return next((c, label) for bound, c, label in RATIO_BINS if ratio <= bound)


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _tooltip(area: Area, noun: str) -> str:
    lines = [area.label]
    for r in area.rows:
        o = r.outlook
        lines.append(f"{r.name}: next 6 months {_fmt(o.mean if o else None)} {noun}"
                     + (f" (80 %: {_fmt(o.q100)}–{_fmt(o.q900)})" if o else "")
                     + f"; last 6 months {_fmt(r.previous_observed)}"
                     + f"; open escalations {len(r.escalations)}")  # fmt: skip
    if not area.rows:
        lines.append(f"no {noun} series")
    return "\n".join(lines)


@dataclass(frozen=True)
class Projection:
    lon0: float
    lat1: float
    k: float
    scale: float
    shift: float

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (MARGIN + self.shift + (lon - self.lon0) * self.k * self.scale,
                MARGIN + (self.lat1 - lat) * self.scale)  # fmt: skip


def _projection(all_rings: list[tuple[tuple[float, float], ...]]) -> tuple[Projection, float]:
    lons = [x for ring in all_rings for x, _ in ring]
    lats = [y for ring in all_rings for _, y in ring]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    width_deg, height_deg = (max(lons) - min(lons)) * k, max(lats) - min(lats)
    scale = min((WIDTH - 2 * MARGIN) / width_deg, (MAP_HEIGHT_MAX - 2 * MARGIN) / height_deg)
    shift = (WIDTH - 2 * MARGIN - width_deg * scale) / 2  # centred
    return Projection(min(lons), max(lats), k, scale, shift), height_deg * scale + 2 * MARGIN


def _centroid(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Area-weighted centroid and area of a ring (in projected units)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-9:
        return points[0][0], points[0][1], 0.0
    return cx / (3 * a), cy / (3 * a), abs(a) / 2


def choropleth(overview: Overview, mode: str = "outlook", noun: str = "events") -> str:
    """The country's map as an inline <svg> (title, desc, a link per polygon, a legend)."""
    found, unmapped = areas(overview)
    if not found:
        return ""
    project, map_height = _projection([r for a in found for r in a.shape.rings])
    note = FOLD_NOTE.get(overview.country, "")
    notes = _lines(note)
    if unmapped:
        names = ", ".join(f"{r.name} ({_fmt(r.previous_observed)} {noun} in the last 6 months)"
                          for r in unmapped)  # fmt: skip
        notes += _lines(f"Not on the map (no admin1 polygon): {names}.")
    height = map_height + LEGEND_HEIGHT + 16 * len(notes)
    parts: list[str] = []
    labels: list[str] = []
    for area in found:
        colour, bin_label = _colour(area, mode)
        rings = [[project(x, y) for x, y in ring] for ring in area.shape.rings]
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + " Z" for ring in rings)
        query = {"source": overview.source, "country": overview.country}
        if area.rows:
            query["region"] = area.rows[0].series.region or ""
        href = "/?" + urlencode(query)
        parts.append(
            f'<a href="{escape(href)}" class="region-link">'
            f'<path class="region" d="{d}" fill="{colour}" stroke="#5f6b7a" stroke-width="0.8" '
            f'data-region="{escape(area.shape.name)}" data-bin="{escape(bin_label)}" '
            f'data-expected="{_fmt(area.expected, 1)}" data-before="{_fmt(area.before)}">'
            f"<title>{escape(_tooltip(area, noun))}</title></path></a>"
        )
        cx, cy, _ = max((_centroid(ring) for ring in rings), key=lambda c: c[2])
        number = str(area.escalations) if mode == "escalations" else _fmt(area.expected)
        text = f"{area.shape.name} {number}"
        half = len(text) * CHAR / 2
        x = min(max(cx, MARGIN + half), WIDTH - MARGIN - half)
        y = min(max(cy, MARGIN + FONT), map_height - MARGIN)
        labels.append(
            f'<text class="label" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" '
            f'font-size="{FONT:g}" data-region="{escape(area.shape.name)}">'
            f"{escape(area.shape.name)} <tspan font-weight="
            f'"700">{escape(number)}</tspan></text>'
        )
    legend = _legend(map_height, mode, noun)
    extra = [
        f'<text class="note" x="{MARGIN}" y="{map_height + LEGEND_HEIGHT - 8 + 16 * i:.1f}" '
        f'font-size="{FONT:g}">{escape(line)}</text>'
        for i, line in enumerate(notes)
    ]
    title = (
        f"{overview.country}: open escalations by region"
        if mode == "escalations"
        else f"{overview.country}: next six months' expected {noun} against the last six"
    )
    desc = (f"Admin1 map of {overview.country}, {len(found)} regions, coloured by "
            + ("open escalations" if mode == "escalations" else
               f"the engine's six-month outlook of {noun} over the last six months' count")
            + ". Labels give each region's number. " + note)  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="map" viewBox="0 0 {WIDTH:g} {height:.0f}" '
        f'role="img" aria-labelledby="map-title map-desc" data-regions="{len(found)}" '
        f'data-mode="{escape(mode)}" style="font-family: system-ui, sans-serif">'
        f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(desc)}</desc>'
        + "".join(parts)
        + '<g class="labels" pointer-events="none" paint-order="stroke" stroke="#ffffff" '
        'stroke-width="3" stroke-linejoin="round" fill="#1f2933">' + "".join(labels) + "</g>"
        + legend + "".join(extra) + "</svg>"
    )  # fmt: skip


def _lines(text: str) -> list[str]:
    """`text` wrapped to the picture's width (an SVG text never wraps by itself)."""
    return textwrap.wrap(text, int((WIDTH - 2 * MARGIN) / CHAR)) if text else []


def _legend(top: float, mode: str, noun: str) -> str:
    if mode == "escalations":
        heading = "Open escalations (groups of flagged months still running)"
        bins: list[tuple[str, str]] = [(c, label) for _, c, label in ESCALATION_BINS]
    else:
        heading = (f"Next 6 months' expected {noun} ÷ last 6 months' count "
                   "(label: expected total)")  # fmt: skip
        bins = [(c, label) for _, c, label in RATIO_BINS] + [NO_BASE]
    out = [
        f'<g class="legend" transform="translate({MARGIN},{top + 8:.1f})">',
        f'<text x="0" y="12" font-size="12" font-weight="600">{escape(heading)}</text>',
    ]
    x, y = 0.0, 24.0
    for colour, label in bins:
        width = 22 + len(label) * CHAR + 14
        if x + width > WIDTH - 2 * MARGIN:
            x, y = 0.0, y + 24
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="16" height="14" fill="{colour}" '
                   f'stroke="#5f6b7a" stroke-width="0.6"/><text class="legend-label" '
                   f'x="{x + 22:.1f}" y="{y + 11.5:.1f}" font-size="{FONT:g}">{escape(label)}'
                   "</text>")  # fmt: skip
        x += width
    out.append("</g>")
    return "".join(out)


def map_facts(overview: Overview) -> list[dict[str, Any]]:
    """The map's numbers as a table (the page shows it under the map, and as CSV)."""
    found, unmapped = areas(overview)
    rows = []
    for area in found:
        held: list[OverviewRow | None] = list(area.rows) or [None]
        for r in held:
            o = r.outlook if r else None
            rows.append({"polygon": area.shape.name, "region": r.name if r else None,
                         "expected_6_months": None if o is None else round(o.mean, 2),
                         "low_80": None if o is None else o.q100,
                         "high_80": None if o is None else o.q900,
                         "last_6_months": r.previous_observed if r else None,
                         "open_escalations": len(r.escalations) if r else 0})  # fmt: skip
    for r in unmapped:
        o = r.outlook
        rows.append({"polygon": None, "region": r.name,
                     "expected_6_months": None if o is None else round(o.mean, 2),
                     "low_80": None if o is None else o.q100,
                     "high_80": None if o is None else o.q900,
                     "last_6_months": r.previous_observed,
                     "open_escalations": len(r.escalations)})  # fmt: skip
    return rows
