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

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString

from baolaocai.dates import looks_like_dateline, parse_vietnamese_datetime
from baolaocai.errors import ParseError
from baolaocai.identity import article_id as url_article_id
from baolaocai.identity import canonical_article_url
from baolaocai.models import Article, Image
from baolaocai.profile import SiteProfile
from baolaocai.site import Site, default_site
from baolaocai.text import fold_key, normalize_or_none, normalize_text
from transforms.blocks import Block, linearize
from transforms.metadata import PageMeta, jsonld_people, jsonld_text, read_metadata
from transforms.prune import strip_inert
from transforms.select import index_of, is_removed, select, select_first
from transforms.sources import outside_article, read_modified, read_published

LAYOUT_EPI = "epi"
LAYOUT_LEGACY = "legacy"
LAYOUT_DENSITY = "density"
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


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT_RE.search(text[:20000]))


def parse_article(
    html: str,
    url: str | None = None,
    *,
    site: Site | None = None,
    fallback_url: str | None = None,
) -> Article:
    """Parse an article page. ``url`` is where it came from (canonical form preferred).

    Without ``url``, the page's canonical link, ``og:url`` or JSON-LD give it, then
    ``fallback_url`` (e.g. built from a saved file's name). If none is an article URL,
    ``url`` and ``article_id`` are ``None``: the record is returned, but will not load.

    Raises :class:`ParseError` if the text is not HTML, holds no article text at all, or
    nests elements more than :data:`MAX_DEPTH` levels deep.
    """
    site = site or default_site()
    profile = site.profile
    if not html or not html.strip():
        raise ParseError("empty page", url=url)
    if not looks_like_html(html):
        raise ParseError("not an HTML page", url=url)
    html = strip_inert(html)
    soup = BeautifulSoup(html, "lxml")
    depth = index_of(soup).depth  # an iterative walk; the index is needed anyway
    if depth > MAX_DEPTH:
        raise ParseError(f"document nested {depth} levels deep (limit {MAX_DEPTH})", url=url)
    try:
        meta = read_metadata(soup)
    except RecursionError:  # json.loads recurses on the nesting of JSON-LD data
        raise ParseError("JSON-LD data nested too deeply", url=url) from None
    page_url = _page_url(url, meta, fallback_url, site)
    legacy = _looks_legacy(soup, profile, html)
    for el in select(soup, profile.remove):
        el.decompose()

    # Dates are read before any reader removes page parts, from the article's own
    # sources only (see transforms/sources.py for the order).
    title_el = _first(soup, profile.select("title"))
    published = read_published(soup, meta, title_el, profile)
    modified = read_modified(meta)
    body_el = _first(soup, profile.select("body"))
    base = page_url or site.url("/")
    if body_el is not None:
        parts = _parse_epi(soup, body_el, meta, profile, base, published.value)
    elif legacy:
        parts = _parse_legacy(soup, meta, profile, base, published.value)
    else:
        parts = _parse_density(soup, meta, profile, base, published.value)
    parts.modified_at = modified
    parts.conflicts.extend(published.conflicts)
    if not parts.title and not parts.paragraphs:
        raise ParseError("no article title or text found", url=url)
    _finish_sapo(parts, profile)
    author_key = fold_key(parts.author or "")
    if author_key and any(fold_key(p) == author_key for p in parts.paragraphs):
        parts.conflicts.append(f"author: {parts.author!r} is also a body paragraph")
    return Article(
        url=page_url,
        article_id=url_article_id(page_url, site) if page_url else None,
        title=parts.title,
        sapo=parts.sapo,
        body="\n\n".join(parts.paragraphs),
        author=parts.author,
        published_at=parts.published_at,
        category=parts.category,
        tags=tuple(parts.tags),
        images=tuple(parts.images[:MAX_IMAGES]),
        images_dropped=max(0, len(parts.images) - MAX_IMAGES),
        source=parts.source,
        modified_at=parts.modified_at,
        extraction_method=parts.method,
        field_conflicts=tuple(parts.conflicts),
    )


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
        or _strip_site_suffix(meta.get("og:title"), profile)
        or _strip_site_suffix(meta.html_title, profile)
    )


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
        return crumbs[-1] if len(crumbs) == 1 else crumbs[0]
    names = [n for n in meta.breadcrumb_names if fold_key(n) not in {fold_key("Trang chủ"), "home"}]
    return normalize_or_none(names[0]) if names else None


