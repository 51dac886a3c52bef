"""The fetch layer's rules against ``httpx.MockTransport``: no sockets, no sleeping.

The network is replaced where the code itself allows it (:func:`scrapers.fetch.build_client`
takes a transport), the pacer and the fetcher share a virtual clock (their ``clock`` and
``sleep`` are injectable), so a 30 s ``Retry-After`` costs a few milliseconds and the
timeline the tests read is exact. Only the total request deadline is real time: it is an
``asyncio.timeout`` on the event loop, so those tests use a deadline of 0.2 s.

The loopback tests (``test_fetch.py``, ``test_faults.py``, ``test_hostile_fetch.py``,
``test_retry_after.py``, ``test_hostile_robots.py``) keep proving the same rules end to
end against a real server; the slow ones among them carry ``@pytest.mark.slow``.
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import itertools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, TypeVar

import httpx
import pytest

from baolaocai.errors import CrawlError
from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from scrapers.fetch import MAX_REDIRECTS, TOO_LARGE, Fetcher, build_client
from scrapers.http import HttpSession
from scrapers.politeness import HOLD_SLACK_S, RequestPacer, RobotsRules, pacing_interval
from scrapers.robots import read_robots

T = TypeVar("T")

MIRROR = "http://mirror.test"
HOST = "mirror.test"
ARTICLE = "https://baolaocai.vn/y-ty-vao-mua-lua-chin-post398207.html"
OTHER = "https://baolaocai.vn/cho-phien-bac-ha-post376388.html"
PAGE = b"<html><head><title>Y T\xc3\xbd</title></head><body>Y T\xc3\xbd</body></html>"
HTML = {"content-type": "text/html; charset=utf-8"}


class VirtualTime:
    """A clock and an async sleep for the pacer and the fetcher: time only moves when every
    task is waiting, and then straight to the next sleeper's instant."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        """The fetcher's own sleeps (its backoffs), not the pacer's."""
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def backoff(self, seconds: float) -> None:
        """The fetcher's sleep: recorded in :attr:`sleeps`."""
        self.sleeps.append(seconds)
        await self.sleep(seconds)

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    async def drive(self, work: Awaitable[T]) -> T:
        """Run ``work`` to its end, moving time on whenever nothing else can run."""
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every task run until it sleeps or finishes
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                if self._sleepers:
                    when, _, future = heapq.heappop(self._sleepers)
                    self.now = max(self.now, when)
                    future.set_result(None)
                else:  # waiting on real time (the request deadline)
                    await asyncio.sleep(0.005)
        return task.result()


@dataclass
class Seen:
    """A request as the transport saw it, at an instant of the virtual clock."""

    at: float
    request: httpx.Request

    @property
    def path(self) -> str:
        return self.request.url.path


Answer = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


@dataclass
class Site:
    """A scripted site: ``answer`` per request; every request is logged in ``seen``."""

    answer: Answer
    time: VirtualTime = field(default_factory=VirtualTime)
    seen: list[Seen] = field(default_factory=list)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(Seen(self.time.now, request))
        response = self.answer(request)
        if not isinstance(response, httpx.Response):
            response = await response
        return response

    @property
    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={**HTML, "etag": '"v1"'}, content=PAGE)


def script(*answers: Answer) -> Answer:
    """Answer the n-th request with the n-th answer, then ``ok``."""
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        return (queue.pop(0) if queue else ok)(request)

    return answer


def status(code: int, **headers: str) -> Answer:
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda request: httpx.Response(code, headers=named, content=b"no")


def settings_for(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"base_url": MIRROR, "rate": 10.0, "concurrency": 2, "retries": 3}
    values.update(overrides)
    return Settings(**values)


def fetcher_for(
    site: Site,
    settings: Settings,
    client: httpx.AsyncClient,
    robots: RobotsRules | None = None,
    **options: Any,
) -> Fetcher:
    pacer = RequestPacer(settings.rate, clock=site.time.clock, sleep=site.time.sleep)
    options.setdefault("rng", random.Random(7))
    return Fetcher(client, settings, pacer, robots, sleep=site.time.backoff, **options)


