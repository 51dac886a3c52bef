"""A local Prefect server as a child process, for ``baolaocai serve`` (with its scheduler)
and for one run from the command line (:func:`prefect_api_for_cli`, API only).

Schedules need a real Prefect server with its scheduler; Prefect's ephemeral mode cannot
run them. Without ``PREFECT_API_URL`` we start ``prefect server start`` on 127.0.0.1
with its own ``PREFECT_HOME`` (SQLite) beside the warehouse, wait until it is healthy,
and stop it — with its whole process group — on exit, Ctrl-C or SIGTERM. While it runs,
``server.pid`` in its home holds its process id (its own session and process group), so a
server left behind by a killed ``serve`` can be found and stopped.

A command's server (:func:`shared_local_server`) is shared by the commands of one folder
and, with ``BAOLAOCAI_PREFECT_IDLE`` above 0, kept after the last one for the next (its
start-up is some 15 s of every cold command): a detached watchdog
(:mod:`flows.prefect_idle`) stops it once it has been idle that long, or its folder is gone.

The port is chosen when the object is made, before :meth:`LocalPrefectServer.start`:
the caller can put :attr:`LocalPrefectServer.api_url` into ``PREFECT_API_URL`` before
anything imports Prefect (see :mod:`flows.prefect_env`). This module never imports it.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from baolaocai import interrupts
from baolaocai.errors import BaoLaoCaiError, WarehouseBusyError
from baolaocai.processes import process_alive
from flows import prefect_template
from warehouse.spec import local_folder

HEALTH_TIMEOUT = 120.0
HEALTH_POLL_S = 0.2
"""How often a starting server is asked whether it is healthy (a run waits for it)."""


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
def prefect_api_for_cli(
    db_path: str,
    *,
    verbose: bool = False,
    idle: float = 0.0,
    say: Callable[[str], None] | None = None,
    abort: Callable[[], None] | None = None,
    preload: str | None = None,
) -> Iterator[None]:
    """A Prefect API for one command's run (``crawl``, ``demo``, ``backfill``, ``reparse``).

    Without ``PREFECT_API_URL``, the local API-only server (no scheduler, no UI) of the
    warehouse's folder, with ``PREFECT_HOME`` in ``.prefect/`` beside the warehouse,
    **shared** by every command running there (:func:`shared_local_server`): the first
    starts it, the others use it, the last one out stops it (with ``idle``, its watchdog
    does, once no command has used it for that long). So a second command never
    stops the server a first one still reports to (it did: the first run then hung for
    minutes printing ``ConnectError`` tracebacks), and only the first pays its start-up.
    Not Prefect's temporary server: that one runs in our process group, so Ctrl-C
    (SIGINT to the group) killed it first and the run then hung some 75 s reporting to
    an API that was gone, and SIGTERM left it running as an orphan. Must run before
    anything imports Prefect (see :mod:`flows.prefect_env`).

    ``idle`` (``BAOLAOCAI_PREFECT_IDLE``): seconds the server stays up after the last
    command, for the next one (0: stopped by the last one). ``say`` is told at once,
    before anything slow, whether a server is started or used (the command's first
    line). ``abort`` is called while the server starts and raises to give up (the site
    check of :mod:`flows.site_check`: an unreachable site fails without waiting for it).
    ``preload`` (a module, e.g. ``flows.crawl``) is imported on a thread of its own as
    soon as the server's address is known, while the server starts: Prefect's import
    (a second or two) no longer comes after the server's start-up.
    """
    from flows.prefect_env import prepare_prefect_env

    if os.environ.get("PREFECT_API_URL"):
        if say is not None:
            say(f"Using the Prefect API at {os.environ['PREFECT_API_URL']}")
        prepare_prefect_env(db_path, verbose=verbose)
        yield
        return
    home = local_folder(db_path) / ".prefect"
    if say is not None:
        running = _registered_server(home)
        kept = f"; kept {idle:g} s after the last command, for the next one" if idle > 0 else ""
        say(
            f"Using the local Prefect API at {running}"
            if running is not None
            else f"Starting the local Prefect API in {home} (about 15 s{kept}) …"
        )
    os.environ.setdefault("PREFECT_HOME", str(home))
    # The server may outlive this command's logs: logs shipped to it at exit would only
    # fail ("Error logging to API") once it is stopped. Run records still reach it.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

    preloading: list[threading.Thread] = []

    def known(api_url: str) -> None:
        # Prefect reads its settings once, at its first import: the environment is
        # final here (the address is this server's, chosen under the home's lock).
        os.environ["PREFECT_API_URL"] = api_url
        prepare_prefect_env(db_path, verbose=verbose)
        if preload is not None:
            # What this thread imports while the preload runs, first: two threads
            # importing one package in opposite orders could deadlock.
            importlib.import_module("httpx")
            thread = threading.Thread(
                target=_preload, args=(preload,), name="baolaocai-preload", daemon=True
            )
            thread.start()
            preloading.append(thread)

    try:
        with shared_local_server(home, idle=idle, abort=abort, on_address=known) as api_url:
            os.environ["PREFECT_API_URL"] = api_url
            yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        # A command that ends early (an unreachable site) must not exit while the
        # preload is inside an extension's C++ import (pyarrow, duckdb): the interpreter
        # then ends that thread by force and the process aborts ("FATAL: exception not
        # rethrown", SIGABRT) instead of exiting with its code. The import takes seconds.
        for thread in preloading:
            thread.join(PRELOAD_JOIN_S)


PRELOAD_JOIN_S = 30.0
"""Seconds a command's end waits for the preload import to finish (it takes 1–3 s)."""


