"""Fixtures of the alert tests: a real local webhook receiver, settings that may reach it, and one
delivery round as the scheduler runs it (without waiting between retries)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from service.alerts.service import deliver_pending
from service.config import Settings
from service.db import session_scope
from tests.service.alerts.receiver import Receiver, receiver


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


def reaching_the_hook(settings: Settings, **update: Any) -> Settings:
    """`settings` that let webhooks reach the local receiver, with quick retries, and `update`."""
    quick = {"webhook_allow_private": True, "webhook_backoff_seconds": 0.01}
    return settings.model_copy(update={**quick, **update})


def deliver(engine: Engine, settings: Settings) -> dict[str, int]:
    """One delivery round: how many alerts were delivered, failed and deferred."""
    with session_scope(engine) as session:
        return deliver_pending(session, settings, sleep=lambda _: None).to_dict()
