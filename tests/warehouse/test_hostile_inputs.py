"""Hostile inputs to the warehouse layer: export folders, broken files, newer schemas, SQL.

``export`` only ever replaces or deletes files that a previous export wrote, inside
``--out`` once symbolic links are resolved, and never removes a folder tree; the
warehouse is opened in one error line or not at all; a read-only connection for user
SQL is sandboxed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from baolaocai.errors import InputError, WarehouseError
from warehouse import export as export_module
from warehouse.db import check_schema, connect, known_version, migrate, schema_version
from warehouse.export import GENERATOR, MANIFEST, STAGING_PREFIX, TABLES, export, is_export_file


@pytest.fixture(scope="module")
def con(filled: Path):
    connection = connect(filled, read_only=True)
    yield connection
    connection.close()


@pytest.fixture(autouse=True)
def no_rmtree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in an export may remove a folder tree."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"shutil.rmtree{args} called")

    monkeypatch.setattr(shutil, "rmtree", forbidden)


def tree(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` with its content (or link target)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[rel] = path.read_bytes().hex()[:64] + f" {path.stat().st_mtime_ns}"
        else:
            found[rel] = "/"
    return found


def manifest(*paths: str, generator: str = f"{GENERATOR} 0.1.0, duckdb 1.5.5") -> str:
    return json.dumps(
        {
            "format": "csv",
            "exported_at": "2026-01-01T00:00:00+00:00",
            "schema_version": 4,
            "filters": {"since": None, "until": None},
            "files": [{"path": p, "table": "articles", "rows": 1} for p in paths],
            "tables": {"articles": len(paths)},
            "generator": generator,
        }
    )


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """The user's work, beside the export folder."""
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.txt").write_text("four years of work", encoding="utf-8")
    (folder / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folder / "articles").mkdir()
    (folder / "articles" / "notes.txt").write_text("mine", encoding="utf-8")
    return folder


def refused(
    con: duckdb.DuckDBPyConnection, out: Path, fmt: str, watch: Path, match: str
) -> InputError:
    before = tree(watch)
    with pytest.raises(InputError, match=match) as caught:
        export(con, out, fmt)
    assert tree(watch) == before, "a refused export changed files"
    assert "\n" not in caught.value.message
    return caught.value


# -- the manifest cannot point outside --out -------------------------------------------------------


@pytest.mark.parametrize(
    "listed",
    ["../precious/thesis.txt", "../precious", "..", ".", "articles/../../precious/thesis.txt"],
)
def test_a_manifest_listing_paths_outside_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, precious: Path, listed: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(manifest(listed), encoding="utf-8")
    error = refused(con, out, "csv", tmp_path, "not written by baolaocai export")
    assert "choose another --out" in error.message
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "four years of work"


def test_a_manifest_listing_an_absolute_path_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, precious: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(manifest(str(precious / "thesis.txt")), encoding="utf-8")
    refused(con, out, "jsonl", tmp_path, "not written by baolaocai export")


def test_a_listed_file_that_is_a_symlink_outside_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, precious: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "articles.csv").symlink_to(precious / "data.csv")
    (out / MANIFEST).write_text(manifest("articles.csv"), encoding="utf-8")
    refused(con, out, "csv", tmp_path, "not a regular file")
    assert (out / "articles.csv").is_symlink()


def test_a_listed_folder_that_is_a_symlink_outside_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, precious: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (precious / "articles" / "year=2025" / "month=01").mkdir(parents=True)
    victim = precious / "articles" / "year=2025" / "month=01" / "data_0.parquet"
    victim.write_bytes(b"someone else's parquet")
    (out / "articles").symlink_to(precious / "articles")
    (out / MANIFEST).write_text(
        manifest("articles/year=2025/month=01/data_0.parquet"), encoding="utf-8"
    )
    refused(con, out, "parquet", tmp_path, "outside")
    assert victim.read_bytes() == b"someone else's parquet"


