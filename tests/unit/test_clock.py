"""The product's one clock: every "now" comes from khaibao.clock, so tests set the time."""

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from khaibao.core import clock

SRC = Path(__file__).resolve().parents[2] / "src"


def test_frozen_at_sets_now_and_today_and_restores_them():
    moment = datetime(2031, 1, 1, 16, 59, tzinfo=UTC)  # 23:59 on 1 January in Huế
    with clock.frozen_at(moment):
        assert clock.now() == moment
        assert clock.today() == date(2031, 1, 1)
        with clock.frozen_at(moment + timedelta(minutes=1)):
            assert clock.today() == date(2031, 1, 2)
        assert clock.now() == moment
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_frozen_at_needs_an_aware_moment_and_answers_in_utc():
    with pytest.raises(ValueError):
        with clock.frozen_at(datetime(2031, 1, 1)):
            pass
    with clock.frozen_at(datetime(2031, 1, 1, 7, 0, tzinfo=timezone(timedelta(hours=7)))):
        assert clock.now() == datetime(2031, 1, 1, 0, 0, tzinfo=UTC)
        assert clock.now().tzinfo is UTC


def test_local_days_are_vietnam_days():
    assert clock.local_day(datetime(2026, 11, 24, 16, 59, tzinfo=UTC)) == date(2026, 11, 24)
    assert clock.local_day(datetime(2026, 11, 24, 17, 0, tzinfo=UTC)) == date(2026, 11, 25)
    assert clock.day_start(date(2026, 11, 25)) == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def _reads_the_wall_clock(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    owner = node.func.value
    name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
    return (name, node.func.attr) in {("datetime", "now"), ("datetime", "utcnow"),
                                      ("date", "today"), ("datetime", "today")}


def test_no_module_reads_the_wall_clock_but_the_clock():
    modules = [p for p in SRC.rglob("*.py") if "piccolo_migrations" not in p.parts]
    assert len(modules) > 50
    readers = sorted(f"{path.relative_to(SRC)}:{node.lineno}"
                     for path in modules if path.name != "clock.py"
                     for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                     if _reads_the_wall_clock(node))
    assert readers == []
