"""The watchdog of a local Prefect API server kept between commands.

``python -m flows.prefect_idle HOME SERVER_PID IDLE_S``, started (detached: a session of
its own, no terminal) by the command that starts the server of ``HOME`` when
``BAOLAOCAI_PREFECT_IDLE`` is above 0 (:func:`flows.prefect_server.shared_local_server`).
The commands come and go; the server must not outlive its use, and nothing of a command
exists after it ends, so this small process does the stopping. It stops the server

* when no command has used it (``HOME/clients/<pid>`` marks of live processes) for
  ``IDLE_S`` seconds, under the home's lock so that no command registers meanwhile;
* at once when ``HOME`` is gone (a deleted test folder: a server must not run on in a
  folder nobody can see) or no longer names this server (``server.json``);

and ends when the server has ended (stopped by a command with an idle time of 0, or
crashed). It imports no Prefect and no HTTP client: it is small and lives long.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path

from flows.prefect_server import (
    SHARED_STATE,
    is_prefect_server,
    live_clients,
    stop_pid,
)


def registered_pid(home: Path) -> int | None:
    """The server pid ``server.json`` of ``home`` names, if any."""
    try:
        return int(json.loads((home / SHARED_STATE).read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def poll_interval(idle: float) -> float:
    """How often to look: a tenth of the idle time, from 0.2 s to 5 s."""
    return min(5.0, max(0.2, idle / 10))


def watch(home: Path, pid: int, idle: float) -> str:
    """Watch the server ``pid`` of ``home`` until it is stopped or ends; returns why."""
    last_used = time.monotonic()
    while True:
        if not is_prefect_server(pid):
            return "the server has ended"
        if not home.is_dir() or registered_pid(home) != pid:
            stop_pid(pid)
            return "its folder is gone" if not home.is_dir() else "no longer registered"
        if live_clients(home):
            last_used = time.monotonic()
        elif time.monotonic() - last_used >= idle and _stop_if_unused(home, pid):
            return f"no command for {idle:g} s"
        time.sleep(poll_interval(idle))


def _stop_if_unused(home: Path, pid: int) -> bool:
    """Stop the server if no command uses it, holding the home's lock (a command that
    holds it is registering or starting: look again later). Whether it was stopped."""
    try:
        fd = os.open(home / "server.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if live_clients(home) or registered_pid(home) != pid:
            return False
        stop_pid(pid)
        (home / SHARED_STATE).unlink(missing_ok=True)
        (home / "server.pid").unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    home, pid, idle = Path(argv[0]), int(argv[1]), float(argv[2])
    watch(home, pid, idle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
