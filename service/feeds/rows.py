"""API rows (JSON objects) into the readers' checked event frames: the same checks as files.

A page becomes a frame of text columns named like a file's header and goes through the very
converter a file's chunk goes through (`service.ingest.readers.acled/ucdp`). A problem names
the page and the event id instead of a file line. A required column missing from the rows is
schema drift: the API changed, and nothing is written. A row the query did not ask for (another
country, a date outside the dates asked) is refused too: storing it would credit the asked
country with coverage it does not have, or another country with events nobody asked for.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from service.feeds.errors import FeedDataError
from service.ingest.errors import IngestError
from service.ingest.readers import acled, ucdp
from service.ingest.readers.checks import Rows
from service.ingest.readers.layout import REQUIRED, FileKind, locate
from service.ingest.readers.schema import DELETION_COLUMNS, EVENT_COLUMNS
from service.kit.scrub import shown

_CONVERTERS = {
    FileKind.ACLED_EVENTS: acled.events,
    FileKind.ACLED_DELETIONS: acled.deletions,
    FileKind.UCDP: ucdp.events,
}
ID_FIELDS = {
    FileKind.ACLED_EVENTS: "event_id_cnty",
    FileKind.ACLED_DELETIONS: "event_id_cnty",
    FileKind.UCDP: "id",
}
# The UCDP API writes ISO date-times (`2024-03-17T00:00:00`); files write dates.
_ISO_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T[\d:.]*Z?")


def empty_frame(kind: FileKind) -> pd.DataFrame:
    columns = DELETION_COLUMNS if kind is FileKind.ACLED_DELETIONS else EVENT_COLUMNS
    return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})


def check_page(
    rows: list[dict[str, Any]], kind: FileKind, where: str, latest: pd.Timestamp
) -> pd.DataFrame:
    """Check one page's rows like a file's chunk; `where` is e.g. 'ACLED events of Mali, page 2'."""
    if not rows:
        return empty_frame(kind)
    names = list(dict.fromkeys(key.lower() for row in rows for key in row))
    try:
        layout = locate(kind, names, Path(where), 1)
    except IngestError as error:
        raise FeedDataError(
            f"{where}: the rows lack required columns ({error.problem}); the API's format "
            "changed (schema drift), nothing was written"
        ) from None
    id_field = ID_FIELDS[kind]
    frame = {}
    for key, name in layout.names.items():
        values = [_cell(_get(row, name)) for row in rows]
        if key == "date_start":
            values = [m[1] if (m := _ISO_DATETIME.fullmatch(v)) else v for v in values]
        frame[key] = pd.Series(values, dtype="str")
        if key in {alts[0] for alts in REQUIRED[kind]}:
            _all_have(rows, name, where, id_field)
    raw = pd.DataFrame(frame)
    checked = Rows(Path(where), np.arange(1, len(rows) + 1))
    chunk = _CONVERTERS[kind](raw, checked, layout, latest)
    if checked.first is not None:
        raise _named(checked.first[1], rows, where, id_field)
    return chunk


def _get(row: dict[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    for key, value in row.items():  # the header of a file is matched case-blind too
        if key.lower() == name:
            return value
    return None


def _all_have(rows: list[dict[str, Any]], name: str, where: str, id_field: str) -> None:
    for i, row in enumerate(rows):
        if name not in row and all(k.lower() != name for k in row):
            event = _get(row, id_field)
            raise FeedDataError(
                f"{where}, row {i + 1}"
                + (f", event {shown(event)}" if event else "")
                + f": the row has no {name!r} field (schema drift); nothing was written"
            )


def _cell(value: Any) -> str:
    """A JSON value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _named(
    error: IngestError, rows: list[dict[str, Any]], where: str, id_field: str
) -> FeedDataError:
    """Re-say a reader's error with the page and event id instead of the file line."""
    row = (error.line or 1) - 1
    event = _get(rows[row], id_field) if 0 <= row < len(rows) else None
    parts = [where, f"row {row + 1}"]
    if event not in (None, ""):
        parts.append(f"event {shown(event)}")
    if error.field:
        parts.append(f"field {error.field!r}")
    return FeedDataError(", ".join(parts) + ": " + error.finding() + "; nothing was written")


def check_scope(
    chunk: pd.DataFrame,
    rows: list[dict[str, Any]],
    kind: FileKind,
    where: str,
    country: str,
    first: dt.date | None,
    last: dt.date | None,
) -> None:
    """Refuse a page holding rows the query did not ask for: another country than `country`,
    or an event date before `first` or after `last` (None: no bound)."""
    if not len(chunk):
        return
    dates = chunk["event_date"]
    other = (chunk["country"].str.casefold() != country.strip().casefold()).to_numpy()
    early = (dates < pd.Timestamp(first)).to_numpy() if first else np.zeros(len(chunk), bool)
    late = (dates > pd.Timestamp(last)).to_numpy() if last else np.zeros(len(chunk), bool)
    outside = other | early | late
    if not outside.any():
        return
    i = int(np.argmax(outside))
    event = _get(rows[i], ID_FIELDS[kind])
    if other[i]:
        what = f"country {shown(chunk['country'].iloc[i])}, but {country} was asked"
    else:
        span = f"{first or '…'}..{last or '…'}"
        what = f"event date {dates.iloc[i]:%Y-%m-%d}, outside the dates asked ({span})"
    raise FeedDataError(
        f"{where}, row {i + 1}"
        + (f", event {shown(event)}" if event not in (None, "") else "")
        + f": {what}; the API answered outside the query ({int(outside.sum())} such row(s) on "
        "this page), nothing was written"
    )
