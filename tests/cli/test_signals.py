"""Stopping a crawl as people do: Ctrl-C (SIGINT to the whole process group) and SIGTERM
(systemd, kill). Quick, one line, the run recorded as interrupted, no server left."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest
from support import BAOLAOCAI, clean_env

from sitecopy import SiteServer
from sitecopy.faults import FaultPlan, slow


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c to the group", "sigterm"])
def test_a_stopped_crawl_says_so_and_leaves_nothing_running(
    tmp_path: Path, site: SiteServer, how: str
) -> None:
    site.override = FaultPlan({r"-post\d+\.html": [slow(2.0)] * 5})
    proc = subprocess.Popen(
        [BAOLAOCAI, "crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "20"],
        cwd=tmp_path,
        env=clean_env(BAOLAOCAI_BATCH_SIZE="4"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )
    lines: list[str] = []
    assert proc.stdout is not None
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not any("fetching: 4 of" in line for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            time.sleep(0.2)
        server_pid = int((tmp_path / ".prefect" / "server.pid").read_text())
        stopped_at = time.monotonic()
        if how == "sigterm":
            os.kill(proc.pid, signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        took = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    time.sleep(0.5)
    output = "".join(lines)
    assert proc.returncode == (143 if how == "sigterm" else 130), output
    assert took < 30, took
    assert "interrupted" in output and "Traceback" not in output
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        status, stored = con.execute("SELECT status, articles_new FROM crawl_runs").fetchone()
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert status == "interrupted" and stored >= 4 and articles == stored
    assert not (tmp_path / ".prefect" / "server.pid").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)  # the command's Prefect server is gone too
