from __future__ import annotations

import asyncio

from baolaocai.identity import article_id
from baolaocai.settings import Settings
from baolaocai.site import default_site
from scrapers.discovery import DiscoveryOptions, discover, extract_links, parse_sitemap
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SITE_DIR, SiteServer


def test_home_page_links_are_canonical_and_deduplicated() -> None:
    html = (SITE_DIR / "index.html").read_text(encoding="utf-8")
    links = extract_links(html, "http://127.0.0.1:1/", default_site(), "http://127.0.0.1:1")
    assert links.articles and len(links.articles) == len(set(links.articles))
    assert all(
        u.startswith("https://baolaocai.vn/") and "?" not in u and "#" not in u
        for u in links.articles
    )
    assert {"https://baolaocai.vn/thoi-su/", "https://baolaocai.vn/kinh-te/"} <= set(links.sections)
    assert not any("lien-he" in s or "video" in s for s in links.sections)
    # The menus name the sections: an article of a listing with no category of its own
    # takes the name (see tests/pipeline/test_run.py).
    assert links.section_names["https://baolaocai.vn/kinh-te/"] == "Kinh tế"
    assert set(links.section_names) <= set(links.sections)


def test_category_page_has_a_next_page() -> None:
    html = (SITE_DIR / "kinh-te" / "index.html").read_text(encoding="utf-8")
    links = extract_links(html, "https://baolaocai.vn/kinh-te/", default_site())
    assert links.next_pages == ["https://baolaocai.vn/kinh-te/trang-2.html"]


def test_sitemap_urls() -> None:
    children, pages = parse_sitemap((SITE_DIR / "sitemap.xml").read_text(encoding="utf-8"))
    assert children == [] and len(pages) == 22


def test_discover_walks_home_categories_and_pagination(site: SiteServer) -> None:
    settings = Settings(base_url=site.url, rate=100.0)

    async def run():
        async with build_client(settings) as client:
            return await discover(
                Fetcher(client, settings, RequestPacer(100.0)), DiscoveryOptions()
            )

    found = asyncio.run(run())
    on_disk = {
        article_id("https://baolaocai.vn/" + p.name, default_site())
        for p in SITE_DIR.glob("*-post*.html")
    }
    assert set(found.articles) == on_disk
    paths = [r.path for r in site.requests]
    assert "/kinh-te/trang-2.html" in paths
    assert len(paths) == len(set(paths))  # no listing page fetched twice
