"""Small helpers shared by the test suites."""

import asyncio
import contextlib
import random
import re
import sys
import uuid

# Prefixes assigned to Vietnamese mobile networks (Viettel, VinaPhone, MobiFone).
MOBILE_PREFIXES = ("090", "093", "097", "098", "091", "094", "086", "088", "096", "070", "032")


def random_mobile() -> str:
    """A random Vietnamese mobile number in national form, e.g. 0905123456."""
    return random.choice(MOBILE_PREFIXES) + "".join(random.choices("0123456789", k=7))


async def sign_in_officer(client, role: str = "checkpoint", *, name: str = "Cán bộ Kiểm Thử",
                          region_code: str | None = None, checkpoint_id: int | None = None):
    """Create an officer and give ``client`` (httpx) a live session for them, as a passkey
    sign-in would. Returns the officer's view."""
    from khaibao.officers import officers

    officer = await officers.create(name, role, region_code=region_code,
                                    checkpoint_id=checkpoint_id)
    raw = await officers.start_session(officer.id)
    client.cookies.set("khaibao_officer", raw)
    return officer


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (its forms' hidden field)."""
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def csrf_headers(html: str, *, htmx: bool = False) -> dict[str, str]:
    """Headers for an unsafe request made from the page ``html`` (as htmx would send them)."""
    headers = {"x-csrftoken": csrf_from(html)}
    if htmx:
        headers["HX-Request"] = "true"
    return headers


@contextlib.asynccontextmanager
async def only_admin(officer_id: int):
    """Make ``officer_id`` the only active admin for the block (other tests' admins are put
    back afterwards)."""
    from khaibao.officers import officers
    from khaibao.tables import Officer

    others = await Officer.select(Officer.id).where(
        (Officer.role == officers.ADMIN) & (Officer.active == True)  # noqa: E712
        & (Officer.id != officer_id))
    ids = [row["id"] for row in others]
    if ids:
        await Officer.update({Officer.active: False}).where(Officer.id.is_in(ids))
    try:
        yield
    finally:
        if ids:
            await Officer.update({Officer.active: True}).where(Officer.id.is_in(ids))


def tag() -> str:
    """A short random suffix: names stay unique in the test session's shared database."""
    return uuid.uuid4().hex[:6]


async def ward_in(province: str) -> str:
    """The code of the last ward (by code) of a province, e.g. ``ward_in("VN-46")``."""
    from khaibao.tables import Region

    row = await Region.select(Region.code).where(
        (Region.kind == "ward") & Region.path.like(f"/VN/{province}/%")).order_by(
        Region.code, ascending=False).first()
    return row["code"]


async def run_at_once(script: str, *args: str, processes: int = 2) -> list[str]:
    """``processes`` Python processes running ``script`` with ``args``, let go together: each
    prints "ready", waits for "go" on stdin, then prints its answer. Returns their outputs
    (each must exit 0)."""
    children = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *args, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(processes)]
    try:
        for child in children:
            line = await asyncio.wait_for(child.stdout.readline(), 30)
            assert line.strip() == b"ready", (await child.stderr.read()).decode()
        for child in children:
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        outputs = [await asyncio.wait_for(child.communicate(), 60) for child in children]
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    assert [child.returncode for child in children] == [0] * processes, [
        err for _, err in outputs]
    return [out.decode() for out, _ in outputs]
