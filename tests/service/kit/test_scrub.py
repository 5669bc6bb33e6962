"""Secrets are masked in every form a server can quote them back in, and so are their prefixes."""

from __future__ import annotations

import html
import json
import urllib.parse

import pytest

from service.kit.scrub import Scrubber, encodings, shown

PASSWORD = 'p@ss word&x/é"y+z%41-tail'  # noqa: S105 - made up, every awkward character
TOKEN = "eyJhbGciOiJIUzI1NiJ9.payload.signature-0123456789"  # noqa: S105


@pytest.mark.parametrize(
    "form",
    [
        PASSWORD,
        urllib.parse.quote(PASSWORD, safe=""),
        urllib.parse.quote(PASSWORD, safe="").lower(),
        urllib.parse.quote_plus(PASSWORD),
        json.dumps(PASSWORD)[1:-1],
        json.dumps(PASSWORD, ensure_ascii=False)[1:-1],
        json.dumps(PASSWORD)[1:-1].replace("/", "\\/"),
        repr(PASSWORD)[1:-1],
        html.escape(PASSWORD),
    ],
)
def test_every_encoding_is_masked(form: str) -> None:
    scrub = Scrubber([PASSWORD, TOKEN])
    said = f"error: bad request password={form}&x=1 Authorization: Bearer {TOKEN}"
    clean = scrub(said)
    assert form not in clean
    assert TOKEN not in clean
    assert clean.count("***") >= 2


def test_a_prefix_left_by_a_cut_is_masked() -> None:
    scrub = Scrubber([TOKEN])
    assert scrub(f"header was 'Bearer {TOKEN[:15]}...' (truncated)") == (
        "header was 'Bearer ***...' (truncated)"
    )
    assert scrub(f"ends with {TOKEN[:6]}") == "ends with ***"
    assert scrub(f"too short to tell: {TOKEN[:5]}") == f"too short to tell: {TOKEN[:5]}"


def test_an_excerpt_never_cuts_a_secret_into_view() -> None:
    scrub = Scrubber([TOKEN])
    for start in range(150, 210):  # the secret straddles the 200-character cut
        raw = ("x" * start + TOKEN + " tail").encode()
        excerpt = scrub.excerpt(raw)
        assert TOKEN[:6] not in excerpt, start
        assert len(excerpt) <= 205


def test_tokens_learnt_later_are_masked_and_encodings_are_distinct() -> None:
    scrub = Scrubber()
    assert scrub("access-12345678") == "access-12345678"
    scrub.add("access-12345678")
    scrub.add("")  # ignored
    assert scrub("Bearer access-12345678") == "Bearer ***"
    assert PASSWORD in encodings(PASSWORD)


def test_shown_cuts_before_quoting() -> None:
    assert shown("MLI1") == "'MLI1'"
    long = "9" * 10_000_000
    text = shown(long)
    assert len(text) < 100
    assert text.endswith("… (10,000,000 characters)")
