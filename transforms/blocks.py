"""Linearise an HTML subtree into the blocks a reader sees, in document order.

A *text* block is a paragraph-like run of text (a ``<p>``, a heading, a list item, the
text of a ``<div>`` between its child blocks). An *image* block is one picture with its
absolute ``src`` and caption. Picture containers (``table.picture``, ``figure`` …, see
the site profile) become image blocks whole, so their captions never reach the text.
Pure: a BeautifulSoup element in, a list of :class:`Block` out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

from bs4 import Tag
from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction

from baolaocai.profile import SiteProfile
from baolaocai.text import normalize_text
from transforms.select import find_tags, first_tag, is_removed, matches

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
HEADING_TAGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
IMAGE_TAGS = ("img", "amp-img")
"""Elements that are one picture: ``<img>``, and AMP's ``<amp-img>``."""
_CELL_TAGS = ("td", "th")
_PICTURE_BOX_TAGS = ("figure", "div", "li", "section")
_MAX_CELL_CHARS = 300
_LAYOUT_IN_CELL = ("table", "div", "h1", "h2", "h3", "ul", "ol", "blockquote", "section")
_SKIP_STRINGS = (Comment, Doctype, ProcessingInstruction)
_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-url")
_MAX_CAPTION_CONTAINER_TEXT = 400
_RIGHT_RE = re.compile(r"text-align\s*:\s*right", re.IGNORECASE)
_CENTER_RE = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
# Class names that say "picture" on a wrapper, and "caption" on the text beside it.
_PICTURE_CLASS_RE = re.compile(r"photo|image|img|pic|figure|media", re.IGNORECASE)
_CAPTION_CLASS_RE = re.compile(r"cap|note|legend|chu-?thich|desc", re.IGNORECASE)
_MAX_LOOSE_CAPTION_CHARS = 300
_BOLD_STYLE_RE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.IGNORECASE)


@dataclass(slots=True)
class Block:
    kind: Literal["text", "image"]
    text: str
    tag: str = "p"
    src: str | None = None
    emphasis: bool = False
    right_aligned: bool = False
    in_caption: bool = False
    element: Tag | None = None

    @property
    def heading(self) -> bool:
        return self.tag in HEADING_TAGS


def image_src(img: Tag, page_url: str) -> str | None:
    """Absolute URL of an ``<img>``: the largest of its ``srcset`` (lazy or not: the best
    copy the page offers), then lazy-load attributes, then ``src``."""
    candidates: list[str] = []
    srcset = str(img.get("data-srcset") or img.get("srcset") or "")
    if srcset:
        candidates.append(_largest_from_srcset(srcset))
    candidates += [str(img.get(a) or "") for a in _LAZY_ATTRS]
    candidates.append(str(img.get("src") or ""))
    for raw in candidates:
        raw = raw.strip()
        if raw and not raw.startswith(("data:", "about:", "javascript:")):
            return urljoin(page_url, raw)
    return None


_SIZE_SEGMENT_RE = re.compile(
    r"^(?:[wh]\d{2,4}|\d{2,4}x\d{0,4}|\d{0,4}x\d{2,4}|thumb\w*|resize\w*)$", re.I
)
_SIZE_SUFFIX_RE = re.compile(r"[-_]\d{2,4}x\d{2,4}(?=\.\w+$)")


def picture_key(src: str) -> str:
    """One picture whatever copy of it a page shows: its address without size segments
    (``/w840/``, ``/600x315/``), size suffixes (``-300x200.jpg``) or a query."""
    parts = urlsplit(src)
    path = "/".join(seg for seg in parts.path.split("/") if not _SIZE_SEGMENT_RE.match(seg))
    return parts.netloc.lower() + _SIZE_SUFFIX_RE.sub("", path)


def _largest_from_srcset(srcset: str) -> str:
    best, best_w = "", -1.0
    for part in srcset.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        width = 0.0
        if len(bits) > 1 and bits[1][:-1].replace(".", "", 1).isdigit():
            width = float(bits[1][:-1])
        if width > best_w:
            best, best_w = bits[0], width
    return best


def _classes(el: Tag) -> str:
    cls: object = el.get("class") or []
    return " ".join(str(c) for c in cls) if isinstance(cls, list) else str(cls)


def _matches_any(el: Tag, selectors: tuple[str, ...]) -> bool:
    """One compiled selector list per group (``"a, b, c"``): one lookup per element."""
    return matches(el, ", ".join(selectors)) if selectors else False


