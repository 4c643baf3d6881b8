"""Administration forms refuse what would confuse people later: two checkpoints or two venues
of one area with the same name (case and repeated spaces ignored, diacritics not), a venue
outside the province, visitor counts that are decimals, two passkeys of one officer with the
same name — also when two admins submit at the same moment."""

from __future__ import annotations

import asyncio

import pytest

from khaibao.checks import checkpoints
from khaibao.core.errors import FormErrors, InputError
from khaibao.officers import officer_passkeys, officers, passkeys
from khaibao.tables import Passkey
from khaibao.venues import venues
from khaibao.vn.collation import name_key
from tests.helpers import tag, ward_in
from tests.soft_authenticator import SoftAuthenticator

# --- checkpoints -------------------------------------------------------------------------------

async def test_a_checkpoint_name_is_taken_whatever_its_case_and_spaces(database):
    name = f"Ga Huế {tag()}"
    first = await checkpoints.create(name)
    with pytest.raises(FormErrors) as caught:
        await checkpoints.create("  " + name.upper().replace(" ", "   ") + " ")
    assert set(caught.value.errors) == {"name"}
    error = caught.value.errors["name"]
    assert error.code == "checkpoint.name_taken"
    assert error.message("vi") == "Đã có chốt kiểm soát tên này."
    # diacritics make another name: "Ga Hué" is not "Ga Huế"
    other = await checkpoints.create(name.replace("Huế", "Hué"))
    # a paused checkpoint keeps its name (it can be reactivated)
    await checkpoints.set_active(first.id, False)
    with pytest.raises(FormErrors):
        await checkpoints.create(name)
    # renaming onto another checkpoint's name is refused; keeping one's own (recased) is fine
    with pytest.raises(FormErrors) as caught:
        await checkpoints.update(other.id, name.lower())
    assert caught.value.errors["name"].code == "checkpoint.name_taken"
    assert (await checkpoints.update(first.id, name.lower())).name == name.lower()


async def test_two_admins_adding_the_same_checkpoint_at_once_make_one(database):
    name = f"Chốt Cùng Lúc {tag()}"
    results = await asyncio.gather(*(checkpoints.create(name) for _ in range(4)),
                                   return_exceptions=True)
    made = [r for r in results if isinstance(r, checkpoints.CheckpointAdminView)]
    refused = [r for r in results if isinstance(r, FormErrors)]
    assert len(made) == 1 and len(refused) == 3, results
    assert sum(v.name == name for v in await checkpoints.list_all()) == 1


# --- venues: daily visitors --------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "count"), [
    ("1000", 1000), ("1.000", 1000), ("12,500", 12500), ("1 000", 1000),
    ("1.000.000", 1_000_000), ("  250 ", 250), ("1\u00a0000", 1000),
])
def test_visitor_counts_in_digits_or_groups_of_three(typed, count):
    form = {"name": "Chợ Thuận An", "kind": "market", "daily_visitors": typed}
    assert venues.parse_venue(form).daily_visitors == count


@pytest.mark.parametrize("typed", [
    "12.5", "1,5", "1.00", "1.0000", "0.500", "1.000,000", "1,000.5", "12.500,5", "1e3",
    "-5", "0", "1.000.001", "١٢٣",
])
def test_decimals_and_odd_groupings_are_not_visitor_counts(typed):
    form = {"name": "Chợ Thuận An", "kind": "market", "daily_visitors": typed}
    with pytest.raises(FormErrors) as caught:
        venues.parse_venue(form)
    assert set(caught.value.errors) == {"daily_visitors"}
    assert caught.value.errors["daily_visitors"].message("vi") == (
        "Số lượt khách mỗi ngày là một số từ 1 đến 1.000.000.")


# --- venues: area and name ---------------------------------------------------------------------

def venue(name: str, region: str | None = None) -> venues.VenueInput:
    return venues.parse_venue({"name": name, "kind": "market", "region": region or ""})


async def test_a_venue_lies_in_the_deployments_province(database, settings):
    outside = await ward_in("VN-01")  # Hà Nội
    with pytest.raises(FormErrors) as caught:
        await venues.create(venue(f"Chợ Hàng Da {tag()}", outside), settings)
    assert set(caught.value.errors) == {"region"}
    error = caught.value.errors["region"]
    assert error.code == "venue.region_outside"
    assert error.message("vi") == f"Địa bàn của điểm đến phải ở trong {settings.province_name}."
    inside = await venues.create(venue(f"Chợ Thuận An {tag()}", await ward_in(
        settings.province_code)), settings)
    whole = await venues.create(venue(f"Lễ hội Huế {tag()}", settings.province_code), settings)
    assert whole.region_code == settings.province_code
    # moving a venue out of the province is refused too, and nothing changes
    with pytest.raises(FormErrors) as caught:
        await venues.update(inside.id, venue(inside.name, outside), settings=settings)
    assert set(caught.value.errors) == {"region"}
    assert (await venues.get(inside.id)).region_code == inside.region_code


