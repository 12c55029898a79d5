"""The client's address, taken from ``X-Forwarded-For`` only when our own proxy sent it.

Behind nginx every connection comes from the proxy, so ``REMOTE_ADDR`` alone would put
every patient in one rate-limit bucket and let one person lock out a manager. The header
is trusted only as far as the chain of trusted proxies reaches: we walk it from the right
(the hop our proxy appended) and stop at the first address that is not one of ours, so
whatever a client writes into the header itself is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The address the socket saw, kept for logs and health checks that care about the hop.
PEER_META_KEY = "medchina.peer_addr"


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    networks = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"MEDCHINA_TRUSTED_PROXIES: {value!r} is not an address or network"
            ) from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:1234" from some proxies
        value = value[1 : value.index("]")]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket: count it as the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve_client_address(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The first address, from the right, that is not one of our proxies."""
    current = _address(peer)
    if current is None:
        return peer
    if not _trusted(current, networks) or not forwarded_for:
        return str(current)
    for hop in reversed(forwarded_for.split(",")):
        candidate = _address(hop)
        if candidate is None:
            # Garbage in the chain: the last address we could trust is the answer.
            break
        current = candidate
        if not _trusted(current, networks):
            break
    return str(current)


class TrustedProxyMiddleware:
    """Rewrite ``REMOTE_ADDR`` to the real client before anything reads it.

    Rate limits (django-ratelimit's ``ip`` key), django-axes and the audit log all read
    ``REMOTE_ADDR``, so fixing it once here fixes all three. It must come first in
    ``MIDDLEWARE``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Fail at start-up, not on the first request, when the setting is malformed.
        parse_networks(settings.MEDCHINA_TRUSTED_PROXIES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        request.META[PEER_META_KEY] = peer
        networks = _networks(tuple(settings.MEDCHINA_TRUSTED_PROXIES))
        if networks:
            request.META["REMOTE_ADDR"] = resolve_client_address(
                peer, request.META.get("HTTP_X_FORWARDED_FOR", ""), networks
            )
        return self.get_response(request)


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address as our middleware resolved it (used by axes and the audit)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
