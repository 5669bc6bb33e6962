"""Remember verified API keys for a few seconds, so hot reads skip the key lookup.

Keyed by the token's sha256 (the token itself is not kept); only successful checks are
remembered, and a revoked key stops working once its entry expires.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from service.auth.service import Principal

MAX_ENTRIES = 4096


class KeyCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock  # seconds on a steady clock; tests move a fake one
        self._entries: dict[str, tuple[Principal, float]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def get(self, token: str) -> Principal | None:
        if self.seconds <= 0:
            return None
        entry = self._entries.get(self._key(token))
        if entry is None or entry[1] < self.clock():
            return None
        return entry[0]

    def put(self, token: str, principal: Principal) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[self._key(token)] = (principal, self.clock() + self.seconds)
