"""The administration pages speak the reader's language and say things in words: every chart
label and table header of the dashboards in English, the export kinds, the audit log's actions
and details, the purge report's rows; each officer lands on their own main page after signing
in; /quan-tri leads admins home; ending a policy asks first and says it is done; revoking a
passkey asks first."""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.admin import retention
from khaibao.core import audit, i18n
from khaibao.officers import enrollments, officers
from khaibao.policies import policies
from khaibao.policies.policy_input import PolicyInput
from khaibao.regions import regions
from khaibao.venues import checkins, venues
from tests.helpers import csrf_from, csrf_headers, sign_in_officer
from tests.soft_authenticator import SoftAuthenticator
from tests.unit import citizen_factories as make
from tests.unit import dashboard_factories
from tests.unit.test_venues import venue_form

EN = {"Accept-Language": "en"}


@pytest.fixture
def untranslated(monkeypatch) -> set[str]:
    """The texts looked up in the English catalog without a translation while a test runs."""
    missing: set[str] = set()
    real = i18n.catalog

    class Recording(dict):
        def get(self, key, default=None):
            if key and key not in self:
                missing.add(key)
            return super().get(key, default)

    recording = Recording(real("en"))
    monkeypatch.setattr(i18n, "catalog", lambda language: recording if language == "en"
                        else real(language))
    return missing


def vietnamese(text: str) -> bool:
    """Whether ``text`` has letters only Vietnamese uses here (accents, đ)."""
    return "đ" in text.lower() or any(unicodedata.combining(c)
                                      for c in unicodedata.normalize("NFD", text))


def label_texts(html: str) -> list[str]:
    """The words a chart or table uses for itself (not its data): headers, captions, chart
    titles and legends."""
    found = []
    for head in re.findall(r"<thead>(.*?)</thead>", html, flags=re.S):
        found += re.findall(r"<th[^>]*>([^<]*)<", head)
    found += re.findall(r"<caption>([^<]*)</caption>", html)
    found += re.findall(r'<title id="[^"]+">([^<]*)</title>', html)
    found += re.findall(r'<text x="[\d.]+" y="14" font-size="12"[^>]*>([^<]*)</text>', html)
    return [t.strip() for t in found if t.strip()]


# --- dashboards in English ---------------------------------------------------------------------

async def test_english_dashboard_charts_and_tables_are_all_in_english(client, untranslated):
    area = await dashboard_factories.area(per_ward=10)
    await sign_in_officer(client, "admin")
    page = await client.get(f"/quan-tri/tong-quan?region={area.province}&ngay=7", headers=EN)
    assert page.status_code == 200
    scans = page.text.split('class="dashboard-chart chart-scans"')[1].split("</article>")[0]
    assert re.search(r"<thead><tr><th scope=\"col\">Hour</th><th scope=\"col\">Green</th>"
                     r"<th scope=\"col\">Yellow</th><th scope=\"col\">Red</th></tr></thead>",
                     scans)
    assert ">Green</text>" in scans and "· Green:" in scans
    assert not re.search(r"\b(Xanh|Vàng|Đỏ)\b", page.text)
    labels = label_texts(page.text)
    assert len(labels) > 20
    assert [t for t in labels if vietnamese(t)] == []
    assert untranslated == set()


async def test_english_venue_dashboard_is_in_english(client, settings, untranslated):
    officer = await sign_in_officer(client, "venue")
    venue = await venues.create(venues.parse_venue(venue_form(
        name=f"Quán thử {uuid.uuid4().hex[:6]}", daily_visitors="40")), settings)
    await venues.set_staff(venue.id, {officer.id})
    account = await make.account()
    person = await make.add_person(account, settings, is_owner=True)
    await checkins.check_in(venue.id, [person], settings, now=make.now() - timedelta(days=2))
    await checkins.check_in(venue.id, [person], settings)
    page = await client.get(f"/diem-den/{venue.id}", headers=EN)
    assert page.status_code == 200 and "Check-ins per hour today" in page.text
    labels = label_texts(page.text)
    assert "QR scan rate" in labels and "Hour" in labels
    assert [t for t in labels if vietnamese(t)] == []
    assert untranslated == set()


async def test_english_export_page_names_every_kind_in_english(client, untranslated):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/xuat-du-lieu/", headers=EN)
    assert page.status_code == 200
    select = page.text.split('name="loai"')[1].split("</select>")[0]
    options = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert options == ["Health declaration", "Arrival declaration", "Venue check-ins"]
    assert untranslated == set()


# --- audit log -----------------------------------------------------------------------------------

