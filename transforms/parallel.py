""":func:`~transforms.pipeline.process_pages` in worker processes: on several cores for big
batches, and under a deadline for every page.

Parsing is the costly step of a reparse (about 9 ms a page; loading is a tenth of that).
Pages are pure input and records pure output, so the pages of a batch are handed to the
workers one at a time and their results joined back in page order: the same records and
failures as in one process, in the same order.

**The deadline.** A page under the element budget may still be pathological (a regular
expression gone quadratic, a text node of megabytes): with a deadline (the run's
``parse_deadline``), every page is parsed in a worker, which is killed when its page has
taken longer; the page becomes a ``parse`` failure (``parse took longer than 30 s (a page's
deadline)``), parked by the warehouse like any other, and the batch goes on with a fresh
worker. Prefect runs steps in threads, where no alarm can interrupt a parse: a process can
always be killed. A crawl's batch of 25 pages takes one worker, started on its first batch
and reused (about 0.3 ms a page more than parsing in process); a batch of :data:`MIN_PAGES`
or more takes up to ``workers``.

The worker processes are a resource of the run, like its HTTP client: a :class:`ParsePool`
belongs to one run, starts its workers when a batch first needs them (``forkserver``: a
run's threads make ``fork`` unsafe), reuses them for the run's later batches and stops them
when the run closes it. A worker that dies under a page (killed from outside, out of
memory, a crash in C code) costs speed, never pages: the page is parsed again by a fresh
worker, and only a page that kills a second worker too is a failure (``the parsing
process died …``). A worker that cannot even start makes the pool parse in the calling
process for the rest of its run, without a deadline (a warning says so).

**Workers never outlive their run.** A worker is a child of the forkserver, which stops
when the run's process ends, however it ends (``kill -9`` too): each worker closes its copy
of the forkserver's "alive" pipe (else the workers keep the forkserver alive, and the
forkserver them) and asks the kernel for ``SIGKILL`` when its parent ends
(``PR_SET_PDEATHSIG``, Linux; elsewhere a thread watches the parent). The resource tracker
stops when they are all gone.

As with any process pool, a program of your own that runs a crawl or a reparse must keep
its work under ``if __name__ == "__main__":`` (the ``baolaocai`` command does), or set
``BAOLAOCAI_PARSE_DEADLINE=0`` and ``BAOLAOCAI_PARSE_WORKERS=1`` (all in one process).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.processes import process_alive
from baolaocai.settings import PAGE_ELEMENTS_DEFAULT
from baolaocai.site import Site
from transforms.pipeline import process_pages

log = logging.getLogger(__name__)

MIN_PAGES = 50
"""A batch this big is parsed on up to ``workers`` processes; a smaller one (a crawl's 25)
on one worker with a deadline, in the calling process without one."""
START_TIMEOUT = 60.0
"""Seconds a new worker has to say it is ready; beyond them the pool parses in process."""
STOP_TIMEOUT = 5.0
"""Seconds a worker has to end when its pool closes; then it is killed."""
_READY = "ready"
_PR_SET_PDEATHSIG = 1

Result = tuple[list[StagedArticle], list[Failure]]


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


@contextlib.contextmanager
def _no_ctrl_c_inherited() -> Iterator[None]:
    """SIGINT blocked in this thread for the block (where the platform allows it): a
    process started meanwhile begins with it blocked; one sent meanwhile to this process
    is delivered when the block ends (or at once to a thread that does not block it)."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:
        yield
        return
    previous = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, previous)


def _needs_parsing(page: FetchedPage) -> bool:
    """Whether :func:`process_pages` parses ``page`` (a 304 or a failed fetch is settled
    without parsing, in the calling process)."""
    return page.status != 304 and page.ok and page.html is not None


# -- the worker's side ---------------------------------------------------------------------


