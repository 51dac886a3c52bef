"""The site's archive by month, for backfills: monthly child sitemaps and their articles.

EPI-CMS sites publish a sitemap index (named in robots.txt) whose children cover one
month each (``…/sitemaps/2024-03.xml`` or similar, with ``<lastmod>``). A backfill walks
them month by month. When a site has no such index, :func:`month_sitemaps` returns an
empty list and the caller falls back to category pagination bounded by ``since``.

robots.txt is read first (:func:`scrapers.robots.read_robots`): unreachable, or asking for
a Crawl-delay above ``max_crawl_delay``, it stops the backfill with a
:class:`~baolaocai.errors.CrawlError` before anything else is requested. Sitemaps are
read up to ``settings.max_sitemap_bytes`` (50 MiB); an index that cannot be read is
logged with its reason and skipped, a monthly sitemap that cannot be read fails with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from baolaocai.errors import CrawlError
from baolaocai.identity import canonicalize
from baolaocai.site import Site
from scrapers.discovery import (
    SitemapEntry,
    SitemapReader,
    nothing_matched,
    sitemap_articles,
    sitemap_children,
)
from scrapers.fetch import TOO_LARGE, Fetcher
from scrapers.robots import read_robots

log = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 3


@dataclass(frozen=True)
class MonthSitemap:
    month: date
    """The first day of the month the sitemap covers."""
    url: str
    lastmod: datetime | None = None


def month_of(entry: SitemapEntry, site: Site) -> date | None:
    """The month a child sitemap covers: from its URL by the site's ``month_sitemap``
    patterns (``…-2024-03.xml``), else its lastmod."""
    found = site.month_of_sitemap(entry.loc)
    if found is not None:
        return date(found[0], found[1], 1)
    if entry.lastmod is not None:
        return date(entry.lastmod.year, entry.lastmod.month, 1)
    return None


def months_between(start: date, end: date) -> list[date]:
    months, current = [], date(start.year, start.month, 1)
    while current <= end:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


async def month_sitemaps(fetcher: Fetcher, start: date, end: date) -> list[MonthSitemap]:
    """Monthly child sitemaps overlapping ``[start, end]``, oldest first.

    Reads robots.txt (its rules then govern every request of the fetcher, its Crawl-delay
    the pacer) and the sitemap indexes it names. Raises :class:`CrawlError` if robots.txt
    is unreachable or asks for too long a Crawl-delay, or if the site cannot be reached.
    """
    robots = await read_robots(fetcher)
    base_url = fetcher.settings.base_url
    site = fetcher.settings.site
    wanted = set(months_between(start, end))
    queue = [(u, 0) for u in robots.sitemaps] or [(site.url(p), 0) for p in site.sitemap_paths]
    found: dict[date, MonthSitemap] = {}
    seen: set[str] = set()
    answered = False
    while queue:
        raw, depth = queue.pop(0)
        url = canonicalize(raw, site, None, base_url)
        if url is None or url in seen or depth > MAX_SITEMAP_DEPTH:
            continue
        seen.add(url)
        reader = SitemapReader()
        page = await fetcher.fetch(url, max_bytes=fetcher.settings.max_sitemap_bytes, sink=reader)
        if not page.ok or page.html is None:
            log.warning("sitemap index %s not read: %s", url, _reason(page.error, page.status))
            continue
        answered = True
        children, _ = reader.close()
        for child_url, lastmod in sitemap_children(children, site, base_url):
            month = month_of(SitemapEntry(child_url, lastmod), site)
            if month is None:
                queue.append((child_url, depth + 1))  # an index of indexes
            elif month in wanted and month not in found:
                found[month] = MonthSitemap(month, child_url, lastmod)
    if not answered and not found:
        home = await fetcher.fetch(site.url("/"))
        if not home.ok:
            raise CrawlError(f"the site at {base_url} could not be reached ({home.error})")
    return [found[m] for m in sorted(found)]


async def month_articles(fetcher: Fetcher, sitemap: MonthSitemap) -> dict[str, datetime | None]:
    """Canonical article URLs listed in one monthly sitemap, with their ``<lastmod>``."""
    reader = SitemapReader()
    page = await fetcher.fetch(
        sitemap.url, max_bytes=fetcher.settings.max_sitemap_bytes, sink=reader
    )
    if not page.ok or page.html is None:
        reason = _reason(page.error, page.status)
        raise CrawlError(f"the sitemap {sitemap.url} could not be read ({reason})")
    _, entries = reader.close()
    if reader.overflow:
        log.warning(
            "sitemap %s lists %d URLs; the first %d were read (the protocol's limit)",
            sitemap.url,
            reader.max_urls + reader.overflow,
            reader.max_urls,
        )
    site = fetcher.settings.site
    listed = sitemap_articles(entries, site, fetcher.settings.base_url)
    if entries and not listed:
        # Entries, none of them an article of this site: the site file is wrong for this
        # site (or its addresses changed). Never a month "done" with nothing stored.
        raise CrawlError(f"the sitemap {sitemap.url}: {nothing_matched(site, len(entries))}")
    return dict(listed.values())


def _reason(error: str | None, status: int) -> str:
    """A failed sitemap's reason, naming the setting when it was over the size cap."""
    reason = error or f"HTTP {status}"
    return f"{reason} (BAOLAOCAI_MAX_SITEMAP_BYTES)" if reason.startswith(TOO_LARGE) else reason
