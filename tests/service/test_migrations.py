"""The migrations build the schema the ORM describes, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from service import migrate
from service.db import Base, make_engine


def test_migrations_match_the_orm(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    migrate.require_current(engine)


def test_downgrade_to_base_and_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'round.db'}")
    migrate.upgrade(engine)
    assert "events" in inspect(engine).get_table_names()
    migrate.downgrade(engine, "base")
    assert "events" not in inspect(engine).get_table_names()
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