def run(
    site: Site,
    urls: list[str] | str = ARTICLE,
    *,
    robots: RobotsRules | None = None,
    fetch: dict[str, Any] | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> tuple[list[FetchedPage], Fetcher]:
    """Fetch ``urls`` (concurrently) from ``site`` through a client on a mock transport."""
    settings = settings or settings_for()
    wanted = [urls] if isinstance(urls, str) else urls

    async def go() -> tuple[list[FetchedPage], Fetcher]:
        async with build_client(settings, transport=httpx.MockTransport(site.handle)) as client:
            fetcher = fetcher_for(site, settings, client, robots, **options)
            pages = await asyncio.gather(*(fetcher.fetch(u, **(fetch or {})) for u in wanted))
            return list(pages), fetcher

    return asyncio.run(site.time.drive(go()))


def one(site: Site, url: str = ARTICLE, **kwargs: Any) -> tuple[FetchedPage, Fetcher]:
    (page,), fetcher = run(site, url, **kwargs)
    return page, fetcher


def backoffs(seed: int, base: float, cap: float, attempts: int) -> list[float]:
    """The delays the fetcher draws: ``c/2 + uniform(0, c/2)``, ``c = min(cap, base*2**(a-1))``."""
    rng = random.Random(seed)
    delays = []
    for attempt in range(1, attempts + 1):
        ceiling = min(cap, base * 2.0 ** (attempt - 1))
        delays.append(ceiling / 2 + rng.uniform(0, ceiling / 2))
    return delays


# --- a plain fetch: headers sent, page decoded, validators kept --------------------------


def test_a_page_is_fetched_decoded_and_keeps_its_validators() -> None:
    site = Site(ok)
    page, fetcher = one(site)
    assert page.ok and page.status == 200 and page.html is not None and "Y Tý" in page.html
    assert (
        page.url == ARTICLE
        and page.fetched_url == MIRROR + "/y-ty-vao-mua-lua-chin-post398207.html"
    )
    assert page.headers["etag"] == '"v1"' and page.attempts == 1 and page.body == PAGE
    assert fetcher.stats.requests == 1 and fetcher.stats.statuses == {200: 1}


def test_the_user_agent_and_accept_headers_are_sent() -> None:
    site = Site(ok)
    settings = settings_for()
    page, _ = one(site, settings=settings)
    sent = site.seen[0].request.headers
    assert sent["user-agent"] == settings.user_agent
    assert sent["user-agent"].startswith("baolaocai-archiver/")
    assert sent["accept"].startswith("text/html,application/xhtml+xml")
    assert sent["accept-language"].startswith("vi")
    assert sent["accept-encoding"].startswith("gzip")
    assert "if-none-match" not in sent and "if-modified-since" not in sent
    kept = {k.lower(): v for k, v in page.request_headers}  # kept for the WARC record
    assert kept["user-agent"] == settings.user_agent


def test_canonical_urls_are_requested_from_a_mirror_base_url_with_a_path() -> None:
    site = Site(ok)
    page, _ = one(site, settings=settings_for(base_url="http://mirror.test:8080/copy/"))
    assert str(site.seen[0].request.url) == (
        "http://mirror.test:8080/copy/y-ty-vao-mua-lua-chin-post398207.html"
    )
    assert page.url == ARTICLE  # the page keeps its canonical URL


def test_a_page_that_is_not_a_web_page_is_terminal() -> None:
    site = Site(lambda r: httpx.Response(200, headers={"content-type": "image/png"}, content=b"x"))
    page, _ = one(site)
    assert not page.ok and not page.transient and page.error == "not a web page (image/png)"
    assert len(site.seen) == 1


# --- retries ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [500, 502, 504, 520, 524])
def test_a_5xx_is_retried_with_the_backoff(code: int) -> None:
    site = Site(script(status(code), status(code)))
    page, fetcher = one(site, backoff_base=0.5, rng=random.Random(1))
    assert page.ok and page.attempts == 3 and fetcher.stats.retries == 2
    assert site.time.sleeps == pytest.approx(backoffs(1, 0.5, 30.0, 2))
    assert fetcher.pacer.held_for(HOST) == 0.0  # a 5xx other than 503 holds back itself only


def test_the_backoff_doubles_each_attempt_up_to_its_cap_with_jitter() -> None:
    site = Site(status(500))
    page, _ = one(site, settings=settings_for(retries=6), backoff_base=1.0, backoff_cap=3.0)
    assert not page.ok and page.attempts == 7 and page.status == 500 and page.transient
    delays = site.time.sleeps
    assert delays == pytest.approx(backoffs(7, 1.0, 3.0, 6))
    for attempt, delay in enumerate(delays, start=1):  # a draw from [c/2, c]
        ceiling = min(3.0, 2.0 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    # The retries are that far apart on the site's side too (pacing aside).
    gaps = [b.at - a.at for a, b in itertools.pairwise(site.seen)]
    assert gaps == pytest.approx(delays)


def test_retries_give_up_after_the_limit() -> None:
    site = Site(status(503))
    page, fetcher = one(site, settings=settings_for(retries=2))
    assert not page.ok and page.transient and page.status == 503 and page.attempts == 3
    assert len(site.seen) == 3 and fetcher.stats.retries == 2
    assert page.error == "HTTP 503"


def test_no_retries_means_one_request() -> None:
    site = Site(status(500))
    page, _ = one(site, settings=settings_for(retries=0))
    assert page.attempts == 1 and len(site.seen) == 1 and site.time.sleeps == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ConnectError("refused"), "connection error: refused"),
        (httpx.RemoteProtocolError("peer closed"), "connection error: peer closed"),
        (httpx.ReadError("reset"), "connection error: reset"),
        (httpx.ReadTimeout("slow"), "timeout (ReadTimeout)"),
        (httpx.ConnectTimeout("slow"), "timeout (ConnectTimeout)"),
    ],
    ids=["connect", "protocol", "reset", "read-timeout", "connect-timeout"],
)
def test_connection_errors_and_timeouts_are_retried(error: Exception, reason: str) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    site = Site(script(fail, fail))
    page, fetcher = one(site, backoff_base=0.05)
    assert page.ok and page.attempts == 3 and fetcher.stats.retries == 2
    assert site.time.sleeps == pytest.approx(backoffs(7, 0.05, 30.0, 2))
    site = Site(fail)
    page, _ = one(site, settings=settings_for(retries=1))
    assert not page.ok and page.transient and page.status == 0 and page.error == reason
    assert len(site.seen) == 2


