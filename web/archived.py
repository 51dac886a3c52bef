"""The archived page made safe to show: a pure sanitiser of archived HTML.

An archived page is someone else's markup, captured as it was: scripts, trackers, forms,
frames, pictures and styles that fetch from the newspaper's hosts. The archive shows it
*as it looked* without letting it *do* anything: nothing runs, nothing is fetched from the
network, no link leaves the archive by accident. Two layers, each enough on its own for
scripts:

1. this module rewrites the page (:func:`render_archived`): every ``<script>``, frame,
   plug-in, ``<base>``, refresh, stylesheet link, event handler and script-bearing URL is
   removed; links to articles the warehouse holds go to their archive page, every other
   link keeps its text and says (in its ``title``) where it went; pictures the archive
   holds come from the app, others lose their address (their ``alt`` stays); forms are
   turned into inert boxes; a banner at the top says which capture this is;
2. the answer carries a ``Content-Security-Policy`` with ``sandbox`` and
   ``default-src 'none'`` (:data:`RAW_CSP`), so a browser runs no script and fetches
   nothing but the app's own pictures even if this module missed something.

``<noscript>`` is *unwrapped* (its content kept, the element gone): in the archive no
script runs, so the no-script fallback is what a reader without scripts saw, often the
real picture of a lazy-loading page; its content is sanitised like the rest. ``<xmp>``,
``<listing>`` and ``<plaintext>`` become ``<pre>`` and ``<noembed>``/``<noframes>`` are
unwrapped, so no raw-text element of the browser's parser is left to read our escaped
output differently than we wrote it (the "mutation" tricks).

What is not HTML is never served as it is: text (JSON, plain text, XML, a page over
:data:`MAX_HTML_BYTES`) is shown escaped in a ``<pre>``, anything else (a picture, a PDF,
binary) as a short notice naming its type and size.

Pure functions: the caller reads the capture and answers which links and pictures the
archive holds (:data:`LinkMap`), once per page, in bulk.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup
from bs4.element import (
    CData,
    Comment,
    Declaration,
    Doctype,
    ProcessingInstruction,
    Stylesheet,
    Tag,
)

from baolaocai.decoding import decode_html

LinkMap = Callable[[Collection[str]], Mapping[str, str]]
"""Given absolute ``http(s)`` addresses found in the page (no fragment), the app's own
path for those the archive holds (an article page, a picture); the others are left out."""

RAW_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""The archived page's policy: a sandbox without ``allow-scripts`` (no script, no form,
no plug-in, an opaque origin), nothing fetched but the app's pictures and inline styles,
framed only by the app itself."""

MAX_HTML_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 500
"""Elements nested deeper than this (the parser's own limit, ``transforms.parse``): the
page is shown as escaped text. A real page nests some dozens; thousands only attack."""
MAX_ELEMENTS = 150_000
"""More tags than this (counted as ``<`` before any tree is built): escaped text too, so
one page's rewriting stays within a few seconds of one worker thread."""
"""A page larger than this is shown as escaped text, not parsed: parsing costs about a
second a megabyte on a busy machine (a newspaper page is 100-300 KB)."""
MAX_TEXT_CHARS = 512 * 1024
"""The most characters of a non-HTML text shown (the rest: a line saying how much)."""

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/javascript",
        "application/x-javascript",
    }
)

REMOVED_ELEMENTS = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "param",
        "base",
        "link",
        "portal",
        "fencedframe",
        "bgsound",
        "keygen",
        # SVG animation can set an attribute (href) to a script URL after we checked it.
        "animate",
        "animatemotion",
        "animatetransform",
        "set",
        "discard",
        "handler",
        "listener",
    }
)
"""Gone with their content: they run code, embed other documents, change where links
point or load resources. ``<link>`` of every kind: the stylesheets, preloads and imports
are the newspaper's (not archived) and the rest are metadata no reader sees."""
EMBEDS = frozenset({"iframe", "frame", "object", "embed", "applet", "portal", "fencedframe"})
"""Removed, with a line saying what was embedded (:func:`_leave_note`)."""
VOID_ELEMENTS = frozenset({"embed", "param", "base", "link", "meta", "keygen", "bgsound", "frame"})
"""Elements without content in a browser: lxml may hang the rest of the page under an
unclosed one, so removing one keeps what follows it."""
UNWRAPPED_ELEMENTS = frozenset({"noscript", "noembed", "noframes"})
PRE_ELEMENTS = frozenset({"xmp", "listing", "plaintext"})
FORM_FIELDS = frozenset({"input", "button", "select", "textarea", "option", "optgroup"})

