"""Setup scripts for tests and benchmarks that need data in a running server's database.

A script runs in a separate interpreter against that database (there is no CLI for officer
sessions): configuring the engine in the test process would rebind the tables of any other
test sharing the pytest run. A script defines ``async def main(settings)`` returning JSON-able
data and may use ``officer_session`` and ``make_person`` from SETUP_PRELUDE.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SETUP_PRELUDE = r"""
import asyncio, json, random, sys, uuid
from khaibao.citizens import person_input
from khaibao.core import db
from khaibao.citizens import declarations, people
from khaibao.officers import officers
from khaibao.citizens.declarations import HealthData
from khaibao.core.settings import Settings

async def officer_session(name, role, **fields):
    officer = await officers.create(name, role, **fields)
    return officer, await officers.start_session(officer.id)

async def make_person(settings, full_name, id_number, *, phone=None, birth_year="1990",
                      sex="male", declared=False):
    account = await people.account_for_phone(phone or f"+84905{random.randrange(10**6):06d}")
    data = person_input.parse_person({
        "full_name": full_name, "id_type": "cccd", "id_number": id_number,
        "birth_year": birth_year, "sex": sex, "nationality": "VN", "region": "",
        "address_detail": "", "bhyt": ""})
    async with db.write_transaction():
        person_id = await people.create_person(account, data, settings, is_owner=True,
                                               channel="self")
    if declared:
        await declarations.submit(account, person_ids=[person_id], new_persons=[],
                                  health=HealthData("", (), (), True),
                                  client_ref=uuid.uuid4().hex, settings=settings)
    return account, person_id
"""

SETUP_RUN = r"""
async def _run():
    settings = Settings.from_env()
    db.configure(settings)
    await db.connect()
    try:
        result = await main(settings)
    finally:
        await db.disconnect()
    print(json.dumps(result))

asyncio.run(_run())
"""


def run_script(script: str, *args: str, env: dict[str, str], cwd: str | Path,
               timeout: float | None = 60) -> Any:
    """Runs a setup ``script`` with ``args`` in sys.argv[1:] against the database that ``env``
    names; returns what its ``main(settings)`` returned."""
    done = subprocess.run([sys.executable, "-c", SETUP_PRELUDE + script + SETUP_RUN, *args],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"setup script failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])
