"""A 429/503 holds back the whole host, judged from the server's own request log.

Every fetch test runs a real :class:`~scrapers.fetch.Fetcher` (concurrency 2, a fast
rate) against the loopback copy of the site and reads the arrival times the *server*
logged: after a 429/503 asking us to wait, no request of any kind may arrive before the
wait is over -- except one the client had already sent when it read the 429/503 (it
cannot take that one back). Which ones those are is read from the client's own record
of when it sent each request and read each answer (httpx's event hooks, on the same
clock as the server's log), not guessed from a fixed margin: on a loaded machine a
request sent before the answer was read reached the server's log 0.118 s after it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from scrapers.fetch import Fetcher, FetchStats, build_client
from scrapers.politeness import HOLD_SLACK_S, RequestPacer
from sitecopy import SITE_DIR, RequestRecord, SiteServer
from sitecopy.faults import FaultPlan, status
from sitecopy.server import send

ARTICLES = sorted(p.name for p in SITE_DIR.glob("*-post*.html"))
URLS = [f"https://baolaocai.vn/{name}" for name in ARTICLES]
HELD = [f"/{ARTICLES[i]}" for i in (1, 4, 8)]  # these answer their first request with a hold
RATE = 20.0
HOST = "127.0.0.1:8000"


@dataclass
class ClientLog:
    """When the client sent each request and read each answer, per path, in order
    (``time.monotonic()``, the clock of the server's log)."""

    sent: dict[str, list[float]] = field(default_factory=dict)
    read: dict[tuple[str, int], float] = field(default_factory=dict)
    """When the client read the first answer with a status, per path and status."""

    async def on_request(self, request: httpx.Request) -> None:
        self.sent.setdefault(request.url.path, []).append(time.monotonic())

    async def on_response(self, response: httpx.Response) -> None:
        self.read.setdefault((response.request.url.path, response.status_code), time.monotonic())

    def sent_after_reading(self, log: list[RequestRecord], answer: RequestRecord) -> set[int]:
        """The server's records (their ``id``) of requests the client sent after it read
        ``answer``: the k-th request of a path in the server's log is the k-th the client
        sent of it."""
        read_at = self.read[(answer.path, answer.status)]
        seen: dict[str, int] = {}
        after = set()
        for record in sorted(log, key=lambda r: r.started):
            k = seen[record.path] = seen.get(record.path, -1) + 1
            if self.sent[record.path][k] > read_at:
                after.add(id(record))
        return after


def fetch_all(
    site: SiteServer, **fetcher_options: object
) -> tuple[list[FetchedPage], FetchStats, float, ClientLog]:
    settings = Settings(base_url=site.url, rate=RATE, concurrency=2)
    client_log = ClientLog()

    async def run() -> tuple[list[FetchedPage], FetchStats]:
        async with build_client(settings) as client:
            client.event_hooks["request"].append(client_log.on_request)
            client.event_hooks["response"].append(client_log.on_response)
            fetcher = Fetcher(
                client,
                settings,
                RequestPacer(settings.rate),
                **fetcher_options,  # type: ignore[arg-type]
            )
            return await fetcher.fetch_many(URLS), fetcher.stats

    started = time.monotonic()
    pages, stats = asyncio.run(run())
    return pages, stats, time.monotonic() - started, client_log


def assert_quiet_after_holds(
    log: list[RequestRecord],
    code: int,
    hold_end: Callable[[RequestRecord], float],
    client: ClientLog,
) -> list[float]:
    """No request the client sent after reading a ``code`` answer arrives before that
    answer's hold ends.

    Returns, per hold, how long after the answer the next request arrived."""
    holds = [r for r in log if r.status == code]
    assert holds, f"no {code} was served"
    gaps = []
    for hold in holds:
        after = client.sent_after_reading(log, hold)
        early = [
            r
            for r in log
            if hold.finished < r.started < hold_end(hold) and id(r) in after and r is not hold
        ]
        assert not early, (
            f"{len(early)} request(s) arrived {[round(r.started - hold.finished, 3) for r in early]}"
            f" s after the {code} on {hold.path}, which held the host for"
            f" {hold_end(hold) - hold.finished:.2f} s"
        )
        later = [r.started - hold.finished for r in log if r.started > hold.finished]
        if later:
            gaps.append(min(later))
    return gaps


# The four tests below wait out real 2 s holds (about 7 s each). The same rules are proved
# in milliseconds on a virtual clock in test_fetch_rules.py; these stay as the end-to-end
# proof from a real server's log, in the slow set.
@pytest.mark.slow
@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_seconds_holds_back_every_request(site: SiteServer, code: int) -> None:
    site.override = FaultPlan({path: [status(code, Retry_After="2")] for path in HELD})
    pages, stats, _, client = fetch_all(site)
    assert all(p.ok for p in pages), [p.error for p in pages if not p.ok]
    log = site.requests
    gaps = assert_quiet_after_holds(log, code, lambda r: r.finished + 2.0, client)
    assert len(gaps) == len(HELD) and min(gaps) >= 0  # see the module docstring
    assert stats.held_back == len(HELD) and 0 < stats.held_back_s <= 2.0 * len(HELD) + 0.5
    assert sorted(r.path for r in log if r.status == 200) == sorted(f"/{a}" for a in ARTICLES)


class DateHold:
    """Answers the first request of each held path with 429 and a Retry-After date 2 s on
    (made when the request arrives, so it is never already in the past)."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = set(paths)
        self.sent: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        path = handler.path.split("?", 1)[0]
        with self._lock:
            if path not in self.paths or path in self.sent:
                return False
            self.sent[path] = formatdate(time.time() + 2, usegmt=True)
        send(handler, 429, b"slow down", "text/plain", {"Retry-After": self.sent[path]})
        return True


@pytest.mark.slow
def test_retry_after_http_date_holds_back_every_request(site: SiteServer) -> None:
    site.override = plan = DateHold(HELD)
    wall_minus_monotonic = time.time() - time.monotonic()
    pages, stats, _, client = fetch_all(site)
    assert all(p.ok for p in pages), [p.error for p in pages if not p.ok]

    def until(record: RequestRecord) -> float:
        """The date's own instant (HTTP dates have 1 s resolution), on the log's clock."""
        return parsedate_to_datetime(plan.sent[record.path]).timestamp() - wall_minus_monotonic

    assert_quiet_after_holds(site.requests, 429, until, client)
    assert stats.held_back == len(HELD)


@pytest.mark.slow
def test_429_without_retry_after_holds_back_the_host_for_the_backoff(site: SiteServer) -> None:
    base = 2.0
    site.override = FaultPlan({path: [status(429)] for path in HELD})
    pages, stats, _, client = fetch_all(site, backoff_base=base, rng=random.Random(0))
    assert all(p.ok for p in pages)
    # Each held path fails once (attempt 1, ceiling = base), so each hold is one of the first
    # draws of Random(0): base/2 + uniform(0, base/2). The smallest of them bounds them all.
    rng = random.Random(0)
    shortest = min(base / 2 + rng.uniform(0, base / 2) for _ in HELD)
    assert shortest > 1.0
    assert_quiet_after_holds(site.requests, 429, lambda r: r.finished + shortest, client)
    assert stats.held_back == len(HELD)


def test_retry_after_beyond_the_cap_fails_at_once_and_sends_nothing_more(
    site: SiteServer,
) -> None:
    held = HELD[0]
    site.override = FaultPlan({held: [status(429, Retry_After="3600")]})
    pages, stats, elapsed, client = fetch_all(site)
    # It does not wait an hour, or even the 120 s cap. A liveness bound, not a speed
    # target (about 0.1 s here).
    assert elapsed < 60.0
    page = next(p for p in pages if p.fetched_url.endswith(held))
    assert not page.ok and page.transient and page.status == 429
    message = page.error or ""
    assert "asked us to wait 3600 s (Retry-After)" in message and "will not wait" in message
    assert "\n" not in message
    (answer,) = [r for r in site.requests if r.status == 429]
    assert client.sent_after_reading(site.requests, answer) == set()  # nothing sent after it
    # Everything not fetched before the 429 failed the same way, without a request.
    failed = [p for p in pages if not p.ok]
    assert len(failed) >= len(pages) - 4
    assert all("3600 s (Retry-After)" in (p.error or "") and p.transient for p in failed)
    assert stats.held_back == 1 and stats.held_back_s == 0.0


def test_stats_merge_keeps_the_holds() -> None:
    total = FetchStats(held_back=1, held_back_s=2.0)
    total.merge(FetchStats(held_back=2, held_back_s=1.5))
    assert (total.held_back, total.held_back_s) == (3, 3.5)


class VirtualTime:
    """A fake clock with an async sleep that only returns when the test moves time on."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    @property
    def sleeping(self) -> int:
        return len(self._sleepers)

    async def run_until(self, instant: float) -> None:
        """Move time on to ``instant``, waking the sleepers due on the way in order."""
        while True:
            for _ in range(20):  # let woken tasks run until they sleep again or finish
                await asyncio.sleep(0)
            if not self._sleepers or self._sleepers[0][0] > instant:
                self.now = max(self.now, instant)
                return
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)


