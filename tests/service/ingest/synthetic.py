"""Synthetic ACLED-format exports for volume tests and benchmarks (made up, not ACLED data)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from tests.service.ingest.builders import ACLED_COLUMNS

_TYPES = [
    ("Battles", "Armed clash"),
    ("Violence against civilians", "Attack"),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED"),
    ("Strategic developments", "Looting/property destruction"),
    ("Protests", "Peaceful protest"),
    ("Riots", "Mob violence"),
]
_ACTORS = [
    "JNIM: Group for Support of Islam and Muslims",
    "Islamic State (Sahel)",
    "Military Forces of Mali (2021-)",
    "Katiba Macina",
    "Unidentified Armed Group (Mali)",
    "Dan Na Ambassagou",
]
_ASSOC = ["", "", "", "Wagner Group", "Wagner Group; Dozo Militia", "Fulani Ethnic Militia (Mali)"]
_ACTOR_TYPES = [2, 2, 1, 2, 3, 4]  # ACLED's types of _ACTORS
_TARGETS = [
    "",
    "Civilians (Mali)",
    "Military Forces of Mali (2021-)",
    "JNIM: Group for Support of Islam and Muslims",
    "Islamic State (Sahel)",
]
_TARGET_TYPES = [0, 7, 1, 2, 2]
_ASSOC2 = ["", "", "Fulani Ethnic Group (Mali)", "Women (Mali); Fulani Ethnic Group (Mali)"]
_PLACES = [
    ("Mopti", "Bandiagara", 14.35, -3.61),
    ("Segou", "Niono", 14.25, -5.99),
    ("Gao", "Ansongo", 15.66, 0.50),
    ("Menaka", "Menaka", 15.92, 2.40),
    ("Tombouctou", "Niafunke", 15.93, -3.99),
]
_NOTE = (
    'On {d}, suspected militants attacked a position near {p} ({a}), "heavy fire" was '
    "reported; {f} fatalities. Sources disagree on the toll, and on who claimed it."
)


def write_acled(path: Path, n_rows: int, seed: int = 0, multiline_every: int = 0) -> None:
    """Write an ACLED 31-column export of n_rows made-up Mali events.

    Every `multiline_every`-th row (0: none) gets a notes field spanning two physical lines.
    """
    rng = np.random.default_rng(seed)
    start = dt.date(2021, 1, 1).toordinal()
    days = rng.integers(0, 730, n_rows)
    types = rng.integers(0, len(_TYPES), n_rows)
    a1 = rng.integers(0, len(_ACTORS), n_rows)
    as1 = rng.integers(0, len(_ASSOC), n_rows)
    a2 = rng.integers(0, len(_TARGETS), n_rows)
    as2 = rng.integers(0, len(_ASSOC2), n_rows)
    places = rng.integers(0, len(_PLACES), n_rows)
    fatal = rng.poisson(1.5, n_rows)
    stamps = 1_640_000_000 + rng.integers(0, 60_000_000, n_rows)
    dates = {d: dt.date.fromordinal(start + d) for d in range(730)}
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(ACLED_COLUMNS)
        for i in range(n_rows):
            date = dates[int(days[i])]
            etype, sub = _TYPES[types[i]]
            admin1, admin2, lat, lon = _PLACES[places[i]]
            note = _NOTE.format(d=date.isoformat(), p=admin2, a=admin1, f=fatal[i])
            if multiline_every and i % multiline_every == 0:
                note += "\nUpdate: toll revised."
            writer.writerow(
                (
                    f"MLI{i + 1}",
                    date.strftime("%d %B %Y"),
                    date.year,
                    1,
                    "Political violence",
                    etype,
                    sub,
                    _ACTORS[a1[i]],
                    _ASSOC[as1[i]],
                    _ACTOR_TYPES[a1[i]],
                    _TARGETS[a2[i]],
                    _ASSOC2[as2[i]],
                    _TARGET_TYPES[a2[i]],
                    "",
                    "",
                    466,
                    "Western Africa",
                    "Mali",
                    admin1,
                    admin2,
                    "",
                    admin2,
                    lat,
                    lon,
                    1,
                    "Le Monde; Studio Tamani",
                    "National-International",
                    note,
                    fatal[i],
                    "",
                    stamps[i],
                )
            )
