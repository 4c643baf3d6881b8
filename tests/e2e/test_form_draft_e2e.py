"""A declaration typed while the session ended elsewhere is not lost: the phone step says
why, and after the OTP the form comes back as typed — restored, not sent — and submits."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import pytest

from tests.e2e.conftest import run_setup, watch_csp
from tests.e2e.test_arrival_journey import choose_region
from tests.e2e.test_citizen_journey import fill_person, sign_in

pytestmark = pytest.mark.e2e

PLACES = "Quan trọng: đã đi Đà Nẵng, Hội An"
PLEDGE = "Tôi cam kết những thông tin trên là đúng sự thật"
EXPIRED = "Phiên đăng nhập đã hết. Hãy xác thực lại số điện thoại"

# "A minute later": the last code's resend wait is over (the limit itself is not touched).
MINUTE_LATER = r"""
from datetime import timedelta
from khaibao.tables import OtpCode, RateCounter

async def main(settings):
    phone = sys.argv[1]
    shift = timedelta(seconds=61)
    for row in await RateCounter.select().where(RateCounter.key.like(f"otp:%{phone}")):
        await RateCounter.update({RateCounter.window_start: db.aware(row["window_start"]) - shift}
                                 ).where(RateCounter.key == row["key"])
    for row in await OtpCode.select().where(OtpCode.phone == phone):
        await OtpCode.update({OtpCode.created_at: db.aware(row["created_at"]) - shift,
                              OtpCode.expires_at: db.aware(row["expires_at"]) - shift}
                             ).where(OtpCode.id == row["id"])
    return True
