"""Kinds of page and the failures they cause, one class per test: credits as authors,
embeds and players never body, tables one paragraph per row, a text split in blocks or
pages read whole, a live report's start time, copies of an article, a plain-text category
and date. Pages here are small and made for the rule; the independent gold sets
(tests/parsing/kinds-*) are the measure on pages nobody here wrote."""

from __future__ import annotations

import pytest

from baolaocai.site import default_site
from transforms.credits import read_credits
from transforms.parse import parse_article
from transforms.quality import assess

URL = "https://baolaocai.vn/ban-lang-vao-mua-post951001.html"
P = [
    "Sáng sớm, sương mù còn phủ kín thung lũng khi những người đầu tiên trong bản đã ra "
    "đồng gặt lúa, tiếng cười nói vang khắp sườn đồi.",
    "Năm nay, nhờ thời tiết thuận lợi và giống lúa mới, năng suất bình quân đạt gần sáu tấn "
    "mỗi héc-ta, cao hơn năm ngoái khoảng một tấn.",
    "Trưởng bản cho biết cả bản đã góp công làm lại con mương dẫn nước từ đầu nguồn, nhờ vậy "
    "những thửa ruộng cao nhất cũng đủ nước suốt vụ.",
    "Sau mùa gặt, bà con dự định trồng thêm rau vụ đông để tăng thu nhập và giữ đất không bị "
    "bỏ hoang trong những tháng lạnh.",
]


