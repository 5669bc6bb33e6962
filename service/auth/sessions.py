"""Dashboard sessions: a random token in the browser's cookie, its sha256 and key in the database.

Services flush; the request that calls them commits.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth.orm import ApiKey, WebSession
from service.auth.service import Principal
from service.auth.tokens import token_sha256
from service.kit.time import utcnow

SESSION_PREFIX = "scs_"  # tells a session token from an API key (`sck_…`) at a glance


def start_session(
    session: Session, principal: Principal, lifetime: dt.timedelta, now: dt.datetime | None = None
) -> str:
    """Record a session for the key of `principal`; return the token for the cookie."""
    if principal.key_id is None:
        raise ValueError("only a signed-in key can have a session")
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = now or utcnow()
    session.add(
        WebSession(
            token_sha256=token_sha256(token),
            key_id=principal.key_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def session_principal(
    session: Session, token: str, now: dt.datetime | None = None
) -> Principal | None:
    """The key behind a live session token: not expired, key not revoked; else None."""
    if not token.startswith(SESSION_PREFIX):
        return None
    row = session.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.scope)
        .join(WebSession, WebSession.key_id == ApiKey.id)
        .where(
            WebSession.token_sha256 == token_sha256(token),
            WebSession.expires_at > (now or utcnow()),
            ApiKey.revoked_at.is_(None),
        )
    ).first()
    return Principal(row.id, row.name, row.scope) if row is not None else None


def end_session(session: Session, token: str, now: dt.datetime | None = None) -> None:
    """Forget a session token (sign out), and sweep expired sessions while at it."""
    session.execute(
        delete(WebSession).where(
            (WebSession.token_sha256 == token_sha256(token))
            | (WebSession.expires_at <= (now or utcnow()))
        )
    )
