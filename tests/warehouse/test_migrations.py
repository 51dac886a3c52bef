"""Migrations: from an empty file, and from a file left at an older version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.errors import WarehouseError
from warehouse.db import (
    connect,
    migration_checksum,
    migrations,
    require_sites,
    schema_version,
)

LATEST = max(v for v, _, _ in migrations())


def test_empty_file_gets_every_migration(tmp_path: Path) -> None:
    con = connect(tmp_path / "new.duckdb")
    assert schema_version(con) == LATEST
    applied = con.execute("SELECT version, name FROM schema_version ORDER BY 1").fetchall()
    assert [v for v, _ in applied] == [v for v, _, _ in migrations()]


def test_old_file_is_upgraded_in_place_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    (first_version, first_name, first_sql), *_ = migrations()
    with duckdb.connect(str(path)) as old:  # a warehouse written by the first release
        old.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
            " name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        old.execute(first_sql)
        old.execute(
            "INSERT INTO schema_version (version, name) VALUES (?, ?)", [first_version, first_name]
        )
        old.execute(
            "INSERT INTO crawl_runs (run_id, started_at, status) VALUES"
            " ('r-old', now(), 'completed')"
        )
        old.execute(
            "INSERT INTO fetch_errors VALUES ('https://baolaocai.vn/x-post1.html',"
            " 'r-old', 404, 'HTTP 404', 1, 'fetch', now())"
        )
    con = connect(path)
    assert schema_version(con) == LATEST
    assert con.execute("SELECT run_id, status, gone FROM crawl_runs").fetchall() == [
        ("r-old", "completed", 0)
    ]
    # Columns and views added later work on the old rows.
    assert con.execute("SELECT url, status FROM open_fetch_errors").fetchall() == [
        ("https://baolaocai.vn/x-post1.html", 404)
    ]
    assert con.execute("SELECT count(*) FROM backfill_months").fetchone() == (0,)


def test_a_failing_migration_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warehouse.db as db

    path = tmp_path / "w.duckdb"
    connect(path).close()
    broken = [
        *db.migrations(),
        (LATEST + 1, f"{LATEST + 1:03d}_broken", "CREATE TABLE t (x INT); SELECT * FROM nope;"),
    ]
    monkeypatch.setattr(db, "migrations", lambda: broken)
    with pytest.raises(WarehouseError, match="broken"):
        connect(path)
    monkeypatch.undo()
    con = connect(path, read_only=True)
    assert schema_version(con) == LATEST
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert "t" not in tables


def test_a_warehouse_made_before_the_003_edit_gets_articles_with_images(tmp_path: Path) -> None:
    """The view was first shipped by editing the released 003; a file migrated with the
    original 003 never got it. Migration 004 now creates it for every warehouse."""
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as old:
        old.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
            " name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for version, name, sql in migrations()[:3]:
            old.execute(sql)
            old.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])
        views = old.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        assert ("articles_with_images",) not in views  # the released 003 never made it
    con = connect(path)
    assert con.execute("SELECT count(*) FROM articles_with_images").fetchone() == (0,)


def test_an_edited_migration_is_refused_not_silently_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warehouse.db as db

    path = tmp_path / "w.duckdb"
    connect(path).close()
    original = db.migrations()
    edited = [
        (v, n, sql + "\nCREATE VIEW sneaky AS SELECT 1;" if v == 3 else sql)
        for v, n, sql in original
    ]
    monkeypatch.setattr(db, "migrations", lambda: edited)
    with pytest.raises(WarehouseError, match="003_backfill was edited after it was applied"):
        connect(path)
    monkeypatch.undo()
    assert schema_version(connect(path)) == LATEST  # unchanged, still usable


V5_ROWS = {
    "articles": (
        "INSERT INTO articles (article_id, url, title, body, published_at, tags, body_chars,"
        " paragraph_count, missing_fields, word_count, image_count, content_hash, version,"
        " first_seen_at, last_seen_at, updated_at, run_id, listed_lastmod, removed_at,"
        " field_conflicts)"
        " SELECT i, 'https://baolaocai.vn/bai-' || i || '-post' || i || '.html', 'Bài ' || i,"
        "  'Nội dung', TIMESTAMPTZ '2025-01-01 08:00:00+07' + to_days(i::INT), ['Lào Cai'],"
        "  8, 1, [], 2, 1, 'h' || i, 2, now(), now(), now(), 'r1',"
        "  CASE WHEN i = 1 THEN now() END, CASE WHEN i = 2 THEN now() END, []"
        " FROM range(1, 6) t(i)"
    ),
    "article_images": (
        "INSERT INTO article_images SELECT i, p, 'https://cdn.baolaocai.vn/' || i || '-' || p,"
        " NULL FROM range(1, 6) a(i), range(0, 2) b(p)"
    ),
    "article_revisions": (
        "INSERT INTO article_revisions (article_id, version, content_hash, body, seen_at)"
        " SELECT i, v, 'h' || i || v, 'Nội dung', now() FROM range(1, 6) a(i), range(1, 3) b(v)"
    ),
    "raw_pages": (
        "INSERT INTO raw_pages (url, article_id, fetched_at, status, etag, html, warc_file,"
        " warc_offset, warc_length, digest, record_id)"
        " SELECT 'https://baolaocai.vn/bai-' || i || '-post' || i || '.html', i, now(), 200,"
        "  '\"e' || i || '\"', CASE WHEN i = 5 THEN '<html></html>' END,"
        "  CASE WHEN i < 5 THEN 'baolaocai-20260101T000000Z-00001.warc.gz' END,"
        "  CASE WHEN i < 5 THEN i * 100 END, CASE WHEN i < 5 THEN 90 END,"
        "  CASE WHEN i < 5 THEN 'sha1:X' END, CASE WHEN i < 5 THEN '<urn:uuid:' || i || '>' END"
        " FROM range(1, 6) t(i)"
    ),
    "captures": (
        "INSERT INTO captures SELECT 'https://baolaocai.vn/bai-' || i || '-post' || i || '.html',"
        " i, now(), 200, 'text/html', 'sha1:X', 'baolaocai-20260101T000000Z-00001.warc.gz',"
        " i * 100, 90, '<urn:uuid:' || i || '>', 'r1' FROM range(1, 5) t(i)"
    ),
    "fetch_errors": (
        "INSERT INTO fetch_errors (url, run_id, status, error, attempts, stage, failed_at)"
        " VALUES ('https://baolaocai.vn/x-post9.html', 'r1', 404, 'HTTP 404', 1, 'fetch', now()),"
        " ('https://baolaocai.vn/y-post8.html', 'r1', NULL, 'timeout', 3, 'fetch', now())"
    ),
    "crawl_runs": (
        "INSERT INTO crawl_runs (run_id, started_at, status, base_url, articles_new, kind)"
        " VALUES ('r0', now() - INTERVAL 1 DAY, 'completed', 'https://baolaocai.vn', 3, 'crawl'),"
        " ('r1', now(), 'completed', 'https://baolaocai.vn', 2, 'backfill')"
    ),
    "sitemaps": (
        "INSERT INTO sitemaps VALUES ('https://baolaocai.vn/sitemap-2025-01.xml', now(), '\"s\"',"
        " NULL, 5, now(), 'r1')"
    ),
    "sitemap_articles": (
        "INSERT INTO sitemap_articles SELECT 'https://baolaocai.vn/sitemap-2025-01.xml', i, now()"
        " FROM range(1, 6) t(i)"
    ),
    "backfill_months": (
        "INSERT INTO backfill_months VALUES (DATE '2025-01-01',"
        " 'https://baolaocai.vn/sitemap-2025-01.xml', 5, 5, 0, now()),"
        " (DATE '2025-02-01', 'https://baolaocai.vn/sitemap-2025-02.xml', 3, 2, 1, NULL)"
    ),
}
"""Rows in every table of a version 5 warehouse (the last one before sites)."""
V5_VIEWS = (
    "latest_articles",
    "articles_per_day",
    "open_fetch_errors",
    "removed_articles",
    "articles_with_images",
)


def _warehouse_at_version_5(path: Path) -> None:
    """A warehouse as the release before sites left it: the released migrations 001-005
    as db.py applies them (checksums recorded), rows in every table."""
    with duckdb.connect(str(path)) as old:
        old.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), checksum VARCHAR)"
        )
        for version, name, sql in migrations():
            if version <= 5:
                old.execute(sql)
                old.execute(
                    "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
                    [version, name, migration_checksum(sql)],
                )
        for statement in V5_ROWS.values():
            old.execute(statement)


def _dump(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    names = ", ".join(columns)
    return con.execute(f"SELECT {names} FROM {table} ORDER BY ALL").fetchall()


ADDED_AFTER_6 = {
    "articles": ["page_kind", "category_source", "published_date"],  # 007, 009
    "crawl_runs": ["suspect_pages"],  # 008_not_the_article
    "captures": ["record_type", "refers_to"],  # 009_vietnam_day_and_revisits
}
ADDED_TABLES_AFTER_6 = ("placeholder_pages",)  # 008_not_the_article


def test_a_version_5_warehouse_keeps_every_row_filed_under_baolaocai(tmp_path: Path) -> None:
    path = tmp_path / "v5.duckdb"
    _warehouse_at_version_5(path)
    before: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    views_before: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(path), read_only=True) as old:
        old.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        for table in V5_ROWS:
            columns = [r[0] for r in old.execute(f"DESCRIBE {table}").fetchall()]
            before[table] = (columns, _dump(old, table, columns))
            assert before[table][1], table  # the test really has rows there
        for view in V5_VIEWS:
            views_before[view] = old.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall()
    # A reader of the old file (it cannot migrate it) is told how to upgrade it.
    with (
        pytest.raises(WarehouseError, match=r"schema version 5.*'baolaocai reindex'"),
        duckdb.connect(str(path), read_only=True) as old,
    ):
        require_sites(old, path)

    con = connect(path)
    try:
        assert schema_version(con) == LATEST
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        # no table left behind, none missing (008 adds placeholder_pages, empty)
        assert tables == {*V5_ROWS, "schema_version", *ADDED_TABLES_AFTER_6}
        for table, (columns, rows) in before.items():
            after_columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            # site first, nothing else moved; later migrations only add columns at the end
            assert after_columns == ["site", *columns, *ADDED_AFTER_6.get(table, [])], table
            assert _dump(con, table, columns) == rows, table  # every row, every value
            assert con.execute(f"SELECT DISTINCT site FROM {table}").fetchall() == [
                ("baolaocai",)
            ], table
        # The views are back, with the site first and the same rows as before.
        for view, rows in views_before.items():
            # 009 added each view's Vietnam day (published_date): the rest is unchanged
            described = con.execute(
                f"SELECT COLUMNS(c -> c <> 'published_date') FROM {view} ORDER BY ALL"
            )
            assert described.description[0][0] == "site", view
            assert sorted(r[1:] for r in described.fetchall()) == sorted(rows), view
        keys = dict(
            con.execute(
                "SELECT table_name, constraint_text FROM duckdb_constraints()"
                " WHERE constraint_type = 'PRIMARY KEY'"
            ).fetchall()
        )
        assert keys["articles"] == "PRIMARY KEY(site, article_id)"
        assert keys["article_images"] == 'PRIMARY KEY(site, article_id, "position")'
        assert keys["article_revisions"] == 'PRIMARY KEY(site, article_id, "version")'
        assert keys["sitemap_articles"] == "PRIMARY KEY(site, sitemap_url, article_id)"
        assert keys["backfill_months"] == 'PRIMARY KEY(site, "month")'
        assert keys["raw_pages"] == "PRIMARY KEY(site, url)"
        assert keys["fetch_errors"] == "PRIMARY KEY(site, url, run_id)"
        assert keys["sitemaps"] == "PRIMARY KEY(site, url)"
        # site is required, and the same article id may now be another site's.
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "INSERT INTO backfill_months (month, sitemap_url, articles, stored,"
                " failed) VALUES (DATE '2025-03-01', 'x', 0, 0, 0)"
            )
        con.execute(
            "INSERT INTO backfill_months VALUES ('baoyenbai', DATE '2025-01-01', 'x',"
            " 0, 0, 0, NULL)"
        )
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "INSERT INTO backfill_months VALUES ('baolaocai', DATE '2025-01-01', 'x',"
                " 0, 0, 0, NULL)"
            )
    finally:
        con.close()
    # Opened again: nothing to migrate, the checksums of 001-006 hold.
    con = connect(path)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (5,)
    finally:
        con.close()


def test_the_declared_columns_are_the_migrated_tables() -> None:
    """warehouse.schema (the loader's, export's and index's column lists) follows the SQL."""
    from warehouse.schema import DECLARED, EXPORTED_ARTICLE_COLUMNS, INDEXED_ARTICLE_COLUMNS

    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    from warehouse.db import migrate

    migrate(con)
    for table, columns in DECLARED.items():
        described = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]
        declared = [
            (n, t.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE")) for n, t in columns.items()
        ]
        assert described == declared, table
    articles = DECLARED["articles"]
    assert set(EXPORTED_ARTICLE_COLUMNS) <= set(articles)
    assert set(INDEXED_ARTICLE_COLUMNS) <= set(articles)
    assert EXPORTED_ARTICLE_COLUMNS[0] == "site"


def test_a_duckdb_file_that_is_not_a_warehouse_is_refused_untouched(tmp_path: Path) -> None:
    """A user's own DuckDB file given to --db by mistake: neither migrated (our tables
    added beside theirs) nor read as a warehouse too old to hold sites."""
    import duckdb as plain

    from warehouse.db import require_sites

    path = tmp_path / "mine.duckdb"
    with plain.connect(str(path)) as con:
        con.execute("CREATE TABLE notes (x INTEGER); INSERT INTO notes VALUES (1)")
    with pytest.raises(WarehouseError, match="is a DuckDB file but not a baolaocai warehouse"):
        connect(path)
    with plain.connect(str(path), read_only=True) as con:
        with pytest.raises(WarehouseError, match=r"not a baolaocai warehouse \(it holds notes\)"):
            require_sites(con, path)
        tables = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    assert tables == [("notes",)]
    # An empty DuckDB file is a new warehouse, as before.
    empty = tmp_path / "empty.duckdb"
    plain.connect(str(empty)).close()
    connect(empty).close()
