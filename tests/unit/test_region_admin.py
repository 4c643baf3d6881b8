"""Region admin: rename, and merging two villages moves every reference (both engines)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from khaibao.admin import region_admin
from khaibao.citizens import people
from khaibao.core.errors import FormErrors, InputError
from khaibao.core.text import fold_diacritics
from khaibao.qr import tokens
from khaibao.regions import regions
from khaibao.tables import (
    ApiKey,
    ArrivalDeclaration,
    ArrivalPlace,
    AuditEntry,
    Checkpoint,
    DailyCount,
    HealthDeclaration,
    Officer,
    Person,
    Policy,
    Region,
    Venue,
)


def _hex() -> str:
    return uuid.uuid4().hex


async def _region(code: str, name: str, kind: str, parent: dict | None) -> dict:
    path = f"{parent['path'] if parent else '/'}{code}/"
    depth = parent["depth"] + 1 if parent else 0
    row = (await Region.insert(Region(
        code=code, name=name, name_folded=fold_diacritics(name), kind=kind,
        parent=parent["id"] if parent else None, path=path, depth=depth)
    ).returning(Region.id).run())[0]
    return {"id": row["id"], "code": code, "path": path, "depth": depth}


async def _tree() -> dict[str, dict]:
    tag = "RA" + _hex()[:8].upper()
    country = await _region(f"{tag}", "Nước thử", "country", None)
    province = await _region(f"{tag}-P", "Tỉnh thử", "province", country)
    ward = await _region(f"{tag}-W", "Phường thử", "ward", province)
    other_ward = await _region(f"{tag}-W2", "Xã khác", "ward", province)
    return {
        "province": province, "ward": ward, "other_ward": other_ward,
        "a": await _region(f"{tag}-W-A", "Thôn Đông", "village", ward),
        "b": await _region(f"{tag}-W-B", "Thôn Tây", "village", ward),
        "far": await _region(f"{tag}-W2-C", "Thôn Xa", "village", other_ward),
    }


async def _insert(table, **values) -> int:
    return (await table.insert(table(**values)).returning(table.id).run())[0]["id"]


async def _references(region: dict) -> dict[str, int]:
    """One row of every table that points at ``region`` (FK and copied path)."""
    rid, path = region["id"], region["path"]
    person = await _insert(Person, full_name="Nguyễn Văn A", id_type="none", birth_year=1990,
                           sex="male", region=rid, qr_reference=tokens.new_reference(),
                           id_hash=_hex())
    arrival = await _insert(ArrivalDeclaration, person=person, client_ref=_hex(),
                            transport="car", destination_region=rid, destination_path=path,
                            origin_region=rid)
    return {
        "person": person,
        "declaration": await _insert(HealthDeclaration, person=person, client_ref=_hex(),
                                     region=rid),
        "arrival": arrival,
        "place": await _insert(ArrivalPlace, arrival=arrival, region=rid, path=path),
        "venue": await _insert(Venue, name="Chợ thử", kind="market", region=rid,
                               region_path=path, code_reference=_hex()[:16]),
        "checkpoint": await _insert(Checkpoint, name="Chốt thử", region=rid),
        "officer": await _insert(Officer, name="Cán bộ thử", role="local", region=rid,
                                 user_handle=_hex()),
        "policy": await _insert(Policy, policy_key=1, target_region=rid, target_path=path,
                                measure="home"),
        "api_key": await _insert(ApiKey, name="Khoá thử", prefix="kb_x", key_hash=_hex(),
                                 region=rid, region_path=path),
    }


async def _value(table, row_id: int, column: str):
    return (await table.select(getattr(table, column)).where(table.id == row_id).first())[column]


async def test_merge_moves_every_reference_and_deletes_the_source(database):
    tree = await _tree()
    source, target = tree["a"], tree["b"]
    refs = await _references(source)
    kept = await _references(target)
    point = await _region(f"{source['code']}-PT", "Điểm thử", "point", source)
    point_venue = await _insert(Venue, name="Quán thử", kind="shop", region=point["id"],
                                region_path=point["path"], code_reference=_hex()[:16])
    day = "2021-08-0" + str(1 + int(_hex()[:2], 16) % 9)
    await _insert(DailyCount, kind="declarations:", day=day, region_path=source["path"], n=3)
    await _insert(DailyCount, kind="filled", day=day, region_path="declarations", n=0)

    plan = await region_admin.plan_merge(source["code"], target["code"])
    counts = dict(plan.counts)
    assert counts["Người dân (địa chỉ)"] == 1 and counts["Khoá API"] == 1
    assert counts["Điểm đến (QR)"] == 2 and counts["Địa bàn con"] == 1

    await region_admin.merge_villages(source["code"], target["code"], by=None)

    tid, tpath = target["id"], target["path"]
    assert await Region.count().where(Region.id == source["id"]) == 0
    for table, key, column in [
        (Person, "person", "region"), (HealthDeclaration, "declaration", "region"),
        (ArrivalDeclaration, "arrival", "destination_region"),
        (ArrivalDeclaration, "arrival", "origin_region"), (ArrivalPlace, "place", "region"),
        (Venue, "venue", "region"), (Checkpoint, "checkpoint", "region"),
        (Officer, "officer", "region"), (Policy, "policy", "target_region"),
        (ApiKey, "api_key", "region"),
    ]:
        assert await _value(table, refs[key], column) == tid, (table, column)
        assert await _value(table, kept[key], column) == tid
    for table, key, column in [
        (ArrivalDeclaration, "arrival", "destination_path"), (ArrivalPlace, "place", "path"),
        (Venue, "venue", "region_path"), (Policy, "policy", "target_path"),
        (ApiKey, "api_key", "region_path"),
    ]:
        assert await _value(table, refs[key], column) == tpath, (table, column)
    moved_point = await Region.select().where(Region.id == point["id"]).first()
    assert moved_point["parent"] == tid and moved_point["path"] == f"{tpath}{point['code']}/"
    assert await _value(Venue, point_venue, "region_path") == moved_point["path"]
    assert await DailyCount.count().where(DailyCount.day == day) == 0  # counted again later
    assert await DailyCount.count().where(DailyCount.region_path.like(f"{source['path']}%")) == 0
    entry = await AuditEntry.select().where(AuditEntry.action == "region.merge").order_by(
        AuditEntry.id, ascending=False).first()
    assert source["code"] in entry["detail"] and target["code"] in entry["detail"]


async def test_merge_refusals_leave_everything_in_place(database):
    tree = await _tree()
    cases = [
        (tree["a"], tree["a"], "region.merge_self"),
        (tree["a"], tree["far"], "region.merge_ward"),
        (tree["ward"], tree["other_ward"], "region.merge_kind"),
        (tree["a"], tree["ward"], "region.merge_kind"),
        (tree["a"], {"code": "NOWHERE"}, "region.unknown"),
    ]
    for source, target, code in cases:
        with pytest.raises(InputError) as caught:
            await region_admin.merge_villages(source["code"], target["code"])
        assert caught.value.code == code
    assert await Region.count().where(Region.path.like(f"{tree['province']['path']}%")) == 6


async def test_rename_changes_only_the_name_and_search_finds_it(database, settings):
    tree = await _tree()
    village = tree["a"]
    person = await _insert(Person, full_name="Nguyễn Văn A", id_type="none", birth_year=1990,
                           sex="male", region=village["id"],
                           qr_reference=tokens.new_reference(), id_hash=_hex())
    label = (await people.persons_by_ids([person], settings))[0].region_label
    assert label == "Thôn Đông, Phường thử, Tỉnh thử"  # and now kept in process
    view = await region_admin.rename(village["code"], "  Thôn   Đông Hòa ", by=None)
    assert view.name == "Thôn Đông Hòa" and view.code == village["code"]
    row = await Region.select().where(Region.id == village["id"]).first()
    assert row["path"] == village["path"] and row["name_folded"] == "thon dong hoa"
    found = await regions.search("dong hoa", within=tree["ward"]["code"])
    assert [v.code for v in found] == [village["code"]]
    with pytest.raises(FormErrors) as caught:
        await region_admin.rename(village["code"], "  ")
    assert caught.value.errors["name"].code == "region.name_required"
    with pytest.raises(FormErrors) as caught:
        await region_admin.rename(village["code"], "thon tay")  # a sibling's name, folded
    assert caught.value.errors["name"].code == "region.name_taken"
    with pytest.raises(FormErrors):
        await region_admin.rename(village["code"], "x" * 201)
    assert (await regions.get(village["code"])).name == "Thôn Đông Hòa"
    label = (await people.persons_by_ids([person], settings))[0].region_label
    assert label == "Thôn Đông Hòa, Phường thử, Tỉnh thử"  # the rename forgot the kept label


async def test_daily_count_days_are_read_as_dates():
    assert region_admin._day("2021-08-01") == date(2021, 8, 1)