"""


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN")
    yield context
    context.close()


def sign_out_elsewhere(context) -> None:
    """"Đăng xuất" in a second tab of the same browser."""
    other = context.new_page()
    other.goto("/qr")
    other.get_by_role("button", name="Đăng xuất").click()
    other.wait_for_url("**/")
    other.close()


def sign_in_again(page, live_server, phone: str, button: str) -> None:
    run_setup(live_server, MINUTE_LATER, phone)
    page.get_by_label("Số điện thoại di động").fill("0" + phone[3:])
    page.get_by_role("button", name=button).click()
    code = page.get_by_label("Mã OTP")
    code.wait_for()
    code.fill(live_server.last_otp(phone))
    page.get_by_role("button", name="Xác thực").click()


def posts_to(page, path: str) -> list[str]:
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url)
            if r.method == "POST" and r.url.endswith(path) else None)
    return posts


def digits(n: int) -> str:
    """Random digits: ID numbers must not collide with other tests on the same server."""
    return "".join(random.choices("0123456789", k=n))


def drafts(page) -> list[str]:
    return page.evaluate(
        "Object.keys(sessionStorage).filter(k => k.startsWith('khaibao-draft:'))")


def fill_mother_and_child(page, cccd: str) -> None:
    """A mother (with her ward and street) and her child without papers, places and a cough."""
    fill_person(page.locator("#nguoi-moi-0"), name="Hoàng Thị Lan",
                id_type="Căn cước công dân (CCCD)", id_number=cccd,
                birth_year="1988", sex="Nữ", ward="Phường Thuận An")
    page.locator("#nguoi-moi-0").get_by_label("Số nhà, đường, thôn/tổ").fill("12 Nguyễn Văn Linh")
    page.get_by_role("button", name="+ Khai hộ người thân").click()
    child = page.locator("#nguoi-moi-1")
    child.wait_for()
    fill_person(child, name="Trần Minh Khôi", id_type="Chưa có giấy tờ (trẻ em)",
                id_number="000000000", birth_year="2019", sex="Nam")
    page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill(PLACES)
    page.get_by_label("Ho", exact=True).check()


def test_health_declaration_comes_back_after_signing_in_again(context, live_server):
    page = watch_csp(context.new_page())
    cccd = "046188" + digits(6)  # a woman born in 1988
    phone = sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    fill_mother_and_child(page, cccd)
    page.get_by_label(PLEDGE).check()

    sign_out_elsewhere(context)
    page.get_by_role("button", name="Gửi khai báo").click()

    page.wait_for_url(re.compile(r".*/kbyt\?tiep=/kbyt/khai-bao$"))
    notice = page.locator("[data-draft-notice]")
    notice.wait_for(state="visible")
    assert EXPIRED in notice.inner_text()
    assert drafts(page) == ["khaibao-draft:/kbyt/khai-bao"]

    sign_in_again(page, live_server, phone, "Khai báo y tế")
    page.wait_for_url(re.compile(r".*/kbyt/khai-bao\?khoi-phuc=1$"))
    sent = posts_to(page, "/kbyt/khai-bao")
    restored = page.locator("[data-draft-restored]")
    restored.wait_for(state="visible")
    assert "chưa được gửi" in restored.inner_text()

    owner, child = page.locator("#nguoi-moi-0"), page.locator("#nguoi-moi-1")
    assert owner.get_by_label("Họ và tên").input_value() == "Hoàng Thị Lan"
    assert owner.get_by_label("Loại giấy tờ").input_value() == "cccd"
    assert owner.get_by_label("Số CCCD/CMND").input_value() == cccd
    assert owner.get_by_label("Năm sinh").input_value() == "1988"
    assert owner.get_by_label("Nữ", exact=True).is_checked()
    assert owner.get_by_label("Số nhà, đường, thôn/tổ").input_value() == "12 Nguyễn Văn Linh"
    owner.get_by_text("Đã chọn: Phường Thuận An").wait_for()
    assert child.get_by_label("Họ và tên").input_value() == "Trần Minh Khôi"
    assert child.get_by_label("Số CCCD/CMND").input_value() == "000000000"
    assert child.get_by_label("Nam", exact=True).is_checked()
    assert page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố"
                             ).input_value() == PLACES
    assert page.get_by_label("Ho", exact=True).is_checked()
    assert not page.get_by_label("Sốt", exact=True).is_checked()
    assert page.get_by_label(PLEDGE).is_checked()
    csrf = page.locator("form#khai-bao input[name=_csrf_token]").input_value()
    assert csrf == page.evaluate(
        "JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken']")
    page.wait_for_timeout(500)
    assert sent == []  # restored, not sent

    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    cards = page.locator(".qr-card")
    assert cards.count() == 2
    assert "Hoàng Thị Lan" in cards.nth(0).inner_text()
    assert "Trần Minh Khôi" in cards.nth(1).inner_text()
    assert drafts(page) == []  # forgotten once sent
    assert page.csp_errors == []


def test_arrival_declaration_comes_back_after_signing_in_again(context, live_server):
    page = watch_csp(context.new_page())
    cccd = "001095" + digits(6)  # a man born in 1995
    phone = sign_in(page, live_server, button="Khai báo về Huế", start="/khaibao")
    page.wait_for_url("**/khaibao/khai-bao")
    fill_person(page.locator("#nguoi-moi-0"), name="Đỗ Quang Vinh",
                id_type="Căn cước công dân (CCCD)", id_number=cccd,
                birth_year="1995", sex="Nam")
    choose_region(page.locator("#origin_region-picker"),
                  ("Tỉnh / thành phố", "Thành phố Hà Nội"), ("Phường / xã", "Phường Hoàn Kiếm"))
    today = datetime.now()
    departure = (today - timedelta(days=1)).strftime("%Y-%m-%d")
    arrival = today.strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Ngày khởi hành").fill(departure)
    page.get_by_label("Dự kiến đến lúc").fill(arrival)
    page.get_by_label("Phương tiện").select_option(label="Xe khách")
    page.get_by_label("Biển số xe hoặc số hiệu chuyến bay/tàu").fill("29B-123.45")
    choose_region(page.locator("#destination_region-picker"),
                  ("Phường / xã", "Phường Thuận An"))
    page.get_by_label("Mục đích chuyến đi").fill("Thăm gia đình")

    sign_out_elsewhere(context)
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/khaibao\?tiep=/khaibao/khai-bao$"))
    page.locator("[data-draft-notice]").wait_for(state="visible")
    assert "Khai báo về Huế" in page.locator("h1").inner_text()  # the arrival's own step

    sign_in_again(page, live_server, phone, "Khai báo về Huế")
    page.wait_for_url(re.compile(r".*/khaibao/khai-bao\?khoi-phuc=1$"))
    sent = posts_to(page, "/khaibao/khai-bao")
    page.locator("[data-draft-restored]").wait_for(state="visible")
    owner = page.locator("#nguoi-moi-0")
    assert owner.get_by_label("Họ và tên").input_value() == "Đỗ Quang Vinh"
    assert owner.get_by_label("Số CCCD/CMND").input_value() == cccd
    assert page.get_by_label("Ngày khởi hành").input_value() == departure
    assert page.get_by_label("Dự kiến đến lúc").input_value() == arrival
    assert page.get_by_label("Phương tiện").locator("option:checked").inner_text() == "Xe khách"
    assert page.get_by_label("Biển số xe hoặc số hiệu chuyến bay/tàu"
                             ).input_value() == "29B-123.45"
    page.locator("#origin_region-picker").get_by_text("Đã chọn: Phường Hoàn Kiếm").wait_for()
    page.locator("#destination_region-picker").get_by_text(
        "Đã chọn: Phường Thuận An").wait_for()
    assert page.get_by_label("Mục đích chuyến đi").input_value() == "Thăm gia đình"
    page.wait_for_timeout(500)
    assert sent == []

    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/khaibao/tra-cuu\?ref=.*"))
    assert "Đỗ Quang Vinh" in page.locator("main").inner_text()
    assert drafts(page) == []
    assert page.csp_errors == []


def test_venue_check_in_keeps_its_way_back(context, live_server):
    """A declaration started from a venue's poster returns to the venue after all that."""
    page = watch_csp(context.new_page())
    venue = run_setup(live_server, r"""
from khaibao.venues import venues

async def main(settings):
    venue = await venues.create(venues.VenueInput(name="Chợ Bến Ngự", kind="market",
                                                  address="Phan Đình Phùng"), settings)
    return venue.code(settings.secret_key)
""")
    phone = sign_in(page, live_server, button="Tiếp tục để check-in", start=f"/v/{venue}")
    page.wait_for_url(f"**/kbyt/khai-bao?tiep=/v/{venue}")
    fill_person(page.locator("#nguoi-moi-0"), name="Lê Thị Hằng",
                id_type="Chứng minh nhân dân (CMND)", id_number="19" + digits(7),
                birth_year="1979", sex="Nữ")
    page.get_by_label(PLEDGE).check()
    sign_out_elsewhere(context)
    page.get_by_role("button", name="Gửi khai báo").click()
    page.locator("[data-draft-notice]").wait_for(state="visible")
    sign_in_again(page, live_server, phone, "Khai báo y tế")
    page.wait_for_url(re.compile(rf".*/kbyt/khai-bao\?tiep=/v/{venue}&khoi-phuc=1$"))
    page.locator("[data-draft-restored]").wait_for(state="visible")
    assert page.get_by_label(PLEDGE).is_checked()
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(rf"^[^?]*/v/{venue}$"))
    assert "Lê Thị Hằng" in page.locator("main").inner_text()
    assert page.csp_errors == []


