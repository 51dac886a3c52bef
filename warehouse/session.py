"""What one run writes to: the warehouse file, held open, and the web archive beside it.

A run :func:`begin`\\ s (the warehouse is held open by this process: :func:`warehouse.db.hold`)
and :func:`end`\\ s (the archive is flushed and closed, the warehouse closed and so
checkpointed once). In between, every step writes through the same connection, and every
page fetched is archived first (:func:`archive`: WARC records appended and fsynced) and
indexed in the same transaction as the articles parsed from it.

Readers are let in, since DuckDB allows no reader beside a writing process:
:func:`breathe`, called at batch boundaries, closes the warehouse when a reader of ours
waits for it (``baolaocai sql``, ``status``, … leave a mark next to the file while they
wait: :func:`warehouse.db.readers_waiting`), before a step that will wait on the network
for :data:`RELEASE_BEFORE_WAIT_S` or more (a polite crawl: 25 pages at one a second), and,
for other programs, once the run has held it :data:`MAX_HOLD_S` (then for
:data:`READER_WINDOW_S`, longer than the 1 s a waiting reader sleeps between attempts).
So a reader of ours waits about one batch.

:func:`begin` also moves the pages an older warehouse kept in ``raw_pages.html`` into the
archive, :data:`MOVE_BATCH` at a time, each batch archived and then indexed in one
transaction (an interrupted move goes on at the next run; a batch archived twice only
leaves unreferenced records).

The archive folder of ``<dir>/<name>.duckdb`` is ``<dir>/<name>.warc/`` (:func:`warc_dir`).
A warehouse may hold several sites: each site has its own WARC files in that folder
(named after its key, their ``warcinfo`` naming the site) and its own writer, so a file
only ever holds one site's captures.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from baolaocai.models import FetchedPage
from baolaocai.site import Site
from warehouse.db import hold, is_held, readers_waiting, transaction, unhold, write_connection
from warehouse.load import CAPTURE_TYPES, bulk_insert, capture_row
from warehouse.warc import CaptureRef, Exchange, WarcWriter

log = logging.getLogger(__name__)

RELEASE_BEFORE_WAIT_S = 5.0
MAX_HOLD_S = 60.0
READER_WINDOW_S = 1.2
MOVE_BATCH = 500
WARC_MAX_FILE_BYTES = 1 << 30

_writers: dict[tuple[str, str], WarcWriter] = {}
"""(warehouse, site key) -> the open archive writer of that site."""
_held_since: dict[str, float] = {}
_pending_index: dict[str, set[tuple[str, int]]] = {}
_indexed_at: dict[str, float] = {}
INDEX_EVERY_ARTICLES = 500
INDEX_EVERY_S = 30.0
_runs: set[str] = set()
"""Warehouses this process is running on (between :func:`begin` and :func:`end`)."""
_lock = threading.RLock()


def warc_dir(db_path: str | Path) -> Path:
    """``warehouse/baolaocai.duckdb`` -> ``warehouse/baolaocai.warc``."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.warc")


def _key(db_path: str | Path) -> str:
    return str(Path(db_path).resolve())


def begin(db_path: str | Path, site: Site) -> int:
    """Hold the warehouse for a run of ``site`` and move that site's legacy raw pages
    into the archive; returns how many pages were moved."""
    with _lock:
        _runs.add(_key(db_path))
    _hold(db_path)
    return move_legacy_raw_pages(db_path, site)


def end(db_path: str | Path) -> None:
    """Flush and close the archive (every site's writer), then close the warehouse (one
    checkpoint)."""
    key = _key(db_path)
    with _lock:
        writers = [_writers.pop(k) for k in [k for k in _writers if k[0] == key]]
        _held_since.pop(key, None)
        _runs.discard(key)
        _pending_index.pop(key, None)
        _indexed_at.pop(key, None)
    try:
        for writer in writers:
            writer.close()
    finally:
        unhold(db_path)


def _hold(db_path: str | Path) -> None:
    with _lock:
        if not is_held(db_path):
            hold(db_path)
            _held_since[_key(db_path)] = time.monotonic()


