"""The canonical frames the readers yield, and the size limits on their fields."""

from __future__ import annotations

import numpy as np
import pandas as pd

EVENT_COLUMNS: tuple[str, ...] = (
    "line",
    "source",
    "source_event_id",
    "event_date",
    "country",
    "admin1",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "actor2",
    "assoc_actor_2",
    "inter1",  # actor types of the two sides (service/ingest/actortypes.py), int8; -1 not given
    "inter2",
    "fatalities",
    "source_timestamp",
)
DELETION_COLUMNS: tuple[str, ...] = ("line", "source_event_id", "deleted_timestamp")

# Longest accepted value per field, in characters after whitespace is collapsed. The ids and
# labels match the database columns; no real actor or place name comes near 500 characters,
# and a value that long almost always means an unclosed quote merged several fields.
FIELD_LIMITS: dict[str, int] = {
    "source_event_id": 64,
    "country": 120,
    "admin1": 500,
    "event_type": 64,
    "sub_event_type": 120,
    "actor1": 500,
    "actor2": 500,
    "assoc_actor_1": 10_000,
    "assoc_actor_2": 10_000,
}
ACTOR_NAME_LIMIT = 500  # each `;`-separated name of an associated-actor list
MAX_FATALITIES = 1_000_000
MAX_TIMESTAMP = 4_102_444_800  # 2100-01-01: anything later is not a unix time in seconds


def constant(value: str, n: int) -> pd.Series:
    """A str column holding one value n times."""
    return pd.Series(np.full(n, value, dtype=object), dtype="str")