async def test_one_venue_of_a_name_per_area(database, settings):
    ward = await ward_in(settings.province_code)
    name = f"Chợ Thuận An {tag()}"
    first = await venues.create(venue(name, ward), settings)
    with pytest.raises(FormErrors) as caught:
        await venues.create(venue(f"  {name.upper()}  ", ward), settings)
    assert set(caught.value.errors) == {"name"}
    assert caught.value.errors["name"].message("vi") == "Đã có điểm đến tên này trong địa bàn này."
    # another area, or none, may have a venue of that name; paused venues keep theirs
    elsewhere = await venues.create(venue(name, settings.province_code), settings)
    no_area = await venues.create(venue(name), settings)
    await venues.set_active(first.id, False)
    with pytest.raises(FormErrors):
        await venues.create(venue(name, ward), settings)
    # among venues without an area the name is taken as well
    with pytest.raises(FormErrors) as caught:
        await venues.create(venue(name.lower()), settings)
    assert caught.value.errors["name"].code == "venue.name_taken"
    # an edit onto another venue's name and area is refused; editing oneself is not
    with pytest.raises(FormErrors):
        await venues.update(elsewhere.id, venue(name, ward), settings=settings)
    assert (await venues.get(elsewhere.id)).region_code == settings.province_code
    assert (await venues.update(no_area.id, venue(name.lower()), settings=settings)
            ).name == name.lower()


async def test_two_staff_registering_the_same_venue_at_once_make_one(database, settings):
    ward = await ward_in(settings.province_code)
    name = f"Chợ Cùng Lúc {tag()}"
    results = await asyncio.gather(*(venues.create(venue(name, ward), settings)
                                     for _ in range(4)), return_exceptions=True)
    assert sum(isinstance(r, venues.VenueView) for r in results) == 1, results
    assert sum(isinstance(r, FormErrors) for r in results) == 3, results
    assert sum(v.name == name for v in await venues.list_venues()) == 1


# --- passkeys ----------------------------------------------------------------------------------

async def register(settings, officer, name: str | None = None):
    options = await passkeys.registration_options(settings, officer)
    return await passkeys.finish_registration(settings, officer,
                                              SoftAuthenticator().create(options), name=name)


async def test_an_officer_cannot_give_two_passkeys_one_name(database, settings):
    officer = await officers.create("Lê Văn Cường", "checkpoint")
    laptop = await register(settings, officer, "Laptop quản trị")
    phone = await register(settings, officer, "Điện thoại")
    with pytest.raises(InputError) as caught:
        await officer_passkeys.rename(officer.id, phone.id, "  laptop   QUẢN TRỊ ")
    assert caught.value.code == "passkey.name_taken"
    assert caught.value.message("vi").startswith("Bạn đã có passkey tên này.")
    assert (await officer_passkeys.get_for(officer.id, phone.id)).name == "Điện thoại"
    # recasing one's own name is fine, another officer may use the name
    assert (await officer_passkeys.rename(officer.id, laptop.id, "Laptop Quản Trị")).name == (
        "Laptop Quản Trị")
    other = await officers.create("Trần Thị Bình", "checkpoint")
    assert (await register(settings, other, "Laptop quản trị")).name == "Laptop quản trị"
    # someone else's passkey is still not found, whatever the name
    with pytest.raises(InputError) as caught:
        await officer_passkeys.rename(other.id, phone.id, "Điện thoại")
    assert caught.value.code == "passkey.not_found"
    # the name typed before a new passkey's ceremony is checked the same way
    with pytest.raises(InputError) as caught:
        await officer_passkeys.check_new_name(officer.id, "laptop quản trị")
    assert caught.value.code == "passkey.name_taken"
    await officer_passkeys.check_new_name(officer.id, "Máy tính bảng")
    await officer_passkeys.check_new_name(officer.id, "")  # named automatically


async def test_automatic_passkey_names_are_numbered(database, settings):
    officer = await officers.create("Ngô Thị Dung", "checkpoint")
    today = officer_passkeys.default_name()
    assert await officer_passkeys.suggested_name(officer.id) == today
    first, second = await register(settings, officer), await register(settings, officer)
    assert [first.name, second.name] == [today, f"{today} (2)"]
    assert await officer_passkeys.suggested_name(officer.id) == f"{today} (3)"
    # a typed name taken meanwhile (two tabs) is numbered: the device already made the key
    raced = await register(settings, officer, today.upper())
    assert raced.name == f"{today.upper()} (3)"
    names = [r["name"] for r in await Passkey.select(Passkey.name).where(
        Passkey.officer == officer.id)]
    assert len({name_key(n) for n in names}) == len(names) == 3


def test_a_numbered_name_stays_within_the_limit():
    long = "x" * officer_passkeys.NAME_MAX
    numbered = officer_passkeys.numbered(long, {name_key(long)})
    assert numbered.endswith(" (2)") and len(numbered) == officer_passkeys.NAME_MAX
