"""Who is looking at the dashboard: a sign-in session kept in a cookie, checked on each request.

The page follows the API's read setting: with `SAHELCAST_PUBLIC_READ=false` it needs a `read`
(or `admin`) key, given once in a sign-in form. The browser then keeps only a random session
token (HttpOnly, SameSite=Strict, and Secure when the public scheme is https); the database keeps
its sha256 and the key it stands for, so signing out, expiry or revoking the key ends it.
Acknowledging an anomaly needs an `admin` key, checked afresh on every acknowledgement.

Behind a TLS-terminating proxy the app sees plain http: the proxy's `X-Forwarded-Proto` and
`X-Forwarded-Host` are believed only when the connection comes from an address listed in
`SAHELCAST_TRUSTED_PROXIES`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy.orm import Session

from service.api.keycache import KeyCache
from service.auth.service import Principal, authenticate
from service.auth.sessions import end_session, session_principal, start_session
from service.config import Settings

COOKIE = "sahelcast_session"
OLD_COOKIE = "sahelcast_key"  # held the raw key before sessions; removed when seen
COOKIE_DAYS = 7
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Viewer:
    """The dashboard's caller: a verified key (or none), and what the settings let it see."""

    principal: Principal | None
    public_read: bool
    bad_key: bool = False  # a cookie was sent but its session is over or its key revoked

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


def viewer(request: Request, session: Session) -> Viewer:
    """The caller of this request, from its session cookie (checked in the database)."""
    public = bool(request.app.state.settings.public_read)
    token = request.cookies.get(COOKIE)
    if not token:
        return Viewer(None, public)
    principal = session_principal(session, token)
    return Viewer(principal, public, bad_key=principal is None)


def _trusted(request: Request, settings: Settings) -> bool:
    if not settings.trusted_proxies or request.client is None:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.trusted_proxies)


def _forwarded(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    if not value:
        return None
    # Proxies append: the last value is the one our (trusted) proxy wrote.
    return value.split(",")[-1].strip() or None


def public_origin(request: Request) -> tuple[str, str]:
    """The scheme and host the browser used: the proxy's word if trusted, else this request's."""
    settings: Settings = request.app.state.settings
    scheme, host = request.url.scheme, request.headers.get("host") or request.url.netloc
    if _trusted(request, settings):
        proto = _forwarded(request, "x-forwarded-proto")
        if proto in ("http", "https"):
            scheme = proto
        host = _forwarded(request, "x-forwarded-host") or host
    return scheme, _without_default_port(scheme, host.lower())


def _without_default_port(scheme: str, host: str) -> str:
    name, _, port = host.rpartition(":")
    if name and not name.endswith("]") and ":" in name:  # a bare IPv6 address, no port
        return host
    if name and port == str(_DEFAULT_PORTS.get(scheme)):
        return name
    return host


def sign_in(request: Request, response: Response, session: Session, principal: Principal) -> None:
    """Start a session for `principal` and give this browser its cookie."""
    token = start_session(session, principal, dt.timedelta(days=COOKIE_DAYS))
    scheme, _ = public_origin(request)
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=scheme == "https",
        path="/",
    )
    if OLD_COOKIE in request.cookies:
        response.delete_cookie(OLD_COOKIE, path="/", httponly=True, samesite="strict")


def sign_out(request: Request, response: Response, session: Session) -> None:
    """End this browser's session in the database and drop its cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        end_session(session, token)
    scheme, _ = public_origin(request)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=scheme == "https"
    )
    if OLD_COOKIE in request.cookies:
        response.delete_cookie(OLD_COOKIE, path="/", httponly=True, samesite="strict")


def same_origin(request: Request) -> bool:
    """Whether a form post comes from this site: same scheme and host as the public origin.

    A browser sends Origin on every POST; without the header it is not a browser form (curl,
    tests), and "null" (a sandboxed or privacy-stripped context) is refused.
    """
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    return (scheme, _without_default_port(scheme, parts.netloc.lower())) == public_origin(request)


def local_path(target: str | None) -> str:
    """A redirect target that stays on this site: a path, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
