"""A throwaway PostgreSQL cluster on 127.0.0.1: the catalog of a lake and the database of a
Prefect server, for a benchmark, a test or one machine trying the many-workers set-up.

``PostgresCluster(root)`` makes a cluster with ``initdb`` (trust authentication, UTF8,
no fsync) in ``root/data`` and starts it with ``pg_ctl -w``, listening on 127.0.0.1 only
on a free port, its unix socket in ``root``, its log in ``root/postgres.log``. A root that
already holds a cluster is started again as it is (the lake's catalog survives a stop).

Why the detours:

* **root.** ``initdb`` and ``postgres`` refuse to run as root, and CI runs as root: then
  they run as the user ``postgres`` through ``runuser -u postgres --``, and ``root`` is
  handed to that user. That user must reach ``root``; a folder under a private one
  (pytest's ``tmp_path``, anything made by ``mkdtemp``: mode 0700, owned by root) is out
  of its reach, and so is a path too long for a unix socket (107 bytes). The cluster
  then lives in a private folder of its own under ``/tmp``, and ``root/cluster`` links to
  it, so that a later start with the same ``root`` finds it; :meth:`remove` deletes it.
* **never a server left running.** ``pg_ctl`` detaches the server from us: nothing ends
  it with our process. :meth:`stop` (also the end of the ``with`` block, exception or
  not) stops it (``pg_ctl stop -m fast``, and kills the server's processes if that
  fails), and a small watchdog process (``python -m flows.pg_cluster watch``, a session
  of its own) stops it when the process that started it is gone without stopping it:
  killed by SIGTERM (Python's default is to die without running ``finally``), SIGKILL,
  or the last resort of :mod:`baolaocai.interrupts`.

No Python dependency: the cluster is driven through PostgreSQL's own binaries (found
through ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``, else
``PATH``), databases made and queried with ``psql``. Imports no Prefect.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from baolaocai.errors import InputError, ServiceError
from baolaocai.processes import process_alive

POSTGRES_USER = "postgres"
"""The cluster's superuser, and the system user that runs it when we are root."""
INSTALL_HINT = "apt install postgresql"
HOST = "127.0.0.1"
DEBIAN_VERSIONS = Path("/usr/lib/postgresql")
"""Debian's server binaries, one folder per major version, off ``PATH``."""
SERVER_SETTINGS = (
    ("listen_addresses", HOST),
    # Throwaway: a crash may lose the last commits; it is fast on a busy disk.
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    # A Prefect server's pool (up to 15 connections per process) and every worker's
    # lake connections (a catalog session each, and a writer lock's).
    ("max_connections", "300"),
)
START_TIMEOUT_S = 120
"""Seconds ``pg_ctl -w`` waits for the server (a busy 2-core machine is slow)."""
STOP_TIMEOUT_S = 60
COMMAND_TIMEOUT_S = 180.0
START_ATTEMPTS = 3
"""Starts tried on a free port taken meanwhile by another process (ports we chose)."""
SOCKET_PATH_MAX = 107
"""Bytes in a unix socket's path (``sun_path`` holds 108, with the final NUL)."""
WATCH_POLL_S = 0.5
WATCHDOG_MODULE = "flows.pg_cluster"
DB_NAME_MAX = 63
"""Bytes in a PostgreSQL identifier (longer names are cut, silently)."""
_PLAIN = re.compile(r"[A-Za-z0-9_.\-/]+")


def find_bindir() -> Path:
    """The folder of PostgreSQL's server binaries: ``pg_config --bindir`` (it may belong to
    a client-only install: then it is skipped), the newest ``/usr/lib/postgresql/*/bin``
    (Debian's layout, off ``PATH``), or where ``initdb`` is on ``PATH``."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=False
            ).stdout.strip()
            if found:
                candidates.append(Path(found))
    candidates.extend(sorted(DEBIAN_VERSIONS.glob("*/bin"), key=_version_key, reverse=True))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise ServiceError(
        "PostgreSQL is not installed (no initdb, pg_ctl and postgres through pg_config,"
        f" /usr/lib/postgresql or PATH): {INSTALL_HINT}"
    )


def _version_key(bindir: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> (15,): 15 is newer than 9.6."""
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)


