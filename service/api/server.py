"""Run the API under uvicorn, with a listening socket that keeps TCP_NODELAY for workers."""

from __future__ import annotations

import inspect
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

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
