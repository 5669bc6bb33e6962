"""A short write is not starved while an ingest reads its file (SQLite holds one writer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from service.auth.orm import ApiKey
from service.auth.service import create_key
from service.config import Settings
from service.db import session_scope
from service.ingest.orm import Event
from service.ingest.service import ingest_file
from tests.service.ingest.acled_rows import event, write


def _impatient(engine: Engine) -> Engine:
    """An engine on the same database that does not wait for another writer's lock."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return create_engine(url, connect_args={"timeout": 0})  # busy_timeout 0: fail at once
    return create_engine(url, connect_args={"options": "-c lock_timeout=100"})


def test_a_key_can_be_created_while_an_ingest_reads_its_file(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [event(f"MLI{i}", "03 July 2022") for i in range(6)]
    path = write(tmp_path / "mali.csv", rows)
    settings = Settings(database_url=str(engine.url), ingest_chunk_rows=2)
    other = _impatient(engine)
    created: list[str] = []

    def short_write(_: int) -> None:
        # Called by the ingest between chunks, i.e. while it is in progress.
        with Session(other) as session:
            create_key(session, f"during chunk {len(created)}", "read")
            session.commit()
        created.append("ok")

    try:
        report = ingest_file(engine, path, settings, progress=short_write)
    finally:
        other.dispose()
    assert created == ["ok"] * 3
    assert report.added == 6
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 3
        assert session.scalar(select(func.count()).select_from(Event)) == 6


def test_a_bad_file_is_refused_before_anything_is_locked(engine: Engine, tmp_path: Path) -> None:
    rows = [event(f"MLI{i}", "03 July 2022") for i in range(4)]
    rows.append(event("MLI9", "31 February 2022"))
    path = write(tmp_path / "bad.csv", rows)
    settings = Settings(database_url=str(engine.url), ingest_chunk_rows=2)
    other = _impatient(engine)

    def short_write(_: int) -> None:
        with Session(other) as session:
            create_key(session, "during", "read")
            session.commit()

    try:
        with pytest.raises(Exception, match="line 6"):
            ingest_file(engine, path, settings, progress=short_write)
    finally:
        other.dispose()
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_an_ingest_that_lands_while_a_file_is_read_is_taken_into_account(
    engine: Engine, tmp_path: Path
) -> None:
    # The file is screened against the events stored when its reading began; another ingest
    # adds two of its events meanwhile: they are found at write time, not added twice.
    rows = [event(f"MLI{i}", "03 July 2022") for i in range(1, 5)]
    path = write(tmp_path / "mali.csv", rows)
    other = write(tmp_path / "other.csv", rows[:2])
    settings = Settings(database_url=str(engine.url), ingest_chunk_rows=2)
    landed: list[int] = []

    def meanwhile(_: int) -> None:
        if not landed:
            landed.append(ingest_file(engine, other, settings).added)

    report = ingest_file(engine, path, settings, progress=meanwhile)
    assert landed == [2]
    assert (report.added, report.unchanged, report.rows_read) == (2, 2, 4)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 4
