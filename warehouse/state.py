"""What the warehouse knows that decides a run's work (the incremental model).

A run fetches, in this order:

1. **new** articles: discovered ids not in ``articles``, minus URLs the site said are gone
   (404/410 on their latest attempt);
2. **rechecks**: stored articles published on or after ``recheck_after`` (default: the
   last 3 days), fetched *conditionally* with the ``ETag``/``Last-Modified`` stored in
   ``raw_pages``; a 304 only moves ``last_seen_at``, a changed page becomes a new version;
3. with ``--retry-failed``, every URL with an **open fetch error** (gone ones included).

Discovery's listing pagination stops at pages whose articles are all stored, so a run
with nothing new costs a few listing requests and no article request.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from baolaocai.models import CrawlState
from warehouse.db import transaction

GONE_STATUSES = (404, 410)


def read_crawl_state(
    con: duckdb.DuckDBPyConnection, *, recheck_after: datetime | None
) -> CrawlState:
    known = frozenset(int(r[0]) for r in con.execute("SELECT article_id FROM articles").fetchall())
    recheck: dict[str, tuple[str | None, str | None]] = {}
    if recheck_after is not None:
        rows = con.execute(
            "SELECT a.url, r.etag, r.last_modified FROM articles a"
            " LEFT JOIN raw_pages r ON r.url = a.url"
            " WHERE a.published_at >= ? ORDER BY a.published_at DESC",
            [recheck_after],
        ).fetchall()
        recheck = {str(url): (etag, last_modified) for url, etag, last_modified in rows}
    open_rows = con.execute("SELECT url, status FROM open_fetch_errors").fetchall()
    gone = frozenset(str(u) for u, s in open_rows if s in GONE_STATUSES)
    open_failures = frozenset(str(u) for u, _ in open_rows)
    row = con.execute(
        "SELECT max(started_at) FROM crawl_runs WHERE status = 'completed'"
    ).fetchone()
    return CrawlState(known, recheck, gone, open_failures, row[0] if row else None)


def mark_interrupted_runs(con: duckdb.DuckDBPyConnection, *, now: datetime, except_run: str) -> int:
    """Runs still 'running' when a new one starts were killed: say so."""
    with transaction(con):
        rows = con.execute(
            "UPDATE crawl_runs SET status = 'interrupted', finished_at = ?,"
            " error = coalesce(error, 'the process stopped before the run finished')"
            " WHERE status = 'running' AND run_id <> ? RETURNING run_id",
            [now, except_run],
        ).fetchall()
    return len(rows)
