"""Parse one article page into a clean :class:`~baolaocai.models.Article`.

Pure: HTML text and its URL in, a record out. No network, database, clock or Prefect.

Extraction order (each step used only when the one before yields nothing):

1. **EPI layout** (current site): the body container ``.article__body`` /
   ``.cms-body`` / ``[itemprop=articleBody]``; title, sapo, meta from CSS selectors,
   with JSON-LD ``NewsArticle`` and OpenGraph preferred for dates, section and author.
2. **Legacy layout** (the 2023 Nuxt front end, see the seed page): no body container;
   the page is read as a sequence of blocks in the seed's order — date line, title,
   pictures with captions, body paragraphs, source line ``(baolaocai.vn)`` — and
   stops at the first list of other articles (``Gửi cho bạn bè``, ``Các tin khác``,
   ``Xem nhiều nhất`` …).

Both end in the same clean-up: furniture phrases and footer lines dropped, the trailing
author line moved to ``author`` and the source line to ``source``.

Every field comes from a named, ordered list of sources scoped to the article — JSON-LD
``NewsArticle`` of this page, then OpenGraph/meta, then the article's own containers and
meta block, then visible text near the title; lists of other articles ("Tin mới", related
boxes, sidebars, an ``ItemList``) never give a field. The order per field is written down
in :mod:`transforms.sources`. When two sources of one field disagree, the better one wins
and the disagreement is kept in :attr:`Article.field_conflicts`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from itertools import islice
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment

from baolaocai.dates import looks_like_dateline, parse_vietnamese_datetime
from baolaocai.errors import ParseError
from baolaocai.identity import article_id as url_article_id
from baolaocai.identity import canonical_article_url, canonicalize
from baolaocai.models import Article, Image
from baolaocai.profile import SiteProfile
from baolaocai.settings import PAGE_ELEMENTS_DEFAULT
from baolaocai.site import Site, default_site
from baolaocai.text import fold_key, normalize_or_none, normalize_text
from transforms.blocks import IMAGE_TAGS, Block, image_src, linearize, picture_key
from transforms.credits import join_authors, looks_like_name, read_credits, split_names
from transforms.kinds import markup_signals, tell_kind
from transforms.metadata import PageMeta, jsonld_people, jsonld_text, read_metadata
from transforms.prune import strip_inert
from transforms.select import (
    find_tags,
    first_tag,
    index_of,
    is_removed,
    parent_named,
    select,
    select_first,
    text_nodes,
)
from transforms.sources import is_modified_line, outside_article, read_modified, read_published
from transforms.tree import collector_paused, soup_of

LAYOUT_EPI = "epi"
LAYOUT_LEGACY = "legacy"
LAYOUT_DENSITY = "density"
LAYOUT_CASCADED = "epi+density"
"""The EPI body container was there but held only part of the text: the text region was
read instead (the cascade's choice, recorded as such)."""
_MIN_DENSE_CHARS = 200
_TERMINAL_PUNCT = tuple(".!?…:;\"”'")
_MAX_AUTHOR_CHARS = 70
_MAX_CAPTION_CHARS = 160
_MAX_BYLINE_BLOCK_CHARS = 200
MAX_DEPTH = 500
MAX_IMAGES = 300
"""Pictures kept per article (in body order); more are counted in ``images_dropped``, so a
page with a million ``<img>`` costs one bounded record, not the warehouse."""
"""Deepest element nesting a page may have. The block reader (:mod:`transforms.blocks`)
recurses once per nested block element; the pages we know nest at most ~15 levels, and a
page beyond this limit is refused with a :class:`ParseError` instead of exhausting
Python's recursion limit (1000 frames)."""
_HTML_HINT_RE = re.compile(r"<\s*(html|head|body|div|p|h1|article|meta|title)\b", re.I)


def element_count(html: str) -> int:
    """About how many elements ``html`` makes: its markup openings ``<`` less its closing
    tags ``</`` (a comment or a ``<`` in a script counts too). Two passes of
    ``str.count``: some 8 ms for a 7 MB page, where an lxml pass takes 50 ms and
    BeautifulSoup's tree about 80 µs an element."""
    return html.count("<") - html.count("</")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT_RE.search(text[:20000]))


def parse_article(
    html: str,
    url: str | None = None,
    *,
    site: Site | None = None,
    fallback_url: str | None = None,
    max_elements: int = PAGE_ELEMENTS_DEFAULT,
) -> Article:
    """Parse an article page. ``url`` is where it came from (canonical form preferred).

    Without ``url``, the page's canonical link, ``og:url`` or JSON-LD give it, then
    ``fallback_url`` (e.g. built from a saved file's name). If none is an article URL,
    ``url`` and ``article_id`` are ``None``: the record is returned, but will not load.

    Raises :class:`ParseError` if the text is not HTML, holds no article text at all,
    nests elements more than :data:`MAX_DEPTH` levels deep, or has more than
    ``max_elements`` elements (counted on the text, before any tree is built: see
    :func:`element_count`).
    """
    # A page's tree is thousands of linked objects built and dropped at once: the cyclic
    # collector, run every 700 allocations meanwhile, only re-walked them (some 40 % of
    # the time of building the tree, 10 % of a parse). It runs after the page instead.
    with collector_paused():
        return _parse_article(
            html, url, site=site, fallback_url=fallback_url, max_elements=max_elements
        )


def _parse_article(
    html: str,
    url: str | None,
    *,
    site: Site | None,
    fallback_url: str | None,
    max_elements: int,
) -> Article:
    site = site or default_site()
    profile = site.profile
    if not html or html.isspace():  # (``not html.strip()``, without copying the page)
        raise ParseError("empty page", url=url)
    # Openings alone bound the count from above: the closing tags (a slow two-character
    # search, a tenth of a millisecond on an 80 KB page) are counted only over budget;
    # and a page of no more characters than the budget has no more openings.
    if (
        len(html) > max_elements
        and html.count("<") > max_elements
        and (elements := element_count(html)) > max_elements
    ):
        raise ParseError(
            f"too many elements: about {elements}, over {max_elements} (a page's budget)",
            url=url,
        )
    if not looks_like_html(html):
        raise ParseError("not an HTML page", url=url)
    html = strip_inert(html)
    soup = soup_of(html)  # BeautifulSoup(html, "lxml"), built from lxml's events faster
    depth = index_of(soup).depth  # (made while building the tree)
    if depth > MAX_DEPTH:
        raise ParseError(f"document nested {depth} levels deep (limit {MAX_DEPTH})", url=url)
    try:
        meta = read_metadata(soup)
    except RecursionError:  # json.loads recurses on the nesting of JSON-LD data
        raise ParseError("JSON-LD data nested too deeply", url=url) from None
    page_url = _page_url(url, meta, fallback_url, site)
    # The kind's markup signals are read from the page as served: players and embeds
    # are removed below.
    title_el = _first(soup, profile.select("title"))
    signals = markup_signals(
        soup,
        meta,
        (url, meta.canonical, meta.get("og:url"), fallback_url, page_url),
        title_el,
        profile,
    )
    live = "live" in signals
    legacy = _looks_legacy(soup, profile, html)
    _drop_widgets(soup)
    for el in select(soup, profile.remove):
        el.decompose()

    _keep_fact_boxes(soup)
    credited_on_page, not_authors = _page_credits(soup, title_el, profile)
    bodies = _body_containers(soup, title_el, profile)
    # Dates are read before any reader removes page parts, from the article's own
    # sources only (see transforms/sources.py for the order).
    published = read_published(soup, meta, title_el, profile, bodies, live=live)
    modified = read_modified(meta)
    base = _base_url(soup, page_url or site.url("/"))
    cascaded: list[str] = []
    if bodies:
        left_out = _text_left_out(soup, bodies, title_el, profile)
        inside = sum(len(b.get_text(" ", strip=True)) for b in bodies)
        if left_out > max(_MIN_LEFT_OUT_CHARS, inside * _LEFT_OUT_SHARE):
            # The site's body container holds only part of the article's text (blocks of
            # a long-form, pages of a paged article): the next reader of the cascade,
            # over the region holding all of it. What the container held must be in
            # what that reader gives, else the two readers disagree (a field conflict).
            cascaded = [
                key
                for b in bodies
                for para in find_tags(b, _PARAGRAPH_TAGS)
                if len(key := fold_key(para.get_text(" "))) >= _MIN_REPEAT_CHARS
            ]
            bodies = []
    if bodies:
        parts = _parse_epi(soup, bodies, meta, profile, base, published.value, live)
    elif legacy:
        parts = _parse_legacy(soup, meta, profile, base, published.value, live)
    else:
        parts = _parse_density(soup, meta, profile, base, published.value, live)
    parts.modified_at = modified
    if parts.published_at is None:
        # No source dated the page: a plain-text date line beside the title (a print
        # copy's "Ngày đăng: 14/05/2024 09:05 | Cập nhật: …").
        parts.published_at = _dateline_near_title(soup, profile)
    if "e-magazine" in signals:
        parts.images[:0] = _covers(soup, title_el, profile, base, parts.images)
    if credited_on_page or not_authors:
        parts.author = join_authors(
            split_names(parts.author or ""), credited_on_page, never=not_authors
        )
    if cascaded:
        parts.method = LAYOUT_CASCADED
        captions = [i.caption or "" for i in parts.images]
        read = fold_key("".join([*parts.paragraphs, *captions, parts.sapo or ""]))
        lost = sum(1 for key in cascaded if key not in read)
        if lost:
            parts.conflicts.append(
                f"body: the text region misses {lost} of the {len(cascaded)} paragraphs of"
                " the body container it was read instead of"
            )
    parts.conflicts.extend(published.conflicts)
    if not parts.title and not parts.paragraphs:
        raise ParseError("no article title or text found", url=url)
    _finish_sapo(parts, profile)
    author_key = fold_key(parts.author or "")
    if author_key and any(fold_key(p) == author_key for p in parts.paragraphs):
        parts.conflicts.append(f"author: {parts.author!r} is also a body paragraph")
    kind = tell_kind(
        signals,
        parts.paragraphs,
        len(parts.images),
        profile,
        known_layout=(
            parts.method != LAYOUT_DENSITY
            or bool(signals)
            or bool(cascaded)
            or _reads_as_article(parts)
        ),
    )
    return Article(
        url=page_url,
        article_id=url_article_id(page_url, site) if page_url else None,
        title=parts.title,
        sapo=parts.sapo,
        body="\n\n".join(parts.paragraphs),
        author=parts.author,
        published_at=parts.published_at,
        category=parts.category,
        category_source="page" if parts.category else None,
        tags=tuple(parts.tags),
        images=tuple(parts.images[:MAX_IMAGES]),
        images_dropped=max(0, len(parts.images) - MAX_IMAGES),
        source=parts.source,
        modified_at=parts.modified_at,
        page_kind=kind,
        extraction_method=parts.method,
        declared_url=_declared_url(meta, site),
        field_conflicts=tuple(parts.conflicts),
    )


