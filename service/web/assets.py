"""The dashboard's templates and static files, with content-hashed URLs for the static ones.

The hash is taken once per process from the shipped files, so a new version of a file gets
a new URL and a browser's cached copy is never stale.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
CACHE_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}


def path(name: str) -> Path | None:
    """The static file called `name`, if it is one we ship (nothing else is served)."""
    return _files().get(name)


def media_type(name: str) -> str:
    return MEDIA_TYPES[Path(name).suffix]


def url(name: str) -> str:
    """The versioned URL of a static file, e.g. `/web/assets/dashboard.css?v=1a2b3c4d5e`."""
    return f"/web/assets/{name}?v={_digests()[name]}"


@functools.cache
def _files() -> dict[str, Path]:
    return {p.name: p for p in STATIC.iterdir() if p.is_file() and p.suffix in MEDIA_TYPES}


@functools.cache
def _digests() -> dict[str, str]:
    return {name: hashlib.sha256(p.read_bytes()).hexdigest()[:10] for name, p in _files().items()}
