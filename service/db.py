"""Engine and session plumbing shared by the CLI, the jobs and the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from service.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; the naming convention keeps migrations stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgresql://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(busy_ms: int) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the API read while a job writes; the busy timeout waits (a bounded time)
        # for a writer's lock instead of failing at once.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: big ingests' index pages cached
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    return pragmas


def pg_timeouts(lock: float | None = None, statement: float | None = None) -> dict[str, Any]:
    """psycopg connect arguments that bound a PostgreSQL session's waits: `lock` seconds for a
    lock, `statement` seconds for a statement (None: no bound); a wait past them fails with
    an OperationalError instead of hanging."""
    options = [
        f"-c {name}={int(seconds * 1000)}"
        for name, seconds in (("lock_timeout", lock), ("statement_timeout", statement))
        if seconds is not None
    ]
    return {"options": " ".join(options)} if options else {}


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(
    url: str,
    *,
    busy_timeout: float = 30.0,
    lock_timeout: float | None = None,
    statement_timeout: float | None = None,
    **options: Any,
) -> Engine:
    """Create an engine for `url` (connecting creates a missing SQLite file: check first where
    that matters, as `migrate.require_current` does). SQLite waits `busy_timeout` seconds for a
    writer's lock; PostgreSQL `lock_timeout` and `statement_timeout` (see `pg_timeouts`).
    `options` go to `create_engine` (pool settings)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, **options)
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout * 1000)))
        return engine
    options.setdefault("pool_pre_ping", True)
    return create_engine(url, connect_args=pg_timeouts(lock_timeout, statement_timeout), **options)


@lru_cache
def get_engine() -> Engine:
    """Return the process-wide engine for the configured database (commands and jobs: a lock is
    waited for SAHELCAST_DB_LOCK_TIMEOUT_SECONDS at most, never for ever)."""
    settings = get_settings()
    return make_engine(settings.database_url, lock_timeout=settings.db_lock_timeout_seconds)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit `session` when the block succeeds, roll it back on any error, close it: the
    boundary of a job, a command or a request. An untouched session costs nothing."""
    try:
        yield session
        if session.in_transaction():
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on any error (the job boundary)."""
    with committing(session_factory(engine)()) as session:
        yield session