PERSONS = r"""
async def main(settings):
    phone, names = sys.argv[1], sys.argv[2:]
    ids = []
    for name in names:
        cccd = "046090" + "".join(random.choices("0123456789", k=6))  # a man born in 1990
        ids.append((await make_person(settings, name, cccd, phone=phone, declared=True))[1])
    return ids
"""


def person_box(page, person_id: int):
    return page.locator(f'#persons input[name="persons"][value="{person_id}"]')


def signed_in_with_persons(context, live_server, *names: str):
    """A phone whose persons ``names`` declared before; signed in on the health form."""
    phone = "+84" + f"90{digits(8)}"[:9]
    ids = run_setup(live_server, PERSONS, phone, *names)
    page = watch_csp(context.new_page())
    page.goto("/kbyt")
    page.get_by_label("Số điện thoại di động").fill("0" + phone[3:])
    page.get_by_role("button", name="Khai báo y tế").click()
    page.get_by_label("Mã OTP").wait_for()
    page.get_by_label("Mã OTP").fill(live_server.last_otp(phone))
    page.get_by_role("button", name="Xác thực").click()
    page.wait_for_url("**/kbyt/khai-bao")
    return page, phone, ids


def test_ticked_persons_come_back_for_the_same_phone(context, live_server):
    page, phone, (first, second) = signed_in_with_persons(
        context, live_server, "Phạm Văn Hải", "Phạm Thị Hoa")
    assert person_box(page, first).is_checked() and person_box(page, second).is_checked()
    person_box(page, first).uncheck()
    page.get_by_label(PLEDGE).check()
    sign_out_elsewhere(context)
    page.get_by_role("button", name="Gửi khai báo").click()
    page.locator("[data-draft-notice]").wait_for(state="visible")
    sign_in_again(page, live_server, phone, "Khai báo y tế")
    page.locator("[data-draft-restored]").wait_for(state="visible")
    assert not person_box(page, first).is_checked()
    assert person_box(page, second).is_checked()
    assert page.get_by_label(PLEDGE).is_checked()

    page.get_by_role("button", name="Đăng xuất").click()  # forgets this tab's drafts
    page.wait_for_url(re.compile(r"^[^?]*/$"))
    assert drafts(page) == []
    assert page.csp_errors == []


