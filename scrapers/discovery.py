"""Finding article URLs: robots.txt sitemaps, the home page, category pages.

:func:`extract_links` is pure (a listing page in, canonical links out);
:func:`discover` does the walking with a :class:`~scrapers.fetch.Fetcher` it is handed;
:func:`discover_site` reads robots.txt first (:func:`scrapers.robots.read_robots`: an
unreachable robots.txt or a Crawl-delay over ``max_crawl_delay`` means no crawl, with the
reason in :attr:`DiscoveryOutcome.error`).

A failure in one source (a 403 on the sitemap, a broken category page, a sitemap over its
size cap) is recorded in :attr:`Discovery.errors` with its one-line reason, and the other
sources go on; only a run where *no* source answers is a failure.

A hostile or broken site cannot make discovery endless. Sitemaps and feeds are read up to
``settings.max_sitemap_bytes`` (50 MiB, the sitemaps protocol's limit; pages get
``max_response_bytes``). A section is a menu link to a bare path (a link with a query
string is not a section; sections are de-duplicated by path); at most ``max_sections``
(40) sections are walked, in menu order, and at most ``max_listing_requests`` (400)
section listing pages are requested in all. Once ``discovery_deadline`` (1800 s) has
passed since the walk began, the request in flight is abandoned and discovery stops.
Each cap reached keeps what was found and adds a one-line note to
:attr:`Discovery.capped` (for the run summary), as do ``max_sitemaps`` and the
:data:`MAX_FEEDS` feeds read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from lxml import etree

from baolaocai import progress
from baolaocai.dates import MAX_YEAR, MIN_YEAR, parse_iso, parse_vietnamese_datetime
from baolaocai.errors import CrawlError
from baolaocai.identity import article_id, canonical_article_url, canonicalize, is_tag_page
from baolaocai.models import Failure, FetchedPage, SitemapMemo, SitemapRead
from baolaocai.site import Site
from baolaocai.text import normalize_text
from scrapers.fetch import TOO_LARGE, Fetcher
from scrapers.politeness import RobotsRules
from scrapers.robots import read_robots

log = logging.getLogger(__name__)

# Which paths are sections or next pages, and which menus hold them, is the site file's
# ([urls] section, section_exclude, pagination; [selectors] section_links,
# pagination_links). Feed links are the HTML standard's.
FEED_LINKS = (
    'link[rel~=alternate][type="application/rss+xml"][href],'
    ' link[rel~=alternate][type="application/atom+xml"][href]'
)
MAX_FEEDS = 5
MAX_SECTION_NAME = 60


@dataclass
class ListingLinks:
    articles: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    section_names: dict[str, str] = field(default_factory=dict)
    """Section URL -> the menu's text for it (``Kinh tế``)."""
    next_pages: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    dates: dict[str, datetime] = field(default_factory=dict)
    """Article URL -> the date printed beside its link, when the listing shows one."""
    links_over_cap: int = 0
    links_seen: int = 0
    """Links to the site's own pages on the page (articles or not)."""
    """Distinct article links of the page past ``max_links`` (not taken)."""


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class DiscoveryOptions:
    """How far discovery walks. ``since`` is an explicit lower bound (``--since``);
    ``listing_margin`` is how many listing pages of already-stored articles are still
    read before pagination stops (a safety margin against listings that reorder or
    insert late articles); ``max_sitemaps`` bounds the sitemaps *read* in one run (the
    newest first; unchanged ones cost nothing). Child sitemaps unchanged since they were
    last read are skipped through the memos handed to :func:`discover`.

    ``max_sections``, ``max_listing_requests`` and ``deadline`` (seconds) bound the whole
    walk; ``None`` (the default) takes them from the fetcher's settings
    (``max_sections``, ``max_listing_requests``, ``discovery_deadline``). A backfill that
    pages deep through every category must raise them."""

    max_listing_pages: int = 5
    listing_margin: int = 1
    since: datetime | None = None
    max_sitemaps: int = 50
    max_sections: int | None = None
    max_listing_requests: int | None = None
    deadline: float | None = None
    listings: bool = True
    """Walk the sections' listing pages too. ``False``: stop after the sitemaps, the home
    page and the feeds, and hand the sections back (``Discovery.sections``) for
    :func:`discover_listings`, so a crawl can fetch what those found first."""


