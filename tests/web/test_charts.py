"""The coverage chart: figures in, SVG out (pure functions, no warehouse)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from web.charts import OTHER, UNKNOWN, coverage, coverage_chart, month_label, nice_axis
from web.queries import MonthCount

SVG = "{http://www.w3.org/2000/svg}"


def rows() -> list[MonthCount]:
    return [
        MonthCount(date(2024, 11, 1), "Kinh tế", 3),
        MonthCount(date(2024, 11, 1), "Thời sự", 1),
        MonthCount(date(2025, 2, 1), "Kinh tế", 2),
        MonthCount(date(2025, 2, 1), None, 1),
        MonthCount(date(2025, 2, 1), "Văn hóa - Du lịch", 4),
    ]


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_coverage_fills_the_empty_months_and_keeps_every_article() -> None:
    data = coverage(rows())
    assert data.months == (date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1))
    assert data.categories == ("Kinh tế", "Văn hóa - Du lịch", UNKNOWN, "Thời sự")
    assert [data.total(i) for i in range(4)] == [4, 0, 0, 7]
    assert data.grand_total == sum(r.articles for r in rows())
    assert data.rows_newest_first()[0] == (date(2025, 2, 1), 7, (2, 4, 1, 0))


def test_categories_beyond_the_largest_are_merged_as_other() -> None:
    data = coverage(rows(), top=2)
    assert data.categories == ("Kinh tế", "Văn hóa - Du lịch", OTHER)
    assert data.counts[0] == (3, 0, 1) and data.counts[-1] == (2, 4, 1)
    assert data.grand_total == 11


def test_coverage_of_a_year_boundary_and_of_nothing() -> None:
    data = coverage([MonthCount(date(2024, 12, 1), "A", 1), MonthCount(date(2025, 1, 1), "A", 2)])
    assert data.months == (date(2024, 12, 1), date(2025, 1, 1))
    empty = coverage([])
    assert empty.months == () and empty.grand_total == 0


@pytest.mark.parametrize(
    ("value", "axis"),
    [
        (0, (1, 1)),
        (1, (1, 1)),
        (2, (2, 2)),
        (6, (6, 6)),
        (7, (8, 4)),
        (10, (10, 5)),
        (11, (20, 2)),
        (950, (1000, 5)),
        (1234, (2000, 2)),
    ],
)
def test_the_axis_ends_on_a_round_number_divided_in_round_steps(
    value: int, axis: tuple[int, int]
) -> None:
    top, ticks = nice_axis(value)
    assert (top, ticks) == axis
    assert top >= value and top % ticks == 0


def test_the_chart_is_valid_svg_with_a_title_a_description_and_a_tooltip_per_segment() -> None:
    svg = parse(coverage_chart(coverage(rows()), id_prefix="c1"))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    labelled = (svg.get("aria-labelledby") or "").split()
    ids = {e.get("id") for e in svg.iter() if e.get("id")}
    assert labelled == ["c1-title", "c1-desc"] and set(labelled) <= ids
    desc = svg.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert "11/2024" in desc.text and "02/2025" in desc.text and "11 bài" in desc.text
    assert "nhiều nhất 02/2025 với 7 bài" in desc.text and "2 tháng không có bài nào" in desc.text
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    tips = sorted(r.findtext(f"{SVG}title") or "" for r in bars)
    assert len(bars) == 5  # one segment per month and category with articles
    assert "02/2025 · Văn hóa - Du lịch: 4 bài" in tips
    assert f"02/2025 · {UNKNOWN}: 1 bài" in tips
    texts = {t.text for t in svg.iter(f"{SVG}text")}
    assert {"Số bài (articles)", "11/2024", "Kinh tế"} <= texts


def test_segment_heights_are_proportional_to_the_articles() -> None:
    svg = parse(coverage_chart(coverage(rows())))
    heights = {
        r.findtext(f"{SVG}title"): float(r.get("height") or 0)
        for r in svg.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    }
    one = heights["11/2024 · Thời sự: 1 bài"]
    assert heights["02/2025 · Văn hóa - Du lịch: 4 bài"] == pytest.approx(4 * one, abs=0.2)
    assert heights["11/2024 · Kinh tế: 3 bài"] == pytest.approx(3 * one, abs=0.2)


def test_text_from_the_warehouse_is_escaped() -> None:
    hostile = [MonthCount(date(2025, 1, 1), '<script>alert(1)</script>" onload="x', 2)]
    markup = str(coverage_chart(coverage(hostile)))
    assert "<script>" not in markup and 'onload="x' not in markup
    svg = parse(markup)  # still well-formed
    assert any("<script>" in (t.text or "") for t in svg.iter(f"{SVG}text"))


def test_a_long_archive_draws_its_last_months_and_says_so() -> None:
    many = [MonthCount(date(2010 + i // 12, i % 12 + 1, 1), "Kinh tế", 1) for i in range(150)]
    svg = parse(coverage_chart(coverage(many), max_months=120))
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "120 tháng gần nhất" in desc and "Từ 07/2012" in desc
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.text and t.text.count("/") == 1]
    assert 0 < len(labels) <= 12


def test_no_dated_article_is_said_in_words() -> None:
    svg = parse(coverage_chart(coverage([])))
    assert "Chưa có bài nào" in (svg.findtext(f"{SVG}desc") or "")
    assert svg.find(f"{SVG}rect") is None


def test_months_are_written_as_vietnamese_readers_write_them() -> None:
    assert month_label(date(2025, 3, 1)) == "03/2025"


def tied() -> list[MonthCount]:
    """Biên giới, Văn hóa - Du lịch and Xã hội have 4 articles each, after Kinh tế's 5."""
    return [
        MonthCount(date(2025, 1, 1), "Kinh tế", 5),
        MonthCount(date(2025, 1, 1), "Xã hội", 3),
        MonthCount(date(2025, 2, 1), "Xã hội", 1),
        MonthCount(date(2025, 2, 1), "Văn hóa - Du lịch", 4),
        MonthCount(date(2025, 2, 1), "Biên giới", 4),
    ]


