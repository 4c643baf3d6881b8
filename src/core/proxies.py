"""Trusted reverse proxies: which peers may say who the client is.

Behind a reverse proxy every request comes from the proxy's address, so per-address limits
would count the whole province as one client. The proxies listed in
``Settings.forwarded_allow`` are believed: from them hypercorn's own ``ProxyFixMiddleware``
takes the client address, scheme and host from the ``X-Forwarded-*`` headers, the values the
last ``Settings.proxy_hops`` proxies added (what the client sent itself comes before those and
is never read). From any other peer the headers are ignored and the peer is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from hypercorn.middleware import ProxyFixMiddleware

from khaibao.core.settings import Settings

__all__ = ["behind_proxies"]

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def behind_proxies(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` reading the client from the forwarded headers of trusted proxies only."""
    if not settings.forwarded_allow:
        return app
    networks = tuple(ipaddress.ip_network(n) for n in settings.forwarded_allow)
    forwarded = ProxyFixMiddleware(app, mode="legacy", trusted_hops=settings.proxy_hops)

    @lru_cache(maxsize=256)
    def trusted(peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in networks)

    async def proxied(scope: Any, receive: Any, send: Any) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and trusted(peer[0]):
            await forwarded(scope, receive, send)
        else:
            await app(scope, receive, send)

    return proxied
