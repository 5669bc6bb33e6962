"""Deliver alerts as soon as detection commits new anomalies (the in-process hook).

The hook is a shortcut, not the guarantee: it runs `deliver_pending`, which also retries
anything an earlier round failed to deliver, and `sahelcast alerts deliver` (or a job step)
does the same if the hook never ran.

It runs after detection committed (and after the ingest or fetch before it), holds no database
transaction while webhooks answer (the round's reads end before the first POST), and is bounded
by SAHELCAST_WEBHOOK_ROUND_SECONDS. A failed delivery is the receiver's trouble, not the
command's: it is recorded (`sahelcast alerts deliveries`), retried next round and reported as a
warning; the ingest or detection whose data landed still succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from service.alerts.digest import deliver_digest
from service.alerts.service import deliver_pending
from service.anomalies.events import on_new_anomalies
from service.anomalies.schemas import AnomalyRead
from service.config import get_settings
from service.db import get_engine, session_scope
from service.kit.time import utcnow

log = logging.getLogger(__name__)


def deliver_new(anomalies: Sequence[AnomalyRead]) -> None:
    """Listener: deliver everything pending, the anomalies just found included."""
    settings = get_settings()
    with session_scope(get_engine()) as session:
        summary = deliver_pending(session, settings, release=session.commit)
    # This week's digest, once per subscription (a later call in the week sends nothing).
    with session_scope(get_engine()) as session:
        digest = deliver_digest(session, settings, now=utcnow(), release=session.commit)
    log.info("weekly digest: %s", digest.to_dict())
    log.info("alerts after %d new anomalies: %s", len(anomalies), summary.to_dict())
    if summary.failed or summary.deferred:
        log.warning(
            "alerts: %d delivered, %d failed, %d deferred; they are recorded and retried next "
            "round (`sahelcast alerts deliver` retries now)",
            summary.delivered,
            summary.failed,
            summary.deferred,
        )


def register() -> None:
    """Listen for new anomalies in this process (idempotent).

    Call it where detection runs in production (the scheduler, `sahelcast detect`); it is not
    done on import, so importing the CLI never makes other code deliver webhooks.
    """
    on_new_anomalies(deliver_new)
