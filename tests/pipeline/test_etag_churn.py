"""A page whose validators change at every request while its body stays the same is not
archived again: each recheck adds a small WARC revisit record (and a ``captures`` row of
``record_type`` 'revisit') naming its one response, no version; its new ``ETag`` is
remembered for the next conditional request. Judged on a copy of the site served on
127.0.0.1 (``sitecopy.faults.churn``), with the plain steps."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.settings import Settings
from pipeline.crawl import crawl_site
from sitecopy import SITE_DIR, SiteServer, serve_site
from sitecopy.faults import FaultPlan, churn
from warehouse.session import warc_dir
from warehouse.warc import iter_captures

ARTICLE_FILES = sorted(p.name for p in SITE_DIR.glob("*-post*.html"))
CHURNING = next(n for n in ARTICLE_FILES if n.endswith("post902277.html"))
URL = f"https://baolaocai.vn/{CHURNING}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[SiteServer]:
    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    with serve_site(root) as server:
        server.override = FaultPlan({re.escape(f"/{CHURNING}"): [churn()] * 10})
        yield server


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_page_whose_etag_churns_is_captured_once(served: SiteServer, db_path: str) -> None:
    # Every stored article is rechecked at every run, however recently seen.
    settings = Settings(
        base_url=served.url,
        db_path=db_path,
        rate=200.0,
        concurrency=4,
        recheck_days=36500,
        recheck_interval_h=0,
    )
    answered: list[str] = []  # the ETag the page was served with, run by run
    asked: list[str | None] = []  # the ETag each run's request for it carried
    for _ in range(3):
        served.requests.clear()
        run = crawl_site(settings)
        assert run.summary.status == "completed", run.summary.error
        (request,) = [r for r in served.requests if r.path == f"/{CHURNING}"]
        assert request.status == 200  # never a 304: the ETag is new every time
        answered.append(request.response_headers["ETag"])
        asked.append(request.headers.get("If-None-Match"))
    assert len(set(answered)) == 3
    # Each rerun asked with the ETag of the run before: the new one was remembered.
    assert asked == [None, answered[0], answered[1]]
    assert rows(db_path, f"SELECT etag FROM raw_pages WHERE url = '{URL}'") == [(answered[2],)]
    assert run.summary.articles_unchanged == len(ARTICLE_FILES)

    # One response, one version; each recheck is a revisit record naming it (the page
    # with its new ETag; the others answered 304); nothing was archived twice.
    assert rows(
        db_path,
        f"SELECT list(record_type ORDER BY fetched_at), list(DISTINCT status) FROM captures"
        f" WHERE url = '{URL}'",
    ) == [(["response", "revisit", "revisit"], [200])]
    assert rows(db_path, "SELECT record_type, count(*) FROM captures GROUP BY 1 ORDER BY 1") == [
        ("response", len(ARTICLE_FILES)),
        ("revisit", 2 * len(ARTICLE_FILES)),
    ]
    records = [c.url for c in iter_captures(warc_dir(db_path))]
    assert records.count(URL) == 1 and len(records) == len(ARTICLE_FILES)
    assert rows(db_path, "SELECT count(*) FROM article_revisions WHERE article_id = 902277") == [
        (1,)
    ]
    assert rows(db_path, "SELECT version FROM articles WHERE article_id = 902277") == [(1,)]
    # The stored page still points at its one capture, and reads back.
    pointer = rows(
        db_path,
        "SELECT r.record_id = c.record_id FROM raw_pages r JOIN captures c USING (site, url)"
        f" WHERE r.url = '{URL}' AND c.record_type = 'response'",
    )
    assert pointer == [(True,)]
