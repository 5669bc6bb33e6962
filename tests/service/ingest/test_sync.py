"""Idempotent sync into real SQLite and PostgreSQL: adds, updates, deletions, roll-ups, coverage."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from service.config import Settings
from service.db import session_scope
from service.ingest.orm import Event, EventActor, IngestedFile
from service.ingest.service import ingest_file
from service.ingest.sync import IngestReport
from service.series.orm import Coverage, Observation, Series
from service.series.repository import SeriesFilter, get_series, list_series, series_months
from tests.service.ingest.acled_rows import event, write, write_deletions

JNIM = "JNIM: Group for Support of Islam and Muslims"


def _rows() -> list[dict[str, object]]:
    return [
        event("MLI1", "03 July 2022", JNIM, admin1="Mopti"),
        event("MLI2", "15 July 2022", "Katiba Macina", admin1="Mopti", fatalities=4),
        event(
            "MLI3",
            "02 September 2022",
            "Islamic State (Sahel)",
            admin1="Menaka",
            actor2="Military Forces of Mali (2021-)",
            assoc_actor_1="",
            event_type="Battles",
            fatalities=7,
        ),
        event(
            "MLI4",
            "10 September 2022",
            "Military Forces of Mali (2021-)",
            assoc_actor_1="Wagner Group",
            actor2=JNIM,
            event_type="Battles",
            admin1="Mopti",
        ),
        event("MLI5", "31 October 2022", JNIM, admin1="Segou", fatalities=0),
    ]


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Event, EventActor, Series, Observation, Coverage)
        }


def _series(engine: Engine, key: str) -> dict[str, float]:
    with session_scope(engine) as session:
        info = get_series(session, key)
        assert info is not None, key
        months = series_months(session, info)
    return {f"{m:%Y-%m}": e for m, e in zip(months["month"], months["events"], strict=True)}


def test_ingest_folds_aliases_and_builds_rollups(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "mali.csv", _rows())
    report = ingest_file(engine, path, Settings(database_url=str(engine.url)))
    assert (report.rows_read, report.added, report.updated, report.unchanged) == (5, 5, 0, 0)
    # Katiba Macina folds into JNIM: two JNIM events in Mopti in July, and MLI4 (JNIM as actor2).
    mopti = _series(engine, "acled|Mali|Mopti|JNIM|*")
    assert mopti["2022-07"] == 2
    assert mopti["2022-08"] == 0  # inside coverage: a real zero
    assert mopti["2022-09"] == 1
    # Wagner appears only as an associated actor and is counted.
    assert _series(engine, "acled|Mali|Mopti|Wagner Group|*")["2022-09"] == 1
    assert _series(engine, "acled|Mali|Mopti|Military Forces of Mali|Battles")["2022-09"] == 1
    # Region totals count an event once, although MLI4 has three actors.
    assert _series(engine, "acled|Mali|Mopti|*|*")["2022-09"] == 1
    assert _series(engine, "acled|Mali|*|*|*")["2022-09"] == 2
    assert _series(engine, "acled|Mali|*|JNIM|*")["2022-10"] == 1
    # Civilians are not an armed actor: no series.
    with session_scope(engine) as session:
        assert list_series(session, SeriesFilter(actor="Civilians (Mali)"))[1] == 0


def test_coverage_marks_unknown_months(engine: Engine, tmp_path: Path) -> None:
    # Data reach 15 November: November is incomplete, so it is unknown, never zero.
    rows = [*_rows(), event("MLI6", "15 November 2022", JNIM, admin1="Segou")]
    ingest_file(engine, write(tmp_path / "a.csv", rows), Settings(database_url=str(engine.url)))
    with session_scope(engine) as session:
        coverage = session.scalars(select(Coverage)).one()
        assert coverage.last_complete_month == dt.date(2022, 10, 1)
        assert coverage.first_month == dt.date(2022, 7, 1)
        info = get_series(session, "acled|Mali|Segou|JNIM|*")
        assert info is not None
        months = series_months(session, info).set_index("month")
    assert months.loc["2022-10-01", "status"] == "observed"
    assert months.loc["2022-09-01", "status"] == "zero"
    assert months.loc["2022-11-01", "status"] == "unknown"


def test_reingest_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "mali.csv", _rows())
    settings = Settings(database_url=str(engine.url))
    first = ingest_file(engine, path, settings)
    assert first.status == "ingested"
    before = _counts(engine)
    with session_scope(engine) as session:
        stamps = session.execute(select(Coverage.country, Coverage.updated_at)).all()
    again = ingest_file(engine, path, settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert again.status == "unchanged"
    assert _counts(engine) == before
    with session_scope(engine) as session:
        files = session.scalars(select(IngestedFile).order_by(IngestedFile.id)).all()
        assert session.execute(select(Coverage.country, Coverage.updated_at)).all() == stamps
    assert [(f.added, f.sha256) for f in files] == [(5, first.sha256)]  # no second row


@dataclass
class Ingested:
    """`_rows()` written to a file and ingested once: the file, the settings, the report."""

    path: Path
    settings: Settings
    first: IngestReport


@pytest.fixture
def ingested(engine: Engine, tmp_path: Path) -> Ingested:
    path = write(tmp_path / "mali.csv", _rows())
    settings = Settings(database_url=str(engine.url))
    return Ingested(path, settings, ingest_file(engine, path, settings))


def test_the_file_of_the_last_change_is_not_read_again(
    engine: Engine, ingested: Ingested, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same file as the last change: the stored events are what it left, so its rows are
    # not parsed again; the report is the one a row-by-row screen gives.
    path, settings, first = ingested.path, ingested.settings, ingested.first
    before = _counts(engine)

    def unread(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read again")

    monkeypatch.setattr("service.ingest.sync.iter_events", unread)
    seen: list[int] = []
    again = ingest_file(engine, path, settings, progress=seen.append)
    assert (again.rows_read, again.added, again.updated, again.unchanged) == (5, 0, 0, 5)
    assert (again.status, again.sha256, again.countries) == ("unchanged", first.sha256, [])
    assert seen == [5]
    assert _counts(engine) == before


def test_a_file_is_screened_again_once_another_change_came_after_it(
    engine: Engine, ingested: Ingested, tmp_path: Path
) -> None:
    # A deletion list after the file: the file's events are new again (as row by row says).
    path, settings = ingested.path, ingested.settings
    deletions = write_deletions(tmp_path / "deleted.csv", [("MLI1", 1_800_000_000)])
    assert ingest_file(engine, deletions, settings, deletions=True).deleted == 1
    again = ingest_file(engine, path, settings)
    assert (again.added, again.updated, again.unchanged, again.status) == (1, 0, 4, "ingested")
    assert _series(engine, "acled|Mali|Mopti|JNIM|*")["2022-07"] == 2  # MLI1 and MLI2


def test_a_file_is_screened_again_when_stored_events_lack_actor_types(
    engine: Engine, ingested: Ingested
) -> None:
    # Events stored before actor types were kept are updated by the file that gives them,
    # even when that file made the last change.
    with session_scope(engine) as session:
        session.execute(update(Event).values(inter1=None, inter2=None))
    again = ingest_file(engine, ingested.path, ingested.settings)
    assert (again.added, again.updated, again.unchanged) == (0, 5, 0)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).where(Event.inter1.is_(None))) == 0


def test_a_same_size_edited_file_is_screened_row_by_row(engine: Engine, ingested: Ingested) -> None:
    path, settings, first = ingested.path, ingested.settings, ingested.first
    text = path.read_text()
    edited = text.replace("Segou", "Segoo")  # same size, other content
    assert len(edited) == len(text)
    assert edited != text
    path.write_text(edited)
    again = ingest_file(engine, path, settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)  # same timestamps
    assert again.sha256 != first.sha256


def test_a_deletion_list_that_deletes_nothing_writes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(database_url=str(engine.url))
    ingest_file(engine, write(tmp_path / "mali.csv", _rows()), settings)
    deletions = write_deletions(tmp_path / "deleted.csv", [("MLI9", 1_800_000_000)])
    report = ingest_file(engine, deletions, settings, deletions=True)
    assert (report.deleted, report.unchanged, report.status) == (0, 1, "unchanged")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(IngestedFile)) == 1


def _ingest_first_version(engine: Engine, tmp_path: Path) -> Settings:
    """Ingest `_rows()` as a first file; return the settings used."""
    settings = Settings(database_url=str(engine.url))
    ingest_file(engine, write(tmp_path / "v1.csv", _rows()), settings)
    return settings


def test_newer_timestamp_replaces_and_older_is_ignored(engine: Engine, tmp_path: Path) -> None:
    settings = _ingest_first_version(engine, tmp_path)
    moved = event(
        "MLI1", "03 August 2022", "Islamic State (Sahel)", admin1="Gao", timestamp=1_800_000_000
    )
    stale = event("MLI2", "15 July 2022", "Dan Na Ambassagou", timestamp=1_600_000_000)
    report = ingest_file(engine, write(tmp_path / "v2.csv", [moved, stale]), settings)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert _series(engine, "acled|Mali|Mopti|JNIM|*")["2022-07"] == 1
    assert _series(engine, "acled|Mali|Gao|Islamic State Sahel|*")["2022-08"] == 1
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 5


def test_deletion_list_removes_events(engine: Engine, tmp_path: Path) -> None:
    settings = _ingest_first_version(engine, tmp_path)
    deletions = write_deletions(
        tmp_path / "deleted.csv",
        [("MLI1", 1_750_000_000), ("MLI404", 1_750_000_000), ("MLI2", 1_600_000_000)],
    )
    report = ingest_file(engine, deletions, settings, deletions=True)
    # MLI2's deletion predates its current version: the event was re-published, keep it.
    assert (report.rows_read, report.deleted) == (3, 1)
    assert _series(engine, "acled|Mali|Mopti|JNIM|*")["2022-07"] == 1


def test_actor_roles_are_configurable(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(database_url=str(engine.url), actor_roles=("actor1",))
    ingest_file(engine, write(tmp_path / "mali.csv", _rows()), settings)
    with session_scope(engine) as session:
        assert get_series(session, "acled|Mali|Mopti|Wagner Group|*") is None
        assert get_series(session, "acled|Mali|Mopti|Military Forces of Mali|*") is not None


def test_bad_file_leaves_database_exactly_as_it_was(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(database_url=str(engine.url), ingest_chunk_rows=2)
    ingest_file(engine, write(tmp_path / "good.csv", _rows()), settings)
    before = _counts(engine)
    rows = [event(f"MLI{i}", "03 July 2023", JNIM) for i in range(100, 106)]
    rows.append(event("MLI999", "31 February 2023", JNIM))  # fails in a later chunk
    from service.ingest.errors import IngestError

    with pytest.raises(IngestError, match="line 8"):
        ingest_file(engine, write(tmp_path / "bad.csv", rows), settings)
    assert _counts(engine) == before
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(IngestedFile)) == 1


def test_demo_ucdp_file(engine: Engine) -> None:
    demo = Path("service/data/demo/ucdp-ged-burkina-faso-2016-2022.csv")
    report = ingest_file(engine, demo, Settings(database_url=str(engine.url)))
    assert report.rows_read == report.added > 800
    with session_scope(engine) as session:
        coverage = session.scalars(select(Coverage)).one()
        assert coverage.country == "Burkina Faso"
        assert coverage.last_complete_month == dt.date(2022, 12, 1)
        rows, total = list_series(session, SeriesFilter(actor="JNIM", level="actor_region"))
        assert total > 3
        assert any(r.region == "Sahel" for r in rows)


def _observations(engine: Engine) -> list[tuple[object, ...]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(Series.key, Observation.month, Observation.events, Observation.fatalities)
            .join(Series, Series.id == Observation.series_id)
            .order_by(Series.key, Observation.month)
        ).all()
    return [tuple(r) for r in rows]


def test_series_an_ingest_counts_as_it_writes_equal_a_rebuild_from_the_events(
    engine: Engine, tmp_path: Path
) -> None:
    # An ingest adds up what it writes instead of reading it back; across adds, updates that
    # move an event to another country, and chunks, the series must be those the stored
    # events give.
    from service.ingest.orm import Source
    from service.series.aggregate import rebuild_series
    from tests.service.ingest.acled_rows import mixed_rows

    settings = Settings(database_url=str(engine.url), ingest_chunk_rows=7)
    ingest_file(engine, write(tmp_path / "v1.csv", mixed_rows()), settings)
    moved = [
        event(
            "MLI3",
            "03 August 2022",
            JNIM,
            country="Niger",
            admin1="Tillaberi",
            timestamp=1_800_000_000,
        ),
        event("MLI4", "04 August 2022", "Islamic State (Sahel)", timestamp=1_800_000_000),
        event("BFA1", "05 August 2022", JNIM, country="Burkina Faso", admin1="Sahel"),
    ]
    ingest_file(engine, write(tmp_path / "v2.csv", moved), settings)
    counted = _observations(engine)
    with session_scope(engine) as session:
        source = session.scalars(select(Source)).one()
        rebuild_series(session, source, ["Burkina Faso", "Mali", "Niger"])
    assert _observations(engine) == counted
    assert any(key == "acled|Niger|*|*|*" for key, *_ in counted)
