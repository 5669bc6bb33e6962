"""Synthetic ACLED-format exports (31-column layout) with realistic Sahel actors, regions and notes.

Made up from scratch: no ACLED data. Activity has a trend, a rainy-season dip (June–September)
and bursts, so the series it produces look like the real ones.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

# The 31-column layout, written once in the tests' builders (bench runs from the checkout).
from tests.service.ingest.builders import ACLED_COLUMNS as HEADER

COUNTRIES = {
    # country: (iso, code, [(admin1, lat, lon)], military)
    "Mali": (466, "MLI", [("Mopti", 14.5, -4.2), ("Segou", 13.4, -6.3), ("Gao", 16.3, -0.04),
                          ("Menaka", 15.9, 2.4), ("Tombouctou", 16.8, -3.0), ("Kidal", 18.4, 1.4),
                          ("Koulikoro", 12.9, -7.6), ("Sikasso", 11.3, -5.7)],
             "Military Forces of Mali (2021-)"),
    "Burkina Faso": (854, "BFA", [("Sahel", 14.0, -0.5), ("Centre-Nord", 13.1, -1.1),
                                  ("Est", 12.1, 0.4), ("Nord", 13.6, -2.4),
                                  ("Boucle du Mouhoun", 12.4, -3.5), ("Centre-Est", 11.8, -0.4)],
                     "Military Forces of Burkina Faso (2022-)"),
    "Niger": (562, "NER", [("Tillaberi", 14.2, 1.5), ("Tahoua", 14.9, 5.3), ("Diffa", 13.3, 12.6),
                           ("Maradi", 13.5, 7.1)],
              "Military Forces of Niger (2023-)"),
}  # fmt: skip
ARMED = [
    "JNIM: Group for Support of Islam and Muslims", "Katiba Macina",
    "Islamic State (Sahel)", "Islamic State (West Africa) - Greater Sahara Faction",
    "Unidentified Armed Group ({c})", "Dan Na Ambassagou", "Koglweogo Militia",
    "VDP: Volunteers for the Defense of the Homeland",
]  # fmt: skip
ARMED_TYPES = [2, 2, 2, 2, 3, 4, 4, 3]  # ACLED's actor types of ARMED, in order
TYPES = [
    ("Battles", "Armed clash", 0.35), ("Violence against civilians", "Attack", 0.3),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", 0.12),
    ("Strategic developments", "Looting/property destruction", 0.1),
    ("Protests", "Peaceful protest", 0.08), ("Riots", "Mob violence", 0.05),
]  # fmt: skip
NOTE = (
    "On {date}, suspected {actor} militants attacked {place} ({region}); residents reported "
    '"heavy gunfire" for several hours. {fat} fatalities reported. Sources disagree on the toll.'
)


def _dates(rng: np.random.Generator, n: int, start: dt.date, end: dt.date) -> np.ndarray:
    # More events in later years and fewer in the rainy season: sample by a monthly weight.
    months = pd.date_range(start, end, freq="MS")
    trend = np.linspace(0.3, 1.0, len(months))
    rainy = np.where(months.month.isin([6, 7, 8, 9]), 0.6, 1.0)
    burst = rng.gamma(2.0, 0.5, len(months))
    weight = trend * rainy * burst
    picks = rng.choice(len(months), size=n, p=weight / weight.sum())
    offsets = rng.integers(0, 28, n)
    return (months.values[picks] + offsets.astype("timedelta64[D]")).astype("datetime64[D]")


def write_export(path: Path, rows: int, seed: int = 0, chunk: int = 200_000) -> Path:
    """Write an ACLED-format export of `rows` made-up events to `path` (streamed in chunks)."""
    rng = np.random.default_rng(seed)
    countries = list(COUNTRIES)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            frame = _chunk(rng, start, n, countries)
            frame.to_csv(handle, header=False, index=False)
    return path


def _chunk(rng: np.random.Generator, start: int, n: int, countries: list[str]) -> pd.DataFrame:
    country_idx = rng.choice(len(countries), size=n, p=[0.5, 0.35, 0.15])
    country = np.array(countries)[country_idx]
    dates = pd.to_datetime(_dates(rng, n, dt.date(2015, 1, 1), dt.date(2024, 12, 1)))
    type_idx = rng.choice(len(TYPES), size=n, p=[t[2] for t in TYPES])
    regions, lats, lons, iso, codes, military = [], [], [], [], [], []
    for c in country:
        iso_num, code, places, mil = COUNTRIES[c]
        admin1, lat, lon = places[rng.integers(len(places))]
        regions.append(admin1)
        lats.append(lat)
        lons.append(lon)
        iso.append(iso_num)
        codes.append(code)
        military.append(mil)
    which = rng.integers(0, len(ARMED), n)
    armed = [a.format(c=c) for a, c in zip(np.array(ARMED)[which], country, strict=True)]
    is_state = rng.random(n) < 0.25
    actor1 = np.where(is_state, military, armed)
    hits_civilians = rng.random(n) < 0.5
    target = np.where(hits_civilians, [f"Civilians ({c})" for c in country], military)
    # ACLED actor types: the army 1, the armed groups 2 (rebels) or 3-4 (militias), civilians 7.
    inter1 = np.where(is_state, 1, np.array(ARMED_TYPES)[which])
    inter2 = np.where(hits_civilians, 7, 1)
    interaction = np.minimum(inter1, inter2) * 10 + np.maximum(inter1, inter2)
    assoc1 = np.where(rng.random(n) < 0.08, "Wagner Group", "")
    fatalities = rng.negative_binomial(1, 0.3, n)
    ids = [f"{code}{start + i + 1}" for i, code in enumerate(codes)]
    date_text = dates.strftime("%d %B %Y")
    notes = [
        NOTE.format(date=d, actor=a.split(":")[0], place=f"village {i % 977}", region=r, fat=f)
        for i, (d, a, r, f) in enumerate(zip(date_text, actor1, regions, fatalities, strict=True))
    ]
    return pd.DataFrame({
        "event_id_cnty": ids, "event_date": date_text, "year": dates.year, "time_precision": 1,
        "disorder_type": "Political violence", "event_type": [TYPES[i][0] for i in type_idx],
        "sub_event_type": [TYPES[i][1] for i in type_idx], "actor1": actor1,
        "assoc_actor_1": assoc1, "inter1": inter1, "actor2": target, "assoc_actor_2": "",
        "inter2": inter2, "interaction": interaction,
        "civilian_targeting": "", "iso": iso, "region": "Western Africa",
        "country": country, "admin1": regions, "admin2": "", "admin3": "",
        "location": [f"village {i % 977}" for i in range(n)], "latitude": lats,
        "longitude": lons, "geo_precision": 1, "source": "Local sources; Menastream",
        "source_scale": "Subnational-National", "notes": notes, "fatalities": fatalities,
        "tags": "", "timestamp": 1_700_000_000 + rng.integers(0, 1_000_000, n),
    })  # fmt: skip
