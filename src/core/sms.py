"""Text messages (SMS) behind one small interface, chosen by ``KHAIBAO_SMS_BACKEND``.

- ``console``: logs the message. Development only: it writes the OTP into the log, which is
  otherwise forbidden — never use it in production.
- ``file:PATH``: appends one JSON object per line (tests, demos, a local outbox).
- ``http``: posts to an SMS gateway.

``send`` returns only when the message was handed over; anything else raises ``SmsError``, so
a caller never counts an unsent message as sent. Errors never carry the message text.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
from pathlib import Path
from typing import Protocol

import httpx

from khaibao.core import clock
from khaibao.core.settings import Settings

__all__ = [
    "ConsoleSender",
    "FileSender",
    "HttpSender",
    "SmsError",
    "SmsSender",
    "close",
    "sender_for",
]

log = logging.getLogger("khaibao.sms")


class SmsError(Exception):
    """The message was not handed over (or we cannot know that it was)."""


class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> None: ...


class ConsoleSender:
    """Logs ``SMS to +84…: text`` at INFO — the development delivery channel.

    This is the one place where an OTP may appear in a log; do not use it in production.
    """

    async def send(self, to: str, text: str) -> None:
        log.info("SMS to %s: %s", to, text)


class FileSender:
    """Appends ``{"to", "text", "sent_at"}`` as one JSON line (UTF-8) to ``path``.

    An exclusive ``flock`` around each append keeps lines whole when several processes
    share the file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    async def send(self, to: str, text: str) -> None:
        record = {"to": to, "text": text, "sent_at": clock.now().isoformat()}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            await asyncio.to_thread(self._append, line.encode("utf-8"))
        except OSError as error:
            raise SmsError(f"cannot write the SMS outbox {self.path}: {error}") from error

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.write(data)
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class HttpSender:
    """POSTs ``{"to", "text", "sender"}`` as JSON with a bearer token to an SMS gateway.

    ``timeout`` bounds the whole exchange, not each phase. A timeout raises ``SmsError``
    even though the gateway may have sent the message: we cannot know, and a resend is
    cheaper than a citizen waiting for a code that was never sent. One HTTP client (its TLS
    context, its kept-alive connections) serves every send of the process's event loop.
    """

    def __init__(self, url: str, token: str, sender_name: str, timeout: float = 5.0) -> None:
        self.url = url
        self.token = token
        self.sender_name = sender_name
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self.timeout)
            self._client_loop = loop
        return self._client

    async def send(self, to: str, text: str) -> None:
        payload = {"to": to, "text": text, "sender": self.sender_name}
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._http().post(self.url, json=payload, headers=headers)
        except (TimeoutError, httpx.TimeoutException) as error:
            raise SmsError(f"SMS gateway did not answer within {self.timeout:g} s") from error
        except httpx.HTTPError as error:
            raise SmsError(f"SMS gateway unreachable: {type(error).__name__}") from error
        if not response.is_success:
            raise SmsError(f"SMS gateway answered HTTP {response.status_code}")

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


_http_senders: dict[tuple[str, str, str], HttpSender] = {}


def sender_for(settings: Settings) -> SmsSender:
    """The sender configured by ``settings.sms_backend`` (the gateway's is built once)."""
    backend = settings.sms_backend
    if backend == "console":
        return ConsoleSender()
    if backend.startswith("file:") and len(backend) > len("file:"):
        return FileSender(backend.removeprefix("file:"))
    if backend == "http":
        key = (settings.sms_http_url, settings.sms_http_token, settings.sms_sender)
        if key not in _http_senders:
            _http_senders[key] = HttpSender(*key)
        return _http_senders[key]
    raise ValueError(f"unknown SMS backend {backend!r}")


async def close() -> None:
    """Close the gateway's HTTP client (at shutdown)."""
    for sender in _http_senders.values():
        await sender.close()