@pytest.mark.parametrize("code", [404, 410, 400, 403, 451])
def test_a_4xx_is_terminal_and_not_retried(code: int) -> None:
    site = Site(status(code))
    page, fetcher = one(site)
    assert not page.ok and not page.transient and page.status == code
    assert page.error == f"HTTP {code}" and len(site.seen) == 1 and fetcher.stats.retries == 0


# --- 429/503: the whole host is held back -----------------------------------------------


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_seconds_holds_back_the_whole_host(code: int) -> None:
    """The first answer asks for 30 s: the retry and every other request wait that long."""
    site = Site(script(status(code, Retry_After="30")))
    pages, fetcher = run(site, [ARTICLE, OTHER, ARTICLE + "?a", OTHER + "?b"])
    assert all(p.ok for p in pages)
    (held,) = [s for s in site.seen if s.at == 0.0]  # the first request got the hold
    after = [s.at for s in site.seen if s is not held]
    assert len(after) == 4 and min(after) == pytest.approx(30.0 + HOLD_SLACK_S)
    gaps = [b - a for a, b in itertools.pairwise(sorted(after))]
    assert gaps == pytest.approx([fetcher.pacer.interval] * 3)  # resumed at the usual pace
    assert site.time.sleeps.count(30.0) == 0  # the retry waited in the pacer, not a backoff
    stats = fetcher.stats
    assert stats.held_back == 1 and stats.held_back_s == pytest.approx(30.0)
    assert stats.responses_429 == (1 if code == 429 else 0) and stats.retries == 1


def test_retry_after_as_an_http_date_holds_back_the_host() -> None:
    when = formatdate(time.time() + 30, usegmt=True)  # whole seconds: 29 to 30 s from now
    site = Site(script(status(429, Retry_After=when)))
    pages, fetcher = run(site, [ARTICLE, OTHER])
    assert all(p.ok for p in pages)
    later = sorted(s.at for s in site.seen)[1:]
    assert 29.0 - 0.5 <= later[0] <= 30.0 + HOLD_SLACK_S + 0.01
    hold = fetcher.pacer.hold(HOST)
    assert hold is None  # over by the time the run ends
    assert fetcher.stats.held_back == 1


