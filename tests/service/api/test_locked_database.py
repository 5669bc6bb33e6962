"""A locked database answers 503 problem+json within SAHELCAST_DB_TIMEOUT_SECONDS: a migration
or a stuck job holding a table never hangs the API (or `/ready`) until it lets go."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope, sqlite_file
from tests.service.api.builders import make_key, published_ids
from tests.service.api.conftest import assert_problem, make_client

HOLD_SECONDS = 25.0  # longer than any timeout the test sets; the lock is let go at the end
TABLES = "series, forecasts, publication, anomalies"


@contextmanager
def locked(engine: Engine) -> Iterator[None]:
    """Hold PostgreSQL's strongest table lock on the tables reads use (SQLite: the write lock)
    from another connection, as a migration or a stuck job would."""
    holding, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.exec_driver_sql(f"LOCK TABLE {TABLES} IN ACCESS EXCLUSIVE MODE")
                    holding.set()
                    release.wait(HOLD_SECONDS)
                    connection.rollback()
            else:
                path = sqlite_file(engine.url.render_as_string(hide_password=False))
                raw = sqlite3.connect(str(path), isolation_level=None)
                raw.execute("BEGIN EXCLUSIVE")
                holding.set()
                release.wait(HOLD_SECONDS)
                raw.execute("ROLLBACK")
                raw.close()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(error)
            holding.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    holding.wait()
    try:
        assert not failure, failure
        yield
    finally:
        release.set()
        thread.join()


def test_reads_and_ready_answer_503_while_a_table_is_locked(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        world = published_ids(session)
        admin = {"X-API-Key": make_key(session, "admin", "ops")}
    quick = {"db_timeout_seconds": 1.0, "public_read": True}
    with make_client(settings, **quick) as client:
        assert client.get(f"/v1/series/{world['mopti']}/forecast").status_code == 200
        with locked(engine):
            if engine.dialect.name == "postgresql":  # readers wait on PostgreSQL's lock
                for url in (
                    "/v1/series",
                    f"/v1/series/{world['mopti']}/forecast",
                    "/ready",
                    "/v1/anomalies",
                ):
                    body = assert_problem(client.get(url), 503, "database-unavailable")
                    assert "SAHELCAST_DB_TIMEOUT_SECONDS" in body["detail"], url
            # On both, a write waits for the writer's lock a bounded time, then 503.
            ack = client.post(f"/v1/anomalies/{world['anomaly']}/acknowledge", headers=admin)
            assert_problem(ack, 503, "database-unavailable")
            assert ack.headers["retry-after"] == "1"
        # Once the lock is gone, the same requests are answered.
        assert client.get("/v1/series").status_code == 200
        assert client.get("/ready").status_code == 200
        ack = client.post(f"/v1/anomalies/{world['anomaly']}/acknowledge", headers=admin)
        assert ack.status_code == 200, ack.text
