"""Run the real `sahelcast serve` in a subprocess on a free localhost port, for HTTP tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import httpx
from sqlalchemy.orm import Session

from service import migrate
from service.db import make_engine, session_scope

World = TypeVar("World")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str], log: Path, *args: str) -> Iterator[str]:
    """Start `sahelcast serve` with `env` added, wait until /ready answers 200, yield its URL."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "sahelcast"), "serve", "--port", str(port), *args]
    full_env = {**os.environ, **env}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=full_env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        polls = 300  # 0.2 s apart (plus each try's own wait): a bound, not a speed target
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            polls -= 1
            assert polls > 0, "the server did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Served(Generic[World]):
    """A running server's URL and the world its database holds."""

    base: str
    world: World


@contextmanager
def serving_world(
    folder: Path, build: Callable[[Session], World], env: dict[str, str]
) -> Iterator[Served[World]]:
    """A migrated SQLite database in `folder` holding what `build` writes, served with `env`."""
    url = f"sqlite:///{folder / 'sahelcast.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        world = build(session)
    engine.dispose()
    with running_server({"SAHELCAST_DATABASE_URL": url, **env}, folder / "serve.log") as base:
        yield Served(base, world)
