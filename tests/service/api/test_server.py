"""The real thing: `sahelcast serve` with two uvicorn workers on a random port, over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.config import Settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(settings: Settings, world: dict[str, int], tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "sahelcast"),
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    env = {**os.environ, "SAHELCAST_DATABASE_URL": settings.database_url}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_serve_answers_over_http(
    server: str, world: dict[str, int], keys: dict[str, dict[str, str]]
) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        for _ in range(20):  # spread over both workers
            response = client.get(f"/v1/series/{world['mopti']}/forecast", headers=keys["read"])
            assert response.status_code == 200
            assert response.json()["run_id"] == world["run"]
        unauthorized = client.get("/v1/series")
        assert unauthorized.status_code == 401
        assert unauthorized.headers["content-type"] == "application/problem+json"
        assert "swagger-ui-bundle.js" in client.get("/docs").text
        metrics = client.get("/metrics").text
        # Both workers' counters are added up in one scrape.
        line = (
            'sahelcast_http_requests_total{method="GET",route="/v1/series/{ref}/forecast",'
            'status="200"} 20.0'
        )
        assert line in metrics, metrics
