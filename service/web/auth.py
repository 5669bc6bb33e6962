"""Who is looking at the dashboard: the API key kept in a cookie, checked like the API's keys.

The page follows the API's read setting: with `SAHELCAST_PUBLIC_READ=false` it needs a `read`
(or `admin`) key, given once in a sign-in form and kept in an HttpOnly, SameSite=Strict cookie.
Acknowledging an anomaly needs an `admin` key, checked afresh on every acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy.orm import Session

from service.api.keycache import KeyCache
from service.auth.service import Principal, authenticate

COOKIE = "sahelcast_key"
COOKIE_DAYS = 7


@dataclass(frozen=True)
class Viewer:
    """The dashboard's caller: a verified key (or none), and what the settings let it see."""

    principal: Principal | None
    public_read: bool
    bad_key: bool = False  # a cookie was sent but its key is invalid or revoked

    @property
    def can_read(self) -> bool:
        return self.principal is not None or self.public_read

    @property
    def can_acknowledge(self) -> bool:
        return self.principal is not None and self.principal.allows("admin")


def check_key(request: Request, session: Session, token: str, *, cached: bool) -> Principal | None:
    """The principal of `token`, via the API's short-lived key cache when `cached`."""
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cached and cache is not None:
        known = cache.get(token)
        if known is not None:
            return known
    principal = authenticate(session, token)
    if principal is not None and cache is not None:
        cache.put(token, principal)
    return principal


def viewer(request: Request, session: Session, *, fresh: bool = False) -> Viewer:
    """The caller of this request; `fresh` re-checks the key in the database (for writes)."""
    public = bool(request.app.state.settings.public_read)
    token = request.cookies.get(COOKIE)
    if not token:
        return Viewer(None, public)
    principal = check_key(request, session, token, cached=not fresh)
    return Viewer(principal, public, bad_key=principal is None)


def remember_key(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def forget_key(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def same_origin(request: Request) -> bool:
    """Whether a form post comes from this site (a browser sends Origin on every POST)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None  # no header: not a browser form (curl, tests); "null": refuse
    # The host only: behind a TLS-terminating proxy the scheme seen here is http.
    return urlsplit(origin).netloc == request.url.netloc


def local_path(target: str | None) -> str:
    """A redirect target that stays on this site: a path, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
