"""The demo data shows every colour of the officer's check, including red because of symptoms
declared recently (within ``settings.check_declaration_days``)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.db_setup import run_script

ASSESS = r"""
from khaibao.core import clock
from khaibao.demo import demo
from khaibao.tables import Person
from khaibao.verdicts import verdicts

async def main(settings):
    phones = ["+84" + phone[1:] for phone in demo.DEMO_PHONES]
    rows = await Person.select(Person.id, Person.full_name).where(
        Person.account.phone.is_in(phones))
    found = []
    for row in rows:
        verdict = await verdicts.verdict_of(row["id"], settings, at=clock.now())
        colour, reasons, declaration = verdict.colour, verdict.reasons, verdict.declaration
        found.append({"name": row["full_name"], "colour": colour, "reasons": reasons,
                      "symptoms": list(declaration.symptoms) if declaration else []})
    return found
"""


def test_demo_has_a_person_red_because_of_recent_symptoms(tmp_path):
    env = {**os.environ, "KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
           "KHAIBAO_SMS_BACKEND": "console"}
    subprocess.run([sys.executable, "-m", "khaibao.cli", "demo", "--no-serve"], env=env,
                   cwd=tmp_path, capture_output=True, text=True, timeout=300, check=True)
    persons = run_script(ASSESS, env=env, cwd=tmp_path, timeout=120)
    assert len(persons) == 5
    red_by_symptoms = [p for p in persons if p["colour"] == "red" and any(
        r.startswith("Có triệu chứng trong lần khai báo y tế gần nhất") for r in p["reasons"])]
    assert [p["name"] for p in red_by_symptoms] == ["Lê Thị Cúc"]
    assert red_by_symptoms[0]["symptoms"] == ["Ho"]
    # the other colours are there too
    assert {p["colour"] for p in persons} >= {"green", "red"}
