"""Fixtures of the analyst-view tests: a published world per backend, and dashboard clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.app import create_app
from service.config import Settings
from tests.service.builders import built
from tests.service.web.builders import WebWorld, make_web_world

ClientFactory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def web_world(engine: Engine) -> WebWorld:
    return built(engine, make_web_world)


@pytest.fixture
def dashboard(settings: Settings) -> ClientFactory:
    """Open a test client of the whole app; `public_read` as asked (default: public), the
    app's clock at `now` when given."""

    @contextmanager
    def open_client(
        *, public_read: bool = True, now: dt.datetime | None = None
    ) -> Iterator[TestClient]:
        clock = None if now is None else (lambda: now)
        app = create_app(settings.model_copy(update={"public_read": public_read}), clock=clock)
        with TestClient(app, base_url="http://dashboard.test") as client:
            yield client

    return open_client
