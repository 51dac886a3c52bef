"""The synthetic site generator: deterministic, complete, and read back exactly by the parser."""

from __future__ import annotations

import asyncio
import itertools
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from baolaocai.settings import Settings
from baolaocai.site import default_site
from scrapers.discovery import (
    DiscoveryOptions,
    DiscoveryOutcome,
    discover_site,
    extract_links,
    parse_feed,
    parse_sitemap,
)
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import serve_site
from sitecopy.generate import (
    CATEGORIES,
    GeneratedArticle,
    make_articles,
    modified_at,
    render_article,
    revised_paragraphs,
    write_site,
)
from transforms.parse import parse_article

CATEGORY_SLUGS = {slug for slug, _ in CATEGORIES}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
IMAGE_RE = re.compile(r"^https://cdn\.baolaocai\.vn/images/[0-9a-f]{64}/[a-z0-9-]+-[1-3]\.jpg$")


def _read(root: Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


# -- (1) make_articles ------------------------------------------------------------------------


def test_make_articles_is_deterministic_and_ordered() -> None:
    first = make_articles(30, seed=1)
    assert first == make_articles(30, seed=1)
    assert first != make_articles(30, seed=2)
    assert len(first) == 30

    ids = [a.article_id for a in first]
    gaps = [b - a for a, b in itertools.pairwise(ids)]
    assert ids[0] == 910000
    assert all(1 <= g <= 50 for g in gaps)
    assert any(g > 1 for g in gaps)  # not contiguous
    times = [a.published_at for a in first]
    assert all(a < b for a, b in itertools.pairwise(times))
    assert date(2023, 1, 1) <= times[0].date() and times[-1].date() <= date(2026, 11, 20)
    assert all(t.utcoffset() == timedelta(hours=7) for t in times)


def test_generated_fields_look_like_the_site() -> None:
    articles = make_articles(300, seed=4)
    names = dict(CATEGORIES)
    for a in articles:
        assert a.category_slug in CATEGORY_SLUGS and a.category == names[a.category_slug]
        assert SLUG_RE.match(a.slug) and a.path == f"/{a.slug}-post{a.article_id}.html"
        assert 8 <= len(a.title.split()) <= 16
        assert 4 <= len(a.paragraphs) <= 9 and 0 <= len(a.images) <= 3 and len(a.tags) <= 4
        assert len(set(a.tags)) == len(a.tags)
        assert all(IMAGE_RE.match(src) for src, _ in a.images)
        for text in (a.title, a.sapo, *a.paragraphs):
            assert text == unicodedata.normalize("NFC", text)
    body = sum(len("\n\n".join(a.paragraphs)) for a in articles) / len(articles)
    assert 1800 <= body <= 3200
    assert {a.category_slug for a in articles} == CATEGORY_SLUGS
    assert 0.05 < sum(a.author is None for a in articles) / len(articles) < 0.3
    captions = [c for a in articles for _, c in a.images]
    assert 0.05 < captions.count(None) / len(captions) < 0.35


def test_dates_are_spread_over_the_range() -> None:
    articles = make_articles(100, seed=3, start=date(2024, 1, 1), end=date(2024, 12, 31))
    assert articles[0].published_at.date() == date(2024, 1, 1)
    assert articles[-1].published_at.date() >= date(2024, 12, 30)
    months = {a.published_at.month for a in articles}
    assert months == set(range(1, 13))


# -- (2) write_site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GeneratedArticle]]:
    root = tmp_path_factory.mktemp("gen") / "site"
    articles = make_articles(80, seed=9, start=date(2026, 1, 1), end=date(2026, 6, 30))
    write_site(root, articles, per_page=5, revisions={articles[0].article_id: 3})
    return root, articles


def test_write_site_writes_every_file(site: tuple[Path, list[GeneratedArticle]]) -> None:
    root, articles = site
    for rel in ("index.html", "robots.txt", "sitemap.xml", "rss/home.rss"):
        assert (root / rel).is_file(), rel
    for a in articles:
        assert (root / a.path.lstrip("/")).is_file()
    for slug in CATEGORY_SLUGS:
        count = sum(a.category_slug == slug for a in articles)
        pages = -(-count // 5)
        assert pages >= 2
        assert (root / slug / "index.html").is_file()
        assert (root / slug / f"trang-{pages}.html").is_file()
        assert not (root / slug / f"trang-{pages + 1}.html").exists()
        for page in range(2, pages + 1):
            assert (root / slug / f"trang-{page}.html").is_file()
    robots = _read(root, "robots.txt")
    assert "User-agent: *" in robots and "Disallow: /admin/" in robots
    assert "Sitemap: https://baolaocai.vn/sitemap.xml" in robots


def test_home_and_category_pages(site: tuple[Path, list[GeneratedArticle]]) -> None:
    root, articles = site
    home = extract_links(_read(root, "index.html"), "https://baolaocai.vn/", default_site())
    newest = sorted(articles, key=lambda a: a.published_at, reverse=True)
    assert home.articles == [a.url for a in newest[:20]]
    assert {f"https://baolaocai.vn/{s}/" for s in CATEGORY_SLUGS} <= set(home.sections)

    for slug in CATEGORY_SLUGS:
        listed: list[str] = []
        page, url = 1, f"https://baolaocai.vn/{slug}/"
        path = root / slug / "index.html"
        while True:
            html = path.read_text(encoding="utf-8")
            assert '<div class="pagination">' in html
            links = extract_links(html, url, default_site())
            stories = BeautifulSoup(html, "lxml").select(".category__list a.cms-link")
            assert 1 <= len(stories) <= 5
            listed += [extract_links(str(s), url, default_site()).articles[0] for s in stories]
            nxt = re.search(r'<a href="([^"]+)" rel="next">', html)
            if page > 1:
                assert 'rel="prev"' in html
            if nxt is None:
                break
            page += 1
            assert nxt.group(1) == f"/{slug}/trang-{page}.html"
            assert f"https://baolaocai.vn/{slug}/trang-{page}.html" in links.next_pages
            url, path = "https://baolaocai.vn" + nxt.group(1), root / slug / f"trang-{page}.html"
        assert listed == [a.url for a in newest if a.category_slug == slug]  # newest first


def test_sitemap_index_children_and_feed(site: tuple[Path, list[GeneratedArticle]]) -> None:
    root, articles = site
    children, pages = parse_sitemap(_read(root, "sitemap.xml"))
    assert pages == [] and children
    revisions = {articles[0].article_id: 3}
    seen: list[str] = []
    for child in children:
        month = re.fullmatch(r"https://baolaocai\.vn/sitemaps/(\d{4}-\d{2})\.xml", child.loc)
        assert month, child.loc
        sub_children, urls = parse_sitemap(_read(root, f"sitemaps/{month.group(1)}.xml"))
        assert sub_children == [] and urls
        in_month = {
            a.url: modified_at(a, revisions.get(a.article_id, 0))
            for a in articles
            if f"{a.published_at:%Y-%m}" == month.group(1)
        }
        assert {u.loc: u.lastmod for u in urls} == in_month
        assert child.lastmod == max(in_month.values())
        seen += [u.loc for u in urls]
    assert sorted(seen) == sorted(a.url for a in articles)

    feed = parse_feed(_read(root, "rss/home.rss"))
    newest = sorted(articles, key=lambda a: a.published_at, reverse=True)[:20]
    assert [(e.loc, e.lastmod) for e in feed] == [(a.url, a.published_at) for a in newest]
    assert "+0700</pubDate>" in _read(root, "rss/home.rss")


def test_the_crawler_discovers_every_generated_article(
    site: tuple[Path, list[GeneratedArticle]],
) -> None:
    root, articles = site
    with serve_site(root) as server:
        settings = Settings(base_url=server.url, rate=200.0)

        async def run() -> DiscoveryOutcome:
            async with build_client(settings) as client:
                fetcher = Fetcher(client, settings, RequestPacer(200.0))
                return await discover_site(fetcher, DiscoveryOptions(), known=lambda _id: False)

        outcome = asyncio.run(run())
        paths = [r.path for r in server.requests]
    assert outcome.error is None and not outcome.found.errors
    assert set(outcome.found.articles) == {a.article_id for a in articles}
    assert outcome.found.sources.get("sitemap") == len(articles)  # robots -> index -> months
    assert "/sitemaps/2026-03.xml" in paths and "/kinh-te/trang-2.html" in paths


# -- (3) the parser reads back what was generated ----------------------------------------------


def _sample(articles: list[GeneratedArticle]) -> list[GeneratedArticle]:
    """Ten articles covering the edge cases: no author, uncaptioned picture, no picture,
    three pictures, no tags, an in-body related box (ids divisible by 3)."""
    picks: list[GeneratedArticle] = []
    predicates = [
        lambda a: a.author is None,
        lambda a: any(c is None for _, c in a.images),
        lambda a: not a.images,
        lambda a: len(a.images) == 3,
        lambda a: not a.tags,
        lambda a: a.article_id % 3 == 0,
        lambda a: len(a.paragraphs) == 9,
        lambda a: len(a.paragraphs) == 4,
    ]
    for pred in predicates:
        picks.append(next(a for a in articles if pred(a) and a not in picks))
    picks += [a for a in articles if a not in picks][: 10 - len(picks)]
    return picks


SAMPLE_INDEXES = range(10)


@pytest.mark.parametrize("i", SAMPLE_INDEXES)
def test_parser_reads_back_the_generated_article(
    site: tuple[Path, list[GeneratedArticle]], i: int
) -> None:
    root, articles = site
    a = _sample(articles[1:])[i]  # articles[0] carries a revision
    html = _read(root, a.path.lstrip("/"))
    got = parse_article(html, a.url)
    assert got.extraction_method == "epi"
    assert got.url == a.url and got.article_id == a.article_id
    assert got.title == a.title
    assert got.sapo == a.sapo
    assert got.body == "\n\n".join(a.paragraphs)
    assert got.author == a.author
    assert got.published_at == a.published_at
    assert got.modified_at == a.published_at
    assert got.category == a.category
    assert got.tags == a.tags
    assert tuple((img.src, img.caption) for img in got.images) == a.images
    assert got.source is None
    # Without the URL, the page's canonical link gives it.
    assert parse_article(html).article_id == a.article_id


def test_render_article_alone_matches_the_parser() -> None:
    for a in make_articles(12, seed=21):
        got = parse_article(render_article(a))
        assert (got.title, got.body, got.author) == (a.title, "\n\n".join(a.paragraphs), a.author)
        assert render_article(a) == render_article(a)


# -- (4) revisions ------------------------------------------------------------------------------


def test_a_revision_changes_the_body_only() -> None:
    a = make_articles(5, seed=8)[2]
    before = parse_article(render_article(a), a.url)
    after = parse_article(render_article(a, revision=2), a.url)
    assert after.body != before.body
    assert after.body == "\n\n".join(revised_paragraphs(a, 2))
    assert after.body.startswith(before.body)
    assert (after.title, after.article_id, after.url) == (before.title, before.article_id, a.url)
    assert (after.sapo, after.author, after.tags, after.images) == (
        before.sapo,
        before.author,
        before.tags,
        before.images,
    )
    assert after.published_at == before.published_at == a.published_at
    assert after.modified_at == a.published_at + timedelta(hours=2)


def test_write_site_applies_revisions(site: tuple[Path, list[GeneratedArticle]]) -> None:
    root, articles = site
    a = articles[0]
    got = parse_article(_read(root, a.path.lstrip("/")), a.url)
    assert got.body == "\n\n".join(revised_paragraphs(a, 3)) != "\n\n".join(a.paragraphs)
    assert got.modified_at == a.published_at + timedelta(hours=3)