def page(article: str, *, head: str = "", body_class: str = "") -> str:
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
    <title>Bản làng vào mùa | Báo Lào Cai</title>
    <link rel="canonical" href="{URL}">
    <meta property="article:published_time" content="2025-10-12T07:30:00+07:00">
    {head}</head><body class="{body_class}">
    <header><nav><a href="/">Trang chủ</a> <a href="/emagazine/">E-magazine</a>
    <a href="/video/">Video</a></nav><div class="date">Thứ Hai, 23/03/2026</div></header>
    {article}
    <footer><p>Giấy phép số 00/GP-BTTTT</p></footer></body></html>"""


def epi(body: str, *, meta: str = "", sapo: str = "") -> str:
    return f"""<div class="article">
      <h1 class="article__title cms-title">Bản làng vào mùa</h1>
      <div class="article__meta">{meta}<time class="time">12/10/2025 07:30</time></div>
      {f'<div class="article__sapo cms-desc">{sapo}</div>' if sapo else ""}
      <div class="article__body cms-body">{body}</div></div>"""


def paras(items: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in items)


def parse(html: str, url: str | None = URL):  # type: ignore[no-untyped-def]
    return parse_article(html, url, site=default_site())


# -- credits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "authors"),
    [
        ("Thực hiện: Minh Anh - Quốc Huy", ("Minh Anh", "Quốc Huy")),
        ("Bài: Lan Hương; Ảnh: Đức Toàn", ("Lan Hương", "Đức Toàn")),
        ("Bài, ảnh: Nhóm PV", ("Nhóm PV",)),
        ("Nội dung: Hà Vy | Đồ họa: Tuấn Kiệt", ("Hà Vy",)),
        ("Trình bày: Khánh Linh", ()),
        ("Thu Hằng (thực hiện)", ("Thu Hằng",)),
        ("Bài và ảnh: Hoàng Thu, Minh Khang và Lê Na", ("Hoàng Thu", "Minh Khang", "Lê Na")),
    ],
)
def test_a_credit_line_names_its_authors(line: str, authors: tuple[str, ...]) -> None:
    credits = read_credits(line, default_site().profile)
    assert credits is not None
    assert credits.authors == authors


@pytest.mark.parametrize(
    "line",
    [
        "Ảnh: Toàn cảnh buổi lễ khai mạc hội chợ.",  # a caption, not a credit
        "Bài học kinh nghiệm: phải giữ rừng đầu nguồn",  # a label no credit list knows
        "Ông Nguyễn Văn Hùng: Chúng tôi sẽ làm tiếp.",
    ],
)
def test_a_sentence_is_no_credit(line: str) -> None:
    assert read_credits(line, default_site().profile) is None


def test_credits_in_the_body_are_authors_designers_are_not() -> None:
    body = paras(P) + (
        "<p>Thực hiện: Minh Anh - Quốc Huy</p><p>Ảnh: Đức Toàn</p><p>Trình bày: Khánh Linh</p>"
    )
    article = parse(page(epi(body)))
    assert article.author == "Minh Anh, Quốc Huy, Đức Toàn"
    assert article.paragraphs == P


def test_an_interviewer_credit_and_a_pull_quote() -> None:
    quote = f'<blockquote class="quote"><p>{P[1][:80]}</p></blockquote>'
    body = (
        f"<p>PV: {P[0]}</p><p>Ông Lò Văn Hải: {P[1]}</p>{quote}"
        f"<p>PV: {P[2]}</p><p>Ông Lò Văn Hải: {P[3]}</p>"
        '<p style="text-align:right"><b>Thu Hằng (thực hiện)</b></p>'
    )
    article = parse(page(epi(body)))
    assert article.author == "Thu Hằng"
    assert article.page_kind == "interview"
    assert len(article.paragraphs) == 4  # the pull quote repeats paragraph 2: said once


# -- embeds, players, controls ----------------------------------------------------------------


def test_embeds_players_and_controls_are_never_body() -> None:
    body = (
        f"<p>{P[0]}</p>"
        '<blockquote class="twitter-tweet"><p>Một dòng tweet của ai đó về mùa lúa chín.</p>'
        '<a href="https://twitter.com/x/status/1">March 1, 2025</a></blockquote>'
        "<blockquote><p>Bài đăng Facebook của một du khách khen cảnh đẹp.</p>"
        '<a href="https://www.facebook.com/some/posts/2">Xem trên Facebook</a></blockquote>'
        '<blockquote cite="https://www.tiktok.com/@a/video/3" class="tiktok-embed">'
        "<section><p>Clip TikTok quay ruộng bậc thang.</p></section></blockquote>"
        f"<p>{P[1]}</p>"
        '<div class="video-player"><video src="/v.mp4"></video><span>00:00 / 04:26</span></div>'
        "<p>00:00 / 04:26</p>"
        f"<p>{P[2]}</p>"
        '<div class="live-loadmore"><a href="#">Xem thêm cập nhật</a></div>'
        '<div class="article-pages"><a>1</a> <a>2</a> <a>Tiếp</a></div>'
        f"<p>{P[3]}</p>"
    )
    article = parse(page(epi(body)))
    assert article.paragraphs == P


# -- tables -----------------------------------------------------------------------------------


def test_a_data_table_is_one_paragraph_per_row() -> None:
    table = (
        "<table><thead><tr><th>Xã</th><th>Diện tích (ha)</th><th>Năng suất</th></tr></thead>"
        "<tbody><tr><td><p>Y Tý</p></td><td>120</td><td>5,8 tấn/ha</td></tr>"
        "<tr><td>A Lù</td><td>95</td><td>5,2 tấn/ha</td></tr></tbody></table>"
    )
    article = parse(page(epi(f"<p>{P[0]}</p>{table}<p>{P[1]}</p>")))
    assert article.paragraphs == [
        P[0],
        "Xã | Diện tích (ha) | Năng suất",
        "Y Tý | 120 | 5,8 tấn/ha",
        "A Lù | 95 | 5,2 tấn/ha",
        P[1],
    ]


def test_a_layout_table_is_read_as_text() -> None:
    layout = f"<table><tr><td>{paras(P[:2])}</td><td>{paras(P[2:])}</td></tr></table>"
    assert parse(page(epi(layout))).paragraphs == P


# -- a text in blocks, in pages --------------------------------------------------------------


def test_a_long_form_in_blocks_between_pictures_is_read_whole() -> None:
    pictures = [
        f'<figure class="emag-full"><img src="https://cdn.baolaocai.vn/images/ab/{i}.jpg">'
        f"<figcaption>Ảnh chụp số {i} trên bản.</figcaption></figure>"
        for i in range(3)
    ]
    article_html = f"""<main class="emagazine-detail">
      <div class="emag-cover"><h1 class="emag-title">Bản làng vào mùa</h1>
      <p class="emag-lead">Một mùa gặt trên những thửa ruộng bậc thang cao nhất vùng biên.</p></div>
      {pictures[0]}<div class="emag-block">{paras(P[:2])}</div>
      {pictures[1]}<div class="emag-block"><h3>Giữ nước cho ruộng cao</h3>{paras(P[2:3])}</div>
      {pictures[2]}<div class="emag-block">{paras(P[3:])}</div>
      <div class="emag-credit"><p>Thực hiện: Minh Anh</p><p>Trình bày: Khánh Linh</p></div>
      </main>"""
    article = parse(page(article_html))
    assert article.paragraphs == [*P[:2], "Giữ nước cho ruộng cao", *P[2:]]
    assert [i.caption for i in article.images] == [f"Ảnh chụp số {i} trên bản." for i in range(3)]
    assert article.author == "Minh Anh"
    assert article.page_kind == "e-magazine"
    assert article.title == "Bản làng vào mùa"
    assert assess([article]).degraded == 0  # a long-form is no sign of drift


def test_several_body_containers_are_one_body() -> None:
    article_html = f"""<h1 class="article__title">Bản làng vào mùa</h1>
      <div class="article__body">{paras(P[:2])}</div>
      <table class="picture"><tr><td><img src="https://cdn.baolaocai.vn/images/ab/1.jpg"></td></tr>
      <tr><td class="caption">Lúa chín</td></tr></table>
      <div class="article__body">{paras(P[2:])}</div>"""
    article = parse(page(article_html))
    assert article.paragraphs == P


def test_a_paged_article_is_read_with_every_page() -> None:
    body = (
        f'<div class="page-content" id="page-1">{paras(P[:2])}</div>'
        f'<div class="page-content" id="page-2" style="display:none">{paras(P[2:])}</div>'
        '<div class="paging"><span>Trang</span> <a href="#p1">1</a> <a href="#p2">2</a>'
        ' <a href="#p2">Tiếp</a></div>'
    )
    assert parse(page(epi(body))).paragraphs == P


def test_text_outside_the_body_container_moves_the_cascade() -> None:
    article_html = f"""<div class="wrap"><h1 class="article__title">Bản làng vào mùa</h1>
      <div class="article__body">{paras(P[:1])}</div>
      <div class="more-text">{paras(P[1:])}</div></div>"""
    article = parse(page(article_html))
    assert article.paragraphs == P
    assert article.extraction_method == "epi+density"  # the cascade's choice, recorded
    # The text region holds all the container held, and more: no disagreement, and the
    # layout was known (the EPI container was there): an article, no drift.
    assert article.field_conflicts == ()
    assert article.page_kind == "article"


def test_readers_that_disagree_on_the_body_are_a_field_conflict() -> None:
    """When the text region leaves out what the body container held, the two readers
    disagree: the record says so (and counts for the drift alarm)."""
    longer = [p + " " + p for p in P[1:]]
    article_html = f"""<div class="wrap"><h1 class="article__title">Bản làng vào mùa</h1>
      <div class="side"><div class="article__body">{paras(P[:1])}</div></div>
      <div class="main"><div class="more-text">{paras(longer)}</div>
      <div class="more-text">{paras(longer)}</div></div></div>"""
    article = parse(page(article_html))
    assert article.extraction_method == "epi+density"
    assert article.field_conflicts == (
        "body: the text region misses 1 of the 1 paragraphs of the body container it was"
        " read instead of",
    )
    assert assess([article]).conflicts == 1


# -- live reports -----------------------------------------------------------------------------


def test_a_live_report_starts_when_it_starts_and_keeps_its_updates() -> None:
    updates = "".join(
        f'<div class="live-item"><time class="time" datetime="2025-10-12T{h}:00:00+07:00">'
        f"{h}:00</time><p>{p}</p></div>"
        for h, p in (("11", P[3]), ("10", P[2]), ("09", P[1]))
    )
    article_html = f"""<div class="article live-blog">
      <h1 class="article__title">Bản làng vào mùa</h1>
      <div class="article__body">{paras(P[:1])}{updates}
      <a class="btn-more" href="#">Xem thêm cập nhật</a></div></div>"""
    head = '<script type="application/ld+json">{"@type": "LiveBlogPosting", ' + (
        '"headline": "Bản làng vào mùa", "coverageStartTime": "2025-10-12T07:30:00+07:00"}</script>'
    )
    article = parse(page(article_html, head=head))
    assert article.page_kind == "live"
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2025-10-12T07:30:00+07:00"
    assert article.paragraphs == [P[0], "11:00", P[3], "10:00", P[2], "09:00", P[1]]


def test_a_date_inside_the_text_is_not_the_publication_time() -> None:
    html = page(epi(paras(P) + '<p><time datetime="2026-01-01T08:00:00+07:00">1/1/2026</time></p>'))
    html = html.replace('<meta property="article:published_time"', '<meta name="x"')
    article = parse(html)
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2025-10-12T07:30:00+07:00"


# -- copies: AMP, print ------------------------------------------------------------------------


def test_an_amp_copy_is_its_article_with_its_pictures() -> None:
    amp = f"""<!DOCTYPE html><html amp lang="vi"><head><meta charset="utf-8">
    <title>Bản làng vào mùa - Báo Lào Cai</title>
    <link rel="canonical" href="{URL}"></head><body>
    <article class="amp-article"><h1 class="amp-title">Bản làng vào mùa</h1>
    <p class="amp-sapo">Một mùa gặt trên những thửa ruộng bậc thang cao nhất vùng biên.</p>
    <div class="amp-meta"><span class="amp-date">12/10/2025 07:30</span></div>
    <div class="amp-content">{paras(P[:2])}
    <amp-carousel type="slides" layout="responsive" width="4" height="3">
      <figure><amp-img src="https://cdn.baolaocai.vn/images/ab/1.jpg" width="4" height="3"></amp-img>
      <figcaption>Lúa chín vàng</figcaption></figure>
      <figure><amp-img src="https://cdn.baolaocai.vn/images/ab/2.jpg" width="4" height="3"></amp-img>
      <figcaption>Gặt lúa</figcaption></figure></amp-carousel>
    {paras(P[2:])}</div></article></body></html>"""
    article = parse_article(
        amp, None, site=default_site(), fallback_url="https://m.baolaocai.vn/x-post951001.amp"
    )
    assert article.url == URL
    assert article.page_kind == "amp"
    assert article.sapo == "Một mùa gặt trên những thửa ruộng bậc thang cao nhất vùng biên."
    assert [(i.src[-5:], i.caption) for i in article.images] == [
        ("1.jpg", "Lúa chín vàng"),
        ("2.jpg", "Gặt lúa"),
    ]
    assert article.paragraphs == P
    assert article.published_at is not None


def test_a_print_copy_gives_its_plain_text_category_and_date() -> None:
    printed = f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
    <title>Bản làng vào mùa</title></head><body>
    <table width="100%"><tr><td><img src="/logo.png" alt="Báo Lào Cai"></td></tr>
    <tr><td>Chuyên mục: Nông nghiệp</td></tr>
    <tr><td><h1>Bản làng vào mùa</h1></td></tr>
    <tr><td>Ngày đăng: 12/10/2025 07:30</td></tr>
    <tr><td><b>Một mùa gặt trên những thửa ruộng bậc thang cao nhất vùng biên, năng suất
    tăng nhờ giống mới.</b></td></tr>
    <tr><td>{paras(P)}</td></tr>
    <tr><td><a href="javascript:window.print()">In bài</a> <a href="#">Đóng</a></td></tr>
    </table></body></html>"""
    article = parse_article(
        printed, "https://baolaocai.vn/print/ban-lang-vao-mua-post951001.html", site=default_site()
    )
    assert article.url == URL
    assert article.page_kind == "print"
    assert article.category == "Nông nghiệp"
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2025-10-12T07:30:00+07:00"
    assert article.sapo is not None and article.sapo.startswith("Một mùa gặt")
    assert article.paragraphs == P


