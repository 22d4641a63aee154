"""Where hubtool may download from: one place for scheme, host, address and size rules.

Every URL, including every redirect hop, passes `check_url` before a request is
sent.  Host names are resolved and every address must be public, unless the
hub's policy lists the address (or its range) explicitly: tests allow
127.0.0.1, real hubs never need to.  The downloader connects to the address
the check returns (`CheckedURL.address`, see `connect.py`), so a DNS answer that
changes between the check and the connection (DNS rebinding) is never used.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..config import Policy
from ..errors import PolicyError, TransferError


@dataclass(frozen=True)
class CheckedURL:
    url: str
    scheme: str
    host: str
    port: int
    address: str | None = None  # the checked address to connect to (None when not resolved)


def _address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: Policy) -> bool:
    if ip.is_global and not (ip.is_multicast or ip.is_reserved):
        return True
    for allowed in policy.allow_private:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_url(url: str, policy: Policy, *, resolve: bool = True) -> CheckedURL:
    """Refuse (PolicyError) a URL the hub's policy does not allow; say which rule and why."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - raises on malformed IPv6 brackets
    except ValueError as exc:
        raise PolicyError(f"{url!r}: not a valid URL ({exc})", url=url) from exc
    scheme = parts.scheme.lower()
    if scheme not in policy.allowed_schemes:
        raise PolicyError(f"{url}: scheme '{scheme or '(none)'}' is not allowed "
                          f"(allowed: {', '.join(policy.allowed_schemes)})", url=url,
                          hint="assets must be fetched over https")
    if parts.username or parts.password:
        raise PolicyError(f"{url}: credentials in URLs are not allowed", url=url)
    host = (parts.hostname or "").lower()
    if not host:
        raise PolicyError(f"{url}: no host", url=url)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise PolicyError(f"{url}: bad port", url=url) from exc
    if policy.allowed_hosts and not policy.allows_host(host):
        raise PolicyError(f"{url}: host '{host}' is not on the hub's allow-list", url=url,
                          hint="add it to policy.allowed-hosts in hub/hub.yaml if it is trusted")
    if not resolve:
        return CheckedURL(url, scheme, host, port)
    addresses = _addresses(host, port, url)
    for ip in addresses:
        if not _address_allowed(ip, policy):
            raise PolicyError(f"{url}: host '{host}' resolves to {ip}, a private, loopback or "
                              "link-local address", url=url,
                              hint="only public addresses are fetched unless "
                                   "policy.allow-private-addresses lists the address")
    if not addresses:
        raise TransferError(f"{url}: host '{host}' has no address", url=url)
    return CheckedURL(url, scheme, host, port, str(addresses[0]))


def _addresses(host: str, port: int, url: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransferError(f"{url}: cannot resolve host '{host}': {exc}", url=url) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def redirect_target(current: str, location: str) -> str:
    """The absolute URL a redirect points to."""
    return urljoin(current, location)
