"""Where each field of an article may come from: the article's own sources, in order.

A page holds more than its article: lists of other articles ("Tin mới", "Các tin khác",
"Xem nhiều nhất", related boxes, sidebars), a header with today's date, a footer. Their
dates, titles and names must never become the article's. Every field is read from a
NAMED, ORDERED list of sources, all scoped to the article; the first source that gives a
value wins, and a later source that disagrees is recorded as a *field conflict* (a
quality signal, see :mod:`transforms.quality`).

Source order per field (the parser follows it; tests pin it):

``published_at``
    1. ``json-ld``  — ``datePublished`` of the page's own ``NewsArticle`` (never an
       ``ItemList`` of other articles)
    2. ``meta``     — ``article:published_time`` / ``datePublished`` / ``pubdate``
    3. ``time``     — ``time[datetime]`` inside the article (not in a list of others,
       nor in the article's text: the time stamps of a live report's updates are content)
    4. ``visible``  — the date line near the title: the profile's ``time`` selectors
       (``time.time``, ``.article__meta time``, ``[class*=date]`` …), article-scoped,
       the one in the article's meta block first, then the one nearest the title;
       ``Cập nhật: …`` lines (and ``.updated`` elements) are the modification time,
       never the publication time
    5. ``sequence`` — a date-only text line next to the title (older layouts)
``modified_at``
    1. ``json-ld`` ``dateModified``  2. ``meta`` ``article:modified_time``
``author``
    1. ``json-ld`` people (never an ``Organization``)  2. the byline selectors, article-
    scoped, the in-body author block ``.article__author .cms-author`` first (several
    ``.author`` = several names, joined by ", "; ``Theo TTXVN`` = source, no author)
    3. ``<meta name=author>``  4. the body's trailing right-aligned / bold line
``source``
    1. the body's trailing source line (``(baolaocai.vn)``, ``Theo TTXVN``)  2. an agency
    in the byline / author block
``title``
    1. the profile's ``title`` selectors (``h1.article__title`` …)  2. JSON-LD
    ``headline``  3. ``og:title``  4. ``<title>`` (site suffixes dropped)
``sapo``
    1. the profile's ``sapo`` selectors  2. (EPI) the head description, unless it is
    generic (profile ``generic_descriptions``) or repeats the body's start  3. (older
    layout) a wholly bold first paragraph; the dateline prefix (``LCĐT - ``) is dropped
``category``
    1. JSON-LD ``articleSection``  2. ``article:section``  3. breadcrumbs  4. JSON-LD
    ``BreadcrumbList``
``tags``
    1. the profile's ``tags`` selectors in order (``#`` dropped)  2. a block opened by a
    ``Từ khóa:`` / ``Tags:`` label (profile ``tag_labels``)

An element is *outside the article* when it (or an ancestor below the article's own
container, i.e. the nearest ancestor holding the title) is page furniture (header,
footer, sidebar …), a list of other articles by class (profile ``other_articles``),
a block that opens with a list heading ("Tin mới" …), or a list item holding a link to
another article (a link whose text is several words long).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bs4 import Tag

from baolaocai.dates import parse_iso, parse_vietnamese_datetime
from baolaocai.profile import SiteProfile
from baolaocai.text import fold_key, normalize_text
from transforms.metadata import PageMeta, jsonld_text
from transforms.select import find_tags, first_tag, index_of, parent_named, select

_MIN_TITLE_LINK_WORDS = 5
_MAX_DATE_TEXT = 80


@dataclass
class Reading:
    """The value a field got, which source gave it, and the sources that disagreed."""

    value: datetime | None = None
    source: str | None = None
    conflicts: list[str] = field(default_factory=list)


def outside_article(el: Tag, title_el: Tag | None, profile: SiteProfile) -> bool:
    """True when ``el`` belongs to page furniture or to a list of other articles."""
    index = index_of(el)
    memo = index.memo
    node: Tag | None = el
    while node is not None and node.name not in ("body", "html", "[document]"):
        if title_el is not None and (node is title_el or index.within(title_el, node)):
            return False  # reached the article's own container
        key = (profile.name, id(node))
        boundary = memo.get(key)
        if boundary is None:
            boundary = memo[key] = bool(
                id(node) in index.matching(profile.other_articles)
                or (id(node) in index.matching(profile.page_furniture) and not _own_part(node))
                or (node.name in ("li", "article") and _links_elsewhere(node))
            )
        if boundary:
            return True
        if node is not el:
            heading_key = ("list-heading:" + profile.name, id(node))
            heads = memo.get(heading_key)
            if heads is None:
                heads = memo[heading_key] = _opens_with_list_heading(node, profile)
            if heads:
                return True
        node = node.parent
    return False


def _own_part(node: Tag) -> bool:
    """An article's own ``<header>``/``<footer>`` (HTML5: inside its ``<article>``),
    holding its tags, byline or date: part of the article, not of the page."""
    return node.name in ("header", "footer") and parent_named(node, ("article", "main")) is not None


def _opens_with_list_heading(node: Tag, profile: SiteProfile) -> bool:
    first = next(iter(node.stripped_strings), None)
    return (
        first is not None and profile.is_section_marker(first) and first_tag(node, "a") is not None
    )


def _links_elsewhere(node: Tag) -> bool:
    """A list item with a title-like link: an entry of a list of other articles."""
    for a in find_tags(node, "a", href=True):
        if len(normalize_text(a.get_text(" ")).split()) >= _MIN_TITLE_LINK_WORDS:
            return True
        if len(str(a.get("title") or "").split()) >= _MIN_TITLE_LINK_WORDS:
            return True
    return False


def is_modified_line(text: str, profile: SiteProfile) -> bool:
    """A line that opens with a modification label (``Cập nhật``, ``Ngày in``)."""
    key = fold_key(text)
    return any(key.startswith(p) for p in profile.modified_prefix_keys)


_LABEL_DEPTH = 2
_MAX_LABEL = 25
_MAX_LABEL_PARTS = 4


def _labelled_modified(el: Tag, profile: SiteProfile) -> bool:
    """A date element that says it is the modification time: its class or a near
    parent's (``span.updated``, ``.live-updated``), or the label its line opens with
    (``Cập nhật: <time>…</time>``)."""
    own = normalize_text(el.get_text(" "))
    node: Tag | None = el
    for _ in range(_LABEL_DEPTH + 1):
        if node is None or node.name in ("body", "html"):
            break
        classes = " ".join(node.get("class") or ()).lower()
        if any(part in classes for part in profile.modified_class_parts):
            return True
        if node is not el:
            # The wrapper holds the element and a label only ("Cập nhật: " + the date).
            if len(node.contents) > _MAX_LABEL_PARTS:
                return False
            label = normalize_text(node.get_text(" ")).replace(own, "", 1).strip()
            if len(label) > _MAX_LABEL:
                return False
            if label and is_modified_line(label, profile):
                return True
        node = node.parent
    return False


def _same(a: datetime, b: datetime, has_time: bool) -> bool:
    if not has_time:
        return a.date() == b.date()
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def _in_text(el: Tag, texts: Sequence[Tag]) -> bool:
    if not texts:
        return False
    index = index_of(el)
    return any(index.within(el, t) for t in texts)


def _visible_candidates(
    root: Tag, title_el: Tag | None, profile: SiteProfile, texts: Sequence[Tag] = ()
) -> list[tuple[datetime, bool, Tag]]:
    """Dates printed in the article (not in lists of others), best first: those in the
    article's meta block, then by distance from the title in document order."""
    index = index_of(root)
    metas = [m for sel in profile.select("meta") for m in select(root, sel)]
    title_pos = index.pos.get(id(title_el)) if title_el is not None else None
    found: dict[int, tuple[int, int, datetime, bool, Tag]] = {}
    for sel in profile.select("time"):
        for el in select(root, sel):
            if id(el) in found:
                continue
            text = normalize_text(el.get_text(" "))
            if not text or len(text) > _MAX_DATE_TEXT or is_modified_line(text, profile):
                continue
            if _labelled_modified(el, profile):
                continue  # span.updated, "Cập nhật: <time>": the modification time
            value = parse_vietnamese_datetime(text)
            if value is None:
                continue
            has_time = bool(value.hour or value.minute or ":" in text)
            in_meta = any(m is el or index.within(el, m) for m in metas)
            pos = index.pos.get(id(el), 0)
            distance = abs(pos - title_pos) if title_pos is not None else pos
            found[id(el)] = (0 if in_meta else 1, distance, value, has_time, el)
    ranked = sorted(found.values(), key=lambda x: x[:2])
    # Scope checks are the costly part: only as many as needed, best candidate first.
    for _, _, value, has_time, el in ranked:
        if not _in_text(el, texts) and not outside_article(el, title_el, profile):
            return [(value, has_time, el)]
    return []


