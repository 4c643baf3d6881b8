"""The health-insurance registry: all-or-nothing CSV import, upsert, lookup by BHYT number."""

import pytest
from citizen_factories import social_insurance_number

from khaibao.citizens import insurance
from khaibao.core.errors import InputError
from khaibao.tables import InsuranceRecord
from khaibao.vn.identity import Sex


def write(tmp_path, text: str, name: str = "bhyt.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def test_import_and_lookup(database, tmp_path):
    settings = database
    a, b = social_insurance_number(), social_insurance_number()
    path = write(tmp_path, "\ufeffbhyt,full_name,birth_year,sex\r\n"
                           f"HS446{a},  Nguyễn  Văn An ,2008,Nam\r\n"
                           f"{b},Trần Thị Bình,1985,Nữ\r\n"
                           "\r\n")
    seen = []
    report = await insurance.import_csv(path, settings, progress=seen.append)
    assert (report.added, report.updated, report.errors) == (2, 0, [])
    assert seen == [2]
    assert await insurance.lookup(f"hs4 46{a}", settings) == insurance.InsuranceMatch(
        "Nguyễn Văn An", 2008, Sex.MALE)
    # Any card with the same 10-digit number finds the record, and so do the 10 digits alone.
    assert (await insurance.lookup(f"DN479{a}", settings)).full_name == "Nguyễn Văn An"
    assert (await insurance.lookup(b, settings)).sex is Sex.FEMALE
    assert await insurance.lookup(social_insurance_number(), settings) is None


async def test_lookup_of_a_malformed_number_raises(database):
    with pytest.raises(InputError) as caught:
        await insurance.lookup("AB123", database)
    assert caught.value.code == "bhyt.format"


async def test_reimport_updates(database, tmp_path):
    settings = database
    a, b = social_insurance_number(), social_insurance_number()
    first = write(tmp_path, f"bhyt,full_name,birth_year,sex\n{a},Lê Văn Cũ,1970,male\n", "1.csv")
    assert (await insurance.import_csv(first, settings)).added == 1
    second = write(tmp_path, "sex,birth_year,full_name,bhyt,note\n"
                             f"female,1971,Lê Thị Mới,{a},x\nmale,1990,Hồ Văn Hai,{b},\n",
                   "2.csv")
    report = await insurance.import_csv(second, settings)
    assert (report.added, report.updated) == (1, 1)
    assert await insurance.lookup(a, settings) == insurance.InsuranceMatch(
        "Lê Thị Mới", 1971, Sex.FEMALE)


async def test_bad_rows_are_all_reported_and_nothing_is_imported(database, tmp_path):
    settings = database
    good, dup = social_insurance_number(), social_insurance_number()
    path = write(tmp_path, "bhyt,full_name,birth_year,sex\n"
                           f"{good},Võ Văn Tốt,1980,Nam\n"           # line 2
                           "12345,Võ Văn Sai,1980,Nam\n"               # 3: bad BHYT
                           f"{social_insurance_number()},,1980,Nam\n"  # 4: no name
                           f"{social_insurance_number()},Võ A,18x0,Nam\n"  # 5: bad year
                           f"{social_insurance_number()},Võ B,1980,X\n"    # 6: bad sex
                           f"{dup},Võ C,1980,Nữ\n"                       # 7
                           f"{dup},Võ D,1981,Nữ\n"                       # 8: duplicate of 7
                           f"{social_insurance_number()},Võ E,1980,Nam,extra\n")  # 9
    report = await insurance.import_csv(path, settings)
    assert (report.added, report.updated) == (0, 0)
    assert [line for line, _ in report.errors] == [3, 4, 5, 6, 8, 9]
    assert "dòng 7" in report.errors[4][1]
    assert "BHYT" in report.errors[0][1]
    assert await insurance.lookup(good, settings) is None


async def test_bad_header_and_encoding(database, tmp_path):
    settings = database
    report = await insurance.import_csv(write(tmp_path, "so_the,ten\n1,2\n"), settings)
    assert report.errors[0][0] == 1 and "bhyt" in report.errors[0][1]
    latin = write(tmp_path, "bhyt,full_name,birth_year,sex\n0123456789,Lê Thi,1990,Nam\n",
                  "latin.csv", encoding="cp1252")
    report = await insurance.import_csv(latin, settings)
    assert report.errors and report.errors[0][0] == 0


async def test_registry_holds_no_card_numbers(database, tmp_path):
    settings = database
    number = social_insurance_number()
    await insurance.import_csv(write(tmp_path, f"bhyt,full_name,birth_year,sex\n"
                                               f"TE146{number},Bé Ba,2020,Nữ\n"), settings)
    for row in await InsuranceRecord.select():
        assert all(number not in str(value) for value in row.values())


async def test_large_import_reports_progress(database, tmp_path):
    settings = database
    lines = ["bhyt,full_name,birth_year,sex"] + [
        f"{social_insurance_number()},Người Số {chr(65 + i % 26)},1990,Nam" for i in range(1200)]
    seen = []
    report = await insurance.import_csv(write(tmp_path, "\n".join(lines)), settings,
                                        progress=seen.append)
    assert report.added + report.updated == 1200 and seen == [500, 1000, 1200]


async def test_address_and_region_columns_are_imported_and_looked_up(database, tmp_path):
    settings = database
    a, b = social_insurance_number(), social_insurance_number()
    path = write(tmp_path, "bhyt,full_name,birth_year,sex,address,region\n"
                           f"{a},Võ Thị Hoa,1980,Nữ, 12  Nguyễn Huệ ,VN-46-19900\n"
                           f"{b},Hồ Văn Tư,1975,Nam,,\n")
    report = await insurance.import_csv(path, settings)
    assert (report.added, report.errors) == (2, [])
    assert await insurance.lookup(a, settings) == insurance.InsuranceMatch(
        "Võ Thị Hoa", 1980, Sex.FEMALE, "12 Nguyễn Huệ", "VN-46-19900")
    assert await insurance.lookup(b, settings) == insurance.InsuranceMatch(
        "Hồ Văn Tư", 1975, Sex.MALE, "", "")


async def test_bad_address_or_region_is_reported_by_line(database, tmp_path):
    settings = database
    a, b, c = (social_insurance_number() for _ in range(3))
    path = write(tmp_path, "bhyt,full_name,birth_year,sex,address,region\n"
                           f"{a},Võ Thị Hoa,1980,Nữ,{'x' * 201},\n"
                           f"{b},Hồ Văn Tư,1975,Nam,,VN-46-99999\n"
                           f"{c},Lê Văn Năm,1975,Nam,,VN-46\n")  # a province, not a ward
    report = await insurance.import_csv(path, settings)
    assert [line for line, _message in report.errors] == [2, 3, 4]
    assert "200" in report.errors[0][1]
    assert "VN-46-99999" in report.errors[1][1] and "VN-46" in report.errors[2][1]
    assert await insurance.lookup(a, settings) is None
