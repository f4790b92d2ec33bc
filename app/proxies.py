"""The client's real address and scheme behind the operator's reverse proxies (`TRUSTED_PROXIES`).

`X-Forwarded-For` is written by whoever sends the request, so it is believed only when the connection
comes from one of the listed proxies; then werkzeug's `ProxyFix` takes the address that proxy saw,
walking back through any further listed proxies in the chain. With no proxy listed (the default) no
forwarded header is believed, and the address is the connection's own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address() -> str:
    """The client's address (behind a listed proxy, the one it saw): what per-address budgets count by."""
    return request.remote_addr or "unknown"


def parse_networks(setting: str) -> list[Network]:
    """`TRUSTED_PROXIES`: addresses or networks (`10.0.0.5`, `10.0.0.0/8`, `::1`), comma-separated."""
    networks = []
    for item in filter(None, (part.strip() for part in setting.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise RuntimeError(f"TRUSTED_PROXIES: {item!r} is not an IP address or network.") from error
    return networks


def is_listed(address: str | None, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


class TrustedProxies:
    """WSGI middleware: `ProxyFix` for requests that come through a listed proxy, nothing for the rest."""

    def __init__(self, app: Any, networks: list[Network]) -> None:
        self.app = app
        self.networks = networks
        self._fixers: dict[int, ProxyFix] = {}

    def hops(self, forwarded_for: str) -> int:
        """How many `X-Forwarded-For` entries, from the right, were written by listed proxies."""
        entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
        count = 1  # the entry the proxy we are talking to wrote
        while count < len(entries) and is_listed(entries[-count], self.networks):
            count += 1
        return min(count, len(entries))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not is_listed(environ.get("REMOTE_ADDR"), self.networks):
            return self.app(environ, start_response)
        hops = self.hops(environ.get("HTTP_X_FORWARDED_FOR", "")) or 1
        if hops not in self._fixers:
            self._fixers[hops] = ProxyFix(self.app, x_for=hops, x_proto=1, x_host=1, x_port=1, x_prefix=1)
        return self._fixers[hops](environ, start_response)


def trust_proxies(wsgi_app: Any, setting: str) -> Any:
    """`wsgi_app` behind the proxies `setting` lists; unchanged when it lists none."""
    networks = parse_networks(setting)
    return TrustedProxies(wsgi_app, networks) if networks else wsgi_app