def test_a_new_export_never_writes_through_a_symlinked_folder(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, precious: Path
) -> None:
    """Not listed in the manifest, but the parquet export would write into it."""
    out = tmp_path / "out"
    export(con, out, "jsonl")
    (out / "articles").symlink_to(precious / "articles")
    refused(con, out, "parquet", tmp_path, "symbolic link")


@pytest.mark.parametrize(
    "generator", ["pandas 2.2", "", None, "baolaocai-fake", "someone else's baolaocai 1, duckdb 1"]
)
def test_a_foreign_manifest_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, generator: str | None
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "articles.csv").write_text("the user's own table\n", encoding="utf-8")
    (out / MANIFEST).write_text(manifest("articles.csv", generator=generator), encoding="utf-8")
    refused(con, out, "csv", tmp_path, "not written by baolaocai export")


@pytest.mark.parametrize("content", ["{not json", "[]", '{"generator": 3}', "\x00\x01"])
def test_a_broken_manifest_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, content: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(content, encoding="utf-8")
    refused(con, out, "csv", tmp_path, "not written by baolaocai export")


def test_a_folder_without_a_manifest_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "articles.jsonl").write_text("the user's\n", encoding="utf-8")
    error = refused(con, out, "jsonl", tmp_path, "not empty")
    assert error.message == (
        f"{out} is not empty and was not written by baolaocai export; choose another --out"
    )


def test_a_user_file_where_the_export_would_write_is_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export(con, out, "parquet")
    (out / "articles.csv").write_text("my own spreadsheet\n", encoding="utf-8")
    refused(con, out, "csv", tmp_path, "articles.csv: exists and was not written")


# -- our own exports can be replaced ---------------------------------------------------------------


def one_file_per_table(fmt: str) -> set[str]:
    """What a CSV or JSON Lines export writes besides its manifest."""
    return {f"{table}.{fmt}" for table in TABLES}


def listed(out: Path) -> set[str]:
    data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    return {f["path"] for f in data["files"]}


def test_re_exporting_into_our_own_export_works(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, precious: Path
) -> None:
    out = tmp_path / "out"
    outside = tree(precious)
    for fmt in ("parquet", "csv", "jsonl", "parquet", "parquet", "csv"):
        result = export(con, out, fmt)
        files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
        assert files == listed(out) | {MANIFEST} == {f.path for f in result.files} | {MANIFEST}
        assert all(is_export_file(p) for p in listed(out))
        assert not any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())
    assert not (out / "articles").exists()  # the parquet folders went with their files
    assert tree(precious) == outside
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "precious"]


