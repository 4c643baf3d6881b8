"""Printable posters (áp phích): a venue's check-in QR for its staff, and the public posters
that send people to /kbyt and /khaibao.

Venue posters need the "venues" permission, and venue staff see only the venues they run
(admins see all); another venue answers 404, so ids reveal nothing. The public posters are
public on purpose: they hold only the public address of a public page, and ward offices,
shops and schools without an officer account should be able to print them.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest

from khaibao.core.settings import Settings
from khaibao.core.web import AppSettings, render
from khaibao.routes.officers.session import OFFICER_DEPENDENCY, CurrentOfficer, officer_guard
from khaibao.venues import posters, venues

VENUE_CACHE = "private, no-store"
PUBLIC_CACHE = "public, max-age=3600"


def _page(request: HTMXRequest, poster: posters.Poster, base: str, *, inactive: bool = False
          ) -> Response:
    from markupsafe import Markup

    # posters.svg escapes the title (segno): the markup is safe to embed as it is.
    svg = Markup(posters.svg(poster.url, title=poster.url))  # noqa: S704
    return render(request, "poster.html", {
        "poster": poster, "qr_svg": svg, "download_base": base, "inactive": inactive,
    })


def _download(poster: posters.Poster, kind: str, cache: str) -> Response:
    if kind == "svg":
        body, media = posters.svg_file(poster.url), "image/svg+xml"
    else:
        body, media = posters.png(poster.url), "image/png"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="ap-phich-{poster.slug}.{kind}"',
        "Cache-Control": cache, "X-Content-Type-Options": "nosniff",
    })


class VenuePosterController(Controller):
    path = "/ap-phich/diem-den"
    guards = [officer_guard]
    opt = {"permission": "venues"}
    dependencies = OFFICER_DEPENDENCY

    async def _venue(self, officer: CurrentOfficer, venue_id: int) -> venues.VenueView:
        venue = await venues.get(venue_id)
        if venue is None or not (officer.is_admin
                                 or venue_id in await venues.staff_venue_ids(officer.id)):
            raise NotFoundException()
        return venue

    @get("/{venue_id:int}", name="posters.venue")
    async def page(self, request: HTMXRequest, officer: CurrentOfficer, settings: AppSettings,
                   venue_id: FromPath[int]) -> Response:
        """The venue's A4 poster, ready to print."""
        venue = await self._venue(officer, venue_id)
        poster = posters.venue_poster(venue, settings)
        return _page(request, poster, f"/ap-phich/diem-den/{venue_id}",
                     inactive=not venue.active)

    @get("/{venue_id:int}/ma-qr.svg", name="posters.venue_svg")
    async def svg(self, officer: CurrentOfficer, settings: AppSettings,
                  venue_id: FromPath[int]) -> Response:
        return await self._download(officer, settings, venue_id, "svg")

    @get("/{venue_id:int}/ma-qr.png", name="posters.venue_png")
    async def png(self, officer: CurrentOfficer, settings: AppSettings,
                  venue_id: FromPath[int]) -> Response:
        return await self._download(officer, settings, venue_id, "png")

    async def _download(self, officer: CurrentOfficer, settings: Settings, venue_id: int,
                        kind: str) -> Response:
        venue = await self._venue(officer, venue_id)
        return _download(posters.venue_poster(venue, settings), kind, VENUE_CACHE)


class PublicPosterController(Controller):
    path = "/ap-phich"

    def _poster(self, name: str, settings: Settings) -> posters.Poster:
        poster = posters.public_poster(name, settings)
        if poster is None:
            raise NotFoundException()
        return poster

    @get("/{name:str}", name="posters.public")
    async def page(self, request: HTMXRequest, settings: AppSettings,
                   name: FromPath[str]) -> Response:
        """/ap-phich/kbyt and /ap-phich/khaibao: posters anyone may print."""
        return _page(request, self._poster(name, settings), f"/ap-phich/{name}")

    @get("/{name:str}/ma-qr.svg", name="posters.public_svg")
    async def svg(self, settings: AppSettings, name: FromPath[str]) -> Response:
        return _download(self._poster(name, settings), "svg", PUBLIC_CACHE)

    @get("/{name:str}/ma-qr.png", name="posters.public_png")
    async def png(self, settings: AppSettings, name: FromPath[str]) -> Response:
        return _download(self._poster(name, settings), "png", PUBLIC_CACHE)