def _clean_env() -> dict[str, str]:
    """This environment without libpq's ``PG*`` variables: a user's ``PGHOST`` or
    ``PGDATABASE`` must not redirect a command meant for this cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def _as_user(argv: list[str], as_postgres: bool) -> list[str]:
    return ["runuser", "-u", POSTGRES_USER, "--", *argv] if as_postgres else argv


def _last_line(text: str) -> str:
    """The line of ``text`` that says why: the last FATAL, PANIC or ERROR one (a server
    that failed to start logs "database system is shut down" after it), else the last."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    why = [line for line in lines if re.search(r"\b(FATAL|PANIC|ERROR):", line)]
    return (why or lines or ["(no output)"])[-1]


def postmaster_pid(data_dir: Path) -> int | None:
    """The server's process id from ``postmaster.pid`` (first line), if the file is there."""
    try:
        first = (data_dir / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        return int(first)
    except (OSError, ValueError):
        return None


def _is_postgres(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return process_alive(pid)  # no /proc: trust the pid file
    return b"postgres" in cmdline and process_alive(pid)


def server_processes(pid: int) -> list[int]:
    """The live processes of the server ``pid``: the postmaster and its children (backends,
    checkpointer, writers, launchers). Each child makes a session of its own (PostgreSQL's
    ``setsid``), so they are found by parent, not by process group. Linux (``/proc``)."""
    found = [pid] if process_alive(pid) else []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if not any(process_alive(pid) for pid in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def shut_down(data_dir: Path, bindir: Path, *, as_postgres: bool) -> None:
    """Stop the server of ``data_dir`` if it runs: ``pg_ctl stop -m fast`` (open sessions
    are ended, the server shuts down cleanly); if the server or one of its processes is
    still there, SIGQUIT to the postmaster (immediate shutdown: it ends its children),
    then SIGKILL to each of them (orphaned, a child would linger)."""
    pid = postmaster_pid(data_dir)
    if pid is None or not _is_postgres(pid):
        return
    processes = server_processes(pid)  # before they are orphaned: found by parent
    with suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            _as_user(
                [
                    str(bindir / "pg_ctl"),
                    "stop",
                    "-D",
                    str(data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(STOP_TIMEOUT_S),
                    "-s",
                ],
                as_postgres,
            ),
            cwd=data_dir.parent,
            env=_clean_env(),
            capture_output=True,
            timeout=STOP_TIMEOUT_S + 15,
            check=False,
        )
    if _wait_gone(processes, 5.0):
        return
    with suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGQUIT)
    if _wait_gone(processes, 5.0):
        return
    for each in {*server_processes(pid), *processes}:
        if _is_postgres(each):  # not a process that took a dead one's number meanwhile
            with suppress(ProcessLookupError, PermissionError):
                os.kill(each, signal.SIGKILL)
    _wait_gone(processes, 5.0)


def conninfo_value(value: str) -> str:
    """A value for a libpq conninfo string: bare if plain, else quoted."""
    if _PLAIN.fullmatch(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PostgresCluster:
    """A PostgreSQL cluster of our own under ``root`` (see the module docstring); use it as
    a context manager, or :meth:`start` and :meth:`stop`."""

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        from flows.prefect_server import free_port  # imports no Prefect

        self.root = Path(root).absolute()
        self.port = port or free_port()
        self._port_chosen = port is None
        self.home = self.link.resolve() if self.link.is_symlink() else self.root
        """Where the cluster lives: ``root``, or the private folder ``root/cluster`` links to."""
        self.as_postgres = os.geteuid() == 0
        """We are root: the binaries run as the user ``postgres``."""
        self.bindir: Path | None = None
        self.pid: int | None = None
        """The server's process id while it runs."""
        self._watchdog: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        return self.home

    @property
    def link(self) -> Path:
        return self.root / "cluster"

    @property
    def running(self) -> bool:
        return self.pid is not None and _is_postgres(self.pid)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- start ------------------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        """Make the cluster if ``root`` holds none, start it and wait until it accepts
        connections. One :class:`~baolaocai.errors.ServiceError` line if PostgreSQL is not
        installed or does not start (its log's last line)."""
        self.bindir = find_bindir()
        owner = self._owner()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServiceError(f"cannot make {self.root}: {exc.strerror or exc}") from None
        self.home = self._choose_home(owner)
        running = postmaster_pid(self.data_dir)
        if running is not None and _is_postgres(running):
            raise ServiceError(
                f"a PostgreSQL server (pid {running}) already runs on {self.data_dir};"
                " stop it first"
            )
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb()
        try:
            self._start_server()
            self.pid = postmaster_pid(self.data_dir)
            self._start_watchdog()
        except BaseException:
            # Ctrl-C while pg_ctl waits, or the watchdog not started: the ``with`` block
            # was not entered, so its end will not stop what may be running.
            shut_down(self.data_dir, self.bindir, as_postgres=self.as_postgres)
            self.pid = None
            raise
        return self

    def _start_server(self) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            failure = self._start_once()
            if failure is None:
                return
            tail, why = failure
            taken = "Address already in use" in tail
            if not (taken and self._port_chosen and attempt < START_ATTEMPTS):
                if taken:
                    why = f"port {self.port} of {HOST} is in use ({why})"
                raise ServiceError(f"PostgreSQL did not start: {why} (log: {self.log_file})")
            from flows.prefect_server import free_port

            self.port = free_port()

    def _owner(self) -> tuple[int, int] | None:
        """The uid and gid of the user ``postgres`` when we are root (else None)."""
        if not self.as_postgres:
            return None
        if shutil.which("runuser") is None:
            raise ServiceError(
                "running as root, PostgreSQL must run as the user 'postgres' through"
                " runuser, which is missing (util-linux)"
            )
        try:
            entry = pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise ServiceError(
                "running as root, PostgreSQL must run as the user 'postgres', which does not"
                f" exist ({INSTALL_HINT} makes it)"
            ) from None
        return entry.pw_uid, entry.pw_gid

    def _choose_home(self, owner: tuple[int, int] | None) -> Path:
        if self.link.is_symlink() and self.link.resolve().is_dir():
            return self.link.resolve()  # a cluster made earlier in a private folder
        if owner is not None:
            os.chown(self.root, *owner)
        if self._usable(self.root):
            return self.root
        home = Path(
            tempfile.mkdtemp(prefix="baolaocai-pg-", dir="/tmp" if Path("/tmp").is_dir() else None)
        )
        if owner is not None:
            os.chown(home, *owner)
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(home, target_is_directory=True)
        return home

    def _usable(self, folder: Path) -> bool:
        """Whether the server can live in ``folder``: its socket's path fits, and (as the
        user ``postgres``) it can reach and write the folder."""
        if len(os.fsencode(folder / ".s.PGSQL.65535")) > SOCKET_PATH_MAX:
            return False
        if not self.as_postgres:
            return True
        check = subprocess.run(
            _as_user(["test", "-x", str(folder), "-a", "-w", str(folder)], True),
            cwd="/",
            capture_output=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        return check.returncode == 0

    def _run(
        self, argv: list[str], *, timeout: float = COMMAND_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """A server binary, as the user ``postgres`` when we are root, in the cluster's
        folder (a working directory that user may not enter is a warning on every call)."""
        return subprocess.run(
            _as_user(argv, self.as_postgres),
            cwd=self.home,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _initdb(self) -> None:
        assert self.bindir is not None
        made = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "-U",
                POSTGRES_USER,
            ]
        )
        if made.returncode != 0:
            raise ServiceError(f"initdb failed: {_last_line(made.stderr or made.stdout)}")

    def _start_once(self) -> tuple[str, str] | None:
        """Start the server on :attr:`port`; None, or what it logged in this attempt and
        the line of it that says why it did not start. A server that came up late (``pg_ctl`` gave up waiting) is
        stopped again: a failed start leaves nothing running."""
        assert self.bindir is not None
        options = ["-p", str(self.port), "-k", str(self.socket_dir)]
        for name, value in SERVER_SETTINGS:
            options += ["-c", f"{name}={value}"]
        try:
            logged = self.log_file.stat().st_size
        except OSError:
            logged = 0
        started = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "-s",
                # pg_ctl hands these to a shell: quoted, a path with spaces stays whole.
                "-o",
                " ".join(shlex.quote(option) for option in options),
            ],
            timeout=START_TIMEOUT_S + 30,
        )
        if started.returncode == 0:
            return None
        shut_down(self.data_dir, self.bindir, as_postgres=self.as_postgres)
        try:
            with self.log_file.open("rb") as log:
                log.seek(logged)
                tail = log.read().decode(errors="replace")
        except OSError:
            tail = ""
        tail = tail or started.stderr or started.stdout
        return tail, _last_line(tail)

    def _start_watchdog(self) -> None:
        assert self.bindir is not None
        repo = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (repo, env.get("PYTHONPATH")) if p)
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-m",
                WATCHDOG_MODULE,
                "watch",
                str(os.getpid()),
                str(self.data_dir),
                str(self.bindir),
                "postgres" if self.as_postgres else "self",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # out of reach of a signal to our process group
            cwd="/",
            env=env,
        )

    # -- use --------------------------------------------------------------------------------

    def conninfo(self, db: str) -> str:
        """libpq's connection string for database ``db`` (psycopg, DuckDB's postgres
        extension, a lake spec ``ducklake:postgres:<this>``)."""
        return f"dbname={conninfo_value(db)} host={HOST} port={self.port} user={POSTGRES_USER}"

    def sqlalchemy_url(self, db: str) -> str:
        """A Prefect server's ``PREFECT_API_DATABASE_CONNECTION_URL`` for database ``db``."""
        return f"postgresql+asyncpg://{POSTGRES_USER}@{HOST}:{self.port}/{quote(db, safe='')}"

    def psql(self, db: str, sql: str) -> str:
        """Run ``sql`` in database ``db`` with ``psql``; its rows, one a line, columns
        separated by ``|`` (unaligned, no header). One ServiceError line if it fails."""
        psql = self._client("psql")
        done = subprocess.run(
            [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(db)],
            input=sql,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise ServiceError(f"psql on {db}: {_last_line(done.stderr or done.stdout)}")
        return done.stdout

    def databases(self) -> list[str]:
        return self.psql("postgres", "SELECT datname FROM pg_database ORDER BY 1").splitlines()

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists (two callers at once: both end with it)."""
        if not name or name.startswith("-") or len(name.encode()) > DB_NAME_MAX:
            raise InputError(
                f"database name {name!r}: 1 to {DB_NAME_MAX} bytes, not starting with '-'"
            )
        if name in self.databases():
            return
        made = subprocess.run(
            [
                self._client("createdb"),
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-U",
                POSTGRES_USER,
                name,
            ],
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        if made.returncode != 0 and name not in self.databases():
            raise ServiceError(f"cannot create database {name!r}: {_last_line(made.stderr)}")

    def _client(self, name: str) -> str:
        if self.bindir is not None and (self.bindir / name).is_file():
            return str(self.bindir / name)
        found = shutil.which(name)
        if found is None:
            raise ServiceError(f"PostgreSQL's {name} is not installed: {INSTALL_HINT}")
        return found

    # -- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server (see :func:`shut_down`) and its watchdog; the data stays (a
        later :meth:`start` with the same ``root`` finds it). Safe to call twice."""
        if self.bindir is not None:
            shut_down(self.data_dir, self.bindir, as_postgres=self.as_postgres)
        self.pid = None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            with suppress(ProcessLookupError):
                watchdog.terminate()
            with suppress(subprocess.TimeoutExpired):
                watchdog.wait(timeout=10)

    def remove(self) -> None:
        """Stop the server and delete the cluster's data (and its private folder)."""
        self.stop()
        if self.home != self.root:
            shutil.rmtree(self.home, ignore_errors=True)
            self.link.unlink(missing_ok=True)
        else:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.log_file.unlink(missing_ok=True)


# -- the watchdog ---------------------------------------------------------------------------


def watch(parent: int, data_dir: Path, bindir: Path, *, as_postgres: bool) -> str:
    """Until the server of ``data_dir`` has ended: stop it once ``parent`` (the process
    that started it) is gone. Returns why it ended."""
    while True:
        pid = postmaster_pid(data_dir)
        if pid is None or not _is_postgres(pid):
            return "the server has ended"
        if not process_alive(parent):
            shut_down(data_dir, bindir, as_postgres=as_postgres)
            return f"process {parent} ended without stopping it"
        time.sleep(WATCH_POLL_S)


def main(argv: list[str]) -> int:
    """``python -m flows.pg_cluster watch PARENT_PID DATA_DIR BINDIR postgres|self``."""
    if len(argv) != 5 or argv[0] != "watch":
        print(main.__doc__, file=sys.stderr)
        return 2
    # The process that started us stops us with SIGTERM once it has stopped the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    watch(int(argv[1]), Path(argv[2]), Path(argv[3]), as_postgres=argv[4] == "postgres")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
