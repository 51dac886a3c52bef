"""The layout-drift alarm in a real crawl, and reparse over stored raw pages."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import duckdb

from flows.crawl import crawl
from flows.reparse import reparse
from sitecopy import SITE_DIR, serve_site

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))


def _crawl(url: str, db_path: str) -> tuple[Any, dict[str, Any]]:
    state = crawl(base_url=url, db_path=db_path, rate=200.0, concurrency=4, return_state=True)
    return state, state.result(raise_on_failure=False)


def _redesign(root: Path) -> None:
    """The site ships a new front end: none of the known classes or furniture remain."""
    for page in root.glob("*-post*.html"):
        html = page.read_text(encoding="utf-8")
        for old, new in (
            ("article__body", "nd-content"),
            ("cms-body", "nd-text"),
            ("articleBody", "text"),
            ("__nuxt", "app"),
            ("/_nuxt/", "/assets/"),
            ("Gửi cho bạn bè", "Gửi"),
            ("Xem nhiều nhất", "Nổi bật"),
            ("Các tin khác", "Cùng chủ đề"),
        ):
            html = html.replace(old, new)
        page.write_text(html, encoding="utf-8")


def _artifact_keys() -> set[str]:
    from prefect.client.orchestration import get_client

    async def keys() -> set[str]:
        async with get_client() as client:
            return {a.key for a in await client.read_artifacts() if a.key}

    return asyncio.run(keys())


def test_a_redesigned_site_raises_the_drift_alarm(tmp_path: Path, db_path: str) -> None:
    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    _redesign(root)
    with serve_site(root) as site:
        state, summary = _crawl(site.url, db_path)
    assert state.is_completed() and state.name == "Warning"
    assert summary["status"] == "warning"
    assert summary["records_fallback"] == N_ARTICLES
    assert "layout seems to have changed" in summary["warning"]
    with duckdb.connect(db_path, read_only=True) as con:
        row = con.execute("SELECT status, records_fallback, warning FROM crawl_runs").fetchone()
        methods = con.execute("SELECT DISTINCT extraction_method FROM articles").fetchall()
    assert row is not None and row[0] == "warning" and row[1] == N_ARTICLES and row[2]
    assert methods == [("density",)]
    assert {"crawl-report", "layout-drift"} <= _artifact_keys()


def test_the_unchanged_site_does_not_warn(db_path: str) -> None:
    with serve_site(SITE_DIR) as site:
        state, summary = _crawl(site.url, db_path)
    assert state.name == "Completed" and summary["warning"] is None
    assert summary["records_fallback"] == 0


def test_reparse_updates_what_the_parser_now_reads_differently(db_path: str) -> None:
    with serve_site(SITE_DIR) as site:
        _crawl(site.url, db_path)
    with duckdb.connect(db_path) as con:  # pretend an older parser stored three records
        con.execute(
            "UPDATE articles SET body = 'văn bản cũ', content_hash = 'old'"
            " WHERE article_id IN (SELECT article_id FROM articles ORDER BY 1 LIMIT 3)"
        )
        before = con.execute("SELECT article_id, last_seen_at FROM articles ORDER BY 1").fetchall()
        revisions_before = con.execute("SELECT count(*) FROM article_revisions").fetchone()
    result = reparse(db_path=db_path)
    assert (result["pages"], result["changed"], result["unchanged"]) == (
        N_ARTICLES,
        3,
        N_ARTICLES - 3,
    )
    with duckdb.connect(db_path, read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM articles WHERE body = 'văn bản cũ'"
        ).fetchone() == (0,)
        after = con.execute("SELECT article_id, last_seen_at FROM articles ORDER BY 1").fetchall()
        revisions = con.execute("SELECT count(*) FROM article_revisions").fetchone()
        versions = con.execute("SELECT max(version) FROM articles").fetchone()
    assert after == before  # reparse did not pretend to have seen the site
    assert revisions is not None and revisions_before is not None
    assert revisions[0] == revisions_before[0] + 3 and versions == (2,)
    again = reparse(db_path=db_path)
    assert again["changed"] == 0  # idempotent