def test_the_users_own_files_in_our_export_are_kept(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export(con, out, "parquet")
    (out / "README.txt").write_text("my notes on this export", encoding="utf-8")
    (out / "articles" / "notes.txt").write_text("mine too", encoding="utf-8")
    export(con, out, "jsonl")
    assert (out / "README.txt").read_text(encoding="utf-8") == "my notes on this export"
    assert (out / "articles" / "notes.txt").read_text(encoding="utf-8") == "mine too"
    assert [p.name for p in (out / "articles").iterdir()] == ["notes.txt"]
    assert listed(out) == one_file_per_table("jsonl")


def test_files_deleted_by_the_user_are_no_obstacle(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export(con, out, "csv")
    (out / "article_images.csv").unlink()
    export(con, out, "csv")
    assert listed(out) == one_file_per_table("csv")


def test_every_exported_file_has_its_checksum_in_the_manifest(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    import hashlib

    out = tmp_path / "out"
    for fmt in ("csv", "parquet"):
        export(con, out, fmt)
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        assert data["files"]
        for entry in data["files"]:
            digest = hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest()
            assert entry["sha256"] == digest


def test_an_exported_file_the_user_edited_is_not_replaced(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A file of ours that no longer matches its checksum is the user's work now: the next
    export refuses in one line and touches nothing, whatever the format asked."""
    out = tmp_path / "out"
    export(con, out, "csv")
    with (out / "articles.csv").open("a", encoding="utf-8") as f:
        f.write("# ghi chú của tôi: bài này cần kiểm tra lại\n")
    for fmt in ("csv", "jsonl"):
        refused(con, out, fmt, tmp_path, r"articles\.csv: changed since baolaocai export wrote it")
    assert "ghi chú của tôi" in (out / "articles.csv").read_text(encoding="utf-8")


def test_an_export_of_an_earlier_version_is_recognised(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export(con, out, "jsonl")
    data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    data["generator"] = "baolaocai 0.1.0, duckdb 1.5.5"  # before the "export" mark
    (out / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    export(con, out, "csv")
    assert listed(out) == one_file_per_table("csv")
    assert not (out / "articles.jsonl").exists()


def test_a_stale_staging_folder_does_not_block_a_first_export(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / f"{STAGING_PREFIX}old").mkdir(parents=True)
    export(con, out, "jsonl")
    assert (out / f"{STAGING_PREFIX}old").is_dir()  # not ours to judge: left alone
    assert listed(out) == one_file_per_table("jsonl")


def test_a_staging_folder_of_a_killed_export_is_removed_by_the_next(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid no process has any more
    left = out / f"{STAGING_PREFIX}{dead.pid}-abc123"
    (left / "articles").mkdir(parents=True)
    (left / "articles" / "part-0.parquet").write_bytes(b"half written")
    live = out / f"{STAGING_PREFIX}{os.getppid()}-def456"  # a running process's: kept
    live.mkdir()
    export(con, out, "jsonl")
    assert not left.exists()
    assert live.is_dir()
    assert listed(out) == one_file_per_table("jsonl")


def test_a_failed_export_leaves_the_previous_one(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    export(con, out, "csv")
    before = tree(out)

    def broken(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(export_module, "_write", broken)
    with pytest.raises(WarehouseError, match="export failed: disk full"):
        export(con, out, "parquet")
    assert tree(out) == before
    with pytest.raises(WarehouseError, match="export failed: disk full"):
        export(con, tmp_path / "new" / "folder", "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "out"]
    assert list((tmp_path / "new").iterdir()) == []  # made for --out, left empty


def test_hostile_export_through_the_command_is_one_line(
    filled: Path, tmp_path: Path, precious: Path, cli_app
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(manifest("../precious/thesis.txt"), encoding="utf-8")
    before = tree(tmp_path)
    result = CliRunner().invoke(
        cli_app, ["export", "--format", "csv", "--out", str(out), "--db", str(filled)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "choose another --out" in result.stderr
    assert tree(tmp_path) == before


# -- opening the warehouse -----------------------------------------------------------------------


@pytest.mark.parametrize("read_only", [True, False])
def test_every_failure_to_open_is_one_warehouse_error(tmp_path: Path, read_only: bool) -> None:
    random = tmp_path / "random.duckdb"
    random.write_bytes(os.urandom(10_000))
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    fifo = tmp_path / "fifo.duckdb"
    os.mkfifo(fifo)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for path in (random, folder, fifo, tmp_path / "file" / "below.duckdb"):
        with pytest.raises(WarehouseError) as caught:
            connect(path, read_only=read_only, lock_timeout=1)
        assert str(path) in caught.value.message and "\n" not in caught.value.message


def test_a_newer_schema_is_refused_for_writing_only(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    con = connect(path)
    future = known_version() + 1
    con.execute(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', now())",
        [future],
    )
    con.close()
    message = (
        f"the warehouse {path} has schema version {future}, newer than this baolaocai knows"
        f" ({known_version()}); upgrade baolaocai"
    )
    before = path.read_bytes()
    with pytest.raises(WarehouseError) as caught:
        connect(path)
    assert caught.value.message == message
    reader = connect(path, read_only=True)
    try:
        assert schema_version(reader) == future
        with pytest.raises(WarehouseError, match="newer than this baolaocai"):
            check_schema(reader)
    finally:
        reader.close()
    assert path.read_bytes() == before
    raw = duckdb.connect(str(path))
    try:
        with pytest.raises(WarehouseError, match=f"schema version {future}"):
            migrate(raw)
        assert schema_version(raw) == future
    finally:
        raw.close()


@pytest.fixture
def copy_of_filled(filled: Path, tmp_path: Path) -> Path:
    """``filled`` is held open by this module's connection; sandbox tests need their own."""
    path = tmp_path / "copy" / "w.duckdb"
    path.parent.mkdir()
    shutil.copyfile(filled, path)
    return path


def test_a_sandboxed_connection_stays_sandboxed(copy_of_filled: Path, tmp_path: Path) -> None:
    con = connect(copy_of_filled, read_only=True, sandbox=True, extensions=("fts",))
    try:
        assert con.execute("SELECT count(*) > 0 FROM articles").fetchone() == (True,)
        assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("Asia/Ho_Chi_Minh",)
        for statement in (
            "SELECT * FROM read_text('/etc/passwd')",
            f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'",
            f"ATTACH '{tmp_path / 'new.duckdb'}' AS n",
            "SET enable_external_access = true",
            "SET lock_configuration = false",
            "INSTALL httpfs",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(statement)
        assert [p.name for p in tmp_path.iterdir()] == ["copy"]
    finally:
        con.close()
    with pytest.raises(ValueError, match="read-only"):
        connect(copy_of_filled, sandbox=True)


def test_a_sandbox_never_locks_down_other_connections_of_the_process(
    con: duckdb.DuckDBPyConnection, filled: Path, copy_of_filled: Path, tmp_path: Path
) -> None:
    # ``filled`` is open (this module's ``con``): a sandbox cannot take over its instance.
    with pytest.raises(WarehouseError, match="already open in this process"):
        connect(filled, read_only=True, sandbox=True)
    assert con.execute("SELECT count(*) FROM glob(?)", [str(filled)]).fetchone() == (1,)
    # And while a sandbox is open, a plain connection is refused rather than locked down.
    sandboxed = connect(copy_of_filled, read_only=True, sandbox=True)
    try:
        with pytest.raises(WarehouseError, match="already open in this process"):
            connect(copy_of_filled, read_only=True)
        with pytest.raises(WarehouseError, match="already open in this process"):
            connect(copy_of_filled, read_only=True, sandbox=True)
    finally:
        sandboxed.close()
    plain = connect(copy_of_filled, read_only=True)
    try:
        target = tmp_path / "free.csv"
        plain.execute(f"COPY (SELECT 1 AS one) TO '{target}'")
        assert target.is_file()
    finally:
        plain.close()


def test_search_status_and_export_still_work(filled: Path, tmp_path: Path, cli_app) -> None:
    # A copy: DuckDB refuses one file open in one process with two sets of settings, and
    # search's connection is sandboxed (the real commands each run in their own process).
    import shutil

    from warehouse.search import search_index_dir

    copy = Path(shutil.copy(filled, tmp_path / "copy.duckdb"))
    shutil.copytree(search_index_dir(filled), search_index_dir(copy))  # the index goes along
    filled = copy
    runner = CliRunner()
    result = runner.invoke(cli_app, ["search", "hoa binh", "--db", str(filled), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)
    status = runner.invoke(cli_app, ["status", "--db", str(filled), "-f", "json"])
    assert status.exit_code == 0 and json.loads(status.stdout)["search_index"]["documents"] > 0
    out = tmp_path / "e"
    for fmt in ("parquet", "csv"):
        again = runner.invoke(
            cli_app, ["export", "-f", fmt, "--out", str(out), "--db", str(filled)]
        )
        assert again.exit_code == 0, again.stderr
