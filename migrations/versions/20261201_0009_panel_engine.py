"""panel engine: published season effects with raw estimates, scoped runs

Revision ID: 0009
Revises: 0003
Create Date: 2026-12-01 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEASON = (
    ("season_status", sa.String(length=24)),
    ("season_raw_rate_ratio", sa.Float()),
    ("season_raw_ci_low", sa.Float()),
    ("season_raw_ci_high", sa.Float()),
    ("season_events_in", sa.Float()),
    ("season_events_out", sa.Float()),
    ("season_months_in", sa.Integer()),
    ("season_months_out", sa.Integer()),
    ("trained_in_run_id", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("run_series", schema=None) as batch_op:
        for name, type_ in _SEASON:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("n_carried", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("calibration", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("calibration")
        batch_op.drop_column("n_carried")
    with op.batch_alter_table("run_series", schema=None) as batch_op:
        for name, _ in reversed(_SEASON):
            batch_op.drop_column(name)
