"""Write tiny ACLED-format files for sync tests (made-up events, never real ACLED data)."""

from __future__ import annotations

import csv
import random
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
    assoc_actor_2: str = "",
    inter1: int | str | None = None,
    inter2: int | str | None = None,
) -> dict[str, object]:
    """One ACLED row; `date` as ACLED writes it, e.g. '03 July 2022'.

    The actor types default to what ACLED would code for the names (`actor_type`).
    """
    inter1 = actor_type(actor1) if inter1 is None else inter1
    inter2 = actor_type(actor2) if inter2 is None else inter2
    return {
        "event_id_cnty": event_id, "event_date": date, "year": date[-4:], "time_precision": 1,
        "disorder_type": "Political violence", "event_type": event_type,
        "sub_event_type": "Attack", "actor1": actor1, "assoc_actor_1": assoc_actor_1,
        "inter1": inter1, "actor2": actor2, "assoc_actor_2": assoc_actor_2, "inter2": inter2,
        "interaction": f"{inter1}{inter2}",
        "civilian_targeting": "", "iso": 466, "region": "Western Africa", "country": country,
        "admin1": admin1, "admin2": "", "admin3": "", "location": "Somewhere",
        "latitude": 14.5, "longitude": -4.2, "geo_precision": 1, "source": "Made up",
        "source_scale": "Local", "notes": "A made-up event for tests.",
        "fatalities": fatalities, "tags": "", "timestamp": timestamp,
    }  # fmt: skip


# The ACLED actor type of the names these tests use (others are rebel groups, 2).
_TYPES = {
    "": 0,
    "Civilians": 7,
    "Protesters": 6,
    "Rioters": 5,
    "Military Forces": 1,
    "Police Forces": 1,
    "Wagner Group": 8,
    "Dozo": 4,
    "Dan Na Ambassagou": 4,
    "Unidentified Armed Group": 3,
}


def actor_type(name: str) -> int:
    """The ACLED actor type (inter code) of a made-up row's primary actor."""
    return next(
        (code for prefix, code in _TYPES.items() if prefix and name.startswith(prefix)),
        0 if not name else 2,
    )


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


JNIM = "JNIM: Group for Support of Islam and Muslims"
ACTORS = (
    JNIM,
    "Katiba Macina",
    "Islamic State (Sahel)",
    "Military Forces of Mali (2021-)",
    "Wagner Group",
    "Dozo Communal Militia (Mali)",
)
MONTHS = ("July", "August", "September")
TYPES = ("Battles", "Violence against civilians", "Explosions/Remote violence")


def mixed_rows() -> list[dict[str, object]]:
    """Made-up events across regions, types, months and actor roles (never real ACLED data)."""
    rng = random.Random(7)
    rows = [
        # JNIM named twice (directly and through an alias): one event, counted once.
        event(
            "MLI1",
            "03 July 2022",
            JNIM,
            actor2="Katiba Macina",
            admin1="Mopti",
            event_type="Battles",
            fatalities=5,
        ),
        # Wagner only as an associated actor.
        event(
            "MLI2",
            "04 July 2022",
            "Military Forces of Mali (2021-)",
            assoc_actor_1="Wagner Group",
            actor2=JNIM,
            admin1="Mopti",
            event_type="Battles",
        ),
    ]
    for n in range(3, 60):
        actor1, actor2 = rng.sample(ACTORS, 2)
        rows.append(
            event(
                f"MLI{n}",
                f"{rng.randint(1, 28):02d} {rng.choice(MONTHS)} 2022",
                actor1,
                actor2=rng.choice([actor2, "Civilians (Mali)"]),
                assoc_actor_1=rng.choice(["", "", "Wagner Group"]),
                admin1=rng.choice(["Mopti", "Gao", "Segou"]),
                event_type=rng.choice(TYPES),
                fatalities=rng.randint(0, 9),
            )
        )
    return rows
