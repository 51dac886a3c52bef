"""``baolaocai serve`` for real: its own Prefect server, a schedule, runs by name, SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import httpx
import pytest
from support import BAOLAOCAI, clean_env

from sitecopy import SITE_DIR, serve_site

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def count(db: Path, sql: str) -> int:
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute(sql).fetchone()
            return int(row[0]) if row else 0
    except duckdb.Error:  # not created yet, or a writer holds it this instant
        return -1


@pytest.mark.slow
def test_serve_schedules_runs_by_name_and_stops_its_server(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    env = clean_env()
    output: list[str] = []
    with serve_site(SITE_DIR) as site:
        proc = subprocess.Popen(
            [
                BAOLAOCAI,
                "serve",
                "--interval",
                "4",
                "--base-url",
                site.url,
                "--db",
                str(db),
                "--rate",
                "100",
                "--concurrency",
                "4",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
        try:
            # 1. The schedule fires and a run loads the site.
            wait_until(
                lambda: count(db, "SELECT count(*) FROM articles") == N_ARTICLES,
                180,
                "a scheduled run",
            )
            api = re.search(r"API: (http://127\.0\.0\.1:\d+/api)", "".join(output))
            assert api, output
            # 2. A served deployment runs by name, from the Prefect CLI as a user would.
            runs_before = count(db, "SELECT count(*) FROM crawl_runs")
            prefect = Path(sys.executable).with_name("prefect")
            result = subprocess.run(
                [str(prefect), "deployment", "run", "reparse/manual"],
                env={**env, "PREFECT_API_URL": api.group(1)},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", result.stdout)
            assert flow_run_id, result.stdout

            def reparse_completed() -> bool:
                r = httpx.get(f"{api.group(1)}/flow_runs/{flow_run_id.group(1)}", timeout=5)
                return r.status_code == 200 and r.json()["state_type"] == "COMPLETED"

            wait_until(reparse_completed, 120, "the reparse run")
            assert count(db, "SELECT count(*) FROM crawl_runs") >= runs_before
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    # 3. SIGTERM stops serve and the Prefect server it started.
    assert proc.returncode == 0, "".join(output)
    assert "Prefect server stopped." in "".join(output)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api.group(1)}/health", timeout=2)
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = {r[0] for r in con.execute("SELECT status FROM crawl_runs").fetchall()}
    assert "completed" in statuses and "failed" not in statuses
