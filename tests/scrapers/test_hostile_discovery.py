"""Bounded discovery: a hostile home page (thousands of section-like links), deep
listings or a slow site cost a bounded number of requests and a bounded time, and every
cap reached is a one-line note in ``Discovery.capped``. Request counts come from the
server's own log."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from baolaocai.identity import article_id
from baolaocai.settings import Settings
from baolaocai.site import default_site
from scrapers.discovery import (
    MAX_FEEDS,
    Discovery,
    DiscoveryOptions,
    DiscoveryOutcome,
    discover_site,
    extract_links,
)
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SITE_DIR, serve_site
from sitecopy.faults import FaultPlan, hang, slow
from sitecopy.generate import make_articles, write_site

REAL_SECTIONS = ("/thoi-su/", "/kinh-te/", "/van-hoa-du-lich/", "/xa-hoi/", "/bien-gioi/")
SECTION_RE = r"^/(thoi-su|kinh-te|van-hoa-du-lich|xa-hoi|bien-gioi)/"
BUNDLED_ARTICLES = 22


def hostile_copy(root: Path, extra_links: str, head: str = "") -> Path:
    """The bundled site with ``extra_links`` added to the home page's menu."""
    shutil.copytree(SITE_DIR, root)
    index = root / "index.html"
    html = index.read_text(encoding="utf-8")
    html = html.replace("   </ul>\n  </nav>", f"{extra_links}   </ul>\n  </nav>", 1)
    html = html.replace("</head>", f"{head}</head>", 1)
    index.write_text(html, encoding="utf-8")
    return root


def run(
    url: str, options: DiscoveryOptions | None = None, **overrides: object
) -> tuple[DiscoveryOutcome, float]:
    settings = Settings(base_url=url, rate=500.0, **overrides)  # type: ignore[arg-type]

    async def go() -> DiscoveryOutcome:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(settings.rate))
            return await discover_site(
                fetcher, options or DiscoveryOptions(), known=lambda _id: False
            )

    started = time.monotonic()
    outcome = asyncio.run(go())
    return outcome, time.monotonic() - started


def section_requests(paths: list[str]) -> list[str]:
    return [p for p in paths if p not in ("/robots.txt", "/sitemap.xml", "/", "/rss/home.rss")]


def test_a_link_with_a_query_string_is_not_a_section_and_paths_are_deduplicated() -> None:
    html = (
        '<nav><a href="/thoi-su/?s=1">a</a><a href="/thoi-su/?s=2">b</a>'
        '<a href="/kinh-te">c</a><a href="/kinh-te/">d</a><a href="/kinh-te/?page=3">e</a>'
        '<a href="/xa-hoi/">f</a></nav>'
    )
    links = extract_links(html, "https://baolaocai.vn/", default_site())
    assert links.sections == ["https://baolaocai.vn/kinh-te", "https://baolaocai.vn/xa-hoi/"]


def test_3000_query_string_section_links_cost_no_request(tmp_path: Path) -> None:
    junk = "".join(f'<li><a href="/thoi-su/?s={n}">Thời sự {n}</a></li>\n' for n in range(3000))
    root = hostile_copy(tmp_path / "site", junk + '<li><a href="/thoi-su">Thời sự</a></li>\n')
    with serve_site(root) as site:
        outcome, _ = run(site.url)
        paths = [r.path for r in site.requests]
    found = outcome.found
    assert outcome.error is None and len(found.articles) == BUNDLED_ARTICLES
    assert not any("?s=" in p for p in paths)
    # robots, sitemap, home, feed, then 5 sections of 2 listing pages each.
    assert sorted(section_requests(paths)) == sorted(
        [s for s in REAL_SECTIONS] + [f"{s}trang-2.html" for s in REAL_SECTIONS]
    )
    assert len(paths) == 4 + 10 and found.capped == []


