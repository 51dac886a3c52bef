"""The sanitiser of archived pages (:mod:`web.archived`), alone: hostile markup in every
form we know goes in, nothing that runs, fetches or navigates away comes out, and what a
reader came for (the text, the links' words, the pictures' descriptions) stays.

Each check reads the output the way a browser would (BeautifulSoup over lxml, and a
second parse with Python's own HTML parser: the two disagree on broken markup, a
sanitiser must be safe for both readings).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from bs4 import BeautifulSoup

from web.archived import (
    MAX_HTML_BYTES,
    RAW_CSP,
    clean_css,
    content_kind,
    render_archived,
    sanitise_html,
)

PAGE_URL = "https://baolaocai.vn/cho-phien-bac-ha-post77.html"
BANNER = "Bản lưu trữ ngày 20/11/2026 08:30 — trang gốc: " + PAGE_URL
STORED = "https://baolaocai.vn/sa-pa-don-khach-post12.html"


def links(urls: object) -> dict[str, str]:
    """The archive holds one article (:data:`STORED`)."""
    assert isinstance(urls, set | frozenset)
    return {u: "/a/baolaocai/12" for u in urls if u == STORED}


def pictures(urls: object) -> dict[str, str]:
    assert isinstance(urls, set | frozenset)
    return {u: "/a/baolaocai/77/img/0" for u in urls if u.endswith("/anh-0.jpg")}


def clean(html: str) -> str:
    return sanitise_html(html, page_url=PAGE_URL, banner=BANNER, links=links, images=pictures)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


ACTIVE = re.compile(r"^\s*(javascript|vbscript|livescript|data):", re.IGNORECASE)
FORBIDDEN = {"script", "iframe", "frame", "object", "embed", "applet", "base", "link", "form"}


def assert_inert(out: str) -> None:
    """No element that runs or embeds, no handler, no script URL, no fetch elsewhere, in
    either reading of ``out``."""
    parser = _Tags()
    parser.feed(out)
    readings = [(t, dict(a)) for t, a in parser.tags]
    readings += [(t.name, dict(t.attrs)) for t in BeautifulSoup(out, "lxml").find_all(True)]
    for name, attrs in readings:
        assert name.lower() not in FORBIDDEN, (name, attrs)
        if name.lower() == "meta":
            assert not {"http-equiv", "charset"} & {k.lower() for k in attrs} or attrs == {
                "charset": "utf-8"
            }, attrs
        for key, value in attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value or "")
            plain = re.sub(r"[\x00-\x20]", "", text)
            assert not key.lower().startswith("on"), (name, key)
            assert key.lower() not in {"srcdoc", "formaction", "action", "srcset", "ping"}
            if key.lower() in {"href", "src", "xlink:href", "poster", "background"}:
                assert not ACTIVE.match(plain) or plain.startswith("data:image/png"), (name, key)
                assert plain.startswith(("/a/baolaocai/", "#", "data:image/png")), (name, key)


# ---------------------------------------------------------------------------- scripts


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        "<ScRiPt src='https://evil.example/x.js'></sCrIpT>",
        "<scr<script>ipt>alert(1)</script>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><script href='data:text/javascript,alert(1)'/></svg>",
        "<math><mi><script>alert(1)</script></mi></math>",
        "<svg onload=alert(1)><circle r=1 /></svg>",
        "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
        "<svg><animate attributeName=href to='javascript:alert(1)'/><a><text>y</text></a></svg>",
        "<svg><set attributeName=onmouseover to=alert(1) /></svg>",
        "<svg><use href='data:image/svg+xml,<svg id=x><script>alert(1)</script></svg>#x'/></svg>",
        "<img src=x onerror=alert(1)>",
        "<IMG SRC=x OnErRoR=alert(1)>",
        "<body onload=alert(1)>",
        "<div onmouseover='alert(1)' onclick=\"alert(2)\">x</div>",
        "<a href='javascript:alert(1)'>x</a>",
        "<a href='JaVaScRiPt:alert(1)'>x</a>",
        "<a href='jav&#x09;ascript:alert(1)'>x</a>",
        "<a href='&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)'>x</a>",
        "<a href='  javascript:alert(1)'>x</a>",
        "<a href='java\nscript:alert(1)'>x</a>",
        "<a href='vbscript:msgbox(1)'>x</a>",
        "<a href='data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='>x</a>",
        "<iframe src='https://evil.example/'></iframe>",
        "<iframe srcdoc='&lt;script&gt;alert(1)&lt;/script&gt;'></iframe>",
        "<div srcdoc='<script>alert(1)</script>'>x</div>",
        "<object data='x.swf'></object><embed src='x.swf'><applet code=x></applet>",
        "<form action='https://evil.example/'><button formaction='javascript:alert(1)'>b</button></form>",
        "<input type=image src='javascript:alert(1)'>",
        "<meta http-equiv='refresh' content='0;url=javascript:alert(1)'>",
        "<META HTTP-EQUIV=REFRESH CONTENT='0; URL=https://evil.example/'>",
        "<base href='https://evil.example/'><a href='/x'>x</a>",
        "<link rel=import href='https://evil.example/x.html'>",
        "<link rel=stylesheet href='https://evil.example/x.css'>",
        "<link rel=preload href='https://evil.example/x.js' as=script>",
        "<a ping='https://evil.example/track' href='#x'>x</a>",
        "<video poster='https://evil.example/p.jpg' src='https://evil.example/v.mp4'></video>",
        "<picture><source srcset='https://evil.example/x.webp'><img src='https://x/y.jpg'></picture>",
        "<table background='https://evil.example/bg.jpg'><tr><td>x</td></tr></table>",
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'>x</p></noscript>",
        "<noembed><img title='</noembed><img src=x onerror=alert(1)>'></noembed>",
        "<xmp><img src=x onerror=alert(1)></xmp>",
        "<template><img src=x onerror=alert(1)></template>",
        "<!--<img src=x onerror=alert(1)>--><p>x</p>",
        "<p>unclosed <b>bold <i><a href='javascript:alert(1)'>link",
        '<a href="x" " onclick=alert(1)>odd quoting</a>',
        "<div style='background:url(javascript:alert(1))'>x</div>",
        "<x onclick=alert(1) a/onmouseover=alert(2)>custom</x>",
    ],
)
def test_nothing_that_runs_survives(markup: str) -> None:
    out = clean(f"<html><head></head><body>{markup}<p>Chợ phiên Bắc Hà</p></body></html>")
    assert_inert(out)
    assert "Chợ phiên Bắc Hà" in out  # what follows the hostile markup is still shown


def test_the_text_and_structure_a_reader_came_for_stay() -> None:
    out = clean(
        "<html><head><title>Chợ phiên</title><style>.sapo{font-weight:bold}</style></head>"
        "<body><h1 class='title'>Chợ phiên Bắc Hà</h1><p class='sapo'>Họp sáng Chủ nhật.</p>"
        "<table><tr><td>Giá</td><td>50.000 đồng</td></tr></table></body></html>"
    )
    page = BeautifulSoup(out, "lxml")
    assert page.find("h1", class_="title").get_text() == "Chợ phiên Bắc Hà"
    assert page.find("p", class_="sapo") is not None and page.find("td", string="50.000 đồng")
    assert page.find("style").get_text() == ".sapo{font-weight:bold}"
    assert page.find("title").get_text() == "Chợ phiên"


def test_noscript_content_is_kept_and_sanitised() -> None:
    out = clean(
        "<body><noscript><img src='https://cdn.baolaocai.vn/x/anh-0.jpg' alt='Bắc Hà'"
        " onerror=alert(1)></noscript></body>"
    )
    page = BeautifulSoup(out, "lxml")
    assert page.find("noscript") is None
    img = page.find("img")
    assert img["src"] == "/a/baolaocai/77/img/0" and img["alt"] == "Bắc Hà"
    assert_inert(out)


# ----------------------------------------------------------------------- links, images


def test_links_stay_in_the_archive_or_go_nowhere() -> None:
    out = clean(
        "<body><a id=s href='/sa-pa-don-khach-post12.html#binh-luan'>Sa Pa</a>"
        "<a id=o href='https://baolaocai.vn/khac-post13.html'>khác</a>"
        "<a id=e href='https://facebook.com/share'>chia sẻ</a>"
        "<a id=m href='mailto:toasoan@baolaocai.vn'>thư</a>"
        "<a id=f href='#top'>lên đầu</a><area id=r href='/sa-pa-don-khach-post12.html'></body>"
    )
    page = BeautifulSoup(out, "lxml")
    stored = page.find(id="s")
    assert stored["href"] == "/a/baolaocai/12" and stored["target"] == "_top"
    assert page.find(id="r")["href"] == "/a/baolaocai/12"
    for other, went in (
        ("o", "https://baolaocai.vn/khac-post13.html"),
        ("e", "https://facebook.com/share"),
        ("m", "mailto:toasoan@baolaocai.vn"),
    ):
        tag = page.find(id=other)
        assert not tag.has_attr("href") and went in tag["title"]
        assert tag.get_text()  # the words stay
    assert page.find(id="f")["href"] == "#top"


def test_pictures_come_from_the_archive_or_not_at_all() -> None:
    out = clean(
        "<body><img id=a src='https://cdn.baolaocai.vn/x/anh-0.jpg' srcset='https://x/2.jpg 2x'>"
        "<img id=b src='https://cdn.baolaocai.vn/x/anh-1.jpg' alt='Ruộng bậc thang'>"
        "<img id=c data-src='https://cdn.baolaocai.vn/x/anh-0.jpg' src='data:image/gif;base64,R0lGOD'>"
        "<img id=d data-src='/x/anh-0.jpg'><img id=e src='data:image/png;base64,iVBOR'>"
        "<img id=g data-src='https://cdn.baolaocai.vn/x/anh-5.jpg' src='data:image/gif;base64,R0'>"
        "</body>"
    )
    page = BeautifulSoup(out, "lxml")
    assert page.find(id="a")["src"] == "/a/baolaocai/77/img/0"
    assert not page.find(id="a").has_attr("srcset")
    missing = page.find(id="b")
    assert not missing.has_attr("src") and missing["alt"] == "Ruộng bậc thang"
    assert "anh-1.jpg" in missing["title"]
    # A lazy-loading placeholder gives way to the archived picture it stands for.
    assert page.find(id="c")["src"] == "/a/baolaocai/77/img/0"
    assert page.find(id="d")["src"] == "/a/baolaocai/77/img/0"  # lazy-loaded, resolved
    assert page.find(id="e")["src"].startswith("data:image/png")
    placeholder = page.find(id="g")  # the placeholder stays, the address it hid is told
    assert placeholder["src"].startswith("data:image/gif") and not placeholder.has_attr("data-src")
    assert "anh-5.jpg" in placeholder["title"]
    assert_inert(out.replace("data:image/gif", "data:image/png"))


def test_the_link_lookups_are_asked_once_each_in_bulk() -> None:
    asked: list[set[str]] = []

    def counting(urls: object) -> dict[str, str]:
        assert isinstance(urls, set)
        asked.append(urls)
        return {}

    html = "<body>" + "".join(f"<a href='/bai-{i}-post{i}.html'>{i}</a>" for i in range(300))
    sanitise_html(html, page_url=PAGE_URL, banner=BANNER, links=counting, images=counting)
    assert len(asked) == 1 and len(asked[0]) == 300


def test_embedded_frames_leave_a_note_of_what_they_showed() -> None:
    out = clean("<body><iframe src='https://www.youtube.com/embed/abc'></iframe></body>")
    note = BeautifulSoup(out, "lxml").find(class_="archived-embed").get_text()
    assert "https://www.youtube.com/embed/abc" in note


def test_forms_are_inert_boxes() -> None:
    out = clean(
        "<body><form action='/tim-kiem' method=post><input name=q value='Sa Pa'>"
        "<select name=s><option>1</option></select><textarea>t</textarea>"
        "<button>Tìm</button></form></body>"
    )
    page = BeautifulSoup(out, "lxml")
    assert page.find("form") is None
    box = page.find(attrs={"data-archived-form": True})
    assert box is not None and not box.has_attr("action") and not box.has_attr("method")
    for name in ("input", "select", "textarea", "button"):
        assert page.find(name).has_attr("disabled"), name


# -------------------------------------------------------------------------------- CSS


@pytest.mark.parametrize(
    "css",
    [
        "background:url(https://evil.example/x.png)",
        "background:URL( 'https://evil.example/x.png' )",
        'background:url("javascript:alert(1)")',
        "background:u\\72l(https://evil.example/x.png)",
        "background:\\75 \\72 \\6c (https://evil.example/x.png)",
        "background:ur/**/l(https://evil.example/x.png)",
        "@import 'https://evil.example/x.css'; p{color:red}",
        "@import url(https://evil.example/x.css);",
        "width:expression(alert(1))",
        "behavior:url(x.htc)",
        "-moz-binding:url(https://evil.example/x.xml#x)",
        "background-image:image-set('https://evil.example/x.png' 1x)",
        "background-image:-webkit-image-set(url(https://evil.example/x.png) 1x)",
        "@font-face{font-family:x;src:url(https://evil.example/f.woff)}",
        "p{color:red}</style><script>alert(1)</script>",
        "a\\\\75rl(https://evil.example/x.png)",
    ],
)
def test_styles_fetch_nothing_and_run_nothing(css: str) -> None:
    out = clean_css(css).lower()
    assert "evil.example" not in out.replace("none", "") or "url(" not in out
    assert "url(http" not in out and "javascript" not in out.replace("none", "")
    assert "@import" not in out and "expression(" not in out and "<" not in out
    assert "-moz-binding:" not in out and "behavior:" not in out
    assert "image-set(" not in out
    # No escape left that a browser would read into a name again: only ours, which
    # stand for a literal backslash or "<".
    assert "\\" not in re.sub(r"\\(5c|3c) ", "", out)


def test_harmless_styles_are_kept_as_written() -> None:
    assert clean_css("color:#333;font-weight:bold") == "color:#333;font-weight:bold"
    assert 'url("data:image/png;base64,AAAA")' in clean_css(
        "background:url(data:image/png;base64,AAAA)"
    )


def test_style_attributes_and_elements_are_cleaned() -> None:
    out = clean(
        "<head><style>body{background:url(https://evil.example/bg.jpg)}</style></head>"
        "<body><p style='color:red;background:url(https://evil.example/p.jpg)'>x</p></body>"
    )
    assert "evil.example" not in out
    page = BeautifulSoup(out, "lxml")
    assert "color:red" in page.find("p")["style"]


# ---------------------------------------------------------------------- the whole page


def test_the_banner_heads_the_body_and_utf8_is_declared() -> None:
    out = clean("<p>Trang không có html, head hay body</p>")
    page = BeautifulSoup(out, "lxml")
    body = page.find("body")
    first = next(c for c in body.children if getattr(c, "name", None))
    assert first["id"] == "archive-banner" and first.get_text() == BANNER
    assert page.find("meta", charset="utf-8") is not None
    assert page.find("meta", attrs={"name": "referrer"})["content"] == "no-referrer"
    assert out.startswith("<!DOCTYPE html>")


def test_the_banner_text_is_escaped() -> None:
    out = sanitise_html("<p>x</p>", page_url=PAGE_URL, banner="<script>alert(1)</script>")
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_a_page_in_a_legacy_charset_is_decoded() -> None:
    html = "<html><head><meta charset='windows-1258'></head><body><p>Lào Cai</p></body></html>"
    body = html.encode("cp1258")
    assert b"L\xe0o" in body  # not UTF-8
    rendered = render_archived(body, "text/html", page_url=PAGE_URL, banner=BANNER)
    assert rendered.kind == "html" and "Lào Cai" in BeautifulSoup(rendered.html, "lxml").get_text()
    assert "windows-1258" not in rendered.html


def test_a_page_over_the_limit_is_shown_as_escaped_text() -> None:
    filler = "<p onclick=alert(1)>Chợ phiên</p>" * (MAX_HTML_BYTES // 30 + 10)
    body = f"<html><body><script>alert(1)</script>{filler}</body></html>".encode()
    assert len(body) > MAX_HTML_BYTES
    rendered = render_archived(body, "text/html", page_url=PAGE_URL, banner=BANNER)
    assert rendered.kind == "text"
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert len(rendered.html) < 1024 * 1024  # the text shown is cut, with a line saying so
    assert "ký tự không hiển thị" in rendered.html


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b'{"error": "<script>alert(1)</script>"}', "application/json", "text"),
        (b"<script>alert(1)</script>", "text/plain", "text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", "refused"),
        (b"\x00\x01<script>alert(1)</script>", "text/html", "refused"),
        (b"%PDF-1.4 <script>alert(1)</script>", "application/pdf", "refused"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/svg+xml", "text"),
    ],
)
def test_what_is_not_html_is_never_served_raw(body: bytes, content_type: str, kind: str) -> None:
    rendered = render_archived(body, content_type, page_url=PAGE_URL, banner=BANNER)
    assert rendered.kind == kind
    assert "<script>" not in rendered.html and "onload='alert" not in rendered.html
    assert_inert(rendered.html)
    if kind == "refused":
        assert content_type.split(";")[0] in rendered.html or "kiểu" in rendered.html


def test_content_kind_reads_the_body_when_the_type_is_missing() -> None:
    assert content_kind(b"<!DOCTYPE html><html></html>", None) == "html"
    assert content_kind(b"  <html><body>x", "") == "html"
    assert content_kind(b"plain words", None) == "text"
    assert content_kind(b"\xff\xfe\xfa\xfb", None) == "binary"
    assert content_kind(b"<html>", "text/html; charset=utf-8") == "html"
    assert content_kind(b"<html>", "application/xhtml+xml") == "html"


def test_the_policy_sandboxes_without_scripts() -> None:
    directives = [d.strip() for d in RAW_CSP.split(";")]
    assert directives[0] == "sandbox"  # no allow-scripts, no allow-same-origin
    assert "default-src 'none'" in directives and "img-src 'self' data:" in directives
    assert "style-src 'unsafe-inline'" in directives
    assert not [d for d in directives if "script-src" in d]


# -- pages built to exhaust the rewriting (a review found one froze the server) -----------


def _nested(depth: int, inner: str = "x") -> bytes:
    return f"<html><body>{'<div>' * depth}{inner}{'</div>' * depth}</body></html>".encode()


def test_a_page_nested_past_the_limit_is_shown_as_text() -> None:
    from web.archived import MAX_DEPTH, render_archived

    shown = render_archived(
        _nested(MAX_DEPTH + 50),
        "text/html",
        page_url="https://baolaocai.vn/a-post1.html",
        banner="b",
    )
    assert shown.kind == "text" and "lồng thẻ quá sâu" in shown.html
    within = render_archived(
        _nested(MAX_DEPTH - 50),
        "text/html",
        page_url="https://baolaocai.vn/a-post1.html",
        banner="b",
    )
    assert within.kind == "html"


def test_a_page_of_too_many_tags_is_shown_as_text() -> None:
    from web.archived import MAX_ELEMENTS, render_archived

    body = b"<html><body>" + b"<b>x</b>" * (MAX_ELEMENTS // 2 + 10) + b"</body></html>"
    shown = render_archived(
        body, "text/html", page_url="https://baolaocai.vn/a-post1.html", banner="b"
    )
    assert shown.kind == "text" and "quá nhiều thẻ" in shown.html


def test_rewriting_a_deep_page_does_not_search_each_subtree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bs4's ``tag.decomposed`` searches the tag's whole subtree when the tag was never
    decomposed: asked of every tag, a page N deep cost N² (a minute at 8,000 levels). The
    rewriting asks nothing that walks a subtree per tag: counted, not timed."""
    from bs4.element import Tag

    from web.archived import MAX_DEPTH, render_archived

    calls = 0
    real_find = Tag.find

    def counting_find(self: Tag, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real_find(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Tag, "find", counting_find)
    render_archived(
        _nested(MAX_DEPTH - 10, "<p>chữ</p>" * 50),
        "text/html",
        page_url="https://baolaocai.vn/a-post1.html",
        banner="b",
    )
    assert calls < 50, calls
