"""API schemas of subscriptions and deliveries (the secret appears only in SubscriptionCreated)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from service.anomalies.severity import Direction, Severity
from service.api.params import Name, Text
from service.api.schemas.common import PageInfo, UtcDateTime
from service.measures import Measure

# The schema states the format; check_url (service/alerts/urls) enforces it with a clear 400.
Url = Annotated[
    Text,
    StringConstraints(min_length=1, max_length=2000),
    Field(json_schema_extra={"format": "uri", "pattern": "^https?://[^\\x00]+$"}),
]


class SubscriptionCreate(BaseModel):
    """A webhook and the anomalies it wants (a filter left out matches anything)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    url: Url = Field(
        description="http(s) URL receiving POSTed JSON (Slack incoming webhooks work)."
    )
    country: Name | None = None
    region: Name | None = None
    actor: Name | None = None
    event_type: Name | None = None
    min_severity: Severity = "low"
    direction: Direction | None = Field(default=None, description="Only above/below; null: both.")
    measure: Measure | None = Field(
        default=None,
        description="Only escalations flagged in events or in deaths (`fatalities`); null: both.",
    )


class SubscriptionUpdate(BaseModel):
    """Fields to change; a filter set to null matches anything again."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Fields that cannot be cleared accept no null (SkipJsonSchema keeps "absent" possible).
    name: Name | SkipJsonSchema[None] = None
    url: Url | SkipJsonSchema[None] = None
    country: Name | None = None
    region: Name | None = None
    actor: Name | None = None
    event_type: Name | None = None
    min_severity: Severity | SkipJsonSchema[None] = None
    direction: Direction | None = None
    measure: Measure | None = None
    active: bool | SkipJsonSchema[None] = Field(
        default=None, description="Pause (false) or resume deliveries."
    )


class SubscriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    country: str | None
    region: str | None
    actor: str | None
    event_type: str | None
    min_severity: str
    direction: str | None
    measure: str | None = None
    active: bool
    created_at: UtcDateTime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="Signs every delivery (HMAC-SHA256). Shown only once.")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionRead]


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    anomaly_id: int | None
    kind: str
    idempotency_key: str
    status: str = Field(
        description="`delivered`, `failed` (retried by the next round) or `pending`."
    )
    attempts: int
    response_code: int | None
    last_error: str | None
    created_at: UtcDateTime
    last_attempt_at: UtcDateTime | None
    delivered_at: UtcDateTime | None


class DeliveryPage(PageInfo):
    items: list[DeliveryRead]


class SamplePayload(BaseModel):
    """What a subscription would receive: from a real escalation, or a labelled example."""

    source: Literal["escalation", "example"]
    payload: dict[str, Any] = Field(description="The JSON body a delivery would POST.")
