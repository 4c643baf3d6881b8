"""SMS backends: console log, JSON-lines file, HTTP gateway (against a fake gateway)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest

from khaibao.core import sms
from khaibao.core.settings import Settings

PHONE = "+84905123456"


async def test_console_sender_logs_the_message(caplog):
    caplog.set_level(logging.INFO, logger="khaibao.sms")
    await sms.ConsoleSender().send(PHONE, "Xin chào Huế")
    assert f"SMS to {PHONE}: Xin chào Huế" in caplog.text
    assert caplog.records[-1].levelno == logging.INFO


async def test_file_sender_appends_one_json_object_per_line(tmp_path):
    path = tmp_path / "sub" / "outbox.jsonl"
    sender = sms.FileSender(path)
    await sender.send(PHONE, "Mã của bạn: Huế")
    await sender.send("+84312345678", 'second "quoted"\nline')
    raw = path.read_bytes()
    assert "Huế".encode() in raw  # UTF-8, not \\u escapes
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"to", "text", "sent_at"}
    assert first["to"] == PHONE and first["text"] == "Mã của bạn: Huế"
    assert second["text"] == 'second "quoted"\nline'
    sent_at = datetime.fromisoformat(first["sent_at"])
    assert sent_at.utcoffset() is not None
    assert abs(time.time() - sent_at.timestamp()) < 60


async def test_file_sender_error_is_sms_error(tmp_path):
    with pytest.raises(sms.SmsError):
        await sms.FileSender(tmp_path).send(PHONE, "a directory is not a file")


WRITER = """
import asyncio, sys
from khaibao.core.sms import FileSender

async def main(path, tag):
    sender = FileSender(path)
    for i in range(100):
        await sender.send("+84905123456", tag * 3000 + str(i))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_file_sender_lines_never_interleave_across_processes(tmp_path):
    path = tmp_path / "shared.jsonl"
    children = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", WRITER, str(path), tag)
        for tag in ("ắ", "ờ")  # 3 bytes each in UTF-8: ~9 kB per line, above PIPE_BUF
    ]
    assert [await asyncio.wait_for(child.wait(), 60) for child in children] == [0, 0]
    texts = [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()]
    assert len(texts) == 200
    for tag in ("ắ", "ờ"):
        mine = [t for t in texts if t.startswith(tag)]
        assert sorted(int(t.lstrip(tag)) for t in mine) == list(range(100))


# --- HTTP gateway -----------------------------------------------------------------------------


@dataclass
class FakeGateway:
    """A minimal HTTP/1.1 server on 127.0.0.1: records requests, answers ``status``."""

    status: int = 200
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/api/sms"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            method, path, _ = request_line.split(" ")
            self.requests.append(
                {"method": method, "path": path, "headers": headers, "body": body}
            )
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(
                f"HTTP/1.1 {self.status} Status\r\nContent-Type: application/json\r\n"
                "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def gateway():
    fake = FakeGateway()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    yield fake
    fake.server.close()
    await fake.server.wait_closed()


def sender(url: str, timeout: float = 5.0) -> sms.HttpSender:
    return sms.HttpSender(url, "s3cret-token", "DTTM_TTHUE", timeout=timeout)


async def test_http_sender_posts_json_with_bearer_token(gateway):
    await sender(gateway.url).send(PHONE, "Mã 123456 — Huế")
    [request] = gateway.requests
    assert request["method"] == "POST" and request["path"] == "/api/sms"
    assert request["headers"]["authorization"] == "Bearer s3cret-token"
    assert request["headers"]["content-type"].startswith("application/json")
    assert json.loads(request["body"]) == {
        "to": PHONE,
        "text": "Mã 123456 — Huế",
        "sender": "DTTM_TTHUE",
    }


@pytest.mark.parametrize("status", [201, 202, 204])
async def test_http_sender_accepts_any_2xx(gateway, status):
    gateway.status = status
    await sender(gateway.url).send(PHONE, "ok")


@pytest.mark.parametrize("status", [500, 503, 400, 401, 302])
async def test_http_sender_non_2xx_is_sms_error(gateway, status):
    gateway.status = status
    with pytest.raises(sms.SmsError) as info:
        await sender(gateway.url).send(PHONE, "Ma OTP la 654321")
    assert str(status) in str(info.value)
    assert "654321" not in str(info.value)  # errors never carry the text
    assert "s3cret-token" not in str(info.value)


async def test_http_sender_times_out(gateway):
    gateway.delay = 2.0
    started = time.monotonic()
    with pytest.raises(sms.SmsError, match="did not answer"):
        await sender(gateway.url, timeout=0.3).send(PHONE, "slow")
    assert time.monotonic() - started < 1.5
    assert len(gateway.requests) == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_http_sender_connection_refused_is_sms_error():
    with pytest.raises(sms.SmsError, match="unreachable"):
        await sender(f"http://127.0.0.1:{closed_port()}/sms").send(PHONE, "nobody home")


def test_sender_for_each_backend(tmp_path):
    assert isinstance(sms.sender_for(Settings(sms_backend="console")), sms.ConsoleSender)
    file_sender = sms.sender_for(Settings(sms_backend=f"file:{tmp_path}/o.jsonl"))
    assert isinstance(file_sender, sms.FileSender)
    assert file_sender.path == tmp_path / "o.jsonl"
    http = sms.sender_for(
        Settings(
            sms_backend="http",
            sms_http_url="https://sms.example.vn/send",
            sms_http_token="tok",
            sms_sender="KHAIBAO",
        )
    )
    assert isinstance(http, sms.HttpSender)
    assert (http.url, http.token, http.sender_name, http.timeout) == (
        "https://sms.example.vn/send",
        "tok",
        "KHAIBAO",
        5.0,
    )
    with pytest.raises(ValueError):
        sms.sender_for(Settings(sms_backend="pigeon"))


def test_senders_satisfy_the_protocol():
    senders: list[sms.SmsSender] = [
        sms.ConsoleSender(),
        sms.FileSender("/dev/null"),
        sender("http://127.0.0.1:9/"),
    ]
    assert all(callable(s.send) for s in senders)


async def test_one_http_client_is_shared_by_every_send(gateway, monkeypatch):
    """Building an HTTP client (and its TLS context) per SMS cost ~100 ms of the event loop
    under load: the gateway's sender is built once and keeps one client."""
    built = []
    original = httpx.AsyncClient.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counting_init)
    settings = Settings(sms_backend="http", sms_http_url=gateway.url, sms_http_token="tok")
    for n in range(5):
        await sms.sender_for(settings).send(f"+8490000000{n}", "Ma OTP")
    assert len(gateway.requests) == 5
    assert len(built) == 1
    await sms.close()
