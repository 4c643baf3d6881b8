"""The region tree service: Vietnam import, villages CSV, tree reads, search, picker state."""

import dataclasses
import time

import pytest

from khaibao.core.text import fold_diacritics
from khaibao.regions import region_picker, regions
from khaibao.tables import Region

HUE, THUAN_AN = "VN-46", "VN-46-19900"
PHU_XUAN = "VN-46-19768"  # the CSV tests' ward: nothing else here uses it
TOTAL = 1 + 34 + 3321


@pytest.fixture
async def vietnam(database):
    await regions.ensure_vietnam_loaded()


async def test_import_vietnam_is_idempotent_and_fast(database):
    started = time.perf_counter()
    first = await regions.import_vietnam()
    assert time.perf_counter() - started < 5
    assert first.ok and first.added + first.updated + first.unchanged == TOTAL
    calls = []
    again = await regions.import_vietnam(progress=lambda done, total: calls.append((done, total)))
    assert (again.added, again.updated, again.unchanged) == (0, 0, TOTAL)
    assert calls[-1] == (TOTAL, TOTAL)
    assert await Region.count().where(Region.code == THUAN_AN) == 1
    in_vietnam = Region.path.like("/VN/%")
    assert await Region.count().where(in_vietnam, Region.kind == "province") == 34
    assert await Region.count().where(in_vietnam, Region.kind == "ward") == 3321
    assert "3356" in str(again)


async def test_reimport_restores_names_and_missing_wards(vietnam):
    await Region.update({Region.name: "Phường Sai Tên"}).where(Region.code == THUAN_AN)
    remote = "VN-96-32248"  # a ward at the far end of the list, used by no other test
    await Region.delete().where(Region.code == remote)
    report = await regions.import_vietnam()
    assert (report.added, report.updated) == (1, 1)
    ward = await regions.get(THUAN_AN)
    assert ward.name == "Phường Thuận An"
    assert (await regions.get(remote)).parent_code == "VN-96"


async def test_tree_codes_paths_and_depths(vietnam):
    ward = await regions.get(THUAN_AN)
    assert ward.path == "/VN/VN-46/VN-46-19900/" and ward.depth == 2
    assert ward.kind == "ward" and ward.parent_code == HUE
    row = await Region.select(Region.name_folded).where(Region.code == THUAN_AN).first()
    assert row["name_folded"] == "phuong thuan an"
    country = await regions.get("VN")
    assert (country.name, country.depth, country.parent_code) == ("Việt Nam", 0, None)
    assert await regions.get("VN-99-00000") is None


async def test_ancestors_root_to_self_and_label(vietnam):
    chain = await regions.ancestors(THUAN_AN)
    assert [v.code for v in chain] == ["VN", HUE, THUAN_AN]
    assert regions.label(chain) == "Phường Thuận An, Thành phố Huế"
    assert regions.label(chain[-1]) == "Phường Thuận An, Thành phố Huế"
    assert regions.label(chain[1]) == "Thành phố Huế"
    assert await regions.ancestors("nope") == []


async def test_children_sorted_vietnamese_aware(vietnam):
    provinces = await regions.children("VN")
    assert len(provinces) == 34
    names = [v.name for v in await regions.children(HUE)]
    assert "Phường Thuận An" in names
    # the Vietnamese alphabet: đ is the letter after d, tones count only between equal letters
    assert names.index("Xã Đan Điền") < names.index("Xã Hưng Lộc")
    assert names.index("Xã Chân Mây – Lăng Cô") < names.index("Xã Đan Điền")
    named = [dataclasses.replace(provinces[0], name=name) for name in (
        "Xã Đà Sơn", "Xã Duy Tân", "Tổ 10", "Tổ 2", "Xã Ea Kar", "Xã Dạ Lê", "Xã Da Ra",
        "Tô 3", "thôn 10", "Thôn 9")]
    assert [v.name for v in sorted(named, key=regions.sort_key)] == [
        "Thôn 9", "thôn 10", "Tổ 2", "Tô 3", "Tổ 10", "Xã Dạ Lê", "Xã Da Ra", "Xã Duy Tân",
        "Xã Đà Sơn", "Xã Ea Kar"]  # numbers by value before tones and case
    assert names.index("Xã A Lưới 2") < names.index("Xã A Lưới 5")
    assert "VN" in [v.code for v in await regions.children(None)]


