"""A web archive or search folder the run could not write is one true line before the
run starts: nothing is fetched that could not be kept (a read-only mount, for real)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import BAOLAOCAI, clean_env, tmpfs

from sitecopy import SiteServer


@pytest.fixture(params=["warc", "search"])
def read_only(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """``<tmp>/w.<kind>`` as a read-only tmpfs (root only; skipped elsewhere)."""
    with tmpfs(tmp_path / f"w.{request.param}", "size=1m,ro") as folder:
        yield folder


def test_a_read_only_archive_folder_stops_the_crawl_before_it_starts(
    read_only: Path, site: SiteServer, tmp_path: Path
) -> None:
    done = subprocess.run(
        [BAOLAOCAI, "crawl", "--base-url", site.url, "--db", str(tmp_path / "w.duckdb")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [f"error: cannot write the {lines[0].split('the ', 1)[1]}"], done.stderr
    assert str(read_only) in lines[0] and lines[0].endswith(": read-only file system")
    assert "Traceback" not in done.stdout + done.stderr
    assert site.requests == []  # not even robots.txt
