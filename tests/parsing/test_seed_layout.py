"""The older layout, read in the order of the 2023 seed page.

The seed (a reader's plain text of a 2023 article) runs: weekday + date line, title, a
picture caption standing alone, body paragraphs, a source line ``(baolaocai.vn)``, then
page furniture. The text below keeps that layout with our own sentences.
"""

from __future__ import annotations

from baolaocai.site import default_site
from transforms.blocks import Block
from transforms.parse import parse_article, read_block_sequence

SEED_LIKE_TEXT = """Thứ Sáu, 7/4/2023
Hội nghị "Nâng cao hiệu quả công tác khuyến nông vùng cao tỉnh Lào Cai"

Toàn cảnh hội nghị


Chủ trì hội nghị có các đồng chí: Lương Văn Hào, Phó Chủ tịch UBND tỉnh; Thào Thị Mai, Giám đốc Sở Nông nghiệp.

Tham dự có đại diện các phòng nông nghiệp huyện, trạm khuyến nông và nhiều hợp tác xã trên địa bàn.

Hội nghị đánh giá những kết quả đã đạt được, đồng thời chỉ ra các hạn chế cần khắc phục trong giai đoạn tới.

(baolaocai.vn)

Gửi cho bạn bè

Các tin khác

Xem nhiều nhất"""


def _blocks(text: str) -> list[Block]:
    return [Block("text", line.strip()) for line in text.splitlines() if line.strip()]


def test_seed_text_sequence() -> None:
    seq = read_block_sequence(
        _blocks(SEED_LIKE_TEXT), default_site().profile, standalone_captions=True
    )
    assert seq.title == 'Hội nghị "Nâng cao hiệu quả công tác khuyến nông vùng cao tỉnh Lào Cai"'
    assert seq.published_at is not None
    assert seq.published_at.isoformat() == "2023-04-07T00:00:00+07:00"
    captions = [b.text for b in seq.blocks if b.kind == "image"]
    assert captions == ["Toàn cảnh hội nghị"]
    texts = [b.text for b in seq.blocks if b.kind == "text"]
    assert texts[0].startswith("Chủ trì hội nghị")
    assert texts[-1] == "(baolaocai.vn)"  # the source line ends the article text
    assert not any(t in ("Gửi cho bạn bè", "Các tin khác", "Xem nhiều nhất") for t in texts)


def _seed_like_html(caption_markup: str) -> str:
    lines = [ln for ln in SEED_LIKE_TEXT.splitlines() if ln.strip()]
    paragraphs = "".join(f"<p>{p}</p>" for p in lines[3:7])
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
    <title>{lines[1]} - Báo Lào Cai</title><script src="/_nuxt/app.js"></script></head>
    <body><div id="__nuxt"><header><a href="/">Trang chủ</a></header><main>
    <span class="d">{lines[0]}</span><h1 class="t">{lines[1]}</h1>
    <section class="c">{caption_markup}{paragraphs}</section>
    <div><a href="#">Gửi cho bạn bè</a></div>
    <div><h3>Các tin khác</h3><ul><li><a href="/a-post1.html">Một tin khác</a></li></ul></div>
    <div><h3>Xem nhiều nhất</h3><ul><li><a href="/b-post2.html">Tin xem nhiều</a></li></ul></div>
    </main><footer><p>Giấy phép số 00/GP-BTTTT</p></footer></div></body></html>"""


def test_seed_layout_as_html_with_figure() -> None:
    html = _seed_like_html(
        '<figure><img src="https://photo-cms-baolaocai.epicdn.me/w800/Uploaded/2023/a/b.jpg">'
        "<figcaption>Toàn cảnh hội nghị</figcaption></figure>"
    )
    article = parse_article(html, "https://baolaocai.vn/hoi-nghi-khuyen-nong-post371234.html")
    assert article.extraction_method == "legacy"
    assert article.article_id == 371234
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2023-04-07T00:00:00+07:00"
    assert article.sapo is None
    assert [(i.src, i.caption) for i in article.images] == [
        ("https://photo-cms-baolaocai.epicdn.me/w800/Uploaded/2023/a/b.jpg", "Toàn cảnh hội nghị")
    ]
    assert article.source == "baolaocai.vn"
    assert len(article.paragraphs) == 3
    for furniture in (
        "Toàn cảnh hội nghị",
        "Gửi cho bạn bè",
        "Các tin khác",
        "Xem nhiều nhất",
        "(baolaocai.vn)",
        "Giấy phép",
    ):
        assert furniture not in article.body


def test_seed_layout_with_caption_paragraph_after_bare_image() -> None:
    html = _seed_like_html(
        '<div><img data-src="/img/x.jpg"></div><p class="caption">Toàn cảnh hội nghị</p>'
    )
    article = parse_article(html, "https://baolaocai.vn/hoi-nghi-khuyen-nong-post371234.html")
    assert [(i.src, i.caption) for i in article.images] == [
        ("https://baolaocai.vn/img/x.jpg", "Toàn cảnh hội nghị")
    ]
    assert "Toàn cảnh" not in article.body