DROPPED_ATTRIBUTES = frozenset(
    {
        "srcdoc",
        "action",
        "formaction",
        "ping",
        "background",
        "poster",
        "lowsrc",
        "dynsrc",
        "manifest",
        "codebase",
        "classid",
        "archive",
        "data",
        "srcset",
        "imagesrcset",
        "target",
        "formtarget",
        "http-equiv",
        "nonce",
        "integrity",
        "longdesc",
        "profile",
        "autofocus",
        "attributename",
        "from",
        "to",
        "values",
        "by",
        "xml:base",
    }
)
"""Attributes that fetch, submit, navigate elsewhere, or (SVG) animate another attribute;
``srcset`` too (its pictures are the newspaper's; the archive's come through ``src``)."""
URL_ATTRIBUTES = frozenset({"href", "xlink:href", "src", "cite"})
LAZY_IMAGE_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src", "data-srcset")

_ATTRIBUTE_NAME = re.compile(r"^[a-zA-Z_][-a-zA-Z0-9_:.]*$")
_TAG_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$")
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:", "data:")
_SAFE_DATA = (
    "data:image/png",
    "data:image/jpeg",
    "data:image/jpg",
    "data:image/gif",
    "data:image/webp",
    "data:image/avif",
)

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\r\n\f]?|\\\r?\n|\\(.)", re.DOTALL)
_CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)]*?))\s*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
_CSS_RISKY = re.compile(
    r"url\(|@import|expression|behavior|binding|image-set|src\(|image\(|\\|<", re.IGNORECASE
)
_CSS_BLOCKED_FUNCTIONS = re.compile(
    r"(-webkit-image-set|image-set|expression|src|image|element|cross-fade)\(", re.IGNORECASE
)
_CSS_BLOCKED_PROPERTIES = re.compile(r"(behavior|-moz-binding)\s*:", re.IGNORECASE)

BANNER_STYLE = (
    "all:initial;display:block;box-sizing:border-box;width:100%;margin:0;"
    "padding:6px 10px;background:#fff7d6;color:#3d2e00;border-bottom:2px solid #c9a227;"
    "font:14px/1.4 sans-serif;position:relative;z-index:2147483647"
)
"""The banner's own inline style (the page's styles must not hide or restyle it)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """The page to serve: HTML text, and how it was made (``html``: the sanitised page;
    ``text``: a non-HTML text, escaped; ``refused``: a notice instead of the body)."""

    kind: str
    html: str


def _no_links(_urls: Collection[str]) -> Mapping[str, str]:
    return {}


def render_archived(
    body: bytes,
    content_type: str | None,
    *,
    page_url: str,
    banner: str,
    links: LinkMap = _no_links,
    images: LinkMap = _no_links,
) -> Rendered:
    """The archived ``body`` (as the server sent it, with its ``content_type``) as a page
    safe to serve under :data:`RAW_CSP`: sanitised HTML, escaped text, or a notice.
    ``banner`` (plain text) heads it; ``links`` and ``images`` say which addresses the
    archive holds (see :data:`LinkMap`)."""
    kind = content_kind(body, content_type)
    if kind == "html" and body.count(b"<") > MAX_ELEMENTS:
        note = (
            f"Trang lưu trữ có quá nhiều thẻ để hiển thị như trang web (hơn"
            f" {MAX_ELEMENTS:,}): mã nguồn được hiển thị dưới dạng văn bản.".replace(",", ".")
        )
        return Rendered("text", text_view(decode_html(body, content_type), banner, note))
    if kind == "html" and len(body) > MAX_HTML_BYTES:
        note = (
            f"Trang lưu trữ quá lớn để hiển thị như trang web ({_size(len(body))}, giới hạn"
            f" {_size(MAX_HTML_BYTES)}): mã nguồn được hiển thị dưới dạng văn bản."
        )
        return Rendered("text", text_view(decode_html(body, content_type), banner, note))
    if kind == "html":
        text = decode_html(body, content_type)
        try:
            page = sanitise_html(text, page_url=page_url, banner=banner, links=links, images=images)
        except TooDeep as exc:
            note = (
                f"Trang lưu trữ lồng thẻ quá sâu ({exc.depth} cấp, giới hạn {MAX_DEPTH}):"
                " mã nguồn được hiển thị dưới dạng văn bản."
            )
            return Rendered("text", text_view(text, banner, note))
        return Rendered("html", page)
    if kind == "text":
        note = f"Bản lưu trữ không phải trang HTML ({_type_name(content_type)}): hiển thị dưới dạng văn bản."
        return Rendered("text", text_view(decode_html(body, content_type), banner, note))
    note = (
        f"Bản lưu trữ không phải trang HTML mà là {_type_name(content_type)}"
        f" ({_size(len(body))}): không hiển thị ở đây."
    )
    return Rendered("refused", text_view("", banner, note))


def content_kind(body: bytes, content_type: str | None) -> str:
    """``html``, ``text`` or ``binary``: what the body is, by its declared type and a look
    at its first bytes (a NUL byte is binary whatever the header says; a body with no
    type is HTML if it starts like HTML)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    head = body[:8192]
    if b"\x00" in head:
        return "binary"
    if mime in HTML_TYPES:
        return "html"
    if mime.startswith("text/") or mime in TEXT_TYPES or mime.endswith(("+json", "+xml")):
        return "text"
    if not mime:
        start = head.lstrip()[:64].lower()
        if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
            return "html"
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return "binary"
        return "text"
    return "binary"