def test_a_head_title_loses_an_unknown_site_suffix_shown_nowhere() -> None:
    old = f"""<html><head><title>Bản làng vào mùa - Báo Lào Cai Online</title></head><body>
    <table><tr><td class="tieude">Bản làng vào mùa</td></tr><tr><td>{paras(P)}</td></tr>
    </table></body></html>"""
    assert parse(old).title == "Bản làng vào mùa"


# -- kinds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "url", "kind"),
    [
        (page(epi(paras(P))), URL, "article"),
        (page(epi(paras(P[:1]) + '<div class="video-player"></div>')), URL, "article"),
        (
            page(
                epi(paras(P[:1])),
                head='<script type="application/ld+json">{"@type":"VideoObject"}</script>',
            ),
            URL,
            "video",
        ),
        (page(epi(paras(P[:1]))), "https://baolaocai.vn/video/ban-lang-post951001.html", "video"),
        (page(epi(paras(P[:1]))), "https://baolaocai.vn/anh-ban-lang-post951001.html", "gallery"),
        (page(epi(paras(P[:1])), body_class="podcast-detail"), URL, "podcast"),
        (page(epi(paras(P[:1])), body_class="infographic"), URL, "infographic"),
        (
            page(epi(paras(P[:1]))),
            "https://baolaocai.vn/truc-tiep-ban-lang-post951001.html",
            "live",
        ),
    ],
)
def test_kinds_are_told_by_the_family_file(html: str, url: str, kind: str) -> None:
    assert parse(html, url).page_kind == kind


