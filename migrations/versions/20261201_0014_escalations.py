"""escalations: anomalies of one tree and consecutive months grouped into one alert

Revision ID: 20261201_0014
Revises: 20261201_0010b
Create Date: 2026-12-01 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0014"
down_revision: str | None = "20261201_0010b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=120), nullable=False),
        sa.Column("tree", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("headline_level", sa.String(length=24), nullable=False),
        sa.Column("headline_series_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actors.id"], name=op.f("fk_escalations_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["headline_series_id"], ["series.id"],
            name=op.f("fk_escalations_headline_series_id_series"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_escalations_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )  # fmt: skip
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_country"), ["country"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalations_first_month"), ["first_month"], unique=False
        )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_anomalies_escalation_id"), ["escalation_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_anomalies_escalation_id_escalations"),
            "escalations",
            ["escalation_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_anomalies_escalation_id_escalations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_anomalies_escalation_id"))
        batch_op.drop_column("escalation_id")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_first_month"))
        batch_op.drop_index(batch_op.f("ix_escalations_country"))
    op.drop_table("escalations")
