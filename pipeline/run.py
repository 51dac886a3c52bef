"""One run, written once: crawl, backfill and reparse are compositions of :class:`Run`.

A run, whatever its kind:

1. **opens**: runs whose process is dead are marked ``interrupted``; this one is
   recorded as ``running`` (with its pid and host); the warehouse says what it knows
   (:mod:`warehouse.state`);
2. **plans** (crawl: discover, then :func:`scrapers.plan.plan_work`; backfill: month by
   month; reparse: the stored pages);
3. works in **batches** (fetch, then parse/clean/validate/load in one transaction;
   pipelined: the next batch is fetched while one is loaded, :meth:`Run.fetch_and_load`),
   **counting** each into the run's :class:`~baolaocai.models.CrawlSummary` and its
   quality report. A batch where at least ``ABORT_FAILURE_SHARE`` of at least
   ``ABORT_MIN_ATTEMPTS`` fetches failed transiently **stops** the run (failed), so a
   site in trouble is not hammered; so do the run's last ``ABORT_WINDOW`` fetches of
   articles it did not hold when ``ABORT_WINDOW_SHARE`` of them failed, whatever the
   kind, and none was stored (listings that point at pages the site does not serve:
   :func:`failure_stop`); and so does passing ``settings.run_deadline``;
4. **decides** its status: ``failed`` (an error), ``interrupted`` (Ctrl-C/SIGTERM),
   ``warning`` (the layout-drift alarm: too many degraded records) or ``completed``;
5. **closes**: the search index is refreshed if articles changed, the sitemaps read are
   remembered (only after a run that did not fail), and the ``crawl_runs`` row gets the
   status and every counter.

No Prefect here: the flows hand in :class:`~pipeline.steps.Steps` made of Prefect tasks
wrapping the same plain functions, and tests drive a run with the plain ones.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from baolaocai import interrupts, progress
from baolaocai.errors import BaoLaoCaiError, CrawlError
from baolaocai.identity import article_id
from baolaocai.models import CrawlState, CrawlSummary, FetchedPage, SitemapMemo, SitemapRead
from baolaocai.processes import process_alive
from baolaocai.settings import MiB, Settings
from baolaocai.site import Site
from pipeline.steps import (
    PLAIN_STEPS,
    BatchResult,
    Changed,
    RunRecord,
    Steps,
    start_fetching,
)
from pipeline.steps import close_run as plain_close_run
from scrapers.fetch import FetchStats, MayStop
from scrapers.http import HttpSession
from scrapers.politeness import HostGate, RequestPacer, RobotsRules
from transforms.parallel import ParsePool
from transforms.parse import MAX_IMAGES
from transforms.quality import QualityReport, drift_warning
from warehouse.session import WarehouseSession
from warehouse.state import GONE_STATUSES, NO_RECHECKS, RecheckPolicy
from warehouse.writer import Holder

log = logging.getLogger(__name__)

ABORT_FAILURE_SHARE = 0.8
ABORT_MIN_ATTEMPTS = 10
ABORT_WINDOW = 50
"""How many of the run's latest fetches of articles it did not hold the second stop rule
of :func:`failure_stop` looks back over, across batches."""
ABORT_WINDOW_SHARE = 0.9
GONE_LABELS = frozenset(str(s) for s in GONE_STATUSES)
MAX_FAILURES_SHOWN = 5
RUN_KINDS = ("crawl", "backfill", "reparse")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One fetch of an article the warehouse did not hold when the run began (a new one,
    or a retry of one never stored), as :func:`failure_stop` weighs it."""

    failure: str | None = None
    """Why the fetch failed, as the stop's reason names it (``404``, ``503``,
    ``connection error`` …); ``None``: the site served the page."""
    transient: bool = False
    stored: bool = False
    """The page became an article (a served page may still be unreadable)."""


