"""The dashboard cookie holds a revocable session id, is Secure behind a trusted TLS proxy, and
form posts must come from the same scheme and host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.api.app import create_app
from service.auth.orm import WebSession
from service.auth.tokens import token_sha256
from service.config import Settings
from service.db import session_scope
from tests.service.web.builders import WebWorld

PROXY = ("10.0.0.5", 40000)
VIA_TLS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sahel.example.org"}


@contextmanager
def _client(settings: Settings, peer: tuple[str, int], **update: Any) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"public_read": False, **update}))
    with TestClient(app, base_url="http://dashboard.test", client=peer) as client:
        yield client


def _sign_in(client: TestClient, key: str, headers: dict[str, str]) -> Any:
    return client.post("/web/session", data={"key": key}, headers=headers, follow_redirects=False)


def test_the_cookie_holds_a_session_id_that_signing_out_ends(
    settings: Settings, web_world: WebWorld, engine: Engine
) -> None:
    with _client(settings, ("127.0.0.1", 5000)) as client:
        signed = _sign_in(client, web_world.read_key, {"Origin": "http://dashboard.test"})
        assert signed.status_code == 303
        token = client.cookies["sahelcast_session"]
        assert web_world.read_key not in signed.headers["set-cookie"]
        assert token.startswith("scs_")
        with session_scope(engine) as session:
            stored = session.scalars(select(WebSession.token_sha256)).all()
        assert stored == [token_sha256(token)]  # only the hash is kept
        assert "<svg" in client.get("/").text
        client.post("/web/session/end", headers={"Origin": "http://dashboard.test"})
        with session_scope(engine) as session:
            assert session.scalars(select(WebSession)).all() == []
        client.cookies.set("sahelcast_session", token)  # a copy of the cookie, replayed
        replay = client.get("/")
        assert "<svg" not in replay.text
        assert "invalid or revoked" in replay.text


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure(
    settings: Settings, web_world: WebWorld
) -> None:
    with _client(settings, PROXY, trusted_proxies=("10.0.0.0/24",)) as client:
        signed = _sign_in(
            client, web_world.read_key, {**VIA_TLS, "Origin": "https://sahel.example.org"}
        )
        assert signed.status_code == 303
        assert "secure" in signed.headers["set-cookie"].lower()
        # The public origin is https://sahel.example.org: http, or another host, is refused.
        for origin in ("http://sahel.example.org", "https://dashboard.test"):
            refused = _sign_in(client, web_world.read_key, {**VIA_TLS, "Origin": origin})
            assert refused.status_code == 403, origin
        default_port = {**VIA_TLS, "Origin": "https://sahel.example.org:443"}
        assert _sign_in(client, web_world.read_key, default_port).status_code == 303


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    settings: Settings, web_world: WebWorld
) -> None:
    with _client(settings, ("203.0.113.9", 5000), trusted_proxies=("10.0.0.0/24",)) as client:
        spoofed = _sign_in(
            client, web_world.read_key, {**VIA_TLS, "Origin": "https://sahel.example.org"}
        )
        assert spoofed.status_code == 403
        plain = _sign_in(client, web_world.read_key, {**VIA_TLS, "Origin": "http://dashboard.test"})
        assert plain.status_code == 303
        assert "secure" not in plain.headers["set-cookie"].lower()


def test_the_origin_check_compares_the_scheme(settings: Settings, web_world: WebWorld) -> None:
    with _client(settings, ("127.0.0.1", 5000)) as client:
        other_scheme = _sign_in(client, web_world.read_key, {"Origin": "https://dashboard.test"})
        assert other_scheme.status_code == 403
