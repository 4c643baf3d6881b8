"""The citizen journey over HTTP: sign-in by OTP, declaration, QR pages, guards."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from khaibao.tables import AuditEntry, HealthDeclaration, InsuranceRecord
from tests.helpers import random_mobile


def csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def last_otp(outbox: Path, e164: str) -> str:
    lines = [json.loads(line) for line in outbox.read_text().splitlines() if line]
    text = [m for m in lines if m["to"] == e164][-1]["text"]
    return re.search(r"(?<!\d)\d{6}(?!\d)", text).group(0)


async def sign_in(client, outbox: Path, phone: str | None = None) -> str:
    phone = phone or random_mobile()
    e164 = "+84" + phone[1:]
    token = csrf((await client.get("/kbyt")).text)
    sent = await client.post("/xac-thuc/gui-ma",
                              data={"phone": phone, "next": "/qr", "_csrf_token": token})
    assert sent.status_code == 200, sent.text
    verified = await client.post(
        "/xac-thuc/ma",
        data={"phone": e164, "code": last_otp(outbox, e164), "next": "/kbyt/khai-bao",
              "_csrf_token": token},
        follow_redirects=False,
    )
    assert verified.status_code == 303
    client.last_sign_in = verified
    return e164


def person_form(index: int = 0, **values: str) -> dict[str, str]:
    base = {"full_name": "Đặng Văn Hùng", "id_type": "cmnd",
            "id_number": "".join(random.choices("0123456789", k=9)), "birth_year": "1980",
            "sex": "male", "nationality": "VN", "address_detail": "", "bhyt": ""}
    return {f"p{index}_{key}": value for key, value in {**base, **values}.items()}


async def declare(client, client_ref: str, **person: str):
    page = await client.get("/kbyt/khai-bao")
    data = {"_csrf_token": csrf(page.text), "client_ref": client_ref, "pledge": "on",
            "places_visited": "Huế", **person_form(**person)}
    return await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)


@pytest.mark.parametrize("path", ["/kbyt/khai-bao", "/qr", "/qr/1/ma-qr.png", "/kbyt/them-nguoi"])
async def test_citizen_pages_need_a_verified_phone(client, path):
    response = await client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/kbyt?tiep={path}"
    response = await client.get(path, headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/kbyt?tiep=")


async def test_bad_phone_is_explained_and_kept(client):
    token = csrf((await client.get("/kbyt")).text)
    response = await client.post("/xac-thuc/gui-ma", headers={"HX-Request": "true"},
                                 data={"phone": "0234 3822 123", "next": "/qr",
                                       "_csrf_token": token})
    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'value="0234 3822 123"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Số điện thoại cố định" in response.text


async def test_sign_in_issues_a_new_session_id(client, outbox_path):
    client.cookies.set("khaibao_session", "attacker-chosen-value", domain="localhost.local")
    await sign_in(client, outbox_path)
    cookie = client.last_sign_in.headers["set-cookie"]
    issued = re.search(r"khaibao_session=([^;]+)", cookie).group(1)
    assert issued != "attacker-chosen-value" and len(issued) >= 40
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Path=/" in cookie
    client.cookies.clear()
    client.cookies.set("khaibao_session", issued, domain="localhost.local")
    page = await client.get("/kbyt/khai-bao")
    assert page.status_code == 200
    assert "Người khai báo" in page.text


async def test_wrong_code_keeps_the_code_step(client, outbox_path):
    phone = random_mobile()
    e164 = "+84" + phone[1:]
    token = csrf((await client.get("/kbyt")).text)
    await client.post("/xac-thuc/gui-ma", data={"phone": phone, "next": "/qr",
                                                "_csrf_token": token})
    code = last_otp(outbox_path, e164)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    response = await client.post("/xac-thuc/ma", data={"phone": e164, "code": wrong,
                                                       "next": "/qr", "_csrf_token": token})
    assert response.status_code == 422
    assert "Mã OTP không đúng" in response.text
    assert f'value="{e164}"' in response.text


async def test_declaration_then_qr_page_and_double_submit_counts_once(client, outbox_path):
    await sign_in(client, outbox_path)
    first = await declare(client, "ref-double-submit-1")
    assert first.status_code == 303
    assert first.headers["location"] == "/qr?ref=ref-double-submit-1"
    again = await declare(client, "ref-double-submit-1")  # the same form sent twice
    assert again.status_code == 303
    rows = await HealthDeclaration.count().where(
        HealthDeclaration.client_ref.like("ref-double-submit-1:%"))
    assert rows == 1
    page = await client.get(first.headers["location"])
    assert "Khai báo thành công" in page.text
    assert page.text.count('class="qr-card"') == 1
    assert "<svg" in page.text and "Đặng Văn Hùng" in page.text


async def test_invalid_submission_saves_nothing_and_keeps_input(client, outbox_path):
    await sign_in(client, outbox_path)
    response = await declare(client, "ref-invalid-000001", birth_year="1700")
    assert response.status_code == 422
    assert "Đặng Văn Hùng" in response.text  # kept
    assert 'id="p0_birth_year-loi"' in response.text
    assert not await HealthDeclaration.exists().where(
        HealthDeclaration.client_ref.like("ref-invalid-000001:%"))


async def test_htmx_submission_redirects_with_a_header(client, outbox_path):
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    data = {"_csrf_token": csrf(page.text), "client_ref": "ref-htmx-00000001", "pledge": "on",
            **person_form()}
    response = await client.post("/kbyt/khai-bao", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/qr?ref=ref-htmx-00000001"


async def test_another_phone_cannot_reach_my_qr(client, outbox_path):
    await sign_in(client, outbox_path)
    await declare(client, "ref-idor-owner-01")
    page = await client.get("/qr")
    person_id = re.search(r'id="nguoi-(\d+)"', page.text).group(1)
    assert (await client.get(f"/qr/{person_id}/ma-qr.png")).status_code == 200

    client.cookies.clear()
    await sign_in(client, outbox_path)  # someone else
    assert (await client.get(f"/qr/{person_id}/ma-qr.png")).status_code == 404
    token = csrf((await client.get("/qr")).text)
    reissue = await client.post(f"/qr/{person_id}/cap-lai", data={"_csrf_token": token})
    assert reissue.status_code == 404


async def fill_from_registry(client, outbox_path, settings, tmp_path, registry_csv: str,
                             **typed: str):
    """Import a one-card registry, sign a new phone in and press "Điền từ thẻ BHYT" on the
    first person with ``typed`` fields (p0_…); the fieldset as answered."""
    from khaibao.citizens import insurance

    registry = tmp_path / "bhyt.csv"
    registry.write_text(registry_csv, encoding="utf-8")
    report = await insurance.import_csv(registry, settings)
    assert report.ok and await InsuranceRecord.count() >= 1
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    response = await client.post("/kbyt/bhyt", headers={"HX-Request": "true"},
                                 data={"_csrf_token": csrf(page.text), "fill": "0", **typed})
    assert response.status_code == 200
    return response


async def test_bhyt_fills_name_year_and_sex_and_is_audited(client, outbox_path, settings,
                                                           tmp_path):
    number = "".join(random.choices("0123456789", k=10))
    response = await fill_from_registry(
        client, outbox_path, settings, tmp_path,
        f"bhyt,full_name,birth_year,sex\nHS446{number},Phan Thị Mai,2008,Nữ\n",
        p0_bhyt=number, p0_full_name="")
    assert 'value="Phan Thị Mai"' in response.text
    assert 'value="2008"' in response.text
    assert 'value="female" checked' in response.text
    assert await AuditEntry.exists().where(AuditEntry.action == "insurance.lookup")


async def test_bhyt_also_fills_the_address_and_ward_the_registry_has(client, outbox_path,
                                                                     settings, tmp_path):
    number = "".join(random.choices("0123456789", k=10))
    response = await fill_from_registry(
        client, outbox_path, settings, tmp_path,
        "bhyt,full_name,birth_year,sex,address,region\n"
        f"GD446{number},Võ Văn Lành,1958,Nam,7 Chi Lăng,VN-46-19900\n",
        p0_bhyt=number, p0_address_detail="typed before")
    assert 'value="Võ Văn Lành"' in response.text
    assert 'value="7 Chi Lăng"' in response.text and "typed before" not in response.text
    assert "Đã chọn: Phường Thuận An" in response.text
    assert "nơi ở từ thẻ BHYT" in response.text


async def test_english_error_messages(client):
    client.cookies.set("lang", "en")
    token = csrf((await client.get("/kbyt")).text)
    response = await client.post("/xac-thuc/gui-ma", data={"phone": "12", "next": "/qr",
                                                           "_csrf_token": token})
    assert response.status_code == 422
    assert "Invalid phone number" in response.text or "not valid" in response.text
    client.cookies.delete("lang")