def test_categories_of_the_same_size_are_not_split_between_a_colour_and_other() -> None:
    data = coverage(tied(), top=2)
    # The cut after two would fall inside the tie at 4: the whole tie goes to "Khác".
    assert data.categories == ("Kinh tế", OTHER)
    assert data.merged == (("Biên giới", 4), ("Văn hóa - Du lịch", 4), ("Xã hội", 4))
    assert data.counts == ((5, 3), (0, 9))
    assert not data.chosen_by_name
    # A cut after the tie keeps it whole.
    assert coverage(tied(), top=4).categories == (
        "Kinh tế",
        "Biên giới",
        "Văn hóa - Du lịch",
        "Xã hội",
    )


def test_when_the_largest_categories_tie_the_names_choose_and_the_legend_says_so() -> None:
    rows = [MonthCount(date(2025, 1, 1), name, 2) for name in ("C", "A", "B")]
    data = coverage(rows, top=2)
    assert data.categories == ("A", "B", OTHER) and data.chosen_by_name
    svg = parse(coverage_chart(data))
    texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "2 chuyên mục đầu theo số bài, rồi theo tên" in texts


def test_the_other_segment_and_legend_say_which_categories_they_merge() -> None:
    svg = parse(coverage_chart(coverage(tied(), top=2)))
    tips = [r.findtext(f"{SVG}title") or "" for r in svg.iter(f"{SVG}rect")]
    assert "01/2025 · Khác: 3 bài (gộp Xã hội 3)" in tips
    assert "02/2025 · Khác: 9 bài (gộp Biên giới 4, Văn hóa - Du lịch 4, Xã hội 1)" in tips
    legend = svg.find(f"{SVG}g[@class='chart-legend']")
    assert legend is not None
    other = next(t for t in legend.iter(f"{SVG}text") if (t.text or "").startswith(OTHER))
    assert other.text == "Khác (3 chuyên mục)"
    assert other.findtext(f"{SVG}title") == "Khác: Biên giới 4, Văn hóa - Du lịch 4, Xã hội 4"
    rule = legend.find(f"{SVG}text[@class='chart-rule']")
    assert rule is not None and "xếp theo số bài, rồi theo tên" in (rule.text or "")
    assert "cùng số bài cùng có màu hoặc cùng vào «Khác»" in (rule.text or "")


def test_without_other_the_legend_needs_no_rule() -> None:
    svg = parse(coverage_chart(coverage(rows())))
    assert svg.find(f".//{SVG}text[@class='chart-rule']") is None
