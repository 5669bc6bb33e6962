"""Names holding `*`, `|` or `\\` never collide in series keys (they were an IntegrityError)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from service.config import Settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.aggregate import series_key
from service.series.orm import Series
from tests.service.ingest.acled_rows import event, write


def test_key_parts_are_escaped_and_plain_names_unchanged() -> None:
    assert series_key("acled", "Mali", "Mopti", "JNIM", None) == "acled|Mali|Mopti|JNIM|*"
    assert series_key("acled", "Mali", "*", None, None) == "acled|Mali|\\*|*|*"
    assert series_key("acled", "Mali", "A|B", None, None) != series_key(
        "acled", "Mali", "A", "B", None
    )
    assert series_key("acled", "Mali", "a\\", "|", None) == "acled|Mali|a\\\\|\\||*"


def test_names_with_key_syntax_are_ingested_as_distinct_series(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [
        event("MLI1", "03 July 2022", "*", admin1="*", event_type="Battles|*"),
        event("MLI2", "04 July 2022", "A|B", admin1="Mopti|*", actor2="", event_type="Battles"),
        event("MLI3", "05 July 2022", "A", admin1="Mopti", actor2="B|*", event_type="Battles"),
        event("MLI4", "06 July 2022", "JNIM", admin1="Mopti\\", actor2="", event_type="Riots"),
    ]
    path = write(tmp_path / "odd_names.csv", rows)
    report = ingest_file(engine, path, Settings(database_url=str(engine.url)))
    assert report.added == 4
    with session_scope(engine) as session:
        keys = set(session.scalars(select(Series.key)))
    assert "acled|Mali|\\*|\\*|Battles\\|\\*" in keys
    assert "acled|Mali|\\*|*|*" in keys  # the region called "*", all actors and types
    assert "acled|Mali|*|*|*" in keys  # the country total
    assert "acled|Mali|Mopti\\|\\*|A\\|B|Battles" in keys
    assert "acled|Mali|Mopti\\\\|*|*" in keys
    # Ingesting it again changes nothing and raises nothing.
    again = ingest_file(engine, path, Settings(database_url=str(engine.url)))
    assert again.added == 0
