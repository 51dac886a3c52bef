"""How commands start (issue #21): the first line comes before anything slow, an
unreachable site fails before Prefect is used, the local Prefect server is kept between
commands and stopped by its watchdog, and the quick commands import only what they use.

Behaviour only, as users see it: what is printed, what runs, what is left. How fast is
``benchmarks/startup.py``'s job."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from support import BAOLAOCAI, Started, clean_env

from baolaocai.processes import process_alive
from sitecopy import SiteServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = "http://127.0.0.1:9"
"""Nothing listens on the discard port: a site that cannot be reached, at once."""


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BAOLAOCAI, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def state(folder: Path) -> dict[str, int]:
    """``server.json`` of the Prefect home of ``folder`` (empty if there is none)."""
    try:
        return dict(json.loads((folder / ".prefect" / "server.json").read_text()))
    except (OSError, ValueError):
        return {}


def wait_until_gone(pid: int, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    while process_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.2)


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Pids a test may leave running when it fails (a kept server, its watchdog): killed
    at teardown, so the suite leaves no Prefect server behind whatever happens."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if process_alive(pid):
            os.killpg(pid, signal.SIGKILL)


def articles(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    assert row is not None
    return int(row[0])


# -- the first line, and an unreachable site ------------------------------------------------


def test_the_first_line_comes_before_the_prefect_server_is_healthy(
    tmp_path: Path, site: SiteServer
) -> None:
    crawl = Started(
        [BAOLAOCAI, "crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "50"],
        tmp_path,
    )
    try:
        crawl.wait_for("Starting the local Prefect API in ")
        # server.json is written once the server answers /health: not yet.
        assert state(tmp_path) == {}, crawl.output
        assert crawl.finish() == 0, crawl.output
    finally:
        crawl.kill()
    assert crawl.output.splitlines()[0].startswith("Starting the local Prefect API in ")
    assert articles(tmp_path / "w.duckdb") > 0


def test_an_unreachable_site_fails_before_prefect_is_used(tmp_path: Path) -> None:
    done = run(tmp_path, "crawl", "--base-url", CLOSED_PORT, "--db", "w.duckdb")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    said, error = done.stderr.strip().splitlines()
    assert said.startswith("Starting the local Prefect API in ")
    # The line the run itself gives (scrapers/robots.py) when robots.txt gets no answer.
    assert error == (
        f"error: the site at {CLOSED_PORT} could not be reached (robots.txt: connection"
        " error: All connection attempts failed); RFC 9309: assume everything is"
        " disallowed; not crawling"
    )
    # No flow ran (a run records itself in crawl_runs first), no server is left.
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM crawl_runs").fetchone() == (0,)
    assert state(tmp_path) == {}
    pid_file = tmp_path / ".prefect" / "server.pid"
    assert not pid_file.exists() or not process_alive(int(pid_file.read_text()))


def test_the_site_check_sends_no_request(tmp_path: Path, site: SiteServer) -> None:
    """It only connects: the run's requests are the site's whole request log, robots.txt
    first and once (the politeness accounting is the run's, as before)."""
    done = run(tmp_path, "crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "50")
    assert done.returncode == 0, done.stdout + done.stderr
    paths = [r.path for r in site.requests]
    assert paths[0] == "/robots.txt" and paths.count("/robots.txt") == 1, paths


# -- one server, kept between commands ------------------------------------------------------


def test_a_second_command_reuses_the_server_which_stops_when_idle(
    tmp_path: Path, leftovers: list[int]
) -> None:
    # 20 s idle: longer than the moment between the two commands, shorter than a wait.
    first = run(tmp_path, "demo", "--db", "demo.duckdb", BAOLAOCAI_PREFECT_IDLE="20")
    assert first.returncode == 0, first.stdout + first.stderr
    kept = state(tmp_path)
    leftovers.extend([kept["pid"], kept["watchdog"]])
    assert process_alive(kept["pid"]) and process_alive(kept["watchdog"])
    assert first.stderr.startswith("Starting the local Prefect API in "), first.stderr

    second = run(tmp_path, "reparse", "--db", "demo.duckdb", BAOLAOCAI_PREFECT_IDLE="20")
    assert second.returncode == 0, second.stdout + second.stderr
    url = f"http://127.0.0.1:{kept['port']}/api"
    assert second.stderr.splitlines()[0] == f"Using the local Prefect API at {url}"
    assert state(tmp_path) == kept  # the same server, the same watchdog
    # No command for 20 s: the watchdog stops the server, then ends.
    wait_until_gone(kept["pid"], within=180)
    wait_until_gone(kept["watchdog"], within=30)
    assert state(tmp_path) == {}
    assert not (tmp_path / ".prefect" / "server.pid").exists()


def test_a_kept_server_stops_when_its_folder_is_deleted(
    tmp_path: Path, leftovers: list[int]
) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    done = run(folder, "demo", "--db", "demo.duckdb", BAOLAOCAI_PREFECT_IDLE="3600")
    assert done.returncode == 0, done.stdout + done.stderr
    kept = state(folder)
    leftovers.extend([kept["pid"], kept["watchdog"]])
    assert process_alive(kept["pid"])
    shutil.rmtree(folder)  # as pytest removes an old tmp folder
    wait_until_gone(kept["pid"], within=60)
    wait_until_gone(kept["watchdog"], within=30)


def test_idle_zero_stops_the_server_with_the_last_command(tmp_path: Path) -> None:
    done = run(tmp_path, "demo", "--db", "demo.duckdb", BAOLAOCAI_PREFECT_IDLE="0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert state(tmp_path) == {}
    assert not (tmp_path / ".prefect" / "server.pid").exists()


# -- the quick commands import only what they use ---------------------------------------------

HEAVY = ("prefect", "fsspec", "warcio", "pyarrow", "rich.progress", "httpx", "bs4", "lxml")
"""Modules ``sql``, ``search``, ``status``, ``tables``, ``describe`` and ``--help`` have no
use for."""

RUN_COMMAND = textwrap.dedent(
    """
    import json, sys
    import cli.main
    at_import = sorted(sys.modules)
    sys.argv = ["baolaocai", *sys.argv[1:]]
    try:
        cli.main.main()
    except SystemExit:
        pass
    print(json.dumps({"import": at_import, "run": sorted(sys.modules)}), file=sys.stderr)
    """
)


def loaded(tmp_path: Path, *args: str) -> tuple[set[str], set[str]]:
    """Top-level packages and modules (``rich.progress`` …) in ``sys.modules`` of a fresh
    process after ``import cli.main``, and after the command ran."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_COMMAND, *args],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = json.loads(done.stderr.strip().splitlines()[-1])
    return set(found["import"]), set(found["run"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in modules)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    from warehouse.db import connect

    db = tmp_path / "w.duckdb"
    connect(str(db)).close()
    (tmp_path / "w.warc").mkdir()  # status lists the web archive's files
    return db


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "SELECT 1"),
        ("sql", "SELECT * FROM range(100000)"),  # more rows than shown: counted, not kept
        ("search", "lao cai"),
        ("status",),
        ("tables",),
        ("describe", "articles"),
        ("--help",),
    ],
    ids=lambda a: "-".join(a)[:24].strip("-"),
)
def test_quick_commands_import_no_prefect_and_no_archive_code(
    tmp_path: Path, warehouse: Path, args: tuple[str, ...]
) -> None:
    db = () if args == ("--help",) else ("--db", str(warehouse))
    at_import, after = loaded(tmp_path, *args, *db)
    assert heavy(after) == []
    # pydantic comes with typer 0.29's parameter coercion, never from our modules.
    assert "pydantic" not in at_import and "duckdb" not in at_import
    assert "rich.table" not in at_import


def test_status_lists_the_web_archive_as_the_archive_names_it(tmp_path: Path) -> None:
    """``status`` lists WARC files without importing the archive module; both agree."""
    from warehouse import status
    from warehouse.session import warc_dir
    from warehouse.warc import warc_files

    db = tmp_path / "a.duckdb"
    folder = warc_dir(db)
    assert status._warc_dir(db) == folder
    folder.mkdir()
    for name in ("a.warc.gz", "b-1.warc.gz", ".hidden.warc.gz", "x..warc.gz", "c.warc", "d.gz"):
        (folder / name).write_bytes(b"")
    (folder / "dir.warc.gz").mkdir()
    assert status._warc_files(folder) == warc_files(folder)


def test_the_site_check_connects_and_sends_nothing() -> None:
    """:func:`flows.site_check.reach`: a connection that opens is enough, and not a byte
    goes to the site; one that does not is the fetcher's reason after its retries."""
    import asyncio
    import socket

    from baolaocai.settings import load_settings
    from flows.site_check import reach

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        settings = load_settings().override(base_url=f"http://127.0.0.1:{port}")
        assert asyncio.run(reach(settings)) is None
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            assert conn.recv(1024) == b""  # closed without a request
    closed = load_settings().override(base_url=CLOSED_PORT, retries=0)
    assert asyncio.run(reach(closed)) == "connection error: All connection attempts failed"
