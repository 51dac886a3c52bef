""":func:`~transforms.pipeline.process_pages` on several cores, for big batches.

Parsing is the costly step of a reparse (about 9 ms a page; loading is a tenth of that).
Pages are pure input and records pure output, so a big batch is cut into one slice per
worker process and the slices' results joined back in page order: the same records and
failures as in one process, in the same order.

The worker processes are a resource of the run, like its HTTP client: a
:class:`ParsePool` belongs to one run, starts its workers on its first big batch
(``forkserver``: a run's threads make ``fork`` unsafe), reuses them for the run's later
batches and stops them when the run closes it. A batch smaller than :data:`MIN_PAGES` is
parsed in the calling process, as is every batch after a worker died (a crashed worker
costs speed, never pages: the batch it was parsing is parsed again here, and the pool
parses in one process for the rest of its run).

As with any process pool, a program of your own that runs a reparse must keep its work
under ``if __name__ == "__main__":`` (the ``baolaocai`` command does), or set
``BAOLAOCAI_PARSE_WORKERS=1``.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType

from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.site import Site
from transforms.pipeline import process_pages

log = logging.getLogger(__name__)

MIN_PAGES = 50
"""Smaller batches (a crawl's 25) are parsed in the calling process."""


def default_workers() -> int:
    """One worker per core this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _lean(page: FetchedPage) -> FetchedPage:
    """What parsing needs of a page (the archived bytes stay here)."""
    return dataclasses.replace(page, body=None, response_headers=(), request_headers=())


class ParsePool:
    """:func:`process_pages` over ``workers`` processes (0: :func:`default_workers`), for
    one run: the workers start on the first batch of :data:`MIN_PAGES` or more and stop
    at :meth:`close` (also a context manager).

    Each worker is handed the site with its slice (a worker never falls back to a default
    site: a sister paper's pages are parsed with the sister paper's file)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or default_workers()
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False
        """A worker died once: this pool parses in the calling process from then on."""
        self._closed = False
        self._lock = threading.Lock()
        """Steps may run on an orchestrator's worker threads: one start, one stop."""

    @property
    def broken(self) -> bool:
        return self._broken

    def process(
        self, pages: Sequence[FetchedPage], site: Site
    ) -> tuple[list[StagedArticle], list[Failure]]:
        """The records and failures of ``pages``, exactly as :func:`process_pages` gives
        them (same order), parsed on the workers when the batch is big enough."""
        if self.workers < 2 or len(pages) < MIN_PAGES or self._broken or self._closed:
            return process_pages(pages, site)
        size = -(-len(pages) // self.workers)
        slices = [[_lean(p) for p in pages[i : i + size]] for i in range(0, len(pages), size)]
        try:
            results = list(self._started().map(process_pages, slices, [site] * len(slices)))
        except BrokenProcessPool:
            log.warning("a parsing worker died; parsing goes on in the run's own process")
            self._broken = True
            self.close()
            return process_pages(pages, site)
        staged: list[StagedArticle] = []
        failures: list[Failure] = []
        for part_staged, part_failures in results:
            staged += part_staged
            failures += part_failures
        return staged, failures

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            return self._executor

    def close(self) -> None:
        """Stop the workers (if they were started); later batches parse in process."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is not None:
            executor.shutdown(cancel_futures=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
