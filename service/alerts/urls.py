"""Where a webhook may point: allow-listed hosts, or hosts that resolve to public addresses.

The address is checked after DNS resolution and the connection is pinned to that checked
address, so a name that re-resolves to an internal address (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The webhook URL is malformed, unresolvable, or points where webhooks may not go."""


@dataclass(frozen=True)
class Target:
    """A checked webhook: the URL to request (host replaced by the pinned address) and the
    original host for the `Host` header and TLS server name."""

    url: str
    host: str
    host_header: str
    address: str


def allow_listed(host: str, allowed: tuple[str, ...]) -> bool:
    """`example.org` allows exactly that host; `.example.org` also allows its subdomains."""
    for entry in allowed:
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


# IPv6 prefixes whose addresses carry an IPv4 address in their low 32 bits (NAT64, RFC 6052
# and RFC 8215): a translator on the path turns them into connections to that IPv4 address.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for: mapped, compatible, 6to4, Teredo, NAT64.

    Each of these forms can end up as a connection to the IPv4 address inside it, so the
    address is only as public as every IPv4 address it embeds.
    """
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client): both are reachable through it
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in _NAT64):
        found.append(low32)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: nor ::1
        found.append(low32)
    return found


def is_public(address: IPAddress) -> bool:
    """Whether `address` (and any IPv4 address it embeds) is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded:
            return all(is_public(inner) for inner in embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def parse(url: str) -> tuple[str, str, int, str]:
    """Return `(scheme, host, port, path_and_query)` of an absolute http(s) URL, or raise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"not a valid URL: {error}") from error
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("the URL must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL must not carry a user name or password")
    host = parts.hostname.lower().rstrip(".")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeUrl(f"cannot resolve host {host!r}: {error}") from error
    addresses = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        raise UnsafeUrl(f"host {host!r} has no address")
    return addresses


def check_url(url: str, settings: Settings) -> Target:
    """Resolve and check a webhook URL; raise UnsafeUrl if it may not be called."""
    scheme, host, port, path = parse(url)
    addresses = _resolve(host, port)
    trusted = allow_listed(host, settings.webhook_allowed_hosts) or settings.webhook_allow_private
    if not trusted:
        refused = [str(a) for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeUrl(
                f"host {host!r} resolves to a private, loopback or link-local address "
                f"({', '.join(refused)}); webhooks may only reach public addresses unless the "
                "host is in SAHELCAST_WEBHOOK_ALLOWED_HOSTS"
            )
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    default = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
    host_header = host if default else f"{host}:{port}"
    return Target(f"{scheme}://{literal}:{port}{path}", host, host_header, str(address))
