"""The README tells receivers how to check a signature; what it says must be what we send."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

from service.alerts.signing import new_secret, signature_header, verify

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_recipe_verifies_a_real_signature() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "keyed with the **whole** secret as printed (`whsec_` prefix included" in text
    assert "lower-case hex" in text
    recipe = re.search(r"A receiver recomputes it in Python with `([^`]+)`", text)
    assert recipe is not None, "the README must show the receiver's computation"
    secret, t, body = new_secret(), 1_800_000_000, b'{"text":"caf\xc3\xa9 & <b>"}'
    header = signature_header(secret, t, body)
    digest = eval(
        recipe[1],
        {"hmac": hmac, "hashlib": hashlib},  # noqa: S307 - our own docs
        {"secret": secret, "t": t, "body": body},
    )
    assert header == f"t={t},v1={digest}"
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert verify(secret, header, body, now=t)
    # Keyed without the prefix, as a receiver might guess, it does not match.
    bare = hmac.new(
        secret.removeprefix("whsec_").encode(), f"{t}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert bare != digest
