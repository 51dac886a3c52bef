"""Incremental, change-aware and fault-tolerant crawling, judged from the server's log."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.crawl import crawl
from sitecopy import SITE_DIR, SiteServer
from sitecopy.faults import RESET, FaultPlan, status

ARTICLE_FILES = sorted(p.name for p in SITE_DIR.glob("*-post*.html"))
EDITED = next(n for n in ARTICLE_FILES if n.endswith("post902277.html"))
GONE = next(n for n in ARTICLE_FILES if n.endswith("post904118.html"))


def run(site: SiteServer, db_path: str, **params: Any) -> dict[str, Any]:
    params.setdefault("rate", 200.0)
    params.setdefault("concurrency", 4)
    state = crawl(base_url=site.url, db_path=db_path, return_state=True, **params)
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, dict)
    return summary


def article_requests(site: SiteServer) -> list[str]:
    return [r.path for r in site.requests if "-post" in r.path]


def query(db_path: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db_path, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_second_run_with_nothing_new_fetches_no_article(served: SiteServer, db_path: str) -> None:
    first = run(served, db_path)
    assert first["articles_new"] == len(ARTICLE_FILES)
    served.requests.clear()
    second = run(served, db_path)  # default recheck window: 3 days, none that recent
    assert second["articles_new"] == 0 and second["rechecked"] == 0
    assert article_requests(served) == []


def test_edits_are_caught_by_conditional_rechecks(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    run(served, db_path)
    page = site_copy / EDITED
    html = page.read_text(encoding="utf-8")
    edited = re.sub(r"(<p>)([^<]{40})", r"\1Bản cập nhật: \2", html, count=1)
    assert edited != html
    page.write_text(edited, encoding="utf-8")
    served.requests.clear()

    # recheck every stored article, however recently seen
    summary = run(served, db_path, recheck_days=36500, recheck_interval_h=0)
    assert summary["rechecked"] == len(ARTICLE_FILES)
    assert summary["articles_updated"] == 1
    assert summary["articles_unchanged"] == len(ARTICLE_FILES) - 1
    rechecks = [r for r in served.requests if "-post" in r.path]
    assert all("If-None-Match" in r.headers for r in rechecks)
    assert sorted(r.status for r in rechecks).count(200) == 1
    assert [r.status for r in rechecks].count(304) == len(ARTICLE_FILES) - 1
    # The sitemap, unchanged, was asked for conditionally as well.
    assert summary["responses_304"] == len(ARTICLE_FILES) - 1 + sum(
        1 for r in served.requests if r.path == "/sitemap.xml" and r.status == 304
    )
    rows = query(
        db_path,
        "SELECT version, body LIKE 'Bản cập nhật:%' FROM articles WHERE article_id = 902277",
    )
    assert rows == [(2, True)]
    revisions = query(
        db_path, "SELECT version FROM article_revisions WHERE article_id = 902277 ORDER BY version"
    )
    assert revisions == [(1,), (2,)]


def test_new_articles_between_runs_are_found(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    run(served, db_path)
    source = (site_copy / ARTICLE_FILES[0]).read_text(encoding="utf-8")
    new_name = "bai-moi-ve-le-hoi-hoa-dao-post909999.html"
    (site_copy / new_name).write_text(
        re.sub(r"[a-z0-9-]+-post\d+\.html", new_name, source), encoding="utf-8"
    )
    home = site_copy / "index.html"
    home.write_text(
        home.read_text(encoding="utf-8").replace(
            "<body>", f'<body><a href="/{new_name}?utm_source=test">Bài mới</a>', 1
        ),
        encoding="utf-8",
    )
    served.requests.clear()
    summary = run(served, db_path)
    assert summary["articles_new"] == 1
    assert article_requests(served) == [f"/{new_name}"]
    assert query(db_path, "SELECT count(*) FROM articles WHERE article_id = 909999") == [(1,)]


def test_gone_articles_are_not_refetched_until_asked(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    (site_copy / GONE).unlink()
    summary = run(served, db_path)
    assert summary["gone"] == 1 and summary["articles_new"] == len(ARTICLE_FILES) - 1
    errors = query(db_path, "SELECT status, stage FROM open_fetch_errors")
    assert errors == [(404, "fetch")]
    served.requests.clear()
    run(served, db_path)
    assert f"/{GONE}" not in article_requests(served)

    shutil.copy(SITE_DIR / GONE, site_copy / GONE)  # the page is back
    served.requests.clear()
    summary = run(served, db_path, retry_failed=True)
    assert summary["retried_failures"] == 1 and summary["articles_new"] == 1
    assert article_requests(served) == [f"/{GONE}"]
    assert query(db_path, "SELECT count(*) FROM open_fetch_errors") == [(0,)]


def test_faults_cost_retries_not_articles(served: SiteServer, db_path: str) -> None:
    served.override = FaultPlan(
        {
            r"post9022": [status(503), status(503)],
            r"post9047": [status(429, Retry_After="1")],
            r"post9001": [RESET],
            r"^/kinh-te/$": [status(500)] * 10,  # one listing keeps failing
        },
    )
    summary = run(served, db_path)
    assert summary["status"] == "completed"
    stored = query(db_path, "SELECT count(*) FROM articles")[0][0]
    # Every article is still found (sitemap and home cover the failed listing) and stored.
    assert stored == len(ARTICLE_FILES) and summary["articles_failed"] == 0
    assert summary["retries"] >= 4 and summary["responses_429"] == 1
    failures = query(db_path, "SELECT url, stage, status FROM fetch_errors")
    assert failures == [("https://baolaocai.vn/kinh-te/", "discover", 500)]


def test_robots_disallow_is_obeyed_in_a_crawl(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    blocked = ARTICLE_FILES[3]
    robots = site_copy / "robots.txt"
    robots.write_text(
        robots.read_text(encoding="utf-8").replace(
            "Disallow: /admin/", f"Disallow: /admin/\nDisallow: /{blocked}"
        ),
        encoding="utf-8",
    )
    summary = run(served, db_path)
    assert f"/{blocked}" not in [r.path for r in served.requests]
    assert summary["articles_new"] == len(ARTICLE_FILES) - 1


def test_politeness_from_the_servers_point_of_view(served: SiteServer, db_path: str) -> None:
    run(served, db_path, rate=20.0, concurrency=2, max_articles=8)
    starts = sorted(r.started for r in served.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 20 requests/second at most, every task of the run included. The server notes a
    # request when its handler thread starts: on a busy machine one may be noted some
    # 30 ms late, which shortens the next gap by as much. So one gap may be short, but
    # no run of five requests may come faster than the rate.
    assert min(gaps) >= 0.015
    assert all(b - a >= 4 * 0.045 for a, b in zip(starts, starts[4:], strict=False))
    assert max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts) <= 20
    assert served.max_in_flight <= 2
    assert all(r.user_agent.startswith("baolaocai-archiver/") for r in served.requests)
    assert served.requests[0].path == "/robots.txt"


def test_a_run_of_mostly_failures_stops_early(
    served: SiteServer, db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAOLAOCAI_RETRIES", "0")
    monkeypatch.setenv("BAOLAOCAI_BATCH_SIZE", "10")
    served.override = FaultPlan({r"-post\d+\.html": [status(503)] * 100})
    summary = run(served, db_path)
    assert summary["status"] == "failed" and "stopped early" in summary["error"]
    assert len(article_requests(served)) == 10  # one batch, then it stopped
    assert query(db_path, "SELECT status, articles_failed FROM crawl_runs") == [("failed", 10)]
    assert query(db_path, "SELECT count(*) FROM open_fetch_errors WHERE status = 503") == [(10,)]