async def test_audit_log_names_actions_and_details_in_words(client, untranslated):
    await sign_in_officer(client, "admin", name="Quản trị Nhãn")
    tag = uuid.uuid4().hex[:6]
    twins = [await officers.create(f"Lê Văn Chốt {tag}", "checkpoint") for _ in range(2)]
    await audit.record("arrivals.export", actor_kind="officer", actor_id=twins[0].id,
                       place="Chốt Nhãn", detail={"region": "VN-46", "from": "2026-11-01",
                                                 "to": "2026-11-07", "decision": "all",
                                                 "rows": 12, "complete": True})
    await audit.record("trace.listed", actor_kind="officer", actor_id=twins[1].id,
                       detail={"venue": None, "reason": "Ca bệnh tại chợ"})
    page = await client.get(f"/quan-tri/nhat-ky?can_bo={twins[0].id}")
    assert page.status_code == 200
    actions = page.text.split('name="hanh_dong"')[1].split("</select>")[0]
    assert '<option value="arrivals.export">Xuất danh sách người đến</option>' in actions
    assert '<option value="trace.listed">Có tên trong kết quả truy vết</option>' in actions
    assert not re.search(r">\s*[a-z_]+\.[a-z_]+\s*</option>", actions)  # no bare codes
    entries = page.text.split('id="audit-entries"')[1]
    assert "<td>Xuất danh sách người đến</td>" in entries
    huế = (await regions.get("VN-46")).name
    for pair in (f"Địa bàn:</dt><dd>{huế}", "Từ:</dt><dd>01/11/2026",
                 "Đến:</dt><dd>07/11/2026", "Lọc theo biện pháp:</dt><dd>Tất cả",
                 "Số dòng:</dt><dd>12", "Xuất trọn vẹn:</dt><dd>có"):
        assert f"<dt>{pair}</dd>" in entries
    assert "=None" not in page.text and "rows=" not in page.text

    chooser = page.text.split('name="can_bo"')[1].split("</select>")[0]
    twin_labels = re.findall(rf"<option value=\"\d+\"[^>]*>(Lê Văn Chốt {tag}[^<]*)</option>",
                             chooser)
    assert sorted(twin_labels) == sorted(
        f"Lê Văn Chốt {tag} (Cán bộ chốt kiểm soát) #{t.id}" for t in twins)

    listed = await client.get(f"/quan-tri/nhat-ky?can_bo={twins[1].id}", headers=EN)
    entries = listed.text.split('id="audit-entries"')[1]
    assert "<td>Listed in a tracing result</td>" in entries
    assert "<dt>Reason:</dt><dd>Ca bệnh tại chợ</dd>" in entries
    assert "Venue ID" not in entries  # an empty value is left out
    assert untranslated == set()


# --- retention report ----------------------------------------------------------------------------

async def test_every_row_of_a_purge_report_has_a_label(client, settings, untranslated):
    report = await retention.purge(settings, trigger="admin")
    assert set(report.counts) <= set(retention.KIND_LABELS)
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/xoa-du-lieu/", headers=EN)
    assert "Daily totals behind the Overview charts" in page.text
    assert "daily_counts" not in page.text
    vi = await client.get("/quan-tri/xoa-du-lieu/")
    assert "<th scope=\"row\">Số liệu tổng hợp theo ngày của trang Tổng quan</th>" in vi.text
    assert untranslated == set()


# --- where officers land -------------------------------------------------------------------------

async def _enroll(client, officer) -> tuple[SoftAuthenticator, str]:
    """A passkey for ``officer`` through their enrollment link; where the enrollment led."""
    token = await enrollments.issue_enrollment(officer.id)
    page = await client.get(f"/can-bo/dang-ky/{token}")
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    options = await client.post(f"/can-bo/dang-ky/{token}/tuy-chon", headers=headers,
                                content=json.dumps({"name": "Máy thử"}))
    assert options.status_code == 200, options.text
    device = SoftAuthenticator()
    result = await client.post(f"/can-bo/dang-ky/{token}/xac-minh", headers=headers,
                               content=json.dumps({**device.create(options.json()),
                                                   "name": "Máy thử"}))
    assert result.status_code == 200, result.text
    client.cookies.clear()
    return device, result.json()["redirect"]


async def _sign_in(client, device, tiep: str = "") -> str:
    client.cookies.clear()
    page = await client.get("/can-bo/dang-nhap")
    headers = {**csrf_headers(page.text), "content-type": "application/json"}
    options = await client.post("/can-bo/dang-nhap/tuy-chon", headers=headers)
    query = f"?tiep={tiep}" if tiep else ""
    response = await client.post(f"/can-bo/dang-nhap/xac-minh{query}", headers=headers,
                                 content=json.dumps(device.get(options.json())))
    assert response.status_code == 200, response.text
    return response.json()["redirect"]


