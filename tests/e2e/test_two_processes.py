"""OTP limits hold across two server processes sharing one database."""

import re

import httpx
import pytest

from tests.e2e.conftest import start_server, stop_server
from tests.helpers import random_mobile


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("two-processes")
    first = start_server(directory)
    second = start_server(directory)  # same database file, another process and port
    yield first, second
    stop_server(first)
    stop_server(second)


class Browser:
    """A cookie jar and CSRF token for one server, as a browser would keep them."""

    def __init__(self, server):
        self.server = server
        self.client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=10)
        page = self.client.get("/kbyt")
        self.token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)

    def post(self, path, data):
        return self.client.post(path, data={**data, "_csrf_token": self.token})


def random_phone():
    return random_mobile()


def test_wrong_code_tries_are_counted_across_processes(two_servers):
    first, second = Browser(two_servers[0]), Browser(two_servers[1])
    phone = random_phone()
    sent = first.post("/xac-thuc/gui-ma", {"phone": phone, "next": "/qr"})
    assert sent.status_code == 200
    e164 = "+84" + phone[1:]
    code = two_servers[0].last_otp(e164)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = []
    for attempt in range(6):
        browser = first if attempt % 2 == 0 else second
        answers.append(browser.post("/xac-thuc/ma", {"phone": e164, "code": wrong, "next": "/qr"}))
    assert [a.status_code for a in answers] == [422] * 6
    assert "còn 4 lần" in answers[0].text
    assert "còn 1 lần" in answers[3].text
    # the fifth wrong try burned the code: even the right one is refused now, on either server
    right = second.post("/xac-thuc/ma", {"phone": e164, "code": code, "next": "/qr"})
    assert right.status_code == 422
    assert "Gửi lại mã" in right.text


def test_sends_per_client_ip_are_capped_across_processes(two_servers):
    first, second = Browser(two_servers[0]), Browser(two_servers[1])
    statuses = []
    for attempt in range(31):
        browser = first if attempt % 2 == 0 else second
        statuses.append(browser.post("/xac-thuc/gui-ma",
                                     {"phone": random_phone(), "next": "/qr"}).status_code)
    assert statuses.count(200) <= 30
    assert statuses[-1] == 422
