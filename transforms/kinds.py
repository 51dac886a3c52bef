"""What kind of page an article was read from: ``page_kind``. Pure functions.

A newspaper publishes more than plain articles at article addresses: live reports,
e-magazines, photo stories, videos, podcasts, interviews, infographics, and copies of an
article for AMP and for printing. How each is told is the site file's ``[kinds]`` table
(signals in the CMS family file, so every paper of the family gets them): elements of
the markup, the address, JSON-LD types, whole text blocks, and paragraph prefixes; a
kind may also require a short body (``max-words``). Kinds are tried in
:data:`~baolaocai.models.PAGE_KINDS` order, a copy's kind (``amp``, ``print``) first.

Telling is in two steps because the signals are of two times: :func:`markup_signals`
reads the page as served (before any clean-up removes players and embeds), and
:func:`tell_kind` adds what the extracted article shows (paragraph prefixes, pictures,
length). A page no signal tells is an ``article`` when one of the site's readers knew
its markup, else ``unknown`` (counted by the drift alarm).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from baolaocai.models import UNKNOWN_KIND
from baolaocai.profile import KindRule, SiteProfile
from baolaocai.text import fold_key
from transforms.metadata import PageMeta
from transforms.select import exists, text_nodes
from transforms.sources import outside_article

_MAX_TEXT_SIGNAL_CHARS = 60
_MIN_PREFIXED = 2
_WORDS_PER_PICTURE = 30
"""A page of pictures says less than this per picture (a photo story's short text)."""


def markup_signals(
    soup: BeautifulSoup,
    meta: PageMeta,
    addresses: Sequence[str | None],
    title_el: Tag | None,
    profile: SiteProfile,
) -> frozenset[str]:
    """The kinds whose markup, address, JSON-LD or text signals the page shows.

    ``addresses`` are where the page says it lives and where it was read from (a copy's
    own address tells ``amp``; its canonical link tells the article's). Text signals
    count only inside the article: a menu's "E-magazine" tells nothing of the page."""
    wheres = []
    for address in addresses:
        if address:
            parts = urlsplit(address)
            wheres.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    texts: set[str] | None = None
    found: set[str] = set()
    for rule in profile.kinds:
        if (
            rule.jsonld_types & meta.types
            or any(p.search(w) for p in rule.url_res for w in wheres)
            or (rule.css and exists(soup, rule.css))
        ):
            found.add(rule.kind)
        elif rule.text_keys:
            if texts is None:
                texts = _article_texts(soup, title_el, profile)
            if rule.text_keys & texts:
                found.add(rule.kind)
    return frozenset(found)


def _article_texts(soup: BeautifulSoup, title_el: Tag | None, profile: SiteProfile) -> set[str]:
    """The folded texts of the article (not of its page) that some text signal names."""
    wanted: frozenset[str] = frozenset().union(*(rule.text_keys for rule in profile.kinds))
    longest = min(_MAX_TEXT_SIGNAL_CHARS, 2 * max((len(k) for k in wanted), default=0) + 8)
    out: set[str] = set()
    for string in text_nodes(soup):
        text = str(string).strip()
        if not text or len(text) > longest:
            continue
        key = fold_key(text)
        parent = string.parent
        if key in wanted and parent is not None and not outside_article(parent, title_el, profile):
            out.add(key)
    return out


def _content_signal(rule: KindRule, heads: Sequence[str], words: int, images: int) -> bool:
    """``heads``: the paragraphs' openings, case-folded (see :func:`tell_kind`)."""
    if rule.prefix_keys:
        starts = sum(1 for head in heads if head.startswith(rule.prefix_keys))
        if starts >= _MIN_PREFIXED:
            return True
    return bool(rule.pictures and images >= rule.pictures and words < _WORDS_PER_PICTURE * images)


def tell_kind(
    signals: frozenset[str],
    paragraphs: Sequence[str],
    images: int,
    profile: SiteProfile,
    *,
    known_layout: bool,
) -> str:
    """The page's kind: the first kind (in the site's order) with a signal whose
    constraints hold; else ``article`` for a known layout, ``unknown`` otherwise."""
    words = sum(len(p.split()) for p in paragraphs)
    # Case folding is per character, so a paragraph's folded opening is the opening of
    # its folded text: the prefixes are looked for there, each paragraph folded once
    # and only as far as the longest prefix (not whole, once per kind).
    longest = max((len(k) for rule in profile.kinds for k in rule.prefix_keys), default=0)
    heads = [p[:longest].casefold() for p in paragraphs] if longest else []
    for rule in profile.kinds:
        if not rule.has_signals:
            continue
        if rule.kind not in signals and not _content_signal(rule, heads, words, images):
            continue
        if rule.max_words is not None and words > rule.max_words:
            continue
        return rule.kind
    return "article" if known_layout else UNKNOWN_KIND
