"""The address a request came from, the one answer every limit and audit record uses.

REMOTE_ADDR is the machine that opened the connection. Behind nginx or a load balancer that is
the proxy, and the person's address is in X-Forwarded-For, a header anyone can also write
themselves. So the header is read only when the connection came from a proxy named in
TRUSTED_PROXIES, and then from the right: each trusted proxy appends the address it saw, so
the right-most entry that is not itself a trusted proxy is the client. Entries to its left
are whatever the client sent, and are never believed.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in configured)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc


def trusted_networks() -> tuple[Network, ...]:
    """TRUSTED_PROXIES parsed: addresses or CIDR ranges. A wrong entry stops the process."""
    return _networks(tuple(settings.TRUSTED_PROXIES))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    # Some proxies (Azure's Application Gateway) write the client's port too: "a.b.c.d:port"
    # and "[v6]:port". Without it stripped, every client would be taken for the proxy.
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client seen on an IPv6 socket is the same client.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy, in which case the
    right-most X-Forwarded-For entry that is not a trusted proxy. A malformed entry ends the
    walk at the last hop that can be vouched for (a trusted proxy's own address)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = trusted_networks()
    hop = _address(remote)
    if hop is None or not networks or not _trusted(hop, networks):
        return str(hop) if hop is not None else remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed([e for e in forwarded.split(",") if e.strip()]):
        address = _address(entry)
        if address is None:
            break
        hop = address
        if not _trusted(hop, networks):
            break
    return str(hop)