def _declared_url(meta: PageMeta, site: Site) -> str | None:
    """The address the page gives itself on ``site`` (its canonical link, else
    ``og:url``), canonical; ``None`` for none, or one on another site (a syndicated
    copy names its original: no sign that it is another article of this site)."""
    declared = meta.canonical or meta.get("og:url")
    return canonicalize(declared, site) if declared else None


_MIN_ARTICLE_PARAGRAPHS = 3


def _reads_as_article(parts: _Parts) -> bool:
    """A page no reader knew whose reading still has what an article has (a title, a
    date, several paragraphs): an article in a template we do not know, not a page of
    unknown kind (those are the ones the drift alarm counts)."""
    return bool(
        parts.title and parts.published_at and len(parts.paragraphs) >= _MIN_ARTICLE_PARAGRAPHS
    )


def _base_url(soup: Tag, page_url: str) -> str:
    """What relative addresses of the page resolve against: its ``<base href>`` (a copy
    on a portal keeps the portal's pictures), else its URL."""
    for base in index_of(soup).by_tag.get("base", ()):
        if base.get("href"):
            href = urljoin(page_url, str(base["href"]).strip())
            if urlsplit(href).scheme in ("http", "https"):
                return href
    return page_url


_MIN_LEFT_OUT_CHARS = 300
_LEFT_OUT_SHARE = 0.3
_MIN_REAL_PARAGRAPH = 80
_PARAGRAPH_TAGS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd")


_FACT_BOX_LOOK = 50
_MAX_FACT_BOXES = 20


_WIDGET_CONTROLS = ("form", "input", "button", "select", "textarea")
_MAX_WIDGET_TEXT = 300
_MAX_WIDGETS = 50


def _drop_widgets(soup: Tag) -> None:
    """A small box holding a form control (a newsletter sign-up, a question form, a poll)
    is a widget: its words ("Đăng ký nhận bản tin …") are no text of the article. The
    nearest box around the control goes whole, unless it holds the title or is too big
    to be a widget (a page built inside one form)."""
    index = index_of(soup)
    seen = 0
    for name in _WIDGET_CONTROLS:
        for control in index.by_tag.get(name, ()):
            if is_removed(control):
                continue
            seen += 1
            if seen > _MAX_WIDGETS:
                return
            box = control.parent
            while box is not None and box.name not in ("div", "section", "aside", "form"):
                box = box.parent
            while box is not None and box.name == "form":
                box = box.parent  # the box around the form: its title and its words
            if (
                box is None
                or box.name in ("body", "html", "main", "article", "[document]")
                or first_tag(box, "h1") is not None
                or len(box.get_text(" ", strip=True)) > _MAX_WIDGET_TEXT
            ):
                continue
            box.decompose()


_MAX_CREDIT_LINES = 20


def _page_credits(
    soup: Tag, title_el: Tag | None, profile: SiteProfile
) -> tuple[list[str], frozenset[str]]:
    """Authors credited in a line of their own anywhere in the article (a long-form's
    credits beside its cover: ``<p><b>Thực hiện:</b> A, B và C</p>``), never in a
    picture's caption (a photographer's credit) nor outside the article. Also the
    (folded) names credited as designers or editors, who no source makes authors."""
    found: list[str] = []
    not_authors: set[str] = set()
    seen: set[int] = set()
    for string in text_nodes(soup):
        text = str(string).strip()
        if not text or len(text) > _MAX_CREDIT_CHARS or not profile.credit_re.match(text):
            continue
        label_only = bool(profile.credit_re.fullmatch(text))
        line = string.parent
        while line is not None and (
            line.name not in _LINE_TAGS or (label_only and line.get_text(strip=True) == text)
        ):
            line = line.parent  # up to the line that holds the label and its names
        if line is None or id(line) in seen:
            continue
        seen.add(id(line))
        if len(seen) > _MAX_CREDIT_LINES:
            break
        credits = read_credits(line.get_text(" "), profile)
        if credits is None or _in_picture(line, profile):
            continue
        if outside_article(line, title_el, profile):
            continue
        found.extend(credits.authors)
        not_authors.update(fold_key(n) for n in credits.other_names)
    return found, frozenset(not_authors)


_MAX_CREDIT_CHARS = 200
_LINE_TAGS = ("p", "div", "li", "td", "span", "h4", "h5", "h6", "section")


def _in_picture(el: Tag, profile: SiteProfile) -> bool:
    """Inside a picture's container or caption (its credit is the photographer's)."""
    selector = ", ".join(
        ("figure", "figcaption", *profile.select("picture"), *profile.select("caption"))
    )
    return _in_any(el, index_of(el).matching(selector))


def _in_any(el: Tag, ids: frozenset[int]) -> bool:
    """``el`` or one of its ancestors is among ``ids`` (a per-document selector set)."""
    return id(el) in ids or any(id(node) in ids for node in el.parents)


def _covers(
    soup: Tag, title_el: Tag | None, profile: SiteProfile, url: str, have: list[Image]
) -> list[Image]:
    """A long-form's cover pictures (profile ``cover`` selectors, in the article), first
    of its pictures; one already read is not read again."""
    known = {picture_key(i.src) for i in have}
    out: list[Image] = []
    for selector in profile.select("cover"):
        for img in select(soup, selector):
            if is_removed(img) or outside_article(img, title_el, profile):
                continue
            src = image_src(img, url)
            if src and profile.is_article_picture(src) and picture_key(src) not in known:
                known.add(picture_key(src))
                out.append(Image(src, None))
    return out