async def test_is_within(vietnam):
    assert await regions.is_within(THUAN_AN, HUE)
    assert await regions.is_within(THUAN_AN, "VN")
    assert await regions.is_within(HUE, HUE)
    assert not await regions.is_within(THUAN_AN, "VN-79")
    assert not await regions.is_within(HUE, THUAN_AN)
    assert not await regions.is_within("nope", "VN")


@pytest.mark.parametrize("text", ["thuan an", "Thuận An", "THUAN AN", "  thuận   an "])
async def test_search_ignores_case_and_diacritics(vietnam, text):
    results = await regions.search(text)
    assert results[0].code == THUAN_AN  # Huế's before Hồ Chí Minh's, both whole-name matches
    assert results[0].label == "Phường Thuận An, Thành phố Huế"
    assert "VN-79-25978" in [v.code for v in results]


async def test_search_ranks_words_before_substrings(vietnam):
    results = await regions.search("hue")
    assert results[0].code == HUE and results[0].name == "Thành phố Huế"
    assert await regions.search("") == [] and await regions.search("%_") == []
    ranked = [fold_diacritics(v.name) for v in await regions.search("uan", limit=200)]
    word_starts = [name.startswith("uan") or " uan" in name for name in ranked]
    assert word_starts == sorted(word_starts, reverse=True)  # "Uẩn…" before "Thuận…"


async def test_search_within_a_subtree_and_by_kind(vietnam):
    inside = await regions.search("thuan an", within=HUE)
    assert [v.code for v in inside] == [THUAN_AN]
    assert await regions.search("hue", within=HUE) == []  # the root itself is not a result
    assert [v.code for v in await regions.search("hue", kinds=("province",))] == [HUE]
    assert len(await regions.search("phuong", limit=3)) == 3


def write_csv(tmp_path, text, *, bom=False, name="villages.csv"):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