def _tag_text(a: Tag) -> str:
    """A tag link's text; ``#Sa Pa`` is the tag ``Sa Pa``."""
    return normalize_text(normalize_text(a.get_text(" ")).lstrip("#＃"))


def _tags(soup: Tag, meta: PageMeta, profile: SiteProfile) -> list[str]:
    """Tags, from (1) the profile's tag selectors in order, then (2) a block labelled
    ``Từ khóa:`` / ``Tags:`` (profile ``tag_labels``) holding links. Lists of other
    articles never give tags."""
    for selector in profile.select("tags"):
        found = [_tag_text(a) for a in select(soup, selector)]
        found = [t for t in found if t and not profile.is_phrase(t)]
        if found:
            return list(dict.fromkeys(found))
    for block in soup.find_all(["div", "p", "ul", "section", "span"]):
        first = next(iter(block.stripped_strings), None)
        if not first or not profile.is_tag_label(first):
            continue
        found = [_tag_text(a) for a in block.find_all("a")]
        found = [t for t in found if t and not profile.is_phrase(t)]
        if found:
            block.decompose()  # a tag block is a field, never body text
            return list(dict.fromkeys(found))
    return []


def _clean_byline(text: str | None, profile: SiteProfile) -> str | None:
    if not text:
        return None
    text = profile.byline_prefix_re.sub("", normalize_text(text)).strip(" -–—,;")
    if not text or fold_key(text) in profile.organisation_keys:
        return None
    return text


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


def _byline(soup: Tag, profile: SiteProfile) -> tuple[list[str], str | None, Tag | None]:
    """Names and agency of the article's own byline (never one of another article):
    the first byline selector with an element inside the article. ``Theo TTXVN`` in a
    byline is the source TTXVN and no author."""
    title_el = _first(soup, profile.select("title"))
    for selector in profile.select("byline"):
        for el in select(soup, selector):
            if outside_article(el, title_el, profile):
                continue
            names = _byline_names(el, profile)
            if not names:
                continue
            if len(names) == 1 and profile.byline_agency_re.match(names[0]):
                return [], _source_of(names[0], profile), el
            return names, None, el
    return [], None, None


