"""Rebuild admin1.geojson from the shared Natural Earth file (not used at run time):

    python service/data/boundaries/extract.py ../shared/data/boundaries/sahel_admin1.geojson

Keeps Burkina Faso, Mali and Niger, rounds coordinates to 3 decimals (about 100 m, far below
what a country map shows) and drops the points rounding makes repeat.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COUNTRIES = ("Burkina Faso", "Mali", "Niger")


def _ring(ring: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in ring:
        point = [round(x, 3), round(y, 3)]
        if not out or out[-1] != point:
            out.append(point)
    return out


def main(source: str) -> None:
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    features = []
    for f in data["features"]:
        if f["properties"]["country"] not in COUNTRIES:
            continue
        g = f["geometry"]
        polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        coords = [[_ring(r) for r in polygon] for polygon in polygons]
        geometry = {"type": "MultiPolygon", "coordinates": coords}
        features.append({"type": "Feature", "properties": f["properties"], "geometry": geometry})
    out = {
        "type": "FeatureCollection",
        "attribution": "Admin-1 boundaries: Natural Earth "
        "(public domain), 1:10m admin-1 states and provinces v5.1",
        "features": features,
    }
    target = Path(__file__).with_name("admin1.geojson")
    target.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
