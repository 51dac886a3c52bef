"""One HTTP client for a whole run, on the run's own event loop.

A run's network steps (discovery, listings, batches of articles, sitemaps) are plain
blocking calls, made from the run's thread or from a Prefect task's worker thread. Each
used to build a client and an event loop of its own (``asyncio.run``), so connections were
never reused between steps and every step paid for a new loop. An :class:`HttpSession` is
created once by the run (:class:`pipeline.run.Run` owns it), keeps one ``httpx.AsyncClient``
on one event loop running in a thread of its own, and runs each step's coroutine there
(:meth:`HttpSession.run`); the run closes it when it ends. A step may leave work running
on the loop between two calls (the batches fetched ahead while the run loads the previous
one: :class:`scrapers.fetch.BatchStream`); closing the session cancels whatever is left.

An interrupt (Ctrl-C, SIGTERM as ``KeyboardInterrupt``) while a step waits cancels the
step's coroutine on the loop before it propagates, so no request outlives its run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from baolaocai.settings import Settings
from scrapers.fetch import build_client

T = TypeVar("T")
CLOSE_TIMEOUT_S = 10.0


class HttpSession:
    """The run's HTTP client and event loop; use it as a context manager or :meth:`close`."""

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="baolaocai-http", daemon=True
        )
        self._thread.start()
        self._closed = False

        async def make() -> httpx.AsyncClient:
            return build_client(settings, transport=transport)

        self.client = self._submit(make())

    def _submit(self, coro: Awaitable[T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            coro,  # type: ignore[arg-type]
            self._loop,
        )
        try:
            return future.result()
        except BaseException:
            # An interrupt while waiting (or the step's own error): make sure the
            # coroutine is not left running on the loop.
            future.cancel()
            raise

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, step: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        """Run ``step(client)`` on the session's loop and return its result."""
        if self._closed:
            raise RuntimeError("the run's HTTP session is closed")
        return self._submit(step(self.client))

    def close(self) -> None:
        """Close the client and stop the loop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            future = asyncio.run_coroutine_threadsafe(self._aclose(), self._loop)
            future.result(timeout=CLOSE_TIMEOUT_S)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=CLOSE_TIMEOUT_S)
            if not self._thread.is_alive():
                self._loop.close()

    async def _aclose(self) -> None:
        """Cancel what still runs on the loop (a run's fetch-ahead stream that was not
        stopped, because the run died with it), then close the client: no request
        outlives its run, and no task is destroyed pending."""
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.client.aclose()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
