"""country x event type series: the region x event type series of one type summed over regions

Ingest writes them from now on (`service.series.aggregate`, level `country_type`); this makes
them for the series already stored, from the stored region x event type months, so that an
upgraded database has them before its next ingest. Keys are built as ingest builds them
(`source|country|*|*|event type`, with `\\`, `|` and `*` escaped). Idempotent: a country x
event type series that exists already is left alone.

Revision ID: 20261207_0040
Revises: 20261207_0030
Create Date: 2026-12-07 10:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0040"
down_revision: str | None = "20261207_0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVEL = "country_type"
_ESCAPED = re.compile(r"([\\|*])")


def _part(name: str) -> str:
    """As `service.series.aggregate.key_part` (a migration keeps its own copy)."""
    return _ESCAPED.sub(r"\\\1", name)


def upgrade() -> None:
    bind = op.get_bind()
    wanted = bind.execute(
        sa.text(
            "SELECT DISTINCT s.source_id, src.name, s.country, s.event_type FROM series s "
            "JOIN sources src ON src.id = s.source_id "
            "WHERE s.level = 'region_type' AND s.event_type IS NOT NULL"
        )
    ).all()
    existing = set(
        bind.execute(sa.text("SELECT key FROM series WHERE level = :l"), {"l": LEVEL}).scalars()
    )
    next_id = int(bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM series")).scalar_one())
    fresh = []
    for source_id, source, country, event_type in wanted:
        key = "|".join([_part(source), _part(country), "*", "*", _part(event_type)])
        if key in existing:
            continue
        next_id += 1
        fresh.append(
            {
                "id": next_id,
                "key": key,
                "level": LEVEL,
                "source_id": source_id,
                "country": country,
                "event_type": event_type,
            }  # fmt: skip
        )
    if fresh:
        bind.execute(
            sa.text(
                "INSERT INTO series (id, key, level, source_id, country, event_type, "
                "ambiguous_events) VALUES (:id, :key, :level, :source_id, :country, "
                ":event_type, 0)"
            ),
            fresh,
        )
        bind.execute(
            sa.text(
                "INSERT INTO observations (series_id, month, events, fatalities) "
                "SELECT c.id, o.month, SUM(o.events), SUM(o.fatalities) "
                "FROM series c JOIN series r ON r.source_id = c.source_id "
                "AND r.country = c.country AND r.event_type = c.event_type "
                "AND r.level = 'region_type' "
                "JOIN observations o ON o.series_id = r.id "
                "WHERE c.level = :l AND c.id > :first "
                "GROUP BY c.id, o.month"
            ),
            {"l": LEVEL, "first": fresh[0]["id"] - 1},
        )
    if bind.dialect.name == "postgresql":  # ids were given: move the sequence past them
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('series', 'id'), "
                "GREATEST((SELECT COALESCE(MAX(id), 0) FROM series), 1))"
            )
        )


def downgrade() -> None:
    # Everything stored of these series goes with them, as `ondelete` would have it on
    # PostgreSQL; SQLite may run without foreign keys, so the references go first, by name.
    bind = op.get_bind()
    ids = "SELECT id FROM series WHERE level = 'country_type'"
    flags = f"SELECT id FROM anomalies WHERE series_id IN ({ids})"
    stories = f"SELECT id FROM escalations WHERE headline_series_id IN ({ids})"
    for statement in (
        f"DELETE FROM deliveries WHERE anomaly_id IN ({flags})",
        f"UPDATE anomalies SET escalation_id = NULL WHERE escalation_id IN ({stories})",
        f"DELETE FROM escalations WHERE id IN ({stories})",
        f"DELETE FROM anomalies WHERE id IN ({flags})",
        *(
            f"DELETE FROM {table} WHERE series_id IN ({ids})"
            for table in (
                "run_scores",
                "series_states",
                "outlooks",
                "backtest_forecasts",
                "forecasts",
                "run_series",
                "observations",
            )  # fmt: skip
        ),
        f"DELETE FROM series WHERE id IN ({ids})",
    ):
        bind.execute(sa.text(statement))
