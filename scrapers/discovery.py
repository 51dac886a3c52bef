"""Finding article URLs: robots.txt sitemaps, the home page, category pages.

:func:`extract_links` is pure (a listing page in, canonical links out);
:func:`discover` does the walking with a :class:`~scrapers.fetch.Fetcher` it is handed.
A failure in one source (a 403 on the sitemap, a broken category page) is recorded and
the other sources go on; only a run where *no* source answers is a failure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from lxml import etree

from baolaocai.errors import CrawlError
from baolaocai.settings import SITE_URL
from scrapers.fetch import Fetcher
from scrapers.politeness import RobotsRules
from scrapers.robots import fetch_robots
from scrapers.urls import article_id, canonical_article_url, canonicalize

log = logging.getLogger(__name__)

# Paths that look like sections but hold no article lists worth walking.
EXCLUDED_SECTION_RE = re.compile(
    r"^/(tag|tags|tim-kiem|search|lien-he|gioi-thieu|rss|video|podcast|emagazine|"
    r"multimedia|admin|user|login|dang-nhap|quang-cao|toa-soan)\b",
    re.IGNORECASE,
)
SECTION_PATH_RE = re.compile(r"^/[a-z0-9-]+(?:/|\.html)?$", re.IGNORECASE)
PAGINATION_HINT_RE = re.compile(
    r"([?&](page|p|trang)=\d+)|(/trang-\d+(\.html)?/?$)|(/page/\d+/?$)", re.I
)
PAGINATION_CONTAINERS = (
    ".pagination",
    ".paging",
    ".pager",
    "nav.pages",
    ".page-nav",
    "[class*=pagination]",
)
PAGINATION_LINKS = ", ".join(f"{c} a[href]" for c in PAGINATION_CONTAINERS)


@dataclass
class ListingLinks:
    articles: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)


@dataclass
class Discovery:
    """The outcome of discovery: article URLs in the order found, plus what went wrong."""

    articles: dict[int, str] = field(default_factory=dict)
    pages_fetched: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def add(self, url: str) -> bool:
        aid = article_id(url)
        if aid is None or aid in self.articles:
            return False
        self.articles[aid] = url
        return True


def extract_links(html: str, page_url: str, base_url: str = SITE_URL) -> ListingLinks:
    """Article links, section links (menus) and next-page links of a listing page."""
    soup = BeautifulSoup(html, "lxml")
    out = ListingLinks()
    seen: set[str] = set()
    for a in soup.find_all("a", href=True):
        href = str(a["href"])
        article = canonical_article_url(canonicalize(href, page_url, base_url) or "")
        if article and article not in seen:
            seen.add(article)
            out.articles.append(article)
    for a in soup.select(
        "header a[href], nav a[href], .menu a[href], .nav a[href], .main-menu a[href]"
    ):
        url = canonicalize(str(a["href"]), page_url, base_url)
        if url is None:
            continue
        path = urlsplit(url).path
        if (
            SECTION_PATH_RE.match(path)
            and path != "/"
            and not EXCLUDED_SECTION_RE.match(path)
            and article_id(url) is None
            and url not in out.sections
        ):
            out.sections.append(url)
    current = canonicalize(page_url, page_url, base_url)
    candidates = list(soup.select("a[rel~=next][href]"))
    candidates += soup.select(PAGINATION_LINKS)
    for a in candidates:
        url = canonicalize(str(a["href"]), page_url, base_url)
        if (
            url
            and url != current
            and article_id(url) is None
            and url not in out.next_pages
            and (PAGINATION_HINT_RE.search(url) or "next" in (a.get("rel") or []))
        ):
            out.next_pages.append(url)
    return out


def parse_sitemap(xml: str) -> tuple[list[str], list[str]]:
    """``(child sitemaps, page URLs)`` of a sitemap index or url set; tolerant of junk."""
    try:
        root = etree.fromstring(
            xml.encode("utf-8"), parser=etree.XMLParser(recover=True, resolve_entities=False)
        )
    except etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    locs = [
        (el.getparent().tag if el.getparent() is not None else "", (el.text or "").strip())
        for el in root.iter("{*}loc")
    ]
    children = [loc for parent, loc in locs if str(parent).endswith("sitemap")]
    pages = [loc for parent, loc in locs if str(parent).endswith("url")]
    return children, pages


def _page_number(url: str) -> int:
    match = re.search(r"(\d+)(?:\.html)?/?$", url) or re.search(r"=(\d+)", url)
    return int(match.group(1)) if match else 1


async def discover(
    fetcher: Fetcher,
    *,
    max_listing_pages: int,
    known: Callable[[int], bool] = lambda _id: False,
    sitemaps: list[str] | None = None,
    max_sitemaps: int = 20,
) -> Discovery:
    """Walk sitemaps, the home page and every section's listing pages.

    Pagination of a section stops after ``max_listing_pages`` pages, or at the first
    page whose articles are all ``known`` (already stored): on an incremental run only
    the newest pages are read.
    """
    base_url = fetcher.settings.base_url
    result = Discovery()
    answered = 0

    for sitemap_url in (sitemaps or [])[:max_sitemaps]:
        canonical = canonicalize(sitemap_url, SITE_URL, base_url)
        if canonical is None:
            continue
        queue = [canonical]
        visited: set[str] = set()
        while queue and len(visited) < max_sitemaps:
            current = queue.pop(0)
            if current in visited:
                continue
            visited.add(current)
            page = await fetcher.fetch(current)
            result.pages_fetched += 1
            if not page.ok or page.html is None:
                result.errors.append((current, page.error or f"HTTP {page.status}"))
                continue
            answered += 1
            children, urls = parse_sitemap(page.html)
            queue.extend(c for c in (canonicalize(u, SITE_URL, base_url) for u in children) if c)
            for u in urls:
                article = canonical_article_url(canonicalize(u, SITE_URL, base_url) or "")
                if article:
                    result.add(article)

    home_url = SITE_URL + "/"
    home = await fetcher.fetch(home_url)
    result.pages_fetched += 1
    sections: list[str] = []
    if home.ok and home.html is not None:
        answered += 1
        links = extract_links(home.html, home.fetched_url, base_url)
        for url in links.articles:
            result.add(url)
        sections = links.sections
    else:
        result.errors.append((home_url, home.error or f"HTTP {home.status}"))

    for section in sections:
        page_url: str | None = section
        visited_pages: set[str] = set()
        while page_url and len(visited_pages) < max_listing_pages:
            visited_pages.add(page_url)
            page = await fetcher.fetch(page_url)
            result.pages_fetched += 1
            if not page.ok or page.html is None:
                result.errors.append((page_url, page.error or f"HTTP {page.status}"))
                break
            answered += 1
            links = extract_links(page.html, page.fetched_url, base_url)
            ids = [article_id(u) for u in links.articles]
            for url in links.articles:
                result.add(url)
            if ids and all(i is not None and known(i) for i in ids):
                log.info("%s: every article already stored; stop paginating", page_url)
                break
            following = [u for u in links.next_pages if u not in visited_pages]
            following.sort(key=_page_number)
            page_url = next(
                (u for u in following if _page_number(u) > _page_number(page_url)), None
            )

    if answered == 0:
        first = result.errors[0][1] if result.errors else "no discovery source answered"
        raise CrawlError(f"the site at {base_url} could not be reached ({first})")
    return result


@dataclass
class DiscoveryOutcome:
    """Discovery as a value: what was found, the robots rules, and a fatal error if any."""

    found: Discovery
    robots: RobotsRules
    error: str | None = None


async def discover_site(fetcher: Fetcher, *, known: Callable[[int], bool]) -> DiscoveryOutcome:
    """robots.txt first (its rules then apply to every later request), then :func:`discover`.

    Never raises for the site's own failures: an unreachable site comes back as ``error``.
    """
    try:
        fetcher.robots = await fetch_robots(fetcher)
        found = await discover(
            fetcher,
            max_listing_pages=fetcher.settings.max_listing_pages,
            known=known,
            sitemaps=fetcher.robots.sitemaps,
        )
    except CrawlError as exc:
        return DiscoveryOutcome(
            Discovery(), fetcher.robots or RobotsRules(fetcher.settings.user_agent), exc.message
        )
    return DiscoveryOutcome(found, fetcher.robots)