@pytest.mark.parametrize(("role", "region", "home"), [
    ("admin", None, "/quan-tri/tong-quan"),
    ("checkpoint", None, "/kiemtra"),
    ("health", None, "/kiemtra"),
    ("local", "VN-46", "/quan-tri/nguoi-den"),
])
async def test_each_role_lands_on_its_main_page(client, role, region, home):
    officer = await officers.create(f"Cán bộ {role} {uuid.uuid4().hex[:6]}", role,
                                    region_code=region)
    device, after_enrollment = await _enroll(client, officer)
    assert after_enrollment == home
    assert await _sign_in(client, device) == home
    assert (await client.get(home)).status_code == 200
    assert await _sign_in(client, device, tiep="/can-bo/passkey") == "/can-bo/passkey"


async def test_venue_staff_land_on_their_venue(client, settings):
    officer = await officers.create(f"Nhân viên {uuid.uuid4().hex[:6]}", "venue")
    device, _home = await _enroll(client, officer)
    assert await _sign_in(client, device) == "/quan-tri/diem-den"  # no venue yet: the list
    first = await venues.create(venues.parse_venue(venue_form(
        name=f"Quán một {uuid.uuid4().hex[:6]}")), settings)
    await venues.set_staff(first.id, {officer.id})
    assert await _sign_in(client, device) == f"/diem-den/{first.id}"
    assert (await client.get(f"/diem-den/{first.id}")).status_code == 200
    second = await venues.create(venues.parse_venue(venue_form(
        name=f"Quán hai {uuid.uuid4().hex[:6]}")), settings)
    await venues.set_staff(second.id, {officer.id})
    assert await _sign_in(client, device) == "/quan-tri/diem-den"  # several: their list
    assert await _sign_in(client, device, tiep="/can-bo/passkey") == "/can-bo/passkey"


@pytest.mark.parametrize("path", ["/quan-tri", "/quan-tri/"])
async def test_admin_home_leads_to_the_dashboard(client, path):
    assert (await client.get(path, follow_redirects=False)).status_code == 401
    await sign_in_officer(client, "local", region_code="VN-46")
    assert (await client.get(path, follow_redirects=False)).status_code == 403
    client.cookies.clear()
    await sign_in_officer(client, "admin")
    response = await client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/quan-tri/tong-quan"


# --- asking before ending a policy or revoking a passkey ----------------------------------------

@pytest.fixture
async def policy(database):
    ward = [w for w in await regions.children("VN-79") if w.kind == "ward"][13]
    view = await policies.create(PolicyInput(
        ward.code, "home", 7, "", datetime.now(UTC) - timedelta(hours=1), None, "CV thử"),
        created_by=None)
    yield view
    await policies.delete(view.policy_key)


async def test_ending_a_policy_asks_first_then_says_it_is_done(client, policy, untranslated):
    await sign_in_officer(client, "admin")
    here = f"/quan-tri/chinh-sach/{policy.policy_key}"
    page = await client.get(here)
    assert f'action="{here}/ket-thuc"' not in page.text  # no one-click end
    assert f'href="{here}/ket-thuc#xac-nhan"' in page.text
    assert "Kết thúc chính sách ngay…" in page.text

    ask = await client.get(f"{here}/ket-thuc")
    assert ask.status_code == 200
    box = ask.text.split('id="xac-nhan"')[1]
    assert "Kết thúc chính sách này ngay bây giờ?" in box
    assert f'<form method="post" action="{here}/ket-thuc">' in box
    assert "Xác nhận kết thúc chính sách" in box and f'href="{here}">Không kết thúc' in box
    assert (await policies.history(policy.policy_key))[0].effective_to is None  # not ended yet

    english = await client.get(f"{here}/ket-thuc", headers=EN)
    assert "End this policy right now?" in english.text and "Yes, end the policy" in english.text

    ended = await client.post(f"{here}/ket-thuc", data={"_csrf_token": csrf_from(ask.text)},
                              follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == f"{here}?xong=ket-thuc"
    assert (await policies.history(policy.policy_key))[0].effective_to is not None
    done = await client.get(ended.headers["location"])
    assert 'class="message message-ok" role="status">Đã kết thúc chính sách.' in done.text
    assert "Kết thúc chính sách ngay…" not in done.text
    assert (await client.get(here)).text.count("Đã kết thúc chính sách.") == 0
    assert untranslated == set()


async def test_revoking_a_passkey_asks_first(client):
    officer = await officers.create(f"Cán bộ {uuid.uuid4().hex[:6]}", "checkpoint")
    device, _home = await _enroll(client, officer)
    await _sign_in(client, device)
    page = await client.get("/can-bo/passkey")
    form = re.search(r'<form [^>]*action="/can-bo/passkey/\d+/thu-hoi"[^>]*>', page.text)
    assert form and 'hx-post="/can-bo/passkey/' in form.group(0)
    assert 'hx-confirm="Thu hồi passkey “Máy thử”?' in form.group(0)
    assert re.search(r'<script src="/static/[^"]*htmx[^"]*\.js', page.text)  # htmx asks
    assert "<script>" not in page.text  # no inline script
