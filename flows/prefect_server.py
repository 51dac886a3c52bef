"""A local Prefect server as a child process, for ``baolaocai serve`` (with its scheduler)
and for one run from the command line (:func:`prefect_api_for_cli`, API only).

Schedules need a real Prefect server with its scheduler; Prefect's ephemeral mode cannot
run them. Without ``PREFECT_API_URL`` we start ``prefect server start`` on 127.0.0.1
with its own ``PREFECT_HOME`` (SQLite) beside the warehouse, wait until it is healthy,
and stop it — with its whole process group — on exit, Ctrl-C or SIGTERM. While it runs,
``server.pid`` in its home holds its process id (its own session and process group), so a
server left behind by a killed ``serve`` can be found and stopped.

The port is chosen when the object is made, before :meth:`LocalPrefectServer.start`:
the caller can put :attr:`LocalPrefectServer.api_url` into ``PREFECT_API_URL`` before
anything imports Prefect (see :mod:`flows.prefect_env`). This module never imports it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from baolaocai.errors import BaoLaoCaiError

HEALTH_TIMEOUT = 120.0


def stop_leftover(pid_file: Path) -> None:
    """Stop a server that a killed (``kill -9``) command left behind in this home, if the
    process named in ``server.pid`` is still a Prefect server."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    if b"prefect" in cmdline and b"server" in cmdline:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    pid_file.unlink(missing_ok=True)


@contextmanager
def prefect_api_for_cli(db_path: str, *, verbose: bool = False) -> Iterator[None]:
    """A Prefect API for one command's run (``crawl``, ``demo``, ``backfill``, ``reparse``).

    Without ``PREFECT_API_URL``, a local API-only server (no scheduler, no UI) in its own
    session, with ``PREFECT_HOME`` in ``.prefect/`` beside the warehouse, stopped when the
    block ends, however it ends. Not Prefect's temporary server: that one runs in our
    process group, so Ctrl-C (SIGINT to the group) killed it first and the run then hung
    some 75 s reporting to an API that was gone, and SIGTERM left it running as an
    orphan. Must run before anything imports Prefect (see :mod:`flows.prefect_env`).
    """
    from flows.prefect_env import prepare_prefect_env

    if os.environ.get("PREFECT_API_URL"):
        prepare_prefect_env(db_path, verbose=verbose)
        yield
        return
    home = Path(db_path).resolve().parent / ".prefect"
    server = LocalPrefectServer(home, services=False)
    os.environ["PREFECT_API_URL"] = server.api_url
    os.environ.setdefault("PREFECT_HOME", str(home))
    # The server lives as long as the command: logs shipped to it at exit would only
    # fail ("Error logging to API") once it is stopped. Run records still reach it.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    prepare_prefect_env(db_path, verbose=verbose)
    try:
        server.start()
        yield
    finally:
        server.stop()
        del os.environ["PREFECT_API_URL"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPrefectServer:
    def __init__(
        self,
        home: Path,
        port: int | None = None,
        log_file: Path | None = None,
        *,
        services: bool = True,
    ) -> None:
        self.home = home
        self.services = services
        """False: only the API (no scheduler, no UI), for one run from the command line."""
        self.port = port or free_port()
        self.log_file = log_file or home / "server.log"
        self.pid_file = home / "server.pid"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalPrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        stop_leftover(self.pid_file)
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_API_HOST="127.0.0.1",
            PREFECT_SERVER_API_PORT=str(self.port),
        )
        prefect = Path(sys.executable).with_name("prefect")
        command = [
            str(prefect) if prefect.exists() else "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *([] if self.services else ["--no-services", "--no-ui"]),
        ]
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.pid_file.write_text(f"{self.process.pid}\n")
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BaoLaoCaiError(
                    f"the Prefect server stopped at start (exit {self.process.returncode});"
                    f" see {self.log_file}"
                )
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise BaoLaoCaiError(f"the Prefect server did not become healthy; see {self.log_file}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is not None:
            self.pid_file.unlink(missing_ok=True)
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass
        self.pid_file.unlink(missing_ok=True)
