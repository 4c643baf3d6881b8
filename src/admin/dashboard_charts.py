"""The administration dashboard's charts and their text summaries (words in the page's
language), built from :mod:`dashboards` numbers.

Single series use :func:`charts.bar_chart`; two or three series per bar (symptomatic or not,
scan colours) use :func:`stacked_chart` below, drawn the same way (title, desc, no script,
classes for colours) plus a legend. Every chart comes with a table of the same numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from khaibao.admin.dashboards import FOREIGN, Board
from khaibao.core import charts
from khaibao.core.i18n import N_
from khaibao.core.i18n import gettext as _

_ids = itertools.count(1)
SERIES_FILL = {"plain": "#0b6e4f", "flagged": "#a4161a", "green": "#1b7f3b",
               "yellow": "#b58900", "red": "#a4161a"}


def stacked_chart(labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], *,
                  title: str, desc: str, width: int = 640, height: int = 200,
                  label_every: int = 1) -> Markup:
    """Bars stacked from ``series`` = [(key, legend label, values per bar)], bottom first."""
    uid = next(_ids)
    title_id, desc_id = f"stack-{uid}-title", f"stack-{uid}-desc"
    pad_left, pad_right, pad_top, pad_bottom = 40, 8, 28, 24
    plot_w, plot_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    totals = [sum(values[i] for _k, _l, values in series) for i in range(len(labels))]
    top = max(totals + [0])
    scale = plot_h / top if top else 0.0
    base_y = pad_top + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-stacked" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>',
        f'<line class="chart-axis" x1="{pad_left}" y1="{base_y}" x2="{width - pad_right}" '
        f'y2="{base_y}" stroke="#767676" stroke-width="1"/>',
        f'<text class="chart-tick" x="{pad_left - 4}" y="{base_y}" text-anchor="end" '
        f'font-size="11" fill="#3d3d3d">0</text>',
    ]
    if top:
        parts.append(f'<text class="chart-tick" x="{pad_left - 4}" y="{pad_top + 10}" '
                     f'text-anchor="end" font-size="11" fill="#3d3d3d">{top}</text>')
    x_legend = pad_left
    for key, label, _values in series:
        parts.append(f'<rect class="legend-{key}" x="{x_legend}" y="4" width="12" height="12" '
                     f'fill="{SERIES_FILL.get(key, "#555")}"/>'
                     f'<text x="{x_legend + 16}" y="14" font-size="12" fill="#222">'
                     f'{escape(label)}</text>')
        x_legend += 16 + 8 * len(label) + 16
    if labels:
        slot = plot_w / len(labels)
        bar_w = max(slot * 0.7, 1.0)
        for index, label in enumerate(labels):
            x = pad_left + index * slot + (slot - bar_w) / 2
            y = float(base_y)
            for key, name, values in series:
                h = values[index] * scale
                if h > 0:
                    y -= h
                    parts.append(
                        f'<rect class="chart-bar series-{key}" x="{x:.2f}" y="{y:.2f}" '
                        f'width="{bar_w:.2f}" height="{h:.2f}" '
                        f'fill="{SERIES_FILL.get(key, "#555")}" data-value="{values[index]}">'
                        f'<title>{escape(label)} · {escape(name)}: {values[index]}</title></rect>')
            if label_every and index % label_every == 0:
                parts.append(f'<text class="chart-label" x="{x + bar_w / 2:.2f}" '
                             f'y="{height - 6}" text-anchor="middle" font-size="11" '
                             f'fill="#3d3d3d">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value is escaped or a number)


def _stacked_table(caption: str, label_header: str, labels: Sequence[str],
                   series: Sequence[tuple[str, str, Sequence[int]]]) -> Markup:
    head = "".join(f'<th scope="col">{escape(name)}</th>' for _k, name, _v in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{values[i]}</td>" for _k, _n, values in series) + "</tr>"
        for i, label in enumerate(labels) if any(values[i] for _k, _n, values in series))
    return Markup(  # noqa: S704 (escaped)
        f'<table class="data-table chart-table"><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">{escape(label_header)}</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>")


def _every(days: int) -> int:
    return {7: 1, 30: 5, 90: 15}.get(days, 5)


def declarations_chart(board: Board) -> dict[str, Any]:
    days = board.declarations
    labels = [d.day.strftime("%d/%m") for d in days]
    series = [("plain", _("Không triệu chứng"), [d.plain for d in days]),
              ("flagged", _("Có triệu chứng"), [d.flagged for d in days])]
    title = _("Khai báo y tế theo ngày")
    if board.declaration_total:
        busiest = max(days, key=lambda d: d.total)
        desc = _("%(total)d khai báo y tế trong %(days)d ngày, %(flagged)d có triệu chứng; "
                 "nhiều nhất ngày %(day)s (%(count)d).", total=board.declaration_total,
                 days=board.span.days, flagged=board.symptomatic_total,
                 day=busiest.day.strftime("%d/%m"), count=busiest.total)
    else:
        desc = _("Chưa có khai báo y tế nào trong %(days)d ngày qua.", days=board.span.days)
    return {"summary": desc, "svg": stacked_chart(labels, series, title=title, desc=desc,
                                                  label_every=_every(board.span.days)),
            "table": _stacked_table(title, _("Ngày"), labels, series), "title": title}


def arrivals_chart(board: Board) -> dict[str, Any]:
    bars = [charts.Bar(d.day.strftime("%d/%m"), d.total, title=d.day.strftime("%d/%m/%Y"))
            for d in board.arrivals]
    title = _("Người đến theo ngày")
    if board.arrival_total:
        first = board.origins[0] if board.origins else None
        desc = _("%(total)d lượt người đến trong %(days)d ngày.", total=board.arrival_total,
                 days=board.span.days)
        if first:
            desc += " " + _("Nhiều nhất từ %(origin)s (%(count)d).",
                            origin=origin_name(first.key, first.name), count=first.count)
    else:
        desc = _("Chưa có người đến nào trong %(days)d ngày qua.", days=board.span.days)
    return {"summary": desc, "title": title,
            "svg": charts.bar_chart(bars, title=title, desc=desc,
                                    label_every=_every(board.span.days), height=180),
            "table": charts.data_table([b for b in bars if b.value], caption=title,
                                       label_header=_("Ngày"), value_header=_("Người đến"))}


def origin_name(key: str, name: str) -> str:
    return _("Nước ngoài") if key == FOREIGN else name


def origins_chart(board: Board) -> dict[str, Any]:
    bars = [charts.Bar(str(i + 1), o.count, title=origin_name(o.key, o.name))
            for i, o in enumerate(board.origins)]
    title = _("Nơi đi nhiều nhất (tỉnh, thành phố)")
    desc = (_("%(count)d nơi đi; xếp hạng trong bảng bên dưới.", count=len(bars)) if bars
            else _("Chưa có dữ liệu nơi đi."))
    return {"summary": desc, "title": title,
            "svg": charts.bar_chart(bars, title=title, desc=desc, height=160),
            "table": charts.data_table(bars, caption=title, label_header=_("Nơi đi"),
                                       value_header=_("Người đến"))}


COLOUR_LABELS = {"green": N_("Xanh"), "yellow": N_("Vàng"), "red": N_("Đỏ")}


def scans_chart(board: Board) -> dict[str, Any]:
    labels = [f"{h.hour:02d}" for h in board.scans]
    series = [(c, _(COLOUR_LABELS[c]), [h.counts.get(c, 0) for h in board.scans])
              for c in ("green", "yellow", "red")]
    totals = board.scan_totals
    title = _("Lượt kiểm tra tại chốt theo giờ và kết quả")
    total = sum(totals.values())
    if total:
        busiest = max(board.scans, key=lambda h: h.total)
        desc = _("%(total)d lượt kiểm tra: %(green)d xanh, %(yellow)d vàng, %(red)d đỏ; đông "
                 "nhất lúc %(hour)02d:00–%(hour)02d:59.", total=total, green=totals["green"],
                 yellow=totals["yellow"], red=totals["red"], hour=busiest.hour)
    else:
        desc = _("Chưa có lượt kiểm tra nào tại chốt trong %(days)d ngày qua.",
                 days=board.span.days)
    return {"summary": desc, "title": title,
            "svg": stacked_chart(labels, series, title=title, desc=desc, label_every=3),
            "table": _stacked_table(title, _("Giờ"), labels, series)}


def venues_chart(board: Board) -> dict[str, Any]:
    bars = [charts.Bar(str(i + 1), v.count, title=v.name) for i, v in enumerate(board.venues)]
    title = _("Lượt check-in theo điểm đến")
    if bars:
        desc = _("%(total)d lượt check-in ở %(count)d điểm đến đông nhất; nhiều nhất: "
                 "%(venue)s (%(top)d).", total=sum(v.count for v in board.venues),
                 count=len(bars), venue=board.venues[0].name, top=board.venues[0].count)
    else:
        desc = _("Chưa có lượt check-in nào trong %(days)d ngày qua.", days=board.span.days)
    return {"summary": desc, "title": title,
            "svg": charts.bar_chart(bars, title=title, desc=desc, height=160),
            "table": charts.data_table(bars, caption=title, label_header=_("Điểm đến"),
                                       value_header=_("Lượt check-in"))}


def otp_chart(board: Board) -> dict[str, Any] | None:
    otp = board.otp
    if otp is None:
        return None
    labels = [d.day.strftime("%d/%m") for d in otp.days]
    series = [("plain", _("Mã đã gửi"), [d.plain for d in otp.days]),
              ("flagged", _("Mã bị khoá do nhập sai"), [d.flagged for d in otp.days])]
    title = _("Mã OTP đã gửi và bị khoá")
    desc = _("%(sent)d mã OTP đã gửi, %(used)d mã được dùng, %(burned)d mã bị khoá vì nhập sai "
             "nhiều lần; %(busy)d số điện thoại nhận từ %(threshold)d mã trở lên.",
             sent=otp.sent, used=otp.used, burned=otp.burned, busy=otp.busy_phones,
             threshold=5)
    return {"summary": desc, "title": title,
            "svg": stacked_chart(labels, series, title=title, desc=desc,
                                 label_every=_every(board.span.days)),
            "table": _stacked_table(title, _("Ngày"), labels, series)}


def all_charts(board: Board) -> dict[str, Any]:
    return {"declarations": declarations_chart(board), "arrivals": arrivals_chart(board),
            "origins": origins_chart(board), "scans": scans_chart(board),
            "venues": venues_chart(board), "otp": otp_chart(board)}
