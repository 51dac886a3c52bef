"""What one run writes to: the warehouse file, opened for each write and let go at once,
and the web archive beside it.

A :class:`WarehouseSession` belongs to one run (the run makes it when it opens and closes
it when it closes, like its HTTP client) and is handed to every step that touches the
warehouse. :meth:`~WarehouseSession.begin` takes the warehouse's **writer lock**
(:mod:`warehouse.writer`: one run writes a warehouse at a time, for its whole life;
a second one waits for it or is refused in one line, before it reads anything from
the network) and :meth:`~WarehouseSession.close` lets it go after the archive is
flushed and closed.

**Readers are never locked out.** DuckDB lets no other process read a file while one
holds it open for writing (its lock is per process and lasts as long as the
connection). So the run holds the file only while it writes: every
:meth:`~WarehouseSession.writing` block opens it (:func:`warehouse.db.open_held`: row
groups of 2,048 rows, so the checkpoint at each close rewrites little however large
the archive grows) and the outermost block closes it again. Opening costs about 15 ms,
a batch's write a few tens: the file is free more than 99 % of a polite crawl's time,
and a plain ``duckdb.connect(db, read_only=True)`` from pandas, the DuckDB CLI or
``baolaocai sql`` gets in at once (``benchmarks/reader_poll.py`` measures it). The
run's own reads between writes (:meth:`~WarehouseSession.reading`: planning, the
stored pages of a reparse, the search index's updates) use read-only connections,
which share the file with everyone else's.

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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from baolaocai.errors import WarehouseError
from baolaocai.identity import capture_url
from baolaocai.models import FetchedPage
from baolaocai.site import Site
from warehouse.db import (
    DEFAULT_LOCK_TIMEOUT,
    check_companions,
    checkpoint,
    close_held,
    connect,
    held_cursor,
    open_held,
    transaction,
    write_connection,
)
from warehouse.lake import LakeSpec, LakeWriterLock, is_lake, retry_on_conflict, warc_folder
from warehouse.load import CAPTURE_TYPES, bulk_insert, capture_row
from warehouse.staging import remove_dead as remove_dead_staging
from warehouse.warc import CaptureRef, Exchange, Revisit, WarcError, WarcWriter, read_capture
from warehouse.writer import Holder, WriterLock

log = logging.getLogger(__name__)

MOVE_BATCH = 500
WARC_MAX_FILE_BYTES = 1 << 30
INDEX_EVERY_ARTICLES = 500
INDEX_EVERY_S = 30.0


def warc_dir(db_path: str | Path) -> Path:
    """``warehouse/baolaocai.duckdb`` -> ``warehouse/baolaocai.warc``; a lake's is
    ``<data path>/warc`` (:func:`warehouse.lake.warc_folder`)."""
    if is_lake(db_path):
        return warc_folder(str(db_path))
    path = Path(db_path)
    return path.with_name(f"{path.stem}.warc")


def writer_lock(
    db_path: str | Path, site_key: str, *, run_id: str = "", kind: str = ""
) -> WriterLock | LakeWriterLock:
    """The writer lock a run of ``site_key`` takes on ``db_path``: the file's (one run at a
    time, :mod:`warehouse.writer`), or on a lake the site's (one run per site at a time,
    :class:`warehouse.lake.LakeWriterLock`)."""
    if is_lake(db_path):
        return LakeWriterLock(LakeSpec.parse(str(db_path)), site_key, run_id=run_id, kind=kind)
    return WriterLock(db_path, run_id=run_id, kind=kind)


class WarehouseSession:
    """The warehouse and web archive of one run of ``site`` on ``db_path`` (see the module
    docstring): the writer lock, the connection of the write under way, the archive
    writers, the articles waiting for the search index.

    Made without touching the disk; :meth:`begin` takes the writer lock (waiting up to
    ``wait_s`` for another run, ``on_wait`` told once for whom), :meth:`close` lets it go
    (and is safe to call twice). A session never begun serves reads with a connection of
    their own (:meth:`reading`: what ``crawl --plan`` needs) and writes likewise
    (:meth:`writing`)."""

    def __init__(
        self,
        db_path: str | Path,
        site: Site,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        run_id: str = "",
        kind: str = "",
        wait_s: float = 0.0,
        on_wait: Callable[[Holder], None] | None = None,
        locks: bool = True,
    ) -> None:
        self.lake = is_lake(db_path)
        """A lake (:mod:`warehouse.lake`): the write connection is held for the run (its
        readers read snapshots, nobody waits for it), the writer lock is per site."""
        self.db_path: str | Path = str(db_path) if self.lake else Path(db_path)
        self.site = site
        self.lock_timeout = lock_timeout
        self.wait_s = wait_s
        self.on_wait = on_wait
        self.locks = locks
        """False: a part of a run that holds the writer lock for it (a reparse in parts).
        On a lake a part still takes a lock of its own (``<site>#<run id>``), so that
        whoever waits for it can tell a part that died (its lock gone, its run still
        'running') from one at work."""
        key = site.key if locks else f"{site.key}#{run_id}"
        self.writer_lock = writer_lock(db_path, key, run_id=run_id, kind=kind)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._writes = 0
        """Write blocks under way (threads of an orchestrator may overlap them)."""
        self._migrated = False
        self._running = False
        """Between :meth:`begin` and :meth:`close`: writes are the run's (writer lock held)."""
        self._writers: dict[str, WarcWriter] = {}
        """Site key -> the open archive writer of that site."""
        self._pending_index: set[tuple[str, int]] = set()
        self._indexed_at: float | None = None
        self._lock = threading.RLock()
        """Steps may run on an orchestrator's worker threads: one block at a time."""
        self._closes_at_exit = False

    @property
    def warc_dir(self) -> Path:
        return warc_dir(self.db_path)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def held(self) -> bool:
        """Whether the warehouse is open for writing now (only inside :meth:`writing`)."""
        return self._con is not None

    # -- the writer lock --------------------------------------------------------------------

    def begin(self) -> int:
        """Take the writer lock for the run (see :mod:`warehouse.writer`), create or migrate
        the warehouse and move the session site's legacy raw pages into the archive;
        returns how many pages were moved. Staging files left beside the warehouse by a
        killed writer are removed first (:func:`warehouse.staging.remove_dead`)."""
        self.claim()
        for left in [] if self.lake else remove_dead_staging(self.db_path):
            log.info("removed a staging file left by a killed process: %s", left)
        with self._lock:
            self._running = True
            self._close_at_exit()
        try:
            return self.move_legacy_raw_pages(self.site)
        except BaseException:
            self.close()
            raise

    def claim(self) -> None:
        """Take the writer lock (waiting up to ``wait_s``; :class:`WarehouseBusyError` if
        another run keeps it), after checking the warehouse's companions; nothing to do
        when this session holds it already. :meth:`begin` claims; a run claims first, in
        its own code, so that a busy warehouse is its answer, not a failed step."""
        check_companions(self.db_path)
        if self.locks or self.lake:
            self.writer_lock.acquire(self.wait_s, self.on_wait)

    def close(self) -> None:
        """Flush and close the archive (every site's writer), close the warehouse if a write
        is open, then let the writer lock go. Nothing to do the second time."""
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
            try:
                owner = self.writer_lock.held or not self.locks
                self._let_go(final=owner and self._migrated, closing=True)
            finally:
                self.writer_lock.release()

    def _hold(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                self._con = open_held(
                    self.db_path, lock_timeout=self.lock_timeout, migrate=not self._migrated
                )
                wal = Path(self.db_path)
                wal = wal.with_name(f"{wal.name}.wal")
                if not self.lake and not self._migrated and wal.exists() and wal.stat().st_size:
                    # DuckDB (1.5) cannot replay a log holding a migration's schema
                    # changes into a read-only connection ("Failure while replaying
                    # WAL … no default database set"): readers, ours and the user's,
                    # would be locked out. A migration's changes never stay in the log.
                    checkpoint(self._con, self.db_path)
                self._migrated = True
            return self._con

    def _close_at_exit(self) -> None:
        """A process that exits without closing the session (a bug, ``sys.exit`` in a
        step) still flushes the archive and lets the warehouse go."""
        if not self._closes_at_exit:
            atexit.register(self.close)
            self._closes_at_exit = True

    def _let_go(self, *, final: bool = False, closing: bool = False) -> None:
        """Close the write connection; ``final`` (the run ends): checkpoint first, opening
        it for that if need be, so the run leaves no write-ahead log behind."""
        with self._lock:
            if self.lake and not (final or closing):
                return  # nobody waits for a lake's writer: keep the connection for the run
            con, self._con = self._con, None
            if final and con is None and self.lake:
                return
            if final and con is None:
                con = open_held(self.db_path, lock_timeout=self.lock_timeout, migrate=False)
        if con is None:
            return
        try:
            if final:
                checkpoint(con, self.db_path)
        finally:
            close_held(con, self.db_path)

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to write with: during the run a cursor of the warehouse opened for
        this block (the outermost block closes it again, without a checkpoint, and every
        reader can get in; a write the disk refused is one :class:`WarehouseError` line),
        otherwise a connection of its own."""
        if not self._running:
            with write_connection(self.db_path, lock_timeout=self.lock_timeout) as con:
                yield con
            return
        with self._lock:
            self._writes += 1
            try:
                cursor = held_cursor(self._hold())
            except BaseException:
                self._writes -= 1
                if not self._writes:
                    self._let_go()
                raise
            try:
                yield cursor
            except duckdb.Error as exc:
                if is_disk_error(exc):  # the disk refused, not a bug
                    raise storage_error(Path(self.db_path), exc) from None
                raise
            except OSError as exc:  # a staging file beside the warehouse: the same disk
                raise storage_error(Path(self.db_path).parent, exc) from None
            finally:
                try:
                    cursor.close()
                finally:
                    self._writes -= 1
                    if not self._writes:
                        self._let_go()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to read with: inside a write block a cursor of its connection,
        otherwise a read-only one of its own, which shares the file with every other
        reader (the warehouse must exist)."""
        with self._lock:
            con = (
                held_cursor(self._con)
                if self._con is not None
                else connect(self.db_path, read_only=True, lock_timeout=self.lock_timeout)
            )
            try:
                yield con
            finally:
                con.close()

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
            if self._indexed_at is None:  # the run's first changes: at once, so that a
                self._indexed_at = now - INDEX_EVERY_S  # first crawl is searchable early
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
        self,
        pages: Iterable[FetchedPage],
        site: Site | None = None,
        *,
        kept: Mapping[str, CaptureRef] | None = None,
    ) -> dict[str, CaptureRef]:
        """Append the pages of ``site`` (default: the session's) with a body (and not read
        back from the archive) to its WARC files, fsynced; returns URL -> capture (the
        warehouse rows are written after this).

        ``kept`` (URL -> the stored response, :func:`~warehouse.load.kept_captures`): those
        pages, and the ``304 Not Modified`` answers among them, are stored as ``revisit``
        records of that response (their refs have ``refers_to``), once the response has
        been read back whole: one that cannot be (a WARC file lost or damaged by hand)
        is not referred to, the page is archived in full again (a 304, which has no
        body, is then not archived at all)."""
        site = site or self.site
        kept = kept or {}
        todo: list[Exchange | Revisit] = []
        urls: list[str] = []
        for p in pages:
            if p.archived or (p.html is None and not (p.status == 304 and p.url in kept)):
                continue
            revisit = self._revisit_of(p, site, kept[p.url]) if p.url in kept else None
            if revisit is not None:
                todo.append(revisit)
            elif p.html is not None:
                todo.append(exchange_of(p, site))
            else:
                continue
            urls.append(p.url)
        if not todo:
            return {}
        try:
            refs = self.writer(site).append_many(todo)
        except OSError as exc:
            raise storage_error(self.warc_dir, exc) from None
        return dict(zip(urls, refs, strict=True))

    def _revisit_of(self, page: FetchedPage, site: Site, stored: CaptureRef) -> Revisit | None:
        """The revisit record of ``page``, whose answer is the one ``stored`` holds, or
        ``None`` when that response cannot be read back (logged)."""
        try:
            original = read_capture(self.warc_dir, stored)
        except WarcError as exc:
            log.warning("%s: its stored capture cannot be read (%s); archived again", page.url, exc)
            return None
        exchange = exchange_of(page, site) if page.html is not None else None
        headers = (
            exchange.response_headers
            if exchange is not None
            else page.response_headers or tuple(page.headers.items())
        )
        return Revisit(
            url=capture_url(page, site),
            fetched_at=page.fetched_at,
            status=page.status,
            response_headers=headers,
            original=stored,
            original_url=original.url,
            original_date=original.fetched_at,
            payload_length=len(original.body),
            request_headers=page.request_headers,
        )

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


DISK_ERRORS = ("No space left on device", "Disk quota exceeded", "Read-only file system")


def is_disk_error(exc: BaseException) -> bool:
    """DuckDB could not read or write its files (an I/O error, an instance invalidated by
    one, or a commit whose log could not be written for want of room)."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.IOException | duckdb.FatalException) or any(
        k.lower() in text for k in DISK_ERRORS
    )


def storage_error(where: Path, exc: BaseException) -> WarehouseError:
    """A write that the disk refused (full, a quota, read-only, a file too large) as one
    line saying where, instead of a traceback: the run stops with it, what was committed
    before stays (DuckDB's log, the fsynced WARC records)."""
    text = str(exc).strip()
    reason = next((k for k in DISK_ERRORS if k.lower() in text.lower()), None)
    if reason is None:
        strerror = getattr(exc, "strerror", None)
        reason = strerror or (text.splitlines()[0] if text else type(exc).__name__)
    return WarehouseError(f"cannot write {where}: {reason}")


def exchange_of(page: FetchedPage, site: Site) -> Exchange:
    """The WARC exchange of a fetched page. A page known only as text (``body`` is None:
    built by hand, or moved from ``raw_pages.html``) is stored as UTF-8 and says so. A
    page that redirects led elsewhere (another article, the home page) is archived as
    the answer of the address it came from (:func:`~baolaocai.identity.capture_url`)."""
    if page.body is not None:
        headers: Sequence[tuple[str, str]] = page.response_headers or tuple(page.headers.items())
        body = page.body
    else:
        assert page.html is not None
        body = page.html.encode("utf-8")
        headers = [(k, v) for k, v in page.headers.items() if k.lower() != "content-type"]
        headers.append(("content-type", "text/html; charset=utf-8"))
    return Exchange(
        url=capture_url(page, site),
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


@retry_on_conflict
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