def test_another_phone_gets_nothing_of_the_draft(context, live_server):
    """A shared phone: the first person's session ended mid-form; someone else signs in on
    the same tab. Their form is their own — none of the first person's text, symptoms or
    relatives — and the draft is gone."""
    page, _phone, (mine,) = signed_in_with_persons(context, live_server, "Võ Văn Nam")
    page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố").fill(PLACES)
    page.get_by_label(PLEDGE).check()
    sign_out_elsewhere(context)
    page.get_by_role("button", name="Gửi khai báo").click()
    page.locator("[data-draft-notice]").wait_for(state="visible")

    other = "+84" + f"93{digits(8)}"[:9]
    (theirs,) = run_setup(live_server, PERSONS, other, "Lê Thị Thu")
    page.get_by_label("Số điện thoại di động").fill("0" + other[3:])
    page.get_by_role("button", name="Khai báo y tế").click()
    page.get_by_label("Mã OTP").wait_for()
    page.get_by_label("Mã OTP").fill(live_server.last_otp(other))
    page.get_by_role("button", name="Xác thực").click()
    page.wait_for_url(re.compile(r".*/kbyt/khai-bao.*"))
    page.get_by_role("button", name="Gửi khai báo").wait_for()
    page.wait_for_timeout(300)  # the restore would have run by now
    assert page.locator("[data-draft-restored]").is_hidden()
    assert person_box(page, mine).count() == 0
    assert person_box(page, theirs).is_checked()  # the page's own default
    assert page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố"
                             ).input_value() == ""
    assert page.evaluate("Object.keys(sessionStorage).filter("
                         "k => k.startsWith('khaibao-draft:')).length") == 0


def test_a_reload_mid_form_keeps_what_was_typed(context, live_server):
    """Cheap Android phones reload a background tab when the camera, the gallery or the SMS
    app is opened: the form comes back as typed (relatives and symptoms too), not sent."""
    page = watch_csp(context.new_page())
    cccd = "046188" + digits(6)
    sign_in(page, live_server)
    page.wait_for_url("**/kbyt/khai-bao")
    fill_mother_and_child(page, cccd)
    page.wait_for_timeout(400)  # kept a moment after the last keystroke
    sent = posts_to(page, "/kbyt/khai-bao")

    for _ in range(2):  # twice: what came back is kept again
        page.reload()
        restored = page.locator("[data-draft-restored]")
        restored.wait_for(state="visible")
        assert "Những gì bạn đã nhập trên trang này đã được khôi phục" in restored.inner_text()
        owner, child = page.locator("#nguoi-moi-0"), page.locator("#nguoi-moi-1")
        assert owner.get_by_label("Họ và tên").input_value() == "Hoàng Thị Lan"
        assert owner.get_by_label("Số CCCD/CMND").input_value() == cccd
        owner.get_by_text("Đã chọn: Phường Thuận An").wait_for()
        assert child.get_by_label("Họ và tên").input_value() == "Trần Minh Khôi"
        assert page.get_by_label("Trong 14 ngày qua, bạn đã đến những tỉnh/thành phố"
                                 ).input_value() == PLACES
        assert page.get_by_label("Ho", exact=True).is_checked()
        assert not page.get_by_label(PLEDGE).is_checked()
        page.wait_for_timeout(400)
    assert sent == []  # restored, never sent

    page.get_by_label(PLEDGE).check()
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_url(re.compile(r".*/qr\?ref=.*"))
    assert drafts(page) == []
    page.goto("/kbyt/khai-bao")  # a new declaration starts empty
    page.wait_for_timeout(300)
    assert page.locator("[data-draft-restored]").count() == 0
    assert page.csp_errors == []
