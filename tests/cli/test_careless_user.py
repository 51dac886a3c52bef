"""A careless (or hostile) user at the ``baolaocai`` command line.

Every bad command costs only itself: one ``error:`` line on stderr, a non-zero exit,
never a traceback, and nothing already stored is lost or changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from support import fill_bundled, run_cli

from sitecopy import SITE_DIR
from warehouse.db import known_version

GOOD_PAGE = next(SITE_DIR.glob("*-post902277.html"))
UNREACHABLE = "http://127.0.0.1:9"


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single ``error:`` line of a failed command (asserting it is one, no traceback)."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def fill(path: Path, pages: int = 6) -> None:
    fill_bundled(path, pages)


def snapshot(path: Path) -> tuple[str, int, list[str]]:
    """Content hash, mtime and the folder's file names: proof that nothing changed."""
    if path.is_file():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    elif path.is_dir():
        digest = f"folder {sorted(os.listdir(path))}"
    else:
        digest = f"mode {path.stat().st_mode:o}"  # a FIFO: never opened
    return digest, path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def count(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else -1


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    fill(path)
    return path


@pytest.fixture
def other(tmp_path: Path) -> Path:
    """Another warehouse the user also keeps; a read-only query must not reach it."""
    path = tmp_path / "other.duckdb"
    fill(path, pages=3)
    return path


# -- parse: files that are not pages -------------------------------------------------------------


def test_parse_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "page.html"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = run_cli("parse", str(fifo), str(GOOD_PAGE), cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 30  # a blocking open would hit the timeout
    line = one_error_line(result, 2)
    assert "page.html" in line and "FIFO" in line
    assert json.loads(result.stdout)["article_id"] == 902277  # the good page still parsed


def test_parse_refuses_a_huge_file_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.html"
    with huge.open("wb") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB long, no disk used
    started = time.monotonic()
    result = run_cli("parse", str(huge), cwd=tmp_path, timeout=60)
    assert time.monotonic() - started < 30
    line = one_error_line(result, 2)
    assert "huge.html" in line and "1.0 GiB" in line and "20.0 MiB" in line


def test_parse_refuses_devices_and_folders(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    result = run_cli("parse", "/dev/zero", "folder", cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "/dev/zero" in lines[0] and "character device" in lines[0]
    assert "folder" in lines[1] and "directory" in lines[1]


def test_a_bracket_in_a_file_name_is_not_markup(tmp_path: Path) -> None:
    name = "[bold]notes [red]x.html"
    (tmp_path / name).write_text("just text", encoding="utf-8")
    line = one_error_line(run_cli("parse", name, cwd=tmp_path), 2)
    assert name in line


# -- sql: read-only means read-only ---------------------------------------------------------------


ATTACKS = {
    "attach_and_delete": "ATTACH '{other}' AS o (READ_WRITE); DELETE FROM o.articles",
    "attach": "ATTACH '{other}' AS o",
    "copy_to": "COPY (SELECT 'rm -rf ~' AS x) TO '{tmp}/x.sh' (HEADER false)",
    "export_database": "EXPORT DATABASE '{tmp}/dump'",
    "read_text": "SELECT content FROM read_text('/etc/passwd')",
    "glob": "SELECT * FROM glob('/root/*')",
    "read_csv": "SELECT * FROM read_csv('{other}')",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "http": "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')",
    "unlock": "SET lock_configuration = false",
    "reenable": "SET enable_external_access = true",
    "reset": "RESET enable_external_access",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_read_only_sql_cannot_reach_outside_the_warehouse(
    name: str, tmp_path: Path, warehouse: Path, other: Path
) -> None:
    before = {p: snapshot(p) for p in (warehouse, other)}
    others = count(other)
    query = ATTACKS[name].format(other=other, tmp=tmp_path)
    result = run_cli("sql", query, "--db", str(warehouse), cwd=tmp_path)
    # One error line, then DuckDB's own (the place in the query: "LINE 1: …" and a
    # caret), two spaces in (cli.support.print_details).
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    first, *details = result.stderr.strip().splitlines()
    assert first.startswith("error: ") and all(d.startswith("  ") for d in details)
    assert result.stdout == ""
    assert {p: snapshot(p) for p in (warehouse, other)} == before
    assert count(other) == others == 3
    assert not (tmp_path / "x.sh").exists() and not (tmp_path / "dump").exists()


def test_read_only_sql_still_answers_queries(tmp_path: Path, warehouse: Path) -> None:
    db = ("--db", str(warehouse))
    table = run_cli("sql", "SELECT count(*) AS n FROM articles", *db, cwd=tmp_path)
    assert table.returncode == 0 and "6" in table.stdout, table.stderr
    view = run_cli(
        "sql", "SELECT count(*) AS n FROM latest_articles", *db, "-f", "json", cwd=tmp_path
    )
    assert view.returncode == 0 and json.loads(view.stdout) == [{"n": 6}], view.stderr
    query = "SELECT article_id, title, tags FROM articles ORDER BY article_id LIMIT 2"
    as_csv = run_cli("sql", query, *db, "--format", "csv", cwd=tmp_path)
    assert as_csv.returncode == 0 and as_csv.stdout.splitlines()[0] == "article_id,title,tags"
    local = run_cli(
        "sql",
        "SELECT strftime(now(), '%z') AS tz, '[/x]' AS markup",
        *db,
        "-f",
        "json",
        cwd=tmp_path,
    )
    assert json.loads(local.stdout) == [{"tz": "+07", "markup": "[/x]"}], local.stderr
    brackets = run_cli("sql", "SELECT '[/b] [bold]x' AS \"[/c]\"", *db, cwd=tmp_path)
    assert brackets.returncode == 0 and "[/b] [bold]x" in brackets.stdout, brackets.stderr


def test_write_keeps_full_power(tmp_path: Path, warehouse: Path) -> None:
    target = tmp_path / "out.csv"
    result = run_cli(
        "sql",
        f"COPY (SELECT 1 AS one) TO '{target}'",
        "--db",
        str(warehouse),
        "--write",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8").splitlines() == ["one", "1"]
    helped = run_cli("sql", "--help", cwd=tmp_path)
    assert "sandbox" in helped.stdout and "full power" in helped.stdout


# -- broken warehouses -------------------------------------------------------------------------------


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i`` (root with CAP_LINUX_IMMUTABLE); skips the test where unavailable."""
    try:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    except FileNotFoundError:
        pytest.skip("no chattr")
    if done.returncode != 0:
        pytest.skip("cannot make a file immutable here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def make_random(tmp_path: Path) -> Path:
    path = tmp_path / "random.duckdb"
    path.write_bytes(os.urandom(64 * 1024))
    return path


def make_folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.duckdb"
    path.mkdir()
    (path / "keep.txt").write_text("mine", encoding="utf-8")
    return path


def make_fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo.duckdb"
    os.mkfifo(path)
    return path


BROKEN = {"random": make_random, "folder": make_folder, "fifo": make_fifo}
REASONS = {"random": "not a valid DuckDB", "folder": "folder", "fifo": "not a regular file"}


COMMANDS = {
    "crawl": ("crawl", "--base-url", UNREACHABLE, "--max-articles", "1"),
    "sql": ("sql", "SELECT 1"),
    "sql-write": ("sql", "SELECT 1", "--write"),
    "status": ("status",),
    "search": ("search", "lao cai"),
    "reparse": ("reparse",),
    "reindex": ("reindex",),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_broken_warehouse_is_one_line(kind: str, name: str, tmp_path: Path) -> None:
    command = COMMANDS[name]
    db = BROKEN[kind](tmp_path)
    before = snapshot(db)
    result = run_cli(*command, "--db", str(db), cwd=tmp_path, timeout=60)
    line = one_error_line(result, 1)
    assert str(db) in line and REASONS[kind] in line
    assert snapshot(db) == before
    assert not (tmp_path / ".prefect-home").exists()  # refused before any flow started


def test_demo_checks_the_warehouse_before_serving(tmp_path: Path) -> None:
    db = make_random(tmp_path)
    before = snapshot(db)
    result = run_cli("demo", "--db", str(db), cwd=tmp_path, timeout=60)
    assert "not a valid DuckDB" in one_error_line(result, 1)
    assert "Serving" not in result.stdout and snapshot(db) == before


FUTURE = known_version() + 1
"""A schema version no released baolaocai has (one past this one's)."""


def make_future(tmp_path: Path) -> Path:
    path = tmp_path / "future.duckdb"
    fill(path, pages=2)
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', now())",
            [FUTURE],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("crawl", "--base-url", UNREACHABLE),
        ("sql", "DELETE FROM articles", "--write"),
        ("reparse",),
        ("reindex",),
    ],
    ids=lambda c: c[0],
)
def test_a_newer_warehouse_is_never_written(command: tuple[str, ...], tmp_path: Path) -> None:
    db = make_future(tmp_path)
    before = snapshot(db)
    result = run_cli(*command, "--db", str(db), cwd=tmp_path, timeout=60)
    line = one_error_line(result, 1)
    assert line == (
        f"error: the warehouse {db} has schema version {FUTURE}, newer than this baolaocai knows"
        f" ({known_version()}); upgrade baolaocai"
    )
    assert snapshot(db) == before


def test_a_newer_warehouse_can_still_be_read(tmp_path: Path) -> None:
    db = make_future(tmp_path)
    before = snapshot(db)
    query = run_cli(
        "sql", "SELECT count(*) AS n FROM articles", "--db", str(db), "-f", "json", cwd=tmp_path
    )
    assert query.returncode == 0 and json.loads(query.stdout) == [{"n": 2}], query.stderr
    status = run_cli("status", "--db", str(db), "-f", "json", cwd=tmp_path)
    assert status.returncode == 0 and json.loads(status.stdout)["schema_version"] == FUTURE
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "command",
    [("crawl", "--base-url", UNREACHABLE), ("sql", "DELETE FROM articles", "--write")],
    ids=lambda c: c[0],
)
def test_an_immutable_warehouse_is_one_line(command: tuple[str, ...], tmp_path: Path) -> None:
    db = tmp_path / "locked.duckdb"
    fill(db, pages=2)
    before = snapshot(db)
    with immutable(db):
        result = run_cli(*command, "--db", str(db), cwd=tmp_path, timeout=60)
        read = run_cli(
            "sql",
            "SELECT count(*) AS n FROM articles",
            "--db",
            str(db),
            "-f",
            "json",
            cwd=tmp_path,
        )
    line = one_error_line(result, 1)
    assert str(db) in line and "cannot open the warehouse" in line
    assert read.returncode == 0 and json.loads(read.stdout) == [{"n": 2}], read.stderr
    assert snapshot(db) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_warehouse_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "secret.duckdb"
    fill(db, pages=1)
    db.chmod(0)
    try:
        for command in (("sql", "SELECT 1"), ("status",), ("crawl", "--base-url", UNREACHABLE)):
            line = one_error_line(run_cli(*command, "--db", str(db), cwd=tmp_path), 1)
            assert str(db) in line
    finally:
        db.chmod(0o644)


def test_a_warehouse_in_a_file_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    result = run_cli("crawl", "--base-url", UNREACHABLE, "--db", "plain.txt/w.duckdb", cwd=tmp_path)
    assert "plain.txt" in one_error_line(result, 1)
    assert (tmp_path / "plain.txt").read_text(encoding="utf-8") == "x"
