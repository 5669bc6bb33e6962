"""API key scopes (no heavy imports: the CLI's choices use them)."""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal["read", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
