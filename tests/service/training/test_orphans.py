"""kill -9 of a training process takes its pool workers, fork server and tracker down with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), set()).add(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_training_process_is_killed(tmp_path: Path) -> None:
    script = subprocess.Popen(
        [sys.executable, "-m", "tests.service.training.orphan_pool", str(tmp_path)], cwd=ROOT
    )
    polls = 2400  # 0.05 s apart: bounds on waiting, not speed targets (no clock read)
    while len(list(tmp_path.glob("worker-*"))) < 2:
        assert script.poll() is None, "the pool script died"
        polls -= 1
        assert polls > 0, "the workers never started"
        time.sleep(0.05)
    workers = {int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")}
    helpers = _descendants(script.pid)  # workers, fork server, resource tracker
    assert workers <= helpers
    os.kill(script.pid, signal.SIGKILL)
    script.wait()
    polls = 600
    while alive := {pid for pid in helpers if _running(pid)}:
        polls -= 1
        if polls <= 0:
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
            pytest.fail(f"orphaned processes still running: {sorted(alive)}")
        time.sleep(0.05)
