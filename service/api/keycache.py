"""Remember verified API keys for a few seconds, so hot reads skip the key lookup.

Keyed by the token's sha256 (the token itself is not kept); only successful checks are
remembered, and a revoked key stops working once its entry expires.
"""

from __future__ import annotations

import hashlib
import time

from service.auth.service import Principal

MAX_ENTRIES = 4096


class KeyCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[Principal, float]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    def get(self, token: str) -> Principal | None:
        if self.seconds <= 0:
            return None
        entry = self._entries.get(self._key(token))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, token: str, principal: Principal) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[self._key(token)] = (principal, time.monotonic() + self.seconds)
