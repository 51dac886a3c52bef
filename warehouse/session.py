"""What one run writes to: the warehouse file, held open, and the web archive beside it.

A :class:`WarehouseSession` belongs to one run (the run makes it when it opens and closes
it when it closes, like its HTTP client) and is handed to every step that touches the
warehouse. It :meth:`~WarehouseSession.begin`\\ s (the warehouse is held open by this
process: :func:`warehouse.db.open_held`) and :meth:`~WarehouseSession.close`\\ s (the
archive is flushed and closed, the warehouse closed and so checkpointed once). In
between, every step writes through cursors of the same connection
(:meth:`~WarehouseSession.writing`), and every page fetched is archived first
(:meth:`~WarehouseSession.archive`: WARC records appended and fsynced) and indexed in the
same transaction as the articles parsed from it.

Readers are let in, since DuckDB allows no reader beside a writing process:
:meth:`~WarehouseSession.breathe`, called at batch boundaries, closes the warehouse when a
reader of ours waits for it (``baolaocai sql``, ``status``, … leave a mark next to the file
while they wait: :func:`warehouse.db.readers_waiting`), before a step that will wait on the
network for :data:`RELEASE_BEFORE_WAIT_S` or more (a polite crawl: 25 pages at one a
second), and, for other programs, once the run has held it :data:`MAX_HOLD_S` (then for
:data:`READER_WINDOW_S`, longer than the 1 s a waiting reader sleeps between attempts).
So a reader of ours waits about one batch. The next step opens it again.

:meth:`~WarehouseSession.begin` also moves the pages an older warehouse kept in
``raw_pages.html`` into the archive, :data:`MOVE_BATCH` at a time, each batch archived and
then indexed in one transaction (an interrupted move goes on at the next run; a batch
archived twice only leaves unreferenced records).

The archive folder of ``<dir>/<name>.duckdb`` is ``<dir>/<name>.warc/`` (:func:`warc_dir`).
A warehouse may hold several sites: each site has its own WARC files in that folder
(named after its key, their ``warcinfo`` naming the site) and its own writer, so a file
only ever holds one site's captures.

The session also keeps the run's search-index watermark timing
(:meth:`~WarehouseSession.due_for_index`): which changed articles wait for the index.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from baolaocai.models import FetchedPage
from baolaocai.site import Site
from warehouse.db import (
    DEFAULT_LOCK_TIMEOUT,
    close_held,
    connect,
    held_cursor,
    open_held,
    readers_waiting,
    transaction,
    write_connection,
)
from warehouse.load import CAPTURE_TYPES, bulk_insert, capture_row
from warehouse.state import listed_categories
from warehouse.warc import CaptureRef, Exchange, WarcWriter

log = logging.getLogger(__name__)

RELEASE_BEFORE_WAIT_S = 5.0
MAX_HOLD_S = 60.0
READER_WINDOW_S = 1.2
MOVE_BATCH = 500
WARC_MAX_FILE_BYTES = 1 << 30
INDEX_EVERY_ARTICLES = 500
INDEX_EVERY_S = 30.0


def warc_dir(db_path: str | Path) -> Path:
    """``warehouse/baolaocai.duckdb`` -> ``warehouse/baolaocai.warc``."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.warc")


