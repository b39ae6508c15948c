"""Client addresses behind proxies, and the IP allowlist."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from dermifi.core.config import IpNetwork
from dermifi.core.context import client_ip_var
from dermifi.core.errors import IpNotAllowed, render

UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a placeholder, never bound


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def in_networks(address: str, networks: Sequence[IpNetwork]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: Sequence[IpNetwork]) -> str:
    """The client's address. ``X-Forwarded-For`` counts only when the peer is a trusted proxy,
    and then only its rightmost hop that is not itself a trusted proxy (the rest is spoofable)."""
    peer_addr = _parse(peer) if peer else None
    if peer_addr is None:
        return UNKNOWN_ADDRESS
    if not forwarded_for or not any(peer_addr in net for net in trusted):
        return str(peer_addr)
    for hop in reversed([h for h in forwarded_for.split(",") if h.strip()]):
        hop_addr = _parse(hop)
        if hop_addr is None:
            break  # garbage in the chain: trust nothing to the left of it
        if not any(hop_addr in net for net in trusted):
            return str(hop_addr)
    return str(peer_addr)


def is_allowed(address: str, allowlist: Sequence[IpNetwork]) -> bool:
    """An empty allowlist is open (development); otherwise the address must be inside it."""
    return not allowlist or in_networks(address, allowlist)


def scope_header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class ClientAddressMiddleware:
    """Resolves the client address once per request, for the limiter, the allowlist and audit."""

    def __init__(self, app: ASGIApp, *, trusted: Sequence[IpNetwork]) -> None:
        self.app = app
        self.trusted = list(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer = scope["client"][0] if scope.get("client") else None
            address = client_address(peer, scope_header(scope, b"x-forwarded-for"), self.trusted)
            client_ip_var.set(address)
            scope.setdefault("state", {})["client_ip"] = address
        await self.app(scope, receive, send)


class IpAllowlistMiddleware:
    """The deployment-wide allowlist, enforced before any route runs (each practice's own list
    is enforced once the caller is known, in authentication)."""

    def __init__(self, app: ASGIApp, *, allowlist: Sequence[IpNetwork],
                 open_paths: Sequence[str] = ()) -> None:
        self.app = app
        self.allowlist = list(allowlist)
        self.open_paths = set(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["path"] not in self.open_paths
                and not is_allowed(client_ip_var.get() or UNKNOWN_ADDRESS, self.allowlist)):
            await render(IpNotAllowed())(scope, receive, send)
            return
        await self.app(scope, receive, send)


def cidrs_allow(cidrs: Sequence[str], address: str) -> bool:
    """``is_allowed`` for a list of CIDR strings as stored (e.g. a practice's allowlist)."""
    return is_allowed(address, [ipaddress.ip_network(c, strict=False) for c in cidrs])
