""":func:`~transforms.pipeline.process_pages` on several cores, for big batches.

Parsing is the costly step of a reparse (about 9 ms a page; loading is a tenth of that).
Pages are pure input and records pure output, so a big batch is cut into one slice per
worker process and the slices' results joined back in page order: the same records and
failures as in one process, in the same order. Workers are started once per process
(``forkserver``: a run's threads make ``fork`` unsafe) and reused; a batch smaller than
:data:`MIN_PAGES` is parsed here, as is any batch whose workers died (a crashed worker
costs speed, never pages: the rest of the process then parses in one process).

As with any process pool, a program of your own that runs a reparse must keep its work
under ``if __name__ == "__main__":`` (the ``baolaocai`` command does), or set
``BAOLAOCAI_PARSE_WORKERS=1``.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.site import Site
from transforms.pipeline import process_pages

log = logging.getLogger(__name__)

MIN_PAGES = 50
"""Smaller batches (a crawl's 25) are parsed in the calling process."""

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_broken = False
"""A worker died once: this process parses in one process from then on."""
_lock = threading.Lock()


def default_workers() -> int:
    """One worker per core this process may use, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _get_pool(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(cancel_futures=True)
            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            _pool_size = workers
        return _pool


def _drop_pool() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(cancel_futures=True)
            _pool = None


atexit.register(_drop_pool)


def _lean(page: FetchedPage) -> FetchedPage:
    """What parsing needs of a page (the archived bytes stay here)."""
    return dataclasses.replace(page, body=None, response_headers=(), request_headers=())


def process_pages_parallel(
    pages: Sequence[FetchedPage], site: Site, workers: int = 0
) -> tuple[list[StagedArticle], list[Failure]]:
    """:func:`process_pages` over ``workers`` processes (0: :func:`default_workers`).

    Each worker is handed ``site`` with its slice (a worker never falls back to a default
    site: a sister paper's pages are parsed with the sister paper's file)."""
    global _broken
    workers = workers or default_workers()
    if workers < 2 or len(pages) < MIN_PAGES or _broken:
        return process_pages(pages, site)
    size = -(-len(pages) // workers)
    slices = [[_lean(p) for p in pages[i : i + size]] for i in range(0, len(pages), size)]
    try:
        results = list(_get_pool(workers).map(process_pages, slices, [site] * len(slices)))
    except BrokenProcessPool:
        log.warning("a parsing worker died; parsing goes on in the run's own process")
        _broken = True
        _drop_pool()
        return process_pages(pages, site)
    staged: list[StagedArticle] = []
    failures: list[Failure] = []
    for part_staged, part_failures in results:
        staged += part_staged
        failures += part_failures
    return staged, failures
