"""A copy of the database gives away no ID number, BHYT number, OTP or session id in clear."""

import random
import shutil
import sqlite3
import subprocess

import pytest

from khaibao.citizens import declarations, people, person_input
from khaibao.core import db
from tests.helpers import random_mobile


async def test_database_dump_holds_no_id_number_in_clear(database, settings, tmp_path):
    cccd = "046" + "1" + f"{random.randint(80, 99)}" + "".join(random.choices("0123456789", k=6))
    birth_year = 1900 + int(cccd[4:6])
    bhyt_si = "".join(random.choices("0123456789", k=10))
    account_id = await people.account_for_phone("+84" + random_mobile()[1:])
    person = person_input.parse_person({
        "full_name": "Ngô Thị Dump", "id_type": "cccd", "id_number": cccd,
        "birth_year": str(birth_year), "sex": "female", "nationality": "VN", "region": "",
        "address_detail": "", "bhyt": bhyt_si,
    })
    await declarations.submit(account_id, person_ids=[], new_persons=[person],
                              health=declarations.HealthData("", (), (), True),
                              client_ref=f"dump-{random.randint(0, 10**9):09d}",
                              settings=settings)
    dump = _dump(settings, tmp_path)
    assert "Ngô Thị Dump" in dump  # the dump really contains the person
    assert cccd not in dump
    assert bhyt_si not in dump


def _dump(settings, tmp_path) -> str:
    if db.is_sqlite():
        copy = tmp_path / "copy.sqlite3"
        with sqlite3.connect(settings.sqlite_path) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        with sqlite3.connect(copy) as connection:
            return "\n".join(connection.iterdump())
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    return subprocess.run(["pg_dump", "--data-only", settings.database_url],
                          capture_output=True, text=True, check=True).stdout
