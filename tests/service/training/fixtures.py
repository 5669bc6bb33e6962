"""Fixtures shared by the training, anomalies and jobs tests (imported by their conftest files)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import Settings


@pytest.fixture(autouse=True)
def _no_alert_delivery_left_behind() -> Iterator[None]:
    """CLI commands register the alerts hook for their process; undo it after each test."""
    yield
    from service.alerts.hooks import deliver_new
    from service.anomalies.events import remove_listener

    remove_listener(deliver_new)


@pytest.fixture
def train_settings(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """Settings for the test database with fast, in-process training (the CLI sees them too)."""
    monkeypatch.setenv("SAHELCAST_TRAIN_EXECUTOR", "inline")
    monkeypatch.setenv("SAHELCAST_TRAIN_MIN_EVENTS", "1")
    monkeypatch.setenv("SAHELCAST_LOCK_LEASE_SECONDS", "30")
    monkeypatch.setenv("SAHELCAST_DROP_DIR", str(tmp_path / "incoming"))
    settings: Settings = request.getfixturevalue("settings")
    return settings
