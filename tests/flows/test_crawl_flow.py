"""The crawl flow end to end: real Prefect, real HTTP on loopback, a real DuckDB file."""

from __future__ import annotations

from typing import Any

import duckdb

from flows.crawl import crawl
from sitecopy import SITE_DIR, SiteServer
from warehouse.search import search

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))
TABLES = ("articles", "article_images", "article_revisions", "raw_pages")


def _run(site_url: str, db_path: str, **params: Any) -> tuple[str, dict[str, Any]]:
    state = crawl(
        base_url=site_url, db_path=db_path, rate=200.0, concurrency=4, return_state=True, **params
    )
    return state.type.value, state.result(raise_on_failure=False)


def _counts(db_path: str) -> dict[str, int]:
    with duckdb.connect(db_path, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]


def test_crawl_loads_every_article_then_is_idempotent(site: SiteServer, db_path: str) -> None:
    state, summary = _run(site.url, db_path)
    assert state == "COMPLETED", summary
    assert summary["discovered"] == N_ARTICLES
    assert summary["articles_new"] == N_ARTICLES and summary["articles_failed"] == 0
    first = _counts(db_path)
    assert first["articles"] == N_ARTICLES and first["article_images"] > 10
    article_requests = [r for r in site.requests if "-post" in r.path]
    assert len(article_requests) == N_ARTICLES  # each article fetched exactly once

    site.requests.clear()
    state, summary = _run(site.url, db_path)
    assert state == "COMPLETED"
    assert summary["articles_new"] == 0 and summary["already_stored"] == N_ARTICLES
    assert _counts(db_path) == first
    assert not [r for r in site.requests if "-post" in r.path]  # nothing refetched
    with duckdb.connect(db_path, read_only=True) as con:
        runs = con.execute(
            "SELECT status, articles_new FROM crawl_runs ORDER BY started_at"
        ).fetchall()
        assert runs == [("completed", N_ARTICLES), ("completed", 0)]
        sample = con.execute(
            "SELECT count(*) FROM articles WHERE body LIKE '%Gửi cho bạn bè%'"
            " OR body LIKE '%Xem nhiều nhất%' OR body LIKE '%Tin liên quan%'"
        ).fetchone()
        assert sample == (0,)
        # The crawl refreshed the full-text index: accent-free queries find Vietnamese text.
        hits = search(con, "bac ha")
        assert hits and "Bắc Hà" in (hits[0].title or "")


def test_max_articles_limits_the_run(site: SiteServer, db_path: str) -> None:
    state, summary = _run(site.url, db_path, max_articles=5)
    assert state == "COMPLETED" and summary["articles_new"] == 5
    assert _counts(db_path)["articles"] == 5


def test_unreachable_site_fails_cleanly_and_keeps_stored_rows(
    site: SiteServer, db_path: str
) -> None:
    _run(site.url, db_path, max_articles=3)
    before = _counts(db_path)
    site.stop()  # nothing listens on that port any more
    state, summary = _run(site.url, db_path)
    assert state == "FAILED"
    assert summary["status"] == "failed" and "could not be reached" in summary["error"]
    assert _counts(db_path) == before
    with duckdb.connect(db_path, read_only=True) as con:
        last = con.execute(
            "SELECT status, error FROM crawl_runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert last is not None and last[0] == "failed" and "could not be reached" in last[1]