class Linearizer:
    """Walks one subtree; holds only the per-call state (emitted blocks)."""

    def __init__(self, profile: SiteProfile, page_url: str) -> None:
        self.profile = profile
        self.page_url = page_url
        self.blocks: list[Block] = []
        self._seen_src: set[str] = set()

    # -- images ---------------------------------------------------------------------------
    def _is_picture_container(self, el: Tag) -> bool:
        if el.name in ("p", "a", "span") or el.name in IMAGE_TAGS:
            return False
        if not (
            _matches_any(el, self.profile.select("picture"))
            or _PICTURE_CLASS_RE.search(_classes(el))
            or (el.name == "table" and first_tag(el, ("p", "table", "h2", "h3")) is None)
        ):
            return False
        if first_tag(el, IMAGE_TAGS) is None:
            return False
        if len(el.get_text(" ", strip=True)) > _MAX_CAPTION_CONTAINER_TEXT:
            return False
        # A grid or list of pictures, each in a box of its own, is several pictures.
        return not self._holds_pictures(el)

    def _holds_pictures(self, el: Tag) -> bool:
        """``el`` is a list of pictures, not one: it holds two or more pictures each in a
        box of its own *with its own caption* (pictures in boxes without words share the
        caption of ``el``: one picture group)."""
        boxes: set[int] = set()
        for img in find_tags(el, IMAGE_TAGS):
            node = img.parent
            while node is not None and node is not el:
                if (
                    node.name in _PICTURE_BOX_TAGS
                    and (node.name == "figure" or _PICTURE_CLASS_RE.search(_classes(node)))
                    and node.get_text(strip=True)
                ):
                    boxes.add(id(node))  # the nearest box with words: its own caption
                    break
                node = node.parent
            if len(boxes) >= 2:
                return True
        return False

    def _emit_image(self, img: Tag, caption: str | None) -> None:
        src = image_src(img, self.page_url)
        if src is None or not self.profile.is_article_picture(src):
            return
        key = picture_key(src)
        if key in self._seen_src:
            return  # the same picture again (a thumbnail strip, a smaller copy)
        self._seen_src.add(key)
        self.blocks.append(Block("image", caption or "", "img", src=src, element=img))

    def _emit_picture(self, container: Tag) -> None:
        # A photographer's credit nested in the caption cell (div.source) is not caption.
        for credit in find_tags(container):
            if not is_removed(credit) and _matches_any(credit, self.profile.select("photo_credit")):
                credit.decompose()
        imgs = find_tags(container, IMAGE_TAGS)
        caption_els = [
            c for c in find_tags(container) if _matches_any(c, self.profile.select("caption"))
        ]
        # Keep only outermost caption elements (a td.caption holding a p.caption is one).
        caption_els = [c for c in caption_els if not any(c in o.descendants for o in caption_els)]
        captions = [normalize_text(c.get_text(" ")) for c in caption_els]
        captions = [c for c in captions if c]
        if not captions:
            own = normalize_text(container.get_text(" "))
            captions = [own] if own and not self.profile.is_furniture_form(own) else []
        for i, img in enumerate(imgs):
            caption: str | None
            if len(captions) == len(imgs):
                caption = captions[i]
            else:
                caption = " ".join(captions) if captions else None
            self._emit_image(img, caption)

    @staticmethod
    def _looks_like_loose_caption(el: Tag, text: str) -> bool:
        """A short block that older pages put right after a picture: a caption-ish class,
        all in italics, or centred."""
        if len(text) > _MAX_LOOSE_CAPTION_CHARS or el.name in HEADING_TAGS:
            return False
        style = str(el.get("style") or "")
        return bool(
            _CAPTION_CLASS_RE.search(_classes(el))
            or _all_in(el, ("em", "i"))
            or _CENTER_RE.search(style)
            or str(el.get("align") or "").lower() == "center"
        )

    def _attach_caption(self, text: str, el: Tag | None = None) -> bool:
        """A caption element right after a bare image belongs to that image, and to the
        bare images just before it in the same box (pictures sharing one caption)."""
        if not (self.blocks and self.blocks[-1].kind == "image" and not self.blocks[-1].text):
            return False
        self.blocks[-1].text = text
        box = el.parent if el is not None else None
        for block in reversed(self.blocks[:-1]):
            if block.kind != "image" or block.text or box is None:
                break
            if block.element is None or box not in block.element.parents:
                break  # only pictures of the caption's own box share it
            block.text = text
        return True

    # -- text -----------------------------------------------------------------------------
    def _emit_text(self, parts: list[str], el: Tag, emphasis: bool) -> None:
        text = normalize_text("".join(parts))
        if not text:
            return
        style = str(el.get("style") or "")
        right = bool(
            _RIGHT_RE.search(style)
            or str(el.get("align") or "").lower() == "right"
            or "right" in _classes(el).lower()
        )
        in_caption = _matches_any(el, self.profile.select("caption"))
        after_bare_picture = bool(
            self.blocks and self.blocks[-1].kind == "image" and not self.blocks[-1].text
        )
        if (
            after_bare_picture
            and not right
            and not self.profile.is_furniture_form(text)  # a slide counter "6/6"
            and (in_caption or self._looks_like_loose_caption(el, text))
        ):
            self._attach_caption(text, el)
            return
        self.blocks.append(
            Block(
                "text",
                text,
                el.name or "p",
                emphasis=emphasis,
                right_aligned=right,
                in_caption=in_caption,
                element=el,
            )
        )

    def _emit_table(self, table: Tag) -> None:
        """A data table: one text block per row, the cells' texts joined by `` | ``."""
        for row in find_tags(table, "tr"):  # a data table nests no table (is_data_table)
            cells = [normalize_text(c.get_text(" ")) for c in find_tags(row, _CELL_TAGS)]
            cells = [c for c in cells if c]
            if cells:
                self.blocks.append(Block("text", " | ".join(cells), "tr", element=row))

    def walk(self, el: Tag) -> None:
        if self._is_picture_container(el):
            self._emit_picture(el)
            return
        if el.name in IMAGE_TAGS:
            self._emit_image(el, None)
            return
        if el.name == "table" and is_data_table(el):
            self._emit_table(el)
            return
        parts: list[str] = []
        bold_chars = 0
        total_chars = 0
        split_on_br = (
            el.name not in ("p", "li", "td", "th", "dd", "dt") and el.name not in HEADING_TAGS
        )
        pending_br = 0
        # Text nodes keep their own spacing ("như <b>Fansipan</b>, bản" has none before
        # the comma); two inline elements side by side (<a>Chia sẻ</a><a>Zalo</a>) get one.
        prev_inline = False

        def flush() -> None:
            nonlocal parts, bold_chars, total_chars
            emphasis = total_chars > 0 and bold_chars >= total_chars * 0.9
            self._emit_text(parts, el, emphasis)
            parts, bold_chars, total_chars = [], 0, 0

        for child in el.children:
            if isinstance(child, NavigableString):
                if isinstance(child, _SKIP_STRINGS):
                    continue
                text = str(child)
                if text.strip():
                    pending_br = 0
                    total_chars += len(text.strip())
                    if _is_bold_context(el):
                        bold_chars += len(text.strip())
                parts.append(text)
                prev_inline = False
                continue
            if not isinstance(child, Tag):
                continue
            if child.name == "br":
                pending_br += 1
                if split_on_br and pending_br >= 1:
                    flush()
                else:
                    parts.append(" ")
                continue
            if (
                child.name in BLOCK_TAGS
                or self._is_picture_container(child)
                or _is_custom_block(child)
            ):
                flush()
                self.walk(child)
                continue
            if child.name in IMAGE_TAGS or first_tag(child, IMAGE_TAGS) is not None:
                flush()
                imgs = [child] if child.name in IMAGE_TAGS else find_tags(child, IMAGE_TAGS)
                for img in imgs:
                    self._emit_image(img, None)
                continue
            text = child.get_text(" ")
            stripped = text.strip()
            if stripped:
                pending_br = 0
                total_chars += len(stripped)
                if child.name in ("strong", "b") or _is_bold_context(child) or _all_bold(child):
                    bold_chars += len(stripped)
            if prev_inline:
                parts.append(" ")
            parts.append(text)
            prev_inline = True
        flush()


