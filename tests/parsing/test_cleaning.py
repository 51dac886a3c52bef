"""Cleaning rules: furniture goes by structure; real sentences stay; text is NFC."""

from __future__ import annotations

import unicodedata

import pytest

from baolaocai.errors import ParseError
from baolaocai.text import normalize_text
from transforms.parse import parse_article

URL = "https://baolaocai.vn/bai-viet-thu-nghiem-post900100.html"


def epi_page(body: str, *, head: str = "", meta: str = "") -> str:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">{head}</head><body>
    <div class="article">
      <h1 class="article__title cms-title">Đường lên Y Tý mùa lúa chín</h1>
      <div class="article__meta">{meta}<time class="time">08:15 25/03/2025</time></div>
      <div class="article__social"><span>Chia sẻ</span><a>Zalo</a><a>Facebook</a></div>
      <div class="article__sapo cms-desc">Những thửa ruộng bậc thang vàng óng đón du khách.</div>
      <div class="article__body cms-body" itemprop="articleBody">{body}</div>
    </div>
    <div class="comment-box"><h3>Bình luận</h3><button>Gửi bình luận</button></div>
    <footer><p>Ghi rõ nguồn "Báo Lào Cai" khi phát hành lại thông tin từ website này.</p></footer>
    </body></html>"""


def test_sentence_mentioning_cac_tin_khac_survives() -> None:
    sentence = (
        "Bài viết về mùa lúa được bạn đọc quan tâm hơn hẳn so với các tin khác "
        "trong tuần, nhiều người đã chia sẻ lại trên mạng xã hội."
    )
    html = epi_page(
        f"<p>{sentence}</p><p>Đoạn thứ hai của bài viết, đủ dài để là văn bản thật.</p>"
    )
    article = parse_article(html, URL)
    assert sentence in article.paragraphs


def test_related_box_inside_body_is_dropped() -> None:
    html = epi_page(
        "<p>Đoạn đầu tiên của bài viết về du lịch cộng đồng ở Bát Xát.</p>"
        '<div class="box-related"><div>Tin liên quan</div><ul><li><a href="/x-post1.html">'
        "Tiêu đề một bài liên quan</a></li></ul></div>"
        "<div><strong>Tin liên quan</strong><ul><li><a href='/y-post2.html'>Một bài khác nữa</a>"
        "</li></ul></div>"
        "<p>Đoạn cuối cùng của bài viết về du lịch cộng đồng.</p>"
    )
    article = parse_article(html, URL)
    assert article.paragraphs == [
        "Đoạn đầu tiên của bài viết về du lịch cộng đồng ở Bát Xát.",
        "Đoạn cuối cùng của bài viết về du lịch cộng đồng.",
    ]


def test_share_comment_footer_never_reach_body() -> None:
    article = parse_article(epi_page("<p>Nội dung chính của bài viết về Sa Pa.</p><p>Lưu</p>"), URL)
    for furniture in ("Chia sẻ", "Zalo", "Bình luận", "Ghi rõ nguồn", "Lưu"):
        assert furniture not in article.body
    assert article.sapo == "Những thửa ruộng bậc thang vàng óng đón du khách."
    assert article.sapo not in article.body


def test_trailing_author_and_source_are_moved_out() -> None:
    html = epi_page(
        "<p>Nội dung chính của bài viết về chợ phiên Bắc Hà.</p>"
        '<p style="text-align: right;"><strong>Lù Thị Hoa</strong></p><p>(baolaocai.vn)</p>'
    )
    article = parse_article(html, URL)
    assert (article.author, article.source) == ("Lù Thị Hoa", "baolaocai.vn")
    assert article.paragraphs == ["Nội dung chính của bài viết về chợ phiên Bắc Hà."]


@pytest.mark.parametrize(
    ("line", "source"),
    [
        ("<p><em>Theo TTXVN</em></p>", "TTXVN"),
        ("<p>(Theo Báo Nhân Dân)</p>", "Báo Nhân Dân"),
        ("<p>(Còn nữa)</p>", None),
    ],
)
def test_source_lines(line: str, source: str | None) -> None:
    article = parse_article(epi_page(f"<p>Nội dung chính của bài viết về cửa khẩu.</p>{line}"), URL)
    assert article.source == source


def test_byline_prefix_and_organisation_author() -> None:
    meta = '<span class="article__author">Bài, ảnh: Vàng Seo Sử</span>'
    assert (
        parse_article(epi_page("<p>Nội dung bài viết đủ dài.</p>", meta=meta), URL).author
        == "Vàng Seo Sử"
    )
    head = (
        '<script type="application/ld+json">{"@type":"NewsArticle","author":'
        '{"@type":"Organization","name":"Báo Lào Cai"}}</script>'
    )
    assert (
        parse_article(epi_page("<p>Nội dung bài viết đủ dài.</p>", head=head), URL).author is None
    )


def test_nfd_entities_and_whitespace_are_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "Mường Khương thủy điện")
    html = epi_page(f"<p>  {nfd}&nbsp;và  Vi&#7879;t\u200b Nam\n  đẹp.</p>")
    body = parse_article(html, URL).body
    assert body == "Mường Khương thủy điện và Việt Nam đẹp."
    assert unicodedata.is_normalized("NFC", body)


def test_published_at_from_jsonld_utc_is_converted_to_site_time() -> None:
    head = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
        '{"@type":"NewsArticle","datePublished":"2025-03-25T01:15:00Z",'
        '"articleSection":"Du lịch"}]}</script>'
    )
    article = parse_article(epi_page("<p>Nội dung bài viết đủ dài.</p>", head=head), URL)
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2025-03-25T08:15:00+07:00"
    assert article.category == "Du lịch"


def test_visible_time_is_used_without_metadata() -> None:
    article = parse_article(epi_page("<p>Nội dung bài viết đủ dài.</p>"), URL)
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2025-03-25T08:15:00+07:00"


def test_images_resolve_lazy_src_and_srcset() -> None:
    html = epi_page(
        '<table class="picture"><tr><td><img class="cms-photo" src="data:image/gif;base64,R0"'
        ' data-src="https://cdn.baolaocai.vn/images/ab/a.jpg"></td></tr>'
        '<tr><td class="caption">Ruộng bậc thang</td></tr></table>'
        "<p>Đoạn văn giữa hai ảnh của bài viết.</p>"
        '<figure><img srcset="/images/b-480.jpg 480w, /images/b-1200.jpg 1200w"></figure>'
    )
    article = parse_article(html, URL)
    assert [(i.src, i.caption) for i in article.images] == [
        ("https://cdn.baolaocai.vn/images/ab/a.jpg", "Ruộng bậc thang"),
        ("https://baolaocai.vn/images/b-1200.jpg", None),
    ]
    assert article.paragraphs == ["Đoạn văn giữa hai ảnh của bài viết."]


def test_normalize_text() -> None:
    assert normalize_text(" Ho\u0300a  &amp; \u00a0bi\u0300nh ") == "Hòa & bình"


@pytest.mark.parametrize("html", ["", "   ", "just some words, no markup at all"])
def test_not_html_is_a_parse_error(html: str) -> None:
    with pytest.raises(ParseError):
        parse_article(html, URL)
