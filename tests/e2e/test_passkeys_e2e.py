"""Officer passkeys in Chromium with the CDP virtual authenticator: enrollment from the
``create-admin`` link, sign-out, sign-in, user verification, a cloned credential."""

from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import expect

from tests.e2e.conftest import run_setup

AUTHENTICATOR = {
    "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
}


def virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def create_admin(live_server, name: str) -> str:
    result = live_server.khaibao("create-admin", "--name", name)
    url = result.stdout.strip().splitlines()[-1]
    assert url.startswith(live_server.url + "/can-bo/dang-ky/")
    return url


def enroll(page, live_server, name: str) -> str:
    url = create_admin(live_server, name)
    page.goto(url)
    expect(page.get_by_text(name)).to_be_visible()
    expect(page.get_by_text("Quản trị viên")).to_be_visible()
    page.get_by_label("Tên passkey").fill("Máy tính chốt")
    page.get_by_role("button", name="Tạo passkey").click()
    page.wait_for_url(re.compile(r"/quan-tri/tong-quan$"))  # an admin's home
    return url


def audit_actions(live_server, action: str) -> list[tuple]:
    with sqlite3.connect(live_server.directory / "e2e.sqlite3") as connection:
        return connection.execute(
            "SELECT actor_id, detail FROM audit_entry WHERE action = ?", (action,)).fetchall()


def without_autofill(page) -> None:
    """Chromium's virtual authenticator answers a conditional (autofill) request at once, as
    if the officer picked the suggestion; pretend autofill is unavailable to test the button."""
    page.add_init_script(
        "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);")


def sign_in_with_button(page) -> None:
    page.get_by_role("button", name="Đăng nhập bằng passkey").click()


def test_enroll_sign_out_and_sign_in_again(page, live_server):
    cdp, authenticator = virtual_authenticator(page)
    enroll(page, live_server, "Trần Thị Bình")
    page.goto("/can-bo/passkey")
    expect(page.get_by_role("heading", name="Passkey của tôi")).to_be_visible()
    name_box = page.get_by_role("textbox", name="Tên passkey", exact=True)
    expect(name_box).to_have_value("Máy tính chốt")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    [credential] = credentials["credentials"]
    assert credential["isResidentCredential"] and credential["rpId"] == "localhost"

    # Signed out, the page answers 401 with the sign-in page; passkey autofill (conditional
    # mediation) signs in and comes back to the page asked for.
    # The virtual authenticator answers autofill at once, as if the officer picked the
    # suggestion: hold it back until the 401 has been seen, or the sign-in page that
    # sign-out leads to can sign in again before the next navigation.
    presence = {"authenticatorId": authenticator}
    cdp.send("WebAuthn.setAutomaticPresenceSimulation", {**presence, "enabled": False})
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(re.compile(r"/can-bo/dang-nhap"))
    response = page.goto("/can-bo/passkey")
    assert response.status == 401
    cdp.send("WebAuthn.setAutomaticPresenceSimulation", {**presence, "enabled": True})
    page.reload()  # the 401 page again, now with an authenticator that answers
    expect(page.get_by_role("heading", name="Passkey của tôi")).to_be_visible()
    expect(page.get_by_text("Trần Thị Bình")).to_be_visible()

    # The button, in a browser without autofill.
    without_autofill(page)
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(re.compile(r"/can-bo/dang-nhap$"))
    expect(page.get_by_role("heading", name="Đăng nhập cán bộ")).to_be_visible()
    assert page.request.get("/can-bo/passkey", max_redirects=0).status == 401
    sign_in_with_button(page)
    page.wait_for_url(re.compile(r"/quan-tri/tong-quan$"))  # an admin's home
    assert page.goto("/can-bo/passkey").status == 200
    expect(page.get_by_text("Trần Thị Bình")).to_be_visible()
    assert page.csp_errors == []


def test_enrollment_link_works_once(page, live_server):
    virtual_authenticator(page)
    url = enroll(page, live_server, "Hoàng Văn Em")
    response = page.goto(url)
    assert response.status == 404
    expect(page.get_by_role("heading", name="Liên kết không hợp lệ hoặc đã hết hạn")
           ).to_be_visible()
    expect(page.get_by_role("button", name="Tạo passkey")).to_have_count(0)