def _keep_fact_boxes(soup: Tag) -> None:
    """An ``<aside>`` amid the article's paragraphs that links nowhere is a fact box of
    the article (its text is body), not a sidebar: it is read as a section. (A page
    has a few; the first :data:`_MAX_FACT_BOXES` asides are looked at.)"""
    for aside in index_of(soup).by_tag.get("aside", ())[:_MAX_FACT_BOXES]:
        if is_removed(aside) or first_tag(aside, "a", href=True) is not None:
            continue
        parent = aside.parent
        if parent is None:
            continue
        own = {id(p) for p in find_tags(aside, "p", limit=_FACT_BOX_LOOK)}
        beside = (p for p in find_tags(parent, "p", limit=_FACT_BOX_LOOK) if id(p) not in own)
        if any(len(p.get_text(" ", strip=True)) >= _MIN_REAL_PARAGRAPH for p in beside):
            aside.name = "section"


def _body_containers(soup: Tag, title_el: Tag | None, profile: SiteProfile) -> list[Tag]:
    """The article's text containers: every element of the first body selector that
    matches one inside the article (a long-form may hold its text in several), outermost
    only, in page order."""
    for selector in profile.select("body"):
        found = [el for el in select(soup, selector) if not outside_article(el, title_el, profile)]
        if found:
            index = index_of(soup)
            return [
                el for el in found if not any(o is not el and index.within(el, o) for o in found)
            ]
    return []


def _link_chars(el: Tag) -> int:
    return sum(len(a.get_text(" ", strip=True)) for a in find_tags(el, "a"))


def _text_left_out(
    soup: Tag, bodies: Sequence[Tag], title_el: Tag | None, profile: SiteProfile
) -> int:
    """Characters of real paragraphs of the article outside its body containers: long,
    not links, not page furniture nor a list of other articles."""
    index = index_of(soup)
    total = 0
    for el in index.by_tag.get("p", ()):
        if is_removed(el) or any(index.within(el, b) for b in bodies):
            continue
        text = el.get_text(" ", strip=True)
        if len(text) < _MIN_REAL_PARAGRAPH or _link_chars(el) * 3 > len(text):
            continue
        if title_el is not None and index.within(el, title_el):
            continue
        if _in_any(el, index.matching(", ".join(profile.select("sapo")))):
            continue
        if outside_article(el, title_el, profile):
            continue
        total += len(text)
    return total


