"""API keys: missing, invalid, revoked, wrong scope, public reads, and how keys are stored."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.auth.orm import ApiKey
from service.auth.service import revoke_key
from service.config import Settings
from service.db import session_scope
from tests.service.api.builders import make_key
from tests.service.api.conftest import assert_problem, make_client


def test_reads_need_a_key(client: TestClient, world: dict[str, int]) -> None:
    response = client.get(f"/v1/series/{world['mopti']}/forecast")
    body = assert_problem(response, 401, "missing-key")
    assert "Bearer" in response.headers["www-authenticate"]
    assert "X-API-Key" in body["detail"]
    assert_problem(client.get("/v1/series"), 401, "missing-key")


def test_bearer_and_header_keys_both_work(
    client: TestClient, world: dict[str, int], engine: Engine
) -> None:
    with session_scope(engine) as session:
        token = make_key(session, "read")
    assert client.get("/v1/series", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/v1/series", headers={"authorization": f"bearer {token}"}).status_code == 200
    assert client.get("/v1/series", headers={"X-API-Key": token}).status_code == 200


def test_invalid_keys_are_refused(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    good = keys["read"]["Authorization"].removeprefix("Bearer ")
    for token in (
        "nope",
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        "sck_" + "0" * 12 + "_x",
        good + "x",
        "sck__",
        "\u00e9\u00e9".encode("latin-1"),
    ):
        headers: dict[str, Any] = {"X-API-Key": token}  # bytes too: not every key is text
        response = client.get("/v1/series", headers=headers)
        assert_problem(response, 401, "invalid-key")


def test_a_read_key_cannot_write(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    read = keys["read"]
    assert_problem(
        client.post(f"/v1/anomalies/{world['anomaly']}/acknowledge", headers=read),
        403,
        "insufficient-scope",
    )
    assert_problem(client.get("/v1/subscriptions", headers=read), 403, "insufficient-scope")
    assert_problem(client.post("/v1/admin/retrain", headers=read), 403)
    files = {"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    assert_problem(client.post("/v1/admin/uploads", headers=read, files=files), 403)


def test_an_admin_key_can_read_and_write(
    client: TestClient, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    assert client.get("/v1/series", headers=admin).status_code == 200
    response = client.post(f"/v1/anomalies/{world['anomaly']}/acknowledge", headers=admin)
    assert response.status_code == 200


def test_public_read_opens_reads_but_never_writes(
    settings: Settings, world: dict[str, int]
) -> None:
    with make_client(settings, public_read=True) as client:
        assert client.get("/v1/series").status_code == 200
        assert client.get(f"/v1/series/{world['mopti']}/forecast").status_code == 200
        assert client.get("/v1/anomalies").status_code == 200
        assert_problem(client.post(f"/v1/anomalies/{world['anomaly']}/acknowledge"), 401)
        assert_problem(client.get("/v1/subscriptions"), 401)
        assert_problem(client.post("/v1/admin/retrain"), 401)
        # A presented but invalid key is still refused, even where reads are public.
        assert_problem(client.get("/v1/series", headers={"X-API-Key": "bad"}), 401)


def test_revoked_keys_stop_working(
    settings: Settings, world: dict[str, int], engine: Engine
) -> None:
    with session_scope(engine) as session:
        token = make_key(session, "read")
        admin = make_key(session, "admin")
        key_ids = list(session.scalars(select(ApiKey.id).order_by(ApiKey.id)))
    headers = {"X-API-Key": token}
    now = [1000.0]  # the key cache's clock, moved by hand
    with make_client(settings, api_key_cache_seconds=5) as client:
        client.app.state.key_cache.clock = lambda: now[0]  # type: ignore[attr-defined]
        assert client.get("/v1/series", headers=headers).status_code == 200
        with session_scope(engine) as session:
            revoke_key(session, key_ids[0])
            revoke_key(session, key_ids[1])
        # Admin keys are checked afresh on every request: refused at once.
        assert_problem(client.post("/v1/admin/retrain", headers={"X-API-Key": admin}), 401)
        now[0] += 4.9  # read keys: still remembered inside the cache's 5 s ...
        assert client.get("/v1/series", headers=headers).status_code == 200
        now[0] += 0.2  # ... and refused once the entry lapses
        assert_problem(client.get("/v1/series", headers=headers), 401, "invalid-key")


def test_keys_are_stored_hashed(engine: Engine) -> None:
    with session_scope(engine) as session:
        token = make_key(session, "admin")
    with session_scope(engine) as session:
        key = session.scalars(select(ApiKey)).one()
        assert token not in (key.token_sha256, key.prefix, key.name)
        assert len(key.token_sha256) == 64
        assert token.split("_")[1] == key.prefix
