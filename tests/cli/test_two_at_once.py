"""Two commands at once, as users run them: a cron crawl and a manual one, a demo beside a
crawl, two ``serve``. Real processes on a loopback copy of the site; each ends with the
documented exit code and lines, no traceback, no Prefect server left, and every run that
ran stored everything."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import duckdb
import pytest
from support import BAOLAOCAI, Started, clean_env

from baolaocai.processes import process_alive
from sitecopy import SITE_DIR, SiteServer

N_BUNDLED = len(list(SITE_DIR.glob("*-post*.html")))
pytestmark = pytest.mark.slow


class Command(Started):
    """``baolaocai ARGS`` started in ``cwd``, its output gathered as it comes."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        super().__init__([BAOLAOCAI, *args], cwd, **env)


class Gate:
    """A site override that holds every article request until :meth:`open` (at most
    ``limit`` seconds): a first crawl is certainly still running when the test starts the
    second command, however slow the machine, and ends when the test says so."""

    def __init__(self, limit: float = 240.0) -> None:
        self.opened = threading.Event()
        self.limit = limit

    def __call__(self, handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        if re.search(r"-post\d+\.html", handler.path):
            self.opened.wait(self.limit)
        return False  # then served as usual

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def gate(site: SiteServer) -> Iterator[Gate]:
    held = Gate()
    site.override = held
    try:
        yield held
    finally:
        held.open()


@pytest.fixture
def slow_site(site: SiteServer, gate: Gate) -> SiteServer:
    """The bundled copy, its article pages held back by :func:`gate`."""
    return site


def run_to_end(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BAOLAOCAI, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=240
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """A plain read-only connection, as a user's script opens one, tried again for a few
    seconds: a run holds the file for the moments it writes (some 1 % of a run)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with duckdb.connect(str(db), read_only=True) as con:
                return con.execute(sql).fetchall()
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def runs(db: Path) -> list[tuple[str, str]]:
    rows = query(db, "SELECT kind, status FROM crawl_runs ORDER BY started_at")
    return [(str(k), str(s)) for k, s in rows]


def articles(db: Path) -> int:
    [(n,)] = query(db, "SELECT count(*) FROM articles")
    return int(str(n))


def no_prefect_server_left(folder: Path) -> None:
    """Every Prefect server a command started in ``folder`` is gone with the commands."""
    time.sleep(0.5)
    for home in (folder / ".prefect", folder / ".prefect-server"):
        state = home / "server.json"
        assert not state.exists(), state.read_text()
        pid_file = home / "server.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            assert not process_alive(pid), f"Prefect server {pid} left running"


def test_a_second_crawl_waits_for_the_first_and_both_complete(
    tmp_path: Path, slow_site: SiteServer, gate: Gate
) -> None:
    args = ["crawl", "--base-url", slow_site.url, "--db", "w.duckdb", "--rate", "20"]
    first = Command(tmp_path, *args)
    second = None
    try:
        first.wait_for("fetching")
        second = Command(tmp_path, *args)
        second.wait_for("waiting for crawl run ")
        gate.open()
        assert first.finish() == 0, first.output
        assert second.finish() == 0, second.output
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert "waiting for crawl run " in second.output, second.output
    for command in (first, second):
        assert "Traceback" not in command.output and "ConnectError" not in command.output
    assert runs(tmp_path / "w.duckdb") == [("crawl", "completed"), ("crawl", "completed")]
    assert articles(tmp_path / "w.duckdb") == N_BUNDLED
    no_prefect_server_left(tmp_path)


def test_no_wait_refuses_in_one_line_before_discovery(
    tmp_path: Path, slow_site: SiteServer, gate: Gate
) -> None:
    args = ["crawl", "--base-url", slow_site.url, "--db", "w.duckdb", "--rate", "20"]
    first = Command(tmp_path, *args)
    try:
        first.wait_for("fetching")
        requests_before = len(slow_site.requests)
        refused = run_to_end(tmp_path, *args, "--no-wait")
        requests_by_second = len(slow_site.requests) - requests_before
        gate.open()
        assert first.finish() == 0, first.output
    finally:
        first.kill()
    assert refused.returncode == 75, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: the warehouse w.duckdb is being written by crawl run ")
    assert f"(pid {first.proc.pid}" in line and "--wait" in line
    assert refused.stdout == ""
    # The refusal came first: the first run's own requests are all there were.
    assert requests_by_second <= N_BUNDLED
    assert runs(tmp_path / "w.duckdb") == [("crawl", "completed")]
    no_prefect_server_left(tmp_path)


def test_a_crawl_and_a_demo_in_one_folder_share_its_prefect_server(
    tmp_path: Path, slow_site: SiteServer, gate: Gate
) -> None:
    """Two warehouses of one folder, one Prefect home: the second command uses the first
    one's server and neither stops it under the other."""
    crawl = Command(
        tmp_path, "crawl", "--base-url", slow_site.url, "--db", "crawl.duckdb", "--rate", "20"
    )
    demo = None
    try:
        crawl.wait_for("fetching")
        state = json.loads((tmp_path / ".prefect" / "server.json").read_text())
        demo = Command(tmp_path, "demo", "--db", "demo.duckdb")
        assert demo.finish() == 0, demo.output
        # The demo ended first: the crawl's server still runs, and the crawl completes.
        assert process_alive(state["pid"])
        gate.open()
        assert crawl.finish() == 0, crawl.output
    finally:
        crawl.kill()
        if demo is not None:
            demo.kill()
    for command in (crawl, demo):
        assert "Traceback" not in command.output and "ConnectError" not in command.output
    assert runs(tmp_path / "crawl.duckdb") == [("crawl", "completed")]
    assert runs(tmp_path / "demo.duckdb") == [("crawl", "completed")] * 2  # the demo's 2 passes
    assert articles(tmp_path / "crawl.duckdb") == N_BUNDLED
    no_prefect_server_left(tmp_path)


def test_two_demos_at_once_both_complete(tmp_path: Path) -> None:
    first = Command(tmp_path, "demo", "--db", "demo.duckdb")
    second = Command(tmp_path, "demo", "--db", "demo.duckdb")
    try:
        codes = (first.finish(), second.finish())
    finally:
        first.kill()
        second.kill()
    assert codes == (0, 0), first.output + second.output
    for command in (first, second):
        assert "Traceback" not in command.output and "stopped at start" not in command.output
    # The first demo's two passes, then the second's one (the site as it is now): it found
    # the warehouse holding the site once it got its turn.
    assert runs(tmp_path / "demo.duckdb") == [("crawl", "completed")] * 3
    assert articles(tmp_path / "demo.duckdb") == N_BUNDLED
    assert "Pass 1 skipped" in (first.output + second.output)
    no_prefect_server_left(tmp_path)


def test_a_second_serve_of_a_warehouse_is_refused_and_a_manual_crawl_beside_it_waits_its_turn(
    tmp_path: Path, slow_site: SiteServer, gate: Gate
) -> None:
    serve_args = ["serve", "--interval", "5", "--rate", "20", "--base-url", slow_site.url]
    serve_args += ["--db", "w.duckdb"]
    serve = Command(tmp_path, *serve_args)
    manual = None
    try:
        serve.wait_for("Serving ")
        again = run_to_end(tmp_path, *serve_args)
        assert again.returncode == 75, again.stdout + again.stderr
        [line] = again.stderr.strip().splitlines()
        assert "already served by another 'baolaocai serve'" in line
        assert f"pid {serve.proc.pid}" in line
        # serve's first scheduled run starts at once (held at its articles by the gate);
        # a manual crawl meanwhile waits for it, then runs.
        deadline = time.monotonic() + 120
        while not (tmp_path / "w.duckdb").exists() or not runs(tmp_path / "w.duckdb"):
            assert time.monotonic() < deadline, serve.output
            time.sleep(0.5)
        manual = Command(
            tmp_path, "crawl", "--base-url", slow_site.url, "--db", "w.duckdb", "--rate", "20"
        )
        manual.wait_for("waiting for crawl run ")
        gate.open()
        assert manual.finish() == 0, manual.output
        assert "Traceback" not in manual.output
        os.kill(serve.proc.pid, signal.SIGTERM)  # as a service manager stops it
        assert serve.finish(60) == 0, serve.output
    finally:
        serve.kill()
        if manual is not None:
            manual.kill()
    assert "Traceback" not in serve.output
    # serve's ticks that met the manual crawl were cancelled (busy): never recorded as runs.
    # (A tick running when serve was stopped is recorded interrupted.)
    statuses = [s for _, s in runs(tmp_path / "w.duckdb")]
    assert statuses.count("completed") >= 2, statuses
    assert set(statuses) <= {"completed", "interrupted"}, statuses
    assert articles(tmp_path / "w.duckdb") == N_BUNDLED
    no_prefect_server_left(tmp_path)


def test_a_server_left_by_a_killed_command_serves_the_next_one_which_stops_it(
    tmp_path: Path, slow_site: SiteServer, gate: Gate
) -> None:
    args = ["crawl", "--base-url", slow_site.url, "--db", "w.duckdb", "--rate", "20"]
    killed = Command(tmp_path, *args)
    try:
        killed.wait_for("fetching")
        left = json.loads((tmp_path / ".prefect" / "server.json").read_text())
        os.kill(killed.proc.pid, signal.SIGKILL)  # the command only: its server lives on
        killed.finish()
    finally:
        killed.kill()
    assert process_alive(left["pid"])
    gate.open()
    again = run_to_end(tmp_path, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    # It used the server it found (no second start-up) and stopped it when it ended.
    assert not process_alive(left["pid"])
    assert [s for _, s in runs(tmp_path / "w.duckdb")] == ["interrupted", "completed"]
    assert articles(tmp_path / "w.duckdb") == N_BUNDLED
    no_prefect_server_left(tmp_path)