def _is_custom_block(el: Tag) -> bool:
    """A custom element holding blocks (``<amp-carousel>``, ``<amp-story-page>``): read
    as a block container, not as inline text."""
    return "-" in (el.name or "") and el.name not in IMAGE_TAGS


def is_data_table(table: Tag) -> bool:
    """A table of data (rows of short cells, two or more columns), not a layout table
    holding page regions or an article (older pages, print copies) nor a picture."""
    rows = find_tags(table, "tr")
    if not rows or first_tag(table, IMAGE_TAGS) is not None:
        return False
    widest = 0
    for row in rows:
        cells = row.find_all(_CELL_TAGS, recursive=False)
        widest = max(widest, len(cells))
        for cell in cells:
            if first_tag(cell, _LAYOUT_IN_CELL) is not None or len(find_tags(cell, "p")) > 1:
                return False
            if len(cell.get_text(" ", strip=True)) > _MAX_CELL_CHARS:
                return False
    return widest >= 2


_BOLD_CLASS_RE = re.compile(
    r"(?:^|\s)(?:font-(?:bold|semibold|extrabold|black)|fw-(?:bold|semibold|[6-9]00)|bold|"
    r"text-bold)(?:\s|$)",
    re.IGNORECASE,
)
"""Bold by a CSS framework's class (Tailwind's ``font-semibold``, Bootstrap's ``fw-bold``)."""


def _is_bold_context(el: Tag) -> bool:
    return (
        el.name in ("strong", "b")
        or bool(_BOLD_STYLE_RE.search(str(el.get("style") or "")))
        or bool(_BOLD_CLASS_RE.search(_classes(el)))
    )


def _all_in(el: Tag, tags: tuple[str, ...]) -> bool:
    """Every visible character of ``el`` sits inside one of ``tags`` (e.g. strong/b)."""
    if el.name in tags:
        return True
    total = len(el.get_text("", strip=True))
    inside = sum(
        len(t.get_text("", strip=True))
        for t in find_tags(el, tags)
        if not any(p.name in tags for p in t.parents if p is not el and el in p.parents)
    )
    return total > 0 and inside >= total


def _all_bold(el: Tag) -> bool:
    return _all_in(el, ("strong", "b"))


def linearize(root: Tag, profile: SiteProfile, page_url: str) -> list[Block]:
    lin = Linearizer(profile, page_url)
    lin.walk(root)
    return lin.blocks


def iter_text(blocks: list[Block]) -> Iterator[str]:
    return (b.text for b in blocks if b.kind == "text")
