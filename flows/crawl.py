"""The ``crawl`` flow: discover -> plan -> fetch -> store raw -> parse/clean -> load.

Tasks are thin wrappers around plain functions of :mod:`scrapers`, :mod:`transforms` and
:mod:`warehouse`, and work on batches (one task run per batch, not per article: every task
run costs API round trips). The flow holds the warehouse's write lock only while a task
writes, so ``baolaocai sql`` can read in between. The incremental model is described in
:mod:`warehouse.state`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from baolaocai.errors import BaoLaoCaiError, CrawlError
from baolaocai.models import CrawlState, CrawlSummary, Failure, FetchedPage
from baolaocai.settings import Settings, load_settings
from pipeline.report import drift_report, run_report
from scrapers.discovery import DiscoveryOptions, DiscoveryOutcome, discover_site
from scrapers.fetch import Fetcher, FetchStats, build_client
from scrapers.plan import plan_work
from scrapers.politeness import RequestPacer, RobotsRules
from transforms.dates import SITE_TZ
from transforms.pipeline import process_pages
from transforms.quality import QualityReport, assess, drift_warning
from warehouse.db import write_connection
from warehouse.load import LoadCounts, finish_run, load_batch, record_failures, start_run
from warehouse.search import refresh_search_index
from warehouse.state import GONE_STATUSES, mark_interrupted_runs, read_crawl_state

# A run stops early, marked failed, when this share of a batch of pages failed to fetch.
ABORT_FAILURE_SHARE = 0.8
ABORT_MIN_ATTEMPTS = 10
MAX_FAILURES_SHOWN = 5
# A run that takes longer is stuck: Prefect fails it (the next scheduled run goes on).
CRAWL_TIMEOUT_S = 6 * 3600
# Child sitemaps older than the last completed run (minus this slack) are not re-read.
SITEMAP_SLACK = timedelta(days=1)


@task(name="open-run", cache_policy=NO_CACHE)
def open_run(settings: Settings, run_id: str, recheck_after: datetime | None) -> CrawlState:
    """Record the run as running; return what the warehouse knows."""
    now = datetime.now(UTC)
    with write_connection(settings.db_path) as con:
        mark_interrupted_runs(con, now=now, except_run=run_id)
        start_run(
            con,
            run_id=run_id,
            started_at=now,
            base_url=settings.base_url,
            flow_run_id=str(flow_run.id) if flow_run.id else None,
        )
        return read_crawl_state(con, recheck_after=recheck_after)


@task(name="discover", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30)
def discover_articles(
    settings: Settings, pacer: RequestPacer, known: frozenset[int], options: DiscoveryOptions
) -> tuple[DiscoveryOutcome, FetchStats]:
    async def run() -> tuple[DiscoveryOutcome, FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, pacer)
            outcome = await discover_site(fetcher, options, known=known.__contains__)
            return outcome, fetcher.stats

    return asyncio.run(run())


@task(name="fetch-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[10, 60])
def fetch_batch(
    settings: Settings,
    pacer: RequestPacer,
    robots: RobotsRules,
    urls: list[str],
    validators: dict[str, tuple[str | None, str | None]],
) -> tuple[list[FetchedPage], FetchStats]:
    async def run() -> tuple[list[FetchedPage], FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, pacer, robots)
            return await fetcher.fetch_many(urls, validators), fetcher.stats

    return asyncio.run(run())


@dataclass
class BatchResult:
    counts: LoadCounts
    failures: list[str]
    quality: QualityReport
    changed: list[tuple[str, str, str | None, str]]
    """(kind, title, category, url) of the new and updated articles."""


@task(name="load-batch", cache_policy=NO_CACHE)
def load_pages(settings: Settings, run_id: str, pages: list[FetchedPage]) -> BatchResult:
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
    by_id = {s.article.article_id: s.article for s in staged}
    changed = [
        (kind, by_id[aid].title or "", by_id[aid].category, by_id[aid].url or "")
        for aid, kind in counts.changed
    ]
    return BatchResult(
        counts,
        [f"{f.url}: {f.error}" for f in failures],
        assess(s.article for s in staged),
        changed,
    )


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(
    summary: CrawlSummary, changed: list[tuple[str, str, str | None, str]], examples: list[str]
) -> None:
    create_markdown_artifact(
        key="crawl-report",
        markdown=run_report(summary, changed),
        description=f"crawl {summary.run_id}: {summary.status}",
    )
    if summary.warning:
        create_markdown_artifact(
            key="layout-drift",
            markdown=drift_report(summary, examples),
            description="the site's layout seems to have changed",
        )


@task(name="store-failures", cache_policy=NO_CACHE)
def store_failures(settings: Settings, run_id: str, failures: list[Failure]) -> None:
    with write_connection(settings.db_path) as con:
        record_failures(con, run_id=run_id, at=datetime.now(UTC), failures=failures)


@task(name="refresh-search-index", cache_policy=NO_CACHE)
def refresh_search(settings: Settings) -> int | None:
    """Rebuild the full-text index after a run that changed articles (never fails a run)."""
    try:
        with write_connection(settings.db_path) as con:
            return refresh_search_index(con)
    except BaoLaoCaiError as exc:
        get_run_logger().warning("search index not refreshed: %s", exc.message)
        return None


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
            warning=summary.warning,
        )


def _add_stats(summary: CrawlSummary, stats: FetchStats) -> None:
    summary.requests += stats.requests
    summary.retries += stats.retries
    summary.responses_429 += stats.responses_429
    summary.responses_304 += stats.responses_304
    summary.bytes_downloaded += stats.bytes


def _start_of(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=SITE_TZ) if day else None


@flow(name="crawl", log_prints=False, validate_parameters=True, timeout_seconds=CRAWL_TIMEOUT_S)
def crawl(
    base_url: str | None = None,
    db_path: str | None = None,
    max_articles: int | None = None,
    concurrency: int | None = None,
    rate: float | None = None,
    max_listing_pages: int | None = None,
    since: date | None = None,
    retry_failed: bool = False,
    recheck_days: float | None = None,
) -> State[Any]:
    """Crawl the site once: new articles in, recent ones rechecked, nothing lost on failure.

    Every parameter defaults to the settings (``BAOLAOCAI_*`` env vars, then defaults).
    ``since`` bounds discovery (listing pages and sitemap entries older than that day are
    not followed); ``retry_failed`` fetches again every URL with an open fetch error.
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
        recheck_days=recheck_days,
    )
    started = time.monotonic()
    summary = CrawlSummary(run_id=uuid.uuid4().hex[:12], base_url=settings.base_url)
    recheck_after = (
        datetime.now(UTC) - timedelta(days=settings.recheck_days) if settings.recheck_days else None
    )
    state = open_run(settings, summary.run_id, recheck_after)
    pacer = RequestPacer(settings.rate)
    quality = QualityReport()
    changed: list[tuple[str, str, str | None, str]] = []
    try:
        options = DiscoveryOptions(
            max_listing_pages=settings.max_listing_pages,
            listing_margin=settings.listing_margin,
            since=_start_of(since),
            sitemaps_since=(
                state.last_completed_start - SITEMAP_SLACK
                if state.last_completed_start and not retry_failed
                else None
            ),
        )
        outcome, stats = discover_articles(settings, pacer, state.known_ids, options)
        _add_stats(summary, stats)
        if outcome.found.errors:
            store_failures(settings, summary.run_id, outcome.found.errors)
        if outcome.error:
            raise CrawlError(outcome.error)
        plan = plan_work(
            outcome.found.articles,
            state,
            max_articles=settings.max_articles,
            retry_failed=retry_failed,
        )
        summary.discovered = len(outcome.found.articles)
        summary.already_stored = plan.already_stored
        summary.rechecked = len(plan.recheck)
        summary.retried_failures = len(plan.retry)
        logger.info(
            "%d articles discovered; fetching %d new, %d retries, %d rechecks",
            summary.discovered,
            len(plan.new),
            len(plan.retry),
            len(plan.recheck),
        )
        for batch in plan.batches(settings.batch_size):
            validators = {u: plan.validators[u] for u in batch if u in plan.validators}
            pages, stats = fetch_batch(settings, pacer, outcome.robots, batch, validators)
            _add_stats(summary, stats)
            result = load_pages(settings, summary.run_id, pages)
            summary.articles_new += result.counts.new
            summary.articles_updated += result.counts.updated
            summary.articles_unchanged += result.counts.unchanged
            summary.articles_failed += result.counts.failed
            summary.gone += sum(1 for p in pages if p.status in GONE_STATUSES)
            room = max(0, MAX_FAILURES_SHOWN - len(summary.failures))
            summary.failures.extend(result.failures[:room])
            quality.add(result.quality)
            changed.extend(result.changed)
            transient = [p for p in pages if p.transient]
            if len(pages) >= ABORT_MIN_ATTEMPTS and len(transient) >= ABORT_FAILURE_SHARE * len(
                pages
            ):
                raise CrawlError(
                    f"{len(transient)} of the last {len(pages)} article fetches failed; "
                    "stopped early so as not to hammer the site"
                )
        summary.status = "completed"
        summary.warning = drift_warning(quality, settings.drift_threshold)
        if summary.warning:
            summary.status = "warning"
            logger.warning("%s; e.g. %s", summary.warning, "; ".join(quality.examples[:3]))
    except BaoLaoCaiError as exc:
        summary.status = "failed"
        summary.error = exc.message
    except Exception as exc:  # a bug: record the run as failed, then let it surface
        summary.status = "failed"
        summary.error = f"internal error: {type(exc).__name__}: {exc}"
        summary.elapsed_s = round(time.monotonic() - started, 2)
        close_run(settings, summary)
        raise
    summary.records_fallback = quality.fallback
    summary.records_missing_date = quality.missing_date
    summary.records_missing_title = quality.missing_title
    summary.records_short_body = quality.short_body
    if summary.articles_new or summary.articles_updated:
        refresh_search(settings)
    summary.elapsed_s = round(time.monotonic() - started, 2)
    close_run(settings, summary)
    publish_report(summary, changed, quality.examples)
    if summary.status == "failed":
        return Failed(message=summary.error or "crawl failed", data=summary.to_dict())
    if summary.status == "warning":
        return Completed(name="Warning", message=summary.warning, data=summary.to_dict())
    return Completed(message="crawl completed", data=summary.to_dict())
