"""``baolaocai serve --interval`` for real: its own Prefect server, a schedule, runs by
name, SIGTERM. (The cron, a user's own server and no overlap: test_serve_schedules.py and
test_no_overlap.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from serving import N_ARTICLES, Serve, alive, answers, count, count_when_free, rows, wait_until
from support import clean_env

from sitecopy import SITE_DIR, serve_site


@pytest.mark.slow
def test_serve_schedules_runs_by_name_and_stops_its_server(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    env = clean_env()
    args = ["--interval", "4", "--db", str(db), "--rate", "100", "--concurrency", "4"]
    with (
        serve_site(SITE_DIR) as site,
        Serve(
            [*args, "--base-url", site.url],
            env=env,
            cwd=tmp_path,
            server_home=tmp_path / ".prefect-server",
        ) as serve,
    ):
        # 1. The schedule fires and a run loads the site.
        api = serve.api_url()
        wait_until(
            lambda: count(db, "SELECT count(*) FROM articles") == N_ARTICLES,
            180,
            "a scheduled run",
            serve.describe,
        )
        # 2. A served deployment runs by name, from the Prefect CLI as a user would.
        runs_before = count_when_free(db, "SELECT count(*) FROM crawl_runs")
        prefect = Path(sys.executable).with_name("prefect")
        result = subprocess.run(
            [str(prefect), "deployment", "run", "reparse/manual-baolaocai"],
            env={**env, "PREFECT_API_URL": api},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        flow_run_id = re.search(r"UUID: ([0-9a-f-]{36})", result.stdout)
        assert flow_run_id, result.stdout

        def reparse_completed() -> bool:
            r = httpx.get(f"{api}/flow_runs/{flow_run_id.group(1)}", timeout=5)
            return r.status_code == 200 and r.json()["state_type"] == "COMPLETED"

        wait_until(reparse_completed, 120, "the reparse run", serve.describe)
        assert count_when_free(db, "SELECT count(*) FROM crawl_runs") >= runs_before
        # 3. SIGTERM stops serve and the Prefect server it started.
        assert serve.stop() == 0, serve.describe()
    assert "Prefect server stopped." in serve.output
    assert "temporary server" not in serve.output.lower(), serve.describe()
    assert not answers(api)
    assert serve.server_pid is not None and not alive(serve.server_pid)
    statuses = {r for (r,) in rows(db, "SELECT status FROM crawl_runs")}
    assert "completed" in statuses and "failed" not in statuses
