"""A disk that fills up during a run: the run ends ``failed`` with one line saying what
could not be written, raises nothing, and everything stored before stays readable.

A real full disk: a small tmpfs mounted for the test (root only; skipped elsewhere)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from support import tmpfs

from baolaocai.settings import Settings
from pipeline.crawl import crawl_site
from sitecopy import SITE_DIR, serve_site
from warehouse.db import connect

N_BUNDLED = len(list(SITE_DIR.glob("*-post*.html")))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / f"disk-{uuid.uuid4().hex[:6]}", "size=32m") as mount:
        yield mount


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` but for ``leave`` bytes."""
    stats = os.statvfs(disk)
    filler = disk / "filler"
    with filler.open("wb") as out:
        out.write(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave))
    return filler


@pytest.mark.parametrize("leave", [150_000, 1_200_000], ids=["mid-run", "at-the-end"])
def test_a_full_disk_fails_the_run_in_one_line_and_loses_nothing_stored(
    small_disk: Path, leave: int
) -> None:
    db = small_disk / "w.duckdb"
    connect(db).close()
    filler = fill(small_disk, leave)
    with serve_site(SITE_DIR) as site:
        settings = Settings(base_url=site.url, db_path=str(db), rate=200.0, batch_size=5)
        run = crawl_site(settings)  # raises nothing
    summary = run.summary
    assert summary.status == "failed"
    assert summary.error is not None and "No space left on device" in summary.error
    assert "\n" not in summary.error and "Traceback" not in summary.error
    stored = summary.articles_new
    assert 0 < stored <= N_BUNDLED
    # What the run said it stored is there, for any reader, once there is room again.
    filler.unlink()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (stored,)
    # And the next run completes the archive.
    with serve_site(SITE_DIR) as site:
        again = crawl_site(Settings(base_url=site.url, db_path=str(db), rate=200.0))
    assert again.summary.status == "completed", again.summary.error
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (N_BUNDLED,)
    shutil.rmtree(small_disk / "w.warc", ignore_errors=True)
