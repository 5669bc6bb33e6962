"""Where webhooks may go: no private, loopback or link-local addresses unless allowed."""

from __future__ import annotations

import pytest

from service.alerts.urls import UnsafeUrl, allow_listed, check_url
from service.config import Settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        # IPv6 forms that embed a private IPv4 address
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254 (cloud metadata)
        "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",  # Teredo, client 10.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 (RFC 6052) of 10.0.0.1
        "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
        "http://[64:ff9b:1::a9fe:a9fe]/",  # local-use NAT64 (RFC 8215) of 169.254.169.254
        "http://[::ffff:a00:1]/",  # IPv4-mapped 10.0.0.1, hex form
        "http://[::10.0.0.1]/",  # IPv4-compatible (deprecated) 10.0.0.1
        "http://[::127.0.0.1]/",
    ],
)
def test_private_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="private, loopback or link-local"):
        check_url(url, Settings(database_url="sqlite://"))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "file:///etc/passwd",
        "gopher://x/",
        "http:///nohost",
        "http://user:pw@example.org/",
        "not a url",
        "http://example.org:99999/",
    ],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, Settings(database_url="sqlite://"))


def test_unresolvable_hosts_are_refused() -> None:
    with pytest.raises(UnsafeUrl, match="cannot resolve"):
        check_url("https://no-such-host.invalid/hook", Settings(database_url="sqlite://"))


def test_public_addresses_are_pinned() -> None:
    target = check_url("https://93.184.215.14:8443/a?b=1", Settings(database_url="sqlite://"))
    assert target.url == "https://93.184.215.14:8443/a?b=1"
    assert target.address == "93.184.215.14"
    assert target.host_header == "93.184.215.14:8443"


def test_allow_list_and_private_opt_in() -> None:
    assert allow_listed("hooks.example.org", (".example.org",))
    assert allow_listed("example.org", (".example.org",))
    assert not allow_listed("badexample.org", (".example.org",))
    assert allow_listed("localhost", ("localhost",))
    assert not allow_listed("localhost", ())
    listed = Settings(database_url="sqlite://", webhook_allowed_hosts=("localhost",))
    target = check_url("http://localhost:9000/x", listed)
    assert target.host_header == "localhost:9000"
    assert target.address in ("127.0.0.1", "::1")
    opted_in = Settings(database_url="sqlite://", webhook_allow_private=True)
    assert check_url("http://127.0.0.1:1/", opted_in).address == "127.0.0.1"


def test_production_refuses_private_opt_in() -> None:
    with pytest.raises(ValueError, match="refused in production"):
        Settings(database_url="sqlite://", environment="production", webhook_allow_private=True)
    Settings(database_url="sqlite://", environment="production", public_read=True)


@pytest.mark.parametrize(
    "url",
    ["http://[2002:5db8:d70e::1]/", "http://[64:ff9b::5db8:d70e]/"],  # 93.184.215.14 inside
)
def test_ipv6_forms_embedding_a_public_ipv4_are_accepted(url: str) -> None:
    assert check_url(url, Settings(database_url="sqlite://")).url.startswith("http://[")