def _author(soup: Tag, meta: PageMeta, profile: SiteProfile) -> tuple[str | None, str | None]:
    """``(author, source)``. Author sources in order: JSON-LD people, the article's
    byline / author block, ``<meta name=author>``; the body's trailing author line comes
    last (see :func:`_collect`). The byline gives the source when it names an agency."""
    names, source, el = _byline(soup, profile)
    if el is not None and len(el.get_text(" ", strip=True)) <= _MAX_BYLINE_BLOCK_CHARS:
        el.decompose()  # the byline is a field, never a body paragraph
    people = [p for p in (_clean_byline(n, profile) for n in jsonld_people(meta.jsonld)) if p]
    if people:
        return ", ".join(people), source
    cleaned = [_clean_byline(n, profile) for n in names]
    byline = ", ".join(c for c in cleaned if c)
    if (
        byline
        and not looks_like_dateline(byline)
        and all(len(c or "") <= _MAX_AUTHOR_CHARS for c in cleaned)
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


def _is_author_line(block: Block, profile: SiteProfile) -> bool:
    text = block.text
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
            author = _clean_byline(last.text, profile)
            blocks.pop()
            continue
        break
    return blocks, author, source


def _is_noise(block: Block, profile: SiteProfile) -> bool:
    return (
        profile.is_phrase(block.text)
        or profile.is_footer(block.text)
        or _is_related_link_line(block, profile)
    )


_MARKER_PREFIX_RE = re.compile(r"^([^:：]{2,30})[:：]\s*(.+)$")


def _is_related_link_line(block: Block, profile: SiteProfile) -> bool:
    """``Xem thêm: <a>Another article</a>``: a pointer to other news inside the body.

    Only when the words after the marker are (almost all) link text; a sentence that
    merely starts with "Xem thêm" is real text.
    """
    match = _MARKER_PREFIX_RE.match(block.text)
    if not match or block.element is None or not profile.is_section_marker(match.group(1)):
        return False
    link_text = sum(len(a.get_text(" ", strip=True)) for a in block.element.find_all("a"))
    return link_text >= 0.8 * len(match.group(2))


def _drop_marked_sections(root: Tag, profile: SiteProfile) -> None:
    """Drop containers that open with a list heading ("Tin liên quan" …) inside a body."""
    for el in list(root.find_all(["div", "section", "aside", "table", "ul", "nav"])):
        if is_removed(el):
            continue
        first = next((s for s in el.stripped_strings), None)
        if first and profile.is_section_marker(first) and el.find("a") is not None:
            el.decompose()


def _drop_other_articles(root: Tag, title_el: Tag | None, profile: SiteProfile) -> None:
    """Lists of other articles inside the page (by class, or opening with a list heading
    such as "Tin liên quan:"), unless they hold the title."""
    index = index_of(root)
    for el in select(root, profile.other_articles):
        if is_removed(el) or (title_el is not None and index.within(title_el, el)):
            continue
        el.decompose()
    for el in list(root.find_all(["div", "section", "aside", "table", "ul", "nav"])):
        if is_removed(el) or (title_el is not None and index.within(title_el, el)):
            continue
        first = next((s for s in el.stripped_strings), None)
        if first and profile.is_section_marker(first) and el.find("a") is not None:
            el.decompose()


def _collect(blocks: list[Block], parts: _Parts, profile: SiteProfile) -> None:
    """Split blocks into paragraphs and images, then peel the trailer off."""
    text_blocks: list[Block] = []
    for block in blocks:
        if block.kind == "image":
            assert block.src is not None
            parts.images.append(Image(block.src, normalize_or_none(block.text)))
        elif block.in_caption:
            # A caption: of the picture before it, or of a video/embed (never body text).
            if parts.images and parts.images[-1].caption is None:
                last = parts.images[-1]
                parts.images[-1] = Image(last.src, block.text)
        elif not _is_noise(block, profile):
            text_blocks.append(block)
    text_blocks, trailing_author, source = _split_trailer(text_blocks, profile)
    parts.paragraphs = _dedupe_adjacent([b.text for b in text_blocks])
    parts.source = source or parts.source
    if parts.author is None:
        parts.author = trailing_author
    elif trailing_author and fold_key(trailing_author) != fold_key(parts.author):
        parts.conflicts.append(f"author: byline {parts.author} vs body end {trailing_author}")


def _dedupe_adjacent(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for p in paragraphs:
        if not out or out[-1] != p:
            out.append(p)
    return out


# -- layout readers ---------------------------------------------------------------------------


def _parse_epi(
    soup: BeautifulSoup,
    body_el: Tag,
    meta: PageMeta,
    profile: SiteProfile,
    url: str,
    published: datetime | None,
) -> _Parts:
    parts = _Parts(LAYOUT_EPI)
    parts.title = _title(soup, meta, profile)
    parts.sapo = _text_of(soup, profile.select("sapo")) or _described_sapo(meta, body_el, profile)
    parts.published_at = published
    parts.category = _category(soup, meta, profile)
    parts.tags = _tags(soup, meta, profile)
    parts.author, parts.source = _author(soup, meta, profile)
    for el in select(body_el, f"{profile.remove_in_body}, {profile.other_articles}"):
        el.decompose()
    _drop_marked_sections(body_el, profile)
    blocks = linearize(body_el, profile, url)
    if parts.sapo:
        sapo_key = fold_key(parts.sapo)
        blocks = [b for b in blocks if not (b.kind == "text" and fold_key(b.text) == sapo_key)]
    _collect(blocks, parts, profile)
    return parts


def _looks_legacy(soup: BeautifulSoup, profile: SiteProfile, html: str) -> bool:
    """The 2023 front end: Nuxt assets, or its furniture ("Gửi cho bạn bè" …) on the page."""
    if select_first(soup, profile.select("legacy_markers")) is not None:
        return True
    page = unicodedata.normalize("NFC", html).casefold()
    if not any(phrase.casefold() in page for phrase in profile.legacy_phrases):
        return False  # cheap no; a yes is confirmed on whole text blocks below
    texts = (normalize_text(t) for t in soup.stripped_strings)
    return any(profile.is_legacy_phrase(t) for t in texts if len(t) < 40)


def _densest(root: Tag) -> Tag:
    """The element whose own paragraphs hold the most text (links discounted)."""
    best, best_score = root, 0
    for el in root.find_all(["div", "section", "article", "main", "td"]):
        score = 0
        for child in el.children:
            if isinstance(child, Tag) and child.name in ("p", "h2", "h3", "blockquote", "ul", "ol"):
                text = len(child.get_text(" ", strip=True))
                links = sum(len(a.get_text(" ", strip=True)) for a in child.find_all("a"))
                score += max(0, text - 2 * links)
            elif isinstance(child, NavigableString) and not isinstance(child, Comment):
                score += len(child.strip())
        if score > best_score:
            best, best_score = el, score
    return best if best_score >= _MIN_DENSE_CHARS else root


def _parse_density(
    soup: BeautifulSoup, meta: PageMeta, profile: SiteProfile, url: str, published: datetime | None
) -> _Parts:
    """Fallback for an unknown layout: the densest text container, read block by block."""
    parts = _Parts(LAYOUT_DENSITY)
    parts.title = _title(soup, meta, profile)
    parts.sapo = _text_of(soup, profile.select("sapo"))
    parts.published_at = published
    parts.category = _category(soup, meta, profile)
    parts.tags = _tags(soup, meta, profile)
    parts.author, parts.source = _author(soup, meta, profile)
    root = soup.body or soup
    for el in select(root, profile.page_furniture):
        if not is_removed(el):
            el.decompose()
    container = _densest(root)
    for el in select(container, f"{profile.remove_in_body}, {profile.other_articles}"):
        el.decompose()
    _drop_marked_sections(container, profile)
    blocks: list[Block] = []
    title_key = fold_key(parts.title or "")
    sapo_key = fold_key(parts.sapo or "")
    for block in linearize(container, profile, url):
        if block.kind == "text":
            key = fold_key(block.text)
            if profile.is_section_marker(block.text) or profile.is_footer(block.text):
                if any(b.kind == "text" for b in blocks):
                    break
                continue
            if key in (title_key, sapo_key) or block.tag == "h1":
                continue
            if parts.published_at is None and looks_like_dateline(block.text):
                parts.published_at = parse_vietnamese_datetime(block.text)
                continue
        blocks.append(block)
    _collect(blocks, parts, profile)
    return parts


def _described_sapo(meta: PageMeta, body_el: Tag, profile: SiteProfile) -> str | None:
    """EPI pages without a visible sapo: the description the CMS wrote into the head is
    the lead, unless it merely repeats the start of the body."""
    description = meta.get("og:description", "description") or jsonld_text(
        meta.jsonld, "description"
    )
    if not description or profile.generic_description_re.search(description):
        return None
    body_start = fold_key(normalize_text(body_el.get_text(" "))[: len(description) + 20])
    return None if body_start.startswith(fold_key(description)[:60]) else description


def _parse_legacy(
    soup: BeautifulSoup, meta: PageMeta, profile: SiteProfile, url: str, published: datetime | None
) -> _Parts:
    parts = _Parts(LAYOUT_LEGACY)
    root = soup.body or soup
    title_el = _first(root, profile.select("title"))
    # Page regions (menus, sidebars, footer) go, unless one of them holds the headline.
    for el in select(root, profile.page_furniture):
        if is_removed(el) or (
            title_el is not None and (el is title_el or title_el in el.descendants)
        ):
            continue
        el.decompose()
    parts.category = _category(soup, meta, profile)
    parts.tags = _tags(soup, meta, profile)
    sapo_el = _first(root, profile.select("sapo"))
    if sapo_el is not None:
        parts.sapo = normalize_or_none(sapo_el.get_text(" "))
        sapo_el.decompose()
    parts.author, parts.source = _author(soup, meta, profile)
    for el in select(root, profile.remove_in_body):
        el.decompose()
    _drop_other_articles(root, title_el, profile)
    blocks = linearize(root, profile, url)
    seq = read_block_sequence(blocks, profile, title_hint=_title(soup, meta, profile))
    parts.title = seq.title or _title(soup, meta, profile)
    parts.published_at = published or seq.published_at
    if published and seq.published_at and published.date() != seq.published_at.date():
        parts.conflicts.append(
            f"published_at: page {published.isoformat()} vs date line "
            f"{seq.published_at.date().isoformat()}"
        )
    blocks = seq.blocks
    if parts.sapo is None:
        first_text = next((i for i, b in enumerate(blocks) if b.kind == "text"), None)
        # Older pages set the lead in bold above the body instead of in a sapo element.
        if first_text is not None and _is_bold_lead(blocks[first_text], blocks[first_text + 1 :]):
            parts.sapo = blocks[first_text].text
            blocks = blocks[:first_text] + blocks[first_text + 1 :]
    _collect(blocks, parts, profile)
    return parts


_MIN_LEAD_CHARS = 60


def _is_bold_lead(block: Block, rest: list[Block]) -> bool:
    """A wholly bold first paragraph followed by ordinary paragraphs is the lead."""
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
