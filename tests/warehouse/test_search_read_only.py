"""``search`` and ``status`` on a warehouse this user may not write: they read it.

tantivy takes a lock file in the index folder even to read it; on a read-only mount, or
in a folder without write permission, that failed and both commands said the index "is
from another version; run reindex" — untrue. Now the index is read (through a temporary
folder of links), and when even that is impossible the line says why, truthfully.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tantivy
from typer.testing import CliRunner

from warehouse import search as search_module
from warehouse.db import connect
from warehouse.search import index_info, search, search_index_dir

READ_ONLY_LOCK_ERROR = (
    "Failed to acquire Lockfile: IoError(Os { code: 30, kind: ReadOnlyFilesystem,"
    ' message: "Read-only file system" }). None'
)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def copy_warehouse(filled: Path, folder: Path) -> Path:
    shutil.copy(filled, folder / filled.name)
    shutil.copytree(search_index_dir(filled), search_index_dir(folder / filled.name))
    return folder / filled.name


@contextlib.contextmanager
def read_only_mount(folder: Path) -> Iterator[bool]:
    """``folder`` as a read-only tmpfs (root only); yields False when it cannot be made."""
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield False
        return
    made = subprocess.run(["mount", "-t", "tmpfs", "none", str(folder)], capture_output=True)
    if made.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own temporary folder (to see that no link folder is left behind)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def unwritable(filled: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the test warehouse that this process cannot write: a read-only mount
    when run as root (root writes any folder), else a folder without write permission."""
    folder = tmp_path / "ro"
    with read_only_mount(folder) as mounted:
        db = copy_warehouse(filled, folder)
        if mounted:
            remount = ["mount", "-o", "remount,ro", str(folder)]
            assert subprocess.run(remount, capture_output=True).returncode == 0
        elif os.geteuid() == 0:
            pytest.skip("root without a read-only mount: every folder is writable")
        else:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode & ~0o222)
        try:
            yield db
        finally:
            if not mounted:
                for path in [folder, *folder.rglob("*")]:
                    path.chmod(path.stat().st_mode | 0o200)


def test_search_and_status_read_an_unwritable_warehouse(
    unwritable: Path, filled: Path, own_tmp: Path, cli_app
) -> None:
    before = tree(unwritable.parent)
    expected = [h.article_id for h in search(search_index_dir(filled), "hoa binh")]
    found = search(search_index_dir(unwritable), "hoa binh")
    assert [h.article_id for h in found] == expected and expected
    runner = CliRunner()
    result = runner.invoke(cli_app, ["search", "hoa binh", "--db", str(unwritable), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert "another version" not in result.stdout + result.stderr
    status = runner.invoke(cli_app, ["status", "--db", str(unwritable), "-f", "json"])
    assert status.exit_code == 0, status.stderr
    index = json.loads(status.stdout)["search_index"]
    assert "error" not in index and index["documents"] > 0, index
    table = runner.invoke(cli_app, ["status", "--db", str(unwritable)])
    assert table.exit_code == 0 and "another version" not in table.stdout
    assert tree(unwritable.parent) == before  # nothing written, nothing changed
    assert list(own_tmp.iterdir()) == []  # the link folder is gone


@pytest.fixture
def refusing_locks(monkeypatch: pytest.MonkeyPatch, filled: Path) -> None:
    """tantivy as on a read-only mount: opening the index folder itself fails to take its
    lock file (the same error), wherever the test runs and whoever runs it."""
    real = tantivy.Index.open
    generations = {str(p) for p in search_index_dir(filled).glob("gen-*")}

    def open_index(path: str) -> tantivy.Index:
        if path in generations:
            raise ValueError(READ_ONLY_LOCK_ERROR)
        return real(path)

    monkeypatch.setattr(tantivy.Index, "open", staticmethod(open_index))


def test_a_lock_the_file_system_refuses_is_not_another_version(
    filled: Path, refusing_locks: None, own_tmp: Path, cli_app
) -> None:
    before = tree(search_index_dir(filled))
    hits = search(search_index_dir(filled), "lao cai")
    assert hits
    con = connect(filled, read_only=True)
    try:
        info = index_info(search_index_dir(filled), con)
    finally:
        con.close()
    assert info is not None and info.documents > 0
    result = CliRunner().invoke(cli_app, ["search", "lao cai", "--db", str(filled)])
    assert result.exit_code == 0 and "another version" not in result.stderr
    assert tree(search_index_dir(filled)) == before
    assert list(own_tmp.iterdir()) == []


def test_without_a_temporary_folder_it_says_read_only(
    filled: Path, refusing_locks: None, monkeypatch: pytest.MonkeyPatch, cli_app
) -> None:
    def no_tmp(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(search_module.tempfile, "TemporaryDirectory", no_tmp)
    result = CliRunner().invoke(cli_app, ["search", "lao cai", "--db", str(filled)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is read-only" in lines[0], result.stderr
    assert "another version" not in lines[0]
    status = CliRunner().invoke(cli_app, ["status", "--db", str(filled), "-f", "json"])
    assert status.exit_code == 0
    error = json.loads(status.stdout)["search_index"]["error"]
    assert "is read-only" in error and "another version" not in error


def test_a_foreign_index_is_still_called_one(filled: Path, tmp_path: Path) -> None:
    db = copy_warehouse(filled, tmp_path)
    generation = next(search_index_dir(db).glob("gen-*"))
    (generation / "meta.json").write_text("not tantivy", encoding="utf-8")
    with pytest.raises(search_module.WarehouseError, match="another version"):
        search(search_index_dir(db), "lao cai")
