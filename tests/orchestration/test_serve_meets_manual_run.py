"""A scheduled tick that meets a manual run is cancelled, with the reason, and nothing else.

``serve`` ticks every 5 s (each run quick: nothing new after the first); a manual
``crawl`` holds the warehouse's writer lock while the site holds its article requests,
until a tick has met it. Every
scheduled run that starts meanwhile must end ``Cancelled`` with a message naming the
manual run, record nothing in ``crawl_runs``, and the manual run completes.
"""

from __future__ import annotations

import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from serving import Serve, deployment, flow_runs, rows, wait_until
from support import BAOLAOCAI, clean_env

from sitecopy import SITE_DIR, serve_site

CRAWL = "crawl/scheduled-baolaocai"


@pytest.mark.slow
def test_a_scheduled_run_that_meets_a_manual_one_is_cancelled_with_the_reason(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.duckdb"
    args = ["--interval", "5", "--rate", "50", "--db", str(db)]
    with (
        serve_site(SITE_DIR) as site,
        Serve(
            [*args, "--base-url", site.url],
            env=clean_env(),
            cwd=tmp_path,
            server_home=tmp_path / ".prefect-server",
        ) as serve,
    ):
        api = serve.api_url()
        wait_until(lambda: deployment(api, CRAWL) is not None, 60, CRAWL, serve.describe)
        crawl = deployment(api, CRAWL)
        assert crawl is not None

        def completed_runs() -> int:
            return [r["state_type"] for r in flow_runs(api, crawl["id"])].count("COMPLETED")

        wait_until(lambda: completed_runs() >= 1, 180, "a first scheduled run", serve.describe)
        # The manual run rechecks every article; the site holds its article requests
        # (so the manual run holds the warehouse) until a tick has met it.
        gate = threading.Event()

        def held(handler: BaseHTTPRequestHandler, server: object) -> bool:
            if "-post" in handler.path:
                gate.wait(120)
            return False

        site.override = held
        manual = subprocess.Popen(
            [BAOLAOCAI, "crawl", "--base-url", site.url, "--db", str(db), "--rate", "50",
             "--recheck-days", "10000"],
            cwd=tmp_path, env=clean_env(BAOLAOCAI_RECHECK_INTERVAL_H="0"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:

            def met_by_a_tick() -> bool:
                return any(
                    "is being written by crawl run" in (r["state"]["message"] or "")
                    for r in flow_runs(api, crawl["id"])
                )

            wait_until(met_by_a_tick, 120, "a tick cancelled by the manual run", serve.describe)
        finally:
            gate.set()
            output = manual.communicate(timeout=240)[0]
        assert manual.returncode == 0, output
        manual_run = re.search(r"^Crawl (\w+) of ", output, re.M)
        assert manual_run, output
        runs = flow_runs(api, crawl["id"])
        assert serve.stop() == 0, serve.describe()

    met = [
        r
        for r in runs
        if r["state_type"] == "CANCELLED"
        and "is being written by crawl run" in (r["state"]["message"] or "")
    ]
    report = "\n".join(f"{r['name']}: {r['state_type']} {r['state']['message']}" for r in runs)
    assert met, report
    assert all(manual_run[1] in (r["state"]["message"] or "") for r in met), report
    # The tick's answer is its state, not an error: no traceback in serve's output (a
    # task failing on the lock, or Prefect's engine on a state holding a dict, logged one).
    assert "Traceback" not in serve.output, serve.output
    # Recorded nowhere but in Prefect: every crawl_runs row is a run that ran.
    statuses = [s for (s,) in rows(db, "SELECT status FROM crawl_runs")]
    assert set(statuses) <= {"completed", "interrupted"}, statuses
