"""The API's engines, and how long a request may wait for the database.

On PostgreSQL the API skips the ping before each pooled connection is used (a round trip per
request on the hot path): a connection broken by a database restart instead fails one request
with a 503 problem and the pool replaces it. Hot reads get their own small pool of autocommit
connections: a single SELECT is consistent by itself, no BEGIN/COMMIT round trips are paid,
and the connections are not switched in and out of autocommit on every checkout.

A request never waits unbounded (SAHELCAST_DB_TIMEOUT_SECONDS, `timeout` here): half of it at
most for a pooled connection and half for a lock (PostgreSQL `lock_timeout`, SQLite's busy
timeout), and a statement may run `timeout` at most (`statement_timeout`). A table locked by a
migration or a stuck job then answers 503 problem+json in time instead of hanging every
request. The work engine (uploads ingested in the API process, leases) keeps the commands'
patience: an ingest's statements may run long.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from service.db import make_engine, normalize_url, sqlite_file

_POOL = {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800}
HOT_LOCK_SECONDS = 0.05


def _is_postgres(url: str) -> bool:
    return normalize_url(url).startswith("postgresql")


def api_engine(url: str) -> Engine:
    """The engine of work done in the API process (uploads, leases): no request deadline."""
    if _is_postgres(url):
        return make_engine(url, pool_pre_ping=False, **_POOL)
    return make_engine(url)


def _bounded(url: str, timeout: float, lock: float | None = None, **options: Any) -> Engine:
    half = timeout / 2
    if _is_postgres(url):
        return make_engine(
            url,
            lock_timeout=half if lock is None else lock,
            statement_timeout=timeout,
            pool_pre_ping=False,
            pool_timeout=half,
            **_POOL,
            **options,
        )
    if sqlite_file(url) is not None:  # a file's pool queues; an in-memory one has no queue
        options["pool_timeout"] = half
    return make_engine(url, busy_timeout=half, **options)


def request_engine(url: str, timeout: float) -> Engine:
    """The engine of request transactions (sessions), bounded by `timeout` seconds."""
    return _bounded(url, timeout)


def read_engine(url: str, timeout: float) -> Engine:
    """An engine of autocommit connections for one-statement reads, bounded like requests.

    The hot reads run on the event loop (no thread hop): while one waits, every request of the
    worker waits with it. So they give up on a lock at once (HOT_LOCK_SECONDS): nothing but a
    schema change or an explicit LOCK TABLE ever holds what they read, and eighty requests
    queued behind such a lock then get their 503 in seconds, not eighty lock timeouts."""
    lock = min(HOT_LOCK_SECONDS, timeout / 2)
    return _bounded(url, timeout, lock=lock, isolation_level="AUTOCOMMIT")