def _type_name(content_type: str | None) -> str:
    mime = (content_type or "").split(";", 1)[0].strip()
    return mime[:80] if mime else "không rõ kiểu (no content type)"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} byte"


def banner_html(banner: str) -> str:
    return (
        f'<div id="archive-banner" role="note" lang="vi" style="{BANNER_STYLE}">'
        f"{html.escape(banner)}</div>"
    )


def text_view(text: str, banner: str, note: str) -> str:
    """A page showing ``text`` escaped in a ``<pre>`` under the banner and ``note``."""
    shown = text[:MAX_TEXT_CHARS]
    more = ""
    if len(text) > MAX_TEXT_CHARS:
        more = f"\n\n[… còn {len(text) - MAX_TEXT_CHARS:,} ký tự không hiển thị]".replace(",", ".")
    body = f"<pre>{html.escape(shown + more)}</pre>" if text else ""
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer"><title>Bản lưu trữ</title></head>'
        f'<body>{banner_html(banner)}<p id="archive-note">{html.escape(note)}</p>{body}'
        "</body></html>\n"
    )


# ------------------------------------------------------------------------------ HTML


class TooDeep(ValueError):
    """A page nests elements deeper than :data:`MAX_DEPTH`."""

    def __init__(self, depth: int) -> None:
        super().__init__(f"nested {depth} levels deep")
        self.depth = depth


def _check_depth(soup: BeautifulSoup) -> None:
    """:class:`TooDeep` past :data:`MAX_DEPTH` (one pass: each tag one deeper than its
    parent)."""
    depth: dict[int, int] = {id(soup): 0}
    for tag in soup.find_all(True):
        level = depth.get(id(tag.parent), 0) + 1
        if level > MAX_DEPTH:
            raise TooDeep(level)
        depth[id(tag)] = level


def _decomposed(tag: Tag) -> bool:
    """Whether ``tag`` went with an ancestor's ``decompose()``. Not ``tag.decomposed``:
    bs4 reads that through ``getattr(tag, "_decomposed")``, which a tag without the
    attribute answers with ``tag.find("_decomposed")``, a search of its whole subtree
    (every tag of a page nested N deep cost O(N²): a minute for 8,000 levels)."""
    return bool(tag.__dict__.get("_decomposed", False))


