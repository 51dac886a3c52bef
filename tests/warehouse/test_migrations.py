"""Migrations: from an empty file, and from a file left at an older version."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from baolaocai.errors import WarehouseError
from warehouse.db import connect, migrations, schema_version

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
