"""actor semantics: sides' ACLED actor types, ambiguous attributions and their mentions

Revision ID: 20261207_0020
Revises: 20261207_0016
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0020"
down_revision: str | None = "20261207_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Stored events get no types (NULL: not given); re-ingesting their export fills them in
    # (an event stored without types is updated when a file gives them).
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inter1", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("inter2", sa.SmallInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("ambiguous", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "ambiguous_mentions",
        sa.Column(
            "event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "actor_id", name=op.f("pk_ambiguous_mentions")),
    )
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ambiguous_events", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_column("ambiguous_events")
    op.drop_table("ambiguous_mentions")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("ambiguous")
        batch_op.drop_column("inter2")
        batch_op.drop_column("inter1")
