"""A second paper end to end: the bundled copy of Báo Núi Mây (nuimay.vn, an invented
sister paper on the same CMS with other URL forms) crawled with the plain pipeline and
its own site file — new articles, a rerun that fetches nothing, an edit, a takedown, and
not one address of baolaocai.vn anywhere in the warehouse or the web archive."""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.settings import Settings
from baolaocai.site import Site, load_site
from pipeline.crawl import crawl_site
from pipeline.run import Run
from sitecopy import SiteServer, copy_dir, serve_site
from sitecopy.faults import FaultPlan, status
from sitecopy.generate import BUNDLE, NUIMAY, GeneratedArticle, write_site
from warehouse.session import warc_dir

pytestmark = pytest.mark.slow

ARTICLES = BUNDLE.articles(NUIMAY)
EDITED = ARTICLES[4]  # an old one: found through its monthly sitemap's <lastmod>
TAKEN_DOWN = ARTICLES[7]
ARTICLE_PATH_RE = re.compile(r"-b\d+\.htm(?:\?|$)")


@pytest.fixture
def site() -> Site:
    return load_site("nuimay")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, SiteServer]]:
    """The bundled copy, served from a scratch folder the test may rewrite."""
    root = tmp_path / "nuimay"
    shutil.copytree(copy_dir("nuimay"), root)
    with serve_site(root) as server:
        yield root, server


def crawl(site: Site, server: SiteServer, db: str) -> Run:
    settings = Settings(site=site, base_url=server.url, db_path=db, rate=50.0, concurrency=2)
    run = crawl_site(settings)
    assert run.summary.status == "completed", run.summary
    return run


def rows(db: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def article_requests(server: SiteServer) -> list[str]:
    return [r.path for r in server.requests if ARTICLE_PATH_RE.search(r.path)]


def bump_sitemap_lastmod(root: Path, a: GeneratedArticle) -> None:
    """A real CMS moves a monthly sitemap's <lastmod> when an entry leaves it."""
    index = root / NUIMAY.sitemap_index_path.lstrip("/")
    loc = re.escape(NUIMAY.url(NUIMAY.month_sitemap_path_of(f"{a.published_at:%Y-%m}")))
    text, n = re.subn(
        rf"(<loc>{loc}</loc>\s*<lastmod>)[^<]*",
        r"\g<1>2025-04-30T10:00:00+07:00",
        index.read_text(encoding="utf-8"),
    )
    assert n == 1
    index.write_text(text, encoding="utf-8")


def url_columns(db: str) -> list[tuple[str, str]]:
    """``(table, column)`` of every table and view column that holds a URL."""
    return [
        (t, c)
        for t, c in rows(
            db,
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_catalog = current_database() AND column_name ILIKE '%url%'",
        )
    ]


def test_the_sister_paper_is_archived_as_itself(
    site: Site, served: tuple[Path, SiteServer], tmp_path: Path
) -> None:
    root, server = served
    db = str(tmp_path / "nuimay.duckdb")

    # Every article in, with its id, its own title (no " - Báo Núi Mây"), its section,
    # its sapo without the "NM - " dateline.
    first = crawl(site, server, db)
    assert first.summary.articles_new == len(ARTICLES)
    assert first.summary.articles_failed == 0
    stored = rows(db, "SELECT article_id, url, title, category, sapo FROM articles ORDER BY 1")
    assert stored == [(a.article_id, a.url, a.title, a.category, a.sapo) for a in ARTICLES]
    assert not any(
        t.endswith(NUIMAY.title_suffix) or s.startswith(f"{NUIMAY.dateline} -")
        for _, _, t, _, s in stored
    )
    assert rows(db, "SELECT count(*) FROM articles WHERE url NOT LIKE 'https://nuimay.vn/%'") == [
        (0,)
    ]
    # Listings, pagers and tag pages were walked or ignored, never stored as articles.
    assert not rows(db, "SELECT url FROM articles WHERE url LIKE '%/chuyen-trang/%'")
    assert not rows(db, "SELECT url FROM articles WHERE url LIKE '%/chu-de/%'")

    # Nothing changed: no article page is fetched again.
    server.requests.clear()
    again = crawl(site, server, db)
    assert again.summary.articles_new == again.summary.articles_updated == 0
    assert article_requests(server) == []

    # One article edited (a changed copy written by the generator): one new version.
    revisions = {EDITED.article_id: 1}
    write_site(root, ARTICLES, per_page=BUNDLE.per_page, revisions=revisions)
    server.requests.clear()
    edited = crawl(site, server, db)
    assert edited.summary.articles_new == 0 and edited.summary.articles_updated == 1
    assert article_requests(server) == [EDITED.path]
    assert rows(db, "SELECT article_id, version FROM articles WHERE version > 1") == [
        (EDITED.article_id, 2)
    ]

    # One article taken down: 410, gone from the listings and its monthly sitemap.
    remaining = [a for a in ARTICLES if a is not TAKEN_DOWN]
    write_site(root, remaining, per_page=BUNDLE.per_page, revisions=revisions)
    bump_sitemap_lastmod(root, TAKEN_DOWN)
    server.override = FaultPlan({re.escape(TAKEN_DOWN.path): [status(410)] * 5})
    server.requests.clear()
    gone = crawl(site, server, db)
    assert gone.summary.removed == 1
    assert rows(db, "SELECT article_id FROM articles WHERE removed_at IS NOT NULL") == [
        (TAKEN_DOWN.article_id,)
    ]
    assert rows(db, "SELECT article_id, url FROM removed_articles") == [
        (TAKEN_DOWN.article_id, TAKEN_DOWN.url)
    ]
    assert rows(db, "SELECT count(*) FROM articles") == [(len(ARTICLES),)]

    # Not one address of the other paper: in no URL column, in no WARC file.
    columns = url_columns(db)
    assert ("articles", "url") in columns
    for table, column in columns:
        found = rows(
            db,
            f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}"'
            f" WHERE CAST(\"{column}\" AS VARCHAR) ILIKE '%baolaocai%' LIMIT 3",
        )
        assert found == [], f"{table}.{column}: {found}"
    warcs = sorted(warc_dir(db).glob("*.warc.gz"))
    assert warcs
    for warc in warcs:
        data = gzip.decompress(warc.read_bytes())
        assert b"nuimay" in data or b"127.0.0.1" in data
        assert b"baolaocai.vn" not in data, warc.name
