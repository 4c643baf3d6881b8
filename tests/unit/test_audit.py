"""The audit log: append-only entries, no raw identifiers in detail, newest first per person."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from citizen_factories import account, add_person, cccd, phone

from khaibao.core import audit
from khaibao.core.crypto import keyed_hash
from khaibao.qr.tokens import issue_person_token
from khaibao.tables import AuditEntry


async def test_record_and_for_persons(database):
    settings = database
    account_id = await account()
    a = await add_person(account_id, settings)
    b = await add_person(account_id, settings)
    other = await add_person(await account(), settings)
    base = datetime(2026, 3, 1, 8, tzinfo=UTC)
    await audit.record("person.lookup", actor_kind="officer", actor_id=3, person_id=a,
                       place="Chốt Phong Điền", detail={"via": "qr"}, now=base)
    await audit.record("person.lookup", actor_kind="officer", actor_id=3, person_id=b,
                       place="Chốt Phong Điền", now=base + timedelta(minutes=5))
    await audit.record("person.view", actor_kind="citizen", actor_id=account_id, person_id=a,
                       place="web", now=base + timedelta(minutes=9))
    await audit.record("person.lookup", actor_kind="officer", person_id=other,
                       now=base + timedelta(minutes=7))
    entries = await audit.for_persons([a, b])
    assert [(e.person_id, e.at) for e in entries] == [(b, base + timedelta(minutes=5)),
                                                      (a, base)]
    assert entries[1].place == "Chốt Phong Điền" and entries[1].actor_kind == "officer"
    both = await audit.for_persons([a], actor_kinds=("officer", "citizen"))
    assert [e.action for e in both] == ["person.view", "person.lookup"]
    assert len(await audit.for_persons([a, b], limit=1)) == 1
    assert await audit.for_persons([]) == []
    row = await AuditEntry.select().where(AuditEntry.person == a).order_by(AuditEntry.at).first()
    assert json.loads(row["detail"]) == {"via": "qr"}


@pytest.mark.parametrize("detail", [
    {"id_number": "046090001234"},
    {"phone": "+84912345678"},
    {"query": "tìm 046090001234 lúc 8h"},
    {"bhyt": "DN4460123456789"},
    {"numbers": [191234567]},
    {"nested": {"token": "KB1P7M2Q9XKD4R0J5T0J5T0J5T0J5TW"}},
])
async def test_raw_identifiers_are_refused(database, detail):
    with pytest.raises(ValueError):
        await audit.record("person.lookup", actor_kind="officer", detail=detail)


async def test_hashes_are_accepted(database):
    settings = database
    token, _reference = issue_person_token(settings.secret_key)
    detail = {"id": audit.fingerprint(cccd(), settings.secret_key),
              "phone": keyed_hash(phone(), settings.secret_key, "phone"),
              "token": audit.fingerprint(token, settings.secret_key), "count": 3}
    for _ in range(20):  # hex hashes never look like raw numbers, whatever their digits
        detail["again"] = keyed_hash(cccd(), settings.secret_key, "id")
        await audit.record("person.lookup", actor_kind="officer", detail=detail)


async def test_actor_kind_and_action_are_checked(database):
    with pytest.raises(ValueError):
        await audit.record("x", actor_kind="police")
    with pytest.raises(ValueError):
        await audit.record("", actor_kind="system")
