"""Dashboard routes refuse query parameters they do not take, as the API does: a misspelt
filter (`/compare?actr=JNIM`) must not show an unfiltered page as if it had matched."""

from __future__ import annotations

import pytest

from tests.service.api.conftest import assert_problem
from tests.service.web.conftest import ClientFactory


@pytest.mark.parametrize(
    ("url", "unknown"),
    [
        ("/compare?actr=JNIM", "actr"),
        ("/compare?actor=JNIM&contry=Mali", "contry"),
        ("/web/events.csv?series=1&month=2022-08&format=xlsx", "format"),
    ],
)
def test_unknown_query_parameters_are_refused(
    dashboard: ClientFactory, url: str, unknown: str
) -> None:
    with dashboard() as client:
        body = assert_problem(client.get(url), 422, "invalid-input")
    assert [e["name"] for e in body["errors"]] == [unknown]
    assert "This endpoint takes" in body["detail"]


def test_known_parameters_still_work(dashboard: ClientFactory) -> None:
    with dashboard() as client:
        assert client.get("/compare?actor=JNIM&country=Mali").status_code in (200, 404)
        assert client.get("/web/events.csv?series=999999&month=2022-08").status_code == 404
