"""Scrub secrets out of text that came from a host we do not control, and cut long values.

An API that echoes the request in an error can hand our own credentials back: the bearer token
in a quoted `Authorization` header, the password in a quoted form body (URL-encoded), a JSON
dump (escaped), an HTML page (entities), or cut short by the server's own truncation. So every
encoding is looked for, and so is any prefix of at least `SEED` characters of one: what is left
of a secret after a cut is still a secret's worth of guessing saved.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Iterable

MASK = "***"
SEED = 6  # the shortest prefix of a secret that is scrubbed (the whole secret if shorter)
EXCERPT_CHARS = 200


def encodings(secret: str) -> set[str]:
    """The forms a secret can take when a server quotes it back."""
    json_ascii = json.dumps(secret)[1:-1]
    json_utf8 = json.dumps(secret, ensure_ascii=False)[1:-1]
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),
        urllib.parse.quote_plus(secret, safe=""),
        json_ascii,
        json_utf8,
        json_ascii.replace("/", "\\/"),  # PHP's json_encode escapes slashes
        repr(secret)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    # Percent-encoding may use lower-case hex digits.
    forms |= {_lower_hex(form) for form in forms if "%" in form}
    return {form for form in forms if form}


def _lower_hex(text: str) -> str:
    parts = text.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


class Scrubber:
    """Replaces every known secret, in every encoding and any long-enough prefix, with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Learn a secret (a token obtained mid-fetch included); empty values are ignored."""
        if not secret:
            return
        known = set(self._forms) | encodings(secret)
        self._forms = sorted(known, key=len, reverse=True)  # longest first

    @property
    def longest(self) -> int:
        return len(self._forms[0]) if self._forms else 0

    def __call__(self, text: str) -> str:
        """`text` with the secrets masked."""
        for form in self._forms:
            text = _mask_prefixes(text, form)
        return text

    def excerpt(self, raw: bytes | str, limit: int = EXCERPT_CHARS) -> str:
        """The start of an upstream answer, scrubbed, whitespace folded, cut to `limit`
        characters, as a quoted literal safe for a message, a log line or a database row."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        # Scrub a window wide enough that no secret starting before the cut is split by it.
        window = self(text[: limit + 8 * max(self.longest, SEED)])
        folded = " ".join(window.split())
        cut = folded[:limit] + ("…" if len(text) > limit else "")
        return repr(cut)


def _mask_prefixes(text: str, form: str) -> str:
    seed = form[: min(len(form), SEED)]
    start = text.find(seed)
    if start < 0:
        return text
    out, done = [], 0
    while start >= 0:
        end = start + len(seed)
        while end - start < len(form) and end < len(text) and text[end] == form[end - start]:
            end += 1
        out += [text[done:start], MASK]
        done = end
        start = text.find(seed, end)
    out.append(text[done:])
    return "".join(out)


def shown(value: object, limit: int = 60) -> str:
    """A value from upstream as a quoted literal, cut to `limit` characters before quoting
    (a 10 MB id must not become a 10 MB message)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({len(text):,} characters)"