def failure_label(page: FetchedPage) -> str:
    """What a failed fetch is called in a stop's reason: its HTTP status, or for an
    answer without a failing status the kind of error, without its particulars
    (``connection error``, ``timeout``, ``disallowed by robots.txt``)."""
    if page.status and not 200 <= page.status < 300:
        return str(page.status)
    error = page.error or "no page"
    return re.split(r"[:(;]| to https?://", error, maxsplit=1)[0].strip()[:60] or error[:60]


def attempts_of(
    pages: Sequence[FetchedPage], unstored: Set[str], known: Set[int], site: Site
) -> list[Attempt]:
    """The batch's fetches of articles not held when the run began (``known``), in
    order; ``unstored``: the URLs of pages that did not become an article
    (``BatchResult.failed_urls``).

    Rechecks of stored articles are left out: their 404/410 is a takedown, and a mass
    takedown is data to record (``removed_at``), not a reason to stop; their other
    failures are the transient rule's. Pages read back from the archive (a reparse)
    were not fetched."""
    out = []
    for p in pages:
        aid = article_id(p.url, site)
        if p.archived or (aid is not None and aid in known):
            continue
        if p.ok or p.status == 304:
            out.append(Attempt(stored=p.ok and p.url not in unstored))
        else:
            out.append(Attempt(failure_label(p), transient=p.transient))
    return out


def failure_stop(pages: list[FetchedPage], recent: Sequence[Attempt] = ()) -> str | None:
    """The reason to stop a run after this batch, or ``None`` to go on.

    1. *The site is in trouble*: at least ``ABORT_FAILURE_SHARE`` of the batch's
       fetches (``ABORT_MIN_ATTEMPTS`` or more) failed transiently (timeouts, resets,
       429, 5xx): going on would hammer it.
    2. *The listings point nowhere*: of the run's last ``ABORT_WINDOW`` fetches of
       articles it did not hold (``recent``, across batches), at least
       ``ABORT_WINDOW_SHARE`` failed, whatever the kind (404/410 included: a sitemap of
       50,000 dead links would otherwise cost 14 hours at the polite rate for nothing),
       and none became an article. What failed is parked or recorded, so the next run
       goes on with what this one did not try.

    The reason is one line: how many of how many failed, with which statuses."""
    transient = [p for p in pages if p.transient]
    if len(pages) >= ABORT_MIN_ATTEMPTS and len(transient) >= ABORT_FAILURE_SHARE * len(pages):
        return (
            f"{len(transient)} of the last {len(pages)} article fetches failed"
            f" ({_tally(failure_label(p) for p in transient)});"
            " stopped early so as not to hammer the site"
        )
    window = list(recent)[-ABORT_WINDOW:]
    failed = [a for a in window if a.failure is not None]
    if (
        len(window) < ABORT_WINDOW
        or len(failed) < ABORT_WINDOW_SHARE * len(window)
        or any(a.stored for a in window)
    ):
        return None
    if all(a.failure in GONE_LABELS for a in failed):
        why = "the site's listings point at pages it does not serve"
    elif all(a.transient for a in failed):
        why = "the site is failing, going on would hammer it"
    else:
        why = "the site does not serve the pages its listings point at"
    return (
        f"{len(failed)} of the last {len(window)} article fetches failed"
        f" ({_tally(a.failure or '' for a in failed)}); stopped early: {why}"
    )


def _tally(labels: Iterable[str]) -> str:
    """``404 ×46, 503 ×2``: most frequent first."""
    return ", ".join(f"{label} ×{n}" for label, n in Counter(labels).most_common())


def decide_status(
    error: str | None, interrupted: bool, quality: QualityReport, drift_threshold: float
) -> tuple[str, str | None]:
    """``(status, warning)`` of a finished run."""
    if interrupted:
        return "interrupted", None
    if error is not None:
        return "failed", None
    warning = drift_warning(quality, drift_threshold)
    return ("warning", warning) if warning else ("completed", None)


@dataclass(frozen=True)
class PlannedBatch:
    """One batch of a run's work: its URLs, the validators of those that have some (a
    conditional request), and the ``<lastmod>`` the sitemaps listed them with."""

    urls: list[str]
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    lastmods: dict[int, datetime] = field(default_factory=dict)


