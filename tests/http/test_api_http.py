"""The read-only JSON API: keys (missing, wrong, revoked, out of scope), cursor pages, the
decision for a person token, rate limits, the OpenAPI document and the admin page."""

from __future__ import annotations

from khaibao.admin import api_keys
from khaibao.citizens import people
from khaibao.core import rate_limits
from khaibao.routes import api as api_routes
from khaibao.tables import AuditEntry, Person, Region
from tests.helpers import csrf_from, sign_in_officer
from tests.unit import dashboard_factories
from tests.unit.citizen_factories import account, add_person


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


async def test_missing_wrong_and_revoked_keys_are_refused(client, database):
    assert (await client.get("/api/v1/health-declarations")).status_code == 401
    wrong = await client.get("/api/v1/arrivals", headers=bearer("kb_nope"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    assert "Bearer" in wrong.headers["www-authenticate"]
    raw, view = await api_keys.create("Hệ thống thử", None, created_by=None)
    assert (await client.get("/api/v1/arrivals", headers=bearer(raw))).status_code == 200
    await api_keys.revoke(view.id, by=None)
    assert (await client.get("/api/v1/arrivals", headers=bearer(raw))).status_code == 401


async def test_scoped_key_reads_only_its_region_with_cursor_pages(client, database):
    area = await dashboard_factories.area(per_ward=12)
    raw, view = await api_keys.create("Phường A", area.ward_a, created_by=None)
    ids, cursor = [], 0
    for _ in range(10):
        page = await client.get(f"/api/v1/health-declarations?cursor={cursor}&limit=5",
                                headers=bearer(raw))
        assert page.status_code == 200
        body = page.json()
        ids += [item["id"] for item in body["items"]]
        if not body["items"]:
            break
        cursor = body["next_cursor"]
    assert len(ids) == len(set(ids)) == 12 and body["items"] == []
    assert body["next_cursor"] == max(ids)  # where to continue once new rows come
    first = (await client.get("/api/v1/health-declarations?limit=1", headers=bearer(raw))).json()
    record = first["items"][0]
    assert record["region_code"] == area.ward_a and record["type"] == "health_declaration"
    assert set(record["person"]) == {"ref", "full_name", "id_masked", "birth_year", "sex",
                                     "nationality"}
    out = await client.get(f"/api/v1/health-declarations?region={area.ward_b}",
                           headers=bearer(raw))
    assert out.status_code == 403 and out.json()["error"] == "out_of_scope"
    arrivals = (await client.get("/api/v1/arrivals?limit=100", headers=bearer(raw))).json()
    assert len(arrivals["items"]) == 5
    assert {a["destination_region_code"] for a in arrivals["items"]} == {area.ward_a}
    assert (await client.get("/api/v1/arrivals?since=yesterday",
                             headers=bearer(raw))).status_code == 400
    future = await client.get("/api/v1/arrivals?since=2999-01-01T00:00:00Z",
                              headers=bearer(raw))
    assert future.json()["items"] == []
    entry = await AuditEntry.select().where(
        (AuditEntry.actor_kind == "api") & (AuditEntry.actor_id == view.id)).first().run()
    assert entry["action"] == "api.read"


async def test_decision_for_a_person_token(client, database, settings):
    area = await dashboard_factories.area(per_ward=0)
    account_id = await account()
    person_id = await add_person(account_id, settings, is_owner=True)
    ward = await Region.select(Region.id).where(Region.code == area.ward_a).first().run()
    await Person.update({Person.region: ward["id"]}).where(Person.id == person_id).run()
    person = (await people.persons_of(account_id, settings))[0]
    scoped, _v = await api_keys.create("Khoá A", area.ward_a, created_by=None)
    other, _w = await api_keys.create("Khoá B", area.ward_b, created_by=None)
    answer = await client.post("/api/v1/decisions", json={"person_token": person.token},
                               headers=bearer(scoped))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["colour"] == "yellow"  # never declared
    assert body["reasons"] and body["last_declaration_at"] is None
    assert body["reasons"] == ["Chưa khai báo y tế."]  # Vietnamese unless asked otherwise
    english = await client.post("/api/v1/decisions", json={"person_token": person.token},
                                headers={**bearer(scoped), "Accept-Language": "en"})
    assert english.json()["reasons"] == ["No health declaration yet."]
    refused = await client.post("/api/v1/decisions", json={"person_token": person.token},
                                headers=bearer(other))
    assert refused.status_code == 403
    unknown = await client.post("/api/v1/decisions", json={"person_token": "KB1PXXXX"},
                                headers=bearer(scoped))
    assert unknown.status_code == 404
    assert (await client.post("/api/v1/decisions",
                              json={"person_token": person.token})).status_code == 401


async def test_rate_limit_per_key(client, database, monkeypatch):
    raw, view = await api_keys.create("Rate", None, created_by=None)
    monkeypatch.setattr(api_routes, "RATE_LIMIT", 2)
    codes = [(await client.get("/api/v1/arrivals?limit=1", headers=bearer(raw))).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]
    await rate_limits.reset(f"api:{view.id}")


async def test_openapi_documents_only_the_api(client, database):
    schema = (await client.get("/api/schema/openapi.json")).json()
    paths = set(schema["paths"])
    assert {"/api/v1/health-declarations", "/api/v1/arrivals", "/api/v1/decisions"} <= paths
    assert all(path.startswith("/api/v1/") for path in paths)
    assert "apiKey" in schema["components"]["securitySchemes"]


async def test_admin_makes_and_revokes_a_key(client, database):
    await sign_in_officer(client, "admin")
    page = await client.get("/quan-tri/api")
    assert page.status_code == 200
    made = await client.post("/quan-tri/api", data={"name": "Cổng quốc gia",
                                                    "_csrf_token": csrf_from(page.text)})
    assert made.status_code == 201
    raw = made.text.split('<code id="raw-key">')[1].split("</code>")[0]
    assert (await client.get("/api/v1/arrivals", headers=bearer(raw))).status_code == 200
    listed = await client.get("/quan-tri/api")
    assert raw not in listed.text and raw[:12] in listed.text
    key = (await api_keys.authenticate(raw))
    revoked = await client.post(f"/quan-tri/api/{key.id}/thu-hoi",
                                data={"_csrf_token": csrf_from(listed.text)})
    assert revoked.status_code in (200, 303)
    assert (await client.get("/api/v1/arrivals", headers=bearer(raw))).status_code == 401
    empty = await client.post("/quan-tri/api", data={"name": "",
                                                     "_csrf_token": csrf_from(listed.text)})
    assert empty.status_code == 422


async def test_local_official_cannot_manage_keys(client, database):
    await sign_in_officer(client, "local", region_code="VN-46")
    assert (await client.get("/quan-tri/api")).status_code == 403


async def test_decisions_without_a_key_is_401_before_the_body_is_read(client, database):
    """No key: 401 whatever the body (malformed, missing, wrong type), never a 400 that
    tells an anonymous caller how the endpoint validates."""
    for body in ({"content": b"{not json"}, {"json": {}}, {"json": {"person_token": 7}},
                 {"content": b""}):
        answer = await client.post("/api/v1/decisions", **body,
                                   headers={"content-type": "application/json"})
        assert answer.status_code == 401, (body, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer")
