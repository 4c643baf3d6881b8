"""`khaibao demo --no-serve` on a fresh SQLite file: what a first-time user gets, twice."""

import os
import sqlite3
import subprocess
import sys


def _demo(tmp_path) -> str:
    env = {**os.environ, "KHAIBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
           "KHAIBAO_SMS_BACKEND": "console"}
    result = subprocess.run([sys.executable, "-m", "khaibao.cli", "demo", "--no-serve"],
                            env=env, capture_output=True, text=True, timeout=300, check=True)
    return result.stdout


def test_demo_data_is_added_once_with_a_fresh_admin_link(tmp_path):
    first = _demo(tmp_path)
    assert "3 new demo families" in first
    # What to open comes last: the URL, after the demo phones, a poster and the admin link.
    lines = first.strip().splitlines()
    assert lines[-1] == "Khai Báo: http://localhost:8000"
    link = next(line.strip() for line in lines if "/can-bo/dang-ky/" in line)
    assert link.startswith("http://localhost:8000/can-bo/dang-ky/")
    assert "0905000001, 0935000002, 0772000003" in first
    # Demo BHYT cards to try with "Điền từ thẻ BHYT" (the demo registry).
    assert "GD4464600000001" in next(line for line in lines if "BHYT" in line)
    poster = next(line.split()[-1] for line in lines if "venue poster" in line)
    assert poster.startswith("http://localhost:8000/v/")
    assert len(lines) <= 12  # a newcomer reads all of it

    second = _demo(tmp_path)
    assert "0 new demo families" in second
    assert link not in second  # a new link at every start

    database = sqlite3.connect(tmp_path / "demo.sqlite3")
    count = lambda sql: database.execute(sql).fetchone()[0]  # noqa: E731
    assert count("SELECT count(*) FROM policy") == 4
    assert count("SELECT count(*) FROM insurance_record WHERE region_code != ''") == 3
    assert count("SELECT count(*) FROM arrival_declaration "
                 "WHERE client_ref NOT LIKE 'demo-bulk-%'") == 2
    # dashboard data: thousands of declarations over 30 days, added once
    assert "Dashboard data: 4000 declarations" in first and "Dashboard data" not in second
    assert count("SELECT count(*) FROM health_declaration "
                 "WHERE client_ref LIKE 'demo-bulk-%'") == 4000
    # over 20 days: within the default 21-day retention, so the daily purge keeps them
    assert count("SELECT count(DISTINCT date(submitted_at)) FROM health_declaration") >= 18
    assert count("SELECT count(*) FROM health_declaration "
                 "WHERE submitted_at < datetime('now', '-21 days')") == 0
    assert count("SELECT count(*) FROM check_in") == 2500
    assert count("SELECT count(*) FROM check_pass") == 800
    assert count("SELECT count(*) FROM region WHERE kind IN "
                 "('village', 'residential_group', 'point')") == 12
    assert count("SELECT count(*) FROM officer WHERE role = 'admin'") == 1
    # Only the newest link works: the first run's link was revoked by the second.
    assert count("SELECT count(*) FROM enrollment_link WHERE revoked_at IS NULL "
                 "AND used_at IS NULL") == 1
    # Every demo arrival goes to a village or residential group inside Huế.
    paths = [row[0] for row in database.execute(
        "SELECT destination_path FROM arrival_declaration "
        "WHERE client_ref NOT LIKE 'demo-bulk-%'")]
    assert all(path.startswith("/VN/VN-46/") and path.count("/") == 5 for path in paths)