@dataclass
class Discovery:
    """The outcome of discovery: article URLs in the order found, plus what went wrong."""

    site: Site = field(repr=False)
    """Whose articles: ids are read with this site's address patterns."""
    articles: dict[int, str] = field(default_factory=dict)
    pages_fetched: int = 0
    errors: list[Failure] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    """How many new article ids each source (sitemap, feed, home, listing) contributed."""
    lastmods: dict[int, datetime] = field(default_factory=dict)
    """Article id -> the newest ``<lastmod>``/``<updated>`` a sitemap or feed lists."""
    sitemaps_read: list[SitemapRead] = field(default_factory=list)
    """Child sitemaps read in full (new or changed), with every article they list."""
    sitemaps_unchanged: int = 0
    """Child sitemaps not read again: same ``<lastmod>`` in the index, or a 304."""
    capped: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    """Section URLs (from the home page's menus) left for :func:`discover_listings`."""
    section_names: dict[str, str] = field(default_factory=dict)
    """Section URL -> its name in the home page's menus."""
    listed_sections: dict[int, str] = field(default_factory=dict)
    """Article id -> the name of the first section whose listing linked it: the category
    of an article whose page names none (recorded as taken from the listing)."""
    links_seen: int = 0
    """Links to the site's own pages and sitemap/feed entries read (articles or not)."""
    article_links: int = 0
    """Of those, how many matched the site's article patterns (before any date bound): 0
    after reading pages means the site file does not describe this site's addresses."""
    """One line per cap that cut discovery short (sections, listing pages, the deadline,
    sitemaps, feeds), e.g. ``sections: 40 of 3000 walked (BAOLAOCAI_MAX_SECTIONS)``;
    what was found before it is kept."""

    def note_lastmod(self, url: str, when: datetime | None) -> None:
        aid = article_id(url, self.site)
        if aid is not None and when is not None:
            previous = self.lastmods.get(aid)
            if previous is None or when > previous:
                self.lastmods[aid] = when

    def add(self, url: str, source: str, lastmod: datetime | None = None) -> bool:
        self.note_lastmod(url, lastmod)
        aid = article_id(url, self.site)
        if aid is None or aid in self.articles:
            return False
        self.articles[aid] = url
        self.sources[source] = self.sources.get(source, 0) + 1
        return True


def _link_date(a: Tag) -> datetime | None:
    container = a.find_parent(["article", "li"]) or (a.parent.parent if a.parent else None)
    if not isinstance(container, Tag):
        return None
    time_el = container.find("time")
    if isinstance(time_el, Tag):
        raw = str(time_el.get("datetime") or time_el.get_text(" "))
        return parse_vietnamese_datetime(raw)
    return None


