"""DuckDB: the one module that opens the warehouse file and migrates it.

DuckDB allows one writing process per file; a locked file is retried for a bounded time,
then reported as :class:`~baolaocai.errors.WarehouseLockedError`.

A run keeps **one** write connection for its batches (:func:`open_held`; the run's
:class:`warehouse.session.WarehouseSession` owns it and says when it lets readers in).
Closing a DuckDB file checkpoints it, and a checkpoint rewrites the last row group of
every table that has an index: with DuckDB's 122,880-row groups, a connection per batch
rewrote the whole archive at every batch (42 GB written for 10,000 articles). The held
connection attaches the file with row groups of :data:`WRITE_ROW_GROUP_SIZE` rows, so what
a checkpoint rewrites stays small however large the archive grows. The run's steps work
on cursors of it (:func:`held_cursor`); DuckDB refuses to open the file a second time in
the process meanwhile, which :func:`connect` reports as one line.

Any other failure to open the file is one :class:`~baolaocai.errors.WarehouseError`
line. A warehouse written by a newer baolaocai (a schema version above our newest
migration) is refused for writing; it can still be read. Connections that run a user's
SQL read-only are sandboxed (:func:`lock_down`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from baolaocai.errors import WarehouseError, WarehouseLockedError
from baolaocai.settings import QUERY_MEMORY_DEFAULT, memory_bytes
from warehouse.lake import LakeSpec, is_lake, migrate_lake
from warehouse.lake import attach as attach_lake
from warehouse.lake import data_dir as lake_data_dir

log = logging.getLogger(__name__)


def _no_pandas_lookups() -> None:
    """DuckDB's Python client tries ``import pandas`` twice for every statement with
    parameters. Without pandas installed, each try searched ``sys.path`` again (a failed
    import is not remembered): 60 % of the loader's time. Remembering the absence
    (``sys.modules["pandas"] = None``, what Python itself uses for "not importable")
    makes the try instant. Done only when pandas is really absent."""
    if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
        sys.modules["pandas"] = None  # type: ignore[assignment]


_no_pandas_lookups()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_RE = re.compile(r"^(\d{3})_[\w-]+\.sql$")
DEFAULT_LOCK_TIMEOUT = 30.0
SITE_TIME_ZONE = "Asia/Ho_Chi_Minh"
WRITE_ROW_GROUP_SIZE = 2048
"""Rows per row group written by a held connection (DuckDB's default: 122,880)."""
WRITE_MEMORY_LIMIT = "256MB"
"""DuckDB's memory for a run's held connection (its default, 80 % of the machine's memory,
let a run's process grow with the archive as blocks were cached); more spills to disk."""
READ_MEMORY_LIMIT = "256MB"
"""DuckDB's memory for a read-only connection (``export``, ``status``, …), the same cap as
a run's. DuckDB keeps every block of the file it reads cached up to its limit, by default
80 % of the machine's memory, so a read command's process grew with the archive (an
export: 231 MiB at 5,000 articles, 572 MiB at 20,000); capped, it stops growing at the
cap. A query needing more spills to DuckDB's temporary folder, as a run's does."""
HELD_CATALOG = "warehouse"


def open_held(
    path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, migrate: bool = True
) -> duckdb.DuckDBPyConnection:
    """The warehouse opened for a run's writes (created or migrated, unless ``migrate`` is
    False: the run did it at its first write and holds the writer lock since), attached
    with small row groups (see the module docstring); the caller closes it."""
    return connect(path, lock_timeout=lock_timeout, _attach=True, _migrate=migrate)


def held_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of a connection from :func:`open_held`, set up like a connection of its
    own (a cursor starts in the in-memory catalog and the default time zone)."""
    cursor = con.cursor()
    try:
        cursor.execute(f"USE {HELD_CATALOG}")
        cursor.execute(f"SET TimeZone = '{SITE_TIME_ZONE}'")
    except BaseException:
        cursor.close()
        raise
    return cursor


def checkpoint(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Write the log of a connection from :func:`open_held` into the file (at the end of a
    run; its closes do not)."""
    if is_lake(path):
        return  # every commit of a lake is whole in its catalog: there is no log to write
    try:
        con.execute(f"CHECKPOINT {HELD_CATALOG}")
    except duckdb.Error as exc:
        text = str(exc)
        reason = text.rsplit(": ", 1)[-1].strip() if "Original error" in text else None
        raise WarehouseError(
            f"cannot write the warehouse {path} in full: {reason or _first_line(exc)};"
            f" every committed write is kept in its log ({Path(path).name}.wal) and goes"
            " into the file at the next run with room"
        ) from None


def close_held(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Close a connection from :func:`open_held` (no checkpoint: see :func:`checkpoint`)."""
    try:
        con.close()
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot close the warehouse {path}: {_first_line(exc)}") from None


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    sandbox: bool = False,
    memory_limit: str | None = None,
    extensions: tuple[str, ...] = (),
    _attach: bool = False,
    _migrate: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to ``lock_timeout`` s for another writer to finish.

    While a run of this process holds the file (:func:`open_held`), refused with one line:
    a step of the run works on the run's own connection, everyone else after the run.

    Every failure to open the file (missing, a folder, not a DuckDB file, unreadable,
    written by a newer baolaocai …) is one :class:`WarehouseError` line. A write
    connection is migrated to the newest schema first, and refused for a warehouse whose
    schema is newer than this code knows (see :func:`check_schema`).

    The ICU extension (time zones) is always loaded, then ``extensions`` (e.g. ``fts``),
    all from their pip packages. ``sandbox=True`` (read-only connections only) then locks
    the connection down with :func:`lock_down`: no files, no network, no other
    databases, no extension installs, and no ``SET`` that could undo it; DuckDB may use
    ``memory_limit`` of memory (an amount such as ``"1GB"``, default
    :data:`~baolaocai.settings.QUERY_MEMORY_DEFAULT`) and no disk for the queries.
    """
    if sandbox and not read_only:
        raise ValueError("only a read-only connection can be sandboxed")
    if memory_limit is not None and not sandbox:
        raise ValueError("only a sandboxed connection takes a memory_limit")
    if is_lake(path):
        return _connect_lake(
            str(path),
            read_only=read_only,
            sandbox=sandbox,
            memory_limit=memory_limit,
            extensions=extensions,
            migrate=_migrate,
        )
    path = Path(path)
    try:
        if read_only and not path.exists():
            raise WarehouseError(
                f"no warehouse at {path}: run 'baolaocai crawl' or 'baolaocai demo' first"
            )
        if path.exists() and not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            raise WarehouseError(f"cannot open the warehouse {path}: it is {kind}")
        if not read_only and _migrate:
            check_companions(path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot open the warehouse {path}: {_os_reason(exc)}") from None
    con = _open(
        path,
        read_only=read_only,
        lock_timeout=lock_timeout,
        config=SANDBOX if sandbox else {},
        attach=_attach,
    )
    try:
        row = con.execute("SELECT current_setting('lock_configuration')").fetchone()
        if row and row[0]:
            raise WarehouseError(
                f"the warehouse {path} is already open in this process through a sandboxed"
                " connection; close that connection first"
            )
        load_bundled_extension(con, "icu")
        for name in extensions:
            load_bundled_extension(con, name)
        con.execute(f"SET TimeZone = '{SITE_TIME_ZONE}'")
        if not read_only and _migrate:
            check_schema(con, path)
            migrate(con)
        if sandbox:
            lock_down(con, memory_limit=memory_limit or QUERY_MEMORY_DEFAULT)
        elif read_only:
            con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
    except BaseException as exc:
        con.close()
        if isinstance(exc, duckdb.Error | OSError):
            raise WarehouseError(f"cannot open the warehouse {path}: {_first_line(exc)}") from None
        raise
    return con


def _connect_lake(
    spec: str,
    *,
    read_only: bool,
    sandbox: bool,
    memory_limit: str | None,
    extensions: tuple[str, ...],
    migrate: bool,
) -> duckdb.DuckDBPyConnection:
    """:func:`connect` for a lake (:mod:`warehouse.lake`): an in-memory DuckDB with the
    lake attached as ``warehouse`` and in use, so that every statement reads as on a file.
    Many processes may hold such connections at once, writers too: there is no lock to
    wait for. A write connection brings the lake to the newest schema first."""
    lake = LakeSpec.parse(spec)
    config: dict[str, str | bool | int | float | list[str]] = dict(SANDBOX) if sandbox else {}
    con = duckdb.connect(":memory:", config=config)
    try:
        load_bundled_extension(con, "icu")
        for name in extensions:
            load_bundled_extension(con, name)
        con.execute(f"SET TimeZone = '{SITE_TIME_ZONE}'")
        attach_lake(con, lake, read_only=read_only)
        if not read_only and migrate:
            migrate_lake(con, lake)
        if sandbox:
            readable = (str(lake_data_dir(con)),)
            lock_down(con, memory_limit=memory_limit or QUERY_MEMORY_DEFAULT, readable=readable)
        else:
            limit = READ_MEMORY_LIMIT if read_only else WRITE_MEMORY_LIMIT
            con.execute(f"SET memory_limit = '{limit}'")
    except BaseException as exc:
        con.close()
        if isinstance(exc, duckdb.Error | OSError):
            reason = re.sub(r"password\s*=\s*\S+", "password=…", _first_line(exc))
            raise WarehouseError(f"cannot open the lake {lake.shown}: {reason}") from None
        raise
    return con


def _open(
    path: Path,
    *,
    read_only: bool,
    lock_timeout: float,
    config: dict[str, str],
    attach: bool = False,
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    with _waiting(path) as waiting:
        while True:
            opened = _try_open(path, read_only, lock_timeout, config, attach, deadline)
            if opened is not None:
                return opened
            waiting()
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


WAIT_MARK = ".{name}.waiting.{pid}"
"""A file a process leaves next to the warehouse while it waits for the lock, so that a
run holding the file lets it in at its next batch (:func:`readers_waiting`)."""


@contextmanager
def _waiting(path: Path) -> Iterator[Callable[[], None]]:
    """``waiting()`` leaves this process's mark (once); it is removed on the way out."""
    mark = path.with_name(WAIT_MARK.format(name=path.name, pid=os.getpid()))
    left: list[Path] = []

    def leave() -> None:
        if not left:
            try:
                mark.touch()
                left.append(mark)
            except OSError:
                left.append(Path())  # a read-only folder: wait without a mark

    try:
        yield leave
    finally:
        if left and left[0] == mark:
            mark.unlink(missing_ok=True)


def readers_waiting(path: str | Path, *, max_age_s: float = 120.0) -> bool:
    """Whether another live process waits for the lock of ``path`` (its mark is there).
    Never on a lake: its readers read a snapshot while writers commit."""
    if is_lake(path):
        return False
    path = Path(path)
    prefix = WAIT_MARK.format(name=path.name, pid="")
    try:
        names = [n for n in os.listdir(path.parent or ".") if n.startswith(prefix)]
    except OSError:
        return False
    now = time.time()
    for name in names:
        pid = name[len(prefix) :]
        try:
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            os.kill(int(pid), 0)
            if now - (path.parent / name).stat().st_mtime < max_age_s:
                return True
        except ProcessLookupError:
            (path.parent / name).unlink(missing_ok=True)  # left by a dead process
        except OSError:
            continue
    return False


def _try_open(
    path: Path,
    read_only: bool,
    lock_timeout: float,
    config: dict[str, str],
    attach: bool,
    deadline: float,
) -> duckdb.DuckDBPyConnection | None:
    """The connection, or None when the file is locked and the deadline not passed."""
    try:
        if attach:
            return _attached(path)
        settings: dict[str, str | bool | int | float | list[str]] = dict(config)
        return duckdb.connect(str(path), read_only=read_only, config=settings)
    except duckdb.Error as exc:
        if "unique file handle conflict" in str(exc).lower():
            raise WarehouseError(
                f"the warehouse {path} is already open in this process (a run writing it);"
                " query it when the run has finished"
            ) from None
        if "different configuration" in str(exc):
            raise WarehouseError(
                f"the warehouse {path} is already open in this process with other"
                " settings (read-only or not, sandboxed or not); close it first"
            ) from None
        if not _is_lock_error(exc):
            raise WarehouseError(f"cannot open the warehouse {path}: {_first_line(exc)}") from None
        if time.monotonic() >= deadline:
            raise WarehouseLockedError(
                f"the warehouse {path} is locked by another process (a crawl?) "
                f"for more than {lock_timeout:.0f}s; try again when it has finished"
            ) from None
    except OSError as exc:
        raise WarehouseError(f"cannot open the warehouse {path}: {_os_reason(exc)}") from None
    return None


def _attached(path: Path) -> duckdb.DuckDBPyConnection:
    """The file attached for writing with small row groups (see the module docstring)."""
    con = duckdb.connect(":memory:")
    try:
        literal = str(path).replace("'", "''")
        con.execute(f"ATTACH '{literal}' AS {HELD_CATALOG} (ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE})")
        con.execute(f"USE {HELD_CATALOG}")
        con.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")
        # A run opens the file for each write and closes it at once (readers get in
        # between: :mod:`warehouse.session`). A checkpoint at every close took longer
        # than the write itself; the write-ahead log keeps the writes instead (DuckDB
        # checkpoints it itself past 16 MB, read-only connections replay it) and the
        # run checkpoints once when it ends (:func:`checkpoint`). Every open replays the
        # log (some 25 ms per MB); a lower threshold than DuckDB's 16 MB made the
        # checkpoints cost more than the replays saved (measured: 1,000 articles, 46
        # writes held the file 8.5 s at 2 MB, 5.9 s at 16 MB).
        con.execute("PRAGMA disable_checkpoint_on_shutdown")
    except BaseException:
        con.close()
        raise
    return con


COMPANION_FOLDERS = ("{stem}.warc", "{stem}.search", ".prefect", ".prefect-server")
"""Folders a warehouse ``<dir>/<stem>.duckdb`` keeps beside it: its web archive, its search
index, the Prefect homes of its commands and of ``serve``."""
COMPANION_FILES = ("{name}.wal", ".{name}.writer")
"""Files beside it: DuckDB's write-ahead log, the writer lock (:mod:`warehouse.writer`)."""


def check_companions(path: str | Path) -> None:
    """One :class:`WarehouseError` line when the warehouse's path collides with the names
    of what it keeps beside it: ``--db x.warc`` (its own archive folder would be the
    file itself), ``--db warehouse/.prefect``, or a file where a folder is needed."""
    if is_lake(path):
        return  # a lake keeps its archive and index under its data path
    path = Path(path)
    names = {"stem": path.stem, "name": path.name}
    for pattern in COMPANION_FOLDERS:
        companion = path.with_name(pattern.format(**names))
        if companion == path:
            raise WarehouseError(
                f"cannot use {path} as a warehouse: that name is kept for its"
                f" {_companion_role(pattern)}; choose another name (e.g. {path.stem}.duckdb)"
            )
        if companion.exists() and not companion.is_dir():
            raise WarehouseError(
                f"cannot use the warehouse {path}: {companion} must be a folder (its"
                f" {_companion_role(pattern)}) but is a file; move that file away"
            )
    for pattern in COMPANION_FILES:
        companion = path.with_name(pattern.format(**names))
        if companion.is_dir():
            raise WarehouseError(
                f"cannot use the warehouse {path}: {companion} is a folder where its"
                f" {_companion_role(pattern)} must be a file; move that folder away"
            )


def _companion_role(pattern: str) -> str:
    return {
        "{stem}.warc": "web archive folder",
        "{stem}.search": "search index folder",
        ".prefect": "Prefect home folder",
        ".prefect-server": "'serve' Prefect home folder",
        "{name}.wal": "DuckDB write-ahead log",
        ".{name}.writer": "writer lock",
    }[pattern]


def check_warehouse(path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
    """Open the warehouse for writing (creating or migrating it) and close it again.

    The CLI calls this before a flow starts, so that a warehouse that cannot be used is
    one error line, not a failed Prefect task with its traceback in the run log.
    """
    connect(path, lock_timeout=lock_timeout).close()
    check_writable_companions(path)


def check_writable_companions(path: str | Path) -> None:
    """One :class:`WarehouseError` line when a run could not write the web archive or
    the search index beside the warehouse (a read-only mount, a folder of another user):
    said before a run starts, not after it fetched a batch it cannot keep."""
    if is_lake(path):
        return
    path = Path(path)
    names = {"stem": path.stem, "name": path.name}
    for pattern in ("{stem}.warc", "{stem}.search"):
        folder = path.with_name(pattern.format(**names))
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            why = "read-only file system" if _read_only_mount(folder) else "permission denied"
            raise WarehouseError(f"cannot write the {_companion_role(pattern)} {folder}: {why}")


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


SANDBOX = {"custom_user_agent": "baolaocai-sandbox"}
"""Connection config that marks a sandboxed connection. DuckDB shares one database
instance, and its settings, between the connections a process opens to a file with
the same config; a config of its own keeps a sandboxed connection from locking down
(or being opened onto) the instance that other connections of this process use."""

LOCK_DOWN = (
    # A read-only connection still spills what does not fit in memory_limit to a temp
    # folder next to the warehouse (``<file>.tmp``), up to max_temp_directory_size:
    # by default 90 % of the free disk. A sandboxed query gets no temp folder at all, so
    # memory_limit is the whole of what it can take, and it writes nothing anywhere
    # (DuckDB refuses to change temp_directory once external access is off: first).
    "SET temp_directory = ''",
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",
)
"""DuckDB settings of a sandboxed connection, in this order (the last one freezes them)."""


def lock_down(
    con: duckdb.DuckDBPyConnection,
    *,
    memory_limit: str = QUERY_MEMORY_DEFAULT,
    readable: tuple[str, ...] = (),
) -> None:
    """Make a read-only connection safe for arbitrary SQL.

    DuckDB may use ``memory_limit`` (``"1GB"``, ``"512MiB"``: see
    :func:`~baolaocai.settings.memory_bytes`) for a query, and no temp folder: a query
    that needs more fails with :class:`duckdb.OutOfMemoryException` instead of filling
    the memory or the disk.

    ``enable_external_access = false`` forbids reading or writing any file but the
    warehouse (``read_text``, ``glob``, ``read_csv``, ``COPY … TO``, ``EXPORT DATABASE``),
    ``ATTACH`` of other databases, HTTP, loading extensions and Python replacement scans;
    extensions are neither installed nor auto-loaded; ``lock_configuration`` then refuses
    every later ``SET``/``RESET``/``PRAGMA`` that would change a setting. Extensions the
    caller needs (ICU, fts) must be loaded before. These are settings of the database
    instance: they last until its last connection is closed, which is why
    :func:`connect` gives a sandboxed connection an instance of its own (:data:`SANDBOX`).

    ``readable``: folders the connection still reaches (DuckDB's ``allowed_directories``):
    a lake's data path, whose Parquet files are its tables. DuckDB cannot allow a folder
    for reading only, so a query could also write files there; whoever runs ``sql`` on a
    lake may write the lake anyway (a crawl does).
    """
    amount = memory_bytes(memory_limit)
    if amount is None:
        raise ValueError(f"not an amount of memory: {memory_limit!r}")
    con.execute(f"SET memory_limit = '{amount}B'")
    if readable:
        folders = ", ".join("'" + f.rstrip("/").replace("'", "''") + "/'" for f in readable)
        con.execute(f"SET allowed_directories = [{folders}]")
    for statement in LOCK_DOWN:
        con.execute(statement)


def load_bundled_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension shipped as the pip package ``duckdb-extension-<name>``.

    Offline machines cannot download extensions; the pip package carries the binary for
    exactly our duckdb version (both are pinned together in pyproject.toml).
    """
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise WarehouseError(
            f"the DuckDB extension package duckdb-extension-{name} is missing"
        ) from None
    folder = Path(package.__file__ or "").parent / "extensions" / f"v{duckdb.__version__}"
    binary = folder / f"{name}.duckdb_extension"
    if not binary.exists():
        raise WarehouseError(
            f"duckdb-extension-{name} does not match duckdb {duckdb.__version__} (no {binary})"
        )
    try:
        con.load_extension(str(binary))
    except duckdb.Error as exc:
        raise WarehouseError(
            f"cannot load the DuckDB {name} extension: {_first_line(exc)}"
        ) from None


@contextmanager
def write_connection(
    path: str | Path,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, lock_timeout=lock_timeout)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit on success, roll back on any exception."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def migrations() -> list[tuple[int, str, str]]:
    found = []
    for file in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_RE.match(file.name)
        if match:
            found.append((int(match.group(1)), file.stem, file.read_text(encoding="utf-8")))
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def known_version() -> int:
    """The newest schema version this code can migrate to."""
    found = migrations()
    return found[-1][0] if found else 0


def check_is_warehouse(con: duckdb.DuckDBPyConnection, path: str | Path | None = None) -> None:
    """:class:`WarehouseError` for a DuckDB file that is not a warehouse: no
    ``schema_version`` (every warehouse has it from its first migration) but tables or
    views of its own. Migrating it would add ours beside them (a user's file given to
    ``--db`` by mistake); an empty file is a new warehouse."""
    found = con.execute(
        "SELECT name FROM (SELECT table_name AS name FROM duckdb_tables()"
        "  WHERE database_name = current_database() UNION ALL"
        "  SELECT view_name FROM duckdb_views()"
        "  WHERE database_name = current_database() AND NOT internal) ORDER BY name"
    ).fetchall()
    names = [str(name) for (name,) in found]
    if not names or "schema_version" in names:
        return
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    if path is None:
        row = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
        path = row[0] if row and row[0] else None
    where = f"{path}" if path is not None else "the file"
    raise WarehouseError(
        f"{where} is a DuckDB file but not a baolaocai warehouse (it holds {shown});"
        " give another --db"
    )


def check_schema(con: duckdb.DuckDBPyConnection, path: str | Path | None = None) -> int:
    """The warehouse's schema version; :class:`WarehouseError` if it is newer than this
    code knows (a newer baolaocai wrote it: writing to it could corrupt it)."""
    current, known = schema_version(con), known_version()
    if current > known:
        where = f"the warehouse {path}" if path is not None else "the warehouse"
        raise WarehouseError(
            f"{where} has schema version {current}, newer than this baolaocai knows"
            f" ({known}); upgrade baolaocai"
        )
    return current


SITES_VERSION = 6
"""The schema version from which every table has its ``site`` column (006_sites)."""


def require_sites(con: duckdb.DuckDBPyConnection, path: str | Path | None = None) -> None:
    """:class:`WarehouseError` for a warehouse older than :data:`SITES_VERSION` opened
    read-only (it cannot be migrated then): one line saying how to upgrade it."""
    check_is_warehouse(con, path)
    current = schema_version(con)
    if current < SITES_VERSION:
        where = f"the warehouse {path}" if path is not None else "the warehouse"
        raise WarehouseError(
            f"{where} has schema version {current}, made before a warehouse held several"
            " sites; run 'baolaocai reindex' (or any crawl) once to upgrade it"
        )


def migration_checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def check_migrations_unchanged(con: duckdb.DuckDBPyConnection) -> None:
    """A released migration is never edited: a change ships as a new one. An edit would
    leave warehouses made before it without the change, silently; refuse instead."""
    recorded = dict(
        con.execute(
            "SELECT version, checksum FROM schema_version WHERE checksum IS NOT NULL"
        ).fetchall()
    )
    for version, name, sql in migrations():
        if version in recorded and recorded[version] != migration_checksum(sql):
            raise WarehouseError(
                f"migration {name} was edited after it was applied to this warehouse"
                " (its checksum differs); ship the change as a new migration"
            )


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations, each in its own transaction; returns the new version.

    Refuses (:class:`WarehouseError`, nothing written) a warehouse whose schema is newer
    than the migrations this code has, and a DuckDB file that is not a warehouse
    (:func:`check_is_warehouse`).
    """
    check_is_warehouse(con)
    check_schema(con)
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    # The sha256 of each migration's text as applied (older warehouses: NULL, unchecked).
    con.execute("ALTER TABLE schema_version ADD COLUMN IF NOT EXISTS checksum VARCHAR")
    current = schema_version(con)
    check_migrations_unchanged(con)
    for version, name, sql in migrations():
        if version <= current:
            continue
        try:
            with transaction(con):
                con.execute(sql)
                con.execute(
                    "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
                    [version, name, migration_checksum(sql)],
                )
        except duckdb.Error as exc:
            raise WarehouseError(f"migration {name} failed: {_first_line(exc)}") from None
        log.info("warehouse migrated to version %d (%s)", version, name)
        current = version
    return current


def _os_reason(exc: OSError) -> str:
    return exc.strerror or _first_line(exc)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