def test_a_slot_reserved_before_the_hold_waits_for_its_end_then_requests_are_spaced() -> None:
    async def scenario() -> None:
        time_ = VirtualTime()
        pacer = RequestPacer(10.0, clock=time_.clock, sleep=time_.sleep)
        released: dict[str, float] = {}

        async def request(name: str) -> None:
            assert await pacer.wait(HOST) is None
            released[name] = time_.now

        tasks = [asyncio.create_task(request(name)) for name in "abc"]
        await time_.run_until(0.05)
        assert released == {"a": 0.0} and time_.sleeping == 2  # b and c hold slots
        assert pacer.push_back(HOST, 2.0) == pytest.approx(2.0)  # a 429, Retry-After: 2
        assert pacer.push_back(HOST, 1.0) == 0.0  # a shorter hold inside it adds nothing
        await time_.run_until(1.0)
        tasks.append(asyncio.create_task(request("d")))  # a new request during the hold
        await time_.run_until(60.0)
        await asyncio.gather(*tasks)

        end = 0.05 + 2.0 + HOLD_SLACK_S
        starts = sorted(released[name] for name in "bcd")
        assert starts[0] == pytest.approx(end)  # not before the hold ends, and not later
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(g == pytest.approx(pacer.interval) for g in gaps)  # spaced, not all at once
        assert released["b"] < released["c"]  # those waiting longest go first

    asyncio.run(scenario())


