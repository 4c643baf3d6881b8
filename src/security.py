"""Security headers on every response: strict CSP and friends.

No inline script or style is allowed anywhere; pages load ``/static`` files only.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def security_headers(https: bool):
    """A ``before_send`` hook adding the security headers to every response — also those
    Litestar answers before routing (404, 405) — with HSTS only on https."""
    fixed = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "x-frame-options": "DENY",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    }
    if https:
        fixed["strict-transport-security"] = "max-age=31536000; includeSubDomains"

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for name, value in fixed.items():
                if name not in headers:
                    headers[name] = value

    return before_send