def test_sign_in_refused_without_user_verification(page, live_server):
    cdp, authenticator = virtual_authenticator(page)
    enroll(page, live_server, "Đặng Thị Lan")
    without_autofill(page)
    page.context.clear_cookies()
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator,
                                          "isUserVerified": False})
    page.goto("/can-bo/dang-nhap")
    sign_in_with_button(page)
    alert = page.locator("[data-passkey-alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("không xác minh được bạn")
    assert page.url.endswith("/can-bo/dang-nhap")
    assert page.goto("/can-bo/passkey").status == 401


def test_cloned_credential_is_refused_and_audited(page, live_server):
    cdp, authenticator = virtual_authenticator(page)
    enroll(page, live_server, "Bùi Văn Khoa")
    without_autofill(page)
    for _ in range(2):
        page.context.clear_cookies()
        page.goto("/can-bo/dang-nhap")
        sign_in_with_button(page)
        page.wait_for_url(re.compile(r"/quan-tri/tong-quan$"))  # an admin's home
    [credential] = cdp.send("WebAuthn.getCredentials",
                            {"authenticatorId": authenticator})["credentials"]
    assert credential["signCount"] >= 2

    # The same key on another device whose counter lags behind: a clone.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    copy = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": copy["authenticatorId"],
                                        "credential": {**credential, "signCount": 0}})
    page.context.clear_cookies()
    page.goto("/can-bo/dang-nhap")
    sign_in_with_button(page)
    alert = page.locator("[data-passkey-alert]")
    expect(alert).to_contain_text("dấu hiệu bị sao chép")
    assert page.goto("/can-bo/passkey").status == 401
    rows = audit_actions(live_server, "passkey.clone_suspected")
    assert rows, "no audit entry for the suspected clone"


CHECKPOINT = r"""
from khaibao.arrivals import arrivals

async def main(settings):
    name = "Chốt Thoát Kiosk %d" % random.randrange(10**6)
    return {"id": await arrivals.add_checkpoint(name), "name": name}
"""


def test_only_an_officers_passkey_ends_kiosk_mode(page, live_server):
    """"Thoát kiosk (cán bộ)" asks for a passkey: a visitor's tap (no verified officer)
    leaves the kiosk running; the officer's passkey ends it, audited under their name."""
    without_autofill(page)
    cdp, authenticator = virtual_authenticator(page)
    enroll(page, live_server, "Lê Văn Thoát")
    checkpoint = run_setup(live_server, CHECKPOINT)
    page.goto("/kiemtra/kiosk")
    page.get_by_label("Chốt kiểm soát của kiosk").select_option(str(checkpoint["id"]))
    page.get_by_role("button", name="Bật chế độ kiosk trên thiết bị này").click()
    page.wait_for_url(re.compile(r"/kiosk$"))
    assert "khaibao_officer" not in {c["name"] for c in page.context.cookies()}

    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator,
                                          "isUserVerified": False})
    page.get_by_role("button", name="Thoát kiosk (cán bộ)").click()
    expect(page.get_by_role("alert")).to_contain_text("Thao tác passkey đã bị huỷ")
    page.reload()
    expect(page.get_by_role("heading", name="Xin chào! Mời bạn khai báo")).to_be_visible()
    assert "khaibao_kiosk" in {c["name"] for c in page.context.cookies()}

    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator,
                                          "isUserVerified": True})
    page.get_by_role("button", name="Thoát kiosk (cán bộ)").click()
    page.wait_for_url(re.compile(r"/can-bo/dang-nhap$"))
    assert "khaibao_kiosk" not in {c["name"] for c in page.context.cookies()}
    assert page.goto("/kiosk").status == 403
    with sqlite3.connect(live_server.directory / "e2e.sqlite3") as connection:
        [(kind, actor, place)] = connection.execute(
            "SELECT actor_kind, actor_id, place FROM audit_entry WHERE action = 'kiosk.end'"
        ).fetchall()
        [(admin_id,)] = connection.execute(
            "SELECT id FROM officer WHERE name = 'Lê Văn Thoát'").fetchall()
    assert (kind, actor, place) == ("officer", admin_id, checkpoint["name"])
    assert not page.csp_errors
