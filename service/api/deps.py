"""Request dependencies: the session that owns the transaction, the settings, the caller's key.

They run on the event loop (no thread-pool hop): opening a session does no I/O and the key
check is one indexed lookup, usually answered from a short-lived in-process cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from service.api.keycache import KeyCache
from service.api.problems import ProblemError
from service.auth.service import Principal, authenticate
from service.config import Settings
from service.db import committing

API_KEY_HEADER = "x-api-key"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sahelcast"'}
PUBLIC = Principal(None, "public", "read")


@contextmanager
def read_connection(request: Request) -> Iterator[Connection]:
    """A pooled connection without a transaction, for hot one-statement reads."""
    with request.app.state.read_engine.connect() as connection:
        yield connection


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request: committed when the handler succeeds, rolled back otherwise."""
    with committing(request.app.state.sessions()) as session:
        yield session


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


# scope="function": commit before the response is sent, so a failed commit is never reported as OK.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def presented_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, else of `X-API-Key: <token>`.

    An `Authorization` header that is not a bearer token is refused rather than ignored, so a
    client never silently falls back to another credential.
    """
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                401,
                "The Authorization header must be `Bearer <token>`.",
                slug="invalid-key",
                headers=_CHALLENGE,
            )
        return token.strip()
    return request.headers.get(API_KEY_HEADER) or None


def _principal(request: Request, db: Session | Connection, *, cached: bool) -> Principal | None:
    token = presented_token(request)
    if token is None:
        return None
    cache: KeyCache = request.app.state.key_cache
    principal = cache.get(token) if cached else None
    if principal is None:
        principal = authenticate(db, token)
        if principal is None:
            raise ProblemError(
                401, "The API key is invalid or revoked.", slug="invalid-key", headers=_CHALLENGE
            )
        cache.put(token, principal)
    return principal


def authorize_read(request: Request, db: Session | Connection) -> Principal:
    """Allow a `read` or `admin` key, or anyone when reads are public."""
    principal = _principal(request, db, cached=True)
    if principal is not None:
        return principal
    if request.app.state.settings.public_read:
        return PUBLIC
    raise ProblemError(
        401,
        "This needs an API key: `Authorization: Bearer <token>` or `X-API-Key: <token>`.",
        slug="missing-key",
        headers=_CHALLENGE,
    )


async def require_read(request: Request, session: SessionDep) -> Principal:
    """Allow a `read` or `admin` key, or anyone when reads are public."""
    return authorize_read(request, session)


def admin_principal(request: Request, db: Session | Connection) -> Principal:
    """Allow only an `admin` key, checked afresh; raise the 401 or 403 problem otherwise."""
    principal = _principal(request, db, cached=False)
    if principal is None:
        raise ProblemError(
            401, "This needs an admin API key.", slug="missing-key", headers=_CHALLENGE
        )
    if not principal.allows("admin"):
        raise ProblemError(
            403, "This needs an API key with the `admin` scope.", slug="insufficient-scope"
        )
    return principal


async def require_admin(request: Request, session: SessionDep) -> Principal:
    """Allow only an `admin` key (writes are never public; the key is checked afresh)."""
    return admin_principal(request, session)


ReadDep = Annotated[Principal, Depends(require_read)]
AdminDep = Annotated[Principal, Depends(require_admin)]
# OpenAPI security of routes that check keys themselves (see app._openapi).
READ_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
