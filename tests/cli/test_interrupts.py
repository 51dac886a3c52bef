"""Every command stops at Ctrl-C (SIGINT to the process group) and SIGTERM within
seconds, in one line with exit 130 / 143, nothing stored lost and nothing left running;
a second signal ends a command at once, and one that does not end is ended anyway
(:mod:`baolaocai.interrupts`). A ``kill -9`` mid-write leaves a staging file that the
next writer of the warehouse removes (:mod:`warehouse.staging`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from support import BAOLAOCAI, Started

from baolaocai.processes import process_alive
from sitecopy import SiteServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SLOW_SQL = (
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 1000000000)"
    " SELECT count(*) FROM t"
)
STOP_WITHIN_S = 15.0


class Stoppable(Started):
    """A command a test stops with a signal."""

    def stop(self, how: str) -> float:
        """Send Ctrl-C (SIGINT to the group) or SIGTERM; seconds until it ended."""
        started = time.monotonic()
        if how == "sigterm":
            os.kill(self.proc.pid, signal.SIGTERM)
        else:
            os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        return time.monotonic() - started


@pytest.fixture
def started() -> Iterator[list[Stoppable]]:
    found: list[Stoppable] = []
    yield found
    for one in found:
        one.kill()


def make_warehouse(path: Path) -> int:
    """A migrated warehouse with a few rows; returns its row count of ``crawl_runs``."""
    from warehouse.db import connect

    con = connect(path)
    try:
        con.execute(
            "INSERT INTO crawl_runs (run_id, site, started_at, status, base_url)"
            " VALUES ('r1', 'baolaocai', now(), 'completed', 'http://x')"
        )
        row = con.execute("SELECT count(*) FROM crawl_runs").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def rows(path: Path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def expected(how: str) -> tuple[int, str]:
    return (143, "interrupted (SIGTERM)") if how == "sigterm" else (130, "interrupted")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[-1].split()[1]) == pid and process_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_long_sql_query_stops_in_one_line(
    tmp_path: Path, started: list[Stoppable], how: str
) -> None:
    db = tmp_path / "w.duckdb"
    before = make_warehouse(db)
    one = Stoppable(
        [BAOLAOCAI, "sql", SLOW_SQL, "--db", str(db), "--timeout", "600"],
        tmp_path,
        PYTHONPATH=str(ROOT),
    )
    started.append(one)
    time.sleep(4)  # started, and inside the query (nothing is printed before the rows)
    assert one.proc.poll() is None, one.output
    took = one.stop(how)
    code, line = expected(how)
    assert one.proc.returncode == code, one.output
    assert one.output.strip() == line
    assert took < STOP_WITHIN_S, took
    assert rows(db, "crawl_runs") == before


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_crawl_stopped_while_its_prefect_server_starts_leaves_none(
    tmp_path: Path, site: SiteServer, started: list[Stoppable], how: str
) -> None:
    """The command's Prefect server runs in a session of its own (out of reach of Ctrl-C):
    stopped while it started, it was left running."""
    one = Stoppable(
        [BAOLAOCAI, "crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "1000"],
        tmp_path,
    )
    started.append(one)
    pid_file = tmp_path / ".prefect" / "server.pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists():
        assert time.monotonic() < deadline and one.proc.poll() is None, one.output
        time.sleep(0.02)
    server = int(pid_file.read_text())
    took = one.stop(how)
    code, line = expected(how)
    assert one.proc.returncode == code, one.output
    # The command's first line said what it was starting, its last how it ended.
    lines = one.output.strip().splitlines()
    assert len(lines) == 2, one.output
    said, ended = lines
    assert said.startswith("Starting the local Prefect API in "), one.output
    assert ended == line
    assert took < STOP_WITHIN_S, took
    deadline = time.monotonic() + 10
    while process_alive(server):
        assert time.monotonic() < deadline, "the Prefect server was left running"
        time.sleep(0.1)
    assert not pid_file.exists()


STUBBORN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from baolaocai import interrupts
    marker = Path(sys.argv[1])
    interrupts.at_last_resort(lambda: marker.write_text("cleaned"))
    with interrupts.handling(grace=float(sys.argv[2])):
        print("ready", flush=True)
        end = time.monotonic() + 120
        while time.monotonic() < end:  # a library that swallows the interrupt
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:
                pass
    print("not stopped", flush=True)
    """
)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_second_signal_ends_a_command_at_once(
    tmp_path: Path, started: list[Stoppable], how: str
) -> None:
    marker = tmp_path / "cleaned"
    one = Stoppable(
        [sys.executable, "-c", STUBBORN, str(marker), "600"], tmp_path, PYTHONPATH=str(ROOT)
    )
    started.append(one)
    one.wait_for("ready")
    sig = signal.SIGTERM if how == "sigterm" else signal.SIGINT
    os.kill(one.proc.pid, sig)
    time.sleep(1.0)
    assert one.proc.poll() is None  # the first one was swallowed
    at = time.monotonic()
    os.kill(one.proc.pid, sig)
    one.proc.wait(timeout=STOP_WITHIN_S)
    assert time.monotonic() - at < 5
    one._reader.join(timeout=10)
    code, line = expected(how)
    assert one.proc.returncode == code
    assert one.output.split() == ["ready", *line.split()]
    assert marker.read_text() == "cleaned"


def test_a_command_that_does_not_end_is_ended_after_the_grace(
    tmp_path: Path, started: list[Stoppable]
) -> None:
    marker = tmp_path / "cleaned"
    one = Stoppable(
        [sys.executable, "-c", STUBBORN, str(marker), "2"], tmp_path, PYTHONPATH=str(ROOT)
    )
    started.append(one)
    one.wait_for("ready")
    took = one.stop("ctrl-c")
    assert one.proc.returncode == 130
    assert 1.5 < took < STOP_WITHIN_S
    assert one.output.split() == ["ready", "interrupted"]
    assert marker.read_text() == "cleaned"


