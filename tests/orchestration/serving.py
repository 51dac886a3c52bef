"""Helpers for the tests that run ``baolaocai serve`` as a user does: a child process, its
output, the Prefect server's REST API, the warehouse file, and a clean stop."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from support import BAOLAOCAI

from baolaocai.processes import process_alive
from sitecopy import SITE_DIR

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))
API_LINE = re.compile(r"API: (http://127\.0\.0\.1:\d+/api)")
STOP_TIMEOUT = 90


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` s, with ``describe()``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{describe()}")


def count(db: Path, sql: str) -> int:
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute(sql).fetchone()
            return int(row[0]) if row else 0
    except duckdb.Error:  # not created yet, or a writer holds it this instant
        return -1


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read as the product's readers do: wait (leaving the mark a run lets go for) while a
    run holds the warehouse, instead of failing on the lock of a busy instant."""
    from warehouse.db import connect

    con = connect(db, read_only=True, lock_timeout=120)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def count_when_free(db: Path, sql: str) -> int:
    """``count`` that waits for a run holding the warehouse (see :func:`rows`)."""
    found = rows(db, sql)
    return int(found[0][0]) if found else 0


def answers(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


alive = process_alive
"""A zombie (exited, not yet reaped by its parent) is not alive."""


class Serve:
    """``baolaocai serve ARGS`` in its own session, its output gathered as it comes.

    Leave the ``with`` block and it is stopped by SIGTERM, as a user's service manager
    would; if it does not exit in time, it and everything in its process group get
    SIGKILL, and a Prefect server it left behind (found by the ``server.pid`` in
    ``server_home``) is killed too: a failing test leaves no process behind.
    """

    def __init__(
        self, args: list[str], *, env: dict[str, str], cwd: Path, server_home: Path | None
    ) -> None:
        self.args = args
        self.env = env
        self.cwd = cwd
        self.server_home = server_home
        self.server_pid: int | None = None
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self.returncode: int | None = None

    def __enter__(self) -> Serve:
        self.proc = subprocess.Popen(
            [BAOLAOCAI, "serve", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        stdout = self.proc.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=lambda: self.lines.extend(stdout), daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def api_url(self, timeout: float = 150) -> str:
        """The API address serve printed once its own Prefect server was healthy."""
        wait_until(
            lambda: bool(API_LINE.search(self.output)),
            timeout,
            "serve's Prefect server",
            self.describe,
        )
        match = API_LINE.search(self.output)
        assert match
        self._note_server_pid()
        return match.group(1)

    def _note_server_pid(self) -> None:
        if self.server_home is not None and self.server_pid is None:
            with contextlib.suppress(OSError, ValueError):
                self.server_pid = int((self.server_home / "server.pid").read_text())

    def describe(self) -> str:
        return f"--- output of baolaocai serve {' '.join(self.args)}:\n{self.output}"

    def stop(self) -> int:
        """SIGTERM, then wait; SIGKILL whatever is left. Returns serve's exit code."""
        if self.proc is None or self.returncode is not None:
            return self.returncode or 0
        self._note_server_pid()
        proc = self.proc
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        if not exited(proc.pid, STOP_TIMEOUT):
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGKILL)
            exited(proc.pid, 10)
        # serve has exited but is not reaped yet, so its process group id is still its
        # own: kill the flow-run processes it may have left in its group, then reap it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # Its Prefect server has a session of its own; serve stops it, or we do.
        if self.server_pid is not None and is_prefect_server(self.server_pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.server_pid, signal.SIGKILL)
        self._reader.join(timeout=10)
        self.returncode = proc.returncode
        return proc.returncode


def exited(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for our child ``pid`` to exit, without reaping it."""
    deadline = time.monotonic() + timeout
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def is_prefect_server(pid: int) -> bool:
    """``pid`` is still running and is a ``prefect server start`` (not a reused pid)."""
    if not alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"server" in argv and b"start" in argv


# --- Prefect's REST API ---------------------------------------------------------------


def deployment(api_url: str, name: str) -> dict[str, Any] | None:
    r = httpx.get(f"{api_url}/deployments/name/{name}", timeout=10)
    return r.json() if r.status_code == 200 else None


def flow_runs(api_url: str, deployment_id: str) -> list[dict[str, Any]]:
    """Every run of the deployment that was due by now (not the future ones the
    scheduler already created), oldest first."""
    now = datetime.now().astimezone().isoformat()
    body = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "flow_runs": {"expected_start_time": {"before_": now}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 200,
    }
    r = httpx.post(f"{api_url}/flow_runs/filter", json=body, timeout=10)
    r.raise_for_status()
    return list(r.json())


def run_states(api_url: str, flow_run_id: str) -> list[dict[str, Any]]:
    """A flow run's state history, oldest first."""
    r = httpx.get(f"{api_url}/flow_run_states/", params={"flow_run_id": flow_run_id}, timeout=10)
    r.raise_for_status()
    return sorted(r.json(), key=lambda state: state["timestamp"])


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
