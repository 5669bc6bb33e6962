"""`sahelcast alerts`: webhook subscriptions, test deliveries, and delivering pending alerts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.anomalies.severity import Direction, Severity
from service.cli.common import console, db_session, err_console, fail, found_or_fail, require_db
from service.cli.options import grouped, place
from service.cli.output import Column, Format, FormatOption, emit, plural, row_record
from service.measures import Measure

app = typer.Typer(
    help="Alert webhooks: subscribe, list, remove, test, deliver.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@grouped(where=place)
def alert_filter(
    where: dict[str, str | None],
    min_severity: Annotated[
        Severity, typer.Option("--min-severity", help="The mildest severity delivered.")
    ] = "low",
    direction: Annotated[
        Direction | None, typer.Option(help="Only this direction [default: both].")
    ] = None,
    measure: Annotated[
        Measure | None,
        typer.Option(help="Only escalations flagged in events or in deaths [default: both]."),
    ] = None,
) -> dict[str, Any]:
    """What a subscription delivers: where, how severe, which direction and measure."""
    return {**where, "min_severity": min_severity, "direction": direction, "measure": measure}


@app.command("subscribe")
@grouped(filters=alert_filter)
def subscribe_(
    url: Annotated[
        str, typer.Option("--url", help="Webhook URL (http/https; Slack incoming hooks work).")
    ],
    name: Annotated[str, typer.Option("--name", help="A name for the subscription.")],
    filters: dict[str, Any],
) -> None:
    """Subscribe a webhook and print its signing secret once (filters must name what the
    catalogue holds: an unknown name is refused with the closest known ones)."""
    from service.alerts.filters import UnknownFilter
    from service.alerts.service import SubscriptionSpec, subscribe
    from service.alerts.urls import UnsafeUrl
    from service.config import get_settings
    from service.db import session_scope

    engine = require_db()
    spec = SubscriptionSpec(name=name, url=url, **filters)
    try:
        with session_scope(engine) as session:
            subscription, secret = subscribe(session, spec, get_settings())
            subscription_id = subscription.id
    except UnsafeUrl as error:
        fail(f"--url refused: {error}", 2)
    except UnknownFilter as error:
        fail("; ".join(f"--{e.field.replace('_', '-')} refused: {e.message}" for e in error.all), 2)
    err_console.print(f"Subscription {subscription_id} created. Its signing secret, shown once:")
    print(secret)


FILTERS = ("country", "region", "actor", "event_type", "direction", "measure")


def _filters(record: dict[str, Any]) -> str:
    return ", ".join(f"{k}={record[k]}" for k in FILTERS if record[k]) or "any"


def _last(delivery: dict[str, Any] | None) -> str:
    if delivery is None:
        return "-"
    return f"{delivery['status']} ({plural(delivery['attempts'], 'attempt')})"


SUBSCRIPTION_COLUMNS = (
    Column("id", right=True),
    Column("name"),
    Column("url"),
    Column("filters"),  # table only: the filters in one cell
    Column("min_severity", "min severity", whole=True),
    Column("last_delivery", "last delivery", show=_last),
)


@app.command("list")
def list_(fmt: FormatOption = Format.table) -> None:
    """List subscriptions and how their last delivery went (never their secrets)."""
    from service.alerts import repository as repo

    records = []
    with db_session() as session:
        for s in repo.list_subscriptions(session):
            record = row_record(s, exclude=("secret",))
            last, _ = repo.list_deliveries(session, s.id, limit=1, offset=0)
            record["last_delivery"] = row_record(last[0]) if last else None
            records.append(record)
    if fmt is Format.table:
        records = [{**r, "filters": _filters(r)} for r in records]
    emit(records, SUBSCRIPTION_COLUMNS, fmt, title=f"{len(records)} subscription(s)")


@app.command("remove")
def remove_(
    subscription_id: Annotated[int, typer.Argument(help="The subscription's id.")],
) -> None:
    """Remove a subscription and its delivery log."""
    from service.alerts.service import remove

    with db_session() as session:
        if not remove(session, subscription_id):
            fail(f"no subscription {subscription_id}; see `sahelcast alerts list`", 2)
    console.print(f"Removed subscription {subscription_id}.")


@app.command("test")
def send_test_(
    subscription_id: Annotated[int, typer.Argument(help="The subscription's id.")],
) -> None:
    """Send a signed test delivery now and say whether the receiver accepted it."""
    from service.alerts import repository as repo
    from service.alerts.service import send_test
    from service.config import get_settings

    with db_session() as session:
        missing = f"no subscription {subscription_id}; see `sahelcast alerts list`"
        subscription = found_or_fail(repo.get_subscription(session, subscription_id), missing)
        delivery = send_test(session, subscription, get_settings())
        status, code, error = delivery.status, delivery.response_code, delivery.last_error
    if status != "delivered":
        fail(f"test delivery failed: {error or f'HTTP {code}'}", 1)
    console.print(f"Test delivery accepted (HTTP {code}).")


@app.command("deliver")
def deliver() -> None:
    """Deliver every alert-worthy anomaly that a matching subscription has not received."""
    from service.alerts.service import deliver_pending
    from service.config import get_settings

    with db_session() as session:
        summary = deliver_pending(session, get_settings())
    _said(summary, "delivered")


@app.command("digest")
def digest_() -> None:
    """Send this week's digest of open escalations (once per subscription per ISO week)."""
    from service.alerts.digest import deliver_digest
    from service.config import get_settings
    from service.kit.time import utcnow

    with db_session() as session:
        summary = deliver_digest(session, get_settings(), now=utcnow())
    _said(summary, "digests delivered")


def _said(summary: Any, delivered: str) -> None:
    """Print a delivery round's counts; exit 1 when any failed (the next round retries)."""
    console.print(
        f"{delivered} {summary.delivered}, failed {summary.failed} (retried next time), "
        f"deferred {summary.deferred}"
    )
    if summary.failed:
        raise typer.Exit(1)


@app.command("sample")
@grouped(filters=alert_filter)
def sample_(filters: dict[str, Any]) -> None:
    """Print the JSON a subscription with these filters would get (a real escalation, or a
    labelled example when none matches)."""
    import json

    from service.alerts.filters import UnknownFilter
    from service.alerts.sample import sample
    from service.alerts.service import SubscriptionSpec
    from service.config import get_settings

    spec = SubscriptionSpec(name="sample", url="", **filters)
    try:
        with db_session() as session:
            found = sample(session, spec, get_settings().public_url)
    except UnknownFilter as error:
        fail("; ".join(f"--{e.field.replace('_', '-')} refused: {e.message}" for e in error.all), 2)
    print(json.dumps(found, indent=2))