def sanitise_html(
    text: str,
    *,
    page_url: str,
    banner: str,
    links: LinkMap = _no_links,
    images: LinkMap = _no_links,
) -> str:
    """``text`` (an archived HTML page) with nothing left that runs, fetches or navigates
    away (see the module docstring), the ``banner`` first in its body."""
    soup = BeautifulSoup(text, "lxml")
    _check_depth(soup)
    for node in list(soup.find_all(string=True)):
        if isinstance(node, Comment | CData | ProcessingInstruction | Declaration | Doctype):
            node.extract()
    anchors: list[tuple[Tag, str]] = []
    pictures: list[tuple[Tag, str]] = []
    for tag in list(soup.find_all(True)):
        if _decomposed(tag):
            continue
        name = (tag.name or "").lower()
        if name in EMBEDS:
            _leave_note(soup, tag, page_url)
        if name in REMOVED_ELEMENTS or (name == "meta" and _meta_is_active(tag)):
            if name in VOID_ELEMENTS:
                tag.unwrap()  # what the parser hung under it is the page's, not its own
            else:
                tag.decompose()
            continue
        _clean_attributes(tag)
        if name == "style":
            tag.string = Stylesheet(clean_css(tag.get_text()))
            continue
        if name in ("a", "area"):
            target = _link_of(tag, page_url)
            if target is not None:
                anchors.append((tag, target))
        elif name == "img":
            source = _picture_of(tag, page_url)
            if source is not None:
                pictures.append((tag, source))
        elif name == "form":
            tag.name = "div"
            tag["data-archived-form"] = ""
            for key in ("method", "enctype", "accept-charset", "novalidate", "name"):
                tag.attrs.pop(key, None)
        elif name in FORM_FIELDS:
            tag["disabled"] = ""
        if name in UNWRAPPED_ELEMENTS:
            tag.unwrap()
        elif name in PRE_ELEMENTS:
            tag.name = "pre"
        elif not _TAG_NAME.match(name):
            tag.name = "span"  # a name a browser would read otherwise ("scr<script")
    _apply_links(anchors, links)
    _apply_pictures(pictures, images)
    _frame(soup, banner)
    return "<!DOCTYPE html>\n" + soup.decode(formatter="minimal")


def _leave_note(soup: BeautifulSoup, tag: Tag, page_url: str) -> None:
    """Where an embedded frame or plug-in was, a line saying what it showed (a video of
    another site, a map): the reader knows something was there."""
    source = next((str(tag[k]) for k in ("src", "data") if tag.has_attr(k)), "")
    absolute = _absolute(source, page_url) if source else None
    note = soup.new_tag("span", attrs={"class": "archived-embed"})
    note.string = "[Nội dung nhúng không có trong kho lưu trữ" + (
        f": {absolute[:300]}]" if absolute else "]"
    )
    tag.insert_before(note)


def _meta_is_active(tag: Tag) -> bool:
    """A ``<meta>`` that acts (refresh, cookies, a charset: the page is served as UTF-8
    now) rather than describes."""
    return tag.has_attr("http-equiv") or tag.has_attr("charset")


def _url_is_dangerous(value: str) -> bool:
    """A URL a browser would run or load inline: ``javascript:`` and its kin, ``data:``
    other than a raster picture. Browsers ignore ASCII whitespace and controls inside
    the scheme (``jav&#x09;ascript:``); entities are already decoded by the parser."""
    plain = _URL_NOISE.sub("", value).lower()
    if plain.startswith(_SAFE_DATA):
        return False
    return plain.startswith(_DANGEROUS_SCHEMES)


def _clean_attributes(tag: Tag) -> None:
    for key in list(tag.attrs):
        value = tag.attrs[key]
        text = " ".join(value) if isinstance(value, list) else str(value)
        lower = key.lower()
        if (
            not _ATTRIBUTE_NAME.match(key)
            or lower.startswith("on")
            or lower in DROPPED_ATTRIBUTES
            or _url_is_dangerous(text)
        ):
            del tag.attrs[key]
        elif lower == "style":
            cleaned = clean_css(text).strip()
            if cleaned:
                tag.attrs[key] = cleaned
            else:
                del tag.attrs[key]
        elif (
            lower in URL_ATTRIBUTES
            and not _rewritten_later(tag, lower)
            and not text.strip().startswith("#")
        ):
            # An SVG <use>/<image>, a <source>, a <q cite>: only a place in this page stays.
            del tag.attrs[key]


def _rewritten_later(tag: Tag, attribute: str) -> bool:
    """A link's ``href`` and a picture's ``src``: rewritten (or dropped) with what the
    archive holds, after every tag is read (:func:`_apply_links`, :func:`_apply_pictures`)."""
    name = (tag.name or "").lower()
    return (attribute == "href" and name in ("a", "area")) or (attribute == "src" and name == "img")