class _Parts:
    """Mutable scratch record filled by the layout readers."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.title: str | None = None
        self.sapo: str | None = None
        self.paragraphs: list[str] = []
        self.author: str | None = None
        self.published_at: datetime | None = None
        self.modified_at: datetime | None = None
        self.category: str | None = None
        self.tags: list[str] = []
        self.images: list[Image] = []
        self.source: str | None = None
        self.conflicts: list[str] = []
        self.live = False
        """A live report: the time stamps of its updates are body text."""


def _finish_sapo(parts: _Parts, profile: SiteProfile) -> None:
    """The clean sapo drops the dateline prefix (``LCĐT - ``, ``YBĐT - ``: profile
    ``dateline_prefixes``); a body paragraph that is the sapo (with or without its
    prefix) is not body text."""
    if not parts.sapo:
        return
    parts.sapo = normalize_or_none(profile.dateline_prefix_re.sub("", parts.sapo))
    if not parts.sapo:
        return
    key = fold_key(parts.sapo)
    parts.paragraphs = [
        p for p in parts.paragraphs if fold_key(profile.dateline_prefix_re.sub("", p)) != key
    ]


# -- page-level fields ----------------------------------------------------------------------


def _page_url(url: str | None, meta: PageMeta, fallback_url: str | None, site: Site) -> str | None:
    for candidate in (
        url,
        meta.canonical,
        meta.get("og:url"),
        jsonld_text(meta.jsonld, "mainEntityOfPage"),
        jsonld_text(meta.jsonld, "url"),
        fallback_url,
    ):
        if candidate:
            canonical = canonical_article_url(candidate, site)
            if canonical:
                return canonical
    return url


def _first(soup: Tag, selectors: Sequence[str]) -> Tag | None:
    return select_first(soup, selectors)


def _text_of(soup: Tag, selectors: Sequence[str]) -> str | None:
    el = _first(soup, selectors)
    return normalize_or_none(el.get_text(" ")) if el is not None else None


def _strip_site_suffix(title: str | None, profile: SiteProfile) -> str | None:
    return normalize_or_none(profile.strip_title_suffix(title)) if title else None


def _title(soup: Tag, meta: PageMeta, profile: SiteProfile) -> str | None:
    return (
        _text_of(soup, profile.select("title"))
        or jsonld_text(meta.jsonld, "headline")
        or _head_title(soup, meta.get("og:title"), profile)
        or _head_title(soup, meta.html_title, profile)
    )


_TITLE_SEPARATOR_RE = re.compile(r"\s+[|\-–—:»]{1,2}\s+")


def _head_title(soup: Tag, head: str | None, profile: SiteProfile) -> str | None:
    """A head title (``og:title``, ``<title>``) without what names the site: the part the
    page also shows as a block of its own (an old page's ``td.title``), else the head
    title without a known suffix, or without a last part that holds the site's name."""
    if not head:
        return None
    parts = _TITLE_SEPARATOR_RE.split(head)
    if len(parts) > 1:
        candidates = [normalize_text(head[: m.start()]) for m in _TITLE_SEPARATOR_RE.finditer(head)]
        shown = {fold_key(t) for t in (normalize_text(x) for x in soup.stripped_strings) if t}
        for candidate in reversed(candidates):  # the longest first
            if fold_key(candidate) in shown:
                return candidate
        if profile.name_key and profile.name_key in fold_key(parts[-1]):
            return normalize_or_none(candidates[-1])
    return _strip_site_suffix(head, profile)


def _category(soup: Tag, meta: PageMeta, profile: SiteProfile) -> str | None:
    section = jsonld_text(meta.jsonld, "articleSection") or meta.get("article:section")
    if section:
        return section
    crumbs = [
        normalize_text(a.get_text(" "))
        for sel in profile.select("breadcrumbs")
        for a in select(soup, sel)
    ]
    crumbs = [c for c in crumbs if c and fold_key(c) not in {fold_key("Trang chủ"), "home"}]
    if crumbs:
        return crumbs[-1]  # the deepest section: "Pháp luật › Hỏi - đáp pháp luật"
    names = [n for n in meta.breadcrumb_names if fold_key(n) not in {fold_key("Trang chủ"), "home"}]
    if names:
        return normalize_or_none(names[0])
    return _category_line(soup, profile) or _category_link(soup, profile)


def _category_link(soup: Tag, profile: SiteProfile) -> str | None:
    """A link the page marks as the article's section (profile ``category_link``: an
    old long-form's ``a.emg-cat`` in its own header), never one of a menu or of a list of
    other articles."""
    for selector in profile.select("category_link"):
        others = index_of(soup).matching(profile.other_articles)
        for a in select(soup, selector):
            if parent_named(a, ("nav", "ul", "li")) is not None or _in_any(a, others):
                continue
            text = normalize_text(a.get_text(" "))
            if text and _looks_like_category(text, profile):
                return text
    return None


_MAX_CATEGORY_WORDS = 5
_CATEGORY_LABEL_RE = re.compile(r"^([^:：]{2,20})[:：]\s*(.+)$")


def _category_line(soup: Tag, profile: SiteProfile) -> str | None:
    """A category printed as plain text (a print copy): a line ``Chuyên mục: Kinh tế``
    (profile ``category_labels``) anywhere in the article, else a short line of its own
    right above the title. Lines outside the article never count (checked only for the
    few candidates, not for every line of the page)."""
    title_el = _first(soup, profile.select("title"))
    before: list[tuple[str, Tag]] = []
    above: str | None = None
    seen_title = False
    for el in text_nodes(soup):
        text = normalize_text(str(el))
        parent = el.parent
        if not text or parent is None:
            continue
        match = _CATEGORY_LABEL_RE.match(text)
        if match is None and text.endswith((":", "：")):
            match = _CATEGORY_LABEL_RE.match(normalize_text(parent.get_text(" ")))
        if (
            match
            and fold_key(match.group(1)) in profile.category_label_keys
            and not outside_article(parent, title_el, profile)
        ):
            value = normalize_text(match.group(2))
            if value and len(value.split()) <= _MAX_CATEGORY_WORDS:
                return value
        if seen_title:
            continue
        if title_el is not None and (parent is title_el or title_el in parent.parents):
            seen_title = True
            for line, holder in reversed(before):  # nearest first, over the date line
                if outside_article(holder, title_el, profile):
                    continue
                if looks_like_dateline(line) or is_modified_line(line, profile):
                    continue
                above = line if _looks_like_category(line, profile) else None
                break
            continue
        before = [*before[-2:], (text, parent)]
    return above  # no labelled line anywhere: the line above the title, if any


def _looks_like_category(text: str, profile: SiteProfile) -> bool:
    words = text.split()
    return (
        0 < len(words) <= _MAX_CATEGORY_WORDS
        and not any(ch.isdigit() for ch in text)
        and not text.endswith(_TERMINAL_PUNCT)
        and words[0][:1].isupper()
        and not profile.is_phrase(text)
        and fold_key(text) not in profile.organisation_keys
        and not looks_like_dateline(text)
    )


def _tag_text(a: Tag) -> str:
    """A tag link's text; ``#Sa Pa`` is the tag ``Sa Pa``."""
    return normalize_text(normalize_text(a.get_text(" ")).lstrip("#＃"))


_TAG_SPLIT_RE = re.compile(r"\s*[,;|]\s*")
_MAX_TAG_WORDS = 8


def _tags(soup: Tag, meta: PageMeta, profile: SiteProfile) -> list[str]:
    """Tags, from (1) the profile's tag selectors in order, then (2) a block labelled
    ``Từ khóa:`` / ``Tags:`` (profile ``tag_labels``) holding links, then (3) links of the
    article to the site's tag pages (its ``[urls] tag_page`` addresses). Lists of other
    articles and page furniture (a header's "hot tags") never give tags."""
    title_el = _first(soup, profile.select("title"))
    for selector in profile.select("tags"):
        links = [a for a in select(soup, selector) if not outside_article(a, title_el, profile)]
        found = [t for t in (_tag_text(a) for a in links) if t and not profile.is_phrase(t)]
        if found:
            return list(dict.fromkeys(found))
    for block in find_tags(soup, ("div", "p", "ul", "section", "span")):
        first = next(iter(block.stripped_strings), None)
        if first and not profile.is_tag_label(first.rstrip(":： ")):
            first = first.split(":", 1)[0] + ":" if ":" in first else None  # "Từ khóa: a, b"
        if not first or not profile.is_tag_label(first.rstrip(":： ")):
            continue
        found = [_tag_text(a) for a in find_tags(block, "a")]
        if not found:  # "Từ khóa: Sa Pa, du lịch": tags as plain text after the label
            text = normalize_text(block.get_text(" "))
            rest = text[len(normalize_text(first)) :].lstrip(":： ")
            found = [normalize_text(t) for t in _TAG_SPLIT_RE.split(rest)] if rest else []
        found = [t for t in found if t and not profile.is_phrase(t)]
        if found and all(len(t.split()) <= _MAX_TAG_WORDS for t in found):
            block.decompose()  # a tag block is a field, never body text
            return list(dict.fromkeys(found))
    if profile.tag_page_res:
        links = [
            a
            for a in find_tags(soup, "a", href=True)
            if any(p.search(urlsplit(str(a["href"])).path) for p in profile.tag_page_res)
            and not outside_article(a, title_el, profile)
        ]
        found = [t for t in (_tag_text(a) for a in links) if t and not profile.is_phrase(t)]
        if found:
            return list(dict.fromkeys(found))
    return []


def _clean_byline(text: str | None, profile: SiteProfile) -> str | None:
    if not text:
        return None
    text = profile.byline_prefix_re.sub("", normalize_text(text)).strip(" -–—,;")
    text = profile.byline_suffix_re.sub("", text).strip(" -–—,;")
    if not text or fold_key(text) in profile.organisation_keys:
        return None
    return text


def _byline_people(names: list[str], profile: SiteProfile) -> list[str]:
    """The people of a byline's names: a credit line (``Thực hiện: A - B``) gives its
    authors (never its designers), any other name is cleaned of prefixes."""
    people: list[str] = []
    for name in names:
        credits = read_credits(name, profile)
        if credits is not None:
            people.extend(credits.authors)
            continue
        cleaned = _clean_byline(name, profile)
        if cleaned:
            people.append(cleaned)
    return people


def _byline_names(el: Tag, profile: SiteProfile) -> list[str]:
    """The names in one byline element: one per ``.cms-author`` / ``.name`` (several
    ``.author`` entries are several authors), else the element's whole text."""
    for selector in profile.select("author_name"):
        names = [normalize_text(n.get_text(" ")) for n in select(el, selector)]
        names = [n for n in names if n]
        if names:
            return list(dict.fromkeys(names))
    text = normalize_text(el.get_text(" "))
    return [text] if text else []


def _in_quote(el: Tag) -> bool:
    for node in (el, *el.parents):
        if node.name == "blockquote" or "quote" in " ".join(node.get("class") or ()).lower():
            return True
    return False


def _byline(soup: Tag, profile: SiteProfile) -> tuple[list[str], str | None, Tag | None]:
    """Names and agency of the article's own byline (never one of another article):
    the first byline selector with an element inside the article. ``Theo TTXVN`` in a
    byline is the source TTXVN and no author."""
    title_el = _first(soup, profile.select("title"))
    for selector in profile.select("byline"):
        for el in select(soup, selector):
            if outside_article(el, title_el, profile) or _in_quote(el):
                continue  # a quote's "author" is the one quoted, not the article's
            names = [n for n in _byline_names(el, profile) if not profile.honorific_re.match(n)]
            if not names:
                continue
            if len(names) == 1 and profile.byline_agency_re.match(names[0]):
                return [], _source_of(names[0], profile), el
            return names, None, el
    return [], None, None


def _author_box(el: Tag) -> Tag:
    """The box a byline sits in with the author's picture, title or bio (all of it a
    field, none of it body): the outermost small ancestor whose class names an author."""
    box = el
    node = el.parent
    plain = 0  # class-less wrappers passed on the way up
    while node is not None and node.name not in ("body", "html", "article", "main"):
        if len(node.get_text(" ", strip=True)) > _MAX_BYLINE_BLOCK_CHARS:
            break
        classes = " ".join(node.get("class") or ()).lower()
        if any(part in classes for part in ("author", "byline", "tac-gia")):
            box, plain = node, 0
        elif classes or plain >= 2:
            break
        else:
            plain += 1
        node = node.parent
    return box


def _author(soup: Tag, meta: PageMeta, profile: SiteProfile) -> tuple[str | None, str | None]:
    """``(author, source)``. Author sources in order: JSON-LD people, the article's
    byline / author block, ``<meta name=author>``; the body's trailing author line comes
    last (see :func:`_collect`). The byline gives the source when it names an agency."""
    names, source, el = _byline(soup, profile)
    if el is not None and len(el.get_text(" ", strip=True)) <= _MAX_BYLINE_BLOCK_CHARS:
        _author_box(el).decompose()  # the byline is a field, never a body paragraph
    people = [p for p in (_clean_byline(n, profile) for n in jsonld_people(meta.jsonld)) if p]
    if people:
        return ", ".join(people), source
    cleaned = _byline_people(names, profile)
    byline = ", ".join(cleaned)
    if (
        byline
        and not looks_like_dateline(byline)
        and all(len(c) <= _MAX_AUTHOR_CHARS for c in cleaned)
    ):
        return byline, source
    meta_author = _clean_byline(meta.get("author", "article:author"), profile)
    if meta_author and not meta_author.startswith("http"):
        return meta_author, source
    return None, source


# -- body clean-up shared by both layouts ----------------------------------------------------


def _source_of(text: str, profile: SiteProfile) -> str | None:
    for pattern in profile.source_res:
        match = pattern.match(text)
        if match:
            source = normalize_text(match.group("source"))
            if source and not profile.source_exclude_re.match(source):
                return source
    return None


_SIGNATURE_RE = re.compile(r"^(?P<name>[^()]{2,60}?)\s*\((?P<where>[^()]{2,120})\)$")


def _signature_name(text: str) -> str | None:
    """``Lò Thị Mai (thôn Làng Mới, xã Xuân Quang)``: a reader's signature, the name
    before the address."""
    match = _SIGNATURE_RE.match(text)
    if match and looks_like_name(match.group("name")):
        return match.group("name")
    return None


def _is_author_line(block: Block, profile: SiteProfile) -> bool:
    text = block.text
    if profile.body_signature_re.match(text) or profile.honorific_re.match(text):
        return False  # "BAN LỄ TANG", "Ông Giàng A Páo": a body or someone quoted
    if (block.right_aligned or block.emphasis) and _signature_name(text):
        return True
    if profile.source_exclude_re.match(text.strip("() ")) or _source_of(text, profile):
        return False  # "(Còn nữa)", "(baolaocai.vn)": a note or a source, no name
    if len(text) > _MAX_AUTHOR_CHARS or len(text.split()) > 10 or looks_like_dateline(text):
        return False
    if text.endswith((".", "!", "?", ":", ";", "…")):
        return False
    has_prefix = bool(profile.byline_prefix_re.match(text))
    return block.right_aligned or block.emphasis or has_prefix


def _split_trailer(
    blocks: list[Block], profile: SiteProfile
) -> tuple[list[Block], str | None, str | None]:
    """Peel the author line and the source line off the end of the body, in any order."""
    author = source = None
    blocks = list(blocks)
    for _ in range(3):
        if not blocks or blocks[-1].kind != "text":
            break
        last = blocks[-1]
        found_source = _source_of(last.text, profile) if source is None else None
        if found_source:
            source = found_source
            blocks.pop()
            continue
        if author is None and _is_author_line(last, profile):
            author = _signature_name(last.text) or _clean_byline(last.text, profile)
            blocks.pop()
            continue
        break
    return blocks, author, source


def _is_noise(block: Block, profile: SiteProfile) -> bool:
    if not any(ch.isalnum() for ch in block.text):
        return True  # an end mark "■", a divider "* * *": no words
    return (
        profile.is_phrase(block.text)
        or profile.is_furniture_form(block.text)
        or profile.is_footer(block.text)
        or _is_related_link_line(block, profile)
    )


def _is_date_line(text: str, profile: SiteProfile) -> bool:
    """The article's own date or modification line printed in its text block."""
    if looks_like_dateline(text):
        return True
    key = fold_key(text)
    return (
        len(text) <= 60
        and any(key.startswith(p) for p in profile.modified_prefix_keys)
        and (parse_vietnamese_datetime(text) is not None or _CLOCK_RE.search(text) is not None)
    )


_CLOCK_RE = re.compile(r"(?<!\d)\d{1,2}\s*[:hH]\s*\d{2}(?:\s*:\s*\d{2})?(?!\d)")
"""A clock time: ``Cập nhật lúc 10:20`` is a modification line even without a day."""


_STAMP_RE = re.compile(
    r"^(\d{1,2}\s*[hH:]\s*\d{2}(?:\s+\d{1,2}/\d{1,2}(?:/\d{4})?)?)\s*[:\-–—]\s+(\S.*)$"
)
_VIEWS_RE = re.compile(
    r"[\d.,]+\s*lượt\s*(?:xem|đọc|nghe|thích|chia sẻ)"
    r"|lượt\s*(?:xem|đọc|nghe)\s*[:：]?\s*[\d.,]+",
    re.IGNORECASE,
)
_META_REST_RE = re.compile(r"^[\s·•|/\-–—,:]*$")
_MAX_META_CHARS = 120
_DMY_ANY_RE = re.compile(r"(?<!\d)\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}(?!\d)")


def _meta_line(text: str, profile: SiteProfile) -> list[str] | None:
    """A meta line of the article printed in its text: a date or time with credits, a
    view counter or separators only (``Bài và ảnh: Đỗ Hoài 03/11/2021 07:00``,
    ``09/03/2026 16:45 1.204 lượt xem``, ``· 16/03/2026 14:20``). Returns the authors it
    credits (maybe none), or ``None`` for any other line."""
    if len(text) > _MAX_META_CHARS or not (_DMY_ANY_RE.search(text) or _CLOCK_RE.search(text)):
        return None
    rest = _CLOCK_RE.sub(" ", _DMY_ANY_RE.sub(" ", text))
    rest = normalize_text(_VIEWS_RE.sub(" ", rest))
    if _META_REST_RE.match(rest):
        return []
    credits = read_credits(rest.strip(" ·•|-–—,"), profile)
    return list(credits.authors) if credits is not None else None


_MIN_REPEAT_CHARS = 30


_MAX_REPEAT_CANDIDATES = 100
_QUOTE_CLASS_PARTS = ("quote", "pull", "highlight", "trich")


def _set_apart(block: Block) -> bool:
    """A block set apart from the text: all bold or italic, or in a quote's markup."""
    if block.emphasis or block.tag == "blockquote":
        return True
    node = block.element
    for _ in range(3):
        if node is None:
            return False
        classes = " ".join(node.get("class") or ()).lower()
        if node.name == "blockquote" or any(part in classes for part in _QUOTE_CLASS_PARTS):
            return True
        node = node.parent
    return False


def _drop_repeats(blocks: list[Block]) -> list[Block]:
    """A block set apart (bold, italic, a quote's markup) whose text another block also
    holds (a pull quote repeating a sentence of the body) is said once, where the body
    says it. At most :data:`_MAX_REPEAT_CANDIDATES` are looked up, each in one pass over
    the text: the cost stays linear in the page."""
    keys = [fold_key(b.text) for b in blocks]
    joined = "\n".join(keys)
    dropped: set[int] = set()
    looked = 0
    for i, block in enumerate(blocks):
        key = keys[i]
        if len(key) < _MIN_REPEAT_CHARS or not _set_apart(block):
            continue
        looked += 1
        if looked > _MAX_REPEAT_CANDIDATES:
            break
        if joined.count(key) >= 2 and any(len(k) > len(key) and key in k for k in keys):
            dropped.add(i)
    return [b for i, b in enumerate(blocks) if i not in dropped]


_NAV_LINK_SHARE = 0.6
_NAV_ITEM_LINK_SHARE = 0.8
_NAV_OTHER_TEXT = 100
_BOX_TAGS = ("div", "section", "aside", "nav", "ul", "ol")


def _is_navigation(el: Tag) -> bool:
    """A box of links to other pages (a series' parts, "read next"), whatever its class:
    most of its text is link text, or most of its list items are links."""
    text = len(el.get_text(" ", strip=True))
    links = find_tags(el, "a", href=True)
    if not text or not links:
        return False
    if len(links) >= 2 and _link_chars(el) >= _NAV_LINK_SHARE * text:
        return True
    items = find_tags(el, "li")
    if len(items) < 2:
        return False
    item_text = [len(li.get_text(" ", strip=True)) for li in items]
    linked = sum(
        1
        for li, n in zip(items, item_text, strict=True)
        if n and _link_chars(li) >= _NAV_ITEM_LINK_SHARE * n
    )
    return linked * 2 >= len(items) and text - sum(item_text) < _NAV_OTHER_TEXT


def _drop_navigation(root: Tag, profile: SiteProfile) -> None:
    """Boxes of links inside the article's text are navigation, never body; so is a note
    box that links to another page, and one holding a house ad (profile ``note_boxes``,
    ``house_ad_phrases``). Any other note box is text (a warning, a reader's question)."""
    if profile.note_boxes:
        for el in select(root, profile.note_boxes):
            if is_removed(el):
                continue
            key = fold_key(el.get_text(" "))
            linked = any(str(a["href"]).strip("# ") for a in find_tags(el, "a", href=True))
            if linked or any(phrase in key for phrase in profile.house_ad_keys):
                el.decompose()
    # Only a box holding a link can be navigation: its candidates are the links' ancestors.
    boxes: dict[int, Tag] = {}
    for a in find_tags(root, "a", href=True):
        node = a.parent
        while node is not None and node is not root:
            if node.name in _BOX_TAGS:
                boxes.setdefault(id(node), node)
            node = node.parent
    index = index_of(root)
    for el in sorted(boxes.values(), key=lambda b: index.pos.get(id(b), 0)):
        if not is_removed(el) and _is_navigation(el):
            el.decompose()


def _drop_embeds(root: Tag, profile: SiteProfile) -> None:
    """Embedded social posts without a known class: a quote or figure that links to a
    social network (profile ``social_hosts``) is someone else's post, never body text."""
    if not profile.social_hosts:
        return
    for el in find_tags(root, ("blockquote", "figure")):
        if is_removed(el):
            continue
        for a in find_tags(el, "a", href=True):
            host = urlsplit(str(a["href"])).netloc.lower().split(":")[0]
            if any(host == h or host.endswith("." + h) for h in profile.social_hosts):
                el.decompose()
                break


_MARKER_PREFIX_RE = re.compile(r"^([^:：]{2,30})[:：]\s*(.+)$")


def _is_related_link_line(block: Block, profile: SiteProfile) -> bool:
    """``Xem thêm: <a>Another article</a>``: a pointer to other news inside the body.

    Only when the words after the marker are (almost all) link text; a sentence that
    merely starts with "Xem thêm" is real text.
    """
    match = _MARKER_PREFIX_RE.match(block.text)
    if not match or block.element is None or not profile.is_section_marker(match.group(1)):
        return False
    link_text = sum(len(a.get_text(" ", strip=True)) for a in find_tags(block.element, "a"))
    return link_text >= 0.8 * len(match.group(2))


def _drop_furniture(root: Tag, title_el: Tag | None, profile: SiteProfile) -> None:
    """Page regions (menus, sidebars, footer) go, unless one of them holds the headline."""
    for el in select(root, profile.page_furniture):
        if not is_removed(el) and not (
            title_el is not None and (el is title_el or title_el in el.descendants)
        ):
            el.decompose()


def _drop_marked_sections(root: Tag, profile: SiteProfile) -> None:
    """Drop containers that open with a list heading ("Tin liên quan" …) inside a body."""
    for el in find_tags(root, ("div", "section", "aside", "table", "ul", "nav")):
        if is_removed(el):
            continue
        first = next((s for s in el.stripped_strings), None)
        if first and profile.is_section_marker(first) and first_tag(el, "a") is not None:
            el.decompose()


def _drop_other_articles(root: Tag, title_el: Tag | None, profile: SiteProfile) -> None:
    """Lists of other articles inside the page (by class, or opening with a list heading
    such as "Tin liên quan:"), unless they hold the title."""
    index = index_of(root)
    for el in select(root, profile.other_articles):
        if is_removed(el) or (title_el is not None and index.within(title_el, el)):
            continue
        el.decompose()
    for el in find_tags(root, ("div", "section", "aside", "table", "ul", "nav")):
        if is_removed(el) or (title_el is not None and index.within(title_el, el)):
            continue
        first = next((s for s in el.stripped_strings), None)
        if first and profile.is_section_marker(first) and first_tag(el, "a") is not None:
            el.decompose()


def _collect(blocks: list[Block], parts: _Parts, profile: SiteProfile) -> None:
    """Split blocks into paragraphs and images, then peel the trailer off. Credit lines
    (``Thực hiện: …``) give authors, date lines are the article's (not its text) unless
    it is a live report, and a block repeating another (a pull quote) goes."""
    text_blocks: list[Block] = []
    credited: list[str] = []
    for block in blocks:
        if block.kind == "image":
            assert block.src is not None
            parts.images.append(Image(block.src, normalize_or_none(block.text)))
        elif block.in_caption:
            # A caption: of the picture before it, or of a video/embed (never body text).
            if parts.images and parts.images[-1].caption is None:
                last = parts.images[-1]
                parts.images[-1] = Image(last.src, block.text)
        elif _is_noise(block, profile) or (not parts.live and _is_date_line(block.text, profile)):
            continue
        elif not parts.live and (meta := _meta_line(block.text, profile)) is not None:
            credited.extend(meta)  # "26/01/2025 08:00 Ảnh: Vũ Linh": date and credits
            continue
        elif parts.live and (stamped := _STAMP_RE.match(block.text)) and block.element is not None:
            # "<b>7h30:</b> text" in a live report: the time stamp is a paragraph of its own
            bold = first_tag(block.element, ("b", "strong"))
            if bold is not None and stamped.group(1) in normalize_text(bold.get_text(" ")):
                text_blocks.append(Block("text", stamped.group(1), "p", element=block.element))
                text_blocks.append(Block("text", stamped.group(2), "p", element=block.element))
            else:
                text_blocks.append(block)
        else:
            credits = read_credits(block.text, profile)
            if credits is not None and not block.heading:
                credited.extend(credits.authors)
                continue
            signed = _signature_name(block.text) if block.right_aligned else None
            if (
                block.right_aligned
                and not block.heading
                and (signed or _is_person(block.text, profile))
            ):
                # The byline of one item of a round-up, a reader's signature.
                credited.append(signed or block.text)
                continue
            text_blocks.append(block)
    text_blocks = _drop_repeats(text_blocks)
    text_blocks, trailing_author, source = _split_trailer(text_blocks, profile)
    parts.paragraphs = _dedupe_adjacent([b.text for b in text_blocks])
    parts.source = source or parts.source
    # Every person credited, in page order: the byline, names and credits in the text,
    # the name that ends it (a poem's commentator after its poet).
    parts.author = join_authors(
        split_names(parts.author or ""), credited, split_names(trailing_author or "")
    )


def _is_person(text: str, profile: SiteProfile) -> bool:
    """A person's name as a byline prints it: capitalised words, no parentheses, not a
    body's signature (``BAN LỄ TANG``), not a source (``Theo TTXVN``) nor a note (``(Còn nữa)``)."""
    return (
        looks_like_name(text)
        and "(" not in text
        and not profile.body_signature_re.match(text)
        and not profile.honorific_re.match(text)
        and _source_of(text, profile) is None
        and not profile.byline_agency_re.match(text)
    )


def _dedupe_adjacent(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for p in paragraphs:
        if not out or out[-1] != p:
            out.append(p)
    return out


# -- layout readers ---------------------------------------------------------------------------


def _parse_epi(
    soup: BeautifulSoup,
    bodies: list[Tag],
    meta: PageMeta,
    profile: SiteProfile,
    url: str,
    published: datetime | None,
    live: bool,
) -> _Parts:
    parts = _Parts(LAYOUT_EPI)
    parts.live = live
    parts.title = _title(soup, meta, profile)
    parts.sapo = _sapo_of(soup, profile) or _described_sapo(meta, bodies[0], profile)
    parts.published_at = published
    parts.category = _category(soup, meta, profile)
    parts.tags = _tags(soup, meta, profile)
    parts.author, parts.source = _author(soup, meta, profile)
    blocks: list[Block] = []
    for body_el in bodies:
        if is_removed(body_el):
            continue
        for el in select(body_el, f"{profile.remove_in_body}, {profile.other_articles}"):
            el.decompose()
        _drop_marked_sections(body_el, profile)
        _drop_embeds(body_el, profile)
        _drop_navigation(body_el, profile)
        _drop_pull_quotes(body_el)
        blocks.extend(linearize(body_el, profile, url))
    if parts.sapo:
        sapo_key = fold_key(parts.sapo)
        blocks = [b for b in blocks if not (b.kind == "text" and fold_key(b.text) == sapo_key)]
    _collect(blocks, parts, profile)
    return parts


def _sapo_of(soup: Tag, profile: SiteProfile) -> str | None:
    """The first sapo element of the article (never one of a list of other articles)."""
    title_el = _first(soup, profile.select("title"))
    for selector in profile.select("sapo"):
        for el in select(soup, selector):
            if not outside_article(el, title_el, profile):
                text = normalize_or_none(el.get_text(" "))
                if text and len(text.split()) >= _MIN_SAPO_WORDS and not profile.is_phrase(text):
                    return text
    return None


_MIN_SAPO_WORDS = 4
"""A lead is a sentence: a word or two under a lead's class is a label ("Quảng cáo")."""


def _looks_legacy(soup: BeautifulSoup, profile: SiteProfile, html: str) -> bool:
    """The 2023 front end: Nuxt assets, or its furniture ("Gửi cho bạn bè" …) on the page."""
    if select_first(soup, profile.select("legacy_markers")) is not None:
        return True
    page = unicodedata.normalize("NFC", html).casefold()
    if not any(phrase.casefold() in page for phrase in profile.legacy_phrases):
        return False  # cheap no; a yes is confirmed on whole text blocks below
    texts = (normalize_text(t) for t in soup.stripped_strings)
    return any(profile.is_legacy_phrase(t) for t in texts if len(t) < 40)


_REGION_SHARE = 0.85
_MIN_SCORED_CHARS = 20
_OWN_TEXT_TAGS = ("div", "td", "section", "article", "main", "center", "font", "span")


def _main_region(root: Tag) -> Tag:
    """The smallest element holding nearly all (85 %) of the page's paragraph text, links
    discounted: the article's text however many blocks it is split into (a long-form's
    sections between pictures, the pages of a paged article). The page's furniture and
    lists of other articles must be gone already."""
    totals: dict[int, int] = {}
    grand = 0

    def credit(el: Tag, score: int) -> None:
        nonlocal grand
        grand += score
        node: Tag | None = el
        while node is not None:
            totals[id(node)] = totals.get(id(node), 0) + score
            if node is root:
                break
            node = node.parent

    for el in find_tags(root, _PARAGRAPH_TAGS):
        if first_tag(el, _PARAGRAPH_TAGS) is not None:
            continue  # counted through its own paragraphs
        text = len(el.get_text(" ", strip=True))
        score = text - 2 * _link_chars(el)
        if score >= _MIN_SCORED_CHARS:
            credit(el, score)
    for el in find_tags(root, _OWN_TEXT_TAGS):
        own = sum(
            len(t.strip())
            for t in el.find_all(string=True, recursive=False)
            if not isinstance(t, Comment)
        )
        if own >= _MIN_SCORED_CHARS:
            credit(el, own)
    node = root
    while grand:
        children = [c for c in node.children if isinstance(c, Tag)]
        best = max(children, key=lambda c: totals.get(id(c), 0), default=None)
        if best is None or totals.get(id(best), 0) < grand * _REGION_SHARE:
            break
        node = best
    return node


def _parse_density(
    soup: BeautifulSoup,
    meta: PageMeta,
    profile: SiteProfile,
    url: str,
    published: datetime | None,
    live: bool,
) -> _Parts:
    """The last reader of the cascade, for a layout no other reader knows (or whose body
    container holds only part of the text): the region holding the page's text, read
    block by block."""
    parts = _Parts(LAYOUT_DENSITY)
    parts.live = live
    parts.title = _title(soup, meta, profile)
    parts.sapo = _sapo_of(soup, profile)
    parts.category = _category(soup, meta, profile)
    parts.tags = _tags(soup, meta, profile)
    parts.author, parts.source = _author(soup, meta, profile)
    root = soup.body or soup
    title_el = _first(root, profile.select("title"))
    _drop_furniture(root, title_el, profile)
    _drop_other_articles(root, title_el, profile)
    for el in select(root, profile.remove_in_body):
        if not is_removed(el):
            el.decompose()
    _drop_embeds(root, profile)
    container = _main_region(root)
    _drop_navigation(container, profile)
    _drop_pull_quotes(container)
    blocks: list[Block] = _cover_pictures(container, title_el, profile, url)
    title_key = fold_key(parts.title or "")
    sapo_key = fold_key(parts.sapo or "")
    dateline: datetime | None = None
    read = linearize(container, profile, url)
    # The region may hold page parts above the headline (a print copy's logo row, its
    # category and date): its text starts after the title.
    title_at = next(
        (
            i
            for i, b in enumerate(read)
            if b.kind == "text" and (b.tag == "h1" or (title_key and fold_key(b.text) == title_key))
        ),
        None,
    )
    if title_at is not None:
        read = [b for b in read[:title_at] if b.kind == "image"] + read[title_at:]
    for block in read:
        if block.kind == "text":
            key = fold_key(block.text)
            if profile.is_section_marker(block.text) or profile.is_footer(block.text):
                if any(b.kind == "text" for b in blocks):
                    break
                continue
            if key in (title_key, sapo_key) or block.tag == "h1":
                continue
            if (
                dateline is None
                and not live
                and not any(b.kind == "text" for b in blocks)
                and looks_like_dateline(block.text)
            ):
                if not is_modified_line(block.text, profile):
                    dateline = parse_vietnamese_datetime(block.text)
                continue
        blocks.append(block)
    parts.published_at = published or dateline or _dateline_near_title(soup, profile)
    if parts.sapo is None and title_el is not None:
        parts.sapo = _lead_before(container, title_el, profile, url)
    if parts.sapo is None:
        parts.sapo, blocks = _take_lead(blocks, profile)
    if parts.sapo is None:
        parts.sapo = _described_sapo(meta, container, profile)
        if parts.sapo:
            key = fold_key(parts.sapo)
            blocks = [b for b in blocks if not (b.kind == "text" and fold_key(b.text) == key)]
    _collect(blocks, parts, profile)
    return parts


def _holding_both(container: Tag, title_el: Tag) -> Tag | None:
    """The smallest element above ``container`` that also holds the title."""
    index = index_of(container)
    ancestor = container.parent
    while ancestor is not None and not index.within(title_el, ancestor):
        ancestor = ancestor.parent
    return ancestor


def _cover_pictures(
    container: Tag, title_el: Tag | None, profile: SiteProfile, url: str
) -> list[Block]:
    """Pictures of the article above its text region (a long-form's cover beside its
    title): those within the smallest element holding both title and text, before the
    text. Logos and icons are never pictures of the article."""
    if title_el is None or is_removed(title_el):
        return []
    index = index_of(container)
    if index.within(title_el, container):
        return []
    ancestor = _holding_both(container, title_el)
    if ancestor is None or ancestor.name in ("body", "html", "[document]"):
        return []
    start = index.pos.get(id(container), 0)
    out: list[Block] = []
    figures: set[int] = set()
    for img in find_tags(ancestor, IMAGE_TAGS):
        if index.pos.get(id(img), start) >= start:
            break
        if parent_named(img, "a") is not None:
            continue  # a thumbnail linking elsewhere
        src = image_src(img, url)
        if not src or not profile.is_article_picture(src):
            continue
        figure = parent_named(img, "figure")
        if figure is not None and index.within(figure, ancestor):
            # The picture with its caption, read as the text's pictures are (once).
            if id(figure) not in figures:
                figures.add(id(figure))
                out.extend(b for b in linearize(figure, profile, url) if b.kind == "image")
        else:
            out.append(Block("image", "", "img", src=src, element=img))
    return out


_MIN_QUOTE_KEY = 20
_QUOTE_TAGS = ("blockquote", "aside", "figure", "div", "section")
_MAX_QUOTE_LINES = 4
_MAX_QUOTE_CHARS = 400


def _drop_pull_quotes(root: Tag) -> None:
    """A quote set apart that repeats a sentence of the text (a pull quote, a highlight)
    goes whole, with its quote marks and the name under it: the text says it once,
    where it is. A box is small (a few short lines); its longest line is the quote."""
    whole = fold_key(root.get_text(" "))
    looked = 0
    for el in find_tags(root, _QUOTE_TAGS):
        if is_removed(el) or el is root:
            continue
        strings = list(islice(el.stripped_strings, _MAX_QUOTE_LINES + 1))
        if not strings or len(strings) > _MAX_QUOTE_LINES:
            continue  # (stops reading a big element at its fifth line)
        lines = [fold_key(t) for t in strings]
        classes = " ".join(el.get("class") or ()).lower()
        if len(lines) < 2 and el.name != "blockquote" and "quote" not in classes:
            continue  # one line of its own (a box's heading) is no quote set apart
        main = max(lines, key=len)
        if len(main) < _MIN_QUOTE_KEY:
            continue
        looked += 1
        if looked > _MAX_REPEAT_CANDIDATES:
            break  # each look is one pass over the text: a page has a few quotes
        if sum(len(x) for x in lines) > _MAX_QUOTE_CHARS:
            continue
        repeats = whole.count(main) >= 2
        if not repeats and (el.name == "blockquote" or "quote" in classes):
            repeats = _paraphrases(el, root)
        if repeats:
            el.decompose()
            whole = fold_key(root.get_text(" "))


_PARAPHRASE_SHARE = 0.85
_WORD_RE = re.compile(r"\w+")


def _paraphrases(quote: Tag, root: Tag) -> bool:
    """A quote set apart whose words are nearly all in one paragraph of the text (a pull
    quote that shortens its sentence: "Độ che phủ rừng … trên 80%")."""
    words = [w for w in _WORD_RE.findall(quote.get_text(" ").casefold()) if w]
    if len(words) < _MIN_QUOTE_WORDS:
        return False
    wanted = set(words)
    for para in find_tags(root, "p", limit=_MAX_PARAPHRASE_LOOK):
        if para in quote.descendants or para is quote:
            continue
        have = set(_WORD_RE.findall(para.get_text(" ").casefold()))
        if len(wanted & have) >= _PARAPHRASE_SHARE * len(wanted):
            return True
    return False


_MIN_QUOTE_WORDS = 6
_MAX_PARAPHRASE_LOOK = 300


def _lead_before(container: Tag, title_el: Tag, profile: SiteProfile, url: str) -> str | None:
    """A wholly bold lead printed between the title and the text region (a print copy's
    table row of its own), read as the sapo."""
    if is_removed(title_el):
        return None
    index = index_of(container)
    ancestor = _holding_both(container, title_el)
    if ancestor is None:
        return None
    started = False
    for block in linearize(ancestor, profile, url):
        element = block.element
        if element is not None and (element is title_el or index.within(element, title_el)):
            started = True
            continue
        if element is not None and (element is container or index.within(element, container)):
            break
        if (
            started
            and block.kind == "text"
            and block.emphasis
            and not block.heading
            and len(block.text) >= _MIN_LEAD_CHARS
            and not looks_like_dateline(block.text)
        ):
            return block.text
    return None


def _dateline_near_title(soup: Tag, profile: SiteProfile) -> datetime | None:
    """A date line printed as plain text within a few lines of the title (a print copy)."""
    title_el = _first(soup, profile.select("title"))
    if title_el is None or is_removed(title_el):
        return None
    before: list[str] = []
    lines: list[str] = []
    seen_title = False
    for el in text_nodes(soup.body or soup):
        text = normalize_text(str(el))
        if not text:
            continue
        inside = el.parent is not None and (el.parent is title_el or title_el in el.parent.parents)
        if inside:
            seen_title = True
            continue
        if not seen_title:
            before = [*before[-3:], text]
            continue
        lines.append(text)
        if len(lines) >= 4:
            break
    for text in [*lines, *reversed(before)]:
        if looks_like_dateline(text) and not is_modified_line(text, profile):
            return parse_vietnamese_datetime(text)
    return None


def _described_sapo(meta: PageMeta, body_el: Tag, profile: SiteProfile) -> str | None:
    """EPI pages without a visible sapo: the description the CMS wrote into the head is
    the lead, unless it merely repeats the start of the body."""
    description = meta.get("og:description", "description") or jsonld_text(
        meta.jsonld, "description"
    )
    if not description or profile.generic_description_re.search(description):
        return None
    if profile.credit_re.search(description):
        return None  # "Thơ Lò Ngọc Ánh - Lời bình: Trần Văn Hải": credits, not a lead
    body_start = fold_key(normalize_text(body_el.get_text(" "))[: len(description) + 20])
    return None if body_start.startswith(fold_key(description)[:60]) else description


def _parse_legacy(
    soup: BeautifulSoup,
    meta: PageMeta,
    profile: SiteProfile,
    url: str,
    published: datetime | None,
    live: bool,
) -> _Parts:
    parts = _Parts(LAYOUT_LEGACY)
    parts.live = live
    root = soup.body or soup
    title_el = _first(root, profile.select("title"))
    # Fields first, from the whole page (each scoped to the article): the article's own
    # <footer> may hold its tags.
    parts.category = _category(soup, meta, profile)
    parts.tags = _tags(soup, meta, profile)
    _drop_furniture(root, title_el, profile)
    sapo_el = _first(root, profile.select("sapo"))
    if sapo_el is not None:
        parts.sapo = normalize_or_none(sapo_el.get_text(" "))
        sapo_el.decompose()
    parts.author, parts.source = _author(soup, meta, profile)
    for el in select(root, profile.remove_in_body):
        el.decompose()
    _drop_other_articles(root, title_el, profile)
    _drop_embeds(root, profile)
    _drop_navigation(root, profile)
    _drop_pull_quotes(root)
    blocks = linearize(root, profile, url)
    seq = read_block_sequence(blocks, profile, title_hint=_title(soup, meta, profile))
    parts.title = seq.title or _title(soup, meta, profile)
    parts.published_at = published or seq.published_at
    # A later date line is a header's "today" or an update, no contradiction of the
    # page's own date; an earlier one is.
    if published and seq.published_at and published.date() > seq.published_at.date():
        parts.conflicts.append(
            f"published_at: page {published.isoformat()} vs date line "
            f"{seq.published_at.date().isoformat()}"
        )
    blocks = seq.blocks
    if parts.sapo is None:
        # Older pages set the lead in bold above the body instead of in a sapo element.
        parts.sapo, blocks = _take_lead(blocks, profile)
    _collect(blocks, parts, profile)
    return parts


_MIN_LEAD_CHARS = 60


def _take_lead(blocks: list[Block], profile: SiteProfile) -> tuple[str | None, list[Block]]:
    """The lead set as the first paragraph (wholly bold, or opened by the dateline) and
    the blocks without it; ``(None, blocks)`` when the first paragraph is no lead."""
    first = _first_text(blocks, profile)
    if first is None or not _is_bold_lead(blocks[first], blocks[first + 1 :], profile):
        return None, blocks
    return blocks[first].text, blocks[:first] + blocks[first + 1 :]


def _first_text(blocks: list[Block], profile: SiteProfile) -> int | None:
    """The first text block that is text: the article's date or meta line above its lead
    ("20-02-2017 12:53:00 Lượt xem: 1.532") is not."""
    for i, block in enumerate(blocks):
        if block.kind != "text":
            continue
        if _is_date_line(block.text, profile) or _meta_line(block.text, profile) is not None:
            continue
        return i
    return None


def _is_bold_lead(block: Block, rest: list[Block], profile: SiteProfile) -> bool:
    """A wholly bold first paragraph followed by ordinary paragraphs is the lead; so is a
    first paragraph opened by the paper's dateline (``LCĐT - ``)."""
    if (
        not block.heading
        and profile.dateline_prefix_re.match(block.text)
        and len(block.text) >= _MIN_LEAD_CHARS
    ):
        return True
    return (
        block.emphasis
        and not block.heading
        and len(block.text) >= _MIN_LEAD_CHARS
        and any(b.kind == "text" and not b.emphasis for b in rest)
    )


class BlockSequence:
    """What :func:`read_block_sequence` finds: title, date and the article's own blocks."""

    def __init__(self) -> None:
        self.title: str | None = None
        self.published_at: datetime | None = None
        self.blocks: list[Block] = []


def read_block_sequence(
    blocks: list[Block],
    profile: SiteProfile,
    *,
    title_hint: str | None = None,
    standalone_captions: bool = False,
) -> BlockSequence:
    """Read blocks in the older layout's order (see the seed page).

    ``date line · title · [picture + caption] · paragraphs · [author] · [source] ·
    furniture``. The article ends at the first furniture marker or footer line.
    With ``standalone_captions`` (plain text, where pictures are gone), a short line
    without end punctuation right after the title is taken as a picture caption.
    """
    seq = BlockSequence()
    title_idx = _find_title(blocks, title_hint)
    if title_idx is None:
        return seq
    seq.title = blocks[title_idx].text
    # A cover picture right above the title (a long-form's) is the article's first.
    cover = title_idx
    while cover > 0 and blocks[cover - 1].kind == "image" and blocks[cover - 1].src:
        cover -= 1
    seq.blocks.extend(blocks[cover:title_idx])
    for block in blocks[max(0, title_idx - 3) : title_idx + 4]:
        if block.kind == "text" and looks_like_dateline(block.text):
            seq.published_at = parse_vietnamese_datetime(block.text)
            break
    started = False
    for block in blocks[title_idx + 1 :]:
        if block.kind == "image":
            seq.blocks.append(block)
            continue
        text = block.text
        if looks_like_dateline(text) and not started:
            continue
        if profile.is_section_marker(text) or profile.is_footer(text):
            if started:
                break
            continue
        if profile.is_phrase(text):
            continue
        if (
            standalone_captions
            and not started
            and len(text) <= _MAX_CAPTION_CHARS
            and not text.endswith(_TERMINAL_PUNCT)
            and not block.heading
        ):
            seq.blocks.append(Block("image", text, "img", src=None))
            continue
        seq.blocks.append(block)
        started = True
        if _source_of(text, profile):
            break
    return seq


def _find_title(blocks: list[Block], hint: str | None) -> int | None:
    for i, block in enumerate(blocks):
        if block.kind == "text" and block.tag == "h1":
            return i
    if hint:
        key = fold_key(hint)
        for i, block in enumerate(blocks):
            if block.kind == "text" and fold_key(block.text) == key:
                return i
    for i, block in enumerate(blocks):
        if block.kind == "text" and not looks_like_dateline(block.text):
            return i
    return None