def test_a_429_without_retry_after_holds_the_host_for_the_backoff() -> None:
    site = Site(script(status(429)))
    pages, fetcher = run(site, [ARTICLE, OTHER], backoff_base=4.0, rng=random.Random(3))
    assert all(p.ok for p in pages)
    (hold,) = backoffs(3, 4.0, 30.0, 1)  # attempt 1: a draw from [2, 4]
    later = sorted(s.at for s in site.seen)[1:]
    assert later[0] == pytest.approx(hold + HOLD_SLACK_S)
    assert site.time.sleeps == []  # the retry waited in the pacer with everyone else
    assert fetcher.stats.held_back == 1 and fetcher.stats.held_back_s == pytest.approx(hold)


def test_the_last_attempt_still_holds_the_host() -> None:
    site = Site(status(429, Retry_After="20"))
    page, fetcher = one(site, settings=settings_for(retries=0))
    assert not page.ok and page.status == 429 and page.transient
    assert fetcher.pacer.held_for(HOST) == pytest.approx(20.0)


def test_a_retry_after_beyond_the_cap_fails_at_once_and_sends_nothing_more() -> None:
    site = Site(script(status(429, Retry_After="3600")))
    pages, fetcher = run(site, [ARTICLE, OTHER, ARTICLE + "?x"], retry_after_cap=120.0)
    assert len(site.seen) == 1  # the 429; nothing after it
    assert site.time.now < 1.0  # nobody waited an hour (or the 120 s cap)
    for page in pages:
        assert not page.ok and page.transient
        assert page.error is not None and "\n" not in page.error
        assert "asked us to wait 3600 s (Retry-After)" in page.error
        assert "will not wait that long (limit 120 s)" in page.error
    assert pages[0].status == 429
    assert fetcher.stats.held_back == 1 and fetcher.stats.held_back_s == 0.0


def test_a_retry_after_date_decades_away_is_obeyed_not_shortened() -> None:
    site = Site(status(503, Retry_After="Wed, 01 Jan 2100 00:00:00 GMT"))
    page, fetcher = one(site, retry_after_cap=0.2)
    assert not page.ok and page.transient and len(site.seen) == 1
    assert page.error is not None and "Retry-After" in page.error
    assert fetcher.pacer.held_for(HOST) > 365 * 24 * 3600  # held, not capped to 0.2 s


def test_a_retry_after_on_another_5xx_holds_only_that_request_up_to_the_cap() -> None:
    site = Site(script(status(500, Retry_After="1000")))
    page, fetcher = one(site, retry_after_cap=5.0)
    assert page.ok and page.attempts == 2
    assert site.time.sleeps == [5.0]  # capped, for this request only
    assert fetcher.pacer.held_for(HOST) == 0.0 and fetcher.stats.held_back == 0
    site = Site(script(status(502, Retry_After="2")))
    page, _ = one(site)
    assert page.ok and site.time.sleeps == [2.0]


def test_a_hold_makes_a_request_that_had_reserved_its_slot_wait() -> None:
    """Three requests reserve slots at once (0, i, 2i); the first one's 429 at 0 holds the
    host, so the two sleeping towards their slots start after the hold, not at them."""

    def slow_429(request: httpx.Request) -> Awaitable[httpx.Response]:
        async def answer() -> httpx.Response:
            await site.time.sleep(0.05)  # the 429 comes back after the others took slots
            return httpx.Response(429, headers={"retry-after": "10"})

        return answer()

    site = Site(script(slow_429))
    pages, _ = run(site, [ARTICLE, OTHER, ARTICLE + "?x"], settings=settings_for(rate=5))
    assert all(p.ok for p in pages)
    assert site.seen[0].at == 0.0
    assert min(s.at for s in site.seen[1:]) == pytest.approx(0.05 + 10.0 + HOLD_SLACK_S)


# --- pacing -----------------------------------------------------------------------------


def test_request_starts_are_spaced_by_the_pacing_interval() -> None:
    site = Site(ok)
    urls = [f"{ARTICLE}?page={i}" for i in range(6)]
    pages, fetcher = run(site, urls, settings=settings_for(rate=4.0, concurrency=3))
    assert all(p.ok for p in pages)
    starts = [s.at for s in site.seen]
    interval = pacing_interval(0.25)
    assert fetcher.pacer.interval == interval and interval > 0.25  # a little slower than asked
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([interval] * 5)


# --- redirects --------------------------------------------------------------------------


def redirect(location: str, code: int = 301) -> Answer:
    return lambda request: httpx.Response(code, headers={"location": location})


