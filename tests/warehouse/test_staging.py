"""Staging files live beside the warehouse, named after their process; the next writer
removes the ones whose process is gone (a ``kill -9`` mid-write left them for good in
``$TMPDIR``). The real ``kill -9`` is in tests/cli/test_interrupts.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from baolaocai.site import load_site
from warehouse.db import write_connection
from warehouse.load import RAW_TYPES, bulk_insert
from warehouse.session import WarehouseSession
from warehouse.staging import prefix, remove_dead


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_write_stages_beside_the_warehouse_and_leaves_nothing(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    seen: list[list[str]] = []

    def rows() -> object:
        seen.append(sorted(p.name for p in tmp_path.iterdir() if ".staging." in p.name))
        yield from []

    with write_connection(db) as con:
        bulk_insert(con, "INSERT INTO raw_pages", RAW_TYPES, rows())  # type: ignore[arg-type]
    assert len(seen[0]) == 1 and seen[0][0].startswith(prefix(db, os.getpid()))
    assert not [p for p in tmp_path.iterdir() if ".staging." in p.name]


def test_the_next_writer_removes_only_the_dead_processes_staging_files(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    dead = tmp_path / f"{prefix(db, dead_pid())}abc.ndjson"
    mine = tmp_path / f"{prefix(db, os.getpid())}def.ndjson"
    other = tmp_path / f"{prefix(tmp_path / 'other.duckdb', dead_pid())}ghi.ndjson"
    for path in (dead, mine, other):
        path.write_text('{"html": "page data"}\n')
    session = WarehouseSession(db, load_site())
    session.begin()
    session.close()
    assert not dead.exists()
    assert mine.exists()  # this process's (live) own: in use
    assert other.exists()  # another warehouse's: its own writer's business
    assert remove_dead(tmp_path / "other.duckdb") == [other]
