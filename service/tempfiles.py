"""Scratch folders for uploads and staged ingests, and the removal of those a crash left behind.

Each folder's name carries the pid of the process that made it
(`sahelcast-upload-<pid>-…`), so a starting process removes only folders whose owner is gone
and never one that another running server or ingest is still using.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PREFIXES = ("sahelcast-upload-", "sahelcast-stage-")
_OWNED = re.compile("^(?:" + "|".join(map(re.escape, PREFIXES)) + r")(\d+)-")


def scratch_prefix(kind: str) -> str:
    """The name prefix of a scratch folder of `kind` (`upload`, `stage`) owned by this process."""
    prefix = f"sahelcast-{kind}-"
    if prefix not in PREFIXES:
        raise ValueError(f"unknown scratch folder kind {kind!r}")
    return f"{prefix}{os.getpid()}-"


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one owned by another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(folder: Path | None = None) -> list[Path]:
    """Remove scratch folders whose owning process is gone; return what was removed.

    Folders of the old, pid-less naming cannot be attributed, so they are removed too: they
    date from before this version, when every one of them was left by a crash.
    """
    root = Path(folder or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(PREFIXES) or entry.is_symlink():
            continue
        owner = _OWNED.match(entry.name)
        if owner is not None and process_alive(int(owner.group(1))):
            continue
        try:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as error:
            log.warning("could not remove stale %s: %s", entry, error)
            continue
        removed.append(entry)
    if removed:
        log.info("removed %d scratch folder(s) left by a crash", len(removed))
    return removed