def _preload(module: str) -> None:
    """Import ``module`` ahead of its use; a failure is left to the import that uses it
    (a module that failed to import is not kept: that import tries again and raises)."""
    with suppress(Exception):
        importlib.import_module(module)


SHARED_STATE = "server.json"
CLIENTS = "clients"


@contextmanager
def _home_lock(home: Path) -> Iterator[None]:
    """Exclusive use of ``home``'s shared-server bookkeeping (a ``flock``: the kernel lets
    it go with the process, however it ends)."""
    fd = os.open(home / "server.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def live_clients(home: Path) -> list[int]:
    """Processes using the shared server of ``home``; the marks of dead ones are removed
    (a command killed with ``kill -9`` leaves its mark, not its claim)."""
    folder = home / CLIENTS
    alive = []
    for mark in folder.glob("*"):
        pid = int(mark.name) if mark.name.isdigit() else 0
        if pid and process_alive(pid):
            alive.append(pid)
        else:
            mark.unlink(missing_ok=True)
    return alive


def is_prefect_server(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"prefect" in cmdline and b"server" in cmdline and process_alive(pid)


def _healthy(api_url: str) -> bool:
    import httpx  # not at the top: the idle watchdog imports this module and lives long

    try:
        return httpx.get(f"{api_url}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """Stop the server process group ``pid`` (SIGTERM, then SIGKILL) and wait until it is
    gone: reaped if it is this process's child (a zombie left to an init that does not
    reap would look alive for ever), ended otherwise."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    if _gone(pid, timeout):
        return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _gone(pid, 5.0)


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            reaped, _status = os.waitpid(pid, os.WNOHANG)
            if reaped:
                return True
        except ChildProcessError:  # not our child: another command started it
            if not is_prefect_server(pid):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@contextmanager
def shared_local_server(
    home: Path,
    *,
    idle: float = 0.0,
    abort: Callable[[], None] | None = None,
    on_address: Callable[[str], None] | None = None,
) -> Iterator[str]:
    """The API URL of the API-only Prefect server of ``home``, started if none runs there,
    for the ``with`` block. At its end, with ``idle`` 0, the server is stopped unless
    another live process still uses it; with ``idle`` above 0 it is left to its watchdog
    (:mod:`flows.prefect_idle`, started with it, and again by a later command if it is
    gone), which stops it after ``idle`` seconds without a command. ``on_address`` is
    told the API URL as soon as it is known: before a server started here is healthy.

    Bookkeeping under ``home`` (all changes under :func:`_home_lock`): ``server.json``
    (the server's pid and port, its watchdog's pid), ``clients/<pid>`` (one mark per
    command using it).

    Every way out stops a server nobody else uses: an interrupt while the server starts
    (it runs in a session of its own, out of reach of Ctrl-C: it was left running), and
    the last resort of :mod:`baolaocai.interrupts` (a command that does not end after a
    stop signal leaves by ``os._exit``, which runs no ``finally``)."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        (home / CLIENTS).mkdir(exist_ok=True)
    except OSError as exc:
        raise BaoLaoCaiError(f"cannot use the Prefect home {home}: {exc.strerror or exc}") from None
    mark = home / CLIENTS / str(os.getpid())
    locked = {"here": False}
    """Whether this process holds the home lock now (the last resort cannot wait for it)."""

    def abandon() -> None:
        _abandon(home, mark, locked_here=locked["here"], idle=idle)

    interrupts.at_last_resort(abandon)
    try:
        with _home_lock(home):
            locked["here"] = True
            started = None
            try:
                api_url = _running_server(home)
                if api_url is None:
                    started = LocalPrefectServer(home, services=False)
                    if on_address is not None:
                        on_address(started.api_url)
                    started.start(abort)  # stops a server left behind in server.pid first
                    assert started.process is not None
                    _write_state(home, started.process.pid, started.port)
                    api_url = started.api_url
                elif on_address is not None:
                    on_address(api_url)
                if idle > 0:
                    _ensure_watchdog(home, idle)
                mark.write_text(f"{os.getpid()}\n")
            except BaseException:
                mark.unlink(missing_ok=True)
                if started is not None and not live_clients(home):
                    started.stop(timeout=5.0)
                    (home / SHARED_STATE).unlink(missing_ok=True)
                raise
            finally:
                locked["here"] = False
        try:
            yield api_url
        finally:
            with _home_lock(home):
                locked["here"] = True
                try:
                    mark.unlink(missing_ok=True)
                    if not live_clients(home) and (idle <= 0 or not _watched(home)):
                        _stop_shared(home)
                finally:
                    locked["here"] = False
    finally:
        interrupts.forget(abandon)


def _abandon(home: Path, mark: Path, *, locked_here: bool, idle: float = 0.0) -> None:
    """The last resort's cleanup (see :func:`shared_local_server`): this process's mark
    goes and, if no other live command uses it, the server is stopped (a few seconds at
    most). The home lock is not waited for: taken by another process, that one looks
    after the server (it sees this mark is dead); taken by this one (stopped while it
    starts or stops the server), this process goes on as if it held it."""
    fd = os.open(home / "server.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + 1.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if locked_here:
                    break
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.05)
        mark.unlink(missing_ok=True)
        if live_clients(home) or (idle > 0 and _watched(home)):
            return
        pids = set()
        with suppress(OSError, ValueError, KeyError, TypeError):
            pids.add(int(json.loads((home / SHARED_STATE).read_text())["pid"]))
        with suppress(OSError, ValueError):
            pids.add(int((home / "server.pid").read_text().strip()))
        for pid in pids:
            if is_prefect_server(pid):
                stop_pid(pid, timeout=2.0)
        (home / SHARED_STATE).unlink(missing_ok=True)
        (home / "server.pid").unlink(missing_ok=True)
    finally:
        os.close(fd)


def _running_server(home: Path) -> str | None:
    """The API URL of the shared server of ``home`` if it runs and answers."""
    try:
        state = json.loads((home / SHARED_STATE).read_text())
        pid, port = int(state["pid"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    api_url = f"http://127.0.0.1:{port}/api"
    if is_prefect_server(pid) and _healthy(api_url):
        return api_url
    return None


def _registered_server(home: Path) -> str | None:
    """The API URL ``server.json`` of ``home`` names if its process is a live Prefect
    server (no request to it: this only chooses the first line a command prints)."""
    try:
        state = json.loads((home / SHARED_STATE).read_text())
        pid, port = int(state["pid"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return f"http://127.0.0.1:{port}/api" if is_prefect_server(pid) else None


def _read_state(home: Path) -> dict[str, int]:
    try:
        state = json.loads((home / SHARED_STATE).read_text())
        return {k: int(v) for k, v in state.items() if k in ("pid", "port", "watchdog")}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_state(home: Path, pid: int, port: int, watchdog: int | None = None) -> None:
    tmp = home / f".{SHARED_STATE}.{os.getpid()}"
    state = {"pid": pid, "port": port}
    if watchdog is not None:
        state["watchdog"] = watchdog
    tmp.write_text(json.dumps(state))
    os.replace(tmp, home / SHARED_STATE)


WATCHDOG_MODULE = "flows.prefect_idle"


def is_watchdog(pid: int) -> bool:
    """Whether ``pid`` is a live idle watchdog (:mod:`flows.prefect_idle`)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return WATCHDOG_MODULE.encode() in cmdline and process_alive(pid)


def _watched(home: Path) -> bool:
    """Whether the server of ``home`` has a live watchdog to stop it when idle."""
    watchdog = _read_state(home).get("watchdog")
    return watchdog is not None and is_watchdog(watchdog)


def _ensure_watchdog(home: Path, idle: float) -> None:
    """Start the watchdog of the server of ``home`` unless one watches it (under the
    home's lock). Detached: a session of its own, no terminal, outliving this command;
    a server left without one (its watchdog killed) gets one from the next command."""
    state = _read_state(home)
    if "pid" not in state or "port" not in state or _watched(home):
        return
    process = subprocess.Popen(
        [sys.executable, "-m", WATCHDOG_MODULE, str(home), str(state["pid"]), f"{idle:g}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd="/",  # holds no folder of the user's (it may be deleted: the watchdog sees that)
    )
    _write_state(home, state["pid"], state["port"], process.pid)


def _stop_shared(home: Path) -> None:
    try:
        pid = int(json.loads((home / SHARED_STATE).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        pid = 0
    if pid and is_prefect_server(pid):
        stop_pid(pid)
    (home / SHARED_STATE).unlink(missing_ok=True)
    (home / "server.pid").unlink(missing_ok=True)


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
        database_url: str | None = None,
    ) -> None:
        self.home = home
        self.services = services
        """False: only the API (no scheduler, no UI), for one run from the command line."""
        self.database_url = database_url
        """The server's database (``PREFECT_API_DATABASE_CONNECTION_URL``, e.g.
        ``postgresql+asyncpg://postgres@127.0.0.1:PORT/prefect`` for many workers, see
        :mod:`flows.pg_cluster`); None: SQLite in its home."""
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

    def start(self, abort: Callable[[], None] | None = None) -> LocalPrefectServer:
        """Start the server and wait until it is healthy; ``abort`` is called while it
        waits, and what it raises stops the server and goes on."""
        self.home.mkdir(parents=True, exist_ok=True)
        stop_leftover(self.pid_file)
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_API_HOST="127.0.0.1",
            PREFECT_SERVER_API_PORT=str(self.port),
        )
        if self.database_url is not None:
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database_url
        built_here = (
            not prefect_template.seed_home(self.home, env)
            and not (self.home / prefect_template.DATABASE).exists()
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
        # Whole or absent (a temporary file renamed over it): a reader that found it
        # empty, half written, took it for no server and left the server running.
        tmp = self.pid_file.with_name(f".{self.pid_file.name}.{os.getpid()}")
        tmp.write_text(f"{self.process.pid}\n")
        os.replace(tmp, self.pid_file)
        try:
            self._wait_healthy(abort)
        except BaseException:  # Ctrl-C while it starts: it is out of reach of Ctrl-C
            self.stop(timeout=5.0)
            raise
        if built_here and not self.services:  # used by nobody yet: what a new home needs
            prefect_template.keep_template(self.home, env)
        return self

    def _wait_healthy(self, abort: Callable[[], None] | None = None) -> None:
        import httpx

        deadline = time.monotonic() + HEALTH_TIMEOUT
        while time.monotonic() < deadline:
            if abort is not None:
                abort()
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
            time.sleep(HEALTH_POLL_S)
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


def claim_exclusive(path: Path, what: str) -> int:
    """An exclusive ``flock`` on ``path`` for this process's life (the returned descriptor;
    closing it lets go), naming this process in the file; one line
    (:class:`~baolaocai.errors.WarehouseBusyError`) naming the holder if another has it.
    ``serve`` takes one per warehouse and one per Prefect home: two ``serve`` on one
    warehouse would both run its schedule, and in one folder the second one's start
    stopped the first one's Prefect server."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BaoLaoCaiError(f"cannot lock {path}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        finally:
            os.close(fd)
        raise WarehouseBusyError(
            f"{what} is already served by another 'baolaocai serve' (pid {holder});"
            f" stop that one first (Ctrl-C, or kill {holder})"
        ) from None
    with suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
