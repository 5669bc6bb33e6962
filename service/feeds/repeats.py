"""Stop a pager that serves a page again: pages A, B, A, B… never end by themselves."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from service.feeds.errors import FeedDataError


class Repeats:
    """Remembers a digest of each page's rows; a page seen before is an endless pager."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen: dict[str, int] = {}

    def check(self, rows: list[dict[str, Any]], page: int, label: str) -> None:
        """Raise FeedDataError if `rows` (page `page`) came before; an empty page never did."""
        if not rows:
            return
        digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
        if digest in self.seen:
            raise FeedDataError(
                f"{self.source} {label}: the same rows as page {self.seen[digest]}; the API "
                "seems to ignore `page` (an endless pager), nothing was written"
            )
        self.seen[digest] = page
