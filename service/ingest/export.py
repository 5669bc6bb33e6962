"""The drill-down's CSV rows: one layout for the API's `format=csv` and the dashboard's export."""

from __future__ import annotations

from service.ingest.repository import EventRow

CSV_HEADER = ("id", "source", "source_event_id", "event_date", "country", "admin1", "region",
              "event_type", "sub_event_type", "actor1", "assoc_actor_1", "actor2",
              "assoc_actor_2", "actors_folded", "fatalities", "actor1_type", "actor2_type",
              "ambiguous")  # fmt: skip


def csv_row(row: EventRow) -> tuple[object, ...]:
    raw = row.actors_published
    folded = "; ".join(a.name for a in row.actors_folded)
    return (row.id, row.source, row.source_event_id, row.event_date, row.country, row.admin1,
            row.region, row.event_type, row.sub_event_type, raw.get("actor1"),
            raw.get("assoc_actor_1"), raw.get("actor2"), raw.get("assoc_actor_2"), folded,
            row.fatalities, row.actor_types.get("actor1"), row.actor_types.get("actor2"),
            row.ambiguous)  # fmt: skip
