"""Every command a user runs, on a lake exactly as on a file: the bundled copy crawled
once into each (per test process), then ``sql``, ``search``, ``reindex``, ``export``,
``status``, ``show``, ``history``, ``page``, ``removed``, ``web`` and ``serve`` run as a
user runs them (the installed command, a folder of its own), their answers compared
with the file's. None of them may leave anything in the folder it ran in named after
the spec (a spec is no path), and on a lake nobody ever wrote to each says "no
warehouse" in one line and makes nothing."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd
import pytest

from flows.pg_cluster import PostgresCluster
from sitecopy import SITE_DIR
from sitecopy.server import serve_site
from tests.lake.conftest import Lake
from tests.support import BAOLAOCAI, Started, clean_env, run_cli
from warehouse.db import connect
from warehouse.lake import LakeSpec, LakeWriterLock

pytestmark = pytest.mark.slow  # the baolaocai command as a process (tests/conftest.py)

ARTICLE = 909034
"""An article of the bundled copy (one version, one picture)."""
RUN_FIELDS = {"first_seen_at", "last_seen_at", "updated_at", "seen_at", "run_id"}
"""What differs between two crawls of the same copy: when, and by which run."""


@dataclass(frozen=True)
class Filled:
    """The bundled copy crawled into a lake and into a file."""

    lake: Lake
    file: Path

    def both(self) -> tuple[str, str]:
        return self.lake.spec, str(self.file)


@pytest.fixture(scope="module")
def filled(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Filled:
    root = tmp_path_factory.mktemp("lake-commands")
    name = f"lake_commands_{os.getpid()}"
    pg_cluster.create_database(name)
    lake = Lake(
        spec="ducklake:postgres:" + pg_cluster.conninfo(name),
        data=root / "lake-data",
        cluster=pg_cluster,
        database=name,
    )
    file = root / "file" / "baolaocai.duckdb"
    with serve_site(SITE_DIR) as site:
        for db in (lake.spec, str(file)):
            done = run_cli(
                "crawl", "--db", db, "--base-url", site.url, "--rate", "50", cwd=root, **lake.env()
            )
            assert done.returncode == 0, done.stderr
    return Filled(lake, file)


def _nothing_named_after_the_spec(folder: Path) -> None:
    """A spec is no path: nothing in ``folder`` (where a command ran) is named after it."""
    found = [p for p in folder.rglob("*") if "ducklake" in p.name or "dbname" in p.name]
    assert not found, found


def _ok(*args: str, cwd: Path, **env: str) -> str:
    done = run_cli(*args, cwd=cwd, **env)
    assert done.returncode == 0, (args, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stdout


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def _json(*args: str, cwd: Path) -> Any:
    return json.loads(_ok(*args, cwd=cwd))


def test_sql_reads_a_lake_as_a_file_in_its_sandbox_and_writes_it_when_asked(
    filled: Filled, tmp_path: Path
) -> None:
    query = "SELECT article_id, title, published_at FROM articles ORDER BY article_id"
    for fmt in ("table", "csv", "json"):
        lake, file = (
            _ok("sql", "--db", db, "-f", fmt, query, cwd=tmp_path) for db in filled.both()
        )
        assert lake == file, fmt
    assert len(json.loads(lake)) == 22

    # The sandbox reaches the lake's data path only: no file written (a COPY is not even
    # run: a read-only query on a lake is SELECTs only), none read elsewhere.
    target = tmp_path / "out.csv"
    refused = run_cli(
        "sql", "--db", filled.lake.spec, f"COPY (SELECT 1) TO '{target}'", cwd=tmp_path
    )
    assert "COPY statements are refused" in _one_line_error(refused)
    assert not target.exists()
    outside = tmp_path / "secret.txt"
    outside.write_text("không được đọc", encoding="utf-8")
    refused = run_cli(
        "sql", "--db", filled.lake.spec, f"SELECT * FROM read_text('{outside}')", cwd=tmp_path
    )
    assert refused.returncode != 0 and "disabled by configuration" in refused.stderr

    # Time travel: every commit is a snapshot, and any of them can be read again: the
    # articles table as it was made (empty), and as it is.
    made = _json(
        "sql",
        "--db",
        filled.lake.spec,
        "-f",
        "json",
        "SELECT min(snapshot_id) AS made FROM ducklake_snapshots('warehouse')"
        " WHERE list_contains(changes['tables_created'], 'main.articles')",
        cwd=tmp_path,
    )[0]["made"]
    last = _json(
        "sql",
        "--db",
        filled.lake.spec,
        "-f",
        "json",
        "SELECT max(snapshot_id) AS last FROM ducklake_snapshots('warehouse')",
        cwd=tmp_path,
    )[0]["last"]
    counts = [
        _json(
            "sql",
            "--db",
            filled.lake.spec,
            "-f",
            "json",
            f"SELECT count(*) AS n FROM articles AT (VERSION => {version})",
            cwd=tmp_path,
        )[0]["n"]
        for version in (made, last)
    ]
    assert counts == [0, 22]

    # --write changes the lake; a read sees it at once.
    row = "('zz-test', DATE '1999-01-01', 7)"
    insert = f"INSERT INTO backfill_months (site, month, articles) VALUES {row}"
    _ok("sql", "--db", filled.lake.spec, "--write", insert, cwd=tmp_path)
    read = "SELECT articles FROM backfill_months WHERE site = 'zz-test'"
    assert _json("sql", "--db", filled.lake.spec, "-f", "json", read, cwd=tmp_path) == [
        {"articles": 7}
    ]
    delete = "DELETE FROM backfill_months WHERE site = 'zz-test'"
    _ok("sql", "--db", filled.lake.spec, "--write", delete, cwd=tmp_path)
    assert _json("sql", "--db", filled.lake.spec, "-f", "json", read, cwd=tmp_path) == []
    _nothing_named_after_the_spec(tmp_path)


SEARCHES = (
    ("nông nghiệp",),
    ("--words", "lào cai"),
    ("--exact", "nông nghiệp"),
    ("nong nghiep",),
    ("du lịch OR nông nghiệp",),
    ("--words", "lào cai -du lịch"),
    ("--since", "2026-01-01", "--words", "lào cai"),
    ("--category", "Kinh tế", "sản xuất"),
    ("--site", "baolaocai", "--limit", "3", "--words", "tỉnh"),
)


def test_search_finds_on_a_lake_what_it_finds_on_a_file(filled: Filled, tmp_path: Path) -> None:
    found_any = 0
    for flags in SEARCHES:
        *options, text = flags
        lake, file = (
            _json("search", "--db", db, "-f", "json", *options, "--", text, cwd=tmp_path)
            for db in filled.both()
        )
        ids = [(hit["site"], hit["article_id"]) for hit in lake]
        assert ids == [(hit["site"], hit["article_id"]) for hit in file], flags
        found_any += bool(ids)
    assert found_any >= len(SEARCHES) - 1
    lake, file = (_ok("search", "--db", db, "nông nghiệp", cwd=tmp_path) for db in filled.both())
    assert lake == file
    lake, file = (
        _scoreless(_ok("search", "--db", db, "-f", "csv", "nông nghiệp", cwd=tmp_path))
        for db in filled.both()
    )
    assert lake == file and len(lake) == 2
    # The index lives under the lake's data path, nowhere else.
    assert (filled.lake.data / "search").is_dir()
    _nothing_named_after_the_spec(tmp_path)


def _scoreless(text: str) -> list[dict[str, str]]:
    """The rows of ``search -f csv`` without their BM25 score (see the reindex test)."""
    return [
        {k: v for k, v in row.items() if k != "score"} for row in csv.DictReader(io.StringIO(text))
    ]


def test_reindex_rebuilds_the_lakes_index_under_its_data_path(
    filled: Filled, tmp_path: Path
) -> None:
    spec = filled.lake.spec
    # A run writing a site of the lake holds that site's lock: unlike a file's, a lake's
    # reindex does not wait for it (it reads one snapshot while the run commits), and
    # records that snapshot as the one its index has taken in.
    lock = LakeWriterLock(LakeSpec.parse(spec), "baolaocai", run_id="r7", kind="crawl")
    lock.acquire()
    try:
        done = run_cli("reindex", "--db", spec, cwd=tmp_path, BAOLAOCAI_WRITER_WAIT="0")
    finally:
        lock.release()
    assert done.returncode == 0, done.stderr
    from warehouse.lake_search import read_mark

    con = connect(spec, read_only=True)
    try:
        (snapshot,) = con.execute("SELECT id FROM current_snapshot()").fetchone() or (None,)
    finally:
        con.close()
    assert read_mark(filled.lake.data.resolve() / "search") == snapshot
    assert "22 articles" in done.stdout + done.stderr
    assert str(filled.lake.data.resolve() / "search") in done.stdout + done.stderr
    # Rebuilt, the lake's index is the file's to the score (the file's crawl built its
    # index as reindex does).
    lake, file = (
        _ok("search", "--db", db, "-f", "csv", "nông nghiệp", cwd=tmp_path) for db in filled.both()
    )
    assert lake == file
    assert str(ARTICLE) in lake
    _nothing_named_after_the_spec(tmp_path)


def _exported(folder: Path, fmt: str) -> pd.DataFrame:
    """The exported articles as a user reads them: plain DuckDB for Parquet and JSON
    Lines, pandas for CSV."""
    columns = "article_id, title, body, published_date"
    if fmt == "csv":
        frame = pd.read_csv(folder / "articles.csv", dtype={"published_date": str})
        return frame[columns.split(", ")].sort_values("article_id").reset_index(drop=True)
    source = {
        "parquet": f"read_parquet('{folder}/articles/**/*.parquet', hive_partitioning = true)",
        "jsonl": f"read_json('{folder}/articles.jsonl')",
    }[fmt]
    con = duckdb.connect()
    try:
        return con.execute(
            f"SELECT {columns.replace('published_date', 'published_date::VARCHAR AS published_date')}"
            f" FROM {source} ORDER BY article_id"
        ).df()
    finally:
        con.close()


def test_export_writes_from_a_lake_what_it_writes_from_a_file(
    filled: Filled, tmp_path: Path
) -> None:
    for fmt in ("parquet", "csv", "jsonl"):
        outs = []
        for label, db in zip(("lake", "file"), filled.both(), strict=True):
            out = tmp_path / f"{label}-{fmt}"
            _ok("export", "--db", db, "-f", fmt, "--out", str(out), cwd=tmp_path)
            outs.append(out)
        lake, file = (_exported(out, fmt) for out in outs)
        assert len(lake) == 22, fmt
        pd.testing.assert_frame_equal(lake, file)
        manifests = [json.loads((out / "manifest.json").read_text()) for out in outs]
        assert [m["schema_version"] for m in manifests] == [manifests[1]["schema_version"]] * 2
    pages = []
    for label, db in zip(("lake", "file"), filled.both(), strict=True):
        out = tmp_path / f"{label}.wacz"
        _ok("export", "--db", db, "-f", "wacz", "--out", str(out), cwd=tmp_path)
        with zipfile.ZipFile(out) as wacz:
            names = wacz.namelist()
            assert "datapackage.json" in names
            assert any(n.startswith("archive/") and n.endswith(".warc.gz") for n in names)
            lines = wacz.read("pages/pages.jsonl").decode().splitlines()[1:]
        pages.append(sorted(json.loads(line)["url"] for line in lines))
    assert len(pages[0]) == 22
    assert pages[0] == pages[1]
    _nothing_named_after_the_spec(tmp_path)


def test_status_shows_a_lakes_storage_and_each_sites_writer(filled: Filled, tmp_path: Path) -> None:
    spec = filled.lake.spec
    info = _json("status", "--db", spec, "-f", "json", cwd=tmp_path)
    assert info["db_size_bytes"] is None  # a lake is no file to measure
    assert info["lake"]["data_path"] == str(filled.lake.data.resolve())
    assert info["lake"]["files"] >= 1 and info["lake"]["size_bytes"] > 0
    assert info["articles"] == 22 and info["sites"] == {"baolaocai": 22}
    assert info["web_archive"]["path"] == str(filled.lake.data.resolve() / "warc")
    assert info["web_archive"]["captures"] >= 22
    assert info["writers"] == [] and info["writer"] is None
    table = _ok("status", "--db", spec, cwd=tmp_path, COLUMNS="300")
    warehouse = next(line for line in table.splitlines() if line.strip().startswith("warehouse"))
    assert "(0 B)" not in warehouse and "Parquet file" in warehouse, warehouse
    assert str(filled.lake.data.resolve()) in warehouse
    assert "being written by     -" in table

    # A run writing another site of the lake (this process holds its lock) is shown as
    # that site's writer; a status of one site asks for that site's writer only.
    lock = LakeWriterLock(LakeSpec.parse(spec), "nuimay", run_id="r42", kind="crawl")
    lock.acquire()
    try:
        info = _json("status", "--db", spec, "-f", "json", cwd=tmp_path)
        assert [(w["site"], w["run_id"], w["pid"]) for w in info["writers"]] == [
            ("nuimay", "r42", os.getpid())
        ]
        table = _ok("status", "--db", spec, cwd=tmp_path, COLUMNS="300")
        assert f"nuimay: crawl run r42 (pid {os.getpid()}" in table
        one = _json("status", "--db", spec, "--site", "baolaocai", "-f", "json", cwd=tmp_path)
        assert one["writers"] == []
    finally:
        lock.release()
    # The file's status is unchanged: its size.
    file_info = _json("status", "--db", str(filled.file), "-f", "json", cwd=tmp_path)
    assert file_info["db_size_bytes"] > 0 and file_info["lake"] is None
    _nothing_named_after_the_spec(tmp_path)


def _same_run_free(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in RUN_FIELDS}


def test_show_history_page_and_removed_read_a_lake_as_a_file(
    filled: Filled, tmp_path: Path
) -> None:
    lake, file = (
        _json("show", "--db", db, "-f", "json", str(ARTICLE), cwd=tmp_path) for db in filled.both()
    )
    assert lake["title"] and lake["body"]
    assert _same_run_free(lake) == _same_run_free(file)
    lake, file = (
        _json("history", "--db", db, "-f", "json", str(ARTICLE), cwd=tmp_path)
        for db in filled.both()
    )
    assert [_same_run_free(v) for v in lake] == [_same_run_free(v) for v in file]
    assert [v["version"] for v in lake] == [1]
    captures = _json(
        "history", "--db", filled.lake.spec, "--captures", "-f", "json", str(ARTICLE), cwd=tmp_path
    )
    assert len(captures) == 1
    # The archived page, byte for byte what the site sent, read from the lake's WARCs.
    lake_page, file_page = (
        _ok("page", "--db", db, str(ARTICLE), cwd=tmp_path) for db in filled.both()
    )
    assert lake_page == file_page and "<html" in lake_page
    out = tmp_path / "page.html"
    _ok("page", "--db", filled.lake.spec, str(ARTICLE), "-o", str(out), cwd=tmp_path)
    assert out.read_text(encoding="utf-8") == lake_page
    # A takedown seen by a crawl is listed alike (marked here by hand, then undone).
    mark = f"UPDATE articles SET removed_at = now() WHERE article_id = {ARTICLE}"
    undo = f"UPDATE articles SET removed_at = NULL WHERE article_id = {ARTICLE}"
    for db in filled.both():
        _ok("sql", "--db", db, "--write", mark, cwd=tmp_path)
    try:
        lake, file = (
            _json("removed", "--db", db, "-f", "json", cwd=tmp_path) for db in filled.both()
        )
        assert [r["article_id"] for r in lake] == [ARTICLE]
        assert [r["article_id"] for r in file] == [ARTICLE]
    finally:
        for db in filled.both():
            _ok("sql", "--db", db, "--write", undo, cwd=tmp_path)
    assert _json("removed", "--db", filled.lake.spec, "-f", "json", cwd=tmp_path) == []
    _nothing_named_after_the_spec(tmp_path)


def test_the_web_view_of_a_lake_answers_every_page_and_sees_new_commits(
    filled: Filled,
) -> None:
    from starlette.testclient import TestClient

    from warehouse.db import connect
    from warehouse.search import search_index_dir
    from warehouse.session import warc_dir
    from web.app import create_app
    from web.context import WebConfig

    spec = filled.lake.spec
    config = WebConfig(db_path=spec, index_dir=search_index_dir(spec), warc_dir=warc_dir(spec))
    title = _json("show", "--db", spec, "-f", "json", str(ARTICLE), cwd=filled.lake.data.parent)[
        "title"
    ]
    app = create_app(config)
    client = TestClient(app, base_url="http://127.0.0.1")
    try:
        home = client.get("/")
        assert home.status_code == 200
        assert f"DuckLake {filled.lake.database}" in home.text  # never the spec itself
        assert "ducklake:postgres" not in home.text
        found = client.get("/search", params={"q": "nông nghiệp"})
        assert found.status_code == 200 and title in found.text
        article = client.get(f"/a/baolaocai/{ARTICLE}")
        assert article.status_code == 200 and title in article.text
        archived = client.get(f"/a/baolaocai/{ARTICLE}/raw")
        assert archived.status_code == 200 and title in archived.text
        assert client.get(f"/a/baolaocai/{ARTICLE}/page").status_code == 200
        # The view keeps its lake connection between requests, and still reads each
        # writer's newest commit.
        assert title not in client.get("/removed").text
        writer = connect(spec)
        try:
            writer.execute("UPDATE articles SET removed_at = now() WHERE article_id = ?", [ARTICLE])
            assert title in client.get("/removed").text
        finally:
            writer.execute("UPDATE articles SET removed_at = NULL WHERE article_id = ?", [ARTICLE])
            writer.close()
        assert title not in client.get("/removed").text
    finally:
        app.state.web.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_web_command_serves_a_lake(filled: Filled, tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [BAOLAOCAI, "web", "--db", filled.lake.spec, "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(tmp_path / ".prefect-home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                home = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "baolaocai web did not answer"
                time.sleep(0.2)
        assert home.status_code == 200 and f"DuckLake {filled.lake.database}" in home.text
        article = httpx.get(f"http://127.0.0.1:{port}/a/baolaocai/{ARTICLE}", timeout=30)
        assert article.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f"Serving ducklake:postgres:dbname={filled.lake.database}" in out
    _nothing_named_after_the_spec(tmp_path)


@pytest.fixture
def serving(filled: Filled, tmp_path: Path) -> Iterator[Started]:
    started = Started(
        [
            BAOLAOCAI,
            "serve",
            "--db",
            filled.lake.spec,
            "--base-url",
            "http://127.0.0.1:9",  # never reached: the cron below is due once a year
            "--cron",
            "0 0 1 1 *",
        ],
        tmp_path,
    )
    try:
        yield started
    finally:
        started.kill()


def test_serve_on_a_lake_keeps_its_prefect_home_in_the_current_folder(
    filled: Filled, serving: Started, tmp_path: Path
) -> None:
    """A lake has no folder beside it: ``serve`` keeps its Prefect server's home in the
    current folder's ``warehouse/``; one ``serve`` per site of a lake, on any machine."""
    serving.wait_for("Serving ", timeout=300)
    assert (tmp_path / "warehouse" / ".prefect-server").is_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    second = run_cli("serve", "--db", filled.lake.spec, "--cron", "0 0 1 1 *", cwd=elsewhere)
    assert done_busy(second)
    os.killpg(serving.proc.pid, signal.SIGINT)
    assert serving.finish() == 0, serving.output
    assert "Traceback" not in serving.output
    _nothing_named_after_the_spec(tmp_path)