def extract_links(
    html: str,
    page_url: str,
    site: Site,
    base_url: str | None = None,
    *,
    max_links: int | None = None,
) -> ListingLinks:
    """Article links, section links (menus), next-page links and feeds of a listing page.

    Only the first ``max_links`` distinct article links (page order) are taken; the others
    are counted in ``links_over_cap`` (a menu of any size does not hide the articles)."""
    soup = BeautifulSoup(html, "lxml")
    out = ListingLinks()
    seen: set[str] = set()
    for a in soup.find_all("a", href=True):
        own = canonicalize(str(a["href"]), site, page_url, base_url)
        if own is None:
            continue
        out.links_seen += 1
        article = canonical_article_url(own, site)
        if article and article not in seen:
            seen.add(article)
            if max_links is not None and len(out.articles) >= max_links:
                out.links_over_cap += 1
                continue
            out.articles.append(article)
        if article and article not in out.dates:
            when = _link_date(a)
            if when is not None:
                out.dates[article] = when
    section_paths: set[str] = set()
    for a in soup.select(site.section_links):
        url = canonicalize(str(a["href"]), site, page_url, base_url)
        if url is None:
            continue
        parts = urlsplit(url)
        key = parts.path.rstrip("/").lower()
        if (
            not parts.query  # `/thoi-su/?s=N` is a view of a section, not a section
            and any(p.match(parts.path) for p in site.section_res)
            and parts.path != "/"
            and not any(p.match(parts.path) for p in site.section_exclude_res)
            and article_id(url, site) is None
            and not is_tag_page(url, site)  # a tag's list of articles is not a section
            and key not in section_paths
        ):
            section_paths.add(key)
            out.sections.append(url)
            name = normalize_text(a.get_text(" "))
            if name and len(name) <= MAX_SECTION_NAME:
                out.section_names[url] = name
    current = canonicalize(page_url, site, page_url, base_url)
    candidates = list(soup.select("a[rel~=next][href]"))
    candidates += soup.select(site.pagination_links)
    for a in candidates:
        url = canonicalize(str(a["href"]), site, page_url, base_url)
        if (
            url
            and url != current
            and article_id(url, site) is None
            and url not in out.next_pages
            and (site.is_next_page(url) or "next" in (a.get("rel") or []))
        ):
            out.next_pages.append(url)
    for link in soup.select(FEED_LINKS):
        url = canonicalize(str(link["href"]), site, page_url, base_url)
        if url and url not in out.feeds:
            out.feeds.append(url)
    return out


