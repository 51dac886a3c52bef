"""A takedown is data, not a failure: a stored article that answers 404/410 counts once,
as removed, while a URL never stored that answers 404 stays a failure (and is parked).
Judged on a copy of the site served on 127.0.0.1, with the plain steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from baolaocai.settings import Settings
from pipeline.crawl import crawl_site
from sitecopy import SITE_DIR, SiteServer

ARTICLE_FILES = sorted(p.name for p in SITE_DIR.glob("*-post*.html"))
TAKEN_DOWN = next(n for n in ARTICLE_FILES if n.endswith("post904118.html"))
NEVER_SERVED = "bai-viet-khong-ton-tai-post909998.html"


def settings_for(site: SiteServer, db: str, **more: Any) -> Settings:
    return Settings(base_url=site.url, db_path=db, rate=200.0, concurrency=4, **more)


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_takedown_counts_as_removed_and_a_never_stored_404_as_failed(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    first = crawl_site(settings_for(served, db_path))
    assert first.summary.articles_new == len(ARTICLE_FILES)

    # One stored article taken down; the home page now links a page the site never served.
    (site_copy / TAKEN_DOWN).unlink()
    home = site_copy / "index.html"
    home.write_text(
        home.read_text(encoding="utf-8").replace(
            "<body>", f'<body><a href="/{NEVER_SERVED}">Bài không có</a>', 1
        ),
        encoding="utf-8",
    )
    # Every stored article is rechecked (conditionally), however recently seen.
    again = crawl_site(settings_for(served, db_path, recheck_days=36500, recheck_interval_h=0))
    s = again.summary
    assert s.status == "completed", s.error
    counted = {
        "rechecked": s.rechecked,
        "articles_new": s.articles_new,
        "articles_updated": s.articles_updated,
        "articles_unchanged": s.articles_unchanged,
        "articles_failed": s.articles_failed,
        "gone": s.gone,
        "removed": s.removed,
    }
    assert counted == {
        "rechecked": len(ARTICLE_FILES),
        "articles_new": 0,
        "articles_updated": 0,
        "articles_unchanged": len(ARTICLE_FILES) - 1,
        "articles_failed": 1,  # the page never stored, not the takedown
        "gone": 2,  # both answered 404
        "removed": 1,
    }
    assert s.failures == [f"https://baolaocai.vn/{NEVER_SERVED}: HTTP 404"]
    assert rows(db_path, "SELECT url FROM removed_articles") == [
        (f"https://baolaocai.vn/{TAKEN_DOWN}",)
    ]
    recorded = rows(
        db_path,
        f"SELECT articles_failed, gone, removed FROM crawl_runs WHERE run_id = '{again.run_id}'",
    )
    assert recorded == [(1, 2, 1)]
