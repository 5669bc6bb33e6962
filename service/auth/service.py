"""Create, list, revoke and check API keys (services flush; the caller commits)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from service.auth.orm import ApiKey
from service.auth.scopes import SCOPES, Scope
from service.auth.tokens import matches, new_token, token_prefix, token_sha256
from service.kit.time import utcnow

_NO_HASH = "0" * 64


@dataclass(frozen=True)
class Principal:
    """Who made a request: a key's id, name and scope (an anonymous public reader has id None)."""

    key_id: int | None
    name: str
    scope: Scope

    def allows(self, needed: Scope) -> bool:
        return self.scope == "admin" or needed == "read"


def create_key(session: Session, name: str, scope: Scope) -> tuple[ApiKey, str]:
    """Create a key and return it with its token (the only time the token exists)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    prefix, token = new_token()
    key = ApiKey(prefix=prefix, token_sha256=token_sha256(token), name=name, scope=scope)
    session.add(key)
    session.flush()
    return key, token


def list_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: int) -> ApiKey | None:
    """Revoke a key (idempotent); return None if there is no such key."""
    key = session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def authenticate(session: Session | Connection, token: str) -> Principal | None:
    """Return the principal of a valid, unrevoked token, or None."""
    prefix = token_prefix(token)
    if prefix is None:
        return None
    row = session.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.scope, ApiKey.token_sha256, ApiKey.revoked_at).where(
            ApiKey.prefix == prefix
        )
    ).first()
    # Compare even when the prefix is unknown, so timing tells nothing about the secret part.
    valid = matches(token, row.token_sha256 if row is not None else _NO_HASH)
    if row is None or not valid or row.revoked_at is not None:
        return None
    return Principal(row.id, row.name, row.scope)
