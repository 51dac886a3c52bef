"""HTTP: the one module that talks httpx.

:func:`build_client` makes the run's ``httpx.AsyncClient`` (User-Agent, timeouts, pool);
:class:`Fetcher` uses a client it is *handed* (tests pass one with a mock transport) and
owns retries, pacing, the request deadline, the response-size cap, redirects and charset
decoding. httpx exceptions are mapped to :mod:`baolaocai.errors` here and nowhere else.

Every request has a *total* deadline, ``settings.request_deadline`` (60 s): connecting,
the headers and the whole body together, not only httpx's per-read timeout (which a
server trickling one byte a second never trips). Waiting in the pacer before the request
is sent does not count; each redirect hop is a request with its own deadline. When it
passes, the request is abandoned as a :class:`~baolaocai.errors.TransientFetchError`
"no complete answer within the 60 s deadline (BAOLAOCAI_REQUEST_DEADLINE)", retried like
a timeout. A fetch therefore takes at most ``(retries + 1) * request_deadline`` plus the
backoff and pacing between attempts.

The body is read up to a size cap, counted *after* decompression (a gzip bomb is cut
off): ``settings.max_response_bytes`` (10 MiB), or the ``max_bytes`` a caller passes for
one fetch (sitemaps and feeds use ``settings.max_sitemap_bytes``, 50 MiB). A body over
its cap is a terminal failure whose reason starts with :data:`TOO_LARGE` and gives the
size (from ``Content-Length``, or "more than" when the body is streamed) and the cap.

Retry policy (the only place anything is retried): connection errors, timeouts, 429 and
5xx are retried up to ``retries`` times with exponential backoff and jitter (a
delay drawn from ``[c/2, c]`` with ``c = min(backoff_cap, backoff_base * 2**(attempt-1))``).
404/410 and other 4xx are terminal.

A 429 or 503 holds back the whole host, not just the request that got it: its
``Retry-After`` (delta-seconds or HTTP date), or without one the backoff computed for that
attempt, becomes a hold on the run's shared :class:`~scrapers.politeness.RequestPacer`
(also on the last attempt, which is not retried). No request to the host starts before
the hold ends: not the retry, not the other in-flight requests, not one that had already
reserved its start slot, not discovery. After it, requests resume one pacing interval
apart. The retry waits in the pacer like everyone else. Other 5xx, timeouts and
connection errors hold back only the request that got them (its ``Retry-After``, if any,
capped at ``retry_after_cap``, else the backoff).

A ``Retry-After`` longer than ``retry_after_cap`` is neither shortened nor ignored: the
host is held for the full time, and every request to it while more than
``retry_after_cap`` seconds of the hold are left fails at once, without sending anything,
as a :class:`~baolaocai.errors.TransientFetchError` saying the site asked us to wait that
long (the run's failure stop then ends the run with that reason; the next run picks up).

:class:`FetchStats` counts the holds (``held_back``) and the seconds they added to the
time the host was held back (``held_back_s``; holds that the run refused to wait out
because they exceed ``retry_after_cap`` add nothing, as the run did not wait for them).

With a :class:`~scrapers.politeness.HostGate` (several workers crawling one host), each
request, once the local pacer lets it go, also waits at the gate for the host's shared
rate slot and in-flight slot, and frees the latter when its answer is read. A hold found
at the gate (another worker got a 429/503) goes into the local pacer, which waits it out
with this process's other requests, or refuses it past ``retry_after_cap``, as its own;
a hold this fetcher sets is shared through the gate too. A gate that cannot be reached
fails the request (a transient fetch error naming the reason): it is never sent unpaced.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

from baolaocai import progress
from baolaocai.decoding import decode_html as decode_html  # re-exported for its users
from baolaocai.errors import FetchError, ServiceError, TerminalFetchError, TransientFetchError
from baolaocai.identity import canonicalize, is_site_url, to_fetch_url
from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from scrapers.politeness import Hold, HostGate, RequestPacer, RobotsRules

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
HOLD_STATUSES = frozenset({429, 503})
"""Answers that hold back the whole host (for their ``Retry-After`` or the backoff)."""
KEPT_HEADERS = (
    "etag",
    "last-modified",
    "content-type",
    "content-length",
    "retry-after",
    "cache-control",
    "date",
    "location",
)
MAX_REDIRECTS = 5
TOO_LARGE = "response too large"
"""How the reason of a failure for a body over its size cap starts."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for the process: loading the CA bundle took 30 ms for every client
    (a client per batch, so 9 % of a fast crawl's CPU); a shared context takes 0.1 ms."""
    return ssl.create_default_context(cafile=certifi.where())


def build_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The run's HTTP client. Redirects are followed by :class:`Fetcher`, not httpx.
    ``transport`` replaces the network (``httpx.MockTransport`` in tests)."""
    return httpx.AsyncClient(
        transport=transport,
        verify=tls_context(),
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "vi,en;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        },
        timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
        limits=httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        ),
        follow_redirects=False,
        trust_env=False,
    )


class BodySink(Protocol):
    """Takes a response body piece by piece (e.g. a streaming sitemap parser)."""

    def reset(self) -> None:
        """Forget what was fed: a new attempt starts."""

    def feed(self, data: bytes) -> None: ...


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    responses_429: int = 0
    responses_304: int = 0
    bytes: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    held_back: int = 0
    """429/503 answers that held back the whole host (for ``Retry-After`` or the backoff)."""
    held_back_s: float = 0.0
    """Seconds those holds added to the time the host was held back (overlaps count once)."""

    def merge(self, other: FetchStats) -> None:
        self.requests += other.requests
        self.retries += other.retries
        self.responses_429 += other.responses_429
        self.responses_304 += other.responses_304
        self.bytes += other.bytes
        self.held_back += other.held_back
        self.held_back_s += other.held_back_s
        for k, v in other.statuses.items():
            self.statuses[k] = self.statuses.get(k, 0) + v

    def copy(self) -> FetchStats:
        return replace(self, statuses=dict(self.statuses))

    def since(self, earlier: FetchStats) -> FetchStats:
        """What was counted after ``earlier`` (a :meth:`copy` of these stats) was taken."""
        return FetchStats(
            requests=self.requests - earlier.requests,
            retries=self.retries - earlier.retries,
            responses_429=self.responses_429 - earlier.responses_429,
            responses_304=self.responses_304 - earlier.responses_304,
            bytes=self.bytes - earlier.bytes,
            statuses={
                k: n for k, v in self.statuses.items() if (n := v - earlier.statuses.get(k, 0))
            },
            held_back=self.held_back - earlier.held_back,
            held_back_s=self.held_back_s - earlier.held_back_s,
        )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def describe_size(n: int) -> str:
    """``10 MiB (10,485,760 bytes)``, or ``12,345 bytes`` when not a whole number of MiB."""
    mib = 1024 * 1024
    if n >= mib and n % mib == 0:
        return f"{n // mib} MiB ({n:,} bytes)"
    return f"{n:,} bytes"


class Fetcher:
    """Fetches canonical URLs from ``settings.base_url`` politely, with retries."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        pacer: RequestPacer,
        robots: RobotsRules | None = None,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        retry_after_cap: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.pacer = pacer
        self.gate = gate if gate is not None else pacer.gate
        self.robots = robots
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._in_flight = asyncio.Semaphore(settings.concurrency)
        self.stats = FetchStats()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        sink: BodySink | None = None,
    ) -> FetchedPage:
        """Fetch one canonical URL. Failures come back as a page with ``error`` set.

        ``max_bytes`` is this fetch's body cap (after decompression) instead of
        ``settings.max_response_bytes``: sitemaps and feeds may be bigger than pages.

        With a ``sink``, the body is handed to it chunk by chunk as it arrives (after
        :meth:`BodySink.reset` at each attempt) instead of being held: the page comes
        back with ``html == ""`` and the sink holds what it made of the body."""
        limit = max_bytes if max_bytes is not None else self.settings.max_response_bytes
        fetched_url = to_fetch_url(url, self.settings.base_url)
        started = time.monotonic()
        attempts = 0
        try:
            if self.robots is not None and not self.robots.allowed(url):
                raise TerminalFetchError("disallowed by robots.txt", url=url)
            headers = {}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            host = urlsplit(fetched_url).netloc
            while True:
                attempts += 1
                try:
                    return await self._fetch_once(
                        url, fetched_url, headers, started, attempts, limit, sink
                    )
                except TransientFetchError as exc:
                    held = exc.held  # set as the answer was read (see _fetch_once)
                    if self.pacer.held_for(host) > self.retry_after_cap:
                        raise self._refusal(url, host, exc.status) from None
                    if attempts > self.settings.retries:
                        raise
                    self.stats.retries += 1
                    if held is not None:  # the pacer holds the retry back with everyone else
                        log.info(
                            "%s: %s; host held back %.1fs, then retry %d",
                            url,
                            exc.message,
                            held,
                            attempts,
                        )
                        continue
                    delay = self._backoff(attempts, exc.retry_after)
                    log.info("%s: %s; retry %d in %.1fs", url, exc.message, attempts, delay)
                    await self._sleep(delay)
        except FetchError as exc:
            return FetchedPage(
                url=url,
                fetched_url=fetched_url,
                status=exc.status or 0,
                fetched_at=datetime.now(UTC),
                html=None,
                error=exc.reason,
                elapsed_ms=(time.monotonic() - started) * 1000,
                attempts=attempts,
                transient=exc.transient,
            )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """The delay before retrying a request that only holds back itself."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        return float(ceiling / 2 + self._rng.uniform(0, ceiling / 2))

    def _hold_host(self, host: str, exc: TransientFetchError, attempt: int) -> float | None:
        """After a 429/503, hold back the whole host: for the full ``Retry-After`` (even
        beyond ``retry_after_cap``), else for the backoff of this attempt. Returns the
        hold in seconds, or None if the answer does not hold back the host."""
        if exc.status not in HOLD_STATUSES:
            return None
        if exc.retry_after is not None:
            seconds = exc.retry_after
        else:
            seconds = min(self._backoff(attempt, None), self.retry_after_cap)
        added = self.pacer.push_back(host, seconds)
        if self.gate is not None:
            self.gate.push_back(host, seconds)
        if seconds > 0:
            self.stats.held_back += 1
            if seconds <= self.retry_after_cap:
                self.stats.held_back_s += added
            if added > 0:
                what = "Retry-After" if exc.retry_after is not None else "backoff"
                progress.current().slowed(f"HTTP {exc.status}, {what}", seconds)
        return seconds

    def _refusal(self, url: str, host: str, status: int | None) -> TransientFetchError:
        """The error of a request not sent because the host's hold exceeds the cap."""
        hold = self.pacer.hold(host)
        asked = hold.asked if hold is not None else self.pacer.held_for(host)
        return TransientFetchError(
            f"the site asked us to wait {asked:.0f} s (Retry-After); this run will not wait "
            f"that long (limit {self.retry_after_cap:g} s), a later run will pick up",
            url=url,
            status=status,
            retry_after=self.pacer.held_for(host) or None,
        )

    async def _wait_turn(self, url: str, host: str) -> Hold | None:
        """Until this request may start: the pacer's slot, then the gate's slots. A
        shared hold found at the gate goes into the pacer, which waits it out (holding
        this process's other requests too) before the gate is asked again. Returns the
        hold refused for being longer than ``retry_after_cap`` (nothing taken)."""
        while True:
            hold = await self.pacer.wait(host, max_hold=self.retry_after_cap)
            if hold is not None or self.gate is None:
                return hold
            try:
                left = await self.gate.enter(host)
            except ServiceError as exc:
                raise TransientFetchError(exc.message, url=url) from None
            if left is None:
                if not self.pacer.held_for(host):
                    return None
                # A 429 of this process came back while the gate's slots were asked for
                # (some API calls long): its hold is in the pacer, not yet on the server.
                # Give the slots back and wait it out with the others (seen: a request
                # sent 0.4 s into a 2 s Retry-After).
                await self.gate.leave(host)
                continue
            self.pacer.push_back(host, left)

    async def _fetch_once(
        self,
        url: str,
        fetched_url: str,
        headers: dict[str, str],
        started: float,
        attempts: int,
        limit: int,
        sink: BodySink | None = None,
    ) -> FetchedPage:
        target = fetched_url
        deadline = self.settings.request_deadline
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(target).netloc
            async with self._in_flight:
                if await self._wait_turn(url, host) is not None:
                    raise self._refusal(url, host, None)
                self.stats.requests += 1
                try:
                    async with (
                        asyncio.timeout(deadline),
                        self.client.stream("GET", target, headers=headers) as response,
                    ):
                        status = response.status_code
                        self.stats.statuses[status] = self.stats.statuses.get(status, 0) + 1
                        kept = {k: v for k in KEPT_HEADERS if (v := response.headers.get(k))}
                        if status in (301, 302, 303, 307, 308):
                            target = self._redirect_target(url, target, response)
                            continue
                        if status == 304:
                            self.stats.responses_304 += 1
                            return FetchedPage(
                                url,
                                fetched_url,
                                304,
                                datetime.now(UTC),
                                None,
                                kept,
                                None,
                                (time.monotonic() - started) * 1000,
                                attempts,
                            )
                        if status in RETRY_STATUSES:
                            if status == 429:
                                self.stats.responses_429 += 1
                            refused = TransientFetchError(
                                f"HTTP {status}",
                                url=url,
                                status=status,
                                retry_after=parse_retry_after(response.headers.get("retry-after")),
                            )
                            # The host is held back here, before anything is awaited (the
                            # answer's close, the gate's leave: an API call): any await lets
                            # this process's other requests pass the pacer and the gate
                            # without seeing the hold (seen: a request sent 0.46 s into a
                            # Retry-After while the slot of the 429 was being given back).
                            refused.held = self._hold_host(host, refused, attempts)
                            raise refused
                        if status >= 400:
                            raise TerminalFetchError(f"HTTP {status}", url=url, status=status)
                        if sink is not None:
                            sink.reset()
                        body = await self._read_capped(url, response, limit, sink)
                        received = tuple(response.headers.multi_items())
                        sent = tuple(response.request.headers.multi_items())
                except TimeoutError:  # the total deadline, not one of httpx's timeouts
                    raise TransientFetchError(
                        f"no complete answer within the {deadline:g} s deadline"
                        " (BAOLAOCAI_REQUEST_DEADLINE)",
                        url=url,
                    ) from None
                except httpx.TimeoutException as exc:
                    raise TransientFetchError(f"timeout ({type(exc).__name__})", url=url) from None
                except httpx.TransportError as exc:
                    raise TransientFetchError(
                        f"connection error: {exc or type(exc).__name__}", url=url
                    ) from None
                finally:
                    if self.gate is not None:
                        await self._leave_gate(url, host)
            content_type = kept.get("content-type", "")
            if content_type and not re.search(r"html|xml|text/plain", content_type, re.I):
                raise TerminalFetchError(f"not a web page ({content_type})", url=url, status=status)
            reached = (
                canonicalize(target, self.settings.site, base_url=self.settings.base_url)
                if target != fetched_url
                else None
            )
            return FetchedPage(
                url=url,
                fetched_url=fetched_url,
                status=status,
                fetched_at=datetime.now(UTC),
                html=decode_html(body, content_type),
                headers=kept,
                elapsed_ms=(time.monotonic() - started) * 1000,
                attempts=attempts,
                body=body if sink is None else None,
                response_headers=received,
                request_headers=sent,
                redirected_to=reached if reached != url else None,
            )
        raise TerminalFetchError(f"more than {MAX_REDIRECTS} redirects", url=url)

    async def _leave_gate(self, url: str, host: str) -> None:
        """Free the gate's in-flight slot. A failure does not throw away the answer
        just read: the slot frees by its lease's expiry, and the next request fails
        at the gate if the shared state is really out of reach."""
        assert self.gate is not None
        try:
            await self.gate.leave(host)
        except ServiceError as exc:
            log.error("%s: %s", url, exc.message)

    def _redirect_target(self, url: str, current: str, response: httpx.Response) -> str:
        location = response.headers.get("location")
        if not location:
            raise TerminalFetchError(f"HTTP {response.status_code} without Location", url=url)
        absolute: str | None
        try:
            absolute = urljoin(current, location)
            _ = urlsplit(absolute).port  # a port past 65535, an unclosed [IPv6 …
            httpx.URL(absolute)  # what the client itself refuses (a bad host …)
        except (ValueError, httpx.InvalidURL):
            absolute = None
        if absolute is None or not location.isprintable():
            # The page's own failure (parked), never a connection error to retry.
            raise TerminalFetchError(
                f"HTTP {response.status_code} to an invalid address"
                f" ({location[:80].encode('unicode_escape').decode('ascii')})",
                url=url,
                status=response.status_code,
            )
        if not is_site_url(absolute, self.settings.site, self.settings.base_url):
            raise TerminalFetchError(
                f"redirect off the site to {absolute}", url=url, status=response.status_code
            )
        canonical = canonicalize(absolute, self.settings.site, current, self.settings.base_url)
        assert canonical is not None
        if self.robots is not None and not self.robots.allowed(canonical):
            raise TerminalFetchError(f"redirect to {canonical}, disallowed by robots.txt", url=url)
        return to_fetch_url(canonical, self.settings.base_url)

    async def _read_capped(
        self, url: str, response: httpx.Response, limit: int, sink: BodySink | None = None
    ) -> bytes:
        """Read at most ``limit`` bytes of *decoded* body (a decompression guard); with a
        ``sink``, hand each chunk to it and keep none (returns ``b""``)."""
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TerminalFetchError(
                f"{TOO_LARGE}: {int(declared):,} bytes (Content-Length), more than the cap"
                f" of {describe_size(limit)}",
                url=url,
                status=response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                self.stats.bytes += response.num_bytes_downloaded
                raise TerminalFetchError(
                    f"{TOO_LARGE}: more than the cap of {describe_size(limit)}"
                    " (after decompression; reading stopped there)",
                    url=url,
                    status=response.status_code,
                )
            if sink is not None:
                sink.feed(chunk)
            else:
                chunks.append(chunk)
        self.stats.bytes += response.num_bytes_downloaded
        return b"".join(chunks)

    async def fetch_many(
        self,
        urls: Iterable[str],
        validators: dict[str, tuple[str | None, str | None]] | None = None,
    ) -> list[FetchedPage]:
        """Fetch concurrently (bounded by ``concurrency``); results in input order."""
        validators = validators or {}
        return list(
            await asyncio.gather(
                *(
                    self.fetch(
                        u,
                        etag=validators.get(u, (None, None))[0],
                        last_modified=validators.get(u, (None, None))[1],
                    )
                    for u in urls
                )
            )
        )


def _worst(task: asyncio.Task[FetchedPage]) -> FetchedPage:
    """A fetch's page, or, while it is under way (or if it broke), a transient failure:
    the worst it can still give, for :meth:`BatchStream._until_harmless`."""
    if task.done() and not task.cancelled() and task.exception() is None:
        return task.result()
    url = task.get_name()
    return FetchedPage(url, url, 0, datetime.now(UTC), None, error="under way", transient=True)


Batch = tuple[Sequence[str], Mapping[str, tuple[str | None, str | None]]]
"""The URLs of one batch and the validators (``ETag``, ``Last-Modified``) of those that
have some."""


MayStop = Callable[[list[FetchedPage]], bool]
"""Whether a fetched batch may stop the run (its failure rules, its deadline): then the
next batch is not sent before the run has had its say on this one."""


class BatchStream:
    """Batches of URLs fetched in order, on the run's event loop, **while the run parses
    and loads** the batches already in.

    Fetching batch by batch (all of a batch, then parse and load it, then the next) left
    the site a silence at every boundary, the batch's processing; with politeness off, the
    network waited for the parser and the parser for the network. Here batch *k+1* is
    sent as soon as batch *k* cannot stop the run any more (usually before its last
    answers are in), while the run works on batch *k-1* then *k*, through the same
    fetcher (its ``concurrency`` slots) and the run's pacer (every start spaced,
    ``Retry-After`` holds obeyed). A batch is handed out by :meth:`take`, in order, once
    all its pages are in, in input order (as :meth:`Fetcher.fetch_many`).

    Two rules keep it a good guest and bounded:

    * batch *k+1* is not sent while batch *k-1* is not done with (:meth:`done`: the run
      stored it and goes on): at most two batches in flight, one being loaded and one
      being fetched;
    * a batch that ``may_stop`` the run (enough failures for a stop rule, even if none
      of its pages became an article; the run's deadline) holds the next one back until
      the run has had its say: a run that stops sends nothing after the batch that
      stopped it, exactly as when batches were fetched one after the other.

    Every method runs on the fetcher's event loop (see
    :meth:`scrapers.http.HttpSession.run`)."""

    def __init__(self, fetcher: Fetcher, batches: Sequence[Batch], may_stop: MayStop) -> None:
        self.fetcher = fetcher
        self.batches = list(batches)
        self.may_stop = may_stop
        """Asked of each batch once its pages are in; :meth:`done` hands a fresh one (the
        run's counters move with each batch stored)."""
        self._launched: list[asyncio.Future[list[asyncio.Task[FetchedPage]]]] = []
        self._progress: asyncio.Event | None = None
        self._done = 0
        """Batches the run is done with."""
        self._producer: asyncio.Task[None] | None = None
        self._taken = 0
        self._counted = fetcher.stats.copy()

    async def start(self) -> None:
        """Send the first batch (returns at once)."""
        loop = asyncio.get_running_loop()
        self._progress = asyncio.Event()
        self._launched = [loop.create_future() for _ in self.batches]
        self._producer = asyncio.create_task(self._produce(), name="baolaocai-fetch-ahead")

    async def _until_done(self, count: int) -> None:
        assert self._progress is not None
        while self._done < count:
            self._progress.clear()
            await self._progress.wait()

    async def _produce(self) -> None:
        try:
            await self._launch_all()
        except BaseException as exc:
            # A bug (or the stop's cancellation): a take waiting for a batch never
            # launched must fail with it, not wait forever.
            for launched in self._launched:
                if launched.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    launched.cancel()
                else:
                    launched.set_exception(exc)
            raise

    async def _launch_all(self) -> None:
        previous: list[asyncio.Task[FetchedPage]] = []
        for k, (urls, validators) in enumerate(self.batches):
            if k > 0:
                await self._until_done(k - 1)  # batch k-2 stored: two in flight at most
                await self._until_harmless(previous, k)
            previous = [
                asyncio.create_task(
                    self.fetcher.fetch(
                        u,
                        etag=validators.get(u, (None, None))[0],
                        last_modified=validators.get(u, (None, None))[1],
                    ),
                    name=u,  # the URL, for a worst case while it is under way
                )
                for u in urls
            ]
            self._launched[k].set_result(previous)

    async def _until_harmless(self, tasks: list[asyncio.Task[FetchedPage]], k: int) -> None:
        """Until batch *k-1* (``tasks``) cannot stop the run whatever its fetches still
        under way give (each counted as a transient failure), or, if it may, until the
        run is done with it. A healthy batch thus lets the next one go before its last
        answers are in: a slow answer or a retry in it does not leave the other
        concurrency slots idle."""
        pending = {t for t in tasks if not t.done()}
        while self.may_stop([_worst(t) for t in tasks]):
            if not pending:
                await self._until_done(k)  # the run's word on batch k-1 first
                return
            _answered, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    async def take(self) -> tuple[list[FetchedPage], FetchStats]:
        """The next batch's pages, once all are in, and the fetch stats counted since the
        last take (the next batch's requests under way included: every request is
        counted once, and the last take, or :meth:`stop`, counts the rest)."""
        if self._taken >= len(self.batches):
            raise IndexError("every batch of the stream was taken")
        index, self._taken = self._taken, self._taken + 1
        tasks = await asyncio.shield(self._launched[index])
        pages = list(await asyncio.gather(*tasks))
        return pages, self._count()

    async def done(self, may_stop: MayStop) -> None:
        """The run stored the batch it took last and goes on; ``may_stop`` judges the
        next ones."""
        assert self._progress is not None
        self.may_stop = may_stop
        self._done += 1
        self._progress.set()

    def _count(self) -> FetchStats:
        stats, self._counted = self.fetcher.stats.since(self._counted), self.fetcher.stats.copy()
        return stats

    async def stop(self) -> FetchStats:
        """Send nothing more: the launching and every fetch not finished are cancelled
        (the pages of batches not taken are dropped: never stored, the next run asks
        for them again). Returns the stats not yet counted. Idempotent."""
        if self._producer is not None:
            self._producer.cancel()
        launched = [
            f.result()
            for f in self._launched
            if f.done() and not f.cancelled() and f.exception() is None
        ]
        tasks = [t for ts in launched for t in ts if not t.done()]
        for task in tasks:
            task.cancel()
        if self._producer is not None:
            await asyncio.gather(self._producer, *tasks, return_exceptions=True)
        self._taken = len(self.batches)
        return self._count()
