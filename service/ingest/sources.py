"""The data providers sahelcast reads (no heavy imports: the CLI's choices use them)."""

from __future__ import annotations

from typing import Literal, get_args

Source = Literal["acled", "ucdp"]
SOURCES: tuple[Source, ...] = get_args(Source)
