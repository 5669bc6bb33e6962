"""Fixtures of the API tests: an app per backend, a published world, keys, problem checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.app import create_app
from service.api.problems import PROBLEM_JSON, TYPE_PREFIX
from service.config import Settings
from service.db import session_scope
from tests.service.api.builders import make_key, published_ids
from tests.service.builders import built


def make_client(settings: Settings, **overrides: Any) -> TestClient:
    """A test client of an app built for `settings` with `overrides` (retrain and fetch do
    nothing unless `retrain_launcher` or `fetch_launcher` says what to do)."""
    launchers = {
        name: overrides.pop(name, lambda *args: None)
        for name in ("retrain_launcher", "fetch_launcher")
    }
    app = create_app(settings.model_copy(update=overrides), **launchers)
    return TestClient(app)


def assert_problem(
    response: httpx2.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """Check an RFC 9457 problem response and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["instance"] == response.request.url.path
    if slug is not None:
        assert body["type"] == TYPE_PREFIX + slug
    return body


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings) as test_client:
        yield test_client


@pytest.fixture
def world(engine: Engine) -> dict[str, int]:
    """The published world's ids (see builders.published_world)."""
    return built(engine, published_ids)


@pytest.fixture
def keys(engine: Engine) -> dict[str, dict[str, str]]:
    """Headers carrying a read key and an admin key."""
    with session_scope(engine) as session:
        read, admin = make_key(session, "read"), make_key(session, "admin", "ops")
    return {"read": {"Authorization": f"Bearer {read}"}, "admin": {"X-API-Key": admin}}
