"""A crawl's batches are pipelined (issue #21): batch N+1 is fetched while batch N is
parsed, archived and loaded, and every guarantee of the batch-after-batch crawl holds:
the same stored rows, the pacer's schedule across batch boundaries, a failure or an
interrupt that stops the run at once with nothing half-written, and nothing lost.

Orderings are proved with recorded events (a load that waits for the server to see the
next batch's request would wait forever if fetching waited for the load), never with
durations."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pacing import RecordingPacer, assert_arrivals_keep_the_schedule

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from pipeline.crawl import crawl_into, crawl_site
from pipeline.run import Run
from pipeline.steps import PLAIN_STEPS, BatchResult, load_pages
from scrapers.discovery import DiscoveryOptions
from sitecopy import SiteServer, serve_site
from sitecopy.generate import make_articles, write_site

ARTICLES = 30
BATCH = 5
WAIT_S = 30.0
"""How long a load waits for the next batch's first request before the test fails (it
comes within milliseconds when fetching runs ahead; never when it does not)."""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    root = tmp_path / "site"
    write_site(root, make_articles(ARTICLES, seed=11))
    with serve_site(root) as server:
        yield server


def settings_for(site: SiteServer, db: str, **more: Any) -> Settings:
    values: dict[str, Any] = {"rate": 200.0, "concurrency": 4, "batch_size": BATCH, **more}
    return Settings(base_url=site.url, db_path=db, **values)


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def article_requests(site: SiteServer) -> list[str]:
    return [r.path for r in site.requests if "-post" in r.path]


def test_the_next_batch_is_fetched_while_a_batch_is_loaded(site: SiteServer, db_path: str) -> None:
    """Each load but the last waits, before it stores anything, for the server to see a
    request for an article of a later batch: with batches fetched one after the other
    that request would never come and the wait would fail."""
    handed: set[str] = set()
    seen_ahead: list[bool] = []

    def load_waiting_for_the_next_batch(*args: Any, **kwargs: Any) -> BatchResult:
        pages: list[FetchedPage] = args[4]
        handed.update(p.url.split("/")[-1] for p in pages)
        if len(handed) < ARTICLES:
            until = time.monotonic() + WAIT_S
            while time.monotonic() < until:
                if any(path.lstrip("/") not in handed for path in article_requests(site)):
                    break
                time.sleep(0.005)
            seen_ahead.append(
                any(path.lstrip("/") not in handed for path in article_requests(site))
            )
        return load_pages(*args, **kwargs)

    run = crawl_site(
        settings_for(site, db_path),
        steps=replace(PLAIN_STEPS, load_pages=load_waiting_for_the_next_batch),
    )
    assert run.summary.status == "completed", run.summary.error
    assert seen_ahead == [True] * (ARTICLES // BATCH - 1)
    # The same rows as ever: every article once, each with its capture in the archive.
    assert run.summary.articles_new == ARTICLES
    assert rows(db_path, "SELECT count(*), count(DISTINCT url) FROM articles") == [
        (ARTICLES, ARTICLES)
    ]
    assert rows(db_path, "SELECT count(DISTINCT url) FROM captures") == [(ARTICLES,)]
    assert sorted(article_requests(site)) == sorted(set(article_requests(site)))


def test_the_pacer_schedule_holds_across_batch_boundaries(site: SiteServer, db_path: str) -> None:
    """Every request of the run, discovery and all batches, took its own start slot one
    interval apart, and none reached the site before its slot (see tests/pacing.py)."""
    settings = settings_for(site, db_path, rate=40.0, concurrency=2)
    pacer = RecordingPacer(settings.rate)
    run = Run(settings, "crawl")
    run.pacer = pacer
    options = DiscoveryOptions(
        max_listing_pages=settings.max_listing_pages, listing_margin=settings.listing_margin
    )
    run.execute(lambda r: crawl_into(r, options))
    assert run.summary.status == "completed", run.summary.error
    assert run.summary.articles_new == ARTICLES
    arrivals = [r.started for r in site.requests]
    assert_arrivals_keep_the_schedule(arrivals, pacer, pacer.interval)


def test_a_failure_while_loading_fails_the_run_and_sends_nothing_more(
    site: SiteServer, db_path: str
) -> None:
    loads = 0

    def broken_second_load(*args: Any, **kwargs: Any) -> BatchResult:
        nonlocal loads
        loads += 1
        if loads == 2:
            raise RuntimeError("a bug in the second batch")
        return load_pages(*args, **kwargs)

    with pytest.raises(RuntimeError, match="a bug in the second batch"):
        crawl_site(
            settings_for(site, db_path), steps=replace(PLAIN_STEPS, load_pages=broken_second_load)
        )
    status, error = rows(db_path, "SELECT status, error FROM crawl_runs")[0]
    assert status == "failed" and "a bug in the second batch" in error
    assert rows(db_path, "SELECT count(*) FROM articles") == [(BATCH,)]  # batch 1 only
    # At most the batch being fetched ahead (the third) was sent; the stream was
    # cancelled with the run: nothing is asked of the site afterwards.
    sent = len(article_requests(site))
    assert BATCH * 2 <= sent <= BATCH * 3
    assert not [t for t in threading.enumerate() if t.name == "baolaocai-http"]
    time.sleep(0.2)
    assert len(article_requests(site)) == sent


def test_an_interrupt_mid_pipeline_loses_nothing_and_the_next_run_completes(
    site: SiteServer, db_path: str
) -> None:
    """Ctrl-C while batch 2 is being loaded (batch 3 being fetched): the run is marked
    interrupted, batch 1 stays committed, batch 2 and what was fetched ahead were never
    written; the next run stores exactly the rest, each article once."""
    loads = 0

    def interrupted_second_load(*args: Any, **kwargs: Any) -> BatchResult:
        nonlocal loads
        loads += 1
        if loads == 2:
            raise KeyboardInterrupt
        return load_pages(*args, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        crawl_site(
            settings_for(site, db_path),
            steps=replace(PLAIN_STEPS, load_pages=interrupted_second_load),
        )
    assert rows(db_path, "SELECT status FROM crawl_runs") == [("interrupted",)]
    assert rows(db_path, "SELECT count(*) FROM articles") == [(BATCH,)]
    assert not [t for t in threading.enumerate() if t.name == "baolaocai-http"]

    again = crawl_site(settings_for(site, db_path))
    assert again.summary.status == "completed", again.summary.error
    assert again.summary.articles_new == ARTICLES - BATCH
    assert rows(db_path, "SELECT count(*), count(DISTINCT url) FROM articles") == [
        (ARTICLES, ARTICLES)
    ]
    # Every stored article's page is in the archive (archive before index).
    assert rows(
        db_path,
        "SELECT count(*) FROM articles a WHERE NOT EXISTS"
        " (SELECT 1 FROM captures c WHERE c.url = a.url)",
    ) == [(0,)]
