"""What one query may cost: ``sql`` and ``search`` stop after ``--timeout`` seconds or at
Ctrl-C, a sandboxed ``sql`` query gets ``--memory-limit`` of memory and no disk; and
``search`` during a crawl that writes the index (or has not written it yet)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
import tantivy
from support import BAOLAOCAI, clean_env
from typer.testing import CliRunner

from baolaocai.errors import BaoLaoCaiError, WarehouseError
from baolaocai.models import StagedArticle
from baolaocai.settings import QUERY_MEMORY_DEFAULT, load_settings, memory_bytes
from baolaocai.site import default_site
from cli.support import run_stoppable
from cli.warehouse_commands import run_sql
from transforms.validate import content_hash
from warehouse.db import connect
from warehouse.load import load_batch
from warehouse.schema import INDEXED_ARTICLE_COLUMNS
from warehouse.search import (
    BUILD_LOCK_FILE,
    CURRENT_FILE,
    _document,
    rebuild_search_index,
    search,
    search_index_dir,
)

ENDLESS = "SELECT count(*) FROM range(10000000000000)"
"""Hours of work for DuckDB (it is not folded into a constant)."""
BIG_GROUP_BY = (
    "SELECT count(*) FROM (SELECT range % 3000000 AS k, count(*) FROM range(3000000) GROUP BY 1)"
)
"""A hash table of 3 million groups: well over 16MB, well under 1GB."""
BIG_RESULT = "SELECT repeat('x', 1000) AS x FROM range(100000)"
"""100,000 rows of 1,000 characters: about 100 MB as Python rows, little for DuckDB."""
GENEROUS_S = 30.0
VN = timezone(timedelta(hours=7))


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    from cli.main import app

    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BAOLAOCAI, *args],
        cwd=cwd,
        env=clean_env(cwd / ".prefect-home"),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- the limits as settings and flags ------------------------------------------------------------


def test_defaults_and_environment() -> None:
    assert load_settings({}).query_timeout == 60.0
    assert load_settings({}).query_memory == QUERY_MEMORY_DEFAULT == "1GB"
    env = {"BAOLAOCAI_QUERY_TIMEOUT": "2.5", "BAOLAOCAI_QUERY_MEMORY": "512MiB"}
    settings = load_settings(env)
    assert (settings.query_timeout, settings.query_memory) == (2.5, "512MiB")
    assert memory_bytes("1GB") == 10**9 and memory_bytes(" 2 gib ") == 2 * 1024**3
    assert memory_bytes("1.5MB") == 1_500_000
    for bad in ("", "1", "GB", "-1GB", "nan", "1e3GB", "1 PB", "1GBx"):
        assert memory_bytes(bad) is None, bad


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "-inf", "1e9", "86401"])
def test_a_bad_timeout_is_one_line(value: str, fresh: Path) -> None:
    for command in (["sql", "SELECT 1"], ["search", "lao cai"]):
        code, out, err = cli(*command, "--db", str(fresh), "--timeout", value)
        assert code == 2 and out == ""
        assert one_line(err).startswith("error: --timeout must be a positive number of seconds")


@pytest.mark.parametrize("value", ["0", "1MB", "15MB", "2TB", "lots", "1e3GB", "-1GB", "nan"])
def test_a_bad_memory_limit_is_one_line(value: str, fresh: Path) -> None:
    code, out, err = cli("sql", "SELECT 1", "--db", str(fresh), "--memory-limit", value)
    assert code == 2 and out == ""
    assert one_line(err).startswith("error: --memory-limit must be an amount of memory")


def test_a_bad_environment_value_names_the_variable(fresh: Path) -> None:
    code, _, err = cli("sql", "SELECT 1", "--db", str(fresh), env={"BAOLAOCAI_QUERY_TIMEOUT": "0"})
    assert code == 2 and one_line(err).startswith("error: BAOLAOCAI_QUERY_TIMEOUT: ")
    code, _, err = cli("sql", "SELECT 1", "--db", str(fresh), env={"BAOLAOCAI_QUERY_MEMORY": "1"})
    assert code == 2 and one_line(err).startswith("error: BAOLAOCAI_QUERY_MEMORY: ")


def test_write_has_the_timeout_but_no_memory_limit(fresh: Path) -> None:
    code, _, err = cli("sql", "SELECT 1", "--db", str(fresh), "--write", "--memory-limit", "1GB")
    assert code == 2 and "--memory-limit is for sandboxed queries" in one_line(err)
    code, out, err = cli("sql", "SELECT 7 AS n", "--db", str(fresh), "--timeout", "5", "-f", "json")
    assert code == 0 and json.loads(out) == [{"n": 7}], err


# -- the sandbox: memory and no disk ---------------------------------------------------------------


def test_a_sandboxed_connection_gets_its_memory_and_no_temp_folder(fresh: Path) -> None:
    con = connect(fresh, read_only=True, sandbox=True, memory_limit="64MB")
    try:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings()"
                " WHERE name IN ('memory_limit', 'temp_directory')"
            ).fetchall()
        )
        assert settings == {"memory_limit": "61.0 MiB", "temp_directory": ""}
        for undo in ("SET memory_limit = '10GB'", "SET temp_directory = '/tmp/spill'"):
            with pytest.raises(duckdb.Error):
                con.execute(undo)
        with pytest.raises(duckdb.OutOfMemoryException):
            con.execute(BIG_GROUP_BY).fetchall()
    finally:
        con.close()
    # Nothing spilled next to the warehouse (a read-only DuckDB would use <file>.tmp).
    assert sorted(p.name for p in fresh.parent.iterdir()) == [fresh.name]
    default = connect(fresh, read_only=True, sandbox=True)
    try:
        assert default.execute(BIG_GROUP_BY).fetchone() == (3_000_000,)  # 1GB is plenty
    finally:
        default.close()
    with pytest.raises(ValueError, match="sandboxed"):
        connect(fresh, read_only=True, memory_limit="1GB")


def test_a_query_over_the_memory_limit_is_one_line(fresh: Path) -> None:
    expected = (
        "error: the query needs more than 16MB of memory (--memory-limit); stopped: give it"
        " more with --memory-limit, or ask for fewer rows or columns"
    )
    for query, fmt in ((BIG_GROUP_BY, "auto"), (BIG_RESULT, "csv")):
        # DuckDB's memory, then the rows it returns (csv prints, so holds, every one)
        code, out, err = cli("sql", query, "--db", str(fresh), "--memory-limit", "16MB", "-f", fmt)
        assert code == 1 and out == "" and one_line(err) == expected, query
    code, out, err = cli("sql", BIG_RESULT, "--db", str(fresh), "-f", "csv")
    assert code == 0 and len(out.splitlines()) == 100_001, err  # the default 1GB holds it
    # A table fetches only the rows it shows (the rest are counted, not kept): 16MB do.
    code, out, err = cli("sql", BIG_RESULT, "--db", str(fresh), "--memory-limit", "16MB")
    assert code == 0, err
    assert "(100 of 100,000 rows shown; 99,900 more rows" in " ".join(out.split())


# -- the timeout, in this process ------------------------------------------------------------------


def test_run_stoppable_returns_raises_and_stops() -> None:
    assert run_stoppable(lambda stopping: 42, timeout=5) == 42
    with pytest.raises(ZeroDivisionError):
        run_stoppable(lambda stopping: 1 // 0, timeout=5)
    seen: list[bool] = []

    def slow(stopping: object) -> None:
        import threading

        assert isinstance(stopping, threading.Event)
        seen.append(stopping.wait(GENEROUS_S))

    started = time.monotonic()
    with pytest.raises(BaoLaoCaiError) as raised:
        run_stoppable(slow, timeout=0.2, what="the thing")
    assert raised.value.message == "the thing ran longer than 0.2 s (--timeout); stopped"
    assert seen == [True] and time.monotonic() - started < GENEROUS_S


def test_a_sandboxed_query_stops_at_the_timeout_and_lets_go_of_the_file(fresh: Path) -> None:
    con = connect(fresh, read_only=True, sandbox=True)
    started = time.monotonic()
    with pytest.raises(BaoLaoCaiError) as raised:
        run_sql(con, ENDLESS, write=False, timeout=1, memory_limit="1GB")
    assert raised.value.message == "the query ran longer than 1 s (--timeout); stopped"
    assert time.monotonic() - started < GENEROUS_S
    # The connection is closed: the file opens again in this process, in another mode.
    again = connect(fresh, read_only=True)
    again.close()


def test_a_write_stopped_at_the_timeout_leaves_nothing(fresh: Path) -> None:
    code, out, err = cli(
        "sql",
        f"CREATE TABLE scratch AS SELECT 1 AS x; {ENDLESS}",
        "--db",
        str(fresh),
        "--write",
        "--timeout",
        "1",
    )
    assert code == 1 and out == ""
    assert one_line(err) == "error: the query ran longer than 1 s (--timeout); stopped"
    con = duckdb.connect(str(fresh), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert "articles" in tables and "scratch" not in tables  # rolled back


def test_a_search_stops_at_the_timeout(filled: Path) -> None:
    code, out, err = cli("search", "hoa binh", "--db", str(filled), "-f", "json", "--timeout", "5")
    assert code == 0 and json.loads(out), err
    with pytest.raises(BaoLaoCaiError, match=r"^the search ran longer than 0.1 s \(--timeout\)"):
        run_stoppable(lambda s: time.sleep(5), timeout=0.1, what="the search", grace=0.0)


# -- the real command --------------------------------------------------------------------------------


@pytest.mark.slow
def test_sql_stops_at_the_timeout(fresh: Path) -> None:
    started = time.monotonic()
    result = run_cli("sql", ENDLESS, "--db", str(fresh), "--timeout", "1", cwd=fresh.parent)
    took = time.monotonic() - started
    assert result.returncode == 1 and result.stdout == "", result.stderr
    assert one_line(result.stderr) == "error: the query ran longer than 1 s (--timeout); stopped"
    assert took < GENEROUS_S, took


@pytest.mark.slow
def test_sql_help_states_both_limits(tmp_path: Path) -> None:
    helped = run_cli("sql", "--help", cwd=tmp_path)
    text = " ".join(helped.stdout.split())
    assert helped.returncode == 0 and "--timeout" in text and "--memory-limit" in text
    assert "default 60" in text and "default 1GB" in text


def _has_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:
        return False


@pytest.mark.slow
def test_ctrl_c_stops_a_long_query_at_once(fresh: Path) -> None:
    proc = subprocess.Popen(
        [BAOLAOCAI, "sql", ENDLESS, "--db", str(fresh)],  # the default timeout: 60 s
        cwd=fresh.parent,
        env=clean_env(fresh.parent / ".prefect-home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + GENEROUS_S
        if Path("/proc/self/fd").is_dir():  # the warehouse is open: the command is running
            while not _has_open(proc.pid, fresh.resolve()):
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        time.sleep(1.0)  # into the query
        assert proc.poll() is None
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=GENEROUS_S)
        took = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130 and out == "", err
    assert one_line(err) == "interrupted"
    assert took < 10, took  # the timeout (60 s) would have been later


# -- search while a crawl writes the index ---------------------------------------------------------


def _rows(db: Path, ids: list[int]) -> list[tuple[object, ...]]:
    con = connect(db, read_only=True)
    try:
        return con.execute(
            f"SELECT {', '.join(INDEXED_ARTICLE_COLUMNS)} FROM articles"
            " WHERE list_contains(?, article_id) ORDER BY article_id",
            [ids],
        ).fetchall()
    finally:
        con.close()


def _search_ids(db: Path, text: str) -> list[int]:
    result = run_cli("search", text, "--db", str(db), "-f", "json", cwd=db.parent)
    assert result.returncode == 0, result.stderr
    return sorted(hit["article_id"] for hit in json.loads(result.stdout))


@pytest.mark.slow
def test_search_reads_what_a_writer_committed_while_it_writes(
    fresh: Path, new_article, tmp_path: Path
) -> None:
    index_dir = search_index_dir(fresh)
    con = connect(fresh)
    try:
        rebuild_search_index(con, index_dir)
    finally:
        con.close()
    day = datetime(2025, 10, 1, 8, tzinfo=VN)
    articles = [
        new_article(201, "Lễ hội Zèngzèng mùa tam giác mạch", "Hoa nở.", day, "Du lịch"),
        new_article(202, "Zèngzèng đón khách", "Khách đông.", day, "Du lịch"),
    ]
    con = connect(fresh)
    try:
        staged = [StagedArticle(a, content_hash(a)) for a in articles]
        load_batch(
            con,
            site=default_site(),
            run_id="t3",
            seen_at=datetime.now(UTC),
            pages=[],
            articles=staged,
            failures=[],
        )
    finally:
        con.close()
    committed, pending = _rows(fresh, [201, 202])
    generation = json.loads((index_dir / CURRENT_FILE).read_text())["generation"]
    index = tantivy.Index.open(str(index_dir / generation))
    writer = index.writer(heap_size=15_000_000, num_threads=1)  # a crawl's writer, held
    try:
        writer.add_document(_document(committed))
        writer.commit()
        writer.add_document(_document(pending))  # not committed yet
        assert _search_ids(fresh, "zengzeng") == [201]
        assert _search_ids(fresh, "hoa binh")  # what was there before is still found
        writer.commit()
        assert _search_ids(fresh, "zengzeng") == [201, 202]  # the writer still open
    finally:
        del writer


def _record_running_run(db: Path, run_id: str, pid: int, stored: list[int]) -> None:
    con = connect(db)
    try:
        con.execute(
            "INSERT INTO crawl_runs (site, run_id, started_at, status, kind, pid, host)"
            " VALUES ('baolaocai', ?, ?, 'running', 'crawl', ?, ?)",
            [run_id, datetime.now(UTC), pid, socket.gethostname()],
        )
        con.execute(
            "UPDATE articles SET run_id = ? WHERE list_contains(?, article_id)", [run_id, stored]
        )
    finally:
        con.close()


@pytest.fixture
def held_build_lock(fresh: Path) -> Iterator[Path]:
    index_dir = search_index_dir(fresh)
    index_dir.mkdir()
    with open(index_dir / BUILD_LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield index_dir


def test_search_during_a_first_crawl_says_the_crawl_builds_the_index(fresh: Path) -> None:
    _record_running_run(fresh, "r-first", os.getpid(), [101, 102, 103])
    code, out, err = cli("search", "lao cai", "--db", str(fresh))
    assert code == 1 and out == ""
    assert one_line(err) == (
        f"error: no search index yet: the running crawl (run r-first, pid {os.getpid()})"
        f" builds it as it goes, 3 articles stored so far; try again in a minute"
        f" ({search_index_dir(fresh)})"
    )


def test_search_while_the_first_index_is_built_says_so(fresh: Path, held_build_lock: Path) -> None:
    _record_running_run(fresh, "r-first", os.getpid(), [101])
    code, _, err = cli("search", "lao cai", "--db", str(fresh))
    assert code == 1 and one_line(err) == (
        f"error: the search index is being built by the running crawl (run r-first,"
        f" pid {os.getpid()}), 1 article stored so far: try again in a minute ({held_build_lock})"
    )


def test_a_dead_run_does_not_count(fresh: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    _record_running_run(fresh, "r-dead", int(gone.stdout), [101])
    code, _, err = cli("search", "lao cai", "--db", str(fresh))
    assert code == 1 and one_line(err) == (
        "error: no search index yet: run 'baolaocai reindex' (or a crawl) to build"
        f" {search_index_dir(fresh)}"
    )


@pytest.mark.slow
def test_search_while_a_writer_holds_the_warehouse_says_so(fresh: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(120)",
            str(fresh),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _, err = cli("search", "lao cai", "--db", str(fresh))
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert one_line(err).startswith(
        "error: no search index yet: another process is writing the warehouse (a crawl"
        " builds the index as it goes); try again in a minute"
    )


def test_the_python_api_still_says_reindex(fresh: Path) -> None:
    with pytest.raises(WarehouseError, match=r"^no search index yet: run 'baolaocai reindex'"):
        search(search_index_dir(fresh), "lao cai")