SIGNAL_IN_A_WEAKREF_CALLBACK = """
import os, signal, sys, time, weakref
class Thing:
    pass
def signal_in_a_weakref_callback(signum):
    def gone(_ref):  # a weakref callback: Python cannot raise out of it
        os.kill(os.getpid(), signum)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # the handler runs here, inside the callback
            pass
    thing = Thing()
    ref = weakref.ref(thing, gone)
    del thing  # the callback runs now
    end = time.monotonic() + 20
    while time.monotonic() < end:
        time.sleep(0.01)
"""

UNRAISABLE = SIGNAL_IN_A_WEAKREF_CALLBACK + textwrap.dedent(
    """
    from baolaocai import interrupts
    with interrupts.handling(grace=60):
        print("ready", flush=True)
        try:
            signal_in_a_weakref_callback(getattr(signal, sys.argv[1]))
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            print("interrupted where it could be", flush=True)
    """
)


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_an_interrupt_that_lands_where_python_cannot_raise_is_delivered_again(
    tmp_path: Path, started: list[Stoppable], how: str
) -> None:
    """Seen in CI: a SIGTERM while a command imported a module landed in an import
    lock's weakref callback; Python printed "Exception ignored in ..." and a traceback,
    and went on as if nothing had come. It is raised again where it can be, no line of
    it printed, and it does not count as a second signal (which would end at once)."""
    one = Stoppable([sys.executable, "-c", UNRAISABLE, how], tmp_path, PYTHONPATH=str(ROOT))
    started.append(one)
    one.proc.wait(timeout=STOP_WITHIN_S)
    one._reader.join(timeout=10)
    assert one.output.split("\n")[:2] == ["ready", "interrupted where it could be"], one.output
    assert "Traceback" not in one.output and "Exception ignored" not in one.output
    assert one.proc.returncode == 0, one.output  # it ended by itself, not by the last resort


PREFECT_FLOW_RUN = SIGNAL_IN_A_WEAKREF_CALLBACK + textwrap.dedent(
    """
    import flows  # what a flow-run process of serve or of a worker imports first
    from prefect.utilities.engine import capture_sigterm
    # As Prefect's flow engine runs a flow: a TerminationSignal raised inside it ends
    # the process by SIGTERM's own (default) action, once Prefect has seen it.
    with capture_sigterm():
        print("ready", flush=True)
        signal_in_a_weakref_callback(signal.SIGTERM)
        print("not terminated", flush=True)
    """
)


def test_prefects_termination_lost_in_a_flow_run_process_is_delivered_again(
    tmp_path: Path, started: list[Stoppable]
) -> None:
    """Seen in CI: ``serve`` stopped, its runner sent SIGTERM to a flow-run process
    (``python -m prefect.engine``: not one of our commands, Prefect's own SIGTERM
    handler); the handler's ``TerminationSignal`` landed in a weakref callback and
    Python printed "Exception ignored in ..." and its traceback into serve's output.
    Any handler's exception lost that way is raised again where it can be: here
    Prefect's, in a process that only imported our flows."""
    one = Stoppable([sys.executable, "-c", PREFECT_FLOW_RUN], tmp_path, PYTHONPATH=str(ROOT))
    started.append(one)
    one.proc.wait(timeout=60)
    one._reader.join(timeout=10)
    assert "Traceback" not in one.output and "Exception ignored" not in one.output, one.output
    assert one.output.split() == ["ready"], one.output
    assert one.proc.returncode == -signal.SIGTERM, one.output


UNRAISABLE_ELSEWHERE = textwrap.dedent(
    """
    import sys
    from baolaocai import interrupts
    interrupts.keep_lost_signals()
    class Broken:
        def __del__(self):
            raise RuntimeError("a bug in a finaliser")
    Broken()
    print("went on", flush=True)
    """
)


def test_an_unraisable_error_that_no_signal_raised_is_still_reported() -> None:
    """The hook only takes what signal handlers raised: a bug's unraisable error is
    Python's report as before (before any stop signal)."""
    done = subprocess.run(
        [sys.executable, "-c", UNRAISABLE_ELSEWHERE],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout == "went on\n"
    assert "Exception ignored" in done.stderr and "a bug in a finaliser" in done.stderr


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from warehouse.db import write_connection
    from warehouse.load import RAW_TYPES, bulk_insert

    def rows():
        yield ("page data",) * len(RAW_TYPES)
        print("writing", flush=True)
        time.sleep(120)  # killed here, the staging file half written

    with write_connection(sys.argv[1]) as con:
        bulk_insert(con, "INSERT INTO raw_pages", RAW_TYPES, rows())
    """
)


def test_a_staging_file_left_by_kill_9_is_removed_by_the_next_writer(
    tmp_path: Path, started: list[Stoppable]
) -> None:
    from baolaocai.site import load_site
    from warehouse.session import WarehouseSession

    db = tmp_path / "w.duckdb"
    before = make_warehouse(db)
    one = Stoppable([sys.executable, "-c", KILLED_WRITER, str(db)], tmp_path, PYTHONPATH=str(ROOT))
    started.append(one)
    one.wait_for("writing")
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".w.duckdb.staging.")]
    assert [p.name.split(".")[4] for p in left] == [str(one.proc.pid)]
    os.kill(one.proc.pid, signal.SIGKILL)
    one.proc.wait(timeout=10)
    assert left[0].exists()  # kill -9: nothing could remove it

    session = WarehouseSession(db, load_site())
    session.begin()
    session.close()
    assert not left[0].exists()
    assert rows(db, "crawl_runs") == before
