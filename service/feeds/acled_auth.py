"""ACLED's OAuth password grant: get a token, refresh it before it expires.

The password is read from its SecretStr only to build the grant's form; it is never logged,
never stored and never part of an error (a refused grant names the settings instead). The
tokens the grants hand out are secrets too: each is added to the client's scrubber as it comes,
so an answer quoting it back is masked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from service.feeds.errors import FeedAuthError, FeedDataError, FeedHTTPError
from service.feeds.http import FeedHTTP

TOKEN_PATH = "/oauth/token"
CLIENT_ID = "acled"
# Refresh this long before the token runs out, so a page request never carries a stale one.
MARGIN_SECONDS = 120.0
SETTINGS = ("SAHELCAST_ACLED_USERNAME", "SAHELCAST_ACLED_PASSWORD")
MAX_TOKEN_CHARS = 16_384  # a JWT is a few kB; more is not a token (and would be slow to scrub)


class AcledToken:
    """Hands out a valid bearer header; `clock` is monotonic seconds (injected in tests)."""

    def __init__(
        self,
        http: FeedHTTP,
        username: str,
        password: SecretStr,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.username = username
        self.password = password
        self.clock = clock
        self.access: str | None = None
        self.refresh_token: str | None = None
        self.expires_at = 0.0
        self.margin = MARGIN_SECONDS
        self.grants: list[str] = []  # "password" / "refresh", in order (for tests and logs)

    def header(self) -> dict[str, str]:
        """`Authorization: Bearer …`, getting or refreshing the token first when needed."""
        if self.access is None:
            self._grant("password")
        elif self.clock() >= self.expires_at - self.margin:
            self._grant("refresh" if self.refresh_token else "password")
        return {"Authorization": f"Bearer {self.access}"}

    def invalidate(self) -> None:
        """Forget the access token (the API refused it): the next header() gets a new one."""
        self.expires_at = 0.0

    def _grant(self, kind: str) -> None:
        if kind == "refresh":
            form = {
                "refresh_token": self.refresh_token or "",
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
            }
        else:
            form = {
                "username": self.username,
                "password": self.password.get_secret_value(),
                "grant_type": "password",
                "client_id": CLIENT_ID,
            }
        try:
            answer = self.http.post_form(TOKEN_PATH, what=f"token ({kind} grant)", data=form)
        except FeedHTTPError as error:
            if kind == "refresh" and error.status in (400, 401):
                # A refresh token can lapse or be revoked: fall back to the password once.
                self.refresh_token = None
                self._grant("password")
                return
            if error.status in (400, 401, 403):
                # OAuth answers a bad password with 400 invalid_grant; its body is not quoted.
                raise FeedAuthError(
                    f"ACLED refused the login (HTTP {error.status}): check {' and '.join(SETTINGS)}"
                ) from None
            raise
        except FeedAuthError:
            if kind == "refresh":
                self.refresh_token = None
                self._grant("password")
                return
            raise
        self._take(answer.body)
        self.grants.append(kind)

    def _take(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise FeedDataError("ACLED token answer: no `access_token` in it")
        try:
            lifetime = float(body.get("expires_in", 0))
        except (TypeError, ValueError):
            raise FeedDataError("ACLED token answer: `expires_in` is not a number") from None
        if len(body["access_token"]) > MAX_TOKEN_CHARS:
            raise FeedDataError(
                f"ACLED token answer: the access token is longer than "
                f"{MAX_TOKEN_CHARS:,} characters; not a token"
            )
        self.access = body["access_token"]
        refresh = body.get("refresh_token")
        if isinstance(refresh, str) and len(refresh) > MAX_TOKEN_CHARS:
            refresh = None  # unusable: the password grant is used again when needed
        self.http.scrub.add(self.access)
        self.http.scrub.add(refresh if isinstance(refresh, str) else None)
        self.refresh_token = refresh if isinstance(refresh, str) and refresh else None
        self.expires_at = self.clock() + lifetime
        self.margin = min(MARGIN_SECONDS, lifetime / 4)  # short-lived tokens are used a while
