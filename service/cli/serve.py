"""`sahelcast serve`: run the REST API with uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated

import typer

from service.cli.common import console, require_db


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
) -> None:
    """Serve the REST API (docs at /docs, metrics at /metrics) until interrupted.

    Settings come from SAHELCAST_* variables; reads need a key unless SAHELCAST_PUBLIC_READ=true.
    """
    from service.api.server import APP_FACTORY, TcpConfig, run_server
    from service.config import get_settings

    require_db()
    settings = get_settings()
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers are separate processes: their counters meet in shared files for /metrics.
        metrics_dir = tempfile.mkdtemp(prefix="sahelcast-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    reads = "public" if settings.public_read else "need a read key"
    console.print(
        f"sahelcast API on http://{host}:{port} ({workers} worker(s)); reads {reads}; "
        "docs at /docs",
        highlight=False,
        soft_wrap=True,  # one line however narrow the terminal: a URL must not break
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
