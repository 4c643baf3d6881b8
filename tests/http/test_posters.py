"""Posters: who may open them, what they show, and that the downloads decode to the URL."""

from __future__ import annotations

import re
import subprocess
import uuid

from khaibao.venues import posters, venues
from tests.helpers import sign_in_officer


def decode(path) -> str:
    result = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True,
                            check=True)
    return result.stdout.decode().rstrip("\n")


def svg_to_pbm(svg: str, pixels: int = 8) -> str:
    """Rasterise segno's SVG (one path of horizontal runs) to a PBM image zbar can read."""
    scale = float(re.search(r"scale\(([\d.]+)\)", svg).group(1))
    size = round(float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1)) / scale)
    path = re.search(r'<path[^>]*stroke="#000"[^>]*d="([^"]+)"', svg).group(1)
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, args in re.findall(r"([Mmh])([-\d. ]+)", path):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            for i in range(int(numbers[0])):
                grid[int(y)][int(x) + i] = 1
            x += numbers[0]
    rows = [" ".join(str(c) for c in row for _ in range(pixels))
            for row in grid for _ in range(pixels)]
    return f"P1\n{size * pixels} {size * pixels}\n" + "\n".join(rows) + "\n"


async def make_venue(settings, name="Bệnh viện Trung ương Huế") -> venues.VenueView:
    # with a tail of its own: no two venues without an area share a name
    return await venues.create(venues.VenueInput(name=f"{name} {uuid.uuid4().hex[:6]}",
                                                 kind="hospital",
                                                 address="16 Lê Lợi"), settings)


async def test_venue_poster_needs_an_officer_with_the_venues_permission(client, database):
    venue = await make_venue(database)
    anonymous = await client.get(f"/ap-phich/diem-den/{venue.id}")
    assert anonymous.status_code == 401
    assert (await client.get(f"/ap-phich/diem-den/{venue.id}/ma-qr.png")).status_code == 401
    await sign_in_officer(client, "checkpoint")
    assert (await client.get(f"/ap-phich/diem-den/{venue.id}")).status_code == 403
    assert (await client.get(f"/ap-phich/diem-den/{venue.id}/ma-qr.svg")).status_code == 403


async def test_venue_staff_see_only_their_venues(client, database):
    mine = await make_venue(database, "Chợ Bến Ngự")
    other = await make_venue(database, "Chợ An Cựu")
    staff = await sign_in_officer(client, "venue")
    await venues.set_staff(mine.id, {staff.id})
    page = await client.get(f"/ap-phich/diem-den/{mine.id}")
    assert page.status_code == 200
    assert "Chợ Bến Ngự" in page.text
    for path in (f"/ap-phich/diem-den/{other.id}", f"/ap-phich/diem-den/{other.id}/ma-qr.png",
                 "/ap-phich/diem-den/999999"):
        assert (await client.get(path)).status_code == 404, path


async def test_admin_poster_page_shows_the_venue_and_instructions(client, database):
    venue = await make_venue(database)
    await sign_in_officer(client, "admin")
    page = await client.get(f"/ap-phich/diem-den/{venue.id}")
    assert page.status_code == 200
    html = page.text
    assert "Bệnh viện Trung ương Huế" in html
    assert "Bệnh viện, cơ sở y tế" in html and "16 Lê Lợi" in html
    assert "Mở camera hoặc ứng dụng Khai Báo, quét mã để check-in." in html
    assert "scan the code to check in" in html
    assert venue.poster_url(database) in html  # printed under the QR
    assert '<svg role="img"' in html and 'class="poster-qr"' in html
    assert f'href="/ap-phich/diem-den/{venue.id}/ma-qr.png"' in html
    assert f'href="/ap-phich/diem-den/{venue.id}/ma-qr.svg"' in html
    assert "css/poster.css" in html
    assert "<script>" not in html and "style=" not in html


def test_print_css_is_a4_with_a_large_qr():
    from khaibao.core.web import STATIC_DIR

    css = (STATIC_DIR / "css" / "poster.css").read_text()
    assert "@page { size: A4" in css
    widths = [int(w) for w in re.findall(r"\.poster-qr-box \{ width: (\d+)mm", css)]
    assert widths and min(widths) >= 150


async def test_downloads_decode_to_the_venue_url(client, database, tmp_path):
    venue = await make_venue(database)
    await sign_in_officer(client, "admin")
    url = venue.poster_url(database)
    png = await client.get(f"/ap-phich/diem-den/{venue.id}/ma-qr.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == (
        f'attachment; filename="ap-phich-diem-den-{venue.id}.png"')
    (tmp_path / "poster.png").write_bytes(png.content)
    assert decode(tmp_path / "poster.png") == url

    svg = await client.get(f"/ap-phich/diem-den/{venue.id}/ma-qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["content-disposition"].startswith("attachment;")
    width_mm = float(re.search(r'width="([\d.]+)mm"', svg.text).group(1))
    assert 160 <= width_mm < 161  # printed 16 cm wide
    (tmp_path / "svg.pbm").write_text(svg_to_pbm(svg.text))
    assert decode(tmp_path / "svg.pbm") == url


def test_poster_qr_is_small_and_sharp():
    url = "https://khaibao.thuathienhue.gov.vn/v/KB1V0123456789ABCDEFGHJKMNPQRS0"
    code = posters.make(url)
    assert code.version == 4  # 33 modules: 16 cm / 41 modules ≈ 3.9 mm per module
    assert code.is_micro is False


async def test_public_posters_are_public(client, database, tmp_path):
    for name, path, title in (("kbyt", "/kbyt", "Khai báo y tế"),
                              ("khaibao", "/khaibao", "Khai báo về Huế")):
        page = await client.get(f"/ap-phich/{name}")
        assert page.status_code == 200
        assert title in page.text
        png = await client.get(f"/ap-phich/{name}/ma-qr.png")
        assert png.headers["content-disposition"] == (
            f'attachment; filename="ap-phich-{name}.png"')
        (tmp_path / f"{name}.png").write_bytes(png.content)
        assert decode(tmp_path / f"{name}.png") == database.base_url + path
    assert (await client.get("/ap-phich/khac")).status_code == 404
