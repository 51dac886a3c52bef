"""Issue #10 rules: every field from the article's own sources, in a named order."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup

from baolaocai.dates import SITE_TZ
from baolaocai.site import default_site
from transforms.metadata import read_metadata
from transforms.parse import parse_article
from transforms.quality import assess, drift_warning
from transforms.sources import outside_article, published_sources, read_published
from transforms.validate import content_hash

URL = "https://baolaocai.vn/bai-post123.html"
BODY = "<p>" + "Nội dung bài viết về nông nghiệp vùng cao Lào Cai. " * 6 + "</p>"
JSONLD = (
    '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "%s"}</script>'
)


def _page(head: str = "", before: str = "", meta: str = "", after: str = "") -> str:
    return (
        f"<html><head>{head}</head><body><header><span class='header__date'>"
        f"Thứ Hai, 23/03/2026</span></header>{before}<article>"
        f"<h1 class='article__title'>Tiêu đề bài</h1><div class='article__meta'>{meta}</div>"
        f"<div class='article__body cms-body'>{BODY}{after}</div></article></body></html>"
    )


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SITE_TZ)


def _sources(html: str) -> list[tuple[str, datetime, bool]]:
    soup = BeautifulSoup(html, "lxml")
    profile = default_site().profile
    title = soup.select_one("h1")
    return published_sources(soup, read_metadata(soup), title, profile)


LATEST_BEFORE = (
    "<section class='box-x'><h3>Tin mới</h3><ul><li><a href='/x-post9.html'>Một bài khác "
    "mới hơn nhiều trong ngày</a><time class='time' datetime='2025-03-05T15:20:00+0700'>"
    "05/03/2025 15:20</time></li></ul></section>"
)


def test_published_sources_are_read_in_the_documented_order() -> None:
    html = _page(
        head=JSONLD % "2025-03-01T08:00:00+07:00"
        + '<meta property="article:published_time" content="2025-03-01T08:00:00+07:00">',
        meta="<time class='time' datetime='2025-03-01T08:00:00+0700'>01/03/2025 08:00</time>",
    )
    assert [name for name, _, _ in _sources(html)] == ["json-ld", "meta", "time", "visible"]


def test_dates_of_other_articles_never_give_the_date() -> None:
    html = _page(before=LATEST_BEFORE, meta="<span class='detail__date'>04/03/2025 07:10</span>")
    assert parse_article(html, URL).published_at == _at(2025, 3, 4, 7, 10)


def test_a_list_item_linking_elsewhere_is_outside_the_article() -> None:
    soup = BeautifulSoup(_page(before=LATEST_BEFORE), "lxml")
    time_el = soup.select_one("section time")
    assert outside_article(time_el, soup.select_one("h1"), default_site().profile)


def test_header_date_and_update_line_are_not_the_publication_date() -> None:
    html = _page(
        meta="<span class='updated'>Cập nhật: 05/03/2025 16:35</span> "
        "<span class='date'>Thứ Ba, 04/03/2025 - 07:10</span>"
    )
    assert parse_article(html, URL).published_at == _at(2025, 3, 4, 7, 10)


def test_time_datetime_without_colon_in_offset() -> None:
    html = _page(meta="<time datetime='2026-09-15T07:13:33+0700'>15/09/2026 07:13</time>")
    assert parse_article(html, URL).published_at == _at(2026, 9, 15, 7, 13, 33)


def test_disagreeing_sources_are_recorded_as_conflicts() -> None:
    html = _page(
        head=JSONLD % "2025-03-01T08:00:00+07:00",
        meta="<span class='date'>Thứ Ba, 04/03/2025</span>",
    )
    soup = BeautifulSoup(html, "lxml")
    reading = read_published(
        soup, read_metadata(soup), soup.select_one("h1"), default_site().profile
    )
    assert reading.value == _at(2025, 3, 1, 8, 0)  # the better source wins
    assert reading.conflicts == [
        "published_at: json-ld 2025-03-01T08:00:00+07:00 vs visible 2025-03-04"
    ]
    article = parse_article(html, URL)
    assert isinstance(article.field_conflicts, tuple)
    assert article.to_contract()["field_conflicts"] == reading.conflicts


def test_same_minute_in_another_precision_is_no_conflict() -> None:
    html = _page(
        head=JSONLD % "2025-03-01T08:00:41+07:00",
        meta="<time class='time'>01/03/2025 08:00</time>",
    )
    assert parse_article(html, URL).field_conflicts == ()


def test_conflicts_count_as_degraded_and_are_not_content() -> None:
    good = parse_article(_page(head=JSONLD % "2025-03-01T08:00:00+07:00"), URL)
    bad = good.replace(field_conflicts=("published_at: json-ld 2025-03-01 vs visible 2025-03-04",))
    report = assess([bad] * 5)
    assert report.conflicts == 5 and report.degraded == 5
    assert "conflicting sources" in (drift_warning(report) or "")
    assert content_hash(good) == content_hash(bad)


@pytest.mark.parametrize(
    "block",
    [
        "<div class='keywords'><span>Từ khóa:</span> <a href='/a'>Sa Pa</a>, <a href='/b'>du lịch</a></div>",
        "<div class='box-x'><b>Từ khóa:</b> <a href='/a'>Sa Pa</a><a href='/b'>du lịch</a></div>",
        "<ul class='tag-list'><li><a href='/a'>Sa Pa</a></li><li><a href='/b'>du lịch</a></li></ul>",
        "<div class='article__tag'><a href='/a'>#Sa Pa</a><a href='/b'>#du lịch</a></div>",
        "<div class='tags'>Tags: <a href='/a'>Sa Pa</a> <a href='/b'>du lịch</a></div>",
    ],
)
def test_tag_blocks(block: str) -> None:
    article = parse_article(_page(after=block), URL)
    assert article.tags == ("Sa Pa", "du lịch")
    assert "Từ khóa" not in article.body and "du lịch" not in article.body


def _author_block(*names: str) -> str:
    inner = "".join(
        f"<div class='author'><div class='info'><a class='name cms-author'>{n}</a></div></div>"
        for n in names
    )
    return f"<div class='article__author'>{inner}</div>"


def test_in_body_author_block_gives_the_authors_and_leaves_the_body() -> None:
    article = parse_article(_page(after=_author_block("Văn Hùng", "Thu Trang")), URL)
    assert article.author == "Văn Hùng, Thu Trang"
    assert "Văn Hùng" not in article.body


def test_theo_agency_in_the_author_block_is_the_source() -> None:
    article = parse_article(_page(after=_author_block("Theo TTXVN")), URL)
    assert (article.author, article.source) == (None, "TTXVN")


@pytest.mark.parametrize("prefix", ["LCĐT - ", "<b>LCĐT</b> - ", "YBĐT – ", "LCĐT-"])
def test_dateline_prefix_leaves_the_sapo(prefix: str) -> None:
    html = _page().replace(
        "<div class='article__meta'>",
        f"<div class='article__sapo'>{prefix}Người dân vào vụ thu hoạch.</div><div class='article__meta'>",
    )
    assert parse_article(html, URL).sapo == "Người dân vào vụ thu hoạch."


def test_photo_credit_is_not_glued_to_the_caption() -> None:
    picture = (
        "<table class='picture'><tr><td class='pic'><img data-src='https://cdn.baolaocai.vn/a.jpg'>"
        "</td></tr><tr><td class='caption'><p>Du khách ở Sa Pa. (Ảnh: Hải Yến)</p>"
        "<div class='source'>Ảnh: Hải Yến</div></td></tr></table>"
    )
    article = parse_article(_page(after=picture), URL)
    assert [i.caption for i in article.images] == ["Du khách ở Sa Pa. (Ảnh: Hải Yến)"]


def test_inline_markup_does_not_add_spaces_before_punctuation() -> None:
    html = _page(after="<p>Các điểm như <strong>Fansipan</strong>, bản Cát Cát đông khách.</p>")
    assert "như Fansipan, bản Cát Cát" in parse_article(html, URL).body


def test_json_ld_of_the_page_wins_over_another_articles_node() -> None:
    other = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "url": '
        '"https://baolaocai.vn/khac-post9.html", "datePublished": "2025-02-01T08:00:00+07:00"}'
        "</script>"
    )
    own = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "mainEntityOfPage": '
        '{"@id": "https://baolaocai.vn/bai-post123.html"}, '
        '"datePublished": "2025-03-01T08:00:00+07:00"}</script>'
    )
    html = _page(head=f'<link rel="canonical" href="{URL}">{other}{own}')
    assert parse_article(html).published_at == _at(2025, 3, 1, 8, 0)


def test_jsonld_itemlist_of_other_articles_gives_no_date() -> None:
    item_list = (
        '<script type="application/ld+json">{"@type": "ItemList", "itemListElement": '
        '[{"@type": "ListItem", "item": {"@type": "NewsArticle", '
        '"datePublished": "2025-02-01T08:00:00+07:00"}}]}</script>'
    )
    html = _page(head=item_list, meta="<time class='time'>04/03/2025 07:10</time>")
    assert parse_article(html, URL).published_at == _at(2025, 3, 4, 7, 10)


def test_byline_and_a_different_trailing_author_line_are_both_credited() -> None:
    """Every person the page credits is an author, in page order (a poem's poet in the
    byline, its commentator at the end); the same name twice is one author."""
    html = _page(
        meta="<span class='author'>Văn Hùng</span>",
        after="<p style='text-align:right'><strong>Thu Trang</strong></p>",
    )
    article = parse_article(html, URL)
    assert article.author == "Văn Hùng, Thu Trang"
    assert article.field_conflicts == ()
    same = _page(
        meta="<span class='author'>Văn Hùng</span>",
        after="<p style='text-align:right'><strong>VĂN HÙNG</strong></p>",
    )
    assert parse_article(same, URL).author == "Văn Hùng"


def test_an_updated_element_without_its_label_is_not_the_publication_date() -> None:
    html = _page(
        meta="<span class='updated'>05/03/2025 16:35</span> "
        "<span class='date'>04/03/2025 07:10</span>"
    )
    assert parse_article(html, URL).published_at == _at(2025, 3, 4, 7, 10)
