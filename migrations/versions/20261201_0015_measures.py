"""measures: fatalities beside events (runs.measure, anomalies.measure, one pointer per measure)

Revision ID: 20261201_0015
Revises: 20261201_0014
Create Date: 2026-12-01 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0015"
down_revision: str | None = "20261201_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every stored run and anomaly counted events; `publication` row 1 stays the events' pointer
    # and row 2 appears with the first fatalities run.
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("measure", sa.String(length=16), server_default="events", nullable=False)
        )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("measure", sa.String(length=16), server_default="events", nullable=False)
        )
        batch_op.drop_constraint("uq_anomalies_series_id_month_origin", type_="unique")
        batch_op.create_unique_constraint(
            "uq_anomalies_series_id_month_origin_measure",
            ["series_id", "month", "origin", "measure"],
        )


def downgrade() -> None:
    op.execute("DELETE FROM anomalies WHERE measure <> 'events'")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.drop_constraint("uq_anomalies_series_id_month_origin_measure", type_="unique")
        batch_op.create_unique_constraint(
            "uq_anomalies_series_id_month_origin", ["series_id", "month", "origin"]
        )
        batch_op.drop_column("measure")
    op.execute("DELETE FROM publication WHERE id <> 1")
    for table in ("run_scores", "forecasts", "backtest_forecasts", "run_series"):
        op.execute(
            f"DELETE FROM {table} WHERE run_id IN (SELECT id FROM runs WHERE measure <> 'events')"
        )
    op.execute("DELETE FROM runs WHERE measure <> 'events'")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("measure")
