"""A stand-in for `sahelcast train` whose workers block forever (run by test_orphans)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from service.training.executors import ProcessExecutor


def block(folder: str) -> None:
    """Say which worker this is, then never return (a fit that hangs, a dead pipe)."""
    Path(folder, f"worker-{os.getpid()}").touch()
    threading.Event().wait()


if __name__ == "__main__":
    executor = ProcessExecutor(workers=2)
    for _ in executor.map_unordered(block, [sys.argv[1]] * 2):
        pass