def test_a_menu_link_tells_no_kind() -> None:
    """The header's "E-magazine" and "Video" links are the site's, not the page's."""
    assert parse(page(epi(paras(P)))).page_kind == "article"


def test_an_unknown_layout_counts_for_drift_whatever_its_kind() -> None:
    """A page no reader knew: an 'article' when its reading has what an article has
    (title, date, paragraphs), else 'unknown'; either way the layout moved from the site
    file, and the drift alarm counts it."""
    html = f"<html><body><div class='x'><h1>Bản làng vào mùa</h1>{paras(P)}</div></body></html>"
    article = parse(html)
    assert (article.page_kind, article.extraction_method) == ("unknown", "density")
    assert assess([article]).fallback == 1
    dated = html.replace("<h1>", "<p class='date'>12/10/2025 07:30</p><h1>")
    dated = dated.replace(
        "<html>",
        "<html><head><meta property='article:published_time'"
        " content='2025-10-12T07:30:00+07:00'></head>",
    )
    whole = parse(dated)
    assert (whole.page_kind, whole.extraction_method) == ("article", "density")
    assert assess([whole]).fallback == 1


@pytest.mark.parametrize(
    "line",
    [
        "Cập nhật: 12/10/2025 09:40",
        "Cập nhật lúc 10:20",
        "Đăng ngày: 14-05-2021 10:25:00 | Cập nhật: 15-05-2021 16:02:00",
        "Thứ Hai, 12/10/2025 - 07:30",
        "Ngày 12 tháng 10 năm 2025",
    ],
)
def test_the_articles_own_date_lines_are_never_body(line: str) -> None:
    article = parse(page(epi(f"<p>{line}</p>" + paras(P))))
    assert article.paragraphs == P


