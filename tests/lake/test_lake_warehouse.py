"""The warehouse as a DuckLake (catalog in a real PostgreSQL, data in Parquet): the same
crawl as on a file, writes that survive other writers, one writer per site."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from baolaocai.errors import WarehouseBusyError, WarehouseError
from flows.pg_cluster import PostgresCluster
from sitecopy.server import SiteServer
from tests.lake.conftest import Lake
from tests.support import run_cli
from warehouse.db import connect
from warehouse.lake import (
    LakeSpec,
    LakeWriterLock,
    is_lake,
    lake_refused_steps,
    reference_schema,
    retry_on_conflict,
    upsert_statement,
)

# The rows two crawls of the same copy must agree on, whatever the backend.
_SAME = (
    "SELECT site, article_id, url, title, sapo, body, author, published_at, modified_at,"
    " category, tags, source, content_hash, version, page_kind, published_date"
    " FROM articles ORDER BY site, article_id"
)


def _rows(spec: str | Path, sql: str) -> list[tuple[object, ...]]:
    con = connect(spec, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_spec_names_a_lake_only_with_a_postgres_catalog() -> None:
    assert is_lake("ducklake:postgres:dbname=x host=127.0.0.1")
    assert not is_lake("warehouse/baolaocai.duckdb")
    with pytest.raises(WarehouseError, match="must be PostgreSQL"):
        LakeSpec.parse("ducklake:metadata.sqlite")
    with pytest.raises(WarehouseError, match="give the catalog"):
        LakeSpec.parse("ducklake:postgres:  ")
    shown = LakeSpec.parse("ducklake:postgres:dbname=x password=secret host=h").shown
    assert "secret" not in shown


def test_a_spec_is_read_with_libpqs_own_syntax() -> None:
    """Quoted values (a password with a space, a database named with one) and URIs are
    libpq's: refused before, though libpq (psycopg, DuckDB's ATTACH) takes them. A
    password never shows, bare, quoted or in a URI."""
    quoted = LakeSpec.parse(
        "ducklake:postgres:dbname='lake 2' host=127.0.0.1 password='a b\\' c' user=x"
    )
    assert quoted.database == "lake 2"
    assert quoted.shown == "ducklake:postgres:dbname='lake 2' host=127.0.0.1 password=… user=x"
    uri = LakeSpec.parse("ducklake:postgres:postgresql://me:s3cret@db.example:5432/lake")
    assert uri.database == "lake" and "s3cret" not in uri.shown
    with pytest.raises(WarehouseError, match="unterminated quoted string") as refused:
        LakeSpec.parse("ducklake:postgres:dbname='lake password=hidden")
    assert "hidden" not in str(refused.value)


def test_a_catalog_database_whose_name_needs_quotes_is_a_lake(
    pg_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"lake {os.getpid()} it's"
    pg_cluster.create_database(name)
    monkeypatch.setenv("BAOLAOCAI_LAKE_DATA", str(tmp_path / "lake-data"))
    spec = "ducklake:postgres:" + pg_cluster.conninfo(name)  # dbname='lake … it\'s'
    assert LakeSpec.parse(spec).database == name
    con = connect(spec)  # DuckDB's ATTACH makes the lake in it
    try:
        con.execute(
            "INSERT INTO backfill_months (site, month, sitemap_url, articles, stored, failed)"
            " VALUES ('baolaocai', '2024-01-01', 'u', 1, 1, 0)"
        )
    finally:
        con.close()
    assert _rows(spec, "SELECT stored FROM backfill_months") == [(1,)]
    lock = LakeWriterLock(LakeSpec.parse(spec), "baolaocai")  # psycopg's connection
    lock.acquire()
    lock.release()


FIRST_LAKE_VERSION = 9
"""The schema version of the first baolaocai that made lakes: no lake is older."""


def test_every_migration_since_lakes_exist_is_one_a_lake_can_follow() -> None:
    """migrate_lake adds tables, columns and views: a migration that changes rows (an
    UPDATE, a rename, a table rebuilt from a query) would be skipped on a lake in silence.
    A new one like that fails here first: write its lake path, then move this line on."""
    assert lake_refused_steps(FIRST_LAKE_VERSION) == []
    older = lake_refused_steps(5)
    assert any(step.startswith("006_sites: INSERT INTO articles_006") for step in older)
    assert any(step.startswith("006_sites: ALTER TABLE articles_006 RENAME") for step in older)
    assert any(step.startswith("009_vietnam_day_and_revisits: UPDATE") for step in older)
    assert not [step for step in older if step.startswith(("007", "008"))]


def test_a_lake_is_refused_a_migration_that_would_change_its_rows(lake: Lake) -> None:
    connect(lake.spec).close()  # made at the newest version
    pushed_back = connect(lake.spec)
    try:
        pushed_back.execute("DELETE FROM schema_version WHERE version >= 9")  # as if at 8
    finally:
        pushed_back.close()
    with pytest.raises(
        WarehouseError,
        match=r"change stored rows.*009_vietnam_day_and_revisits: UPDATE.*nothing was changed",
    ):
        connect(lake.spec)
    assert _rows(lake.spec, "SELECT max(version) FROM schema_version") == [(8,)]


def test_a_crawl_into_a_lake_stores_what_a_crawl_into_a_file_does(
    lake: Lake, site: SiteServer, tmp_path: Path
) -> None:
    """The same copy crawled into a file and into a lake: the same articles, field for
    field; a second crawl of the lake stores nothing again (no duplicate without keys)."""
    file_db = tmp_path / "file.duckdb"
    for db in (str(file_db), lake.spec):
        done = run_cli(
            "crawl", "--db", db, "--base-url", site.url, "--rate", "50", cwd=tmp_path, **lake.env()
        )
        assert done.returncode == 0, done.stderr
    assert _rows(lake.spec, _SAME) == _rows(file_db, _SAME)
    again = run_cli(
        "crawl",
        "--db",
        lake.spec,
        "--base-url",
        site.url,
        "--rate",
        "50",
        cwd=tmp_path,
        **lake.env(),
    )
    assert again.returncode == 0, again.stderr
    assert _rows(lake.spec, "SELECT count(*), count(DISTINCT article_id) FROM articles") == [
        (22, 22)
    ]
    runs = _rows(lake.spec, "SELECT status, count(*) FROM crawl_runs GROUP BY ALL")
    assert runs == [("completed", 2)]
    # The pages are archived under the lake's data path, and readable from there.
    assert list((lake.data / "warc").glob("baolaocai-*.warc.gz"))
    captures = _rows(lake.spec, "SELECT count(*) FROM captures")
    assert captures[0][0] >= 22
    # Nothing was made in the folder the commands ran in (a spec is no path).
    assert not [p for p in tmp_path.iterdir() if "ducklake" in p.name]


def test_the_lake_schema_is_the_files_without_keys(lake: Lake) -> None:
    con = connect(lake.spec)
    try:
        ref = reference_schema()
        got = {
            (str(t), str(c), str(k))
            for t, c, k in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns()"
                " WHERE database_name = 'warehouse'"
            ).fetchall()
        }
        want = {(t, c, k) for t, cols in ref.tables.items() for c, k, _ in cols}
        assert want <= got
        views = {
            str(v)
            for (v,) in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE database_name = 'warehouse'"
            ).fetchall()
        }
        assert set(ref.views) <= views
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()
        assert version == (ref.version,)
    finally:
        con.close()
    # A second writer migrates nothing again.
    connect(lake.spec).close()
    assert _rows(lake.spec, "SELECT count(*) FROM schema_version") == [(len(ref.migrations),)]


def test_an_upsert_replaces_on_its_key_on_a_lake(lake: Lake) -> None:
    con = connect(lake.spec)
    try:
        cols = ("site", "month", "sitemap_url", "articles", "stored", "failed", "completed_at")
        sql = upsert_statement(
            con, "backfill_months", cols, ("site", "month"), "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        assert sql.startswith("MERGE INTO")
        for stored in (1, 2):
            con.execute(sql, ["baolaocai", "2024-01-01", "u", 10, stored, 0, None])
        ignore = upsert_statement(
            con,
            "backfill_months",
            cols,
            ("site", "month"),
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ignore=True,
        )
        con.execute(ignore, ["baolaocai", "2024-01-01", "u", 10, 9, 0, None])
        rows = con.execute("SELECT site, stored FROM backfill_months").fetchall()
        assert rows == [("baolaocai", 2)]
    finally:
        con.close()


def test_a_write_that_meets_another_writers_change_is_run_again(lake: Lake) -> None:
    """Two writers update rows of one table at once: DuckLake refuses the second commit
    ("Transaction conflict"); the write function runs again from a fresh snapshot and
    both changes are kept."""
    setup = connect(lake.spec)
    setup.execute(
        "INSERT INTO backfill_months (site, month, articles) VALUES"
        " ('a', '2024-01-01', 0), ('b', '2024-01-01', 0)"
    )
    setup.close()
    first, second = connect(lake.spec), connect(lake.spec)
    calls: list[str] = []
    updated, gate = threading.Event(), threading.Event()

    @retry_on_conflict
    def bump(con: duckdb.DuckDBPyConnection, site: str, wait: bool) -> None:
        calls.append(site)
        con.execute("BEGIN TRANSACTION")
        con.execute("UPDATE backfill_months SET articles = articles + 1 WHERE site = ?", [site])
        if wait and calls.count(site) == 1:
            updated.set()
            gate.wait(10)  # commit after the other writer did
        con.execute("COMMIT")

    worker = threading.Thread(target=bump, args=(first, "a", True))
    worker.start()
    assert updated.wait(30)
    bump(second, "b", False)
    gate.set()
    worker.join(30)
    first.close()
    second.close()
    assert calls.count("a") == 2  # refused once, run again
    assert _rows(lake.spec, "SELECT site, articles FROM backfill_months ORDER BY site") == [
        ("a", 1),
        ("b", 1),
    ]


def test_one_writer_per_site_and_a_killed_one_leaves_no_lock(lake: Lake, tmp_path: Path) -> None:
    spec = LakeSpec.parse(lake.spec)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "\n".join(
                [
                    "import time",
                    "from warehouse.lake import LakeSpec, LakeWriterLock",
                    f"lock = LakeWriterLock(LakeSpec.parse({lake.spec!r}), 'baolaocai',"
                    " run_id='r1', kind='crawl')",
                    "lock.acquire()",
                    "print('held', flush=True)",
                    "time.sleep(300)",
                ]
            ),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        other = LakeWriterLock(spec, "baolaocai", run_id="r2")
        with pytest.raises(WarehouseBusyError, match=rf"crawl run r1 \(pid {holder.pid}"):
            other.acquire(wait_s=0.5)
        # Another site of the same lake is free.
        free = LakeWriterLock(spec, "nuimay")
        free.acquire()
        free.release()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        other.acquire(wait_s=10)  # the server dropped the dead session's lock
        assert other.held
        other.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_lake_never_made_is_one_line_to_a_reader(lake: Lake, tmp_path: Path) -> None:
    done = run_cli("sql", "--db", lake.spec, "SELECT 1", cwd=tmp_path, **lake.env())
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_lake_index_follows_the_change_feed(lake: Lake) -> None:
    """The index takes in what commits changed since its snapshot (``table_changes``),
    whoever committed them; a second call with nothing new does nothing."""
    from tests.support import fill_bundled
    from warehouse.lake_search import index_lake_changes, read_mark
    from warehouse.search import search, search_index_dir

    fill_bundled(lake.spec, articles=4)
    spec = LakeSpec.parse(lake.spec)
    folder = search_index_dir(lake.spec)
    assert folder == lake.data.resolve() / "search"
    con = connect(lake.spec)
    try:
        assert index_lake_changes(con, folder, spec) == 4  # no index yet: built whole
        first = read_mark(folder)
        assert first is not None
        assert index_lake_changes(con, folder, spec) == 0
        (aid,) = con.execute("SELECT min(article_id) FROM articles").fetchone() or (0,)
        con.execute(
            "UPDATE articles SET title = 'Hợp tác xã chè Suối Giàng mở rộng vùng nguyên liệu',"
            " updated_at = now() WHERE article_id = ?",
            [aid],
        )
        assert index_lake_changes(con, folder, spec) == 1  # only the changed article
        assert (read_mark(folder) or 0) > first
    finally:
        con.close()
    hits = search(folder, "Suối Giàng mở rộng vùng nguyên liệu")
    assert [h.article_id for h in hits][:1] == [aid]


@pytest.mark.parametrize(
    "query",
    [
        "CALL postgres_execute('__ducklake_metadata_warehouse', 'SELECT 1')",
        "SELECT * FROM postgres_query('__ducklake_metadata_warehouse', 'SELECT 1')",
        "WITH x AS (SELECT * FROM postgres_scan('dbname=postgres', 'pg_catalog', 'pg_authid'))"
        " SELECT 1",
        "SELECT (SELECT count(*) FROM POSTGRES_QUERY('x', 'SELECT 1'))",
        "SELECT * FROM query('CALL postgres_' || 'execute(1)')",
        "SELECT * FROM query_table('articles')",
        "SELECT * FROM __ducklake_metadata_warehouse.ducklake_snapshot",
        "SELECT * FROM ducklake_cleanup_old_files('warehouse')",
        "SELECT * FROM ducklake_expire_snapshots('warehouse', older_than => now())",
        "EXPLAIN SELECT 1",
        "CREATE TEMP MACRO m() AS TABLE SELECT 1",
        "SELECT 1; CALL postgres_execute('x', 'SELECT 1')",
    ],
)
def test_a_sandboxed_query_on_a_lake_cannot_reach_past_its_tables(query: str) -> None:
    """The postgres extension a lake needs runs any SQL on the catalog's server (COPY …
    TO PROGRAM: a shell there, found by a review) whatever DuckDB's sandbox says."""
    from warehouse.lake import check_sandboxed_query

    with pytest.raises(WarehouseError, match="on a lake a query without --write"):
        check_sandboxed_query(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) FROM articles AT (VERSION => 3)",
        "SELECT * FROM ducklake_snapshots('warehouse')",
        "SELECT * FROM ducklake_table_changes('warehouse', 'main', 'articles', 1, 2)",
        "SELECT * FROM table_changes('articles', 1, 2)",
        "DESCRIBE articles",
        "SHOW TABLES",
        "SUMMARIZE articles",
        "PRAGMA table_info('articles')",
        "FROM articles SELECT title WHERE title ILIKE '%postgres_query%'",
    ],
)
def test_a_researchers_queries_on_a_lake_pass_the_check(query: str) -> None:
    from warehouse.lake import check_sandboxed_query

    check_sandboxed_query(query)


