"""Chính sách cách ly over HTTP: only admins, create with field errors kept, preview without
saving, edit as a new version, end now, history, audit."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.policies import policies
from khaibao.regions import regions
from khaibao.tables import AuditEntry, Policy
from tests.helpers import csrf_from, csrf_headers, sign_in_officer

BASE = "/quan-tri/chinh-sach"


@pytest.fixture
async def ward(database):
    """A ward outside Huế (a place people come from), unique to this module's policies."""
    return [w for w in await regions.children("VN-79") if w.kind == "ward"][7]


@pytest.fixture
async def cleanup(ward):
    yield
    for view in await policies.current(region_code=ward.code):
        await policies.delete(view.policy_key)


def local(dt: datetime) -> str:
    return dt.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def policy_form(html: str, ward, **overrides) -> dict:
    now = datetime.now(LOCAL_TIMEZONE)
    data = {"_csrf_token": csrf_from(html), "target_region_province": "VN-79",
            "target_region_ward": ward.code, "target_region": ward.code,
            "measure": "centralised", "days": "14", "custom_text": "",
            "effective_from": local(now - timedelta(hours=1)), "effective_to": "",
            "legal_reference": "Công văn 99/UBND-YT"}
    data.update(overrides)
    return data


async def test_only_admins(client, database):
    await sign_in_officer(client, "local", region_code="VN-46")
    assert (await client.get(BASE + "/")).status_code == 403
    assert (await client.get(BASE + "/moi")).status_code == 403


async def test_create_with_errors_then_list_edit_end_history(client, ward, cleanup):
    admin = await sign_in_officer(client, "admin", name="Trưởng Ban Chỉ Đạo")
    form_page = await client.get(BASE + "/moi")
    assert form_page.status_code == 200
    assert 'id="target_region-picker"' in form_page.text and "Xem trước" in form_page.text

    bad = await client.post(BASE + "/moi", data=policy_form(
        form_page.text, ward, days="", legal_reference="Giữ lại tôi"))
    assert bad.status_code == 422
    assert "Hãy nhập số ngày (từ 1 đến 60)." in bad.text
    assert 'value="Giữ lại tôi"' in bad.text  # input kept
    assert ward.name in bad.text  # the picker keeps the chosen ward
    assert not await Policy.exists().where(Policy.target_path == ward.path)

    created = await client.post(BASE + "/moi", data=policy_form(form_page.text, ward),
                                follow_redirects=False)
    assert created.status_code == 303
    [view] = await policies.current(region_code=ward.code)
    assert (view.measure, view.days, view.created_by) == ("centralised", 14, admin.id)
    listing = await client.get(created.headers["location"])
    assert "Đã lưu chính sách." in listing.text
    active = listing.text.split('id="policies-active"')[1].split('id="policies-upcoming"')[0]
    assert "Cách ly tập trung 14 ngày" in active and ward.name in active
    assert "Công văn 99/UBND-YT" in active and "Trưởng Ban Chỉ Đạo" in active
    audit = await AuditEntry.select().where(AuditEntry.action == "policy.create").order_by(
        AuditEntry.id, ascending=False).first()
    assert audit["actor_id"] == admin.id
    assert json.loads(audit["detail"])["policy_key"] == view.policy_key

    detail = await client.get(f"{BASE}/{view.policy_key}")
    assert detail.status_code == 200 and "Ai sẽ bị ảnh hưởng hôm nay" in detail.text
    edited = await client.post(f"{BASE}/{view.policy_key}", data=policy_form(
        detail.text, ward, measure="home", days="7"), follow_redirects=False)
    assert edited.status_code == 303
    history = await policies.history(view.policy_key)
    assert [v.version for v in history] == [2, 1] and history[0].measure == "home"
    page = await client.get(f"{BASE}/{view.policy_key}")
    assert "Cách ly tại nhà 7 ngày" in page.text and "Lịch sử phiên bản" in page.text
    assert page.text.count("Cách ly tập trung 14 ngày") >= 1  # version 1 in the history

    ended = await client.post(f"{BASE}/{view.policy_key}/ket-thuc",
                              data={"_csrf_token": csrf_from(page.text)},
                              follow_redirects=False)
    assert ended.status_code == 303
    latest = (await policies.history(view.policy_key))[0]
    assert latest.version == 3 and latest.effective_to is not None
    listing = await client.get(BASE + "/")
    ended_part = listing.text.split('id="policies-ended"')[1]
    assert "Cách ly tại nhà 7 ngày" in ended_part
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).where(
        AuditEntry.actor_id == admin.id)]
    assert {"policy.create", "policy.edit", "policy.end"} <= set(actions)


async def test_preview_counts_without_saving(client, ward, cleanup):
    await sign_in_officer(client, "admin")
    form_page = await client.get(BASE + "/moi")
    response = await client.post(BASE + "/xem-truoc", data=policy_form(form_page.text, ward),
                                 headers=csrf_headers(form_page.text, htmx=True))
    assert response.status_code == 200
    assert 'id="policy-preview"' in response.text and "<html" not in response.text
    assert "Ai sẽ bị ảnh hưởng hôm nay" in response.text
    assert "Cách ly tập trung 14 ngày" in response.text
    assert re.search(r'class="affected-count">\d+ người<', response.text)
    assert not await Policy.exists().where(Policy.target_path == ward.path)
    broken = await client.post(BASE + "/xem-truoc", data=policy_form(
        form_page.text, ward, measure=""), headers=csrf_headers(form_page.text, htmx=True))
    assert "Hãy chọn biện pháp áp dụng." in broken.text


async def test_preview_counts_real_arrivals(client, database, cleanup, ward):
    """An arrival from the ward in the last days is counted and listed by name."""
    from tests.http.test_local_arrivals_http import arrive

    hue_ward = [w for w in await regions.children("VN-46") if w.kind == "ward"][11]
    await sign_in_officer(client, "admin")
    hanoi = (await regions.children("VN-01"))[0]
    await arrive(database, hue_ward, detail="Tổ 1", name="Vương Thị Lựu")
    form_page = await client.get(BASE + "/moi")
    data = policy_form(form_page.text, hanoi, target_region_province="VN-01")
    response = await client.post(BASE + "/xem-truoc", data=data,
                                 headers=csrf_headers(form_page.text, htmx=True))
    assert "Vương Thị Lựu" in response.text
    count = int(response.text.split('class="affected-count">')[1].split(" ")[0])
    assert count >= 1


async def test_a_future_policy_previews_from_its_start_not_today(client, ward, cleanup):
    """A policy starting in three days says whom it will affect from that day on, counted at
    that moment — never "today"."""
    await sign_in_officer(client, "admin")
    form_page = await client.get(BASE + "/moi")
    starts = datetime.now(LOCAL_TIMEZONE) + timedelta(days=3)
    response = await client.post(BASE + "/xem-truoc", data=policy_form(
        form_page.text, ward, effective_from=local(starts)),
        headers=csrf_headers(form_page.text, htmx=True))
    assert response.status_code == 200
    assert "hôm nay" not in response.text
    assert f"Ai sẽ bị ảnh hưởng từ {starts.strftime('%H:%M, %d/%m/%Y')}" in response.text
    assert re.search(r'class="affected-count">\d+ người<', response.text)
