"""Checkpoint lists (the citizen's, the kiosk's, the officer's, the admin's) in the
Vietnamese alphabet: "Cảng…" before "Chốt…", "Dốc…" before "Đèo…"."""

from khaibao.arrivals import arrivals
from khaibao.checks import checkpoints
from tests.helpers import tag


async def test_checkpoints_are_listed_in_vietnamese_order(database):
    suffix = tag()
    names = [f"Đèo Hải Vân {suffix}", f"Chốt Phong Điền {suffix}", f"Ga Huế {suffix}",
             f"Cảng hàng không Phú Bài {suffix}", f"Dốc Sơn {suffix}"]
    for name in names:
        await checkpoints.create(name)
    expected = [f"Cảng hàng không Phú Bài {suffix}", f"Chốt Phong Điền {suffix}",
                f"Dốc Sơn {suffix}", f"Đèo Hải Vân {suffix}", f"Ga Huế {suffix}"]
    offered = [c.name for c in await arrivals.checkpoints() if c.name.endswith(suffix)]
    assert offered == expected
    managed = [c.name for c in await checkpoints.list_all() if c.name.endswith(suffix)]
    assert managed == expected
