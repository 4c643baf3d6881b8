"""CSV exports that open safely in Excel and LibreOffice.

* UTF-8 with a byte-order mark: Excel on Windows otherwise reads Vietnamese as mojibake.
* Formula injection (luca, 2021): a cell starting with ``= + - @``, a tab or a carriage return
  is read as a formula by spreadsheets. Such cells get a leading single quote, which the
  spreadsheet shows as text and never evaluates.
* Streamed: rows are encoded a batch at a time, so an export of any size never sits in memory
  as a whole file.
* In words, as on screen: one way of writing dates (``dd/mm/yyyy``, moments in Vietnam's time
  ``dd/mm/yyyy HH:MM``: :func:`day_text`, :func:`moment_text`) and yes/no in the export's
  language (:func:`yes_no`); the labels of coded values belong to their features.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from khaibao.core.clock import LOCAL_TIMEZONE
from khaibao.core.db import aware
from khaibao.core.i18n import N_, gettext_in

BOM = "\ufeff"
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv"  # the response adds "; charset=utf-8" (its encoding) to text/ types
FLUSH_ROWS = 200  # rows encoded per chunk sent
DAY_FORMAT = "%d/%m/%Y"
MOMENT_FORMAT = "%d/%m/%Y %H:%M"
_YES, _NO = N_("có"), N_("không")


def day_text(value: date | str | None) -> str:
    """``dd/mm/yyyy`` of a day (or of an ISO day as stored), "" for none."""
    if not value:
        return ""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return day.strftime(DAY_FORMAT)


def moment_text(value: datetime | str | None) -> str:
    """``dd/mm/yyyy HH:MM`` in Vietnam's time of a stored moment (aware, or naive UTC or ISO
    text as SQLite gives it back), "" for none."""
    moment = aware(value) if value else None
    return moment.astimezone(LOCAL_TIMEZONE).strftime(MOMENT_FORMAT) if moment else ""


def yes_no(value: Any, language: str) -> str:
    return gettext_in(language, _YES if value else _NO)


def neutralise(value: Any) -> str:
    """The text of one cell, with a leading ``'`` when a spreadsheet would run it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def encode_rows(rows: Iterable[Sequence[Any]]) -> str:
    """CSV text of ``rows`` (every cell neutralised), lines ending in CRLF as RFC 4180 says."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The file as UTF-8 chunks: BOM and header first, then ``FLUSH_ROWS`` rows per chunk."""
    yield (BOM + encode_rows([header])).encode()
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= FLUSH_ROWS:
            yield encode_rows(batch).encode()
            batch = []
    if batch:
        yield encode_rows(batch).encode()


async def aiter_csv(header: Sequence[str],
                    batches: AsyncIterable[Sequence[Sequence[Any]]]) -> AsyncIterator[bytes]:
    """Like :func:`iter_csv` for rows that arrive in batches from the database (one chunk
    per batch); give the result to a Litestar ``Stream`` response."""
    yield (BOM + encode_rows([header])).encode()
    async for batch in batches:
        if batch:
            yield encode_rows(batch).encode()


def safe_filename_part(text: str) -> str:
    """ASCII letters, digits and dashes only: safe inside ``filename="…"`` of any browser."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c == "-") else "-" for c in text)
    return "-".join(part for part in cleaned.split("-") if part) or "x"


def attachment_headers(stem: str, date_from: date | None = None,
                       date_to: date | None = None) -> dict[str, str]:
    """Headers of a CSV download: attachment named ``<stem>[-<from>-<to>].csv``, never cached."""
    name = safe_filename_part(stem)
    if date_from is not None and date_to is not None:
        name += f"-{date_from.isoformat()}-{date_to.isoformat()}"
    return {
        "Content-Disposition": f'attachment; filename="{name}.csv"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
