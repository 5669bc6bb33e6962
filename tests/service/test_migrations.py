"""The migrations build the schema the ORM describes, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

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


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'round.db'}")
    migrate.upgrade(engine)
    assert "events" in inspect(engine).get_table_names()
    migrate.downgrade(engine, "base")
    assert "events" not in inspect(engine).get_table_names()
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_quick_revision_reading_agrees_with_alembic(engine: Engine) -> None:
    # require_current reads revisions without importing alembic (CLI start-up); same answers.
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(engine))
    assert migrate.head_revision() == ",".join(sorted(script.get_heads()))
    with engine.connect() as connection:
        assert (
            migrate.current_revision(engine)
            == MigrationContext.configure(connection).get_current_revision()
        )


def test_heads_of_a_branched_and_merged_history(tmp_path: Path) -> None:
    files = {
        "a.py": 'revision: str = "a"\ndown_revision: str | None = None\n',
        "b.py": 'revision = "b"\ndown_revision = "a"\n',
        "c.py": 'revision: str = "c"\ndown_revision = "a"\n',
    }
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    assert migrate._heads(tmp_path) == {"b", "c"}
    merged = tmp_path / "merged"
    merged.mkdir()
    for name, body in files.items():
        (merged / name).write_text(body)
    (merged / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')
    assert migrate._heads(merged) == {"m"}
