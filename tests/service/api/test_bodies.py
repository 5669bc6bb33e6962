"""Keys and sizes are checked before a request body is read (service/api/bodyguard)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.config import Settings
from tests.service.api.conftest import assert_problem, make_client
from tests.service.ingest.acled_rows import event, write
from tests.service.serving import running_server

HOOK = {"name": "ops", "url": "https://93.184.215.14/hook"}


def test_without_a_key_a_malformed_body_is_401_not_422(
    settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    with make_client(settings) as client:
        for headers in ({}, {"X-API-Key": "sck_000000000000_wrong"}):
            response = client.post(
                "/v1/subscriptions",
                content=b"{not json",
                headers={**headers, "Content-Type": "application/json"},
            )
            assert_problem(response, 401)
        read = client.post("/v1/subscriptions", content=b"{not json", headers=keys["read"])
        assert_problem(read, 403, "insufficient-scope")
        admin = client.post(
            "/v1/subscriptions",
            content=b"{not json",
            headers={**keys["admin"], "Content-Type": "application/json"},
        )
        assert admin.status_code in (400, 422)  # with the right key, the body is looked at


def _announcing(
    client: TestClient, path: str, size: int, headers: dict[str, str]
) -> httpx2.Response:
    """POST one byte to `path` with a Content-Length that announces `size` bytes."""
    return client.post(path, content=b"x", headers={**headers, "Content-Length": str(size)})


def test_declared_and_streamed_bodies_over_the_limit_are_413(
    settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    with make_client(settings, api_body_max_kb=4) as client:
        declared = _announcing(client, "/v1/subscriptions", 1 << 30, keys["admin"])
        assert_problem(declared, 413, "body-too-large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"name": "' + b"x" * 8192
            yield b'", "url": "https://93.184.215.14/hook"}'

        streamed = client.post("/v1/subscriptions", content=chunks(), headers=keys["admin"])
        assert_problem(streamed, 413, "body-too-large")
        assert client.post("/v1/subscriptions", json=HOOK, headers=keys["admin"]).status_code == 201


def test_an_upload_over_the_limit_is_413_before_it_is_spooled(
    settings: Settings, engine: Engine, keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    path = write(tmp_path / "mali.csv", [event("MLI1", "03 July 2022")])
    with make_client(settings, api_upload_max_mb=1) as client:
        huge = _announcing(client, "/v1/admin/uploads", 3 << 20, keys["admin"])
        assert_problem(huge, 413, "file-too-large")
        with path.open("rb") as handle:
            ok = client.post("/v1/admin/uploads", files={"file": handle}, headers=keys["admin"])
        assert ok.status_code == 201, ok.text


def _raw_request(base: str, head: str, body: bytes) -> bytes:
    """Send a request head and the start of its body, then read the answer (never the rest)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(head.encode("latin-1") + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            # A server that waits for the rest of the body times out here (the defect).
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    return answer


@pytest.mark.slow
def test_a_real_server_answers_before_reading_a_body(
    settings: Settings, world: dict[str, int], keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    env = {"SAHELCAST_DATABASE_URL": settings.database_url, "SAHELCAST_API_BODY_MAX_KB": "4"}
    with running_server(env, tmp_path / "serve.log") as base:
        host = urlsplit(base).netloc
        # 800 MiB announced, a few KiB sent, no key: the answer comes without the rest.
        upload = (
            f"POST /v1/admin/uploads HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {800 << 20}\r\n\r\n"
        )
        answer = _raw_request(base, upload, b"--b\r\n" + b"x" * 4096)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        subscribe = (
            f"POST /v1/subscriptions HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {300 << 20}\r\n\r\n"
        )
        answer = _raw_request(base, subscribe, b'{"name": "' + b"x" * 4096)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        # With an admin key, a chunked body is cut off as soon as it passes the limit.
        admin = keys["admin"]["X-API-Key"]
        chunked = (
            f"POST /v1/subscriptions HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {admin}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"x" * 6000
        answer = _raw_request(base, chunked, f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