INTERRUPTED = "interrupted (Ctrl-C or SIGTERM)"
"""The error recorded on a run stopped from outside."""


@dataclass
class Run:
    """A run as a plain object: its settings, its counters, its state in one place, and
    the resources it owns for its whole life, each made on first use, handed to the steps
    and closed by :meth:`close`: its HTTP client (:attr:`http`), its warehouse session
    (:attr:`warehouse`: the held connection, the web archive, the search index's pending
    articles) and its parsing workers (:attr:`parse_pool`)."""

    settings: Settings
    kind: str = "crawl"
    steps: Steps = PLAIN_STEPS
    policy: RecheckPolicy = NO_RECHECKS
    flow_run_id: str | None = None
    run_id: str = ""
    summary: CrawlSummary = field(init=False)
    quality: QualityReport = field(default_factory=QualityReport)
    changed: list[Changed] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Kind-specific results (a backfill's months) for the caller's report."""
    pacer: RequestPacer = field(init=False)
    state: CrawlState = field(default_factory=CrawlState)
    memos: dict[str, SitemapMemo] = field(default_factory=dict)
    listed_sections: dict[int, str] = field(default_factory=dict)
    """Article id -> the section whose listing linked it (this run's discovery): the
    category of an article whose page names none."""
    suspects: list[str] = field(default_factory=list)
    """``url: why`` of the first stored articles whose page was refused as not being them."""
    settled: set[int] = field(default_factory=set)
    """Article ids this run tried and could not store (a sitemap memo may still be kept)."""
    attempts: deque[Attempt] = field(default_factory=lambda: deque(maxlen=ABORT_WINDOW))
    """The run's latest fetches of articles it did not hold (:func:`failure_stop`)."""
    robots: RobotsRules | None = None
    sitemaps_read: list[SitemapRead] = field(default_factory=list)
    search_warning: str | None = None
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    """The network under the run's HTTP client: ``None`` for the real one; a test may hand
    in an ``httpx.MockTransport``."""
    part_of: str | None = None
    """The run this one is a part of (a reparse run in parts, side by side on several
    workers): that run holds the site's writer lock for all of its parts, so a part takes
    none (each part writes articles of its own: see :func:`warehouse.raw.reparse_parts`)."""
    gate: HostGate | None = field(default=None, repr=False)
    """The host politeness shared with other workers (handed in by the flows: this package
    never imports Prefect); the run's pacer carries it to every fetcher."""
    _http: HttpSession | None = field(default=None, init=False, repr=False)
    _warehouse: WarehouseSession | None = field(default=None, init=False, repr=False)
    _parse_pool: ParsePool | None = field(default=None, init=False, repr=False)
    _started: float = field(default=0.0, init=False)
    _parse_warm: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise ValueError(f"unknown run kind {self.kind!r}")
        if not self.run_id:
            prefix = "" if self.kind == "crawl" else f"{self.kind}-"
            self.run_id = prefix + uuid.uuid4().hex[:12]
        self.summary = CrawlSummary(run_id=self.run_id, base_url=self.settings.base_url)
        self.pacer = RequestPacer(self.settings.rate, gate=self.gate)

    @property
    def http(self) -> HttpSession:
        """The run's HTTP client, made on first use and closed with the run."""
        if self._http is None:
            self._http = HttpSession(self.settings, self.transport)
        return self._http

    @property
    def warehouse(self) -> WarehouseSession:
        """The run's warehouse session (the held connection, the web archive, the search
        index's pending articles), made on first use; ``open_run`` begins it, ``close_run``
        closes it, and :meth:`close` makes sure of it."""
        if self._warehouse is None:
            self._warehouse = WarehouseSession(
                self.settings.db_path,
                self.settings.site,
                run_id=self.run_id,
                kind=self.kind,
                wait_s=self.settings.writer_wait,
                on_wait=_say_waiting(self.settings.db_path),
                locks=self.part_of is None,
            )
        return self._warehouse

    @property
    def parse_pool(self) -> ParsePool:
        """The run's parsing workers (started on its first big batch), closed with the run."""
        if self._parse_pool is None:
            self._parse_pool = ParsePool(
                self.settings.parse_workers, self.settings.parse_memory * MiB
            )
        return self._parse_pool

    # -- open -------------------------------------------------------------------------------

    def open(self) -> CrawlState:
        self._started = time.monotonic()
        record = RunRecord(
            run_id=self.run_id,
            kind=self.kind,
            base_url=self.settings.base_url,
            started_at=datetime.now(UTC),
            flow_run_id=self.flow_run_id,
            pid=os.getpid(),
            host=socket.gethostname(),
        )
        try:
            # The writer lock first, here: another run writing is this run's answer
            # (WarehouseBusyError to its caller), never a step that failed with a traceback.
            self.warehouse.claim()
            self.state, self.memos = self.steps.open_run(
                self.settings, self.warehouse, record, self.policy, process_alive
            )
        except BaseException:
            self._release()  # a run that could not open holds nothing
            raise
        return self.state

    # -- count ------------------------------------------------------------------------------

    def count_fetches(self, stats: FetchStats) -> None:
        s = self.summary
        s.requests += stats.requests
        s.retries += stats.retries
        s.responses_429 += stats.responses_429
        s.responses_304 += stats.responses_304
        s.bytes_downloaded += stats.bytes
        s.held_back += stats.held_back
        s.held_back_s += round(stats.held_back_s)

    def count_batch(self, pages: list[FetchedPage], result: BatchResult) -> None:
        """Add a stored batch to the counters; raise :class:`CrawlError` to stop the run."""
        s = self.summary
        s.articles_new += result.counts.new
        s.articles_updated += result.counts.updated
        s.articles_unchanged += result.counts.unchanged
        s.articles_failed += result.counts.failed
        s.removed += result.counts.removed
        s.suspect_pages += len(result.counts.suspect)
        self.suspects.extend(result.suspect[: max(0, MAX_FAILURES_SHOWN - len(self.suspects))])
        s.gone += sum(1 for p in pages if p.status in GONE_STATUSES)
        room = max(0, MAX_FAILURES_SHOWN - len(s.failures))
        s.failures.extend(result.failures[:room])
        self.quality.add(result.quality)
        self.changed.extend(result.changed)
        self.settled.update(_failed_ids(pages, result, self.settings.site))
        self.attempts.extend(
            attempts_of(pages, set(result.failed_urls), self.state.known_ids, self.settings.site)
        )
        reason = failure_stop(pages, self.attempts) or self.deadline_passed()
        if reason:
            raise CrawlError(reason)

    def deadline_passed(self) -> str | None:
        """A crawl's deadline (a backfill runs for days by design, month by month, and a
        reparse sends no request: neither has one)."""
        elapsed = time.monotonic() - self._started
        if self.kind != "crawl" or elapsed <= self.settings.run_deadline:
            return None
        return (
            f"the run's deadline of {self.settings.run_deadline:g} s passed after"
            f" {elapsed:.0f} s (BAOLAOCAI_RUN_DEADLINE); stopped, the next run goes on"
        )

    def fetch_and_load(
        self, batches: Sequence[PlannedBatch], loaded: Callable[[list[str], BatchResult], None]
    ) -> None:
        """Fetch politely, then parse, clean, validate and store, batch after batch,
        **pipelined**: batch *N+1* is fetched (on the HTTP session's thread) while batch
        *N* is parsed (in the parsing worker), archived and loaded (here), so the site
        sees no pause at a batch's end and the parsing never waits for the network nor
        the network for the parsing. At most two batches are in flight.

        ``loaded(urls, result)`` follows each stored batch (counters, progress lines).
        A stop (:func:`failure_stop`, the deadline), an error or an interrupt stops the
        run after the batch being loaded (it commits whole or not at all) and sends no
        further request; the pages fetched ahead were never written anywhere, so the
        next run plans and fetches them again, as pages never asked for."""
        interrupts.check()  # an interrupt a library swallowed stops the run here
        if not batches:
            return
        if self.robots is None:
            raise CrawlError("internal: robots.txt was not read before fetching articles")
        feed = start_fetching(
            self.settings,
            self.http,
            self.pacer,
            self.robots,
            [(b.urls, b.validators) for b in batches],
            self._may_stop(),
        )
        try:
            self._warm_parsing()
            for batch in batches:
                interrupts.check()
                pages, stats = self.steps.fetch_batch(self.settings, feed, batch.urls)
                self.count_fetches(stats)
                result = self.steps.load_pages(
                    self.settings,
                    self.warehouse,
                    self.parse_pool,
                    self.run_id,
                    pages,
                    batch.lastmods,
                    listed_sections=self.listed_sections,
                )
                self.count_batch(pages, result)  # raises to stop the run
                feed.done(self._may_stop())
                loaded(batch.urls, result)
        finally:
            self.count_fetches(feed.stop())  # nothing more is sent

    def _warm_parsing(self) -> None:
        """Start the parsing worker while the first batches are being fetched: starting
        it (the forkserver imports the parser) takes a second or more, which the first
        batch's load would otherwise spend while the fetching, two batches ahead, waits
        for it. A blank page is parsed and forgotten; once per run."""
        if self._parse_warm or self.settings.parse_deadline <= 0:
            return
        self._parse_warm = True
        blank = FetchedPage(
            self.settings.base_url, self.settings.base_url, 200, datetime.now(UTC), "<html></html>"
        )
        self.parse_pool.process([blank], self.settings.site, deadline=self.settings.parse_deadline)

    def _may_stop(self) -> MayStop:
        """Whether a batch fetched ahead may stop the run, judged on the loop's thread
        before the next batch is sent: :func:`failure_stop` as if none of its pages
        became an article (only the load can tell), over a copy of the run's latest
        attempts (the run's thread goes on adding to them), or the deadline."""
        recent = tuple(self.attempts)
        known, site = self.state.known_ids, self.settings.site

        def may_stop(pages: list[FetchedPage]) -> bool:
            unstored = {p.url for p in pages}
            attempts = [*recent, *attempts_of(pages, unstored, known, site)]
            return failure_stop(pages, attempts) is not None or self.deadline_passed() is not None

        return may_stop

    # -- decide and close -------------------------------------------------------------------

    def execute(self, body: Callable[[Run], None]) -> Run:
        """Open, run ``body``, decide and close, whatever happens. A bug or an interrupt
        is recorded on the run, then raised again."""
        self.open()
        try:
            if self.kind != "reparse":
                progress.current().phase("robots")
            body(self)
        except Exception as exc:
            if interrupts.received() is not None:
                # Ctrl-C or SIGTERM came out as an error of a library (Prefect's task
                # engine: "Task run is not set"; DuckDB: "Query interrupted"): an interrupt
                self.close(error=INTERRUPTED, interrupted=True)
                raise KeyboardInterrupt from None
            if isinstance(exc, BaoLaoCaiError):
                self.close(error=exc.message)
                return self
            self.close(error=f"internal error: {type(exc).__name__}: {exc}")
            raise  # a bug: recorded on the run, then surfaced
        except BaseException:  # stopped from outside: Ctrl-C, SIGTERM (as an orchestrator
            # signal or KeyboardInterrupt), SystemExit
            self.close(error=INTERRUPTED, interrupted=True)
            raise
        else:
            self.close()
        return self

    def close(self, *, error: str | None = None, interrupted: bool = False) -> CrawlSummary:
        """Decide, record and let everything go. A failure to record (a full disk, a
        warehouse that went away) fails the run with that reason instead of raising:
        what the run stored before stays stored."""
        progress.current().phase("closing")
        try:
            self._release_workers()  # nothing more is fetched or parsed
            return self._close(error, interrupted)
        except BaoLaoCaiError as exc:
            s = self.summary
            if s.status != "interrupted":
                s.status = "failed"
            s.error = f"{error}; then {exc.message}" if error else exc.message
            return s
        finally:
            try:
                self._release()
            except BaoLaoCaiError as exc:
                if self.summary.error is None or exc.message not in self.summary.error:
                    self.summary.status = "failed"
                    self.summary.error = exc.message

    def _release_workers(self) -> None:
        """Close the run's HTTP client and stop its parsing workers."""
        http, self._http = self._http, None
        pool, self._parse_pool = self._parse_pool, None
        try:
            if http is not None:
                http.close()
        finally:
            if pool is not None:
                pool.close()

    def _release(self) -> None:
        """Close every resource of the run: the above, then its warehouse session
        (``close_run`` closed it already, unless something failed before)."""
        try:
            self._release_workers()
        finally:
            if self._warehouse is not None:
                self._warehouse.close()

    def _close(self, error: str | None, interrupted: bool) -> CrawlSummary:
        s = self.summary
        s.status, s.warning = decide_status(
            error, interrupted, self.quality, self.settings.drift_threshold
        )
        if s.suspect_pages and s.status in ("completed", "warning"):
            s.status, s.warning = (
                "warning",
                "; ".join(
                    w for w in (s.warning, suspect_warning(s.suspect_pages, self.suspects)) if w
                ),
            )
        s.error = error
        s.records_fallback = self.quality.fallback
        s.records_missing_date = self.quality.missing_date
        s.records_missing_title = self.quality.missing_title
        s.records_short_body = self.quality.short_body
        s.records_with_conflicts = self.quality.conflicts
        if self.quality.images_capped:
            s.notes.append(
                f"images: {self.quality.images_capped} articles have more than {MAX_IMAGES}"
                f" pictures; the first {MAX_IMAGES} of each were kept"
            )
        if not interrupted:
            # A lake's index also takes in what other writers committed (another run whose
            # update failed, a `sql --write`): its change feed, cheap when nothing changed.
            if s.articles_new or s.articles_updated or self.warehouse.lake:
                self.search_warning = self.steps.refresh_search(self.settings, self.warehouse)
                if self.search_warning:
                    s.notes.append(self.search_warning)
            reads = self.sitemaps_read
            site = self.settings.site
            if reads and s.status in ("completed", "warning"):
                gone = {i for u in self.state.gone if (i := article_id(u, site)) is not None}
                self.steps.remember_sitemaps(
                    self.settings, self.warehouse, self.run_id, reads, self.settled | gone
                )
        s.elapsed_s = round(time.monotonic() - self._started, 2)
        # Interrupted, the orchestrator may be going down too: record it directly.
        close = plain_close_run if interrupted else self.steps.close_run
        close(
            self.settings, self.warehouse, self.run_id, s.status, s.counters(), s.error, s.warning
        )
        return s


def suspect_warning(count: int, examples: Sequence[str]) -> str:
    """The warning of a run that refused pages of stored articles as not being them."""
    shown = "; ".join(examples[:2])
    return (
        f"{count} stored article(s) answered with a page that is not them (an error page"
        " served as 200, a redirect to another page, a text that collapsed): their stored"
        f" version was kept and the page archived (fetch_errors, stage 'identity'): {shown}"
    )


def _failed_ids(pages: list[FetchedPage], result: BatchResult, site: Site) -> set[int]:
    failed_urls = set(result.failed_urls) | {p.url for p in pages if not p.ok and p.status != 304}
    return {i for u in failed_urls if (i := article_id(u, site)) is not None}


def _say_waiting(db_path: str) -> Callable[[Holder], None]:
    def say(holder: Holder) -> None:
        log.warning("waiting for %s to finish writing %s", holder.describe(), db_path)

    return say


def start_of(day: date | None) -> datetime | None:
    from baolaocai.dates import SITE_TZ

    return datetime(day.year, day.month, day.day, tzinfo=SITE_TZ) if day else None
