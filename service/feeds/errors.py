"""What a fetch raises. Messages name the source, the page or setting, never a secret."""

from __future__ import annotations


class FeedError(Exception):
    """A fetch failed; nothing from it was written."""


class FeedConfigError(FeedError):
    """A setting is missing or wrong (the message names it)."""


class FeedAuthError(FeedError):
    """The API refused the credentials (HTTP 401/403, or a refused token grant)."""


class FeedHTTPError(FeedError):
    """The API answered with an error status, or could not be reached after retries."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FeedNotFound(FeedHTTPError):
    """HTTP 404: for UCDP, a version that is not published (yet)."""


class FeedDataError(FeedError):
    """An answer was not what the API documents: not JSON, truncated, missing columns, bad rows."""