def _xml_root(xml: str) -> etree._Element | None:
    try:
        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
        return etree.fromstring(xml.encode("utf-8"), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return (child.text or "").strip() or None
    return None


MAX_SITEMAP_URLS = 50_000
"""Entries read from one sitemap (the sitemaps protocol's own limit); more are counted."""


class SitemapReader:
    """A sitemap read as its bytes arrive (:class:`scrapers.fetch.BodySink`): an
    incremental lxml parser whose finished ``<url>``/``<sitemap>`` elements are turned
    into entries and dropped, so neither the document nor its tree is ever held whole —
    only the entries (at most :data:`MAX_SITEMAP_URLS`; :attr:`overflow` counts the rest).
    Tolerant of junk (lxml's ``recover``); entities are not resolved, nothing is fetched.
    """

    def __init__(self, max_urls: int = MAX_SITEMAP_URLS) -> None:
        self.max_urls = max_urls
        self.reset()

    def reset(self) -> None:
        """Start over (the fetcher calls this before each attempt)."""
        self._parser = etree.XMLPullParser(
            events=("end",), recover=True, resolve_entities=False, no_network=True
        )
        self.children: list[SitemapEntry] = []
        self.pages: list[SitemapEntry] = []
        self.overflow = 0
        """``<url>`` entries past :attr:`max_urls`, not read."""
        self._closed = False

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError:
            return  # recover=True keeps what it can; nothing more to read from this chunk
        self._drain()

    def close(self) -> tuple[list[SitemapEntry], list[SitemapEntry]]:
        """``(child sitemaps, page URLs)`` once the whole body has been fed."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(etree.XMLSyntaxError):
                self._parser.close()
            self._drain()
        return self.children, self.pages

    def _drain(self) -> None:
        for _event, el in self._parser.read_events():
            if not isinstance(el.tag, str):
                continue
            name = etree.QName(el).localname
            if name not in ("url", "sitemap"):
                continue
            loc = _child_text(el, "loc")
            if loc:
                if name == "sitemap":
                    self.children.append(SitemapEntry(loc, parse_iso(_child_text(el, "lastmod"))))
                elif len(self.pages) < self.max_urls:
                    self.pages.append(SitemapEntry(loc, parse_iso(_child_text(el, "lastmod"))))
                else:
                    self.overflow += 1
            el.clear()  # the entry is read: free it and the siblings before it
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]


def nothing_matched(site: Site, links_seen: int) -> str:
    """Why reading a site that answered but showed no article of it is not a success: the
    one message of every command that can meet it (crawl, backfill, plan)."""
    return (
        f"0 of {links_seen} links and sitemap entries read matched the article patterns of"
        f" the site file {site.path} ({site.key}); check its [urls] article patterns"
        " ('baolaocai sites check FILE --url URL')"
    )


def sitemap_children(
    children: Sequence[SitemapEntry], site: Site, base_url: str | None
) -> list[tuple[str, datetime | None]]:
    """The child sitemaps an index lists, canonical and once each, with their
    ``<lastmod>`` (the newest when listed twice), in document order. Discovery and the
    backfill read indexes through this one function."""
    found: dict[str, datetime | None] = {}
    for child in children:
        url = canonicalize(child.loc, site, None, base_url)
        if url is None:
            continue
        when = child.lastmod
        if url in found:
            when = max(filter(None, (found[url], when)), default=None)
        found[url] = when
    return list(found.items())


def sitemap_articles(
    entries: Sequence[SitemapEntry], site: Site, base_url: str | None
) -> dict[int, tuple[str, datetime | None]]:
    """The articles a sitemap or a feed lists: id -> (canonical URL, newest ``<lastmod>``),
    first URL per id kept. Entries that are not the site's articles are left out (count
    them as ``len(entries) - len(result)``). Discovery and the backfill read sitemaps
    through this one function."""
    found: dict[int, tuple[str, datetime | None]] = {}
    for entry in entries:
        url = canonical_article_url(canonicalize(entry.loc, site, None, base_url) or "", site)
        aid = article_id(url or "", site)
        if url is None or aid is None:
            continue
        first, when = found.get(aid, (url, None))
        found[aid] = (first, max(filter(None, (when, entry.lastmod)), default=None))
    return found


def parse_sitemap(xml: str | bytes) -> tuple[list[SitemapEntry], list[SitemapEntry]]:
    """``(child sitemaps, page URLs)`` of a sitemap index or url set; tolerant of junk."""
    reader = SitemapReader()
    reader.feed(xml.encode("utf-8") if isinstance(xml, str) else xml)
    return reader.close()


def parse_feed(xml: str) -> list[SitemapEntry]:
    """Item links (and dates) of an RSS 2.0 or Atom feed."""
    root = _xml_root(xml)
    if root is None:
        return []
    entries: list[SitemapEntry] = []
    for item in root.iter("item", "{*}item", "{*}entry"):
        link = _child_text(item, "link")
        if not link:
            for child in item:
                if isinstance(child.tag, str) and etree.QName(child).localname == "link":
                    link = child.get("href")
                    break
        when_raw = _child_text(item, "pubDate")
        when = (
            _rfc822(when_raw)
            if when_raw
            else parse_iso(_child_text(item, "updated") or _child_text(item, "published"))
        )
        if link:
            entries.append(SitemapEntry(link.strip(), when))
    return entries


def _rfc822(value: str) -> datetime | None:
    """An RSS ``pubDate``, aware (no zone given: UTC, as RFC 5322's ``-0000``); ``None``
    for a date that cannot be one (out of :data:`~baolaocai.dates.MIN_YEAR`..``MAX_YEAR``)."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _page_number(url: str) -> int:
    match = re.search(r"(\d+)(?:\.html)?/?$", url) or re.search(r"=(\d+)", url)
    return int(match.group(1)) if match else 1


def _older(when: datetime | None, bound: datetime | None) -> bool:
    return when is not None and bound is not None and when < bound


class _Walk:
    """The bounds of one discovery walk (its deadline, its listing-page budget) and where
    it stands. Every discovery request goes through :meth:`fetch`."""

    def __init__(self, fetcher: Fetcher, options: DiscoveryOptions) -> None:
        settings = fetcher.settings
        self.fetcher = fetcher
        self.deadline_s = (
            options.deadline if options.deadline is not None else settings.discovery_deadline
        )
        self.max_sections = (
            options.max_sections if options.max_sections is not None else settings.max_sections
        )
        self.max_listing_requests = (
            options.max_listing_requests
            if options.max_listing_requests is not None
            else settings.max_listing_requests
        )
        self.listing_requests = 0
        self.options = options
        self.pages_over_link_cap = 0
        self.links_over_cap = 0
        self.links_seen = 0
        self.article_links = 0
        self._loop = asyncio.get_running_loop()
        self._deadline_at = self._loop.time() + self.deadline_s
        self.stopped_in: str | None = None
        """What discovery was reading when the deadline passed (None: it has not)."""

    @property
    def expired(self) -> bool:
        return self.stopped_in is not None

    async def fetch(self, url: str, what: str, **kwargs: Any) -> FetchedPage | None:
        """The answer, or None once the deadline has passed (before or during the
        request: a request in flight then is abandoned, whatever its retries or holds)."""
        if self.expired:
            return None
        remaining = self._deadline_at - self._loop.time()
        if remaining <= 0:
            self.stopped_in = what
            return None
        try:
            async with asyncio.timeout(remaining):
                return await self.fetcher.fetch(url, **kwargs)
        except TimeoutError:
            self.stopped_in = what
            log.warning("discovery deadline passed while reading %s (%s)", what, url)
            return None

    def links_of(self, page: FetchedPage) -> ListingLinks:
        """The links of a listing page, at most ``max_links_per_page`` articles (the rest
        counted)."""
        links = extract_links(
            page.html or "",
            page.fetched_url,
            self.fetcher.settings.site,
            self.fetcher.settings.base_url,
            max_links=self.fetcher.settings.max_links_per_page,
        )
        self.links_seen += links.links_seen
        self.article_links += len(links.articles) + links.links_over_cap
        if links.links_over_cap:
            self.pages_over_link_cap += 1
            self.links_over_cap += links.links_over_cap
        return links

    def link_cap_note(self) -> str | None:
        if not self.links_over_cap:
            return None
        cap = self.fetcher.settings.max_links_per_page
        pages = self.pages_over_link_cap
        return (
            f"links: {pages} listing page{'s' if pages != 1 else ''} linked more than {cap:,}"
            f" articles; {self.links_over_cap:,} past the cap were not taken"
            " (BAOLAOCAI_MAX_LINKS_PER_PAGE)"
        )

    def deadline_note(self, found: int) -> str:
        return (
            f"discovery: stopped at the {self.deadline_s:g} s deadline"
            f" (BAOLAOCAI_DISCOVERY_DEADLINE) while reading {self.stopped_in};"
            f" the {found} articles found by then are kept"
        )


def _record_failure(
    result: Discovery,
    url: str,
    page: FetchedPage,
    *,
    size_setting: str = "BAOLAOCAI_MAX_RESPONSE_BYTES",
    level: int = logging.INFO,
) -> None:
    """Record a source that failed, with its one-line reason (naming the size cap's
    setting when the answer was too large)."""
    reason = page.error or f"HTTP {page.status}"
    if reason.startswith(TOO_LARGE):
        reason = f"{reason} ({size_setting})"
    result.errors.append(Failure(url, "discover", reason, page.status or None, page.attempts))
    log.log(level, "discovery: %s: %s", url, reason)


async def _fetch_source(
    walk: _Walk,
    url: str,
    result: Discovery,
    what: str,
    *,
    xml: bool = False,
) -> FetchedPage | None:
    """A listing page, or with ``xml`` a feed (up to ``max_sitemap_bytes``); None if it
    failed (recorded) or the deadline passed."""
    settings = walk.fetcher.settings
    extra: dict[str, Any] = {"max_bytes": settings.max_sitemap_bytes} if xml else {}
    page = await walk.fetch(url, what, **extra)
    if page is None:
        return None
    result.pages_fetched += 1
    progress.current().page_read(len(result.articles))
    if not page.ok or page.html is None:
        if xml:
            _record_failure(
                result, url, page, size_setting="BAOLAOCAI_MAX_SITEMAP_BYTES", level=logging.WARNING
            )
        else:
            _record_failure(result, url, page)
        return None
    return page


async def discover(
    fetcher: Fetcher,
    options: DiscoveryOptions,
    *,
    known: Callable[[int], bool] = lambda _id: False,
    sitemaps: list[str] | None = None,
    memos: Mapping[str, SitemapMemo] | None = None,
) -> Discovery:
    """Walk sitemaps (from robots.txt), feeds, the home page and the sections' listings.

    ``memos`` are the child sitemaps as last read (:mod:`warehouse.sitemaps`): a child
    whose ``<lastmod>`` in its index has not moved is not fetched; one listed without a
    ``<lastmod>`` is fetched conditionally with its stored validators.

    A source that fails is recorded in ``errors`` and the others go on. Pagination of a
    section stops after ``max_listing_pages`` pages, after ``listing_margin`` pages whose
    articles are all ``known`` (already stored), or at a page dated wholly before
    ``since``. The walk as a whole stops at the caps (sections, listing pages in all,
    the deadline: see the module's docstring), each noted in ``capped``. Raises
    :class:`CrawlError` only when no source answered at all.
    """
    base_url = fetcher.settings.base_url
    site = fetcher.settings.site
    result = Discovery(site)
    walk = _Walk(fetcher, options)
    answered = await _walk_sitemaps(walk, options, sitemaps or [], memos or {}, result)

    sections: list[str] = []
    feeds: list[str] = []
    home = await _fetch_source(walk, site.url("/"), result, "the home page")
    if home is not None and home.html is not None:
        answered += 1
        links = walk.links_of(home)
        for url in links.articles:
            if not _older(links.dates.get(url), options.since):
                result.add(url, "home")
        sections, feeds = links.sections, links.feeds
        result.section_names = dict(links.section_names)
    # Feeds the site file names, besides those the home page links.
    feeds += [u for u in (site.url(p) for p in site.feed_paths) if u not in feeds]

    if len(feeds) > MAX_FEEDS and not walk.expired:
        result.capped.append(f"feeds: {MAX_FEEDS} of {len(feeds)} read (the most per run)")
    for feed_url in feeds[:MAX_FEEDS]:
        page = await _fetch_source(walk, feed_url, result, "the feeds", xml=True)
        if page is None or page.html is None:
            continue
        answered += 1
        entries = parse_feed(page.html)
        listed = sitemap_articles(entries, site, base_url)  # a feed reads like a sitemap
        walk.links_seen += len(entries)
        walk.article_links += len(listed)
        for article, lastmod in listed.values():
            if not _older(lastmod, options.since):
                result.add(article, "feed", lastmod)

    if options.listings:
        answered += await _walk_sections(
            walk, options, sections, known, result, result.section_names
        )
    else:
        result.sections = list(sections)

    if note := walk.link_cap_note():
        result.capped.append(note)
    result.links_seen, result.article_links = walk.links_seen, walk.article_links
    if walk.expired:
        result.capped.append(walk.deadline_note(len(result.articles)))
        log.warning("%s", result.capped[-1])
    if answered == 0:
        if walk.expired:
            raise CrawlError(
                f"no discovery source of {base_url} answered within the {walk.deadline_s:g} s"
                " deadline (BAOLAOCAI_DISCOVERY_DEADLINE)"
            )
        first = result.errors[0].error if result.errors else "no discovery source answered"
        raise CrawlError(f"the site at {base_url} could not be reached ({first})")
    return result


async def discover_listings(
    fetcher: Fetcher,
    options: DiscoveryOptions,
    sections: list[str],
    *,
    known: Callable[[int], bool] = lambda _id: False,
    names: Mapping[str, str] | None = None,
) -> Discovery:
    """The second phase of discovery: the sections' listing pages, with the same caps
    and a deadline of its own. Never raises: a listing that fails is recorded.
    ``names`` (section URL -> menu text) name the sections whose listings link articles."""
    result = Discovery(fetcher.settings.site)
    walk = _Walk(fetcher, options)
    await _walk_sections(walk, options, sections, known, result, names or {})
    result.links_seen, result.article_links = walk.links_seen, walk.article_links
    if walk.expired:
        result.capped.append(walk.deadline_note(len(result.articles)))
        log.warning("%s", result.capped[-1])
    return result


async def _walk_sections(
    walk: _Walk,
    options: DiscoveryOptions,
    sections: list[str],
    known: Callable[[int], bool],
    result: Discovery,
    names: Mapping[str, str],
) -> int:
    """Each section's listing pages, within the caps; returns how many pages answered.
    Every article a named section's listing links is noted with that name."""
    answered = 0
    if len(sections) > walk.max_sections:
        result.capped.append(
            f"sections: {walk.max_sections} of {len(sections)} walked (BAOLAOCAI_MAX_SECTIONS)"
        )
        log.warning("%s", result.capped[-1])
        sections = sections[: walk.max_sections]
    visited_pages: set[str] = set()  # across sections: no listing page is read twice
    for number, section in enumerate(sections, 1):
        page_url: str | None = section
        pages_read = 0
        all_known_streak = 0
        while page_url and page_url not in visited_pages and pages_read < options.max_listing_pages:
            if walk.expired:
                return answered
            if walk.listing_requests >= walk.max_listing_requests:
                result.capped.append(
                    f"listing pages: {walk.listing_requests} requested, the most per run"
                    f" (BAOLAOCAI_MAX_LISTING_REQUESTS); stopped in section {number} of"
                    f" {len(sections)}"
                )
                log.warning("%s", result.capped[-1])
                return answered
            visited_pages.add(page_url)
            walk.listing_requests += 1
            what = f"section listings (section {number} of {len(sections)})"
            page = await _fetch_source(walk, page_url, result, what)
            pages_read += 1
            if page is None or page.html is None:
                break
            answered += 1
            links = walk.links_of(page)
            name = names.get(section)
            for url in links.articles:
                if name and (aid := article_id(url, result.site)) is not None:
                    result.listed_sections.setdefault(aid, name)
                if not _older(links.dates.get(url), options.since):
                    result.add(url, "listing")
            ids = [article_id(u, result.site) for u in links.articles]
            if ids and all(i is not None and known(i) for i in ids):
                all_known_streak += 1
            else:
                all_known_streak = 0
            if all_known_streak > options.listing_margin:
                log.info(
                    "%s: stored articles only, %d page(s) running; stop", page_url, all_known_streak
                )
                break
            dates = list(links.dates.values())
            if options.since is not None and dates and all(d < options.since for d in dates):
                log.info("%s: every article older than %s; stop", page_url, options.since)
                break
            following = sorted(
                (u for u in links.next_pages if u not in visited_pages), key=_page_number
            )
            page_url = next(
                (u for u in following if _page_number(u) > _page_number(page_url)), None
            )
    return answered


def _unchanged(memo: SitemapMemo | None, listed_lastmod: datetime | None) -> bool:
    """Its index lists the child sitemap with the very ``<lastmod>`` it had when read.

    Any other date means it changed, *earlier* included: taking down the newest article
    of a month moves that month's ``<lastmod>`` back, and the takedown is only seen by
    reading the child again."""
    return (
        memo is not None
        and listed_lastmod is not None
        and memo.lastmod is not None
        and listed_lastmod == memo.lastmod
    )


async def _walk_sitemaps(
    walk: _Walk,
    options: DiscoveryOptions,
    roots: list[str],
    memos: Mapping[str, SitemapMemo],
    result: Discovery,
) -> int:
    """Read the sitemap indexes and the child sitemaps that changed; returns how many
    answered. Children are read newest ``<lastmod>`` first, at most ``max_sitemaps``;
    each up to ``max_sitemap_bytes``."""
    fetcher = walk.fetcher
    base_url = fetcher.settings.base_url
    site = fetcher.settings.site
    queue: list[tuple[str, datetime | None]] = [
        (c, None) for c in (canonicalize(u, site, None, base_url) for u in roots) if c
    ]
    visited: set[str] = set()
    listed: set[str] = set()  # every child sitemap the indexes name, read or not
    complete = True  # every index answered, so `listed` is the whole archive
    answered = 0
    while queue and len(visited) < options.max_sitemaps:
        current, listed_lastmod = queue.pop(0)
        if current in visited:
            continue
        memo = memos.get(current)
        if _unchanged(memo, listed_lastmod):
            result.sitemaps_unchanged += 1  # its index says it has not changed: no request
            continue
        visited.add(current)
        conditional = memo if memo is not None and listed_lastmod is None else None
        reader = SitemapReader()
        page = await walk.fetch(
            current,
            "the sitemaps",
            etag=conditional.etag if conditional else None,
            last_modified=conditional.last_modified if conditional else None,
            max_bytes=fetcher.settings.max_sitemap_bytes,
            sink=reader,
        )
        if page is None:  # the deadline passed
            complete = False
            break
        result.pages_fetched += 1
        progress.current().page_read(len(result.articles))
        if page.status == 304:
            answered += 1
            result.sitemaps_unchanged += 1
            continue
        if not page.ok or page.html is None:
            complete = complete and current in listed  # a child failed, not an index
            _record_failure(
                result,
                current,
                page,
                size_setting="BAOLAOCAI_MAX_SITEMAP_BYTES",
                level=logging.WARNING,
            )
            continue
        answered += 1
        children, urls = reader.close()
        if reader.overflow:
            result.capped.append(
                f"sitemap {current}: lists {reader.max_urls + reader.overflow:,} URLs; the"
                f" first {reader.max_urls:,} were read (the sitemaps protocol's limit)"
            )
        named = sitemap_children(children, site, base_url)
        listed.update(url for url, _ in named)
        newest_first = sorted(named, key=lambda c: c[1].timestamp() if c[1] else 0.0, reverse=True)
        queue.extend((url, when) for url, when in newest_first if not _older(when, options.since))
        listed_articles = sitemap_articles(urls, site, base_url)
        walk.links_seen += len(urls)
        walk.article_links += len(listed_articles)
        entries: dict[int, datetime | None] = {}
        for aid, (article, lastmod) in listed_articles.items():
            entries[aid] = lastmod
            if not _older(lastmod, options.since):
                result.add(article, "sitemap", lastmod)
        if entries:
            memo_now = SitemapMemo(
                current,
                listed_lastmod,
                page.headers.get("etag"),
                page.headers.get("last-modified"),
            )
            result.sitemaps_read.append(SitemapRead(memo_now, entries))
    if queue and not walk.expired:
        left = {
            u for u, lastmod in queue if u not in visited and not _unchanged(memos.get(u), lastmod)
        }
        if left:
            result.capped.append(
                f"sitemaps: {len(visited)} read, the most per run; {len(left)} more listed,"
                " left for later runs"
            )
    if complete and not queue and answered:
        # A child we remember that no index names any more is gone, and so are its entries.
        for url in sorted(set(memos) - listed - visited):
            result.sitemaps_read.append(SitemapRead(memos[url], {}, dropped=True))
    return answered


@dataclass
class DiscoveryOutcome:
    """Discovery as a value: what was found, the robots rules, and a fatal error if any."""

    found: Discovery
    robots: RobotsRules
    error: str | None = None


async def discover_site(
    fetcher: Fetcher,
    options: DiscoveryOptions,
    *,
    known: Callable[[int], bool],
    memos: Mapping[str, SitemapMemo] | None = None,
) -> DiscoveryOutcome:
    """robots.txt first (its rules then apply to every later request), then :func:`discover`.

    Never raises for the site's own failures: they come back as ``error``, a one-line
    reason — the site unreachable, robots.txt unreachable (RFC 9309: nothing else is
    requested, and ``robots`` then allows nothing), or a robots.txt Crawl-delay above
    ``max_crawl_delay`` (nothing else is requested either).
    """
    try:
        robots = await read_robots(fetcher)
        site = fetcher.settings.site
        roots = robots.sitemaps or [site.url(p) for p in site.sitemap_paths]
        found = await discover(fetcher, options, known=known, sitemaps=roots, memos=memos)
        if robots.warning:
            found.capped.insert(0, robots.warning)
    except CrawlError as exc:
        robots = fetcher.robots or RobotsRules.disallow_all(fetcher.settings.user_agent)
        return DiscoveryOutcome(Discovery(fetcher.settings.site), robots, exc.message)
    return DiscoveryOutcome(found, robots)
