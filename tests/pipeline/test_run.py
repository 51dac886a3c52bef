"""The rules of a run, without Prefect: the same compositions the flows run, driven with
the plain steps against a real loopback site and a real DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from baolaocai.site import default_site
from pipeline.crawl import backfill_archive, crawl_site, reparse_archive
from pipeline.run import Run, decide_status, failure_stop, process_alive
from sitecopy import SITE_DIR, SiteServer, serve_site
from sitecopy.faults import FaultPlan, status
from sitecopy.generate import make_articles, write_site
from transforms.quality import QualityReport
from warehouse.db import write_connection
from warehouse.load import start_run
from warehouse.state import RecheckPolicy, mark_interrupted_runs

N_BUNDLED = len(list(SITE_DIR.glob("*-post*.html")))


def settings_for(site: SiteServer, db: str, **more: Any) -> Settings:
    return Settings(base_url=site.url, db_path=db, rate=200.0, concurrency=4, **more)


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def page(url: str, *, transient: bool) -> FetchedPage:
    now = datetime.now(UTC)
    if transient:
        return FetchedPage(url, url, 503, now, None, error="HTTP 503", transient=True)
    return FetchedPage(url, url, 200, now, "<html></html>")


# -- pure rules -------------------------------------------------------------------------------


def test_the_failure_stop_needs_enough_attempts_and_a_large_share() -> None:
    def batch(bad: int, good: int) -> list[FetchedPage]:
        return [page(f"u{i}", transient=True) for i in range(bad)] + [
            page(f"v{i}", transient=False) for i in range(good)
        ]

    assert failure_stop(batch(9, 0)) is None  # too few attempts to judge
    assert failure_stop(batch(7, 3)) is None  # 70 %
    reason = failure_stop(batch(8, 2))
    assert reason is not None and "8 of the last 10" in reason


def test_status_is_decided_in_one_place() -> None:
    ok, drifted = QualityReport(records=10), QualityReport(records=10, degraded=5)
    assert decide_status(None, False, ok, 0.2) == ("completed", None)
    assert decide_status("boom", False, drifted, 0.2) == ("failed", None)
    assert decide_status("stopped", True, ok, 0.2) == ("interrupted", None)
    status_, warning = decide_status(None, False, drifted, 0.2)
    assert status_ == "warning" and warning is not None and "layout" in warning


def test_revisit_budget_is_a_share_with_a_floor_and_a_cap() -> None:
    policy = RecheckPolicy(revisit_share=0.02, revisit_max=200)
    assert policy.revisit_budget(0) == 0
    assert policy.revisit_budget(10) == 1
    assert policy.revisit_budget(5_000) == 100
    assert policy.revisit_budget(500_000) == 200
    assert RecheckPolicy(revisit_share=0).revisit_budget(1000) == 0


def test_only_runs_whose_process_is_dead_are_marked_interrupted(db_path: str) -> None:
    now = datetime.now(UTC)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with write_connection(db_path) as con:
        for run_id, pid, host, started in (
            ("alive", os.getpid(), "here", now),
            ("dead", dead.pid, "here", now),
            ("elsewhere-recent", 1, "there", now),
            ("elsewhere-old", 1, "there", now - timedelta(days=2)),
        ):
            start_run(
                con,
                site=default_site(),
                run_id=run_id,
                started_at=started,
                base_url="x",
                flow_run_id=None,
                pid=pid,
                host=host,
            )
        marked = mark_interrupted_runs(
            con, now=now, except_run="new", host="here", alive=process_alive
        )
        statuses = dict(con.execute("SELECT run_id, status FROM crawl_runs").fetchall())
    assert marked == 2
    assert statuses == {
        "alive": "running",
        "dead": "interrupted",
        "elsewhere-recent": "running",
        "elsewhere-old": "interrupted",
    }


def test_the_run_logic_imports_no_prefect() -> None:
    code = (
        "import sys, pipeline.crawl, pipeline.run, pipeline.steps;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


# -- whole runs, plain steps ------------------------------------------------------------------


@pytest.fixture
def bundled() -> Iterator[SiteServer]:
    with serve_site(SITE_DIR) as server:
        yield server


def test_a_crawl_without_prefect_loads_records_and_closes_its_run(
    bundled: SiteServer, db_path: str
) -> None:
    run = crawl_site(settings_for(bundled, db_path))
    assert run.summary.status == "completed" and run.summary.articles_new == N_BUNDLED
    assert rows(db_path, "SELECT status, kind, articles_new, pid FROM crawl_runs") == [
        ("completed", "crawl", N_BUNDLED, os.getpid())
    ]
    again = crawl_site(settings_for(bundled, db_path))
    assert again.summary.articles_new == 0 and again.summary.rechecked == 0


def test_a_failing_site_stops_the_run_and_the_row_says_why(
    bundled: SiteServer, db_path: str
) -> None:
    bundled.override = FaultPlan({r"-post\d+\.html": [status(503)] * 100})
    run = crawl_site(settings_for(bundled, db_path, retries=0, batch_size=10))
    assert run.summary.status == "failed" and "stopped early" in (run.summary.error or "")
    assert rows(db_path, "SELECT status, articles_failed FROM crawl_runs") == [("failed", 10)]


def test_a_bug_in_a_step_closes_the_run_as_failed_then_surfaces(
    bundled: SiteServer, db_path: str
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    from dataclasses import replace

    from pipeline.steps import PLAIN_STEPS

    with pytest.raises(RuntimeError, match="a bug"):
        crawl_site(settings_for(bundled, db_path), steps=replace(PLAIN_STEPS, load_pages=broken))
    status_, error = rows(db_path, "SELECT status, error FROM crawl_runs")[0]
    assert status_ == "failed" and "RuntimeError: a bug" in error


def test_an_interrupt_is_recorded_as_interrupted(bundled: SiteServer, db_path: str) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    from dataclasses import replace

    from pipeline.steps import PLAIN_STEPS

    with pytest.raises(KeyboardInterrupt):
        crawl_site(
            settings_for(bundled, db_path), steps=replace(PLAIN_STEPS, fetch_batch=interrupted)
        )
    assert rows(db_path, "SELECT status FROM crawl_runs") == [("interrupted",)]


def test_backfill_without_monthly_sitemaps_records_its_own_run(
    bundled: SiteServer, db_path: str
) -> None:
    """The bundled site has one flat sitemap, no monthly ones: the backfill walks the
    categories in its own run, which ends completed with the articles it stored."""
    run = backfill_archive(settings_for(bundled, db_path), date(2020, 1, 1), date(2026, 12, 31))
    assert run.extra.get("fallback") == "category pagination"
    assert rows(db_path, "SELECT kind, status, articles_new FROM crawl_runs") == [
        ("backfill", "completed", N_BUNDLED)
    ]


def test_backfill_by_month_then_reparse(tmp_path: Path, db_path: str) -> None:
    root = tmp_path / "site"
    articles = make_articles(30, seed=3, start=date(2024, 1, 1), end=date(2024, 6, 30))
    write_site(root, articles, per_page=5)
    with serve_site(root) as server:
        run = backfill_archive(settings_for(server, db_path), date(2024, 3, 1), date(2024, 4, 30))
    in_range = [
        a for a in articles if date(2024, 3, 1) <= a.published_at.date() <= date(2024, 4, 30)
    ]
    assert run.summary.status == "completed" and run.summary.articles_new == len(in_range)
    assert [m["month"] for m in run.extra["months"]] == ["2024-03-01", "2024-04-01"]
    listed = rows(db_path, "SELECT count(*) FROM articles WHERE listed_lastmod IS NOT NULL")
    assert listed == [(len(in_range),)]

    again = reparse_archive(Settings(db_path=db_path), batch_size=7)
    assert again.extra["pages"] == len(in_range) and again.summary.articles_updated == 0
    kinds = rows(db_path, "SELECT kind, status FROM crawl_runs ORDER BY started_at")
    assert kinds == [("backfill", "completed"), ("reparse", "completed")]


def test_a_run_object_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError):
        Run(Settings(), "harvest")


def test_a_page_that_cannot_be_read_costs_one_attempt_not_one_per_run(
    tmp_path: Path, db_path: str
) -> None:
    import shutil

    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    poison = sorted(root.glob("*-post*.html"))[0]
    poison.write_text("<html><head></head><body><div></div></body></html>", encoding="utf-8")
    path = "/" + poison.name
    with serve_site(root) as server:
        first = crawl_site(settings_for(server, db_path))
        assert first.summary.articles_failed == 1 and first.summary.status == "completed"
        stage = rows(db_path, "SELECT stage FROM open_fetch_errors")
        assert stage in ([("parse",)], [("validate",)])
        server.requests.clear()
        crawl_site(settings_for(server, db_path))
        assert path not in [r.path for r in server.requests]
        server.requests.clear()
        retried = crawl_site(settings_for(server, db_path), retry_failed=True)
        assert [r.path for r in server.requests].count(path) == 1
        assert retried.summary.retried_failures == 1


def test_a_run_past_its_deadline_stops_between_batches_and_says_why(
    bundled: SiteServer, db_path: str
) -> None:
    run = crawl_site(settings_for(bundled, db_path, run_deadline=0.001, batch_size=5))
    assert run.summary.status == "failed"
    assert "deadline" in (run.summary.error or "") and "BAOLAOCAI_RUN_DEADLINE" in run.summary.error
    assert run.summary.articles_new == 5  # the first batch is stored, then it stopped


def test_articles_are_fetched_before_the_listings_are_walked(
    bundled: SiteServer, db_path: str
) -> None:
    """Round 1 (sitemaps, home page, feeds) is fetched before round 2 (listings) starts,
    so a site with endless listings still yields its articles."""
    run = crawl_site(settings_for(bundled, db_path))
    assert run.summary.articles_new == N_BUNDLED
    paths = [r.path for r in sorted(bundled.requests, key=lambda r: r.started)]
    first_article = next(i for i, p in enumerate(paths) if "-post" in p)
    listings = [
        i for i, p in enumerate(paths) if "/trang-" in p or (p.count("/") == 2 and p != "/")
    ]
    assert listings and first_article < max(listings)


def test_a_backfill_has_no_run_deadline(bundled: SiteServer, db_path: str) -> None:
    run = backfill_archive(
        settings_for(bundled, db_path, run_deadline=0.001, batch_size=5),
        date(2020, 1, 1),
        date(2026, 12, 31),
    )
    assert run.summary.status == "completed" and run.summary.articles_new == N_BUNDLED


def test_a_page_without_a_category_takes_its_listings_section_recorded_as_such(
    bundled: SiteServer, db_path: str
) -> None:
    """The 2023 layout names no category; the section listing that linked the article
    does. Fetched before the listings were walked or after, the article gets the
    section's name, marked 'listing'; a second crawl neither loses it nor makes a new
    version of the article for it."""
    crawl_site(settings_for(bundled, db_path))
    by_source = dict(
        rows(
            db_path,
            "SELECT coalesce(category_source, 'none'), count(*) FROM articles GROUP BY ALL",
        )
    )
    assert by_source == {"page": N_BUNDLED - 6, "listing": 6}
    listed = rows(
        db_path,
        "SELECT article_id, category FROM articles WHERE category_source = 'listing'"
        " ORDER BY article_id",
    )
    assert all(category for _, category in listed)
    # Every stored article is fetched again (all "fresh"), this time found by the sitemap.
    again = crawl_site(settings_for(bundled, db_path, recheck_days=36500, recheck_interval_h=0))
    assert again.summary.status == "completed" and again.summary.rechecked > 0
    assert again.summary.articles_updated == 0
    assert (
        rows(
            db_path,
            "SELECT article_id, category FROM articles WHERE category_source = 'listing'"
            " ORDER BY article_id",
        )
        == listed
    )


def test_a_reparse_tells_the_kind_of_rows_stored_before_it_was_recorded(
    bundled: SiteServer, db_path: str
) -> None:
    """Rows of a warehouse migrated to 007 have no page_kind; a reparse reads it (and the
    reader) without making a new version of any unchanged article."""
    crawl_site(settings_for(bundled, db_path))
    with duckdb.connect(db_path) as con:
        con.execute("UPDATE articles SET page_kind = NULL, extraction_method = NULL")
    again = reparse_archive(Settings(db_path=db_path))
    assert again.summary.articles_updated == 0
    assert rows(db_path, "SELECT count(*) FROM articles WHERE page_kind IS NULL") == [(0,)]
    assert rows(db_path, "SELECT DISTINCT page_kind FROM articles") == [("article",)]
    assert rows(db_path, "SELECT max(version) FROM articles") == [(1,)]