def breathe(db_path: str | Path, expected_wait_s: float = 0.0) -> None:
    """Let readers in if one is waiting, if the run is about to wait long enough, or if
    it has held the warehouse too long (see the module docstring). The next write opens
    the warehouse again (waiting, if need be, for the readers to finish)."""
    with _lock:
        since = _held_since.get(_key(db_path))
        if since is None:
            return
        waiting = readers_waiting(db_path)
        held_s = time.monotonic() - since
        if not waiting and expected_wait_s < RELEASE_BEFORE_WAIT_S and held_s < MAX_HOLD_S:
            return
        _held_since.pop(_key(db_path), None)
        unhold(db_path)
    if expected_wait_s >= RELEASE_BEFORE_WAIT_S:
        return  # the readers have the whole wait
    deadline = time.monotonic() + READER_WINDOW_S
    while time.monotonic() < deadline:  # until the waiting readers are in
        time.sleep(0.05)
        if waiting and not readers_waiting(db_path):
            return


def resume(db_path: str | Path) -> None:
    """Hold the warehouse again (after :func:`breathe`) if this process runs on it."""
    with _lock:
        if _key(db_path) in _runs:
            _hold(db_path)


def due_for_index(db_path: str | Path, changed: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """The articles (``(site key, article_id)``) to hand to the search index now: the
    run's changed articles
    gathered until :data:`INDEX_EVERY_ARTICLES` are waiting or :data:`INDEX_EVERY_S`
    passed since the index last took some (empty: not yet). A commit per batch of 25 made
    tantivy write each document 13 times over (segments merged again and again); the run's
    close brings the index up to date whatever is still waiting (its watermark)."""
    key = _key(db_path)
    with _lock:
        pending = _pending_index.setdefault(key, set())
        pending.update(changed)
        now = time.monotonic()
        last = _indexed_at.setdefault(key, now)
        if not pending or (len(pending) < INDEX_EVERY_ARTICLES and now - last < INDEX_EVERY_S):
            return set()
        _indexed_at[key] = now
        _pending_index[key] = set()
        return pending


def writer(db_path: str | Path, site: Site) -> WarcWriter:
    """The archive writer of ``site`` in the warehouse's folder (opened on first use): its
    files are named after the site's key and their ``warcinfo`` names the site."""
    key = (_key(db_path), site.key)
    with _lock:
        found = _writers.get(key)
        if found is None:
            found = WarcWriter(
                warc_dir(db_path),
                prefix=site.key,
                site_name=site.name,
                origin=site.origin,
                max_file_bytes=WARC_MAX_FILE_BYTES,
            )
            if found.repaired is not None:
                log.warning("web archive repaired after a crash: %s", found.repaired)
            _writers[key] = found
        return found


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


def archive(db_path: str | Path, site: Site, pages: Iterable[FetchedPage]) -> dict[str, CaptureRef]:
    """Append the pages of ``site`` with a body (and not read back from the archive) to
    its WARC files, fsynced; returns URL -> capture (the warehouse rows are written after
    this)."""
    todo = [p for p in pages if p.html is not None and not p.archived]
    if not todo:
        return {}
    refs = writer(db_path, site).append_many(exchange_of(p) for p in todo)
    return {p.url: ref for p, ref in zip(todo, refs, strict=True)}


def move_legacy_raw_pages(db_path: str | Path, site: Site, batch: int = MOVE_BATCH) -> int:
    """Move the pages of ``site`` stored in ``raw_pages.html`` (before schema 5, or by a
    caller without an archive) into its WARC files."""
    moved = 0
    while True:
        with write_connection(db_path) as con:
            rows = con.execute(
                "SELECT url, article_id, fetched_at, status, etag, last_modified, content_type,"
                " html, run_id FROM raw_pages WHERE site = ? AND html IS NOT NULL"
                " ORDER BY url LIMIT ?",
                [site.key, batch],
            ).fetchall()
            if not rows:
                return moved
            pages = [_legacy_page(*row[:8]) for row in rows]
            refs = archive(db_path, site, pages)
            _index_moved(con, site.key, rows, refs)
        moved += len(rows)
        log.info("moved %d stored pages into the web archive", moved)


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


def _end_all() -> None:
    with _lock:
        paths = list(dict.fromkeys([db for db, _site in _writers] + list(_held_since)))
    for path in paths:
        try:
            end(path)
        except Exception as exc:  # at exit: say it, do not raise
            log.warning("closing %s at exit: %s", path, exc)


atexit.register(_end_all)