@pytest.fixture(scope="module")
def many_sections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled site whose menu also links 3,000 sections that do not exist (404)."""
    junk = "".join(f'<li><a href="/muc-{n}/">Mục {n}</a></li>\n' for n in range(3000))
    feeds = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="/rss/feed-{n}.rss">\n'
        for n in range(7)
    )
    return hostile_copy(tmp_path_factory.mktemp("hostile") / "site", junk, feeds)


def test_3000_sections_are_capped_and_the_cap_is_noted(many_sections: Path) -> None:
    with serve_site(many_sections) as site:
        outcome, _ = run(site.url)
        paths = [r.path for r in site.requests]
    found = outcome.found
    assert outcome.error is None and len(found.articles) == BUNDLED_ARTICLES
    listings = [p for p in section_requests(paths) if not p.startswith("/rss/")]
    # The 5 real sections (2 pages each) come first in the menu, then 35 of the others.
    assert len(listings) == 5 * 2 + 35
    assert sum(p.startswith("/muc-") for p in listings) == 35
    assert found.capped == [
        f"feeds: {MAX_FEEDS} of 8 read (the most per run)",
        "sections: 40 of 3005 walked (BAOLAOCAI_MAX_SECTIONS)",
    ]
    assert len(paths) == 3 + MAX_FEEDS + 45  # robots, sitemap, home; feeds; listings


def test_the_listing_pages_of_a_run_are_capped(many_sections: Path) -> None:
    with serve_site(many_sections) as site:
        outcome, _ = run(site.url, max_listing_requests=7)
        listings = [
            p for p in section_requests([r.path for r in site.requests]) if "/rss/" not in p
        ]
    assert len(listings) == 7
    assert outcome.found.capped[-1] == (
        "listing pages: 7 requested, the most per run (BAOLAOCAI_MAX_LISTING_REQUESTS);"
        " stopped in section 4 of 40"
    )
    # The bounds can also be set per walk (a backfill raises them).
    with serve_site(many_sections) as site:
        outcome, _ = run(site.url, DiscoveryOptions(max_sections=2), max_listing_requests=7)
        listings = [
            p for p in section_requests([r.path for r in site.requests]) if "/rss/" not in p
        ]
    assert listings == ["/thoi-su/", "/thoi-su/trang-2.html", "/kinh-te/", "/kinh-te/trang-2.html"]
    assert "sections: 2 of 3005 walked (BAOLAOCAI_MAX_SECTIONS)" in outcome.found.capped


def test_the_discovery_deadline_stops_the_walk_and_keeps_what_was_found() -> None:
    with serve_site(SITE_DIR) as site:
        site.override = FaultPlan({SECTION_RE: [slow(0.4)] * 20})
        outcome, elapsed = run(site.url, discovery_deadline=1.0)
        listings = section_requests([r.path for r in site.requests])
    found = outcome.found
    assert outcome.error is None
    assert 1 <= len(listings) <= 4  # not all 10 listing pages of 0.4 s
    assert elapsed < 20.0  # a liveness bound, not a speed target (about 1 s)
    assert found.sources["sitemap"] == BUNDLED_ARTICLES  # found before the deadline: kept
    [note] = found.capped
    assert note.startswith(
        "discovery: stopped at the 1 s deadline (BAOLAOCAI_DISCOVERY_DEADLINE) while reading"
        " section listings (section "
    )
    assert note.endswith(f"of 5); the {BUNDLED_ARTICLES} articles found by then are kept")


def test_the_discovery_deadline_abandons_a_hanging_request() -> None:
    with serve_site(SITE_DIR) as site:
        site.override = FaultPlan({r"^/thoi-su/$": [hang(60.0)]})
        outcome, elapsed = run(site.url, discovery_deadline=1.0, read_timeout=30.0)
    # Neither the 30 s read timeout nor the 60 s hang: a liveness bound with room for a busy
    # machine (it takes about 1 s), not a speed target.
    assert outcome.error is None and elapsed < 20.0
    assert outcome.found.capped[-1].startswith("discovery: stopped at the 1 s deadline")


def test_nothing_answering_before_the_deadline_fails_with_the_reason() -> None:
    with serve_site(SITE_DIR) as site:
        site.override = FaultPlan({r"^/sitemap\.xml$": [hang(60.0)]})
        outcome, elapsed = run(site.url, discovery_deadline=0.5, read_timeout=30.0)
    assert elapsed < 20.0  # not the read timeout or the hang; a liveness bound (about 0.5 s)
    assert outcome.error == (
        f"no discovery source of {site.url} answered within the 0.5 s deadline"
        " (BAOLAOCAI_DISCOVERY_DEADLINE)"
    )


def test_sitemaps_left_for_later_runs_are_noted(tmp_path: Path) -> None:
    write_site(tmp_path, make_articles(60, seed=7), per_page=4)
    with serve_site(tmp_path) as site:
        outcome, _ = run(site.url, DiscoveryOptions(max_sitemaps=3, max_listing_pages=1))
    found: Discovery = outcome.found
    months = len(list((tmp_path / "sitemaps").glob("*.xml")))
    assert f"sitemaps: 3 read, the most per run; {months - 2} more listed, left for later runs" in (
        found.capped
    )


def test_a_listing_page_with_10000_article_links_is_read_to_the_cap(tmp_path: Path) -> None:
    """A section page listing 10,000 articles (a trap, or a template gone wrong): the
    first ``max_links_per_page`` links are read, the rest counted in one note."""
    root = hostile_copy(tmp_path / "site", "")
    page = root / "kinh-te" / "index.html"
    html = page.read_text(encoding="utf-8")
    flood = "".join(
        f'<li><a href="/bai-bay-{n}-post{5_000_000 + n}.html">Bài {n}</a></li>'
        for n in range(10_000)
    )
    page.write_text(html.replace("</body>", f"<ul>{flood}</ul></body>", 1), encoding="utf-8")
    with serve_site(root) as site:
        outcome, _ = run(site.url, max_links_per_page=500)
    found = outcome.found
    trapped = [i for i in found.articles if i >= 5_000_000]
    assert len(trapped) == 500 - len(_listed_before_flood(html))
    assert set(found.articles) >= _bundled_ids()  # the sitemap and home still give them
    assert [n for n in found.capped if n.startswith("links:")] == [
        f"links: 1 listing page linked more than 500 articles; {10_000 - len(trapped):,}"
        " past the cap were not taken (BAOLAOCAI_MAX_LINKS_PER_PAGE)"
    ]


def _listed_before_flood(html: str) -> set[int]:
    return {
        i
        for u in extract_links(html, "https://baolaocai.vn/kinh-te/", default_site()).articles
        if (i := article_id(u, default_site())) is not None
    }


def _bundled_ids() -> set[int]:
    return {
        i
        for p in SITE_DIR.glob("*-post*.html")
        if (i := article_id("https://baolaocai.vn/" + p.name, default_site())) is not None
    }