async def test_villages_csv_import_and_reimport(vietnam, tmp_path):
    path = write_csv(tmp_path, "ward_code,name,kind\n"
                               "19768,Thôn Đông,village\n"
                               f"{PHU_XUAN},Tổ dân phố 2,residential_group\n"
                               "19768,  Chợ  Phú Xuân ,point\n"
                               "19768,Tổ dân phố 10,tổ dân phố\n"
                               "19768,Thôn Tây,\n", bom=True)
    report = await regions.import_villages_csv(path)
    assert report.ok, report.errors
    assert (report.added, report.updated) == (5, 0)
    kids = await regions.children(PHU_XUAN)
    assert [v.name for v in kids] == [
        "Chợ Phú Xuân", "Thôn Đông", "Thôn Tây", "Tổ dân phố 2", "Tổ dân phố 10"]
    assert {v.kind for v in kids} == {"village", "residential_group", "point"}
    dong = next(v for v in kids if v.name == "Thôn Đông")
    assert dong.depth == 3 and dong.path == f"/VN/VN-46/{PHU_XUAN}/{dong.code}/"
    label = regions.label(await regions.get(dong.code))
    assert label == "Thôn Đông, Phường Phú Xuân, Thành phố Huế"
    again = await regions.import_villages_csv(path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    # same ward + name (case aside) → same region; its kind and spelling are updated
    fixed = write_csv(tmp_path, "19768,THÔN ĐÔNG,residential_group\n", name="fix.csv")
    report = await regions.import_villages_csv(fixed)
    assert (report.added, report.updated) == (0, 1)
    assert (await regions.get(dong.code)).kind == "residential_group"


async def test_villages_csv_errors_have_line_numbers_and_import_nothing(vietnam, tmp_path):
    path = write_csv(tmp_path, "ward_code,name,kind\n"
                               "19768,Thôn Mới Một,village\n"
                               "99999,Thôn Lạc,village\n"
                               "19768,,village\n"
                               "\n"
                               "19768,Thôn Mới Hai,castle\n"
                               "19768,thôn mới một,village\n"
                               f"19768,Thôn {'Dài' * 70},village\n")
    before = await Region.count()
    report = await regions.import_villages_csv(path)
    assert not report.ok
    lines = [line for line, _ in report.errors]
    assert lines == [3, 4, 6, 7, 8]
    messages = dict(report.errors)
    assert "99999" in messages[3]
    assert "Thiếu tên" in messages[4]
    assert "castle" in messages[6]
    assert "dòng 2" in messages[7]
    assert "200" in messages[8]
    assert report.added == 0 and await Region.count() == before
    assert "Dòng 3" in str(report)


async def test_villages_csv_rejects_non_utf8(vietnam, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("ward_code,name\n19768,Thôn X\n".encode("cp1258"))
    report = await regions.import_villages_csv(path)
    assert report.errors and report.errors[0][0] == 2


async def test_picker_state_cascades_and_drops_inconsistent_choices(vietnam):
    state = await region_picker.picker()
    assert [lvl.kind for lvl in state.levels] == ["province", "ward"]
    assert len(state.levels[0].options) == 34 and not state.levels[1].enabled
    assert state.selected is None and not state.complete
    state = await region_picker.picker(chosen=[HUE, THUAN_AN])
    assert state.selected.code == THUAN_AN and state.complete
    assert state.selected.label == "Phường Thuận An, Thành phố Huế"
    state = await region_picker.picker(chosen=["VN-79", THUAN_AN])  # province changed: ward dropped
    assert state.selected.code == "VN-79" and state.levels[1].selected is None
    state = await region_picker.picker(pick=THUAN_AN)
    assert [lvl.selected for lvl in state.levels] == [HUE, THUAN_AN]
    state = await region_picker.picker(root_code=HUE, levels=("ward",), pick="VN-79-25978")
    assert state.selected is None  # outside the root
    assert await region_picker.picker(root_code="nope") is None


async def test_picker_from_form_prefers_level_selects(vietnam):
    form = {"origin_province": HUE, "origin_ward": THUAN_AN, "origin": "VN-79"}
    assert (await region_picker.picker_from_form(form, "origin")).selected.code == THUAN_AN
    assert (await region_picker.picker_from_form({"origin": THUAN_AN}, "origin")).complete
    state = await region_picker.picker_from_form({"origin_province": HUE, "origin_ward": ""},
                                                 "origin")
    assert state.selected.code == HUE and not state.complete


async def test_picker_village_level_only_when_the_ward_has_villages(vietnam, tmp_path):
    await regions.import_villages_csv(write_csv(tmp_path, "19768,Thôn Đông,village\n"))
    levels = ("province", "ward", "village")
    state = await region_picker.picker(levels=levels, chosen=[HUE, THUAN_AN])
    assert [lvl.kind for lvl in state.levels] == ["province", "ward"] and state.complete
    state = await region_picker.picker(levels=levels, chosen=[HUE, PHU_XUAN])
    village = state.levels[2]
    assert village.kind == "village" and not village.required and state.complete
    assert "Thôn Đông" in [v.name for v in village.options]


@pytest.mark.parametrize("text", ["to dan pho 5 thuy xuan", "Tổ dân phố 5, Thủy Xuân",
                                  "thuy xuan to dan pho 5"])
async def test_search_takes_the_ward_after_or_before_the_village(vietnam, tmp_path, text):
    """What people type: the village and its ward together ("tổ dân phố 5 thủy xuân"). Many
    wards have a "Tổ dân phố 5"; the ward's words say which."""
    await regions.import_villages_csv(write_csv(
        tmp_path, "ward_code,name,kind\n19813,Tổ dân phố 5,residential_group\n"
        "19900,Tổ dân phố 5,residential_group\n"))
    results = await regions.search(text)
    assert results, text
    assert results[0].name == "Tổ dân phố 5"
    assert results[0].label.startswith("Tổ dân phố 5, Phường Thủy Xuân"), results[0].label
    assert all("Thủy Xuân" in v.label for v in results)
