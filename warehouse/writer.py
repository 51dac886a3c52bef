"""Who writes a warehouse: one run at a time, for the run's whole life.

DuckDB's own lock cannot say this: a run lets go of the file between its short writes
(so that any reader gets in, :mod:`warehouse.session`), and another process could take
it then and interleave a second run's writes (a second WARC writer, a second
``crawl_runs`` row "running", two plans of the same work). So a run first takes the
**writer lock** of the warehouse: an exclusive ``flock`` on ``.<name>.writer`` next to
the file, held until the run closes. The kernel drops it when the process dies, however
it dies (``kill -9`` included): a lock is never left behind. While held, the file names
its holder (pid, host, run id, kind, since), so a second run can say for whom it waits,
or refuse in one line (:class:`~baolaocai.errors.WarehouseBusyError`) before it reads
anything from the network.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from baolaocai.errors import WarehouseBusyError, WarehouseError

POLL_S = 0.25


def writer_lock_path(db_path: str | Path) -> Path:
    """``warehouse/baolaocai.duckdb`` -> ``warehouse/.baolaocai.duckdb.writer``."""
    path = Path(db_path)
    return path.with_name(f".{path.name}.writer")


@dataclass(frozen=True)
class Holder:
    """The run that holds a warehouse's writer lock, as its lock file names it."""

    pid: int = 0
    host: str = ""
    run_id: str = ""
    kind: str = ""
    since: str = ""

    def describe(self) -> str:
        if not self.pid:
            return "another run"
        what = " ".join(filter(None, (self.kind, "run", self.run_id)))
        where = f"pid {self.pid}"
        if self.host and self.host != socket.gethostname():
            where += f" on {self.host}"
        since = f", since {self.since}" if self.since else ""
        return f"{what} ({where}{since})"


def read_holder(db_path: str | Path) -> Holder | None:
    """Who holds the writer lock of ``db_path`` now (None: nobody)."""
    path = writer_lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_of(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _holder_of(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        return Holder(
            pid=int(data.get("pid", 0)),
            host=str(data.get("host", "")),
            run_id=str(data.get("run_id", "")),
            kind=str(data.get("kind", "")),
            since=str(data.get("since", "")),
        )
    except (OSError, ValueError, TypeError, AttributeError):
        return Holder()  # being written just now, or not ours: still held


class WriterLock:
    """The writer lock of one warehouse for one run (see the module docstring)."""

    def __init__(self, db_path: str | Path, *, run_id: str = "", kind: str = "") -> None:
        self.db_path = Path(db_path)
        self.path = writer_lock_path(db_path)
        self.run_id = run_id
        self.kind = kind
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait_s: float = 0.0, on_wait: Callable[[Holder], None] | None = None) -> None:
        """Take the lock, waiting up to ``wait_s`` seconds for the run that holds it (and
        calling ``on_wait`` once with its holder); :class:`WarehouseBusyError` if it is
        still held then. Taking it twice is a no-op."""
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise WarehouseError(
                f"cannot lock the warehouse {self.db_path} for writing"
                f" ({self.path}): {exc.strerror or exc}"
            ) from None
        deadline = time.monotonic() + max(wait_s, 0.0)
        told = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = _holder_of(self.path)
                    if time.monotonic() >= deadline:
                        waited = f" after waiting {wait_s:g} s" if wait_s > 0 else ""
                        raise WarehouseBusyError(
                            f"the warehouse {self.db_path} is being written by"
                            f" {holder.describe()}{waited}; try again when it has finished"
                            " (or pass --wait)",
                            holder=holder,
                        ) from None
                    if not told and on_wait is not None:
                        on_wait(holder)
                        told = True
                    time.sleep(POLL_S)
            self._write_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _write_holder(self, fd: int) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run_id": self.run_id,
            "kind": self.kind,
            "since": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        }
        data = json.dumps(info).encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, only its label is missing

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        finally:
            os.close(fd)  # drops the flock
