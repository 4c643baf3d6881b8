"""The kiosk start page preselects a checkpoint (on both database engines): the officer's
own; for an officer without one, where they last started a kiosk; a paused one never."""

from __future__ import annotations

import random

from khaibao.arrivals import arrivals
from khaibao.checks import checkpoints
from khaibao.officers import officers
from tests.helpers import csrf_from, sign_in_officer


def selected(html: str, checkpoint_id: int) -> bool:
    return f'<option value="{checkpoint_id}" selected>' in html


async def test_an_admin_gets_the_checkpoint_of_their_last_kiosk(client):
    tag = random.randrange(10**6)
    first = await arrivals.add_checkpoint(f"Chốt Đầu {tag}")
    second = await arrivals.add_checkpoint(f"Chốt Sau {tag}")
    admin = await sign_in_officer(client, "admin", name=f"Quản trị {tag}")
    page = await client.get("/kiemtra/kiosk")
    assert not selected(page.text, first) and not selected(page.text, second)
    for checkpoint_id in (first, second):
        started = await client.post("/kiemtra/kiosk", data={
            "_csrf_token": csrf_from(page.text), "checkpoint": str(checkpoint_id)},
            follow_redirects=False)
        assert started.status_code == 303
        client.cookies.set("khaibao_officer", await officers.start_session(admin.id))
        page = await client.get("/kiemtra/kiosk")
        assert selected(page.text, checkpoint_id)  # the last one started
    await checkpoints.set_active(second, False)
    page = await client.get("/kiemtra/kiosk")
    assert not selected(page.text, second) and not selected(page.text, first)


async def test_an_officers_own_checkpoint_comes_first(client):
    tag = random.randrange(10**6)
    own = await arrivals.add_checkpoint(f"Chốt Riêng {tag}")
    await sign_in_officer(client, "checkpoint", checkpoint_id=own)
    assert selected((await client.get("/kiemtra/kiosk")).text, own)
