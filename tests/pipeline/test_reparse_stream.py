"""A reparse streams: pages read, parsed on the workers and loaded in big batches at once,
with the very rows and counts of the batch-by-batch reparse it replaced, and no more
pages held than its read-ahead and one load batch, however big the archive."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from pipeline import reparse
from pipeline.run import Run
from pipeline.steps import PLAIN_STEPS, BatchResult, load_pages, read_raw_batch
from sitecopy.generate import make_articles, render_article
from transforms.parallel import ParsePool
from warehouse.db import connect
from warehouse.session import WarehouseSession, warc_dir
from warehouse.state import NO_RECHECKS

N = 130
POISON_ID = 990_000


def _store(db: Path) -> int:
    """``N`` generated article pages and one page no parser reads, stored as a crawl
    stores them (archived, parsed, loaded); returns how many a reparse will see
    changed."""
    settings = Settings(db_path=str(db), parse_workers=1, parse_deadline=0)
    wh = WarehouseSession(db, settings.site)
    wh.begin()
    now = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    try:
        articles = make_articles(N, seed=5, first_id=900_000)
        pages = [
            FetchedPage(
                a.url,
                a.url,
                200,
                now,
                render_article(a),
                {"content-type": "text/html; charset=utf-8"},
            )
            for a in articles
        ]
        poison = f"https://baolaocai.vn/trang-hong-post{POISON_ID}.html"
        pages.append(FetchedPage(poison, poison, 200, now, "<html><body></body></html>", {}))
        with ParsePool(1) as pool:
            for start in range(0, len(pages), 40):
                load_pages(settings, wh, pool, "crawl-1", pages[start : start + 40])
    finally:
        wh.close()
    con = duckdb.connect(str(db))
    try:
        # What a newer parser changes: some texts (new versions), some readings of the
        # page (refreshed in place), the rest as stored.
        con.execute("UPDATE articles SET content_hash = 'old' WHERE article_id % 7 = 0")
        con.execute("UPDATE articles SET page_kind = NULL WHERE article_id % 5 = 0")
        row = con.execute("SELECT count(*) FROM articles WHERE content_hash = 'old'").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def _copy(db: Path, to: Path) -> Path:
    to.mkdir()
    shutil.copy(db, to / db.name)
    shutil.copytree(warc_dir(db), warc_dir(to / db.name))
    return to / db.name


def _old_reparse(settings: Settings, batch_size: int = 200) -> Run:
    """The reparse as it was: read a batch, parse it on the pool, load it, in turn."""
    run = Run(settings, "reparse", policy=NO_RECHECKS)
    run.extra["pages"] = 0

    def body(r: Run) -> None:
        after = -1
        while pages := read_raw_batch(settings, r.warehouse, after, batch_size):
            result = load_pages(
                settings, r.warehouse, r.parse_pool, r.run_id, pages, None, touch_unchanged=False
            )
            r.count_batch(pages, result)
            r.extra["pages"] += len(pages)
            after = max(int(p.url.rsplit("post", 1)[1].split(".")[0]) for p in pages)

    return run.execute(body)


def _rows(db: Path, run_id: str) -> dict[str, Any]:
    """Every table a reparse writes, the run's own id and clock masked."""
    con = connect(db, read_only=True)
    try:

        def fetch(sql: str) -> list[tuple[Any, ...]]:
            return [
                tuple("RUN" if v == run_id else v for v in row)
                for row in con.execute(sql, [run_id]).fetchall()
            ]

        return {
            "articles": fetch(
                "SELECT * EXCLUDE (updated_at, run_id), updated_at = first_seen_at,"
                " run_id = ? FROM articles ORDER BY article_id"
            ),
            "revisions": fetch(
                "SELECT * EXCLUDE (seen_at, run_id), run_id = ? FROM article_revisions"
                " ORDER BY article_id, version"
            ),
            "images": fetch("SELECT *, ? IS NULL FROM article_images ORDER BY ALL"),
            "errors": fetch(
                "SELECT site, url, status, error, attempts, stage, run_id = ?,"
                " resolved_at IS NULL FROM fetch_errors ORDER BY ALL"
            ),
            "run": fetch(
                "SELECT status, articles_new, articles_updated, articles_unchanged,"
                " articles_failed, records_fallback, records_missing_date FROM crawl_runs"
                " WHERE run_id = ?"
            ),
        }
    finally:
        con.close()


def test_a_streamed_reparse_stores_what_the_batch_by_batch_one_did(tmp_path: Path) -> None:
    db = tmp_path / "built" / "w.duckdb"
    db.parent.mkdir()
    edited = _store(db)
    old_db, new_db = _copy(db, tmp_path / "old"), _copy(db, tmp_path / "new")
    # Both on two workers with a deadline: every page parsed in a worker process.
    settings = Settings(parse_workers=2, parse_deadline=30)

    old = _old_reparse(replace(settings, db_path=str(old_db)))
    held: list[int] = []  # pages read and not yet loaded, at every read
    read = loaded = 0

    def reading(*args: Any, **kwargs: Any) -> list[FetchedPage]:
        nonlocal read
        held.append(read - loaded)
        pages = read_raw_batch(*args, **kwargs)
        read += len(pages)
        return pages

    def loading(*args: Any, **kwargs: Any) -> BatchResult:
        nonlocal loaded
        assert kwargs["parsed"] is not None  # parsed by the stream, not in the load
        assert all(p.html is None for p in args[4])  # parsed pages hold no HTML
        result = load_pages(*args, **kwargs)
        loaded += len(args[4])
        return result

    steps = replace(PLAIN_STEPS, read_raw_batch=reading, load_pages=loading)
    new = reparse.reparse_archive(
        replace(settings, db_path=str(new_db)), batch_size=40, steps=steps
    )
    assert old.summary.status == new.summary.status == "completed"
    assert old.extra["pages"] == new.extra["pages"] == N + 1 == read == loaded
    s = new.summary
    assert (s.articles_new, s.articles_failed) == (0, 1)
    assert s.articles_updated == edited > 0
    assert _rows(old_db, old.run_id) == _rows(new_db, new.run_id)
    # Streaming: never more than the read-ahead plus one load batch in hand.
    assert max(held) <= reparse.AHEAD_CHUNKS * 40 + 40
    assert len(held) > 3  # read in several chunks, not all at once


def test_a_reparse_with_one_worker_and_no_deadline_parses_in_process(tmp_path: Path) -> None:
    db = tmp_path / "built" / "w.duckdb"
    db.parent.mkdir()
    _store(db)
    settings = Settings(db_path=str(db), parse_workers=1, parse_deadline=0)
    run = reparse.reparse_archive(settings, batch_size=25, steps=PLAIN_STEPS)
    assert run.summary.status == "completed"
    assert run.extra["pages"] == N + 1
    assert run.summary.articles_unchanged + run.summary.articles_updated == N
