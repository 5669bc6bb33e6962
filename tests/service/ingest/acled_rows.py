"""Write tiny ACLED-format files for sync tests (made-up events, never real ACLED data)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.service.ingest.builders import ACLED_COLUMNS as HEADER


def event(
    event_id: str,
    date: str,
    actor1: str = "JNIM: Group for Support of Islam and Muslims",
    *,
    actor2: str = "Civilians (Mali)",
    assoc_actor_1: str = "",
    event_type: str = "Violence against civilians",
    country: str = "Mali",
    admin1: str = "Mopti",
    fatalities: int | str = 1,
    timestamp: int = 1_700_000_000,
) -> dict[str, object]:
    """One ACLED row; `date` as ACLED writes it, e.g. '03 July 2022'."""
    return {
        "event_id_cnty": event_id, "event_date": date, "year": date[-4:], "time_precision": 1,
        "disorder_type": "Political violence", "event_type": event_type,
        "sub_event_type": "Attack", "actor1": actor1, "assoc_actor_1": assoc_actor_1,
        "inter1": 2, "actor2": actor2, "assoc_actor_2": "", "inter2": 7, "interaction": 27,
        "civilian_targeting": "", "iso": 466, "region": "Western Africa", "country": country,
        "admin1": admin1, "admin2": "", "admin3": "", "location": "Somewhere",
        "latitude": 14.5, "longitude": -4.2, "geo_precision": 1, "source": "Made up",
        "source_scale": "Local", "notes": "A made-up event for tests.",
        "fatalities": fatalities, "tags": "", "timestamp": timestamp,
    }  # fmt: skip


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_deletions(path: Path, rows: list[tuple[str, int]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["event_id_cnty", "deleted_timestamp"])
        writer.writerows(rows)
    return path
