"""CSV exports: formula injection neutralised, BOM, quoting, Vietnamese round-trip, streaming."""

import csv
import io
from datetime import date

import pytest

from khaibao.core import exports


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_dangerous_prefix_is_neutralised(prefix):
    value = prefix + "HYPERLINK(\"http://x\")"
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Nguyễn Văn An", "12 Lê Lợi", "a=b", "", "0905 123 456",
                                   " =leading space", "'quoted"])
def test_safe_cells_are_unchanged(value):
    assert exports.neutralise(value) == value


def test_none_and_numbers():
    assert exports.neutralise(None) == ""
    assert exports.neutralise(42) == "42"
    assert exports.neutralise(-3) == "'-3"  # a negative number is read as a formula start


def read(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_bom_header_quoting_and_vietnamese_round_trip():
    header = ["Họ và tên", "Địa chỉ", "Ghi chú"]
    rows = [["Nguyễn Thị Hoà", "Thôn Đông, Phường Thuận An", 'nói "xin chào", rồi đi\nvề'],
            ["Trần Đức", "=HYPERLINK(\"http://x\")", "@SUM(A1)"]]
    data = b"".join(exports.iter_csv(header, rows))
    assert data.count(b"\xef\xbb\xbf") == 1
    parsed = read(data)
    assert parsed[0] == header
    assert parsed[1] == rows[0]  # commas, quotes and a newline survive the quoting
    assert parsed[2] == ["Trần Đức", "'=HYPERLINK(\"http://x\")", "'@SUM(A1)"]
    assert b"\r\n" in data


def test_streamed_in_chunks():
    rows = ([str(i), "x"] for i in range(exports.FLUSH_ROWS * 2 + 1))
    chunks = list(exports.iter_csv(["n", "x"], rows))
    assert len(chunks) == 4  # header, two full batches, the rest
    assert len(read(b"".join(chunks))) == exports.FLUSH_ROWS * 2 + 2


async def test_async_batches():
    async def batches():
        yield [["=1+1", "Huế"]]
        yield []
        yield [["-2", "Đà Nẵng"]]

    chunks = [chunk async for chunk in exports.aiter_csv(["a", "b"], batches())]
    assert len(chunks) == 3
    assert read(b"".join(chunks)) == [["a", "b"], ["'=1+1", "Huế"], ["'-2", "Đà Nẵng"]]


def test_attachment_headers():
    headers = exports.attachment_headers("nguoi-den-VN-46-19753", date(2026, 11, 13),
                                         date(2026, 11, 26))
    assert headers["Content-Disposition"] == (
        'attachment; filename="nguoi-den-VN-46-19753-2026-11-13-2026-11-26.csv"')
    assert headers["Cache-Control"] == "no-store"
    assert exports.safe_filename_part('Huế"; x=1') == "Hu-x-1"
