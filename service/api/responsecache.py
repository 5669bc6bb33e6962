"""Remember encoded forecast responses per API process, keyed by the run they came from.

A published run's forecasts never change, so a response encoded once can be served again for
as long as the same run is published. Each request still resolves the publication pointer
first (a key never seen skips that and reads everything in one statement): a new
publication makes every remembered response stale at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cached:
    run_id: int
    body: bytes
    media_type: str
    headers: dict[str, str]


class ResponseCache:
    """A bounded LRU of encoded responses (`entries=0` disables it)."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._items: OrderedDict[Hashable, Cached] = OrderedDict()

    def get(self, key: Hashable) -> Cached | None:
        """The remembered response, whatever run it came from (check `run_id` before use)."""
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: Hashable, item: Cached) -> None:
        if self.entries <= 0:
            return
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self.entries:
            self._items.popitem(last=False)
