"""SIGKILL a crawl mid-run, run again: the same warehouse as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from support import BAOLAOCAI, clean_env

from flows.crawl import crawl
from flows.prefect_server import stop_leftover
from sitecopy import SITE_DIR, SiteServer, serve_site
from sitecopy.faults import FaultPlan, slow

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))
SNAPSHOT_QUERIES = {
    "articles": "SELECT article_id, url, content_hash, version, title, body FROM articles ORDER BY 1",
    "images": "SELECT article_id, position, src, caption FROM article_images ORDER BY 1, 2",
    "revisions": "SELECT article_id, version, content_hash FROM article_revisions ORDER BY 1, 2",
    "raw": "SELECT url, html_sha256 FROM raw_pages ORDER BY 1",
}


def snapshot(db_path: str) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(db_path, read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in SNAPSHOT_QUERIES.items()}


def start_crawl(site_url: str, db_path: str, cwd: Path) -> subprocess.Popen[str]:
    env = clean_env(cwd / ".prefect", BAOLAOCAI_BATCH_SIZE="3")
    return subprocess.Popen(
        [
            BAOLAOCAI,
            "crawl",
            "--base-url",
            site_url,
            "--db",
            db_path,
            "--rate",
            "50",
            "--concurrency",
            "2",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )


def wait_for_article_requests(site: SiteServer, n: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(1 for r in list(site._requests) if "-post" in r.path) >= n:
            return
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.02)
    pytest.fail("the crawl never got going")


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [4, 13])
def test_sigkill_then_rerun_equals_uninterrupted_run(tmp_path: Path, kill_after: int) -> None:
    reference_db = str(tmp_path / "reference.duckdb")
    killed_db = str(tmp_path / "killed.duckdb")
    with serve_site(SITE_DIR) as site:
        state = crawl(
            base_url=site.url, db_path=reference_db, rate=200.0, concurrency=4, return_state=True
        )
        assert state.is_completed()

        site.override = FaultPlan(random_faults=[(slow(0.15), 1.0)], max_per_path=100)
        site.requests.clear()
        proc = start_crawl(site.url, killed_db, tmp_path)
        try:
            wait_for_article_requests(site, kill_after, proc)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # SIGKILL reaches no cleanup: the command's Prefect server (its own session) is left
        # running; the next command stops it first from server.pid, as here.
        pid_file = tmp_path / ".prefect" / "server.pid"
        leftover = int(pid_file.read_text())
        stop_leftover(pid_file)
        gone_by = time.monotonic() + 30
        while Path(f"/proc/{leftover}").exists() and time.monotonic() < gone_by:
            time.sleep(0.2)
        assert not Path(f"/proc/{leftover}").exists()

        site.override = None
        state = crawl(
            base_url=site.url, db_path=killed_db, rate=200.0, concurrency=4, return_state=True
        )
        summary = state.result(raise_on_failure=False)
        assert state.is_completed(), summary
        if kill_after > 10:  # several batches had been committed before the kill
            assert summary["articles_new"] < N_ARTICLES

    assert snapshot(killed_db) == snapshot(reference_db)
    with duckdb.connect(killed_db, read_only=True) as con:
        runs = con.execute("SELECT status FROM crawl_runs ORDER BY started_at").fetchall()
    assert runs == [("interrupted",), ("completed",)]
