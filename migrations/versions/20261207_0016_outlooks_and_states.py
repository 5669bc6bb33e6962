"""outlooks and series states: the regime-aware engine's totals and shift posteriors per run

Revision ID: 20261207_0016
Revises: 20261201_0015
Create Date: 2026-12-07 04:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0016"
down_revision: str | None = "20261201_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUANTILES = ("q025", "q100", "q250", "q500", "q750", "q900", "q975")


def _keys(table: str) -> list[Any]:
    return [
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f(f"fk_{table}_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f(f"fk_{table}_series_id_series"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "outlooks",
        *_keys("outlooks"),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        *[sa.Column(q, sa.Float(), nullable=False) for q in QUANTILES],
        sa.PrimaryKeyConstraint("run_id", "series_id", "months", name=op.f("pk_outlooks")),
    )
    op.create_table(
        "series_states",
        *_keys("series_states"),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("p_shift_up", sa.Float(), nullable=False),
        sa.Column("p_shift_down", sa.Float(), nullable=False),
        sa.Column("p_outlier", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "series_id", "month", name=op.f("pk_series_states")),
    )


def downgrade() -> None:
    op.drop_table("series_states")
    op.drop_table("outlooks")
