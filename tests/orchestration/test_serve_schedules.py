"""``baolaocai serve`` on a cron, as a user runs it, never on a temporary server.

Prefect reads its settings once, when it is first imported. ``serve`` used to import
Prefect (to check the cron) before it put its own server's ``PREFECT_API_URL`` in the
environment: Prefect then ran against a temporary server of its own and the cron never
fired (``--interval`` did not import Prefect early, so only the cron broke). These tests
run the installed command on the cron, against its own server and against a server named
by ``PREFECT_API_URL``, and pin the import order the fix relies on.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from serving import (
    N_ARTICLES,
    Serve,
    alive,
    answers,
    count,
    count_when_free,
    deployment,
    flow_runs,
    rows,
    wait_until,
)
from support import BAOLAOCAI, clean_env

from flows.prefect_server import LocalPrefectServer
from sitecopy import SITE_DIR, serve_site

REPO = Path(__file__).resolve().parents[2]
EVERY_MINUTE = "* * * * *"
# Its server starts, the first tick comes at the next minute boundary (up to 60 s), then
# the run: well inside this on a busy 2-core machine.
FIRST_CRON_RUN_S = 150
CRAWL = "crawl/scheduled-baolaocai"


def cron_args(db: Path) -> list[str]:
    return ["--cron", EVERY_MINUTE, "--rate", "100", "--concurrency", "4", "--db", str(db)]


def completed_runs(api: str) -> list[dict[str, object]]:
    found = deployment(api, CRAWL)
    if found is None:
        return []
    return [r for r in flow_runs(api, found["id"]) if r["state_type"] == "COMPLETED"]


def assert_clean_output(serve: Serve) -> None:
    text = serve.output
    assert "temporary server" not in text.lower(), serve.describe()
    assert "Traceback" not in text, serve.describe()


@pytest.mark.slow
def test_serve_on_a_cron_runs_on_its_own_server_and_stops_it(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    started = time.monotonic()
    with (
        serve_site(SITE_DIR) as site,
        Serve(
            [*cron_args(db), "--base-url", site.url],
            env=clean_env(),
            cwd=tmp_path,
            server_home=tmp_path / ".prefect-server",
        ) as serve,
    ):
        api = serve.api_url()
        wait_until(
            lambda: count(db, "SELECT count(*) FROM articles") == N_ARTICLES,
            FIRST_CRON_RUN_S - (time.monotonic() - started),
            "the first cron run to load the site",
            serve.describe,
        )
        # The run is a run of the served deployment, on the server serve started.
        wait_until(lambda: bool(completed_runs(api)), 60, "a completed run", serve.describe)
        run_ids = {str(r["id"]) for r in completed_runs(api)}
        assert serve.stop() == 0, serve.describe()
    assert_clean_output(serve)
    assert "Prefect server stopped." in serve.output
    assert not answers(api)
    assert serve.server_pid is not None and not alive(serve.server_pid)
    recorded = {
        r for (r,) in rows(db, "SELECT flow_run_id FROM crawl_runs WHERE status = 'completed'")
    }
    assert run_ids & recorded, (run_ids, recorded)


@pytest.mark.slow
def test_serve_uses_the_prefect_server_of_prefect_api_url(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    server = LocalPrefectServer(tmp_path / "users-server")
    try:
        server.start()
        with (
            serve_site(SITE_DIR) as site,
            Serve(
                # The interval, not the cron: the cron path is the test above, and a
                # user's own PREFECT_API_URL is in the environment before anything runs.
                ["--interval", "3", *cron_args(db)[2:], "--base-url", site.url],
                env=clean_env(PREFECT_API_URL=server.api_url),
                cwd=tmp_path,
                server_home=tmp_path / ".prefect-server",  # should it start one anyway
            ) as serve,
        ):
            wait_until(
                lambda: bool(completed_runs(server.api_url)),
                FIRST_CRON_RUN_S,
                "a completed run on the user's server",
                serve.describe,
            )
            assert count_when_free(db, "SELECT count(*) FROM articles") == N_ARTICLES
            assert serve.stop() == 0, serve.describe()
        assert answers(server.api_url)  # serve leaves the user's server alone
    finally:
        server.stop()
    assert_clean_output(serve)
    assert f"Using the Prefect server of PREFECT_API_URL: {server.api_url}" in serve.output
    assert "Starting a local Prefect server" not in serve.output
    assert not (tmp_path / ".prefect-server").exists()


def test_serve_rejects_a_bad_cron_before_starting_a_server(tmp_path: Path) -> None:
    result = subprocess.run(
        [BAOLAOCAI, "serve", "--cron", "61 * * * *", "--db", str(tmp_path / "w.duckdb")],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: --cron '61 * * * *' is not a valid cron expression"
    ]
    assert "Starting a local Prefect server" not in result.stdout
    assert not (tmp_path / ".prefect-server" / "server.log").exists()  # never started


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env(**env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_does_not_import_prefect_before_a_command_sets_its_environment() -> None:
    result = python(
        "import sys, cli.main, cli.orchestration, flows.prefect_env, flows.prefect_server\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')\n"
        "assert not loaded, loaded\n"
    )
    assert result.returncode == 0, result.stderr


def test_check_prefect_settings_catches_an_early_import() -> None:
    """The guard serve runs before serving: Prefect imported first keeps no API URL."""
    early = python(
        "import os, prefect\n"
        "os.environ['PREFECT_API_URL'] = 'http://127.0.0.1:9/api'\n"
        "from flows.prefect_env import check_prefect_settings\n"
        "check_prefect_settings('http://127.0.0.1:9/api')\n"
    )
    assert early.returncode != 0
    assert "Prefect was imported before its environment was set" in early.stderr
    in_order = python(
        "import os\n"
        "os.environ['PREFECT_API_URL'] = 'http://127.0.0.1:9/api'\n"
        "from flows.prefect_env import check_prefect_settings\n"
        "check_prefect_settings('http://127.0.0.1:9/api')\n"
    )
    assert in_order.returncode == 0, in_order.stderr
