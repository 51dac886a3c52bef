"""The search index of a lake, kept up to date from the lake's change feed by one indexer.

On a DuckDB file one run writes at a time, and each run hands its changed articles to
the index (:func:`warehouse.search.update_search_index`, with a watermark on
``updated_at`` for what a crash left behind). On a lake several workers commit at once:
a watermark on a time column can miss a row committed late with an earlier time, and
every worker opening the index's writer would make them queue for it after each batch.

So on a lake the index follows the lake's **snapshots** instead: every commit is a
snapshot with a growing id, and ``table_changes('articles', from, to)`` lists the rows
any commit between two snapshots inserted, updated or deleted. The index keeps the last
snapshot it has taken in (``LAKE_SNAPSHOT`` in its folder); :func:`index_lake_changes`
re-indexes the articles changed since then and moves the mark. One process does this at
a time (an advisory lock of the catalog): the others wait for it and then find nothing
left to do, or find their own commits. A run calls it after its batches and at its end,
so a run's articles are searchable when it finishes. With no index yet (or a mark the
lake cannot go back to: snapshots expired), the index is built whole, and the mark is
the snapshot the build read (commits made during the build are taken in next time).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from baolaocai.errors import WarehouseError
from warehouse.lake import LakeSpec, catalog_lock
from warehouse.search import CURRENT_FILE, rebuild_search_index, update_search_index

log = logging.getLogger(__name__)

MARK = "LAKE_SNAPSHOT"
INDEXER_LOCK = "search-index"
INDEXER_WAIT_S = 600.0
"""Seconds a process waits for another one indexing the same lake (a full build of
100,000 articles takes a few minutes on 2 cores)."""


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The id of the lake's newest snapshot, as ``con`` sees it."""
    row = con.execute("SELECT id FROM current_snapshot()").fetchone()
    if row is None:
        raise WarehouseError("the lake has no snapshot")
    return int(row[0])


def read_mark(index_dir: Path) -> int | None:
    """The last snapshot the index at ``index_dir`` took in (None: none, or unreadable)."""
    try:
        data = json.loads((index_dir / MARK).read_text(encoding="utf-8"))
        return int(data["snapshot"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_mark(index_dir: Path, snapshot: int) -> None:
    """Record ``snapshot`` as taken in, atomically (a rename): a crash before it only
    means the same changes are indexed again, which changes nothing."""
    path = index_dir / MARK
    temporary = path.with_name(f".{MARK}.{os.getpid()}")
    text = json.dumps({"snapshot": snapshot, "at": datetime.now(UTC).isoformat()})
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def changed_articles(con: duckdb.DuckDBPyConnection, after: int, upto: int) -> set[tuple[str, int]]:
    """``(site, article_id)`` of every article a commit after snapshot ``after`` and up to
    ``upto`` inserted, updated or deleted."""
    rows = con.execute(
        f"SELECT DISTINCT site, article_id FROM table_changes('articles', {after + 1}, {upto})"
    ).fetchall()
    return {(str(site), int(aid)) for site, aid in rows}


def rebuild_lake_index(
    con: duckdb.DuckDBPyConnection,
    index_dir: Path,
    lake: LakeSpec,
    *,
    wait_s: float = INDEXER_WAIT_S,
) -> int:
    """The lake's search index built whole (``reindex``), as the one indexer of the moment:
    writers go on committing meanwhile (the build reads one snapshot), and the mark is the
    snapshot before the build, so what they commit is taken in next time."""
    with catalog_lock(lake, INDEXER_LOCK, wait_s=wait_s):
        upto = current_snapshot(con)
        index_dir.mkdir(parents=True, exist_ok=True)
        count = rebuild_search_index(con, index_dir)
        write_mark(index_dir, upto)
        return count


def index_lake_changes(
    con: duckdb.DuckDBPyConnection,
    index_dir: Path,
    lake: LakeSpec,
    *,
    wait_s: float = INDEXER_WAIT_S,
) -> int:
    """Bring the lake's search index up to date (see the module docstring); returns how
    many documents were (re)indexed or deleted (a build: the documents in the index)."""
    with catalog_lock(lake, INDEXER_LOCK, wait_s=wait_s):
        upto = current_snapshot(con)
        mark = read_mark(index_dir)
        if mark is not None and mark >= upto:
            return 0
        if mark is not None and (index_dir / CURRENT_FILE).exists():
            try:
                keys = changed_articles(con, mark, upto)
            except duckdb.Error as exc:  # snapshots expired: the feed cannot go back
                log.info("lake change feed unreadable from %d (%s): full build", mark, exc)
            else:
                count = update_search_index(con, index_dir, sorted(keys)) if keys else 0
                write_mark(index_dir, upto)
                return count
        index_dir.mkdir(parents=True, exist_ok=True)
        count = rebuild_search_index(con, index_dir)
        write_mark(index_dir, upto)
        return count
