"""anomalies: the origin month of the judging forecast

Revision ID: 20261201_0010
Revises: 0011
Create Date: 2026-12-01 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0010"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forecast_origin", sa.Date(), nullable=True))
    # Fill the rows already flagged from the forecasts that judged them (where still stored).
    op.execute(
        "UPDATE anomalies SET forecast_origin = (SELECT rs.trained_through FROM run_series rs "
        "WHERE rs.run_id = anomalies.run_id AND rs.series_id = anomalies.series_id) "
        "WHERE origin = 'live'"
    )
    op.execute(
        "UPDATE anomalies SET forecast_origin = (SELECT b.origin FROM backtest_forecasts b "
        "WHERE b.run_id = anomalies.run_id AND b.series_id = anomalies.series_id "
        "AND b.month = anomalies.month) WHERE origin = 'backtest'"
    )


def downgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.drop_column("forecast_origin")
