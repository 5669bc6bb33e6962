"""ACLED exports (current 31-column layout, older layouts, HDX) and deletion lists."""

from __future__ import annotations

import numpy as np
import pandas as pd

from service.ingest import actortypes
from service.ingest.readers import checks
from service.ingest.readers.checks import Rows
from service.ingest.readers.layout import Layout
from service.ingest.readers.schema import (
    ACTOR_NAME_LIMIT,
    FIELD_LIMITS,
    MAX_FATALITIES,
    MAX_TIMESTAMP,
    constant,
)

# ACLED writes "01 March 2023"; the API and some older exports write ISO dates.
DATE_FORMATS = ("%d %B %Y", "%Y-%m-%d", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y")
DATE_EXAMPLE = "'01 March 2023' or '2023-03-01'"

_ROLES = ("actor1", "assoc_actor_1", "actor2", "assoc_actor_2")
COMMON = checks.CommonColumns(
    "acled", "event_id_cnty", "event_date", "admin1", DATE_FORMATS, DATE_EXAMPLE
)


def events(raw: pd.DataFrame, rows: Rows, layout: Layout, latest: pd.Timestamp) -> pd.DataFrame:
    """Check an ACLED chunk and give it the canonical event columns."""
    n = len(raw)

    def optional(name: str) -> pd.Series:
        return raw[name] if name in raw else constant("", n)

    out = {
        **COMMON.check(rows, raw, latest),
        "event_type": checks.text(
            rows,
            raw["event_type"],
            "event_type",
            FIELD_LIMITS["event_type"],
            required="an event type such as 'Battles'",
        ),
        "sub_event_type": checks.text(
            rows, optional("sub_event_type"), "sub_event_type", FIELD_LIMITS["sub_event_type"]
        ),
    }
    for role in _ROLES:
        out[role] = checks.text(
            rows,
            optional(role),
            role,
            FIELD_LIMITS[role],
            required="an actor name" if role == "actor1" else None,
            part_limit=ACTOR_NAME_LIMIT if role.startswith("assoc") else None,
        )
    for side in ("inter1", "inter2"):
        out[side] = (
            checks.actor_types(rows, raw[side], side)
            if side in raw
            else np.full(n, actortypes.NOT_GIVEN, dtype=np.int8)
        )
    out["fatalities"] = checks.integers(
        rows,
        raw["fatalities"],
        "fatalities",
        maximum=MAX_FATALITIES,
        what="a whole number of deaths",
        hint="ACLED fatalities are whole numbers; 0 when none were reported",
    )
    out["source_timestamp"] = checks.integers(
        rows,
        optional("timestamp"),
        "timestamp",
        maximum=MAX_TIMESTAMP,
        empty=0,
        what="a unix time in seconds",
    )
    # No copy of the checked columns: pandas copies on write, so sharing them is safe.
    return pd.DataFrame(out, copy=False)


def deletions(raw: pd.DataFrame, rows: Rows, layout: Layout, latest: pd.Timestamp) -> pd.DataFrame:
    """Check a chunk of an ACLED deletion list."""
    return pd.DataFrame(
        {
            "line": rows.lines,
            "source_event_id": checks.identifiers(
                rows, raw["event_id_cnty"], "event_id_cnty", FIELD_LIMITS["source_event_id"]
            ),
            "deleted_timestamp": checks.integers(
                rows,
                raw["deleted_timestamp"],
                "deleted_timestamp",
                maximum=MAX_TIMESTAMP,
                what="a unix time in seconds",
            ),
        }
    )
