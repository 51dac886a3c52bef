"""A reparse in parts (ranges of article ids, each a run of its own) leaves the articles,
their versions and the run's counts exactly as one reparse does; a part that did not
complete fails the run, naming it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import duckdb

from baolaocai.settings import Settings
from pipeline.reparse import (
    ReparsePart,
    reparse_archive,
    reparse_in_parts,
    run_parts_here,
)
from tests.pipeline.test_reparse_stream import N, _copy, _store
from warehouse.raw import reparse_parts

ARTICLES = (
    "SELECT site, article_id, url, title, sapo, body, author, published_at, modified_at,"
    " category, tags, source, extraction_method, body_chars, paragraph_count, missing_fields,"
    " word_count, image_count, content_hash, version, removed_at, field_conflicts, page_kind,"
    " category_source, published_date, last_seen_at FROM articles ORDER BY article_id"
)
REVISIONS = (
    "SELECT site, article_id, version, content_hash, title, sapo, body, author, published_at,"
    " modified_at, category, tags, source FROM article_revisions ORDER BY article_id, version"
)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _settings(db: Path) -> Settings:
    return Settings(db_path=str(db), parse_workers=1, parse_deadline=0)


def test_the_parts_cover_every_stored_page_once(tmp_path: Path) -> None:
    db = tmp_path / "a" / "w.duckdb"
    db.parent.mkdir()
    _store(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        ranges = reparse_parts(con, _settings(db).site, 3)
        ids = [int(r[0]) for r in con.execute("SELECT article_id FROM raw_pages").fetchall()]
    finally:
        con.close()
    assert len(ranges) == 3
    assert all(first <= last for first, last in ranges)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))  # disjoint
    covered = [i for i in ids if any(first <= i <= last for first, last in ranges)]
    assert sorted(covered) == sorted(ids)
    sizes = [sum(1 for i in ids if first <= i <= last) for first, last in ranges]
    assert max(sizes) - min(sizes) <= 1  # as even as can be


def test_a_reparse_in_parts_is_a_reparse_in_one(tmp_path: Path) -> None:
    one = tmp_path / "one" / "w.duckdb"
    one.parent.mkdir()
    changed = _store(one)
    parts = _copy(one, tmp_path / "parts")
    single = reparse_archive(_settings(one)).summary
    split = reparse_in_parts(_settings(parts), parts=3, run_parts=run_parts_here(_settings(parts)))
    assert split.summary.status == "completed", split.summary.error
    assert single.articles_updated == split.summary.articles_updated == changed
    assert single.articles_unchanged == split.summary.articles_unchanged
    assert split.extra["pages"] == N + 1  # every stored page, the unreadable one too
    assert _rows(one, ARTICLES) == _rows(parts, ARTICLES)
    assert _rows(one, REVISIONS) == _rows(parts, REVISIONS)
    runs = _rows(parts, "SELECT run_id, status FROM crawl_runs WHERE kind = 'reparse' ORDER BY 1")
    assert [r[0] for r in runs] == [split.run_id] + [f"{split.run_id}-part{i}" for i in (1, 2, 3)]
    assert {r[1] for r in runs} == {"completed"}


def test_a_part_that_never_ran_fails_the_run_and_says_which(tmp_path: Path) -> None:
    db = tmp_path / "a" / "w.duckdb"
    db.parent.mkdir()
    _store(db)
    settings = _settings(db)
    here = run_parts_here(settings)

    def lose_the_last(plan: Sequence[ReparsePart]) -> None:
        here(plan[:-1])

    run = reparse_in_parts(settings, parts=2, run_parts=lose_the_last)
    assert run.summary.status == "failed"
    assert run.summary.error is not None
    assert "1 of 2 parts of the reparse did not complete" in run.summary.error
    assert f"{run.run_id}-part2 (never started)" in run.summary.error
