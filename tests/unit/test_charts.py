"""The SVG chart helper: well-formed, named and described, bars proportional, empty data."""

import xml.etree.ElementTree as ET

from khaibao.core import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def bars_of(root):
    return [r for r in root.iter(f"{SVG}rect") if "chart-bar" in r.get("class", "")]


def test_svg_is_well_formed_with_title_and_desc():
    root = parse(charts.bar_chart([charts.Bar("08", 3)], title="Lượt check-in theo giờ",
                                  desc="Cao nhất lúc 8 giờ: 3 lượt."))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Lượt check-in theo giờ" and desc.text == "Cao nhất lúc 8 giờ: 3 lượt."
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_bar_heights_are_proportional_to_values():
    root = parse(charts.bar_chart([charts.Bar("a", 2), charts.Bar("b", 4), charts.Bar("c", 0)],
                                  title="t", desc="d", height=224))
    heights = [float(r.get("height")) for r in bars_of(root)]
    assert heights[1] == 2 * heights[0] > 0 and heights[2] == 0
    ys = [float(r.get("y")) + float(r.get("height")) for r in bars_of(root)]
    assert len(set(ys)) == 1  # all stand on the same axis


def test_empty_and_all_zero_data_draw_no_bars_and_do_not_fail():
    assert bars_of(parse(charts.bar_chart([], title="t", desc="d"))) == []
    zero = parse(charts.bar_chart([charts.Bar("a", 0)], title="t", desc="d", reference=0))
    assert [float(r.get("height")) for r in bars_of(zero)] == [0.0]


def test_reference_line_and_low_bars_and_escaping():
    root = parse(charts.bar_chart([charts.Bar("<x>", 50, low=True), charts.Bar("y", 100)],
                                  title="A & B", desc="<d>", reference=100,
                                  reference_label="100 %"))
    assert root.find(f"{SVG}title").text == "A & B"
    line = [e for e in root.iter(f"{SVG}line") if e.get("class") == "chart-reference"]
    assert len(line) == 1
    tallest = max(bars_of(root), key=lambda r: float(r.get("height")))
    assert float(line[0].get("y1")) == float(tallest.get("y"))  # 100 reaches the line
    assert "chart-bar-low" in bars_of(root)[0].get("class")
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "<x>" in labels  # escaped in the markup, parsed back as text


def test_label_every_and_table():
    root = parse(charts.bar_chart([charts.Bar(f"{h:02d}", h) for h in range(24)],
                                  title="t", desc="d", label_every=3))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert labels == ["00", "03", "06", "09", "12", "15", "18", "21"]
    table = ET.fromstring(str(charts.data_table(
        [charts.Bar("08", 3, title="08:00–08:59")], caption="Theo giờ", label_header="Giờ",
        value_header="Lượt")))
    assert table.find("caption").text == "Theo giờ"
    assert [c.text for c in table.find("tbody/tr")] == ["08:00–08:59", "3"]
