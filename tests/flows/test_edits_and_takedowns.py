"""Every edit, every takedown, judged from the server's log, on a generated copy of the
site with faults on (503s, 429s with Retry-After, resets) and dates older than today."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.crawl import crawl
from sitecopy import SiteServer, serve_site
from sitecopy.faults import RESET, FaultPlan, status
from sitecopy.generate import GeneratedArticle, make_articles, write_site

ARTICLES = make_articles(45, seed=11)
FIRST, NEW = ARTICLES[:40], ARTICLES[40:]
EDITED = [FIRST[2], FIRST[9], FIRST[17]]  # old articles, far outside any recent window
TAKEN_DOWN = [FIRST[5], FIRST[12]]
RETRY_AFTER_S = 1.0
ON_THE_WIRE_S = 0.05  # a request the client had sent before the 429 reached it


def faults(**scripted: list[Any]) -> FaultPlan:
    return FaultPlan(
        {re.escape(k): v for k, v in scripted.items()},
        seed=5,
        random_faults=[
            (status(503), 0.04),
            (status(429, Retry_After=str(int(RETRY_AFTER_S))), 0.04),
            (RESET, 0.03),
        ],
        max_per_path=1,
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, SiteServer]]:
    root = tmp_path / "site"
    write_site(root, FIRST, per_page=8)
    with serve_site(root) as server:
        server.override = faults()
        yield root, server


def run(server: SiteServer, db: str) -> dict[str, Any]:
    state = crawl(base_url=server.url, db_path=db, rate=100.0, concurrency=2, return_state=True)
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, dict)
    assert summary["status"] == "completed", summary
    return summary


def article_requests(server: SiteServer) -> list[Any]:
    return [r for r in server.requests if "-post" in r.path]


def query(db: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def assert_retry_after_obeyed(server: SiteServer) -> None:
    log = sorted(server.requests, key=lambda r: r.started)
    for answer in (r for r in log if r.status == 429):
        too_early = [
            r.path
            for r in log
            if answer.finished + ON_THE_WIRE_S < r.started < answer.finished + RETRY_AFTER_S
        ]
        assert not too_early, f"requests within Retry-After of a 429 on {answer.path}: {too_early}"


def bump_sitemap_lastmod(root: Path, articles: list[GeneratedArticle]) -> None:
    """A real CMS moves a monthly sitemap's <lastmod> when an entry leaves it."""
    index = root / "sitemap.xml"
    text = index.read_text(encoding="utf-8")
    for a in articles:
        month = f"{a.published_at:%Y-%m}"
        text = re.sub(
            rf"(<loc>[^<]*/sitemaps/{month}\.xml</loc>\s*<lastmod>)[^<]*",
            r"\g<1>2026-11-30T10:00:00+07:00",
            text,
        )
    index.write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_new_edited_unchanged_and_taken_down(site: tuple[Path, SiteServer], tmp_path: Path) -> None:
    root, server = site
    db = str(tmp_path / "w.duckdb")

    first = run(server, db)
    assert first["articles_new"] == len(FIRST) and first["articles_failed"] == 0
    assert_retry_after_obeyed(server)

    # 5 new articles; 3 old ones edited (new paragraph text, later dateModified, later
    # <lastmod> in their monthly sitemap, new ETag and Last-Modified), nothing else.
    write_site(root, FIRST + NEW, per_page=8, revisions={a.article_id: 1 for a in EDITED})
    server.requests.clear()
    second = run(server, db)
    assert second["articles_new"] == len(NEW)
    assert second["articles_updated"] == len(EDITED)
    assert second["relisted"] == len(EDITED)
    fetched = {r.path for r in article_requests(server)}
    assert fetched == {a.path for a in NEW + EDITED}
    for r in article_requests(server):
        if r.path in {a.path for a in EDITED}:
            assert "If-None-Match" in r.headers and "If-Modified-Since" in r.headers
    versions = query(
        db,
        "SELECT article_id, version, modified_at > published_at FROM articles"
        f" WHERE article_id IN ({', '.join(str(a.article_id) for a in EDITED)})"
        " ORDER BY article_id",
    )
    assert versions == [(a.article_id, 2, True) for a in EDITED]
    assert_retry_after_obeyed(server)

    # Nothing changed: no article page is fetched.
    server.requests.clear()
    third = run(server, db)
    assert third["articles_new"] == third["articles_updated"] == third["rechecked"] == 0
    assert article_requests(server) == []

    # Two articles taken down: 410, gone from listings and from their monthly sitemaps.
    remaining = [a for a in FIRST + NEW if a not in TAKEN_DOWN]
    write_site(root, remaining, per_page=8, revisions={a.article_id: 1 for a in EDITED})
    bump_sitemap_lastmod(root, TAKEN_DOWN)
    server.override = faults(**{a.path: [status(410)] * 5 for a in TAKEN_DOWN})
    server.requests.clear()
    fourth = run(server, db)
    assert fourth["unlisted"] == len(TAKEN_DOWN) and fourth["removed"] == len(TAKEN_DOWN)
    removed = query(db, "SELECT article_id, url FROM removed_articles ORDER BY article_id")
    assert removed == [(a.article_id, a.url) for a in TAKEN_DOWN]
    kept = query(
        db,
        "SELECT count(*) FROM articles a JOIN article_revisions r USING (article_id)"
        f" WHERE a.article_id IN ({', '.join(str(a.article_id) for a in TAKEN_DOWN)})",
    )
    assert kept == [(len(TAKEN_DOWN),)]  # rows and versions are still there
    assert query(db, "SELECT count(*) FROM articles") == [(len(FIRST + NEW),)]

    # And the next run leaves them alone.
    server.requests.clear()
    run(server, db)
    assert not {r.path for r in article_requests(server)} & {a.path for a in TAKEN_DOWN}
