"""prefect.yaml deploys the three flows to a process work pool on a real Prefect server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import clean_env

from flows.prefect_server import LocalPrefectServer

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_prefect_yaml_deploys_every_flow(tmp_path: Path) -> None:
    server = LocalPrefectServer(tmp_path / "server-home").start()
    env = clean_env(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=str(tmp_path / "client-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    prefect = str(Path(sys.executable).with_name("prefect"))

    def run(*args: str) -> str:
        result = subprocess.run(
            [prefect, *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    try:
        run("work-pool", "create", "baolaocai", "--type", "process")
        run("--no-prompt", "deploy", "--all")
        listing = run("deployment", "ls")
        schedule = run("deployment", "inspect", "crawl/scheduled-baolaocai")
    finally:
        server.stop()
    for name in (
        "crawl/scheduled-baolaocai",
        "backfill/manual-baolaocai",
        "reparse/manual-baolaocai",
    ):
        assert name in listing
    assert "0 * * * *" in schedule and "Asia/Ho_Chi_Minh" in schedule
