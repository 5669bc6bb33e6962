"""The OpenAPI schema states what the server enforces: webhook URL format, non-empty uploads."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from service.config import Settings
from tests.service.api.conftest import assert_problem, make_client


def test_the_schema_states_url_format_and_non_empty_upload(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for model in ("SubscriptionCreate", "SubscriptionUpdate"):
        url = schemas[model]["properties"]["url"]
        assert url["format"] == "uri"
        assert re.match(url["pattern"], "https://example.org/hook")
        assert not re.match(url["pattern"], "ftp://example.org/")
    upload = schemas["Body_upload_v1_admin_uploads_post"]["properties"]["file"]
    assert upload["minLength"] == 1
    assert "not empty" in upload["description"]


def test_an_empty_or_header_only_upload_is_refused(
    settings: Settings, keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    header = b"event_id_cnty,event_date,year,event_type,actor1,country,admin1,fatalities\n"
    with make_client(settings) as client:
        for content, problem in ((b"", "empty"), (header + b"\n\n", "header but no rows")):
            response = client.post(
                "/v1/admin/uploads",
                files={"file": ("export.csv", content, "text/csv")},
                headers=keys["admin"],
            )
            assert problem in assert_problem(response, 422, "invalid-file")["detail"]