def _has_clock(raw: str | None) -> bool:
    """An ISO value with a time of day (``2025-10-20T17:00``), not a day only."""
    return bool(raw) and len(raw.strip()) > 10  # type: ignore[union-attr]


def published_sources(
    root: Tag,
    meta: PageMeta,
    title_el: Tag | None,
    profile: SiteProfile,
    texts: Sequence[Tag] = (),
) -> list[tuple[str, datetime, bool]]:
    """Every source of the publication time, in the documented order:
    ``(name, value, has_time)``. ``texts`` are the article's text containers: a date
    inside them is content (a live report's update), never the publication time."""
    out: list[tuple[str, datetime, bool]] = []
    raw_jsonld = jsonld_text(meta.jsonld, "datePublished")
    jsonld = parse_iso(raw_jsonld)
    if jsonld:
        out.append(("json-ld", jsonld, _has_clock(raw_jsonld)))
    raw_meta = meta.get("article:published_time", "datepublished", "pubdate")
    meta_value = parse_iso(raw_meta)
    if meta_value:
        out.append(("meta", meta_value, _has_clock(raw_meta)))
    for el in select(root, "time[datetime]"):
        raw = str(el["datetime"])
        value = parse_iso(raw) or parse_vietnamese_datetime(raw)
        if (
            value
            and not _in_text(el, texts)
            and not _labelled_modified(el, profile)
            and not outside_article(el, title_el, profile)
        ):
            out.append(("time", value, True))
            break
    visible = _visible_candidates(root, title_el, profile, texts)
    if visible:
        value, has_time, _ = visible[0]
        out.append(("visible", value, has_time))
    return out