def _die_with_run(run_pid: int) -> None:
    """Make this worker end when the run's process ends, however it ends."""
    # The forkserver stops when every holder of its "alive" pipe's write end is gone:
    # the run's process and, unless they close it, its workers.
    server: Any = getattr(multiprocessing.forkserver, "_forkserver", None)
    alive_fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(alive_fd, int):
        with contextlib.suppress(OSError):
            os.close(alive_fd)
        server._forkserver_alive_fd = None
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            _watch_parent(parent)
    else:
        _watch_parent(parent)
    if os.getppid() != parent or not process_alive(run_pid):
        os._exit(0)  # the run (or the forkserver) ended before the above took hold


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _cap_memory(limit: int) -> None:
    """At most ``limit`` bytes of address space for this process (0: no cap): a page that
    needs more fails its parse with ``MemoryError``, or kills its worker, never the
    machine."""
    if limit <= 0:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _work(conn: Connection, run_pid: int, memory: int = 0) -> None:
    """A worker's life: ``("site", site)`` sets the site, ``("page", page, max_elements)``
    is answered with ``process_pages([page], site)``; the end of the pipe ends it."""
    _die_with_run(run_pid)
    _cap_memory(memory)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
    conn.send(_READY)
    site: Site | None = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "site":
            site = message[1]
            continue
        _, page, max_elements = message
        assert site is not None
        conn.send(process_pages([page], site, max_elements=max_elements))


# -- the run's side ------------------------------------------------------------------------


class _CannotStart(Exception):
    """A worker could not be started (or did not say it was ready)."""


@dataclasses.dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    site: Site | None = None
    """The site this worker was last handed."""
    page: int | None = None
    """The index of the page it is parsing."""
    started: float = 0.0
    """When it was handed that page."""


@dataclasses.dataclass
class _Batch:
    pages: Sequence[FetchedPage] | Mapping[int, FetchedPage]
    """By index (a stream's: the pages put and not yet taken)."""
    site: Site
    deadline: float
    max_elements: int
    results: dict[int, Result]
    todo: deque[int]
    retried: set[int] = dataclasses.field(default_factory=set)


