"""The API's engines.

On PostgreSQL the API skips the ping before each pooled connection is used (a round trip per
request on the hot path): a connection broken by a database restart instead fails one request
with a 503 problem and the pool replaces it. Hot reads get their own small pool of autocommit
connections: a single SELECT is consistent by itself, no BEGIN/COMMIT round trips are paid,
and the connections are not switched in and out of autocommit on every checkout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from service.db import make_engine, normalize_url

_POOL = {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800}


def _is_postgres(url: str) -> bool:
    return normalize_url(url).startswith("postgresql")


def api_engine(url: str) -> Engine:
    """The engine of request transactions (sessions)."""
    if _is_postgres(url):
        return create_engine(normalize_url(url), pool_pre_ping=False, **_POOL)
    return make_engine(url)


def _busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    # Wait for a writer's lock instead of failing (WAL itself is set on the file by make_engine).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def read_engine(url: str) -> Engine:
    """An engine of autocommit connections for one-statement reads."""
    if _is_postgres(url):
        return create_engine(
            normalize_url(url), pool_pre_ping=False, isolation_level="AUTOCOMMIT", **_POOL
        )
    engine = create_engine(
        normalize_url(url), isolation_level="AUTOCOMMIT", connect_args={"timeout": 30}
    )
    event.listen(engine, "connect", _busy_timeout)
    return engine