def test_wait_refuses_a_hold_longer_than_max_hold_without_waiting_for_it() -> None:
    async def scenario() -> None:
        time_ = VirtualTime()
        pacer = RequestPacer(10.0, clock=time_.clock, sleep=time_.sleep)
        assert await pacer.wait(HOST, max_hold=120) is None
        sleeping = asyncio.create_task(pacer.wait(HOST, max_hold=120))  # slot at 0.108
        await time_.run_until(0.05)
        pacer.push_back(HOST, 3600)
        hold = await pacer.wait(HOST, max_hold=120)  # refused at once, no slot taken
        assert hold is not None and hold.asked == 3600 and time_.now == 0.05
        await time_.run_until(0.2)
        refused = await sleeping  # refused when its slot came, not an hour later
        assert refused is not None and refused.asked == 3600 and time_.now == 0.2
        assert pacer.held_for(HOST) == pytest.approx(3600 - 0.15)

    asyncio.run(scenario())


def test_a_hold_is_shared_across_threads_and_event_loops() -> None:
    pacer = RequestPacer(50.0)  # interval 0.0256 s
    released: list[float] = []
    lock = threading.Lock()
    go = threading.Barrier(3)

    def worker() -> None:
        async def one() -> None:
            await pacer.wait(HOST)
            with lock:
                released.append(time.monotonic())

        async def many() -> None:
            go.wait()
            await asyncio.gather(*(one() for _ in range(4)))

        asyncio.run(many())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    go.wait()
    time.sleep(0.01)  # the requests hold slots now; the first one (slot "now") is out
    pushed = time.monotonic()
    pacer.push_back(HOST, 0.3)
    for thread in threads:
        thread.join(timeout=10)
    assert len(released) == 8
    end = pushed + 0.3
    early = [t for t in released if t < end]
    assert len(early) <= 2  # only slots that came before the push (1, or 2 if we were slow)
    # Fresh slots after the hold are one interval apart; nobody is released before its slot
    # (released *later* than the slot is the threads' scheduling, not the pacer's doing).
    after = sorted(t for t in released if t >= end)
    assert all(t >= end + k * pacer.interval for k, t in enumerate(after))
