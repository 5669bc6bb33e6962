"""Make pool workers exit when the process that started the pool dies (kill -9 included).

A worker's parent is the fork server, not the run, so two guards are installed when a worker
starts: the kernel kills it when its parent dies (`PR_SET_PDEATHSIG`, Linux), and a thread
waits on the run's process (a pidfd where available, else polling its pid) and ends the worker
as soon as the run is gone. Without them a killed `sahelcast train` left its workers running
for minutes, some blocked on a pipe nobody reads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading

from service.tempfiles import process_alive

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 1.0


def die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent exits; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _wait_for_exit(pid: int) -> None:
    """Block until process `pid` has exited."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            fd = pidfd_open(pid)
        except ProcessLookupError:
            return
        except OSError:
            fd = None
        if fd is not None:
            try:
                select.select([fd], [], [])  # readable once the process has exited
            finally:
                os.close(fd)
            return
    while process_alive(pid):
        threading.Event().wait(POLL_SECONDS)


def _end_when_gone(pid: int) -> None:
    _wait_for_exit(pid)
    os._exit(1)  # the run is gone: nobody will read this worker's results


def watch_owner(owner_pid: int) -> None:
    """Pool initializer: exit this worker when `owner_pid` (the pool's creator) dies."""
    die_with_parent()
    if not process_alive(owner_pid):
        os._exit(1)
    threading.Thread(
        target=_end_when_gone, args=(owner_pid,), name="owner-watchdog", daemon=True
    ).start()