def test_a_redirect_on_the_site_is_followed_and_paced() -> None:
    site = Site(script(redirect("/moved-post398207.html"), redirect("/final-post398207.html", 302)))
    page, fetcher = one(site)
    assert page.ok and page.url == ARTICLE and page.attempts == 1
    assert site.paths == [
        "/y-ty-vao-mua-lua-chin-post398207.html",
        "/moved-post398207.html",
        "/final-post398207.html",
    ]
    gaps = [b.at - a.at for a, b in itertools.pairwise(site.seen)]
    assert gaps == pytest.approx([fetcher.pacer.interval] * 2)  # each hop is a request


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirects_are_followed_up_to_the_limit(code: int) -> None:
    hops = [redirect(f"/hop-{i}.html", code) for i in range(MAX_REDIRECTS)]
    page, _ = one(Site(script(*hops)))
    assert page.ok
    site = Site(script(*hops, redirect("/one-too-many.html", code)))
    page, _ = one(site)
    assert not page.ok and not page.transient
    assert page.error == f"more than {MAX_REDIRECTS} redirects"
    assert len(site.seen) == MAX_REDIRECTS + 1


def test_a_redirect_off_the_site_is_refused_and_not_requested() -> None:
    site = Site(script(redirect("https://example.com/x", 302)))
    page, _ = one(site)
    assert not page.ok and not page.transient and page.status == 302
    assert page.error == "redirect off the site to https://example.com/x"
    assert [s.request.url.host for s in site.seen] == [HOST]


def test_a_redirect_without_location_is_terminal() -> None:
    page, _ = one(Site(script(status(301))))
    assert page.error == "HTTP 301 without Location"


def test_a_redirect_to_the_site_host_is_mapped_to_the_mirror() -> None:
    """Crawling a copy at ``base_url``: a redirect naming the site's own host stays on the
    copy (it is requested from the mirror, never from the real site)."""
    site = Site(script(redirect("https://baolaocai.vn/moved-post398207.html")))
    page, _ = one(site)
    assert page.ok
    assert [str(s.request.url) for s in site.seen][1] == MIRROR + "/moved-post398207.html"


def test_a_redirect_to_a_url_robots_txt_disallows_is_refused() -> None:
    robots = RobotsRules("baolaocai-archiver/0.1", "User-agent: *\nDisallow: /private/\n")
    site = Site(script(redirect("/private/x.html")))
    page, _ = one(site, robots=robots)
    assert not page.ok and not page.transient
    assert page.error == "redirect to https://baolaocai.vn/private/x.html, disallowed by robots.txt"
    assert site.paths == ["/y-ty-vao-mua-lua-chin-post398207.html"]


def test_a_url_robots_txt_disallows_is_never_requested() -> None:
    robots = RobotsRules("baolaocai-archiver/0.1", "User-agent: *\nDisallow: /y-ty")
    site = Site(ok)
    page, _ = one(site, robots=robots)
    assert not page.ok and page.error == "disallowed by robots.txt" and site.seen == []


# --- size caps --------------------------------------------------------------------------


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    big = b"<html><body>" + b"y" * 30_000 + b"</body></html>"
    site = Site(lambda r: httpx.Response(200, headers=HTML, content=big))
    page, _ = one(site, settings=settings_for(max_response_bytes=20_000))
    assert not page.ok and not page.transient and page.status == 200
    assert page.error == (
        f"{TOO_LARGE}: {len(big):,} bytes (Content-Length), more than the cap of 20,000 bytes"
    )
    page, _ = one(
        site, settings=settings_for(max_response_bytes=20_000), fetch={"max_bytes": 64 * 1024}
    )
    assert page.ok and page.body == big  # a per-fetch cap (sitemaps, feeds) replaces it
    page, _ = one(
        site, settings=settings_for(max_response_bytes=1024 * 1024), fetch={"max_bytes": 16_384}
    )
    assert page.error is not None and "16,384 bytes" in page.error  # the per-fetch cap wins


