"""API keys: shown once, stored hashed, revocable, scoped; cursor paging of the feeds."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from khaibao.admin import api_keys, feeds
from khaibao.core.errors import FormErrors
from khaibao.tables import ApiKey, HealthDeclaration, Person, Region
from tests.unit import dashboard_factories


async def test_key_is_stored_only_as_a_hash_and_can_be_revoked(database):
    raw, view = await api_keys.create("Cổng dữ liệu quốc gia", None, created_by=None)
    assert raw.startswith("kb_") and len(raw) > 40
    stored = await ApiKey.select().where(ApiKey.id == view.id).first().run()
    assert stored["key_hash"] == api_keys.hash_key(raw) and raw not in str(stored)
    assert stored["prefix"] == raw[:12]
    assert (await api_keys.authenticate(raw)).id == view.id
    assert await api_keys.authenticate(raw + "x") is None
    assert await api_keys.authenticate(None) is None
    assert await api_keys.revoke(view.id, by=None) is True
    assert await api_keys.revoke(view.id, by=None) is False
    assert await api_keys.authenticate(raw) is None


async def test_key_region_and_name_are_checked(database):
    with pytest.raises(FormErrors) as caught:
        await api_keys.create("", "NOWHERE", created_by=None)
    assert set(caught.value.errors) == {"name", "region"}
    area = await dashboard_factories.area(per_ward=0)
    _raw, view = await api_keys.create("Phường A", area.ward_a, created_by=None)
    assert view.region_path == area.paths["A"]
    assert view.covers(area.paths["A"] + "village/")
    assert not view.covers(area.paths["B"]) and not view.covers(None)


async def test_cursor_pages_return_every_row_once_while_rows_are_written(database, settings):
    """A reader follows next_cursor while a writer keeps adding declarations: in the end
    every row was returned exactly once."""
    area = await dashboard_factories.area(per_ward=30)
    window = feeds.Window(path=area.paths["A"])
    ward = await Region.select(Region.id).where(Region.code == area.ward_a).first().run()
    person = await Person.select(Person.id).where(Person.region == ward["id"]).first().run()
    written: list[int] = []
    done = asyncio.Event()

    async def writer():
        for i in range(60):
            rows = await HealthDeclaration.insert(HealthDeclaration(
                person=person["id"], client_ref=f"{area.tag}-live-{i}",
                submitted_at=datetime.now(UTC) - timedelta(minutes=1), region=ward["id"],
                officer_id=None)).returning(HealthDeclaration.id).run()
            written.append(rows[0]["id"])
            await asyncio.sleep(0)
        done.set()

    seen: list[int] = []

    async def reader():
        cursor = 0
        while True:
            finished = done.is_set()
            page = await feeds.page("health_declaration", window, settings.secret_key,
                                    cursor=cursor, limit=7)
            seen.extend(item["id"] for item in page.items)
            assert page.next_cursor >= cursor
            cursor = page.next_cursor
            if finished and not page.items:
                return
            await asyncio.sleep(0)

    await asyncio.gather(writer(), reader())
    assert len(seen) == len(set(seen)) == 30 + 60
    stored = {r["id"] for r in await HealthDeclaration.select(HealthDeclaration.id).where(
        HealthDeclaration.region == ward["id"]).run()}
    assert set(seen) == stored and set(written) <= stored


async def test_fresh_rows_wait_until_they_settle(database, settings):
    area = await dashboard_factories.area(per_ward=3)
    window = feeds.Window(path=area.paths["A"])
    first = await feeds.page("health_declaration", window, settings.secret_key, limit=50)
    assert len(first.items) == 3
    ward = await Region.select(Region.id).where(Region.code == area.ward_a).first().run()
    person = await Person.select(Person.id).where(Person.region == ward["id"]).first().run()
    now = datetime.now(UTC)
    await HealthDeclaration.insert(HealthDeclaration(
        person=person["id"], client_ref=f"{area.tag}-fresh", submitted_at=now,
        region=ward["id"], officer_id=None)).run()
    held = await feeds.page("health_declaration", window, settings.secret_key,
                            cursor=first.next_cursor, now=now)
    assert held.items == [] and held.next_cursor == first.next_cursor
    later = await feeds.page("health_declaration", window, settings.secret_key,
                             cursor=first.next_cursor, now=now + feeds.SETTLE * 2)
    assert [i["client_ref"] for i in later.items] == [f"{area.tag}-fresh"]
