"""`sahelcast alerts`: webhook subscriptions, test deliveries, and delivering pending alerts."""

from __future__ import annotations

import typer
from rich.table import Table

from service.alerts import repository as repo
from service.alerts.service import SubscriptionSpec, deliver_pending, remove, send_test, subscribe
from service.alerts.urls import UnsafeUrl
from service.cli.common import console, err_console, fail
from service.config import get_settings
from service.db import get_engine, session_scope
from service.migrate import DatabaseNotReady, require_current

app = typer.Typer(
    help="Alert webhooks: subscribe, list, remove, test, deliver.", no_args_is_help=True
)
SEVERITIES = ("low", "medium", "high")


def _ready() -> None:
    try:
        require_current(get_engine())
    except DatabaseNotReady as error:
        fail(str(error), 2)


@app.command("subscribe")
def subscribe_(
    url: str = typer.Option(
        ..., "--url", help="Webhook URL (http/https; Slack incoming hooks work)."
    ),
    name: str = typer.Option(..., "--name", help="A name for the subscription."),
    country: str = typer.Option(None, help="Only this country."),
    region: str = typer.Option(None, help="Only this admin1 region."),
    actor: str = typer.Option(None, help="Only this actor."),
    event_type: str = typer.Option(None, "--event-type", help="Only this event type."),
    min_severity: str = typer.Option("low", "--min-severity", help="low, medium or high."),
    direction: str = typer.Option(None, help="'above' or 'below' (default: both)."),
) -> None:
    """Subscribe a webhook and print its signing secret once."""
    if min_severity not in SEVERITIES:
        fail(f"--min-severity must be one of {', '.join(SEVERITIES)}, got {min_severity!r}", 2)
    if direction not in (None, "above", "below"):
        fail(f"--direction must be 'above' or 'below', got {direction!r}", 2)
    _ready()
    spec = SubscriptionSpec(
        name=name,
        url=url,
        country=country,
        region=region,
        actor=actor,
        event_type=event_type,
        min_severity=min_severity,
        direction=direction,
    )
    try:
        with session_scope() as session:
            subscription, secret = subscribe(session, spec, get_settings())
            subscription_id = subscription.id
    except UnsafeUrl as error:
        fail(f"--url refused: {error}", 2)
    err_console.print(f"Subscription {subscription_id} created. Its signing secret, shown once:")
    print(secret)


@app.command("list")
def list_() -> None:
    """List subscriptions and how their deliveries went."""
    _ready()
    with session_scope() as session:
        subscriptions = repo.list_subscriptions(session)
        table = Table(title=f"{len(subscriptions)} subscription(s)")
        for column in ("id", "name", "url", "filters", "min severity", "last delivery"):
            table.add_column(column)
        for s in subscriptions:
            filters = (
                ", ".join(
                    f"{k}={v}"
                    for k, v in (
                        ("country", s.country),
                        ("region", s.region),
                        ("actor", s.actor),
                        ("event type", s.event_type),
                        ("direction", s.direction),
                    )
                    if v
                )
                or "any"
            )
            last, _ = repo.list_deliveries(session, s.id, limit=1, offset=0)
            status = f"{last[0].status} ({last[0].attempts} attempts)" if last else "-"
            table.add_row(str(s.id), s.name, s.url, filters, s.min_severity, status)
    console.print(table)


@app.command("remove")
def remove_(subscription_id: int = typer.Argument(..., help="The subscription's id.")) -> None:
    """Remove a subscription and its delivery log."""
    _ready()
    with session_scope() as session:
        if not remove(session, subscription_id):
            fail(f"no subscription {subscription_id}; see `sahelcast alerts list`", 2)
    console.print(f"Removed subscription {subscription_id}.")


@app.command("test")
def send_test_(subscription_id: int = typer.Argument(..., help="The subscription's id.")) -> None:
    """Send a signed test delivery now and say whether the receiver accepted it."""
    _ready()
    with session_scope() as session:
        subscription = repo.get_subscription(session, subscription_id)
        if subscription is None:
            fail(f"no subscription {subscription_id}; see `sahelcast alerts list`", 2)
        delivery = send_test(session, subscription, get_settings())
        status, code, error = delivery.status, delivery.response_code, delivery.last_error
    if status != "delivered":
        fail(f"test delivery failed: {error or f'HTTP {code}'}", 1)
    console.print(f"Test delivery accepted (HTTP {code}).")


@app.command("deliver")
def deliver() -> None:
    """Deliver every alert-worthy anomaly that a matching subscription has not received."""
    _ready()
    with session_scope() as session:
        summary = deliver_pending(session, get_settings())
    console.print(
        f"delivered {summary.delivered}, failed {summary.failed} (retried next time), "
        f"deferred {summary.deferred}"
    )
    if summary.failed:
        raise typer.Exit(1)
