"""The ``backfill`` flow: fill the archive back to a date, month by month.

Each month of the site's sitemap index is a sub-flow (``backfill-month``): read that
month's sitemap, skip what is stored, fetch and load the rest in batches with the same
politeness as ``crawl`` (shared pacer, robots.txt, retries). Every batch commits on its
own and a finished month is recorded in ``backfill_months``, so an interrupted backfill
resumes where it stopped: done months cost no request, a half-done month refetches only
what is missing. A site without monthly sitemaps is backfilled through category
pagination instead (the ``crawl`` flow with ``since``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from baolaocai.errors import BaoLaoCaiError
from baolaocai.models import CrawlSummary
from baolaocai.settings import Settings, load_settings
from flows.crawl import close_run, crawl, fetch_batch, load_pages, open_run, refresh_search
from flows.progress import reporter
from scrapers.archive import MonthSitemap, month_articles, month_sitemaps
from scrapers.fetch import Fetcher, FetchStats, build_client
from scrapers.politeness import RequestPacer, RobotsRules
from scrapers.urls import article_id
from warehouse.backfill import done_months, record_month
from warehouse.db import connect, write_connection
from warehouse.state import read_crawl_state

MONTH_TIMEOUT_S = 4 * 3600  # a month of ~1,000 articles takes well under an hour at 1 req/s


@dataclass
class MonthResult:
    month: str
    articles: int = 0
    already_stored: int = 0
    new: int = 0
    failed: int = 0
    requests: int = 0


@task(name="list-months", cache_policy=NO_CACHE)
def list_months(
    settings: Settings,
    pacer: RequestPacer,
    start: date,
    end: date,
) -> tuple[list[MonthSitemap], RobotsRules, FetchStats]:
    async def run() -> tuple[list[MonthSitemap], RobotsRules, FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, pacer)
            months = await month_sitemaps(fetcher, start, end)
            assert fetcher.robots is not None
            return months, fetcher.robots, fetcher.stats

    return asyncio.run(run())


@task(name="month-articles", cache_policy=NO_CACHE)
def list_month_articles(
    settings: Settings, pacer: RequestPacer, robots: RobotsRules, sitemap: MonthSitemap
) -> tuple[list[str], FetchStats]:
    async def run() -> tuple[list[str], FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, pacer, robots)
            return await month_articles(fetcher, sitemap), fetcher.stats

    return asyncio.run(run())


@task(name="done-months", cache_policy=NO_CACHE)
def read_done_months(settings: Settings) -> set[date]:
    with write_connection(settings.db_path) as con:  # creates/migrates a new warehouse
        return done_months(con)


@task(name="record-month", cache_policy=NO_CACHE)
def finish_month(settings: Settings, sitemap: MonthSitemap, result: MonthResult) -> None:
    with write_connection(settings.db_path) as con:
        record_month(
            con,
            month=sitemap.month,
            sitemap_url=sitemap.url,
            articles=result.articles,
            stored=result.already_stored + result.new,
            failed=result.failed,
            completed_at=datetime.now(UTC) if result.failed == 0 else None,
        )


@flow(
    name="backfill-month",
    flow_run_name="backfill-{sitemap.month}",
    log_prints=False,
    timeout_seconds=MONTH_TIMEOUT_S,
)
def backfill_month(
    settings: Settings, pacer: RequestPacer, robots: RobotsRules, sitemap: MonthSitemap, run_id: str
) -> MonthResult:
    """One month of the archive: its sitemap, then the articles not yet stored."""
    result = MonthResult(month=sitemap.month.isoformat())
    urls, stats = list_month_articles(settings, pacer, robots, sitemap)
    result.requests += stats.requests
    reader = connect(settings.db_path, read_only=True)
    try:
        known = read_crawl_state(reader, recheck_after=None).known_ids
    finally:
        reader.close()
    todo = [u for u in urls if article_id(u) not in known]
    result.articles, result.already_stored = len(urls), len(urls) - len(todo)
    reporter().month_started(sitemap.month, len(todo))
    for start in range(0, len(todo), settings.batch_size):
        batch = todo[start : start + settings.batch_size]
        pages, stats = fetch_batch(settings, pacer, robots, batch, {})
        result.requests += stats.requests
        loaded = load_pages(settings, run_id, pages)
        result.new += loaded.counts.new + loaded.counts.updated + loaded.counts.unchanged
        result.failed += loaded.counts.failed
        reporter().articles_done(len(batch))
    finish_month(settings, sitemap, result)
    reporter().month_done(sitemap.month)
    return result


@flow(name="backfill", log_prints=False, validate_parameters=True)
def backfill(
    date_from: date,
    date_to: date | None = None,
    base_url: str | None = None,
    db_path: str | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
) -> State[Any]:
    """Fill the archive with the articles published from ``date_from`` to ``date_to``."""
    logger = get_run_logger()
    settings = load_settings().override(
        base_url=base_url, db_path=db_path, rate=rate, concurrency=concurrency
    )
    end = date_to or datetime.now(UTC).date()
    started = time.monotonic()
    summary = CrawlSummary(run_id="backfill-" + uuid.uuid4().hex[:8], base_url=settings.base_url)
    pacer = RequestPacer(settings.rate)
    done = read_done_months(settings)
    open_run(settings, summary.run_id, None)
    months_out: list[dict[str, Any]] = []
    skipped = 0
    try:
        months, robots, stats = list_months(settings, pacer, date_from, end)
        summary.requests += stats.requests
        if not months:
            logger.warning("no monthly sitemaps; backfilling through category pagination")
            state = crawl(
                base_url=settings.base_url,
                db_path=settings.db_path,
                rate=settings.rate,
                concurrency=settings.concurrency,
                max_listing_pages=10_000,
                since=date_from,
                return_state=True,
            )
            return state
        todo = [m for m in months if m.month not in done]
        skipped = len(months) - len(todo)
        reporter().months(len(todo))
        logger.info("%d months in range, %d already done", len(months), len(months) - len(todo))
        for sitemap in todo:
            result = backfill_month(settings, pacer, robots, sitemap, summary.run_id)
            months_out.append(asdict(result))
            summary.discovered += result.articles
            summary.already_stored += result.already_stored
            summary.articles_new += result.new
            summary.articles_failed += result.failed
            summary.requests += result.requests
        summary.status = "completed"
    except BaoLaoCaiError as exc:
        summary.status, summary.error = "failed", exc.message
    if summary.articles_new:
        refresh_search(settings)
    summary.elapsed_s = round(time.monotonic() - started, 2)
    close_run(settings, summary)
    data = {**summary.to_dict(), "months": months_out, "months_skipped": skipped}
    if summary.status == "failed":
        return Failed(message=summary.error or "backfill failed", data=data)
    return Completed(message="backfill completed", data=data)
