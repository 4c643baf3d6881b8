"""A private region tree (province › two wards) filled with bulk data, for the dashboard,
export and API tests on the shared test database: each call makes new unique codes, so the
numbers of one test never include another's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from khaibao.demo import demo_bulk
from khaibao.officers import officers
from khaibao.tables import Checkpoint, Region


@dataclass
class Area:
    tag: str
    province: str
    ward_a: str
    ward_b: str
    origin: str
    paths: dict[str, str]
    reports: dict[str, demo_bulk.Report]


async def _region(code: str, name: str, kind: str, parent: int | None, path: str, depth: int):
    rows = await Region.insert(Region(code=code, name=name, name_folded=name.lower(), kind=kind,
                                      parent=parent, path=path, depth=depth)
                               ).returning(Region.id).run()
    return rows[0]["id"]


async def area(*, per_ward: int = 40, now: datetime | None = None) -> Area:
    """Two wards with ``per_ward`` declarations each (ward B gets twice as many arrivals)."""
    tag = "T" + uuid.uuid4().hex[:8].upper()
    now = now or datetime.now(UTC)
    root = await _region(f"{tag}-VN", "Quốc gia thử", "country", None, f"/{tag}-VN/", 0)
    prov_path = f"/{tag}-VN/{tag}-P/"
    prov = await _region(f"{tag}-P", "Tỉnh Thử", "province", root, prov_path, 1)
    paths = {"province": prov_path}
    for ward in ("A", "B"):
        paths[ward] = f"{prov_path}{tag}-{ward}/"
        await _region(f"{tag}-{ward}", f"Phường {ward} {tag}", "ward", prov, paths[ward], 2)
    other = f"/{tag}-VN/{tag}-Q/"
    other_id = await _region(f"{tag}-Q", "Tỉnh Nơi Đi", "province", root, other, 1)
    await _region(f"{tag}-QW", "Xã Nơi Đi", "ward", other_id, f"{other}{tag}-QW/", 2)
    officer = await officers.create("Cán bộ chốt thử", officers.CHECKPOINT)
    reports = {}
    for index, ward in enumerate(("A", "B")):
        ward_id = (await Region.select(Region.id).where(
            Region.code == f"{tag}-{ward}").first().run())["id"]
        cp = await Checkpoint.insert(Checkpoint(name=f"Chốt {ward} {tag}", region=ward_id,
                                                created_at=now)).returning(Checkpoint.id).run()
        reports[ward] = await demo_bulk.fill(
            ward_codes=[f"{tag}-{ward}"], origin_codes=[f"{tag}-QW"], officer_id=officer.id,
            checkpoint_ids=[cp[0]["id"]], persons=10, declarations=per_ward,
            arrivals=5 * (index + 1), checkins=20, scans=15, otp=0, days=6, now=now,
            seed=index + 1, tag=f"{tag}-{ward}")
    return Area(tag, f"{tag}-P", f"{tag}-A", f"{tag}-B", f"{tag}-QW", paths, reports)