def _absolute(value: str, page_url: str) -> str | None:
    """``value`` resolved against the page, without its fragment, if it is ``http(s)``."""
    try:
        absolute = urljoin(page_url, value.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _link_of(tag: Tag, page_url: str) -> str | None:
    """Where a link pointed (absolute), with its ``href`` taken away; a link within the
    page (``#…``) keeps it and is not rewritten."""
    raw = tag.attrs.get("href")
    if raw is None:
        return None
    href = str(raw).strip()
    if href.startswith("#"):
        return None
    del tag.attrs["href"]
    absolute = _absolute(href, page_url)
    if absolute is None:
        if href:
            tag["title"] = f"Liên kết gốc (không mở được trong kho lưu trữ): {href[:300]}"
        return None
    return absolute


def _picture_of(tag: Tag, page_url: str) -> str | None:
    """The address a picture was loaded from (``src``, else a lazy-loading attribute),
    with every address attribute taken away but an inline ``data:`` picture (a
    lazy-loading page's placeholder, nothing to fetch); its ``alt`` stays."""
    src = str(tag.attrs.get("src") or "")
    inline = _URL_NOISE.sub("", src).lower().startswith(_SAFE_DATA)
    found: str | None = None
    for key in LAZY_IMAGE_ATTRIBUTES:
        if key == "src" and inline:
            continue
        value = tag.attrs.pop(key, None)
        if found is None and value and key != "data-srcset":
            found = _absolute(str(value), page_url)
    return found


def _apply_links(anchors: list[tuple[Tag, str]], links: LinkMap) -> None:
    local = links({target for _, target in anchors}) if anchors else {}
    for tag, target in anchors:
        path = local.get(target)
        if path is not None:
            tag["href"] = path
            tag["target"] = "_top"  # the article's archive page, not inside the frame
            tag["title"] = f"Bài trong kho lưu trữ (trang gốc: {target[:300]})"
        else:
            tag["title"] = f"Liên kết gốc (không có trong kho lưu trữ): {target[:300]}"
            tag["data-archived-link"] = ""


def _apply_pictures(pictures: list[tuple[Tag, str]], images: LinkMap) -> None:
    local = images({source for _, source in pictures}) if pictures else {}
    for tag, source in pictures:
        path = local.get(source)
        if path is not None:
            tag["src"] = path
        else:
            tag["title"] = f"Ảnh không có trong kho lưu trữ: {source[:300]}"


def _frame(soup: BeautifulSoup, banner: str) -> None:
    """A ``<head>`` that says UTF-8 and sends no referrer, a ``<body>`` headed by the
    banner, whatever shape the page had."""
    root = soup.find("html")
    if not isinstance(root, Tag):
        root = soup.new_tag("html")
        for child in list(soup.contents):
            root.append(child.extract())
        soup.append(root)
    head = root.find("head", recursive=False)
    if not isinstance(head, Tag):
        head = soup.new_tag("head")
        root.insert(0, head)
    body = root.find("body", recursive=False)
    if not isinstance(body, Tag):
        body = soup.new_tag("body")
        for child in list(root.contents):
            if child is not head:
                body.append(child.extract())
        root.append(body)
    head.insert(0, soup.new_tag("meta", attrs={"name": "referrer", "content": "no-referrer"}))
    head.insert(0, soup.new_tag("meta", attrs={"charset": "utf-8"}))
    banner_tag = BeautifulSoup(banner_html(banner), "html.parser").div
    assert banner_tag is not None
    body.insert(0, banner_tag)


# ------------------------------------------------------------------------------- CSS


def _unescape_css(css: str) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return match.group(2) or ""

    return _CSS_ESCAPE.sub(one, css)


def clean_css(css: str) -> str:
    """A style sheet (or ``style`` attribute) that fetches nothing and runs nothing:
    ``url()`` other than a raster ``data:`` picture becomes ``none``, ``@import`` goes,
    ``expression()``, ``image-set()``, bindings and behaviours are disabled, and no
    ``<`` is left to close the ``<style>`` it sits in. Text with none of these is kept
    as it is; otherwise it is judged (and written) with CSS escapes and comments read,
    so ``u\\72l(`` is a ``url(`` too."""
    if not _CSS_RISKY.search(css):
        return css
    plain = _CSS_COMMENT.sub(" ", _unescape_css(css))
    plain = _CSS_IMPORT.sub("", plain)

    def url(match: re.Match[str]) -> str:
        value = next((g for g in match.groups() if g is not None), "")
        if _URL_NOISE.sub("", value).lower().startswith(_SAFE_DATA) and '"' not in value:
            return f'url("{value}")'
        return "none"

    plain = _CSS_URL.sub(url, plain)
    plain = _CSS_BLOCKED_FUNCTIONS.sub("blocked(", plain)  # an unknown function: ignored
    plain = _CSS_BLOCKED_PROPERTIES.sub("blocked:", plain)
    # A backslash left (an escaped one) must stay literal: written bare, the browser
    # would read an escape again (``\\75rl(`` is ``url(`` after one unescaping).
    return plain.replace("\\", "\\5c ").replace("<", "\\3c ")
