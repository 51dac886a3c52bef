"""The three kinds of run as compositions of :class:`~pipeline.run.Run`.

- :func:`crawl_site`: discover (robots, sitemaps, feeds, home, listings), plan (new,
  retries, rechecks: :mod:`warehouse.state`), fetch and load in batches;
- :func:`backfill_archive`: month by month through the site's monthly sitemaps,
  resumable (done months cost no request); a site without them is walked through its
  category pagination down to ``date_from``, *in the same run*;
- :func:`reparse_archive`: the stored raw pages parsed again, offline, a batch at a time.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from baolaocai import progress
from baolaocai.errors import CrawlError
from baolaocai.identity import article_id
from baolaocai.models import CrawlState
from baolaocai.settings import Settings
from pipeline.reparse import reparse_archive as reparse_archive  # moved (#21)
from pipeline.run import PlannedBatch, Run, start_of
from pipeline.steps import PLAIN_STEPS, BatchResult, MonthResult, Steps
from scrapers.archive import MonthSitemap
from scrapers.discovery import DiscoveryOptions, nothing_matched
from scrapers.http import HttpSession
from scrapers.plan import WorkPlan, plan_work
from scrapers.politeness import HostGate, RequestPacer
from warehouse.session import WarehouseSession
from warehouse.sitemaps import read_memos
from warehouse.state import NO_RECHECKS, RecheckPolicy, read_crawl_state

log = logging.getLogger(__name__)

BACKFILL_LISTING_PAGES = 10_000
"""How deep a backfill without monthly sitemaps may page through each category."""
BACKFILL_LISTING_REQUESTS = 100_000
"""Listing pages in all for such a backfill (a crawl stops at ``max_listing_requests``)."""
BACKFILL_DISCOVERY_DEADLINE_S = 24 * 3600.0
"""Its discovery may take a day at the polite rate (a crawl's: ``discovery_deadline``)."""


def crawl_into(
    run: Run, options: DiscoveryOptions, *, retry_failed: bool = False, rechecks: bool = True
) -> None:
    """Discover, plan and fetch into an open run (a crawl, or a backfill's fallback).

    In two rounds, so article fetching starts before discovery of the whole site ends:

    1. robots.txt, the sitemaps, the home page and the feeds; then the **new** articles
       they list are fetched and stored at once;
    2. the sections' listing pages (what round 1 stored now counts as known, so the
       listing margin stops pagination sooner); then the new articles only the listings
       showed, the retries and the rechecks.

    Which stored articles are rechecked comes from the run's policy (fresh ones,
    revisits) and, with ``rechecks``, from what discovery saw (newer ``<lastmod>``,
    articles gone from a changed sitemap)."""
    s, steps, settings = run.summary, run.steps, run.settings
    watch = progress.current()
    watch.phase("discovery")
    first = replace(options, listings=False)
    outcome, stats = steps.discover(
        settings, run.http, run.pacer, run.state.known_ids, first, run.memos
    )
    run.count_fetches(stats)
    run.robots = outcome.robots
    found = outcome.found
    if found.errors:
        steps.store_failures(settings, run.warehouse, run.run_id, found.errors)
    if outcome.error:
        raise CrawlError(outcome.error)
    run.sitemaps_read = list(found.sitemaps_read)
    s.notes.extend(found.capped)
    relisted, unlisted = (
        steps.recheck_candidates(settings, run.warehouse, found, run.state.known_ids)
        if rechecks
        else ({}, {})
    )

    # Round 1: what the sitemaps, the home page and the feeds list as new.
    early = WorkPlan(
        new=plan_work(
            found.articles, run.state, settings.site, max_articles=settings.max_articles
        ).new
    )
    _fetch_plan(run, early, found.lastmods, watch)

    # Round 2: the listings, then everything else.
    all_found = dict(found.articles)
    links_seen, article_links = found.links_seen, found.article_links
    if options.listings and found.sections and run.robots is not None:
        watch.phase("discovery")
        tried = {aid for u in early.new if (aid := article_id(u, run.settings.site)) is not None}
        listed, stats = steps.discover_listings(
            settings,
            run.http,
            run.pacer,
            run.robots,
            run.state.known_ids | tried,
            options,
            found.sections,
            found.section_names,
        )
        run.listed_sections.update(listed.listed_sections)
        run.count_fetches(stats)
        # Articles fetched before their listing was read (round 1) get its section now.
        steps.record_listed_categories(settings, run.warehouse, listed.listed_sections)
        if listed.errors:
            steps.store_failures(settings, run.warehouse, run.run_id, listed.errors)
        s.notes.extend(listed.capped)
        for aid, url in listed.articles.items():
            all_found.setdefault(aid, url)
        links_seen += listed.links_seen
        article_links += listed.article_links
    # Read pages but recognised no article (or, first run, found nothing to read): the
    # site file does not describe this site, or its layout moved. Never a silent success.
    if article_links == 0 and (links_seen > 0 or not run.state.known_ids):
        raise CrawlError(nothing_matched(settings.site, links_seen))
    fetched_early = set(early.new)
    room = settings.max_articles - len(early.new) if settings.max_articles else 0
    rest = plan_work(
        {aid: u for aid, u in all_found.items() if u not in fetched_early},
        run.state,
        settings.site,
        max_articles=room,
        retry_failed=retry_failed,
        relisted=relisted,
        unlisted=unlisted,
    )
    if settings.max_articles and room <= 0:
        rest.new = []
    rest.retry = [u for u in rest.retry if u not in fetched_early]
    s.discovered = len(all_found)
    s.already_stored = rest.already_stored
    s.rechecked = len(rest.rechecks)
    s.relisted, s.unlisted, s.revisited = len(rest.relisted), len(rest.unlisted), len(rest.revisit)
    s.retried_failures = len(rest.retry)
    log.info(
        "%d articles discovered; %d new fetched early, then %d new, %d retries, %d rechecks"
        " (%d relisted, %d unlisted, %d fresh, %d revisits)",
        s.discovered,
        len(early.new),
        len(rest.new),
        len(rest.retry),
        s.rechecked,
        s.relisted,
        s.unlisted,
        len(rest.recheck),
        s.revisited,
    )
    _fetch_plan(run, rest, found.lastmods, watch)


def _fetch_plan(run: Run, plan: WorkPlan, lastmods: dict[int, datetime], watch: Any) -> None:
    """Fetch and load a plan in batches, reporting each."""
    if not plan.urls:
        return
    watch.planned(len(plan.new), len(plan.retry), len(plan.rechecks), run.pacer.interval)
    watch.phase("fetching")
    site = run.settings.site
    batches = [
        PlannedBatch(
            batch,
            {u: plan.validators[u] for u in batch if u in plan.validators},
            {
                aid: lastmods[aid]
                for u in batch
                if (aid := article_id(u, site)) is not None and aid in lastmods
            },
        )
        for batch in plan.batches(run.settings.batch_size)
    ]

    def loaded(urls: list[str], result: BatchResult) -> None:
        c = result.counts
        watch.fetched(len(urls), c.new + c.updated + c.unchanged, c.failed)

    run.fetch_and_load(batches, loaded)


def crawl_site(
    settings: Settings,
    *,
    since: date | None = None,
    retry_failed: bool = False,
    steps: Steps = PLAIN_STEPS,
    flow_run_id: str | None = None,
    gate: HostGate | None = None,
) -> Run:
    """Crawl the site once: new articles in, edits and takedowns caught, nothing lost.
    ``gate``: the host politeness shared with other workers, if any."""
    options = DiscoveryOptions(
        max_listing_pages=settings.max_listing_pages,
        listing_margin=settings.listing_margin,
        since=start_of(since),
    )
    run = Run(
        settings,
        "crawl",
        steps=steps,
        policy=RecheckPolicy.from_settings(settings),
        flow_run_id=flow_run_id,
        gate=gate,
    )
    return run.execute(lambda r: crawl_into(r, options, retry_failed=retry_failed))


@dataclass
class PlanPreview:
    """What a crawl would do now (``crawl --plan``): nothing fetched beyond discovery."""

    plan: WorkPlan
    discovered: int = 0
    requests: int = 0
    """Discovery's requests (robots, sitemaps, feeds, listings)."""
    interval_s: float = 1.0
    """The pace of the site's requests (rate, or the robots.txt Crawl-delay)."""
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def estimate(self) -> str:
        seconds = int(len(self.plan.urls) * self.interval_s)
        hours, rest = divmod(seconds, 3600)
        return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def plan_site(
    settings: Settings,
    *,
    since: date | None = None,
    retry_failed: bool = False,
    steps: Steps = PLAIN_STEPS,
) -> PlanPreview:
    """Discover politely and plan as a crawl would, without fetching an article or
    writing to the warehouse (a missing warehouse is an empty one)."""
    state, memos = CrawlState(), {}
    wh = WarehouseSession(settings.db_path, settings.site)  # never begun: reads only
    if Path(settings.db_path).exists():
        with wh.reading() as con:
            now = datetime.now(UTC)
            policy = RecheckPolicy.from_settings(settings)
            state = read_crawl_state(con, site=settings.site, policy=policy, now=now)
            memos = read_memos(con, settings.site)
    pacer = RequestPacer(settings.rate)
    options = DiscoveryOptions(
        max_listing_pages=settings.max_listing_pages,
        listing_margin=settings.listing_margin,
        since=start_of(since),
    )
    progress.current().phase("discovery")
    with HttpSession(settings) as http:
        outcome, stats = steps.discover(settings, http, pacer, state.known_ids, options, memos)
    preview = PlanPreview(WorkPlan(), requests=stats.requests, interval_s=pacer.interval)
    if outcome.error:
        preview.error = outcome.error
        return preview
    found = outcome.found
    if found.article_links == 0 and (found.links_seen > 0 or not state.known_ids):
        preview.error = nothing_matched(settings.site, found.links_seen)  # as a crawl would
        return preview
    relisted, unlisted = (
        steps.recheck_candidates(settings, wh, found, state.known_ids)
        if Path(settings.db_path).exists()
        else ({}, {})
    )
    preview.plan = plan_work(
        found.articles,
        state,
        settings.site,
        max_articles=settings.max_articles,
        retry_failed=retry_failed,
        relisted=relisted,
        unlisted=unlisted,
    )
    preview.discovered = len(found.articles)
    preview.notes = list(found.capped)
    return preview


def backfill_month(run: Run, sitemap: MonthSitemap, stored: set[int]) -> MonthResult:
    """One month of the archive: its sitemap, then the articles not yet stored."""
    result = MonthResult(month=sitemap.month.isoformat())
    requests_before = run.summary.requests
    assert run.robots is not None
    listed, stats = run.steps.list_month_articles(
        run.settings, run.http, run.pacer, run.robots, sitemap
    )
    run.count_fetches(stats)
    todo = [u for u in listed if article_id(u, run.settings.site) not in stored]
    result.articles, result.already_stored = len(listed), len(listed) - len(todo)
    run.summary.discovered += len(listed)
    run.summary.already_stored += result.already_stored
    watch = progress.current()
    watch.month_started(sitemap.month, len(todo))
    size = run.settings.batch_size
    site = run.settings.site
    batches = [
        PlannedBatch(
            todo[start : start + size],
            lastmods={
                aid: when
                for u in todo[start : start + size]
                if (aid := article_id(u, site)) is not None and (when := listed[u]) is not None
            },
        )
        for start in range(0, len(todo), size)
    ]

    def loaded(urls: list[str], batch: BatchResult) -> None:
        c = batch.counts
        result.new += c.new + c.updated + c.unchanged
        result.failed += c.failed
        stored.update(aid for u in urls if (aid := article_id(u, site)) is not None)
        watch.fetched(len(urls), c.new + c.updated + c.unchanged, c.failed)

    run.fetch_and_load(batches, loaded)
    run.steps.finish_month(
        run.settings,
        run.warehouse,
        sitemap,
        result.articles,
        result.already_stored + result.new,
        result.failed,
    )
    result.requests = run.summary.requests - requests_before
    watch.month_done(sitemap.month)
    return result


def backfill_archive(
    settings: Settings,
    date_from: date,
    date_to: date | None = None,
    *,
    steps: Steps = PLAIN_STEPS,
    flow_run_id: str | None = None,
    gate: HostGate | None = None,
) -> Run:
    """Fill the archive with the articles published from ``date_from`` to ``date_to``.
    ``gate``: the host politeness shared with other workers, if any."""
    end = date_to or datetime.now(UTC).date()
    run = Run(
        settings,
        "backfill",
        steps=steps,
        policy=NO_RECHECKS,
        flow_run_id=flow_run_id,
        gate=gate,
    )
    run.extra.update(months=[], months_skipped=0)

    def body(r: Run) -> None:
        done = steps.read_done_months(settings, r.warehouse)
        months, robots, stats = steps.list_months(settings, r.http, r.pacer, date_from, end)
        r.count_fetches(stats)
        r.robots = robots
        if not months:
            log.warning("no monthly sitemaps; backfilling through category pagination")
            r.extra["fallback"] = "category pagination"
            options = DiscoveryOptions(
                max_listing_pages=BACKFILL_LISTING_PAGES,
                listing_margin=settings.listing_margin,
                since=start_of(date_from),
                max_listing_requests=BACKFILL_LISTING_REQUESTS,
                deadline=BACKFILL_DISCOVERY_DEADLINE_S,
            )
            crawl_into(r, options, rechecks=False)
            return
        todo = [m for m in months if m.month not in done]
        r.extra["months_skipped"] = len(months) - len(todo)
        progress.current().months(len(todo))
        stored = set(r.state.known_ids)
        for sitemap in todo:
            month = steps.month(partial(backfill_month, r, sitemap, stored), sitemap)
            r.extra["months"].append(asdict(month))

    return run.execute(body)