class ParsePool:
    """:func:`process_pages` over ``workers`` processes (0: :func:`default_workers`), for
    one run: workers start when a batch first needs them (every batch with a deadline,
    else batches of :data:`MIN_PAGES` or more) and stop at :meth:`close` (also a context
    manager).

    Each worker is handed the site with its pages (a worker never falls back to a default
    site: a sister paper's pages are parsed with the sister paper's file)."""

    def __init__(self, workers: int = 0, memory: int = 0) -> None:
        self.workers = workers or default_workers()
        self.memory = memory
        """Address space each worker may use, bytes (``RLIMIT_AS``; 0: no cap)."""
        self._workers: list[_Worker] = []
        self._broken = False
        """A worker could not start: this pool parses in the calling process from then on."""
        self._closed = False
        self._lock = threading.Lock()
        """Steps may run on an orchestrator's worker threads: one batch at a time."""

    @property
    def broken(self) -> bool:
        return self._broken

    @property
    def pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def process(
        self,
        pages: Sequence[FetchedPage],
        site: Site,
        *,
        deadline: float = 0.0,
        max_elements: int = PAGE_ELEMENTS_DEFAULT,
    ) -> Result:
        """The records and failures of ``pages``, exactly as :func:`process_pages` gives
        them (same order), but for a page that took longer than ``deadline`` seconds
        (0: no deadline) or killed two workers: a ``parse`` failure.

        With a deadline the pages are parsed on workers (one for a batch under
        :data:`MIN_PAGES`); without one, a big batch is, a small one in this process."""
        count = 1 if len(pages) < MIN_PAGES else self.workers
        if deadline <= 0 and count < 2:
            return process_pages(pages, site, max_elements=max_elements)
        with self._lock:
            if self._broken or self._closed:
                return process_pages(pages, site, max_elements=max_elements)
            batch = _Batch(
                pages,
                site,
                deadline,
                max_elements,
                results={},
                todo=deque(i for i, p in enumerate(pages) if _needs_parsing(p)),
            )
            try:
                self._run(batch, min(count, len(batch.todo)))
            except _CannotStart as exc:
                log.warning(
                    "a parsing worker could not start (%s): parsing goes on in the run's own"
                    " process, without a deadline",
                    exc,
                )
                self._broken = True
                self._stop_workers()
            finally:
                # Cut short (Ctrl-C …): a worker still on a page would answer the next batch.
                for w in [w for w in self._workers if w.page is not None]:
                    _stop(w, kill=True)
                    self._workers.remove(w)
        staged: list[StagedArticle] = []
        failures: list[Failure] = []
        for i, page in enumerate(pages):
            part_staged, part_failures = batch.results.get(i) or process_pages(
                [page], site, max_elements=max_elements
            )
            staged += part_staged
            failures += part_failures
        return staged, failures

    def stream(
        self,
        site: Site,
        *,
        deadline: float = 0.0,
        max_elements: int = PAGE_ELEMENTS_DEFAULT,
    ) -> ParseStream:
        """A :class:`ParseStream` of ``site``'s pages over this pool's workers (a context
        manager): chunks of pages put in are parsed on every worker, one page at a time,
        while the caller does something else (reads the next pages, loads the last ones),
        and are taken out in order, each exactly as :meth:`process` would give it."""
        return ParseStream(self, site, deadline, max_elements)

    def _run(self, batch: _Batch, count: int) -> None:
        self._workers += self._start(count - len(self._workers))
        while batch.todo or any(w.page is not None for w in self._workers):
            workers = self._workers[: max(count, 1)]  # a worker replaced is replaced here
            for w in workers:
                if w.page is None and batch.todo:
                    self._hand(w, batch.todo.popleft(), batch)
            busy = [w for w in workers if w.page is not None]
            waited: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            ready = set(wait(waited, self._timeout(busy, batch.deadline)))
            now = time.monotonic()
            for w in busy:
                if w.conn in ready or w.process.sentinel in ready:
                    self._receive(w, batch)
                elif batch.deadline > 0 and now - w.started >= batch.deadline:
                    self._expired(w, batch)

    def _timeout(self, busy: list[_Worker], deadline: float) -> float | None:
        if deadline <= 0:
            return None
        return max(0.0, min(w.started for w in busy) + deadline - time.monotonic())

    def _hand(self, w: _Worker, index: int, batch: _Batch) -> None:
        """Give page ``index`` to worker ``w`` (a dead one is found out by the wait)."""
        w.page, w.started = index, time.monotonic()
        try:
            if w.site is not batch.site:
                w.conn.send(("site", batch.site))
                w.site = batch.site
            w.conn.send(("page", _lean(batch.pages[index]), batch.max_elements))
        except OSError:
            pass  # it died: its sentinel says so

    def _receive(self, w: _Worker, batch: _Batch) -> None:
        try:
            if w.conn.poll():
                assert w.page is not None
                batch.results[w.page] = w.conn.recv()
                w.page = None
                return
        except (EOFError, OSError):
            pass  # it is gone
        if not w.process.is_alive():
            self._died(w, batch)

    def _died(self, w: _Worker, batch: _Batch) -> None:
        page = w.page
        ending = _ending(_stop(w, kill=True))
        self._workers[self._workers.index(w)] = self._start(1)[0]
        if page is None:
            return
        if page not in batch.retried:
            batch.retried.add(page)
            batch.todo.appendleft(page)  # a fresh worker tries again
            return
        log.warning("a page killed two parsing workers: %s", batch.pages[page].url)
        batch.results[page] = _failed(batch.pages[page], f"the parsing process died ({ending})")

    def _expired(self, w: _Worker, batch: _Batch) -> None:
        assert w.page is not None
        page = batch.pages[w.page]
        log.warning(
            "parsing %s took longer than %g s: its worker is stopped", page.url, batch.deadline
        )
        batch.results[w.page] = _failed(
            page, f"parse took longer than {batch.deadline:g} s (a page's deadline)"
        )
        self._replace(w)

    def _replace(self, w: _Worker) -> None:
        """Kill worker ``w`` and put a fresh one in its place."""
        _stop(w, kill=True)
        self._workers[self._workers.index(w)] = self._start(1)[0]

    def _start(self, count: int) -> list[_Worker]:
        """``count`` new workers, each ready for its first page."""
        context = multiprocessing.get_context("forkserver")
        started: list[_Worker] = []
        try:
            # The forkserver (one per process) imports the parser once: a worker is
            # then a fork of it, in milliseconds.
            context.set_forkserver_preload(["__main__", "transforms.pipeline"])
            with _no_ctrl_c_inherited():
                # The forkserver imports before it ignores SIGINT itself: a Ctrl-C then
                # printed its KeyboardInterrupt traceback. It starts with SIGINT blocked
                # (a thread's mask is inherited across fork and exec); Ctrl-C is the
                # run's to handle, and the run stops the workers.
                multiprocessing.forkserver.ensure_running()
            for _ in range(count):
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_work,
                    args=(theirs, os.getpid(), self.memory),
                    name="baolaocai-parse",
                    daemon=True,
                )
                try:
                    process.start()
                finally:
                    theirs.close()
                started.append(_Worker(process, ours))
            for w in started:
                if not w.conn.poll(START_TIMEOUT) or w.conn.recv() != _READY:
                    raise _CannotStart(f"a new worker was not ready in {START_TIMEOUT:g} s")
        except Exception as exc:
            for w in started:
                _stop(w, kill=True)
            if isinstance(exc, _CannotStart):
                raise
            raise _CannotStart(f"{type(exc).__name__}: {exc}") from exc
        return started

    def _stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        for w in workers:
            with contextlib.suppress(OSError):
                w.conn.close()  # the end of its pipe: it ends
        for w in workers:
            _stop(w, kill=False)

    def close(self) -> None:
        """Stop the workers (if they were started); later batches parse in process."""
        with self._lock:
            self._closed = True
            self._stop_workers()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ParseStream:
    """Pages parsed on a pool's workers while the caller goes on (see
    :meth:`ParsePool.stream`): :meth:`put` hands in a chunk of pages and returns at once,
    :meth:`take` gives back the oldest chunk with its records and failures (waiting for
    them), exactly as :meth:`ParsePool.process` would (same order, the same deadline per
    page, a page that kills two workers a failure). A thread of the caller's process hands
    the pages to the workers as they free up, so the workers never wait for the caller:
    a reparse reads and loads in its own process while every core parses.

    Only the pages put and not yet taken are held (:attr:`outstanding`): the caller
    bounds its memory by how far ahead it puts. A pool that cannot run workers (one
    worker and no deadline, closed, or one that could not start) parses each chunk in the
    calling process when it is taken, as :meth:`ParsePool.process` does."""

    POLL_S = 0.05
    """How soon the hand-out thread sees pages put for an idle worker, or a close."""

    def __init__(self, pool: ParsePool, site: Site, deadline: float, max_elements: int) -> None:
        self.pool = pool
        self.site = site
        self.deadline = deadline
        self.max_elements = max_elements
        self._batch = _Batch({}, site, deadline, max_elements, results={}, todo=deque())
        self._chunks: deque[tuple[int, int]] = deque()
        """``(first index, end index)`` of each chunk put and not taken, oldest first."""
        self._next = 0
        self._closing = False
        self._error: BaseException | None = None
        self._ready = threading.Condition()
        """Guards the batch's pages, results and queue between the two threads."""
        self._thread: threading.Thread | None = None
        self._in_process = pool.workers < 2 and deadline <= 0

    @property
    def outstanding(self) -> int:
        """Pages put and not yet taken."""
        with self._ready:
            return sum(end - start for start, end in self._chunks)

    def __enter__(self) -> ParseStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def put(self, pages: Sequence[FetchedPage]) -> None:
        """Queue ``pages`` for parsing (returns at once)."""
        with self._ready:
            start = self._next
            for page in pages:
                self._batch.pages[self._next] = page  # type: ignore[index]
                if _needs_parsing(page):
                    self._batch.todo.append(self._next)
                self._next += 1
            self._chunks.append((start, self._next))
            self._ready.notify_all()
        if self._thread is None and not self._in_process:
            self._thread = threading.Thread(
                target=self._hand_out, name="baolaocai-parse-stream", daemon=True
            )
            self._thread.start()

    def take(self) -> tuple[list[FetchedPage], list[StagedArticle], list[Failure]]:
        """The oldest chunk put and not taken: its pages, records and failures (waits for
        its last page to be parsed). :class:`IndexError` when nothing is outstanding."""
        with self._ready:
            start, end = self._chunks[0]
            while not self._finished(start, end):
                self._ready.wait(self.POLL_S)
            if self._error is not None:
                raise self._error
            self._chunks.popleft()
            pages = [self._batch.pages.pop(i) for i in range(start, end)]  # type: ignore[union-attr]
            results = [self._batch.results.pop(i, None) for i in range(start, end)]
        staged: list[StagedArticle] = []
        failures: list[Failure] = []
        for page, result in zip(pages, results, strict=True):
            part_staged, part_failures = result or process_pages(
                [page], self.site, max_elements=self.max_elements
            )
            staged += part_staged
            failures += part_failures
        return pages, staged, failures

    def _finished(self, start: int, end: int) -> bool:
        """Whether every page of the chunk that needs parsing has its result (or the
        workers cannot give it: the rest is parsed in process)."""
        if self._error is not None or self._in_process:
            return True
        if self._thread is not None and not self._thread.is_alive():
            return True
        batch = self._batch
        return all(
            i in batch.results or not _needs_parsing(batch.pages[i]) for i in range(start, end)
        )

    def close(self) -> None:
        """Stop handing out pages; a worker still on a page is stopped (the pool's
        others stay for the run's next use). Pages not taken are dropped."""
        with self._ready:
            self._closing = True
            self._batch.todo.clear()
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _hand_out(self) -> None:
        """The hand-out thread: the pool's loop of :meth:`ParsePool._run`, fed by
        :meth:`put` until :meth:`close`."""
        pool, batch = self.pool, self._batch
        with pool._lock:  # one batch or stream at a time on the pool's workers
            try:
                if pool._broken or pool._closed:
                    self._in_process = True
                    return
                pool._workers += pool._start(pool.workers - len(pool._workers))
                while True:
                    with self._ready:
                        if self._closing:
                            return
                        workers = pool._workers[: pool.workers]
                        handed = []
                        for w in workers:
                            if w.page is None and batch.todo:
                                handed.append((w, batch.todo.popleft()))
                    for w, index in handed:
                        pool._hand(w, index, batch)
                    busy = [w for w in workers if w.page is not None]
                    if not busy:
                        with self._ready:
                            if not batch.todo and not self._closing:
                                self._ready.wait(self.POLL_S)
                        continue
                    waited: list[Any] = [w.conn for w in busy] + [w.process.sentinel for w in busy]
                    # Woken at least every POLL_S: new pages for an idle worker, a close.
                    timeout = pool._timeout(busy, batch.deadline)
                    timeout = self.POLL_S if timeout is None else min(timeout, self.POLL_S)
                    ready = set(wait(waited, timeout))
                    now = time.monotonic()
                    with self._ready:
                        for w in busy:
                            if w.conn in ready or w.process.sentinel in ready:
                                pool._receive(w, batch)
                            elif batch.deadline > 0 and now - w.started >= batch.deadline:
                                pool._expired(w, batch)
                        self._ready.notify_all()
            except _CannotStart as exc:
                log.warning(
                    "a parsing worker could not start (%s): parsing goes on in the run's own"
                    " process, without a deadline",
                    exc,
                )
                pool._broken = True
                pool._stop_workers()
                with self._ready:
                    self._in_process = True
            except BaseException as exc:  # a bug: the caller's take() raises it
                with self._ready:
                    self._error = exc
            finally:
                # Cut short: a worker still on a page would answer the next batch.
                for w in [w for w in pool._workers if w.page is not None]:
                    _stop(w, kill=True)
                    pool._workers.remove(w)
                with self._ready:
                    self._ready.notify_all()


def _stop(w: _Worker, *, kill: bool) -> int | None:
    """End worker ``w`` (at once, or when it has read the end of its pipe); its exit code
    (``None`` if it was stopped before)."""
    with contextlib.suppress(OSError):
        w.conn.close()
    try:
        if kill:
            w.process.kill()
        w.process.join(STOP_TIMEOUT)
        if w.process.is_alive():
            w.process.kill()
            w.process.join(STOP_TIMEOUT)
        code = w.process.exitcode
        w.process.close()
    except ValueError:  # closed already
        return None
    return code


def _failed(page: FetchedPage, reason: str) -> Result:
    return [], [Failure(page.url, "parse", reason, page.status, page.attempts)]


def _ending(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
