"""Security headers on every response: strict CSP and friends.

No inline script or style is allowed anywhere; pages load ``/static`` files only.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from khaibao.core.forms import MAX_ROW_ID

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


_NUL_MARKERS = (b"%00", b"\\u0000", b"\x00")
_TEXT_BODIES = (b"application/x-www-form-urlencoded", b"application/json", b"text/")


def _not_found(send):
    async def answer() -> None:
        body = "Không tìm thấy / Not found".encode()
        await send({"type": "http.response.start", "status": 404, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return answer


def _bad_request(send):
    async def answer() -> None:
        body = "Yêu cầu không hợp lệ / Bad request (NUL byte)".encode()
        await send({"type": "http.response.start", "status": 400, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return answer


def reject_nul_bytes(app):
    """Refuse (400) a NUL byte in the query string or in a form / JSON body, and (404) a path
    id beyond 32 bits (a 500 on PostgreSQL before: integer out of range). No field of this
    app can hold one, and PostgreSQL refuses them in text — without this a single ``%00``
    turned into a 500 on PostgreSQL (found by tests/http/test_attack_input_http.py). Uploaded
    files (multipart) are left alone. Bodies are at most MAX_BODY_BYTES, checked by Litestar."""

    async def middleware(scope, receive, send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await _bad_request(send)()
            return
        if any(part.isdigit() and int(part) > MAX_ROW_ID for part in scope["path"].split("/")):
            await _not_found(send)()  # no row has such an id (PostgreSQL: integer overflow)
            return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").lower()
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or not content_type.startswith(
                _TEXT_BODIES):
            await app(scope, receive, send)
            return
        messages, tail = [], b""
        while True:  # read the (size-limited) body, keeping it for the app
            message = await receive()
            messages.append(message)
            chunk = tail + message.get("body", b"")
            if any(marker in chunk.lower() for marker in _NUL_MARKERS):
                await _bad_request(send)()
                return
            tail = chunk[-8:]
            if message["type"] != "http.request" or not message.get("more_body"):
                break
            if sum(len(m.get("body", b"")) for m in messages) > 2 * 1024 * 1024:
                break  # too big anyway: Litestar answers 413

        async def replay():
            return messages.pop(0) if messages else await receive()

        await app(scope, replay, send)

    return middleware


def loopback_to_base_url(netlocs: tuple[str, ...], base_url: str):
    """Middleware: a request to another spelling of a local base URL's host (127.0.0.1 where
    the base URL says localhost) is sent to the same path on the base URL, where the cookies,
    the CSRF check and the passkeys live. Only built for a local base URL."""
    aliases = {netloc.encode() for netloc in netlocs}

    def wrap(app):
        async def middleware(scope, receive, send) -> None:
            if scope["type"] == "http" and dict(scope["headers"]).get(b"host") in aliases:
                query = scope.get("query_string", b"").decode("latin-1")
                location = base_url + scope.get("raw_path", b"").decode("latin-1").split("?")[0]
                location += f"?{query}" if query else ""
                await send({"type": "http.response.start", "status": 307, "headers": [
                    (b"location", location.encode("latin-1")), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
            await app(scope, receive, send)
        return middleware
    return wrap
