"""The fetch-ahead stream of a run's batches (:class:`scrapers.fetch.BatchStream`), on a
mock network that records the order of events: what is sent, and when the run takes and
finishes each batch."""

from __future__ import annotations

import asyncio

import httpx

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from scrapers.fetch import Batch, BatchStream, Fetcher, build_client
from scrapers.politeness import RequestPacer

BASE = "https://baolaocai.vn"


def url(n: int) -> str:
    return f"{BASE}/bai-{n}-post{100 + n}.html"


def batches(count: int, size: int) -> list[Batch]:
    return [([url(b * size + i) for i in range(size)], {}) for b in range(count)]


def stream_on(events: list[str], batches: list[Batch], may_stop: set[int]) -> BatchStream:
    def answer(request: httpx.Request) -> httpx.Response:
        events.append(f"sent {request.url.path}")
        return httpx.Response(200, html="<html><body>bài</body></html>")

    settings = Settings(base_url=BASE, rate=1000.0, concurrency=2)
    client = build_client(settings, transport=httpx.MockTransport(answer))
    fetcher = Fetcher(client, settings, RequestPacer(settings.rate))

    def stops(pages: list[FetchedPage]) -> bool:
        return any(p.url == url(n) for n in may_stop for p in pages)

    return BatchStream(fetcher, batches, stops)


def sent(events: list[str], n: int) -> bool:
    return f"sent /bai-{n}-post{100 + n}.html" in events


async def settle() -> None:
    for _ in range(50):  # let the loop run every ready task
        await asyncio.sleep(0)


async def until_sent(events: list[str], n: int) -> bool:
    """Whether URL ``n`` is sent within 5 s (the pacer spaces starts in real time)."""
    for _ in range(5000):
        if sent(events, n):
            return True
        await asyncio.sleep(0.001)
    return False


def test_batches_come_in_order_and_at_most_two_are_in_flight() -> None:
    async def go() -> list[str]:
        events: list[str] = []
        stream = stream_on(events, batches(4, 3), set())
        await stream.start()
        for b in range(4):
            pages, _stats = await stream.take()
            assert [p.url for p in pages] == [url(b * 3 + i) for i in range(3)]
            # Batch b+1 is sent while b is being stored; b+2 waits for b to be done.
            assert b == 3 or await until_sent(events, (b + 1) * 3)
            await settle()
            assert not sent(events, (b + 2) * 3)
            events.append(f"done {b}")
            await stream.done(stream.may_stop)
        stats = await stream.stop()
        assert stats.requests == 0  # every request was counted by the takes
        return events

    events = asyncio.run(go())
    assert sum(e.startswith("sent") for e in events) == 12


def test_a_batch_that_may_stop_the_run_holds_the_next_one_back() -> None:
    """Batch 1 may stop the run: batch 2 is not sent until the run is done with batch 1;
    if the run stops instead, it never is."""

    async def go(stop_there: bool) -> list[str]:
        events: list[str] = []
        stream = stream_on(events, batches(3, 2), may_stop={2})  # url(2) is in batch 1
        await stream.start()
        await stream.take()
        await stream.done(stream.may_stop)
        await stream.take()  # batch 1, which may stop the run
        await settle()
        assert not sent(events, 4)
        if not stop_there:
            await stream.done(stream.may_stop)
            pages, _stats = await stream.take()
            assert [p.url for p in pages] == [url(4), url(5)]
        stats = await stream.stop()
        await settle()
        assert stats.requests == 0
        return events

    assert not sent(asyncio.run(go(stop_there=True)), 4)
    assert sent(asyncio.run(go(stop_there=False)), 4)


def test_stopping_cancels_what_is_under_way() -> None:
    async def go() -> tuple[int, int]:
        release = asyncio.Event()
        started = 0

        async def slow(request: httpx.Request) -> httpx.Response:
            nonlocal started
            started += 1
            await release.wait()  # never set: the answers never come
            return httpx.Response(200, html="")

        settings = Settings(base_url=BASE, rate=1000.0, concurrency=2)
        client = build_client(settings, transport=httpx.MockTransport(slow))
        stream = BatchStream(
            Fetcher(client, settings, RequestPacer(settings.rate)), batches(3, 4), lambda _: False
        )
        await stream.start()
        for _ in range(5000):  # the second slot comes one pacing interval later
            if started == 2:
                break
            await asyncio.sleep(0.001)
        await settle()
        stats = await stream.stop()
        await settle()
        return started, stats.requests

    started, counted = asyncio.run(go())
    assert started == 2  # the two slots; the rest never sent
    assert counted == 2


def test_a_bug_in_the_stream_fails_the_take_instead_of_hanging() -> None:
    def broken(pages: list[FetchedPage]) -> bool:
        raise RuntimeError("a bug in the stop rule")

    async def go() -> None:
        events: list[str] = []
        stream = stream_on(events, batches(2, 2), set())
        stream.may_stop = broken
        await stream.start()
        await stream.take()
        try:
            await stream.take()
        except RuntimeError as exc:
            assert "a bug in the stop rule" in str(exc)
        else:
            raise AssertionError("the second take should have failed")
        await stream.stop()

    asyncio.run(go())


def test_a_slow_answer_does_not_hold_the_next_batch_when_the_run_cannot_stop() -> None:
    """The last answer of batch 0 hangs: batch 1 is sent meanwhile (the other slot is not
    left idle), since no answer batch 0 can still give would stop the run."""

    async def go() -> None:
        events: list[str] = []
        release = asyncio.Event()

        async def answer(request: httpx.Request) -> httpx.Response:
            events.append(f"sent {request.url.path}")
            if request.url.path.startswith("/bai-2-"):
                await release.wait()
            return httpx.Response(200, html="<html><body>bài</body></html>")

        settings = Settings(base_url=BASE, rate=1000.0, concurrency=2)
        client = build_client(settings, transport=httpx.MockTransport(answer))
        stream = BatchStream(
            Fetcher(client, settings, RequestPacer(settings.rate)), batches(2, 3), lambda _: False
        )
        await stream.start()
        assert await until_sent(events, 3)  # batch 1 goes while url(2) is unanswered
        assert not release.is_set()
        release.set()
        first, _stats = await stream.take()
        second, _stats = await stream.take()
        assert [p.url for p in first + second] == [url(n) for n in range(6)]
        await stream.stop()

    asyncio.run(go())