class Pieces(httpx.AsyncByteStream):
    """A body sent in pieces, without a Content-Length; counts the pieces the client took."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            self.taken += 1
            yield piece


def test_a_streamed_body_over_the_cap_is_cut_off() -> None:
    body = Pieces([b"<html>" + b"z" * 4096 for _ in range(100)])
    site = Site(lambda r: httpx.Response(200, headers=HTML, stream=body))
    page, _ = one(site, settings=settings_for(max_response_bytes=10_000))
    assert not page.ok and not page.transient
    assert page.error == (
        f"{TOO_LARGE}: more than the cap of 10,000 bytes (after decompression; reading stopped"
        " there)"
    )
    assert body.taken <= 3  # reading stopped at the cap


def test_a_gzip_bomb_is_cut_off_after_decompression() -> None:
    inflated = b"<html><body>" + b"\0" * (64 * 1024 * 1024) + b"</body></html>"  # 64 MiB
    packed = gzip.compress(inflated, compresslevel=9)  # about 64 KiB on the wire
    assert len(packed) < 100_000
    body = Pieces([packed[i : i + 4096] for i in range(0, len(packed), 4096)])
    headers = {**HTML, "content-encoding": "gzip"}
    site = Site(lambda r: httpx.Response(200, headers=headers, stream=body))
    page, fetcher = one(site, settings=settings_for(max_response_bytes=1024 * 1024))
    assert not page.ok and not page.transient and page.error is not None
    assert page.error.startswith(f"{TOO_LARGE}: more than the cap of 1 MiB (1,048,576 bytes)")
    assert "after decompression" in page.error
    assert body.taken < len(body.pieces) / 10  # stopped early, not after inflating 64 MiB
    assert 0 < fetcher.stats.bytes < len(packed)  # counted on the wire


def test_a_gzipped_page_under_the_cap_is_decoded() -> None:
    packed = gzip.compress(PAGE)
    headers = {**HTML, "content-encoding": "gzip"}
    site = Site(lambda r: httpx.Response(200, headers=headers, stream=Pieces([packed])))
    page, fetcher = one(site)
    assert page.ok and page.body == PAGE and fetcher.stats.bytes == len(packed)


# --- conditional requests ---------------------------------------------------------------


def test_validators_are_sent_and_a_304_is_handled() -> None:
    site = Site(lambda r: httpx.Response(304, headers={"etag": '"v1"'}))
    validators = {"etag": '"v1"', "last_modified": "Wed, 01 May 2024 08:00:00 GMT"}
    page, fetcher = one(site, fetch=validators)
    sent = site.seen[0].request.headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Wed, 01 May 2024 08:00:00 GMT"
    assert page.status == 304 and page.html is None and page.error is None and not page.ok
    assert page.headers == {"etag": '"v1"'} and page.attempts == 1
    assert fetcher.stats.responses_304 == 1 and len(site.seen) == 1


def test_only_the_validators_known_are_sent_and_fetch_many_passes_them() -> None:
    site = Site(lambda r: httpx.Response(304))
    settings = settings_for()

    async def go() -> list[FetchedPage]:
        async with build_client(settings, transport=httpx.MockTransport(site.handle)) as client:
            fetcher = fetcher_for(site, settings, client)
            return await fetcher.fetch_many(
                [ARTICLE, OTHER], {ARTICLE: ('"a"', None), OTHER: (None, "Tue, 02 Jan 2024")}
            )

    pages = asyncio.run(site.time.drive(go()))
    assert [p.status for p in pages] == [304, 304]
    by_path = {s.path: s.request.headers for s in site.seen}
    first = by_path["/y-ty-vao-mua-lua-chin-post398207.html"]
    second = by_path["/cho-phien-bac-ha-post376388.html"]
    assert first["if-none-match"] == '"a"' and "if-modified-since" not in first
    assert second["if-modified-since"] == "Tue, 02 Jan 2024" and "if-none-match" not in second


# --- the total request deadline (real time: asyncio.timeout on the loop) -----------------

DEADLINE = 0.2


class Endless(httpx.AsyncByteStream):
    """A body that starts and never ends (a server trickling, or gone silent)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"<html><body>"
        await asyncio.Event().wait()
        yield b""  # pragma: no cover


def endless(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers=HTML, stream=Endless())


