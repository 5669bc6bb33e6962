"""An in-process hook for newly created alert-worthy anomalies.

The alerts package registers a callback with `on_new_anomalies`; detection calls `emit` after
its transaction has committed. This module imports nothing from alerts, so anomalies do not
depend on who listens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from service.anomalies.schemas import AnomalyRead

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[AnomalyRead]], None]
_listeners: list[Listener] = []


def on_new_anomalies(callback: Listener) -> Listener:
    """Register `callback` (usable as a decorator); registering twice has no extra effect."""
    if callback not in _listeners:
        _listeners.append(callback)
    return callback


def remove_listener(callback: Listener) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def emit(anomalies: Sequence[AnomalyRead]) -> list[tuple[Listener, BaseException]]:
    """Hand new alert-worthy anomalies to every listener; return the listeners that failed.

    One failing listener does not stop the others; its error is logged and returned so the
    caller can record it (a failed delivery is never silently dropped).
    """
    failures: list[tuple[Listener, BaseException]] = []
    if not anomalies:
        return failures
    for listener in list(_listeners):
        try:
            listener(anomalies)
        except Exception as error:  # noqa: BLE001 - returned to the caller and logged
            log.error("anomaly listener %r failed: %s", listener, error)
            failures.append((listener, error))
    return failures