def read_published(
    root: Tag,
    meta: PageMeta,
    title_el: Tag | None,
    profile: SiteProfile,
    texts: Sequence[Tag] = (),
    *,
    live: bool = False,
) -> Reading:
    """The publication time from the first source that has one; disagreements noted.

    A live report's page prints its updates' times, not its start: when its metadata
    dates it, the times on the page are neither read nor a disagreement."""
    reading = Reading()
    day_only = False
    for name, value, has_time in published_sources(root, meta, title_el, profile, texts):
        if live and reading.value is not None and name in ("time", "visible"):
            continue
        if reading.value is None:
            reading.value, reading.source, day_only = value, name, not has_time
            continue
        if day_only and has_time and value.date() == reading.value.date():
            # A source that gives only the day, and a later one the time of that day:
            # the same date, told more precisely.
            reading.value, reading.source, day_only = value, name, False
            continue
        if not _same(reading.value, value, has_time):
            shown = value.isoformat() if has_time else value.date().isoformat()
            reading.conflicts.append(
                f"published_at: {reading.source} {reading.value.isoformat()} vs {name} {shown}"
            )
    return reading


def read_modified(meta: PageMeta) -> datetime | None:
    return parse_iso(jsonld_text(meta.jsonld, "dateModified")) or parse_iso(
        meta.get("article:modified_time", "datemodified")
    )
