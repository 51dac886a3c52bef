"""How far discovery walks: sitemap lastmod, --since, feeds, the listing safety margin."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from baolaocai.dates import SITE_TZ
from baolaocai.models import SitemapMemo
from baolaocai.settings import Settings
from scrapers.discovery import Discovery, DiscoveryOptions, discover_site
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SiteServer, serve_site
from sitecopy.generate import GeneratedArticle, make_articles, write_site


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GeneratedArticle]]:
    root = tmp_path_factory.mktemp("gen")
    articles = make_articles(60, seed=7)
    write_site(root, articles, per_page=4)
    return root, articles


def run_discovery(
    site: SiteServer,
    options: DiscoveryOptions,
    known: frozenset[int] = frozenset(),
    memos: dict[str, SitemapMemo] | None = None,
) -> Discovery:
    settings = Settings(base_url=site.url, rate=500.0, concurrency=4)

    async def go() -> Discovery:
        async with build_client(settings) as client:
            outcome = await discover_site(
                Fetcher(client, settings, RequestPacer(500.0)),
                options,
                known=known.__contains__,
                memos=memos,
            )
            assert outcome.error is None
            return outcome.found

    return asyncio.run(go())


def test_everything_is_found_from_sitemaps_feed_home_and_listings(generated) -> None:
    root, articles = generated
    with serve_site(root) as site:
        found = run_discovery(site, DiscoveryOptions(max_listing_pages=50))
        paths = [r.path for r in site.requests]
    assert set(found.articles) == {a.article_id for a in articles}
    assert found.sources.get("sitemap") == len(articles)  # the sitemaps come first
    assert "/rss/home.rss" not in paths or found.errors == []
    assert paths[0] == "/robots.txt" and "/sitemap.xml" in paths


def test_child_sitemaps_unchanged_since_last_read_are_skipped(generated) -> None:
    root, articles = generated
    with serve_site(root) as site:
        first = run_discovery(site, DiscoveryOptions(max_listing_pages=1))
        memos = {r.memo.url: r.memo for r in first.sitemaps_read}
        assert len(memos) >= 2 and all(m.lastmod is not None for m in memos.values())
        # The newest month changed since it was read: its memo is older than the index.
        newest_month = articles[-1].published_at.strftime("%Y-%m")
        newest_url = f"https://baolaocai.vn/sitemaps/{newest_month}.xml"
        memos[newest_url] = SitemapMemo(newest_url, memos[newest_url].lastmod - timedelta(hours=1))
        site.requests.clear()
        again = run_discovery(site, DiscoveryOptions(max_listing_pages=1), memos=memos)
        months = [r.path for r in site.requests if r.path.startswith("/sitemaps/")]
    assert months == [f"/sitemaps/{newest_month}.xml"]  # the unchanged ones cost nothing
    assert again.sitemaps_unchanged == len(memos) - 1
    assert [r.memo.url for r in again.sitemaps_read] == [newest_url]
    assert articles[-1].article_id in again.articles
    assert again.lastmods[articles[-1].article_id] == articles[-1].published_at


def test_a_sitemap_whose_date_moved_back_is_read_again(generated) -> None:
    """Taking down a month's newest article moves the month's <lastmod> *back*: any change
    of the date, not only a newer one, means the child is read again (or the takedown is
    never seen)."""
    root, articles = generated
    with serve_site(root) as site:
        first = run_discovery(site, DiscoveryOptions(max_listing_pages=1))
        memos = {r.memo.url: r.memo for r in first.sitemaps_read}
        month = articles[-1].published_at.strftime("%Y-%m")
        url = f"https://baolaocai.vn/sitemaps/{month}.xml"
        # As remembered: newer than what the index lists now.
        memos[url] = SitemapMemo(url, memos[url].lastmod + timedelta(days=4))
        site.requests.clear()
        again = run_discovery(site, DiscoveryOptions(max_listing_pages=1), memos=memos)
        read = [r.path for r in site.requests if r.path.startswith("/sitemaps/")]
    assert read == [f"/sitemaps/{month}.xml"]
    assert again.sitemaps_unchanged == len(memos) - 1


def test_children_are_read_newest_first_up_to_the_cap(generated) -> None:
    root, articles = generated
    with serve_site(root) as site:
        found = run_discovery(site, DiscoveryOptions(max_listing_pages=1, max_sitemaps=3))
        months = [r.path for r in site.requests if r.path.startswith("/sitemaps/")]
    newest = sorted({a.published_at.strftime("%Y-%m") for a in articles}, reverse=True)
    assert months == [f"/sitemaps/{m}.xml" for m in newest[:2]]  # the index is the third
    assert len(found.sitemaps_read) == 2


def test_since_bounds_listings_and_sitemap_entries(generated) -> None:
    root, articles = generated
    since = articles[-10].published_at.replace(hour=0, minute=0)
    since = datetime(since.year, since.month, since.day, tzinfo=SITE_TZ)
    with serve_site(root) as site:
        found = run_discovery(site, DiscoveryOptions(max_listing_pages=50, since=since))
        listing_pages = [r.path for r in site.requests if "/trang-" in r.path]
    recent = {a.article_id for a in articles if a.published_at >= since}
    assert recent <= set(found.articles)
    old_in_sitemaps = {a.article_id for a in articles if a.published_at < since}
    # Listings print each article's date: older ones are not queued. Only links shown
    # without a date (a "most read" box) can still bring a few.
    assert len(set(found.articles) & old_in_sitemaps) <= 5
    assert len(listing_pages) < 5 * 3


def test_listing_pagination_stops_after_the_margin(generated) -> None:
    root, articles = generated
    everything = frozenset(a.article_id for a in articles)
    for margin in (0, 1):
        with serve_site(root) as site:
            run_discovery(
                site,
                DiscoveryOptions(max_listing_pages=50, listing_margin=margin),
                known=everything,
            )
            per_category = [r.path for r in site.requests if r.path.startswith("/kinh-te/")]
        assert len(per_category) == margin + 1
