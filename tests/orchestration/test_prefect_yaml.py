"""prefect.yaml deploys the four deployments of each of its sites to a process work pool on a real
Prefect server, the runs in the worker's own folder (as ``baolaocai deploy`` does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import clean_env

from flows.prefect_server import LocalPrefectServer

REPO = Path(__file__).resolve().parents[2]
SITES = ("baolaocai", "nuimay")


@pytest.mark.slow
def test_prefect_yaml_deploys_every_flow_of_every_site(tmp_path: Path) -> None:
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
        flows = {
            f["id"]: f["name"] for f in httpx.post(f"{server.api_url}/flows/filter", json={}).json()
        }
        found: list[dict[str, Any]] = httpx.post(
            f"{server.api_url}/deployments/filter", json={}
        ).json()
    finally:
        server.stop()
    made = {f"{flows[d['flow_id']]}/{d['name']}": d for d in found}
    assert sorted(made) == sorted(
        f"{flow}/{kind}-{site}"
        for site in SITES
        for flow, kind in (
            ("crawl", "scheduled"),
            ("backfill", "manual"),
            ("reparse", "manual"),
            ("reparse-part", "manual"),
        )
    )
    for name, d in made.items():
        site = name.rsplit("-", 1)[1]
        assert d["parameters"] == {"site": site}
        assert d["work_pool_name"] == "baolaocai"
        flow = name.split("/")[0]
        assert d["entrypoint"] == (
            "flows/reparse.py:reparse_part" if flow == "reparse-part" else f"flows/{flow}.py:{flow}"
        )
        # The worker's own folder, on any machine: not the folder deployed from.
        assert d["job_variables"] == {"working_dir": "."}
        assert d["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": "."}}
        ]
        if flow == "reparse-part":  # a reparse's parts run side by side
            assert d["global_concurrency_limit"] is None
        else:  # one run at a time
            assert d["global_concurrency_limit"]["limit"] == 1
            assert d["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    hourly = {"cron": "0 * * * *", "timezone": "Asia/Ho_Chi_Minh", "day_or": True}
    for site, active in (("baolaocai", True), ("nuimay", False)):  # nuimay is invented
        schedules = made[f"crawl/scheduled-{site}"]["schedules"]
        assert [(s["schedule"], s["active"]) for s in schedules] == [(hourly, active)]
