"""The steps of a run as plain functions: each is handed the run's resources it needs
(its HTTP client, its :class:`~warehouse.session.WarehouseSession`, its
:class:`~transforms.parallel.ParsePool`) and calls the rooms. The warehouse is held open
for the whole run (``open_run`` begins the session, ``close_run`` closes it), pages are
archived as WARC captures before the batch that indexes them is committed, and the search
index follows each batch.

These are what the Prefect tasks of :mod:`flows` wrap, one line each; :class:`Steps`
bundles them so :mod:`pipeline.run` can be driven with the plain functions (tests, no
Prefect) or with the tasks (the flows), and nothing else differs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence, Set
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import duckdb
import httpx

from baolaocai.errors import BaoLaoCaiError, internal_error
from baolaocai.identity import article_id
from baolaocai.models import (
    LOAD_STAGE,
    CrawlState,
    Failure,
    FetchedPage,
    SitemapMemo,
    SitemapRead,
    StagedArticle,
)
from baolaocai.settings import Settings
from baolaocai.site import Site
from scrapers.archive import MonthSitemap, month_articles, month_sitemaps
from scrapers.discovery import Discovery, DiscoveryOptions, DiscoveryOutcome, discover_site
from scrapers.discovery import discover_listings as scrapers_discover_listings
from scrapers.fetch import Batch, BatchStream, Fetcher, FetchStats, MayStop
from scrapers.http import HttpSession
from scrapers.politeness import RequestPacer, RobotsRules
from transforms.integrity import fingerprint, refuse_collapsed, refuse_impostors
from transforms.parallel import ParsePool
from transforms.quality import QualityReport, assess
from warehouse.backfill import done_months, record_month
from warehouse.lake import LakeSpec
from warehouse.lake_search import index_lake_changes
from warehouse.load import (
    LoadCounts,
    any_placeholders,
    finish_run,
    kept_captures,
    load_batch,
    record_failures,
    start_run,
    stored_texts_changed,
)
from warehouse.raw import read_raw_article_pages, reparse_parts
from warehouse.search import reconcile_search_index, search_index_dir, update_search_index
from warehouse.session import WarehouseSession
from warehouse.sitemaps import listed_before, read_memos, store_reads
from warehouse.state import (
    RecheckPolicy,
    Validators,
    known_placeholders,
    listed_categories,
    mark_interrupted_runs,
    read_crawl_state,
    relisted,
    set_listed_categories,
    stored_validators,
)
from warehouse.warc import CaptureRef

log = logging.getLogger(__name__)

Changed = tuple[str, str, str | None, str]
"""(kind, title, category, url) of a new or updated article, for the run report."""


@dataclass(frozen=True)
class RunRecord:
    """Who a run is, as stored in ``crawl_runs`` when it opens."""

    run_id: str
    kind: str
    base_url: str
    started_at: datetime
    flow_run_id: str | None
    pid: int
    host: str


@dataclass
class MonthResult:
    """What one month of a backfill did (see :func:`pipeline.crawl.backfill_month`)."""

    month: str
    articles: int = 0
    already_stored: int = 0
    new: int = 0
    failed: int = 0
    requests: int = 0


@dataclass
class BatchResult:
    counts: LoadCounts
    failures: list[str]
    quality: QualityReport
    changed: list[Changed] = field(default_factory=list)
    failed_urls: list[str] = field(default_factory=list)
    suspect: list[str] = field(default_factory=list)
    """``url: why`` of the stored articles whose page was refused as not being them."""


# -- the warehouse side ---------------------------------------------------------------------


def open_run(
    settings: Settings,
    wh: WarehouseSession,
    record: RunRecord,
    policy: RecheckPolicy,
    alive: Callable[[int], bool],
) -> tuple[CrawlState, dict[str, SitemapMemo]]:
    """Mark dead runs interrupted, record this one as running, read what decides its work."""
    wh.begin()
    with wh.writing() as con:
        mark_interrupted_runs(
            con, now=record.started_at, except_run=record.run_id, host=record.host, alive=alive
        )
        start_run(
            con,
            site=settings.site,
            run_id=record.run_id,
            started_at=record.started_at,
            base_url=record.base_url,
            flow_run_id=record.flow_run_id,
            kind=record.kind,
            pid=record.pid,
            host=record.host,
        )
        state = read_crawl_state(con, site=settings.site, policy=policy, now=record.started_at)
        return state, read_memos(con, settings.site)


def close_run(
    settings: Settings,
    wh: WarehouseSession,
    run_id: str,
    status: str,
    counters: dict[str, int],
    error: str | None,
    warning: str | None,
) -> None:
    try:
        with wh.writing() as con:
            finish_run(
                con,
                run_id=run_id,
                finished_at=datetime.now(UTC),
                status=status,
                counters=counters,
                error=error,
                warning=warning,
            )
    finally:
        wh.close()


def recheck_candidates(
    settings: Settings, wh: WarehouseSession, found: Discovery, known: Set[int]
) -> tuple[Validators, Validators]:
    """``(relisted, unlisted)``: stored articles listed with a newer ``<lastmod>``, and
    stored articles that a changed sitemap listed before but no longer does."""
    with wh.reading() as con:
        newer = relisted(
            con, settings.site, {a: w for a, w in found.lastmods.items() if a in known}
        )
        before = listed_before(con, settings.site, (r.memo.url for r in found.sitemaps_read))
        gone_from_lists = {aid for aid in before if aid not in found.articles and aid in known}
        missing = stored_validators(con, settings.site, gone_from_lists)
    return newer, {u: v for u, v in missing.items() if u not in newer}


def remember_sitemaps(
    settings: Settings,
    wh: WarehouseSession,
    run_id: str,
    reads: Sequence[SitemapRead],
    settled: Set[int],
) -> int:
    if not reads:
        return 0
    with wh.writing() as con:
        return store_reads(
            con,
            site=settings.site,
            run_id=run_id,
            at=datetime.now(UTC),
            reads=reads,
            settled=settled,
        )


def load_pages(
    settings: Settings,
    wh: WarehouseSession,
    pool: ParsePool,
    run_id: str,
    pages: list[FetchedPage],
    lastmods: Mapping[int, datetime] | None = None,
    *,
    touch_unchanged: bool = True,
    listed_sections: Mapping[int, str] | None = None,
    parsed: tuple[list[StagedArticle], list[Failure]] | None = None,
) -> BatchResult:
    """Parse, clean and validate the pages, archive them (WARC, fsynced), then store
    them in one transaction and bring the search index up to date with the batch.

    An article whose page names no category takes the name of the section whose listing
    linked it (``listed_sections``, this run's discovery), else the one stored from an
    earlier run's listing, recorded as such (``category_source = 'listing'``).

    A page whose answer is the one its stored capture holds (same status, content type
    and payload, whatever its ``ETag``), or a ``304 Not Modified``, is not archived again
    in full: it adds a WARC ``revisit`` record referring to that capture (a few hundred
    bytes: the proof it was seen again, unchanged) and a ``captures`` row of
    ``record_type`` 'revisit'; the page's ``raw_pages`` row keeps pointing at the
    response and only its new validators are stored (``load_batch``'s ``kept``).

    A page that is not the article of its address (an error page served as 200, a
    redirect elsewhere, a page shared by several addresses, a text collapsed against the
    stored version: :mod:`transforms.integrity`) never becomes an article nor a new
    version: a new address is parked, a stored article keeps its version (counted as
    ``suspect``). A record the warehouse refuses costs its own page, parked at stage
    ``load`` (:func:`load_isolating`).

    ``parsed``: the pages' records and failures, parsed already (a reparse parses its
    pages on the pool's workers while it loads the ones before: :mod:`pipeline.reparse`)."""
    staged, failures = parsed or pool.process(
        pages,
        settings.site,
        deadline=settings.parse_deadline,
        max_elements=settings.max_page_elements,
    )
    # During a run, one open of the file for the batch: its reads and its write. Outside
    # one (a session never begun) a write block is a connection of its own, beside which
    # the reads could not open the file: they open and close it before, as they did.
    with wh.writing() if wh.running else nullcontext():
        result, touched = _load_held(
            settings,
            wh,
            run_id,
            pages,
            staged,
            failures,
            lastmods,
            touch_unchanged,
            listed_sections,
        )
    update_index(wh, touched, "after a batch")  # read-only: readers are not kept out
    return result


def _load_held(
    settings: Settings,
    wh: WarehouseSession,
    run_id: str,
    pages: list[FetchedPage],
    staged: list[StagedArticle],
    failures: list[Failure],
    lastmods: Mapping[int, datetime] | None,
    touch_unchanged: bool,
    listed_sections: Mapping[int, str] | None,
) -> tuple[BatchResult, set[tuple[str, int]]]:
    """:func:`load_pages` once the warehouse is open for the batch. Every open of the
    file replays its write-ahead log (some 25 ms per MB, up to DuckDB's 16 MB before it
    checkpoints), so a read-only connection for the batch's questions and then the write
    connection cost two replays a batch. The archive's append happens inside too (a few ms, fsynced),
    still before the rows that index it are committed; readers get in between batches."""
    site = settings.site
    kept: dict[str, CaptureRef] = {}  # fetched again with the very answer archived
    with wh.reading() as con:  # the batch's own connection for all the batch asks
        # Fingerprints (the folded text of every record) only when there are some to match.
        known = (
            known_placeholders(con, site, (fingerprint(s.article) for s in staged))
            if any_placeholders(con, site)
            else set()
        )
        staged, refused, placeholders = refuse_impostors(pages, staged, site, known)
        staged = with_listed_categories(
            staged, listed_sections or {}, lambda ids: listed_categories(con, site, ids)
        )
        if any((p.html is not None or p.status == 304) and not p.archived for p in pages):
            kept = kept_captures(con, site, pages)  # not a reparse's
        # A record with its stored hash is its stored text: nothing to compare it with.
        stored = stored_texts_changed(con, site, staged)
    staged, collapsed = refuse_collapsed(pages, staged, stored)
    failures = [*failures, *refused, *collapsed]
    captures = wh.archive(pages, site, kept=kept)
    counts, failures, unloaded = load_isolating(
        wh,
        site,
        run_id,
        datetime.now(UTC),
        pages,
        staged,
        failures,
        touch_unchanged=touch_unchanged,
        lastmods=lastmods,
        captures=captures,
        kept=kept,
        placeholders=placeholders,
    )
    key = settings.site.key
    touched = {(key, aid) for aid, _kind in counts.changed}
    if counts.removed:
        touched |= {(key, i) for p in pages if (i := article_id(p.url, settings.site)) is not None}
    by_id = {s.article.article_id: s.article for s in staged}
    changed = [
        (kind, by_id[aid].title or "", by_id[aid].category, by_id[aid].url or "")
        for aid, kind in counts.changed
    ]
    # counted as removed (takedowns) or as suspect pages, not as failures
    not_failed = set(counts.taken_down) | set(counts.suspect)
    failed = [f for f in failures if f.url not in not_failed]
    suspect = set(counts.suspect)
    return BatchResult(
        counts,
        [f"{f.url}: {f.error}" for f in failed],
        assess(s.article for s in staged if s.article.url not in unloaded),
        changed,
        [f.url for f in failed],
        [f"{f.url}: {f.error}" for f in failures if f.url in suspect],
    ), touched


LOAD_DATA_ERRORS: tuple[type[Exception], ...] = (
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
    duckdb.ConstraintException,
    duckdb.TypeMismatchException,
    ValueError,  # UnicodeError included
    OverflowError,
    TypeError,
)
"""What a record the warehouse cannot hold raises (a value out of a column's range, text
it cannot encode): the record's own fault, never the warehouse's (a full disk, a lost
file: those are :class:`~baolaocai.errors.WarehouseError` and fail the run)."""


def load_isolating(
    wh: WarehouseSession,
    site: Site,
    run_id: str,
    seen_at: datetime,
    pages: Sequence[FetchedPage],
    staged: Sequence[StagedArticle],
    failures: Sequence[Failure],
    **options: Any,
) -> tuple[LoadCounts, list[Failure], set[str]]:
    """:func:`~warehouse.load.load_batch` in one transaction; when the warehouse refuses a
    record of it (:data:`LOAD_DATA_ERRORS`), the batch again page by page, each page it
    refuses recorded as a failure of stage ``load`` (parked: a later run does not fetch
    it again, ``--retry-failed`` and ``reparse`` do), so one poison record costs its own
    page and never the batch, nor every later run. Returns the counts, the batch's
    failures as recorded (those of stage ``load`` included) and the URLs refused at
    load."""
    captures: Mapping[str, CaptureRef] = options.pop("captures", None) or {}
    kept: Mapping[str, CaptureRef] = options.pop("kept", None) or {}

    def load(
        some_pages: Sequence[FetchedPage],
        some_staged: Sequence[StagedArticle],
        some_failures: Sequence[Failure],
    ) -> LoadCounts:
        urls = {p.url for p in some_pages}
        with wh.writing() as con:
            return load_batch(
                con,
                site=site,
                run_id=run_id,
                seen_at=seen_at,
                pages=some_pages,
                articles=some_staged,
                failures=some_failures,
                captures={u: c for u, c in captures.items() if u in urls},
                kept={u: c for u, c in kept.items() if u in urls},
                **options,
            )

    try:
        return load(pages, staged, failures), list(failures), set()
    except LOAD_DATA_ERRORS as exc:
        first = exc
        log.warning("the warehouse refused a record of a batch (%s); loading page by page", exc)
    counts = LoadCounts()
    recorded: list[Failure] = []
    refused: list[Failure] = []
    urls = {p.url for p in pages}
    orphans = [s for s in staged if s.article.url not in urls]  # read from no page here
    parts: list[LoadCounts] = []
    for page in pages:
        mine = [s for s in staged if s.article.url == page.url]
        theirs = [f for f in failures if f.url == page.url]
        try:
            parts.append(load([page], mine, theirs))
            recorded += theirs
        except LOAD_DATA_ERRORS as exc:
            why = internal_error(exc)
            refused.append(Failure(page.url, LOAD_STAGE, why, page.status or None, page.attempts))
    if len(pages) > 1 and len(refused) == len(pages):
        # Every page refused alike: the warehouse or the code, not the pages. Failing
        # the run says so; parking them all would hide it.
        raise first
    if refused:
        parts.append(load([], [], refused))
        recorded += refused
    if orphans:
        parts.append(load([], orphans, []))
    for part in parts:
        counts.add(part)
    return counts, recorded, {f.url for f in refused}


def with_listed_categories(
    staged: list[StagedArticle],
    listed: Mapping[int, str],
    stored: Callable[[list[int]], Mapping[int, str]],
) -> list[StagedArticle]:
    """Articles without a category of their own, given the listing's (this run's, else
    the one an earlier run stored). Pure but for ``stored``, asked once per batch for the
    ids this run's listings did not name."""
    missing = [
        s.article.article_id
        for s in staged
        if s.article.category is None and s.article.article_id is not None
    ]
    if not missing:
        return staged
    names = dict(stored([aid for aid in missing if aid not in listed]))
    names.update({aid: listed[aid] for aid in missing if aid in listed})
    out = []
    for s in staged:
        name = names.get(s.article.article_id or 0) if s.article.category is None else None
        if name:
            # An annotation of the page, not its content: the hash stays the page's, so a
            # page fetched again unchanged is unchanged whichever way it was found.
            s = StagedArticle(
                s.article.replace(category=name, category_source="listing"), s.content_hash
            )
        out.append(s)
    return out


def record_listed_categories(
    settings: Settings, wh: WarehouseSession, listed: Mapping[int, str]
) -> int:
    """Stored articles whose pages name no category take the section whose listing
    linked them (found after they were fetched), in the warehouse and its search index;
    returns how many did."""
    if not listed:
        return 0
    with wh.writing() as con:
        ids = set_listed_categories(con, settings.site, listed)
    update_index(wh, {(settings.site.key, aid) for aid in ids}, "after listing categories")
    return len(ids)


def update_index(wh: WarehouseSession, changed: Set[tuple[str, int]], when: str) -> None:
    """Hand the run's changed articles to the search index when enough wait (see
    :meth:`~warehouse.session.WarehouseSession.due_for_index`), reading them through a
    read-only connection: the index's work never keeps readers out of the warehouse."""
    touched = wh.due_for_index(changed)
    if not touched:
        return
    try:
        with wh.reading() as con:
            if wh.lake:  # every change since the index's snapshot, by one indexer at a time
                index_lake_changes(con, search_index_dir(wh.db_path), LakeSpec.parse(wh.db_path))
            else:
                update_search_index(con, search_index_dir(wh.db_path), touched)
    except BaoLaoCaiError as exc:  # the close of the run catches up (watermark)
        log.warning("search index not updated %s: %s", when, exc.message)


def store_failures(
    settings: Settings, wh: WarehouseSession, run_id: str, failures: list[Failure]
) -> None:
    with wh.writing() as con:
        record_failures(
            con, site=settings.site, run_id=run_id, at=datetime.now(UTC), failures=failures
        )


def refresh_search(settings: Settings, wh: WarehouseSession) -> str | None:
    """Bring the full-text index up to date with the warehouse (every article changed since
    its watermark; a full build when there is none); returns a warning instead of failing
    the run."""
    try:
        with wh.reading() as con:
            if wh.lake:
                index_lake_changes(con, search_index_dir(wh.db_path), LakeSpec.parse(wh.db_path))
            else:
                reconcile_search_index(con, search_index_dir(wh.db_path))
    except BaoLaoCaiError as exc:
        return f"search index not refreshed: {exc.message}"
    return None


def read_done_months(settings: Settings, wh: WarehouseSession) -> set[date]:
    with wh.reading() as con:  # the run's open made (or migrated) the warehouse
        return done_months(con, settings.site)


def finish_month(
    settings: Settings,
    wh: WarehouseSession,
    sitemap: MonthSitemap,
    articles: int,
    stored: int,
    failed: int,
) -> None:
    with wh.writing() as con:
        record_month(
            con,
            site=settings.site,
            month=sitemap.month,
            sitemap_url=sitemap.url,
            articles=articles,
            stored=stored,
            failed=failed,
            completed_at=datetime.now(UTC) if failed == 0 else None,
        )


def read_raw_batch(
    settings: Settings,
    wh: WarehouseSession,
    after_id: int,
    batch_size: int,
    upto_id: int | None = None,
) -> list[FetchedPage]:
    """The next ``batch_size`` stored article pages after ``after_id`` (and at most
    ``upto_id``) (a short read)."""
    with wh.reading() as con:
        return read_raw_article_pages(
            con,
            site=settings.site,
            after_id=after_id,
            limit=batch_size,
            warc_folder=wh.warc_dir,
            upto_id=upto_id,
        )


def plan_reparse_parts(
    settings: Settings, wh: WarehouseSession, parts: int
) -> list[tuple[int, int]]:
    """The article id ranges of a reparse in ``parts`` (:func:`warehouse.raw.reparse_parts`)."""
    with wh.reading() as con:
        return reparse_parts(con, settings.site, parts)


# -- the network side -----------------------------------------------------------------------


def discover(
    settings: Settings,
    http: HttpSession,
    pacer: RequestPacer,
    known: frozenset[int],
    options: DiscoveryOptions,
    memos: Mapping[str, SitemapMemo],
) -> tuple[DiscoveryOutcome, FetchStats]:
    async def go(client: httpx.AsyncClient) -> tuple[DiscoveryOutcome, FetchStats]:
        fetcher = Fetcher(client, settings, pacer)
        outcome = await discover_site(fetcher, options, known=known.__contains__, memos=memos)
        return outcome, fetcher.stats

    return http.run(go)


def discover_listings(
    settings: Settings,
    http: HttpSession,
    pacer: RequestPacer,
    robots: RobotsRules,
    known: frozenset[int],
    options: DiscoveryOptions,
    sections: list[str],
    names: Mapping[str, str] | None = None,
) -> tuple[Discovery, FetchStats]:
    async def go(client: httpx.AsyncClient) -> tuple[Discovery, FetchStats]:
        fetcher = Fetcher(client, settings, pacer, robots)
        found = await scrapers_discover_listings(
            fetcher, options, sections, known=known.__contains__, names=names
        )
        return found, fetcher.stats

    return http.run(go)


class FetchAhead:
    """A run's batches being fetched ahead, seen from the run's thread: a
    :class:`~scrapers.fetch.BatchStream` on the run's HTTP session (its event loop runs
    in a thread of its own). While the run parses, archives and loads batch *N* (its
    thread and its parsing worker), the loop's thread goes on fetching batch *N+1*, so
    the site sees one continuous stream of requests and a crawl with politeness off
    uses both cores. Started by :func:`start_fetching`, stopped by the run
    (:meth:`stop`), or cancelled with the HTTP session that carries it."""

    def __init__(self, http: HttpSession, stream: BatchStream) -> None:
        self.http = http
        self.stream = stream
        self.stopped = False

    def take(self) -> tuple[list[FetchedPage], FetchStats]:
        """The next batch, once all its pages are in (waits for them)."""
        return self.http.run(lambda _client: self.stream.take())

    def done(self, may_stop: MayStop) -> None:
        """The run stored the batch it took last and goes on (see
        :meth:`~scrapers.fetch.BatchStream.done`)."""
        self.http.run(lambda _client: self.stream.done(may_stop))

    def stop(self) -> FetchStats:
        """No request more; the fetch stats not yet counted (none after the first call,
        or once the session is closed: closing it cancelled the stream)."""
        if self.stopped or self.http.closed:
            self.stopped = True
            return FetchStats()
        self.stopped = True
        return self.http.run(lambda _client: self.stream.stop())


def start_fetching(
    settings: Settings,
    http: HttpSession,
    pacer: RequestPacer,
    robots: RobotsRules,
    batches: Sequence[Batch],
    may_stop: MayStop,
) -> FetchAhead:
    """Start fetching ``batches`` in order on the run's event loop (returns at once);
    :func:`fetch_batch` hands them out one by one. Every request goes through one
    :class:`~scrapers.fetch.Fetcher` (its ``concurrency`` slots are the run's) and the
    run's pacer; ``may_stop`` says which fetched batch must be judged by the run before
    the next is sent."""

    async def go(client: httpx.AsyncClient) -> BatchStream:
        stream = BatchStream(Fetcher(client, settings, pacer, robots), batches, may_stop)
        await stream.start()
        return stream

    return FetchAhead(http, http.run(go))


def fetch_batch(
    settings: Settings, feed: FetchAhead, urls: list[str]
) -> tuple[list[FetchedPage], FetchStats]:
    """The next batch of the run's fetch-ahead stream, ``urls``, once every page is in
    (fetched while the run loaded the batch before), with the fetch stats to count."""
    pages, stats = feed.take()
    if [p.url for p in pages] != urls:  # the run takes its batches in the order it planned
        raise RuntimeError("internal: the fetched batch is not the one the run asked for")
    return pages, stats


def list_months(
    settings: Settings, http: HttpSession, pacer: RequestPacer, start: date, end: date
) -> tuple[list[MonthSitemap], RobotsRules, FetchStats]:
    async def go(client: httpx.AsyncClient) -> tuple[list[MonthSitemap], RobotsRules, FetchStats]:
        fetcher = Fetcher(client, settings, pacer)
        months = await month_sitemaps(fetcher, start, end)
        assert fetcher.robots is not None
        return months, fetcher.robots, fetcher.stats

    return http.run(go)


def list_month_articles(
    settings: Settings,
    http: HttpSession,
    pacer: RequestPacer,
    robots: RobotsRules,
    sitemap: MonthSitemap,
) -> tuple[dict[str, datetime | None], FetchStats]:
    async def go(client: httpx.AsyncClient) -> tuple[dict[str, datetime | None], FetchStats]:
        fetcher = Fetcher(client, settings, pacer, robots)
        return await month_articles(fetcher, sitemap), fetcher.stats

    return http.run(go)


def call_directly(work: Callable[[], MonthResult], sitemap: MonthSitemap) -> MonthResult:
    """The month hook without Prefect: just do the work."""
    return work()


# -- what a run calls -------------------------------------------------------------------------
#
# One Protocol per step, with the step's exact parameters (names included: the run passes
# ``touch_unchanged`` by keyword, and a Protocol's parameters may be passed either way).
# The plain functions above satisfy them, and so do the Prefect tasks of :mod:`flows.tasks`
# made from them: among the overloads of ``prefect.Task[P, T].__call__`` is
# ``(*args: P.args, **kwargs: P.kwargs) -> T``, which mypy matches against the Protocol's
# ``__call__`` parameter by parameter (the others add ``return_state=``/``wait_for=``).
# So a task wrapping the wrong step, or a step whose parameters drift from its Protocol,
# fails ``mypy`` where ``TASK_STEPS`` is built. The backfill's sub-flow (``prefect.Flow``)
# satisfies :class:`Month` the same way.


class OpenRun(Protocol):
    def __call__(
        self,
        settings: Settings,
        wh: WarehouseSession,
        record: RunRecord,
        policy: RecheckPolicy,
        alive: Callable[[int], bool],
    ) -> tuple[CrawlState, dict[str, SitemapMemo]]: ...


class CloseRun(Protocol):
    def __call__(
        self,
        settings: Settings,
        wh: WarehouseSession,
        run_id: str,
        status: str,
        counters: dict[str, int],
        error: str | None,
        warning: str | None,
    ) -> None: ...


class Discover(Protocol):
    def __call__(
        self,
        settings: Settings,
        http: HttpSession,
        pacer: RequestPacer,
        known: frozenset[int],
        options: DiscoveryOptions,
        memos: Mapping[str, SitemapMemo],
    ) -> tuple[DiscoveryOutcome, FetchStats]: ...


class DiscoverListings(Protocol):
    def __call__(
        self,
        settings: Settings,
        http: HttpSession,
        pacer: RequestPacer,
        robots: RobotsRules,
        known: frozenset[int],
        options: DiscoveryOptions,
        sections: list[str],
        names: Mapping[str, str] | None = None,
    ) -> tuple[Discovery, FetchStats]: ...


class RecheckCandidates(Protocol):
    def __call__(
        self, settings: Settings, wh: WarehouseSession, found: Discovery, known: Set[int]
    ) -> tuple[Validators, Validators]: ...


class FetchBatch(Protocol):
    def __call__(
        self, settings: Settings, feed: FetchAhead, urls: list[str]
    ) -> tuple[list[FetchedPage], FetchStats]: ...


class LoadPages(Protocol):
    def __call__(
        self,
        settings: Settings,
        wh: WarehouseSession,
        pool: ParsePool,
        run_id: str,
        pages: list[FetchedPage],
        lastmods: Mapping[int, datetime] | None = None,
        *,
        touch_unchanged: bool = True,
        listed_sections: Mapping[int, str] | None = None,
        parsed: tuple[list[StagedArticle], list[Failure]] | None = None,
    ) -> BatchResult: ...


class RecordListedCategories(Protocol):
    def __call__(
        self, settings: Settings, wh: WarehouseSession, listed: Mapping[int, str]
    ) -> int: ...


class StoreFailures(Protocol):
    def __call__(
        self, settings: Settings, wh: WarehouseSession, run_id: str, failures: list[Failure]
    ) -> None: ...


class RememberSitemaps(Protocol):
    def __call__(
        self,
        settings: Settings,
        wh: WarehouseSession,
        run_id: str,
        reads: Sequence[SitemapRead],
        settled: Set[int],
    ) -> int: ...


class RefreshSearch(Protocol):
    def __call__(self, settings: Settings, wh: WarehouseSession) -> str | None: ...


class ListMonths(Protocol):
    def __call__(
        self, settings: Settings, http: HttpSession, pacer: RequestPacer, start: date, end: date
    ) -> tuple[list[MonthSitemap], RobotsRules, FetchStats]: ...


class ListMonthArticles(Protocol):
    def __call__(
        self,
        settings: Settings,
        http: HttpSession,
        pacer: RequestPacer,
        robots: RobotsRules,
        sitemap: MonthSitemap,
    ) -> tuple[dict[str, datetime | None], FetchStats]: ...


class ReadDoneMonths(Protocol):
    def __call__(self, settings: Settings, wh: WarehouseSession) -> set[date]: ...


class FinishMonth(Protocol):
    def __call__(
        self,
        settings: Settings,
        wh: WarehouseSession,
        sitemap: MonthSitemap,
        articles: int,
        stored: int,
        failed: int,
    ) -> None: ...


class ReadRawBatch(Protocol):
    def __call__(
        self,
        settings: Settings,
        wh: WarehouseSession,
        after_id: int,
        batch_size: int,
        upto_id: int | None = None,
    ) -> list[FetchedPage]: ...


class Month(Protocol):
    """The hook around one month of a backfill (the flows: a sub-flow per month)."""

    def __call__(self, work: Callable[[], MonthResult], sitemap: MonthSitemap) -> MonthResult: ...


@dataclass(frozen=True)
class Steps:
    """The steps a run calls. The defaults are the plain functions above; the flows hand
    in Prefect tasks (and a sub-flow for ``month``) that wrap the very same functions."""

    open_run: OpenRun = open_run
    close_run: CloseRun = close_run
    discover: Discover = discover
    discover_listings: DiscoverListings = discover_listings
    recheck_candidates: RecheckCandidates = recheck_candidates
    fetch_batch: FetchBatch = fetch_batch
    load_pages: LoadPages = load_pages
    store_failures: StoreFailures = store_failures
    record_listed_categories: RecordListedCategories = record_listed_categories
    remember_sitemaps: RememberSitemaps = remember_sitemaps
    refresh_search: RefreshSearch = refresh_search
    list_months: ListMonths = list_months
    list_month_articles: ListMonthArticles = list_month_articles
    read_done_months: ReadDoneMonths = read_done_months
    finish_month: FinishMonth = finish_month
    read_raw_batch: ReadRawBatch = read_raw_batch
    month: Month = call_directly


PLAIN_STEPS = Steps()