async def no_headers(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()  # the status line never comes
    raise AssertionError("unreachable")


@pytest.mark.parametrize("answer", [endless, no_headers], ids=["body", "headers"])
def test_an_answer_that_never_ends_is_cut_at_the_request_deadline(answer: Answer) -> None:
    site = Site(answer)
    settings = settings_for(request_deadline=DEADLINE, read_timeout=30.0, retries=0)
    started = time.monotonic()
    page, _ = one(site, settings=settings)
    elapsed = time.monotonic() - started
    assert not page.ok and page.transient and page.status == 0
    assert page.error == (
        "no complete answer within the 0.2 s deadline (BAOLAOCAI_REQUEST_DEADLINE)"
    )
    assert len(site.seen) == 1
    # The deadline itself is the only real wait; 30 s (the read timeout) would mean the
    # deadline did nothing. A liveness bound, not a speed target.
    assert elapsed < 10.0


def test_the_deadline_is_retried_like_a_timeout() -> None:
    site = Site(script(endless))
    page, fetcher = one(site, settings=settings_for(request_deadline=DEADLINE), backoff_base=0.05)
    assert page.ok and page.attempts == 2 and fetcher.stats.retries == 1
    assert site.time.sleeps == pytest.approx(backoffs(7, 0.05, 30.0, 1))


def test_a_slow_complete_answer_within_the_deadline_is_fine() -> None:
    class Trickle(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for piece in (b"<html><body>", b"x" * 5000, b"</body></html>"):
                await asyncio.sleep(0.01)
                yield piece

    site = Site(lambda r: httpx.Response(200, headers=HTML, stream=Trickle()))
    page, _ = one(site, settings=settings_for(request_deadline=5.0, retries=0))
    assert page.ok and len(page.html or "") > 5000


# --- robots.txt through the fetcher -------------------------------------------------------


def read_robots_from(site: Site, **overrides: Any) -> tuple[RobotsRules | None, Fetcher, str]:
    settings = settings_for(retries=1, **overrides)

    async def go() -> tuple[RobotsRules | None, Fetcher, str]:
        async with build_client(settings, transport=httpx.MockTransport(site.handle)) as client:
            fetcher = fetcher_for(site, settings, client, backoff_base=0.05)
            try:
                return await read_robots(fetcher), fetcher, ""
            except CrawlError as exc:
                return None, fetcher, exc.message

    return asyncio.run(site.time.drive(go()))


def robots(text: str) -> Answer:
    return lambda r: httpx.Response(200, headers={"content-type": "text/plain"}, text=text)


@pytest.mark.parametrize(
    "answer", [status(503), status(500), status(429)], ids=["503", "500", "429"]
)
def test_an_unreachable_robots_txt_disallows_everything(answer: Answer) -> None:
    site = Site(answer)
    rules, fetcher, error = read_robots_from(site)
    assert rules is None and error.endswith(
        "RFC 9309: assume everything is disallowed; not crawling"
    )
    assert site.paths == ["/robots.txt", "/robots.txt"]  # the try and the one retry
    assert fetcher.robots is not None and not fetcher.robots.allowed("https://baolaocai.vn/")


def test_a_robots_txt_nobody_answers_is_unreachable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    site = Site(refuse)
    _, _, error = read_robots_from(site)
    assert error.startswith(f"the site at {MIRROR} could not be reached (robots.txt: connection")


@pytest.mark.parametrize("code", [404, 410, 401, 403])
def test_a_4xx_robots_txt_means_no_rules(code: int) -> None:
    site = Site(status(code))
    rules, _, error = read_robots_from(site)
    assert error == "" and rules is not None and rules.allowed("https://baolaocai.vn/x")
    assert site.paths == ["/robots.txt"]
    assert (rules.warning is not None) == (code in (401, 403))


def test_a_crawl_delay_slows_the_pacer_and_one_above_the_cap_stops_the_crawl() -> None:
    site = Site(robots("User-agent: *\nCrawl-delay: 2\n"))
    rules, fetcher, error = read_robots_from(site, max_crawl_delay=5)
    assert error == "" and rules is not None
    assert fetcher.pacer.interval == pacing_interval(2.0)
    site = Site(robots("User-agent: *\nCrawl-delay: 3600\n"))
    rules, _, error = read_robots_from(site)
    assert rules is None and error.startswith("robots.txt asks for a Crawl-delay of 3600 s")


# --- the run's session ---------------------------------------------------------------------


def test_the_run_session_takes_a_transport() -> None:
    site = Site(ok)
    settings = settings_for()

    async def step(client: httpx.AsyncClient) -> FetchedPage:
        return await fetcher_for(site, settings, client).fetch(ARTICLE)

    with HttpSession(settings, transport=httpx.MockTransport(site.handle)) as session:
        page = session.run(step)
    assert page.ok and site.seen[0].request.headers["user-agent"] == settings.user_agent
