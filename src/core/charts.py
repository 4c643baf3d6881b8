"""Small server-rendered SVG charts: no JavaScript, no external images, works offline.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and described by its ``<desc>``
(screen readers read those), with one ``<rect>`` per bar whose height is proportional to its
value. Colours come from classes (``chart-bar``, ``chart-bar-low``, ``chart-reference``) so
pages style them; presentation attributes give sensible defaults without any stylesheet.
Pair every chart with :func:`data_table` (the same numbers as text) — a chart alone is not
accessible enough for the people who must act on these numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar (kept short: "08", "25/11")
    value: float
    title: str = ""  # hover text / the row's label in the table ("08:00–08:59")
    low: bool = False  # drawn with class chart-bar-low (e.g. below the expected level)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _default_format(value: float) -> str:
    return _number(value)


def bar_chart(bars: Sequence[Bar], *, title: str, desc: str, width: int = 640,
              height: int = 200, max_value: float | None = None,
              reference: float | None = None, reference_label: str = "",
              label_every: int = 1, value_format: Callable[[float], str] = _default_format,
              css_class: str = "chart") -> Markup:
    """A bar chart as an SVG element (Markup: safe to put in a template as is).

    ``reference`` draws a dashed horizontal line (e.g. the 100 % of declared visitors);
    ``label_every`` labels only every n-th bar under the axis (24 hours do not all fit).
    Empty ``bars`` or all-zero values draw the axis only, never divide by zero.
    """
    uid = next(_ids)
    title_id, desc_id = f"chart-{uid}-title", f"chart-{uid}-desc"
    pad_left, pad_right, pad_top, pad_bottom = 40, 8, 12, 24
    plot_w = max(width - pad_left - pad_right, 1)
    plot_h = max(height - pad_top - pad_bottom, 1)
    top = max([b.value for b in bars] + [reference or 0, max_value or 0, 0])
    scale = plot_h / top if top > 0 else 0.0
    base_y = pad_top + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
        f'<line class="chart-axis" x1="{pad_left}" y1="{base_y}" x2="{width - pad_right}" '
        f'y2="{base_y}" stroke="#767676" stroke-width="1"/>',
        f'<text class="chart-tick" x="{pad_left - 4}" y="{base_y}" text-anchor="end" '
        f'font-size="11" fill="#3d3d3d">0</text>',
    ]
    if top > 0:
        parts.append(
            f'<text class="chart-tick" x="{pad_left - 4}" y="{pad_top + 10}" text-anchor="end" '
            f'font-size="11" fill="#3d3d3d">{escape(value_format(top))}</text>')
    if bars:
        slot = plot_w / len(bars)
        bar_w = max(slot * 0.7, 1.0)
        for index, bar in enumerate(bars):
            value = max(bar.value, 0.0)
            h = value * scale
            x = pad_left + index * slot + (slot - bar_w) / 2
            y = base_y - h
            cls = "chart-bar chart-bar-low" if bar.low else "chart-bar"
            fill = "#b06d00" if bar.low else "#0b6e4f"
            tip = bar.title or bar.label
            parts.append(
                f'<rect class="{cls}" x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" '
                f'height="{h:.2f}" fill="{fill}" data-value="{_number(value)}">'
                f'<title>{escape(tip)}: {escape(value_format(value))}</title></rect>')
            if label_every > 0 and index % label_every == 0:
                parts.append(
                    f'<text class="chart-label" x="{x + bar_w / 2:.2f}" y="{height - 6}" '
                    f'text-anchor="middle" font-size="11" fill="#3d3d3d">'
                    f'{escape(bar.label)}</text>')
    if reference is not None and reference > 0 and scale:
        ry = base_y - reference * scale
        parts.append(
            f'<line class="chart-reference" x1="{pad_left}" y1="{ry:.2f}" '
            f'x2="{width - pad_right}" y2="{ry:.2f}" stroke="#a4161a" stroke-width="1.5" '
            f'stroke-dasharray="6 4"/>')
        if reference_label:
            parts.append(
                f'<text class="chart-reference-label" x="{width - pad_right}" '
                f'y="{max(ry - 4, 10):.2f}" text-anchor="end" font-size="11" fill="#a4161a">'
                f'{escape(reference_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped)


def data_table(bars: Sequence[Bar], *, caption: str, label_header: str, value_header: str,
               value_format: Callable[[float], str] = _default_format,
               css_class: str = "data-table chart-table") -> Markup:
    """The chart's numbers as a table, for screen readers, printing and exact reading."""
    rows = "".join(
        f'<tr><th scope="row">{escape(b.title or b.label)}</th>'
        f'<td>{escape(value_format(b.value))}</td></tr>' for b in bars)
    return Markup(  # noqa: S704 (every value is escaped)
        f'<table class="{escape(css_class)}"><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">{escape(label_header)}</th>'
        f'<th scope="col">{escape(value_header)}</th></tr></thead>'
        f'<tbody>{rows}</tbody></table>')
