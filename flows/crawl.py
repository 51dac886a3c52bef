"""The ``crawl`` flow: discover -> skip stored -> fetch -> store raw -> parse/clean -> load.

Tasks are thin wrappers around plain functions of :mod:`scrapers`, :mod:`transforms` and
:mod:`warehouse`, and work on batches (one task run per batch, not per article: every task
run costs API round trips). The flow holds the warehouse's write lock only while a task
writes, so ``baolaocai sql`` can read in between.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from baolaocai.errors import BaoLaoCaiError, CrawlError
from baolaocai.models import CrawlSummary, FetchedPage
from baolaocai.settings import Settings, load_settings
from scrapers.discovery import Discovery, DiscoveryOutcome, discover_site
from scrapers.fetch import Fetcher, FetchStats, build_client
from scrapers.politeness import RequestPacer, RobotsRules
from transforms.pipeline import process_pages
from warehouse.db import write_connection
from warehouse.load import LoadCounts, finish_run, known_article_ids, load_batch, start_run

# A run stops early, marked failed, when this share of a window of pages failed to fetch.
ABORT_FAILURE_SHARE = 0.8
ABORT_MIN_ATTEMPTS = 10
MAX_FAILURES_SHOWN = 5


@task(name="open-run", cache_policy=NO_CACHE)
def open_run(settings: Settings, run_id: str) -> set[int]:
    """Record the run as running; return the ids of the articles already stored."""
    with write_connection(settings.db_path) as con:
        start_run(
            con,
            run_id=run_id,
            started_at=datetime.now(UTC),
            base_url=settings.base_url,
            flow_run_id=str(flow_run.id) if flow_run.id else None,
        )
        return known_article_ids(con)


@task(name="discover", cache_policy=NO_CACHE)
def discover_articles(
    settings: Settings, pacer: RequestPacer, known: set[int]
) -> tuple[DiscoveryOutcome, FetchStats]:
    async def run() -> tuple[DiscoveryOutcome, FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, pacer)
            return await discover_site(fetcher, known=known.__contains__), fetcher.stats

    return asyncio.run(run())


@task(name="fetch-batch", cache_policy=NO_CACHE)
def fetch_batch(
    settings: Settings, pacer: RequestPacer, robots: RobotsRules, urls: list[str]
) -> tuple[list[FetchedPage], FetchStats]:
    async def run() -> tuple[list[FetchedPage], FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, pacer, robots)
            return await fetcher.fetch_many(urls), fetcher.stats

    return asyncio.run(run())


@task(name="load-batch", cache_policy=NO_CACHE)
def load_pages(
    settings: Settings, run_id: str, pages: list[FetchedPage]
) -> tuple[LoadCounts, list[str]]:
    """Parse, clean and validate the pages, then store them in one transaction."""
    staged, failures = process_pages(pages)
    with write_connection(settings.db_path) as con:
        counts = load_batch(
            con,
            run_id=run_id,
            seen_at=datetime.now(UTC),
            pages=pages,
            articles=staged,
            failures=failures,
        )
    return counts, [f"{f.url}: {f.error}" for f in failures]


@task(name="close-run", cache_policy=NO_CACHE)
def close_run(settings: Settings, summary: CrawlSummary) -> None:
    with write_connection(settings.db_path) as con:
        finish_run(
            con,
            run_id=summary.run_id,
            finished_at=datetime.now(UTC),
            status=summary.status,
            counters=summary.counters(),
            error=summary.error,
        )


def _add_stats(summary: CrawlSummary, stats: FetchStats) -> None:
    summary.requests += stats.requests
    summary.retries += stats.retries
    summary.responses_429 += stats.responses_429
    summary.responses_304 += stats.responses_304
    summary.bytes_downloaded += stats.bytes


def plan_work(found: Discovery, known: set[int], max_articles: int) -> list[str]:
    """Article URLs still to fetch, in discovery order, at most ``max_articles`` (0 = all)."""
    todo = [url for aid, url in found.articles.items() if aid not in known]
    return todo[:max_articles] if max_articles else todo


@flow(name="crawl", log_prints=False, validate_parameters=True)
def crawl(
    base_url: str | None = None,
    db_path: str | None = None,
    max_articles: int | None = None,
    concurrency: int | None = None,
    rate: float | None = None,
    max_listing_pages: int | None = None,
) -> State[Any]:
    """Crawl the site once: new articles in, nothing stored touched on failure.

    Every parameter defaults to the settings (``BAOLAOCAI_*`` env vars, then defaults).
    Returns a Completed state holding the :class:`CrawlSummary` as a dict, or a Failed
    state with the reason and the same summary.
    """
    logger = get_run_logger()
    settings = load_settings().override(
        base_url=base_url,
        db_path=db_path,
        max_articles=max_articles,
        concurrency=concurrency,
        rate=rate,
        max_listing_pages=max_listing_pages,
    )
    started = time.monotonic()
    summary = CrawlSummary(run_id=uuid.uuid4().hex[:12], base_url=settings.base_url)
    known = open_run(settings, summary.run_id)
    pacer = RequestPacer(settings.rate)
    try:
        outcome, stats = discover_articles(settings, pacer, known)
        _add_stats(summary, stats)
        if outcome.error:
            raise CrawlError(outcome.error)
        found, robots = outcome.found, outcome.robots
        if robots.crawl_delay:
            pacer.set_min_interval(robots.crawl_delay)
        summary.discovered = len(found.articles)
        todo = plan_work(found, known, settings.max_articles)
        summary.already_stored = sum(1 for aid in found.articles if aid in known)
        logger.info("%d articles discovered, %d to fetch", summary.discovered, len(todo))
        attempted = 0
        for start in range(0, len(todo), settings.batch_size):
            pages, stats = fetch_batch(
                settings, pacer, robots, todo[start : start + settings.batch_size]
            )
            _add_stats(summary, stats)
            counts, failures = load_pages(settings, summary.run_id, pages)
            summary.articles_new += counts.new
            summary.articles_updated += counts.updated
            summary.articles_unchanged += counts.unchanged
            summary.articles_failed += counts.failed
            summary.failures.extend(failures[: MAX_FAILURES_SHOWN - len(summary.failures)])
            attempted += len(pages)
            fetch_failed = sum(1 for p in pages if not p.ok and p.status != 304)
            if attempted >= ABORT_MIN_ATTEMPTS and fetch_failed >= ABORT_FAILURE_SHARE * len(pages):
                raise CrawlError(
                    f"{fetch_failed} of the last {len(pages)} article fetches failed; "
                    "stopped early so as not to hammer the site"
                )
        summary.status = "completed"
    except BaoLaoCaiError as exc:
        summary.status = "failed"
        summary.error = exc.message
    except Exception as exc:  # a bug: record the run as failed, then let it surface
        summary.status = "failed"
        summary.error = f"internal error: {type(exc).__name__}: {exc}"
        summary.elapsed_s = round(time.monotonic() - started, 2)
        close_run(settings, summary)
        raise
    summary.elapsed_s = round(time.monotonic() - started, 2)
    close_run(settings, summary)
    if summary.status == "failed":
        return Failed(message=summary.error or "crawl failed", data=summary.to_dict())
    return Completed(message="crawl completed", data=summary.to_dict())
