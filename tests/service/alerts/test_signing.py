"""Webhook signatures over `timestamp.body`, as a receiver verifies them."""

from __future__ import annotations

from service.alerts.signing import new_secret, signature_header, verify


def test_signature_round_trip_and_tampering() -> None:
    secret, body = new_secret(), b'{"a":1}'
    header = signature_header(secret, 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert len(header.split("v1=")[1]) == 64
    assert verify(secret, header, body, now=1_700_000_010)
    assert not verify(secret, header, b'{"a":2}', now=1_700_000_010)
    assert not verify(new_secret(), header, body, now=1_700_000_010)
    assert not verify(secret, header, body, now=1_700_000_000 + 3600)  # replayed later
    assert not verify(secret, "garbage", body, now=1_700_000_000)
    tampered = header.replace("t=1700000000", "t=1700000001")
    assert not verify(secret, tampered, body, now=1_700_000_010)
