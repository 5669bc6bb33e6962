"""Subscriptions over the API (admin only: they hold URLs and secrets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.alerts import repository as repo
from service.alerts.filters import UnknownFilter
from service.alerts.orm import Subscription
from service.alerts.sample import sample
from service.alerts.schemas import (
    DeliveryPage,
    DeliveryRead,
    SamplePayload,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionRead,
    SubscriptionUpdate,
)
from service.alerts.service import SubscriptionSpec, remove, send_test, subscribe, update
from service.alerts.urls import UnsafeUrl
from service.anomalies.severity import Direction, Severity
from service.api.deps import AdminDep, SessionDep, SettingsDep
from service.api.formats import records_csv
from service.api.lookups import found_or_404, not_found
from service.api.params import AsCsv, Id, PageDep, Text
from service.api.problems import ProblemError, ProblemParam, problems
from service.api.routes import V1, list_route
from service.measures import Measure

router = APIRouter(prefix=f"{V1}/subscriptions", tags=["alerts"], responses=problems(401, 403, 422))


def _subscription(session: SessionDep, subscription_id: int) -> Subscription:
    found = repo.get_subscription(session, subscription_id)
    return found_or_404(found, "subscription", subscription_id)


@list_route(router, "", SubscriptionPage, "Subscriptions")
def list_(session: SessionDep, _: AdminDep, as_csv: AsCsv) -> Response | SubscriptionPage:
    """Every subscription with its filters (`format=csv`: one row each; never the secret)."""
    items = [SubscriptionRead.model_validate(s) for s in repo.list_subscriptions(session)]
    if as_csv:
        return records_csv(items, "subscriptions.csv", list(SubscriptionRead.model_fields))
    return SubscriptionPage(items=items)


@router.post(
    "",
    status_code=201,
    responses=problems(400),
    summary="Subscribe a webhook (the secret is shown once)",
)
def create(
    session: SessionDep, _: AdminDep, settings: SettingsDep, body: SubscriptionCreate
) -> SubscriptionCreated:
    """Check the URL (no private addresses unless allowed) and create the subscription."""
    try:
        subscription, secret = subscribe(session, SubscriptionSpec(**body.model_dump()), settings)
    except UnsafeUrl as error:
        raise _unsafe(error) from error
    except UnknownFilter as error:
        raise _unknown(error) from error
    data = SubscriptionRead.model_validate(subscription).model_dump()
    return SubscriptionCreated(**data, secret=secret)


@router.get("/sample", summary="The payload a subscription with these filters would get")
def sample_(
    session: SessionDep,
    _: AdminDep,
    settings: SettingsDep,
    country: Annotated[Text | None, Query(min_length=1, max_length=120)] = None,
    region: Annotated[Text | None, Query(min_length=1, max_length=255)] = None,
    actor: Annotated[Text | None, Query(min_length=1, max_length=255)] = None,
    event_type: Annotated[Text | None, Query(min_length=1, max_length=64)] = None,
    min_severity: Severity = "low",
    direction: Direction | None = None,
    measure: Measure | None = None,
) -> SamplePayload:
    """Built from a real open escalation matching the filters (else the latest matching one),
    or a labelled example (`source: example`) when none matches; unknown names are a 422."""
    spec = SubscriptionSpec(name="sample", url="", country=country, region=region, actor=actor,
                            event_type=event_type, min_severity=min_severity,
                            direction=direction, measure=measure)  # fmt: skip
    try:
        found = sample(session, spec, settings.public_url)
    except UnknownFilter as error:
        raise _unknown(error, "query") from error
    return SamplePayload(**found)


@router.get("/{subscription_id:int}", responses=problems(404), summary="One subscription")
def get_(session: SessionDep, _: AdminDep, subscription_id: Id) -> SubscriptionRead:
    return SubscriptionRead.model_validate(_subscription(session, subscription_id))


@router.patch(
    "/{subscription_id:int}",
    responses=problems(400, 404),
    summary="Change a subscription (filters, URL, name, pause)",
)
def patch(
    session: SessionDep,
    _: AdminDep,
    settings: SettingsDep,
    subscription_id: Id,
    body: SubscriptionUpdate,
) -> SubscriptionRead:
    """Change only the fields given; the secret stays (remove and subscribe again to rotate it)."""
    subscription = _subscription(session, subscription_id)
    changes = body.model_dump(exclude_unset=True)
    try:
        update(session, subscription, changes, settings)
    except UnsafeUrl as error:
        raise _unsafe(error) from error
    except UnknownFilter as error:
        raise _unknown(error) from error
    except ValueError as error:
        param = ProblemParam(name=str(error).split()[0], location="body", detail=str(error))
        raise ProblemError(
            422, str(error), slug="invalid-input", title="Invalid input", errors=[param]
        ) from error
    return SubscriptionRead.model_validate(subscription)


def _unknown(error: UnknownFilter, location: str = "body") -> ProblemError:
    """422 naming the filter, what it said, and the closest names the catalogue knows."""
    params = [ProblemParam(name=e.field, location=location, detail=e.message) for e in error.all]
    return ProblemError(
        422, f"{error}: a subscription filtered on it would never fire", slug="unknown-filter",
        title="Unknown filter value", errors=params, close_matches=error.close,
    )  # fmt: skip


def _unsafe(error: UnsafeUrl) -> ProblemError:
    param = ProblemParam(name="url", location="body", detail=str(error))
    return ProblemError(
        422, str(error), slug="unsafe-webhook-url", title="Webhook URL refused", errors=[param]
    )


@router.delete(
    "/{subscription_id:int}",
    status_code=204,
    response_class=Response,
    responses=problems(404),
    summary="Remove a subscription",
)
def delete(session: SessionDep, _: AdminDep, subscription_id: Id) -> Response:
    if not remove(session, subscription_id):
        raise not_found("subscription", subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id:int}/test",
    responses=problems(404),
    summary="Send a signed test delivery now",
)
def test(
    session: SessionDep, _: AdminDep, settings: SettingsDep, subscription_id: Id
) -> DeliveryRead:
    """One attempt; the delivery record says whether the receiver accepted it."""
    delivery = send_test(session, _subscription(session, subscription_id), settings)
    return DeliveryRead.model_validate(delivery)


@list_route(
    router,
    "/{subscription_id:int}/deliveries",
    DeliveryPage,
    "A subscription's deliveries, newest first",
    404,
)
def deliveries(
    session: SessionDep, _: AdminDep, subscription_id: Id, page: PageDep, as_csv: AsCsv
) -> Response | DeliveryPage:
    """The page of deliveries (`format=csv`: one row each)."""
    _subscription(session, subscription_id)
    rows, total = repo.list_deliveries(
        session, subscription_id, limit=page.limit, offset=page.offset
    )
    items = [DeliveryRead.model_validate(d) for d in rows]
    if as_csv:
        name = f"deliveries-{subscription_id}.csv"
        return records_csv(items, name, list(DeliveryRead.model_fields))
    return DeliveryPage.of(page, total, items)
