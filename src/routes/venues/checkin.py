"""Check-in by the citizen: a venue poster's URL (/v/{code}) and the citizen scanner (/quet).

The poster URL works straight from the phone's camera app: a signed-out phone is sent to
verify the number and comes back here (``tiep``); a phone with nobody declared yet is sent
to the declaration form, which also comes back here.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest

from khaibao.citizens import people
from khaibao.core import clock, forms, i18n
from khaibao.core.i18n import gettext as _
from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, redirect, render
from khaibao.routes.citizens.auth import require_citizen
from khaibao.venues import checkins, citizen_scan, venues
from khaibao.verdicts import verdicts
from khaibao.verdicts.verdicts import COLOURS, GREEN

RESULTS = ("moi", "lap", "ra")  # new check-in, repeated within 30 minutes, checked out


def _invalid_code(request: HTMXRequest) -> Response:
    return render(request, "error.html", {
        "status": 404,
        "title": _("Mã QR điểm đến không hợp lệ hoặc đã ngừng sử dụng"),
        "explanation": _("Hãy quét lại mã QR dán tại điểm đến, hoặc hỏi nhân viên tại đây."),
    }, status_code=404)


def _selected_ids(form: Any) -> list[int] | None:
    """The ticked person ids, or None when one is not a number."""
    ids = []
    for raw in form.getall("persons", []):
        if (person_id := forms.row_id(raw)) is None:
            return None
        ids.append(person_id)
    return list(dict.fromkeys(ids))


class VenueCheckinController(Controller):
    @get("/v/{code:str}", name="venue.checkin_page")
    async def page(self, request: HTMXRequest, settings: AppSettings, code: FromPath[str],
                   kq: FromQuery[str | None] = None) -> Response:
        """The venue's check-in screen (or its confirmation when someone is checked in)."""
        venue = await venues.by_code(code, settings)
        if venue is None:
            return _invalid_code(request)
        account_id = await require_citizen(request, settings)
        persons = await people.persons_of(account_id, settings)
        if not persons:
            return redirect(request, f"/kbyt/khai-bao?tiep=/v/{code}")
        return await self._render(request, settings, venue, code, persons,
                                  result=kq if kq in RESULTS else None)

    @post("/v/{code:str}/check-in", name="venue.checkin")
    async def check_in(self, request: HTMXRequest, settings: AppSettings,
                       code: FromPath[str]) -> Response:
        return await self._post(request, settings, code, checking_in=True)

    @post("/v/{code:str}/check-out", name="venue.checkout")
    async def check_out(self, request: HTMXRequest, settings: AppSettings,
                        code: FromPath[str]) -> Response:
        return await self._post(request, settings, code, checking_in=False)

    async def _post(self, request: HTMXRequest, settings: Settings, code: str, *,
                    checking_in: bool) -> Response:
        """Check the ticked persons in (or out). Only the phone's own persons: their ids come
        from one read; the full views are only read to show the form again."""
        venue = await venues.by_code(code, settings)
        if venue is None:
            return _invalid_code(request)
        account_id = await require_citizen(request, settings)
        ids = _selected_ids(await request.form())
        own = await checkins.person_ids_of(account_id)
        if ids is None or not set(ids) <= own:
            # Another phone's person (or a tampered form): refuse, store nothing.
            return await self._render(
                request, settings, venue, code, await people.persons_of(account_id, settings),
                status_code=403,
                error=_("Chỉ check-in được cho người đã khai báo từ số điện thoại này.")
                if checking_in else
                _("Chỉ check-out được cho người đã khai báo từ số điện thoại này."))
        if not ids:
            persons = await people.persons_of(account_id, settings)
            if checking_in:
                return await self._render(request, settings, venue, code, persons,
                                          status_code=422,
                                          error=_("Hãy chọn ít nhất một người."))
            return await self._render(request, settings, venue, code, persons,
                                      status_code=422,
                                      checkout_error=_("Hãy chọn ít nhất một người."))
        if not checking_in:
            await checkins.check_out(venue.id, ids)
            return redirect(request, f"/v/{code}?kq=ra")
        new_stays = await checkins.add_stays(venue.id, ids, settings, account_id=account_id)
        result = "moi" if new_stays else "lap"
        return redirect(request, f"/v/{code}?kq={result}")

    async def _render(self, request: HTMXRequest, settings: Settings, venue, code: str, persons, *,
                      result: str | None = None, error: str | None = None,
                      checkout_error: str | None = None, status_code: int = 200) -> Response:
        stays: dict[int, checkins.CheckInView] = {}
        for stay in await checkins.open_stays(venue.id, [p.id for p in persons]):
            stays[stay.person_id] = stay  # the latest stay of each person
        here = [p for p in persons if p.id in stays]
        owner_ticked = not any(p.is_owner and p.id in stays for p in persons)
        # What the door may let in: each checked-in person's verdict (the stay is recorded for
        # contact tracing whatever it says; the screen never shows a held person a green tick).
        now = clock.now()
        verdict_of = await verdicts.verdicts_of([p.id for p in here], settings, at=now)
        worst = max((v.colour for v in verdict_of.values()), default=GREEN,
                    key=COLOURS.index)
        return render(request, "venue_checkin.html", {
            "venue": venue, "code": code, "persons": persons, "stays": stays, "here": here,
            "verdict_of": verdict_of, "worst": worst,
            "owner_ticked": owner_ticked, "result": result, "error": error,
            "checkout_error": checkout_error,
            "stay_minutes": settings.checkin_stay_minutes,
        }, block="checkin", status_code=status_code)

    @get("/quet", name="venue.scan")
    async def scan_page(self, request: HTMXRequest) -> Response:
        """Quét QR điểm đến: the camera reads a poster; the server decides where it leads."""
        return render(request, "citizen_scan.html", {"text": "", "error": None})

    @post("/quet", name="venue.scan_read")
    async def scan_read(self, request: HTMXRequest, settings: AppSettings) -> Response:
        form = await request.form()
        text = str(form.get("text", ""))[:2000]
        outcome = await citizen_scan.resolve(text, settings)
        if outcome.path:
            return redirect(request, outcome.path)
        message = outcome.error.message(i18n.current_language.get()) if outcome.error else ""
        return render(request, "citizen_scan.html", {"text": text, "error": message},
                      block="scan_form", status_code=422)
