"""``--db`` paths that collide with what a warehouse keeps beside it, or that cannot be
written: one line, exit 1, before anything starts (no Prefect server, no request), and
nothing already stored is touched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import BAOLAOCAI, clean_env

from sitecopy import SiteServer


def baolaocai(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BAOLAOCAI, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("db", "prepare", "expected"),
    [
        ("x.warc", None, "that name is kept for its web archive folder"),
        ("x.search", None, "that name is kept for its search index folder"),
        (".prefect", None, "that name is kept for its Prefect home folder"),
        ("w.duckdb", "w.warc", "w.warc must be a folder (its web archive folder) but is a file"),
        ("w.duckdb", "w.search", "must be a folder (its search index folder) but is a file"),
        ("w.duckdb", ".prefect", "must be a folder (its Prefect home folder) but is a file"),
        ("w.duckdb", "w.duckdb.wal/", "is a folder where its DuckDB write-ahead log must be"),
        ("afile/w.duckdb", "afile", "afile"),
    ],
)
def test_a_colliding_or_unwritable_db_path_is_one_line_before_anything_starts(
    tmp_path: Path, site: SiteServer, db: str, prepare: str | None, expected: str
) -> None:
    if prepare is not None:
        target = tmp_path / prepare.rstrip("/")
        if prepare.endswith("/"):
            target.mkdir()
        else:
            target.write_text("not ours\n")
    done = baolaocai(tmp_path, "crawl", "--base-url", site.url, "--db", db)
    assert done.returncode == 1, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and expected in line, line
    assert "Traceback" not in done.stdout + done.stderr
    assert site.requests == []  # refused before robots.txt
    assert not (tmp_path / ".prefect" / "server.json").exists()
    if prepare is not None and not prepare.endswith("/"):
        assert (tmp_path / prepare).read_text() == "not ours\n"  # left as it was
