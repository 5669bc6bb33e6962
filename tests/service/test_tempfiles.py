"""Scratch folders a crash left behind are removed at start-up; live ones are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import Settings
from service.tempfiles import clean_stale, scratch_prefix


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f"sahelcast-upload-{_dead_pid()}-abc"
    mine = tmp_path / f"{scratch_prefix('upload')}def"
    old_style = tmp_path / "sahelcast-upload-k2j3h4"  # before pids were in the name
    staged = tmp_path / f"sahelcast-stage-{_dead_pid()}-x"
    other = tmp_path / "somebody-else"
    for folder in (dead, mine, old_style, staged, other):
        folder.mkdir()
        (folder / "export.csv").write_bytes(b"x" * 100)
    assert set(clean_stale(tmp_path)) == {dead, old_style, staged}
    assert mine.exists()
    assert other.exists()
    assert not dead.exists()


def test_the_api_cleans_the_temporary_folder_when_it_starts(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.api.app import create_app

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    crashed = tmp_path / f"sahelcast-upload-{_dead_pid()}-big"
    crashed.mkdir()
    (crashed / "upload.csv").write_bytes(os.urandom(1024))
    create_app(settings)
    assert not crashed.exists()