class WarehouseSession:
    """The warehouse and web archive of one run of ``site`` on ``db_path`` (see the module
    docstring): the held connection and its timing, the archive writers, the articles
    waiting for the search index.

    Made without touching the disk; :meth:`begin` holds the warehouse, :meth:`close` lets
    it go (and is safe to call twice). A session never begun serves reads with a
    connection of their own (:meth:`reading`: what ``crawl --plan`` needs) and writes
    likewise (:meth:`writing`)."""

    def __init__(
        self, db_path: str | Path, site: Site, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        self.db_path = Path(db_path)
        self.site = site
        self.lock_timeout = lock_timeout
        self._con: duckdb.DuckDBPyConnection | None = None
        self._held_since = 0.0
        self._running = False
        """Between :meth:`begin` and :meth:`close`: steps write through the held connection."""
        self._writers: dict[str, WarcWriter] = {}
        """Site key -> the open archive writer of that site."""
        self._pending_index: set[tuple[str, int]] = set()
        self._indexed_at: float | None = None
        self._lock = threading.RLock()
        """Steps may run on an orchestrator's worker threads."""
        self._closes_at_exit = False

    @property
    def warc_dir(self) -> Path:
        return warc_dir(self.db_path)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def held(self) -> bool:
        """Whether the warehouse is open now (not let go by :meth:`breathe`)."""
        return self._con is not None

    # -- hold and let go --------------------------------------------------------------------

    def begin(self) -> int:
        """Hold the warehouse for the run and move the session site's legacy raw pages into
        the archive; returns how many pages were moved."""
        with self._lock:
            self._running = True
        try:
            self._hold()
            return self.move_legacy_raw_pages(self.site)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Flush and close the archive (every site's writer), then close the warehouse (one
        checkpoint). Nothing to do the second time."""
        with self._lock:
            writers = list(self._writers.values())
            self._writers.clear()
            self._running = False
            self._pending_index = set()
            self._indexed_at = None
            if self._closes_at_exit:
                atexit.unregister(self.close)
                self._closes_at_exit = False
        try:
            for writer in writers:
                writer.close()
        finally:
            self._let_go()

    def _hold(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = open_held(self.db_path, lock_timeout=self.lock_timeout)
                self._held_since = time.monotonic()
                self._close_at_exit()
            return self._con

    def _close_at_exit(self) -> None:
        """A process that exits without closing the session (a bug, ``sys.exit`` in a
        step) still flushes the archive and checkpoints the warehouse."""
        if not self._closes_at_exit:
            atexit.register(self.close)
            self._closes_at_exit = True

    def _let_go(self) -> None:
        with self._lock:
            con, self._con = self._con, None
        if con is not None:
            close_held(con, self.db_path)

    def breathe(self, expected_wait_s: float = 0.0) -> None:
        """Let readers in if one is waiting, if the run is about to wait long enough, or if
        it has held the warehouse too long (see the module docstring). The next write opens
        the warehouse again (waiting, if need be, for the readers to finish)."""
        with self._lock:
            if self._con is None:
                return
            waiting = readers_waiting(self.db_path)
            held_s = time.monotonic() - self._held_since
            if not waiting and expected_wait_s < RELEASE_BEFORE_WAIT_S and held_s < MAX_HOLD_S:
                return
            self._let_go()
        if expected_wait_s >= RELEASE_BEFORE_WAIT_S:
            return  # the readers have the whole wait
        deadline = time.monotonic() + READER_WINDOW_S
        while time.monotonic() < deadline:  # until the waiting readers are in
            time.sleep(0.05)
            if waiting and not readers_waiting(self.db_path):
                return

    def resume(self) -> None:
        """Hold the warehouse again (after :meth:`breathe`) if the run is on."""
        with self._lock:
            if self._running:
                self._hold()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to write with: during the run a cursor of the held connection
        (held again first if :meth:`breathe` let it go), otherwise one of its own."""
        with self._lock:
            cursor = held_cursor(self._hold()) if self._running else None
        if cursor is None:
            with write_connection(self.db_path, lock_timeout=self.lock_timeout) as con:
                yield con
            return
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to read with: during the run a cursor of the held connection,
        otherwise a read-only one of its own (the warehouse must exist)."""
        with self._lock:
            cursor = held_cursor(self._hold()) if self._running else None
        con = (
            cursor
            if cursor is not None
            else connect(self.db_path, read_only=True, lock_timeout=self.lock_timeout)
        )
        try:
            yield con
        finally:
            con.close()

    def listed_categories(self, site: Site, ids: Sequence[int]) -> dict[int, str]:
        """Stored categories taken from listings for ``ids`` (see
        :func:`warehouse.state.listed_categories`); none before the warehouse exists."""
        if not ids or not Path(self.db_path).exists():
            return {}
        with self.reading() as con:
            return listed_categories(con, site, ids)

    # -- the search index -------------------------------------------------------------------

    def due_for_index(self, changed: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
        """The articles (``(site key, article_id)``) to hand to the search index now: the
        run's changed articles gathered until :data:`INDEX_EVERY_ARTICLES` are waiting or
        :data:`INDEX_EVERY_S` passed since the index last took some (empty: not yet). A
        commit per batch of 25 made tantivy write each document 13 times over (segments
        merged again and again); the run's close brings the index up to date whatever is
        still waiting (its watermark)."""
        with self._lock:
            self._pending_index.update(changed)
            now = time.monotonic()
            if self._indexed_at is None:
                self._indexed_at = now
            pending = self._pending_index
            if not pending or (
                len(pending) < INDEX_EVERY_ARTICLES and now - self._indexed_at < INDEX_EVERY_S
            ):
                return set()
            self._indexed_at = now
            self._pending_index = set()
            return pending

    # -- the web archive --------------------------------------------------------------------

    def writer(self, site: Site | None = None) -> WarcWriter:
        """The archive writer of ``site`` (default: the session's) in the warehouse's
        folder, opened on first use: its files are named after the site's key and their
        ``warcinfo`` names the site."""
        site = site or self.site
        with self._lock:
            found = self._writers.get(site.key)
            if found is None:
                found = WarcWriter(
                    self.warc_dir,
                    prefix=site.key,
                    site_name=site.name,
                    origin=site.origin,
                    max_file_bytes=WARC_MAX_FILE_BYTES,
                )
                if found.repaired is not None:
                    log.warning("web archive repaired after a crash: %s", found.repaired)
                self._writers[site.key] = found
                self._close_at_exit()
            return found

    def archive(
        self, pages: Iterable[FetchedPage], site: Site | None = None
    ) -> dict[str, CaptureRef]:
        """Append the pages of ``site`` (default: the session's) with a body (and not read
        back from the archive) to its WARC files, fsynced; returns URL -> capture (the
        warehouse rows are written after this)."""
        todo = [p for p in pages if p.html is not None and not p.archived]
        if not todo:
            return {}
        refs = self.writer(site).append_many(exchange_of(p) for p in todo)
        return {p.url: ref for p, ref in zip(todo, refs, strict=True)}

    def move_legacy_raw_pages(self, site: Site, batch: int = MOVE_BATCH) -> int:
        """Move the pages of ``site`` stored in ``raw_pages.html`` (before schema 5, or by
        a caller without an archive) into its WARC files."""
        moved = 0
        while True:
            with self.writing() as con:
                rows = con.execute(
                    "SELECT url, article_id, fetched_at, status, etag, last_modified,"
                    " content_type, html, run_id FROM raw_pages"
                    " WHERE site = ? AND html IS NOT NULL ORDER BY url LIMIT ?",
                    [site.key, batch],
                ).fetchall()
                if not rows:
                    return moved
                pages = [_legacy_page(*row[:8]) for row in rows]
                refs = self.archive(pages, site)
                _index_moved(con, site.key, rows, refs)
            moved += len(rows)
            log.info("moved %d stored pages into the web archive", moved)


def exchange_of(page: FetchedPage) -> Exchange:
    """The WARC exchange of a fetched page. A page known only as text (``body`` is None:
    built by hand, or moved from ``raw_pages.html``) is stored as UTF-8 and says so."""
    if page.body is not None:
        headers: Sequence[tuple[str, str]] = page.response_headers or tuple(page.headers.items())
        body = page.body
    else:
        assert page.html is not None
        body = page.html.encode("utf-8")
        headers = [(k, v) for k, v in page.headers.items() if k.lower() != "content-type"]
        headers.append(("content-type", "text/html; charset=utf-8"))
    return Exchange(
        url=page.url,
        fetched_at=page.fetched_at,
        status=page.status,
        response_headers=headers,
        body=body,
        request_headers=page.request_headers,
    )


def _legacy_page(
    url: str,
    article_id: int | None,
    fetched_at: datetime,
    status: int,
    etag: str | None,
    last_modified: str | None,
    content_type: str | None,
    html: str,
) -> FetchedPage:
    pairs = (("etag", etag), ("last-modified", last_modified), ("content-type", content_type))
    return FetchedPage(url, url, status, fetched_at, html, {k: v for k, v in pairs if v})


def _index_moved(
    con: duckdb.DuckDBPyConnection,
    site: str,
    rows: Sequence[tuple[Any, ...]],
    refs: Mapping[str, CaptureRef],
) -> None:
    index = [
        capture_row(site, url, aid, fetched_at, status, content_type, refs[url], run_id)
        for url, aid, fetched_at, status, _etag, _lm, content_type, _html, run_id in rows
    ]
    with transaction(con):
        bulk_insert(con, "INSERT INTO captures", CAPTURE_TYPES, index)
        moved = list(refs.items())
        con.execute(
            "UPDATE raw_pages r SET html = NULL, warc_file = c.warc_file,"
            " warc_offset = c.warc_offset, warc_length = c.warc_length, digest = c.digest,"
            " record_id = c.record_id"
            " FROM (SELECT unnest(?::VARCHAR[]) AS url, unnest(?::VARCHAR[]) AS warc_file,"
            "  unnest(?::BIGINT[]) AS warc_offset, unnest(?::BIGINT[]) AS warc_length,"
            "  unnest(?::VARCHAR[]) AS digest, unnest(?::VARCHAR[]) AS record_id) c"
            " WHERE r.site = ? AND r.url = c.url",
            [
                [u for u, _ in moved],
                [r.file for _, r in moved],
                [r.offset for _, r in moved],
                [r.length for _, r in moved],
                [r.digest for _, r in moved],
                [r.record_id for _, r in moved],
                site,
            ],
        )