def test_the_sql_command_refuses_a_shell_on_the_catalogs_server(lake: Lake, tmp_path: Path) -> None:
    from tests.support import fill_bundled

    fill_bundled(lake.spec, articles=1)
    proof = tmp_path / "owned.txt"
    attack = (
        "CALL postgres_execute('__ducklake_metadata_warehouse',"
        f" 'COPY (SELECT 1) TO PROGRAM ''id > {proof}''')"
    )
    done = run_cli("sql", "--db", lake.spec, attack, cwd=tmp_path, **lake.env())
    assert done.returncode != 0 and not proof.exists()
    assert done.stderr.count("\n") == 1 and "CALL statements are refused" in done.stderr


def test_three_first_writers_of_a_new_lake_at_once_all_get_in(lake: Lake) -> None:
    """Without a lock around making the catalog, all but one failed with 'relation
    ducklake_metadata already exists' (seen in a review: two first crawls at once)."""
    code = f"from warehouse.db import connect; connect({lake.spec!r}).close(); print('in')"
    env = {**os.environ, **lake.env()}
    started = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in started]
    assert [p.returncode for p in started] == [0, 0, 0], results
    assert _rows(lake.spec, "SELECT count(*) FROM schema_version")[0][0] == len(
        reference_schema().migrations
    )
