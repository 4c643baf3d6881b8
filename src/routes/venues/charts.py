"""The venue dashboard's two charts and their text summaries (words in the page's language).

Kept out of venue_stats (which only counts) and out of the template (which cannot call
Python): the numbers become ``charts.Bar`` rows here.
"""

from __future__ import annotations

from typing import Any

from khaibao.core import charts
from khaibao.core.i18n import gettext as _
from khaibao.venues.venue_stats import Dashboard
from khaibao.venues.venues import VenueView


def _percent(value: float) -> str:
    return f"{round(value)} %"


def hourly_chart(board: Dashboard) -> dict[str, Any]:
    bars = [charts.Bar(f"{hour:02d}", count, title=f"{hour:02d}:00–{hour:02d}:59")
            for hour, count in enumerate(board.hourly)]
    busiest = max(range(24), key=lambda h: board.hourly[h])
    if board.today_total:
        desc = _("Hôm nay có %(total)d lượt check-in; đông nhất lúc %(hour)02d:00–%(hour)02d:59 "
                 "với %(count)d lượt.", total=board.today_total, hour=busiest,
                 count=board.hourly[busiest])
    else:
        desc = _("Hôm nay chưa có lượt check-in nào.")
    title = _("Lượt check-in theo giờ hôm nay")
    return {
        "hourly_summary": desc,
        "hourly_svg": charts.bar_chart(bars, title=title, desc=desc, label_every=3,
                                       height=180, css_class="chart chart-hourly"),
        "hourly_table": charts.data_table(
            [b for b in bars if b.value], caption=title, label_header=_("Giờ"),
            value_header=_("Lượt check-in")),
    }


def compliance_chart(board: Dashboard, venue: VenueView) -> dict[str, Any]:
    comp = board.compliance
    title = _("Tỷ lệ quét QR theo ngày (30 ngày qua)")
    if comp.daily_visitors:
        bars = [charts.Bar(d.day.strftime("%d"), d.percent or 0,
                           title=d.day.strftime("%d/%m/%Y"), low=d.low) for d in comp.days]
        if comp.average_percent is None:
            desc = _("Khai báo %(visitors)d lượt khách mỗi ngày. Chưa có ngày nào trọn vẹn để "
                     "tính tỷ lệ quét QR.", visitors=comp.daily_visitors)
        else:
            desc = _("Khai báo %(visitors)d lượt khách mỗi ngày. Trung bình %(days)d ngày qua "
                     "quét được %(average)d%% số khách; %(low)d ngày dưới 80%%.",
                     visitors=comp.daily_visitors, days=comp.full_days,
                     average=comp.average_percent, low=comp.low_days)
        svg = charts.bar_chart(bars, title=title, desc=desc, reference=100,
                               reference_label="100 %", label_every=5, height=180,
                               value_format=_percent, css_class="chart chart-compliance")
    else:
        bars = [charts.Bar(d.day.strftime("%d"), d.checkins, title=d.day.strftime("%d/%m/%Y"))
                for d in comp.days]
        desc = _("Điểm đến chưa khai báo số lượt khách mỗi ngày, nên chỉ có số lượt check-in "
                 "(%(total)d lượt trong 30 ngày).", total=comp.total)
        svg = charts.bar_chart(bars, title=title, desc=desc, label_every=5, height=180,
                               css_class="chart chart-compliance")
    # the table under the chart (day, check-ins, %) is written by the template from
    # board.compliance.days
    return {"compliance_summary": desc, "compliance_svg": svg}


def dashboard_charts(board: Dashboard, venue: VenueView) -> dict[str, Any]:
    return {**hourly_chart(board), **compliance_chart(board, venue)}