def done_busy(done: subprocess.CompletedProcess[str]) -> bool:
    line = _one_line_error(done)
    assert done.returncode == 75, done.stderr
    return "another 'baolaocai serve' of baolaocai runs on the lake" in line


NO_WAREHOUSE_COMMANDS = (
    ("sql", "SELECT 1"),
    ("sql", "--write", "CREATE TABLE t (x INT)"),
    ("status",),
    ("status", "-f", "json"),
    ("search", "nông nghiệp"),
    ("reindex",),
    ("show", str(ARTICLE)),
    ("history", str(ARTICLE)),
    ("page", str(ARTICLE)),
    ("removed",),
    ("tables",),
    ("describe", "articles"),
    ("export", "-f", "csv", "--out", "exported"),
    ("export", "-f", "wacz", "--out", "archive.wacz"),
)


def test_a_lake_nobody_wrote_is_no_warehouse_to_any_command(lake: Lake, tmp_path: Path) -> None:
    """Every read command on a catalog nobody made a lake in: one line, exit != 0, and
    nothing made, not even with a data path at hand (``reindex``, ``sql --write``)."""
    for args in NO_WAREHOUSE_COMMANDS:
        _one_line_error(run_cli(*args, "--db", lake.spec, cwd=tmp_path, **lake.env()))
    web = run_cli("web", "--db", lake.spec, "--port", str(_free_port()), cwd=tmp_path, **lake.env())
    _one_line_error(web)
    tables = lake.cluster.psql(
        lake.database, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'ducklake%'"
    )
    assert tables.strip() == "0"
    assert not lake.data.exists()
    assert not (tmp_path / "exported").exists() and not (tmp_path / "archive.wacz").exists()
    _nothing_named_after_the_spec(tmp_path)
