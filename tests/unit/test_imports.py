"""Import of declarations (JSON lines in the API's schema): round trip from the feed,
de-duplication of rows and persons, bad lines reported, and the CLI command."""

import json
import os
import subprocess
import sys
import uuid

from khaibao.admin import feeds, imports
from khaibao.tables import ArrivalDeclaration, HealthDeclaration, Person
from tests.unit import dashboard_factories


async def test_feed_records_import_once_and_merge_persons(database, settings):
    area = await dashboard_factories.area(per_ward=9)
    window = feeds.Window(path=area.paths["A"])
    lines = []
    for kind in ("health_declaration", "arrival"):
        async for batch in feeds.batches(kind, window):
            for row in batch:
                record = feeds.record(kind, row, b"another-province-key-32-bytes!!!")
                record["client_ref"] = "other-" + record["client_ref"]
                lines.append(json.dumps(record))
    assert len(lines) == 9 + 5
    persons_before = await Person.count().run()
    report = await imports.import_lines(lines)
    assert report.added == 14 and report.duplicates == 0 and report.errors == []
    # each source person became one person here (9 declarations of at most 10 persons)
    assert 0 < report.persons_added <= 10
    assert await Person.count().run() == persons_before + report.persons_added
    imported = await HealthDeclaration.select().where(
        HealthDeclaration.client_ref.like(f"other-{area.tag}-A-%")).run()
    assert len(imported) == 9 and all(r["person"] for r in imported)
    assert await ArrivalDeclaration.count().where(
        ArrivalDeclaration.client_ref.like(f"other-{area.tag}-A-%")).run() == 5

    again = await imports.import_lines(lines)
    assert again.added == 0 and again.duplicates == 14 and again.persons_added == 0


async def test_bad_lines_are_reported_and_good_ones_kept(database):
    ref = uuid.uuid4().hex
    good = {"type": "health_declaration", "client_ref": f"imp-{ref}",
            "submitted_at": "2026-11-20T08:00:00+07:00", "region_code": None,
            "has_symptoms": True, "symptoms": ["cough"], "exposures": [],
            "places_visited": "Chợ Đông Ba",
            "person": {"ref": ref, "full_name": "Lê Văn Tám", "id_masked": "",
                       "birth_year": 1980, "sex": "male", "nationality": "VN"}}
    lines = ["not json", json.dumps({"type": "other"}), json.dumps(good), json.dumps(good),
             json.dumps({**good, "client_ref": f"imp2-{ref}", "submitted_at": "soon"}), ""]
    report = await imports.import_lines(lines)
    assert report.added == 1 and report.duplicates == 1
    assert [line for line, _m in report.errors] == [1, 2, 5]
    row = await HealthDeclaration.select().where(
        HealthDeclaration.client_ref == f"imp-{ref}").first().run()
    assert row["has_symptoms"] and row["symptoms"] == "cough"


def test_cli_imports_a_file(tmp_path):
    env = {**os.environ, "KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'i.sqlite3'}"}
    env.pop("KHAIBAO_TEST_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "khaibao.cli", "migrate"], env=env, check=True,
                   capture_output=True, cwd=tmp_path, timeout=120)
    record = {"type": "health_declaration", "client_ref": "cli-1",
              "submitted_at": "2026-11-20T01:00:00Z", "person": {
                  "ref": "p1", "full_name": "Ngô Thị Mơ", "birth_year": 1999, "sex": "female"}}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "khaibao.cli", "import-declarations",
                             str(path)], env=env, capture_output=True, text=True, cwd=tmp_path,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Imported 1 declaration(s), 1 already here" in result.stdout


async def test_unknown_codes_are_refused_with_their_line(database):
    """The import goes through the forms' own lists: a symptom, exposure, channel or transport
    the product does not know is a bad line, not a row no screen can show."""
    ref = uuid.uuid4().hex
    health = {"type": "health_declaration", "client_ref": f"code-{ref}",
              "submitted_at": "2026-11-20T08:00:00+07:00", "region_code": None,
              "has_symptoms": True, "symptoms": ["cough"], "exposures": ["confirmed_case"],
              "channel": "paper", "places_visited": "",
              "person": {"ref": ref, "full_name": "Lê Văn Tám", "id_masked": "",
                         "birth_year": 1980, "sex": "male", "nationality": "VN"}}
    arrival = {**health, "type": "arrival", "arrival_at": "2026-11-20T08:00:00+07:00",
               "departure_date": "2026-11-19", "destination_region_code": "NOPE",
               "transport": "rocket"}
    lines = [json.dumps({**health, "client_ref": f"code1-{ref}", "symptoms": ["zombie"]}),
             json.dumps({**health, "client_ref": f"code2-{ref}", "exposures": ["aliens"]}),
             json.dumps({**health, "client_ref": f"code3-{ref}", "channel": "pigeon"}),
             json.dumps({**arrival, "client_ref": f"code4-{ref}"}),
             json.dumps(health)]
    report = await imports.import_lines(lines)
    messages = dict(report.errors)
    assert sorted(messages) == [1, 2, 3, 4]
    assert "zombie" in messages[1] and "aliens" in messages[2] and "pigeon" in messages[3]
    assert "rocket" in messages[4]
    assert report.added == 1
    row = await HealthDeclaration.select().where(
        HealthDeclaration.client_ref == f"code-{ref}").first().run()
    assert row["exposures"] == "confirmed_case" and row["channel"] == "paper"
