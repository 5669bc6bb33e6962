"""`sahelcast serve`: run the REST API with uvicorn."""

from __future__ import annotations

import inspect
import os
import shutil
import socket
import tempfile

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from service.cli.common import console, fail
from service.config import get_settings
from service.db import get_engine
from service.migrate import DatabaseNotReady, require_current

APP_FACTORY = "service.api.app:create_app"


class TcpConfig(uvicorn.Config):
    """uvicorn's config, with a listening socket that workers' connections see as TCP.

    uvicorn binds the shared socket of `--workers` as `socket(AF_INET)` (protocol 0), so the
    connections accepted from it miss asyncio's TCP_NODELAY and every response waits ~40 ms
    on Nagle + delayed ACK. Rewrapping the descriptor lets Python detect the TCP protocol.
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock = socket.socket(fileno=sock.detach())
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run_server(config: TcpConfig) -> None:
    """What `uvicorn.run` does, with our socket for several workers."""
    if config.workers <= 1:
        uvicorn.Server(config).run()
        return
    sockets = [config.bind_socket()]
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn < 0.36
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=sockets).run()  # type: ignore[call-arg]
    else:
        Multiprocess(config, sockets=sockets).run()


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
) -> None:
    """Serve the REST API (docs at /docs, metrics at /metrics) until interrupted.

    Settings come from SAHELCAST_* variables; reads need a key unless SAHELCAST_PUBLIC_READ=true.
    """
    try:
        require_current(get_engine())
    except DatabaseNotReady as error:
        fail(str(error), 2)
    settings = get_settings()
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers are separate processes: their counters meet in shared files for /metrics.
        metrics_dir = tempfile.mkdtemp(prefix="sahelcast-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    reads = "public" if settings.public_read else "need a read key"
    console.print(
        f"sahelcast API on http://{host}:{port} ({workers} worker(s)); reads {reads}; "
        f"docs at /docs",
        highlight=False,
    )
    try:
        run_server(
            TcpConfig(
                APP_FACTORY,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                access_log=access_log,
                log_level=settings.log_level.lower(),
                proxy_headers=False,
                server_header=False,
            )
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