def test_a_sentence_with_a_date_is_body() -> None:
    sentence = "Cập nhật đến 15 giờ ngày 12/10/2025, toàn tỉnh đã có hơn 200 hộ dân được di dời."
    assert parse(page(epi(paras(P) + f"<p>{sentence}</p>"))).paragraphs == [*P, sentence]


def test_credits_beside_the_cover_are_authors_a_photo_credit_is_not() -> None:
    article_html = f"""<main class="emag"><div class="emag-head">
      <h1 class="emag-title">Bản làng vào mùa</h1>
      <div class="emag-credit"><p><strong>Thực hiện:</strong> Hà Linh, Quang Huy và Thu Trang</p>
      <p><span>Trình bày:</span> <b>Ngọc Mai</b></p></div></div>
      <figure><img src="https://cdn.baolaocai.vn/images/ab/1.jpg"><figcaption>Lúa chín
      <span class="credit">Ảnh: Đức Toàn</span></figcaption></figure>
      <div class="emag-body">{paras(P)}</div></main>"""
    article = parse(page(article_html, body_class="emagazine"))
    assert article.author == "Hà Linh, Quang Huy, Thu Trang"
    assert article.images[0].caption == "Lúa chín"


def test_tags_as_plain_text_after_their_label() -> None:
    tags = '<div class="kw"><strong>Từ khóa:</strong> Sa Pa, du lịch; Covid-19</div>'
    article = parse(page(epi(paras(P)) + tags))
    assert article.tags == ("Sa Pa", "du lịch", "Covid-19")
    assert article.paragraphs == P


def test_a_day_only_date_is_made_precise_by_the_same_days_time() -> None:
    head = '<script type="application/ld+json">{"@type": "NewsArticle", ' + (
        '"datePublished": "2025-10-12"}</script>'
    )
    html = page(epi(paras(P)), head=head).replace(
        '<meta property="article:published_time" content="2025-10-12T07:30:00+07:00">', ""
    )
    article = parse(html)
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2025-10-12T07:30:00+07:00"
    assert article.field_conflicts == ()
