"""API tokens: `sck_<prefix>_<secret>`, found by prefix, verified by sha256 in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "sck"
PREFIX_BYTES = 6  # 12 hex characters: the public id used to find the key
SECRET_BYTES = 32  # 256 bits of entropy, so a plain sha256 is enough (no slow hash needed)


def new_token() -> tuple[str, str]:
    """Return a fresh `(prefix, token)`; the token is shown once and never stored."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token, or None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 2 * PREFIX_BYTES:
        return None
    return parts[1]


def matches(token: str, stored_sha256: str) -> bool:
    """Compare a presented token with a stored hash in constant time."""
    return hmac.compare_digest(token_sha256(token), stored_sha256)
