"""A citizen write load against a live server, for the fault and backup tests.

Each write is one health declaration with its own ``client_ref``; the writer records every
``client_ref`` that got a success answer (303), so a test can prove each of them was kept.
"""

from __future__ import annotations

import random
import re
import threading
import uuid

import httpx

from tests.helpers import random_mobile


def _csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def signed_in_client(server) -> httpx.Client:
    """An httpx client with a citizen session on ``server`` (OTP read from the outbox)."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=10)
    phone = random_mobile()
    e164 = "+84" + phone[1:]
    token = _csrf(client.get("/kbyt").text)
    sent = client.post("/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr",
                                                   "_csrf_token": token})
    assert sent.status_code == 200, sent.text
    done = client.post("/xac-thuc/ma", data={"phone": e164, "code": server.last_otp(e164),
                                             "next": "/kbyt/khai-bao", "_csrf_token": token})
    assert done.status_code == 303, done.text
    client.csrf = _csrf(client.get("/kbyt/khai-bao").text)
    return client


def declaration(client: httpx.Client, client_ref: str, timeout: float = 10,
                persons: int = 1) -> httpx.Response:
    """One form; with ``persons`` > 1 it declares several new persons at once (one row each,
    all or nothing)."""
    data = {"_csrf_token": client.csrf, "client_ref": client_ref, "pledge": "on",
            "places_visited": "Huế"}
    for i in range(persons):
        data.update({f"p{i}_full_name": "Đặng Văn Hùng", f"p{i}_id_type": "cmnd",
                     f"p{i}_id_number": "".join(random.choices("0123456789", k=9)),
                     f"p{i}_birth_year": str(1980 + i), f"p{i}_sex": "male",
                     f"p{i}_nationality": "VN", f"p{i}_address_detail": "", f"p{i}_bhyt": ""})
    return client.post("/kbyt/khai-bao", data=data, timeout=timeout)


class WriteLoad:
    """Declarations posted in a background thread until ``stop()``; ``acked`` holds the
    client_refs the server answered with success, ``failed`` the other outcomes."""

    def __init__(self, client: httpx.Client, limit: int = 2000, persons: int = 1):
        self.client, self.limit, self.persons = client, limit, persons
        self.acked: list[str] = []
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(self.limit):
            if self._stop.is_set():
                return
            ref = uuid.uuid4().hex
            try:
                response = declaration(self.client, ref, persons=self.persons)
            except httpx.HTTPError as error:
                self.failed.append(f"{ref}: {type(error).__name__}")
                continue
            if response.status_code == 303:
                self.acked.append(ref)
            else:
                self.failed.append(f"{ref}: {response.status_code}")

    def start(self) -> WriteLoad:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
