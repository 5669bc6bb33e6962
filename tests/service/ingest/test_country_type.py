"""Country x event type series: a type's region x event type series summed over regions,
written by every ingest (both measures, idempotently) on SQLite and PostgreSQL, and made for
series already stored by migration 20261207_0040."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import Engine, select, text

from service import migrate
from service.config import Settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.orm import Observation, Series
from service.series.repository import SeriesFilter, list_series
from tests.service.ingest.acled_rows import event, write
from tests.service.ingest.test_sync import JNIM, _rows

Sums = dict[tuple[str, str | None, str], tuple[int, int]]


def _by_level(engine: Engine, level: str) -> Sums:
    """(country, event type, month) -> (events, fatalities), summed over a level's series."""
    out: dict[tuple[str, str | None, str], list[int]] = defaultdict(lambda: [0, 0])
    with session_scope(engine) as session:
        rows = session.execute(
            select(Series.country, Series.event_type, Observation.month, Observation.events,
                   Observation.fatalities)
            .join(Observation, Observation.series_id == Series.id)
            .where(Series.level == level)
        ).all()  # fmt: skip
    for country, etype, month, events, deaths in rows:
        cell = out[(country, etype, str(month)[:7])]
        cell[0] += events
        cell[1] += deaths
    return {k: (v[0], v[1]) for k, v in out.items()}


def _without_type(sums: Sums) -> Sums:
    out: dict[tuple[str, str | None, str], list[int]] = defaultdict(lambda: [0, 0])
    for (country, _, month), (events, deaths) in sums.items():
        out[(country, None, month)][0] += events
        out[(country, None, month)][1] += deaths
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_a_country_x_event_type_is_its_regions_summed_in_both_measures(
    engine: Engine, tmp_path: Path
) -> None:
    settings = Settings(database_url=str(engine.url))
    ingest_file(engine, write(tmp_path / "mali.csv", _rows()), settings)
    cross = _by_level(engine, "country_type")
    # MLI3 (Menaka, 7 deaths) and MLI4 (Mopti, 1) are September's two battles, in two regions
    assert cross[("Mali", "Battles", "2022-09")] == (2, 8)
    assert cross[("Mali", "Violence against civilians", "2022-07")] == (2, 5)
    assert cross == _by_level(engine, "region_type")  # summed over regions, nothing else
    assert _without_type(cross) == _by_level(engine, "country")
    with session_scope(engine) as session:
        found, total = list_series(session, SeriesFilter(level="country_type"))
        keys = sorted(i.key for i in found)
    assert keys == ["acled|Mali|*|*|Battles", "acled|Mali|*|*|Violence against civilians"]
    assert total == 2

    # an edit that changes an event's type moves it between the two series; the same file
    # again changes nothing
    edited = [event("MLI5", "31 October 2022", JNIM, admin1="Segou", event_type="Battles",
                    fatalities=3, timestamp=1_800_000_000)]  # fmt: skip
    ingest_file(engine, write(tmp_path / "edit.csv", edited), settings)
    ingest_file(engine, write(tmp_path / "edit.csv", edited), settings)
    cross = _by_level(engine, "country_type")
    assert cross[("Mali", "Battles", "2022-10")] == (1, 3)
    assert ("Mali", "Violence against civilians", "2022-10") not in cross
    assert cross == _by_level(engine, "region_type")
    assert _without_type(cross) == _by_level(engine, "country")
    with session_scope(engine) as session:
        assert list_series(session, SeriesFilter(level="country_type"))[1] == 2


def test_the_migration_makes_them_for_series_already_stored(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    ingest_file(engine, write(tmp_path / "mali.csv", _rows()), settings)
    made = {k: v for k, v in _keyed(engine).items() if k.startswith("acled|Mali|*|*|")}
    made = {k: v for k, v in made.items() if not k.endswith("|*")}
    # as a database of before: no country x event type series
    migrate.downgrade(engine, "20261207_0030")
    assert not any(k in _keyed(engine) for k in made)
    migrate.upgrade(engine)
    assert {k: v for k, v in _keyed(engine).items() if k in made} == made
    migrate.upgrade(engine)  # at head already: nothing changes
    with engine.connect() as connection:
        levels = connection.execute(
            text("SELECT COUNT(*) FROM series WHERE level = 'country_type'")
        ).scalar_one()
    assert levels == len(made) == 2
    # the ids the migration gave do not stand in the way of the next series ingest makes
    more = [event("MLI9", "05 October 2022", JNIM, admin1="Gao", event_type="Riots")]
    ingest_file(engine, write(tmp_path / "more.csv", more), settings)
    assert "acled|Mali|*|*|Riots" in _keyed(engine)


def _keyed(engine: Engine) -> dict[str, list[tuple[str, int, int]]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT s.key, o.month, o.events, o.fatalities FROM series s "
                 "JOIN observations o ON o.series_id = s.id ORDER BY s.key, o.month")
        ).all()  # fmt: skip
    out: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for key, month, events, deaths in rows:
        out[key].append((str(month)[:10], events, deaths))
    return dict(out)
