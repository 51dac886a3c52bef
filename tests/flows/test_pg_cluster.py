"""The throwaway PostgreSQL cluster (flows/pg_cluster.py) on the real binaries: it serves on
127.0.0.1, makes databases, stops on every way out (the end of its block, an exception,
SIGTERM or SIGKILL of the process that started it) leaving no postgres process; and a
Prefect server on it keeps its flow runs in PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import psycopg
import pytest
from support import clean_env

from baolaocai.errors import InputError, ServiceError
from baolaocai.processes import process_alive
from flows import pg_cluster
from flows.pg_cluster import PostgresCluster, find_bindir, server_processes
from flows.prefect_server import LocalPrefectServer

try:
    find_bindir()
except ServiceError:  # pragma: no cover - CI installs PostgreSQL (.ci/run)
    if os.environ.get("CI"):  # there a missing PostgreSQL is a failure, never a skip
        raise
    pytest.skip("PostgreSQL is not installed (apt install postgresql)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[2]
GONE_TIMEOUT_S = 120.0


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """No temporary Prefect API: these tests start their own servers (this overrides the
    folder's session harness for this module)."""
    yield


def running_server(cluster: PostgresCluster) -> list[int]:
    """The processes of the cluster's server, the postmaster first (recorded while it
    runs: once it is gone, an orphaned child has another parent)."""
    assert cluster.pid is not None and cluster.running
    found = server_processes(cluster.pid)
    assert found[0] == cluster.pid and len(found) > 1  # its checkpointer, writers, …
    return found


def wait_gone(processes: list[int]) -> None:
    """Wait until every one of ``processes`` is gone; fail (with what is left) after a
    generous deadline: a busy machine is slow, a leak is for ever."""
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while left := [pid for pid in processes if process_alive(pid)]:
        if time.monotonic() > deadline:
            pytest.fail(f"postgres processes left: {left}")
        time.sleep(0.2)


def test_a_cluster_serves_on_loopback_and_stops_at_the_end_of_its_block(tmp_path: Path) -> None:
    root = tmp_path / "pg"
    with PostgresCluster(root) as cluster:
        cluster.create_database("lake")
        cluster.create_database("lake")  # idempotent
        assert "lake" in cluster.databases()
        with psycopg.connect(cluster.conninfo("lake")) as con:
            row = con.execute(
                "SELECT current_database(), current_user, current_setting('listen_addresses'),"
                " current_setting('fsync'), pg_encoding_to_char(encoding)"
                " FROM pg_database WHERE datname = current_database()"
            ).fetchone()
        assert row == ("lake", "postgres", "127.0.0.1", "off", "UTF8")
        assert (cluster.socket_dir / f".s.PGSQL.{cluster.port}").is_socket()
        assert cluster.psql("lake", "SELECT 'Lào Cai', 2").strip() == "Lào Cai|2"
        assert cluster.sqlalchemy_url("lake") == (
            f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.port}/lake"
        )
        if os.geteuid() == 0:  # initdb and postgres refuse root: run as the user postgres
            assert cluster.data_dir.stat().st_uid == pg_uid()
        processes = running_server(cluster)
    wait_gone(processes)
    assert not cluster.running

    # The data stays: the same root starts again with its databases (a lake's catalog).
    with PostgresCluster(root) as again:
        assert "lake" in again.databases()
        processes = running_server(again)
    wait_gone(processes)
    again.remove()
    assert not again.data_dir.exists()


def pg_uid() -> int:
    import pwd

    return pwd.getpwnam("postgres").pw_uid


def test_an_exception_in_the_block_stops_the_server(tmp_path: Path) -> None:
    processes: list[int] = []
    cluster = PostgresCluster(tmp_path / "pg")
    with pytest.raises(RuntimeError, match="boom"), cluster:
        processes += running_server(cluster)
        raise RuntimeError("boom")
    wait_gone(processes)
    cluster.remove()


def test_a_root_out_of_the_servers_reach_gets_a_private_folder(tmp_path: Path) -> None:
    """A path too long for a unix socket (and, as root, a folder under a 0700 one such as
    pytest's tmp_path) cannot hold the server: it lives in a folder of its own, linked."""
    root = tmp_path / ("x" * 90) / "pg"
    with PostgresCluster(root) as cluster:
        assert cluster.home != root
        assert (root / "cluster").resolve() == cluster.home.resolve()
        cluster.create_database("prefect")
        processes = running_server(cluster)
    wait_gone(processes)
    with PostgresCluster(root) as again:  # found again through the link
        assert again.home == cluster.home.resolve()
        assert "prefect" in again.databases()
    again.remove()
    assert not cluster.home.exists() and not (root / "cluster").exists()


PARENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from flows.pg_cluster import PostgresCluster

    cluster = PostgresCluster(Path(sys.argv[1])).start()
    print(cluster.pid, flush=True)
    time.sleep(600)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_parent_killed_without_stopping_it_leaves_no_server(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Python's default SIGTERM, and SIGKILL, end the process without a ``finally``: the
    watchdog stops the server."""
    root = tmp_path / "pg"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=clean_env(),
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().strip()
        assert line.isdigit(), f"the parent printed {line!r}"
        pid = int(line)
        processes = server_processes(pid)
        assert processes[0] == pid and len(processes) > 1
        parent.send_signal(sig)
        parent.wait(timeout=60)
        wait_gone(processes)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    PostgresCluster(root).remove()


def test_a_server_pg_ctl_cannot_stop_is_killed_with_its_backends(tmp_path: Path) -> None:
    """``pg_ctl stop`` failing (here: a pg_ctl that only fails) still leaves nothing: the
    server and its processes (a client's backend too) are ended."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "pg_ctl").write_text("#!/bin/sh\nexit 1\n")
    (fake / "pg_ctl").chmod(0o755)
    with PostgresCluster(tmp_path / "pg") as cluster:
        con = psycopg.connect(cluster.conninfo("postgres"))  # a backend of its own
        try:
            backend = con.execute("SELECT pg_backend_pid()").fetchone()
            processes = running_server(cluster)
            assert backend is not None and backend[0] in processes
            pg_cluster.shut_down(cluster.data_dir, fake, as_postgres=cluster.as_postgres)
            wait_gone(processes)
        finally:
            with suppress(psycopg.Error):
                con.close()
    cluster.remove()


def test_postgresql_missing_is_one_line_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_cluster, "DEBIAN_VERSIONS", tmp_path / "none")
    monkeypatch.setattr(pg_cluster.shutil, "which", lambda name: None)
    with pytest.raises(ServiceError) as caught:
        PostgresCluster(tmp_path / "pg").start()
    message = str(caught.value)
    assert "apt install postgresql" in message and "\n" not in message
    assert not (tmp_path / "pg").exists()


def test_a_server_that_cannot_start_quotes_its_log_and_leaves_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cluster = PostgresCluster(tmp_path / "pg", port=port)
        with pytest.raises(ServiceError) as caught:
            cluster.start()
    message = str(caught.value)
    assert message.startswith(f"PostgreSQL did not start: port {port} of 127.0.0.1 is in use")
    assert "FATAL:" in message and "\n" not in message
    assert str(cluster.log_file) in message
    assert pg_cluster.postmaster_pid(cluster.data_dir) is None
    cluster.remove()


def test_a_chosen_port_taken_before_the_start_gives_way_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The free port is chosen before the server binds it: another process may take it
    meanwhile; a port we chose (not the caller's) is then chosen again."""
    import flows.prefect_server as prefect_server

    real = prefect_server.free_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1]]
        monkeypatch.setattr(prefect_server, "free_port", lambda: ports.pop() if ports else real())
        with PostgresCluster(tmp_path / "pg") as cluster:
            assert cluster.port != taken.getsockname()[1]
            assert "postgres" in cluster.databases()
            processes = running_server(cluster)
    wait_gone(processes)
    cluster.remove()


def test_a_bad_database_name_is_refused_before_psql(tmp_path: Path) -> None:
    cluster = PostgresCluster(tmp_path / "pg")  # not started: nothing is asked of a server
    for name in ("", "-x", "d" * 64):
        with pytest.raises(InputError):
            cluster.create_database(name)


FLOW = textwrap.dedent(
    """
    from prefect import flow

    @flow(name="pg-proof")
    def pg_proof() -> int:
        return 7

    assert pg_proof() == 7
    """
)


def test_a_prefect_server_on_the_cluster_keeps_its_runs_in_postgresql(tmp_path: Path) -> None:
    with PostgresCluster(tmp_path / "pg") as cluster:
        cluster.create_database("prefect")
        server = LocalPrefectServer(
            tmp_path / "server-home",
            services=False,
            database_url=cluster.sqlalchemy_url("prefect"),
        ).start()
        try:
            assert httpx.get(f"{server.api_url}/health", timeout=10).status_code == 200
            ran = subprocess.run(
                [sys.executable, "-c", FLOW],
                env=clean_env(
                    PREFECT_API_URL=server.api_url,
                    PREFECT_HOME=str(tmp_path / "client-home"),
                    PREFECT_SERVER_ANALYTICS_ENABLED="false",
                ),
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert ran.returncode == 0, ran.stdout + ran.stderr
            runs = cluster.psql(
                "prefect",
                "SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id",
            )
        finally:
            server.stop()
    assert runs.split() == ["pg-proof|COMPLETED"]
    assert not list((tmp_path / "server-home").glob("*.db"))  # no SQLite database
    cluster.remove()
