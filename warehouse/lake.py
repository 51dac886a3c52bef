"""The warehouse as a DuckLake: many writers, on many machines, one archive.

A DuckDB file takes one writing process. A **lake** keeps the same tables in a DuckLake
(https://ducklake.select): its catalog in PostgreSQL, its data as Parquet files under a
*data path* (a local or shared folder), so that several workers commit to it at once with
snapshot isolation and readers see a consistent snapshot while they do. It is named by a
spec instead of a file path, wherever a warehouse is (``--db``/``--warehouse``,
``BAOLAOCAI_DB``/``BAOLAOCAI_WAREHOUSE``)::

    ducklake:postgres:dbname=lake host=127.0.0.1 port=5432 user=postgres

The data path is given once, when the lake is made (``BAOLAOCAI_LAKE_DATA``); the catalog
keeps it, and every later connection reads it from there. Beside the Parquet files it
holds the web archive (``<data>/warc/``) and the search index (``<data>/search/``).

**The schema is the file's.** DuckLake has no primary keys, unique constraints or
indexes, so the migrations (written for DuckDB files) cannot run on it as they are. The
lake's tables are made from them instead: the migrations run into an in-memory DuckDB,
and every table, column (type and default) and view found there is made on the lake
(:func:`migrate_lake`; later migrations add their new tables, columns and views the same
way, under a PostgreSQL advisory lock so that two workers starting together do not both
make them). A migration that changes stored rows (an ``UPDATE``, a rename, a table rebuilt
from a query) cannot be followed that way: a lake holding rows is refused it, loudly and
before anything changes (:func:`lake_refused_steps`), instead of recording a schema
version whose data step never ran; ``tests/lake`` fails first on such a migration.

**Writes for many writers.** Appends never conflict (DuckLake retries those itself);
``INSERT OR REPLACE`` becomes a ``MERGE`` (:func:`upsert_statement`); and a write whose
commit meets another one's change to the same table ("Transaction conflict") is run
again whole, from a fresh snapshot, with a growing random backoff
(:func:`retry_on_conflict`): the write functions own their transaction and decide
everything inside it, so running one again is the same as running it later. What no
commit check can see is two writers *inserting* the same article (no key to collide on):
so one writer per site at a time, the run's **writer lock**, here an advisory lock of
the catalog's PostgreSQL (:class:`LakeWriterLock`), which the server frees when the
holder's connection ends, ``kill -9`` of the holder included.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import random
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import duckdb

from baolaocai.errors import WarehouseBusyError, WarehouseError
from warehouse.spec import LAKE_PREFIX as LAKE_PREFIX
from warehouse.spec import is_lake as is_lake
from warehouse.spec import local_folder as local_folder
from warehouse.writer import Holder

log = logging.getLogger(__name__)

POSTGRES_PREFIX = "ducklake:postgres:"
CATALOG = "warehouse"
"""The name the lake is attached under (the held file's name too: SQL is the same)."""
DATA_PATH_ENV = "BAOLAOCAI_LAKE_DATA"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
CONFLICT_RETRIES = 12
CONFLICT_BACKOFF_S = 0.05
CONFLICT_BACKOFF_CAP_S = 3.0


@dataclass(frozen=True)
class LakeSpec:
    """A lake named by ``ducklake:postgres:<libpq connection string>``."""

    spec: str
    conninfo: str

    @classmethod
    def parse(cls, spec: str | Path) -> LakeSpec:
        text = str(spec).strip()
        shown = _without_password(text)
        if not text.startswith(POSTGRES_PREFIX):
            raise WarehouseError(
                f"cannot use the lake {shown!r}: its catalog must be PostgreSQL"
                " ('ducklake:postgres:dbname=… host=…'); a lake's catalog in a file"
                " takes one writer, as a DuckDB file does"
            )
        conninfo = text[len(POSTGRES_PREFIX) :].strip()
        how = "give the catalog's connection as 'ducklake:postgres:dbname=… host=… port=… user=…'"
        if not conninfo:
            raise WarehouseError(f"cannot use the lake {shown!r}: {how}")
        # libpq's own syntax, as psycopg (libpq) reads it: quoted values (a password
        # with a space, a database named 'lake 2') and URIs are libpq's, and the
        # connection goes to libpq twice (psycopg for the locks, DuckDB's ATTACH).
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(conninfo)
        except ProgrammingError as exc:
            reason = _without_password(_first_line(exc))
            raise WarehouseError(f"cannot use the lake {shown!r}: {reason}; {how}") from None
        return cls(spec=text, conninfo=conninfo)

    @property
    def database(self) -> str | None:
        """The catalog's database as the connection names it (None: libpq's default)."""
        from psycopg.conninfo import conninfo_to_dict

        name = conninfo_to_dict(self.conninfo).get("dbname")
        return None if name is None else str(name)

    @property
    def shown(self) -> str:
        """The spec without a password (for messages and logs)."""
        return _without_password(self.spec)


def _extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    from warehouse.db import load_bundled_extension

    load_bundled_extension(con, name)


def attach(
    con: duckdb.DuckDBPyConnection,
    lake: LakeSpec,
    *,
    read_only: bool,
    data_path: str | None = None,
) -> None:
    """Attach the lake to ``con`` as :data:`CATALOG` and use it. A lake not made yet is
    made (not ``read_only``), its data path from ``data_path`` or ``BAOLAOCAI_LAKE_DATA``."""
    _extension(con, "postgres_scanner")
    _extension(con, "ducklake")
    options = []
    if read_only:
        options.append("READ_ONLY")
    folder = data_path or os.environ.get(DATA_PATH_ENV, "").strip()
    if folder and not read_only:
        if "://" not in folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            folder = str(Path(folder).resolve())
        options.append("DATA_PATH " + _literal(folder.rstrip("/") + "/"))
    source = _literal(POSTGRES_PREFIX + lake.conninfo)
    statement = f"ATTACH {source} AS {CATALOG}" + (f" ({', '.join(options)})" if options else "")
    try:
        if read_only:
            con.execute(statement)
        else:
            # Two first writers of a new lake at once would both make its catalog's
            # tables ("relation ducklake_metadata already exists", seen in a review).
            with catalog_lock(lake, "attach", wait_s=120.0):
                con.execute(statement)
    except duckdb.Error as exc:
        text = _without_password(_first_line(exc))
        if "data_path" in text.lower() or "DATA_PATH" in text:
            raise WarehouseError(
                f"the lake {lake.shown} is new: say where its data goes with"
                f" {DATA_PATH_ENV}=/path/to/folder (a local or shared folder)"
            ) from None
        if "creating a new DuckLake is explicitly disabled" in text:
            raise WarehouseError(
                f"no warehouse at {lake.shown} (the catalog database holds no lake yet):"
                " run 'baolaocai crawl' first"
            ) from None
        raise WarehouseError(f"cannot open the lake {lake.shown}: {text}") from None
    con.execute(f"USE {CATALOG}")


def data_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The lake's data path as the catalog keeps it (a local folder)."""
    row = con.execute(
        f"SELECT value FROM __ducklake_metadata_{CATALOG}.ducklake_metadata WHERE key = 'data_path'"
    ).fetchone()
    if not row or not row[0]:
        raise WarehouseError("the lake's catalog names no data path")
    return Path(str(row[0]))


@functools.lru_cache(maxsize=16)
def lake_data_dir(spec: str) -> Path:
    """:func:`data_dir` of the lake ``spec``, read once per process (it never changes)."""
    con = duckdb.connect(":memory:")
    try:
        attach(con, LakeSpec.parse(spec), read_only=True)
        return data_dir(con)
    finally:
        con.close()


def warc_folder(spec: str) -> Path:
    """Where the lake's web archive lives: ``<data path>/warc``."""
    return lake_data_dir(spec) / "warc"


def search_folder(spec: str) -> Path:
    """Where the lake's search index lives: ``<data path>/search``."""
    return lake_data_dir(spec) / "search"


def is_lake_connection(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con``'s current database is a lake."""
    row = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return row is not None and str(row[0]) == "ducklake"


# -- the schema ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceSchema:
    """What the migrations make, read off an in-memory DuckDB they ran into."""

    version: int
    tables: dict[str, list[tuple[str, str, str | None]]]
    """Table -> its columns in order: (name, type, default expression)."""
    views: dict[str, str]
    """View -> its ``CREATE VIEW`` statement."""
    migrations: list[tuple[int, str, str]]


@functools.lru_cache(maxsize=1)
def reference_schema() -> ReferenceSchema:
    from warehouse.db import migrate, migration_checksum, migrations

    con = duckdb.connect(":memory:")
    try:
        _extension(con, "icu")
        version = migrate(con)
        tables: dict[str, list[tuple[str, str, str | None]]] = {}
        for table, column, kind, default in con.execute(
            "SELECT table_name, column_name, data_type, column_default FROM duckdb_columns()"
            " WHERE database_name = current_database() AND NOT internal"
            "  AND table_name IN (SELECT table_name FROM duckdb_tables()"
            "   WHERE database_name = current_database())"
            " ORDER BY table_name, column_index"
        ).fetchall():
            tables.setdefault(str(table), []).append(
                (str(column), str(kind), None if default is None else str(default))
            )
        views = {
            str(name): str(sql)
            for name, sql in con.execute(
                "SELECT view_name, sql FROM duckdb_views()"
                " WHERE database_name = current_database() AND NOT internal"
            ).fetchall()
        }
        listed = [(v, n, migration_checksum(sql)) for v, n, sql in migrations()]
        return ReferenceSchema(version, tables, views, listed)
    finally:
        con.close()


def _column_sql(name: str, kind: str, default: str | None) -> str:
    return f'"{name}" {kind}' + (f" DEFAULT {default}" if default is not None else "")


_SCHEMA_ONLY = re.compile(
    r"^(CREATE\s+(OR\s+REPLACE\s+)?VIEW\b|DROP\s+VIEW\b|CREATE\s+(UNIQUE\s+)?INDEX\b"
    r"|COMMENT\s+ON\b|CREATE\s+TABLE\b(?![^(]*\bAS\b)|ALTER\s+TABLE\s+\S+\s+ADD\b)",
    re.IGNORECASE,
)
"""Statements a lake follows by the table and column comparison of :func:`migrate_lake`:
new tables (not ``CREATE TABLE … AS``: that copies rows), views, added columns; an index
has no meaning on a lake."""


def lake_refused_steps(after: int) -> list[str]:
    """The statements of the migrations newer than ``after`` that change rows or existing
    columns (``UPDATE``, ``INSERT``, ``DELETE``, a rename, a dropped or retyped column, a
    table made from a query …): :func:`migrate_lake` only adds tables, columns and views,
    so on a lake that already holds rows such a step would be skipped in silence, its
    schema version recorded anyway. As ``migration: first words`` for the refusal."""
    from warehouse.db import migrations

    refused = []
    for version, name, sql in migrations():
        if version <= after:
            continue
        text = re.sub(r"--[^\n]*", "", sql)
        for statement in (s.strip() for s in text.split(";")):
            if statement and not _SCHEMA_ONLY.match(statement):
                refused.append(f"{name}: {' '.join(statement.split()[:6])} …")
    return refused


def migrate_lake(con: duckdb.DuckDBPyConnection, lake: LakeSpec) -> int:
    """Bring the lake attached to ``con`` to the schema of the newest migration (see the
    module docstring); returns its version. Refuses a lake made by a newer baolaocai, and
    a migration that would change the rows of a lake holding some
    (:func:`lake_refused_steps`), before changing anything."""
    ref = reference_schema()
    with catalog_lock(lake, "migrate", wait_s=120.0):
        current = _lake_version(con)
        if current > ref.version:
            raise WarehouseError(
                f"the lake {lake.shown} has schema version {current}, newer than this"
                f" baolaocai knows ({ref.version}); upgrade baolaocai"
            )
        if current == ref.version:
            return current
        refused = lake_refused_steps(current) if current else []  # a new lake has no rows
        if refused:
            raise WarehouseError(
                f"the lake {lake.shown} has schema version {current}; this baolaocai's"
                f" migrations to {ref.version} change stored rows, which a lake cannot be"
                f" migrated by yet ({refused[0]}); nothing was changed: keep the baolaocai"
                " that made the lake until a release migrates lakes too"
            )
        existing: dict[str, set[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = current_database()"
        ).fetchall():
            existing.setdefault(str(table), set()).add(str(column))
        con.execute("BEGIN TRANSACTION")
        try:
            for table, columns in ref.tables.items():
                if table not in existing:
                    body = ", ".join(_column_sql(*c) for c in columns)
                    con.execute(f'CREATE TABLE "{table}" ({body})')
                    continue
                for column in columns:
                    if column[0] not in existing[table]:
                        con.execute(f'ALTER TABLE "{table}" ADD COLUMN {_column_sql(*column)}')
            for sql in ref.views.values():
                con.execute(
                    re.sub(r"^\s*CREATE\s+VIEW", "CREATE OR REPLACE VIEW", sql, count=1, flags=re.I)
                )
            for version, name, checksum in ref.migrations:
                if version > current:
                    con.execute(
                        "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
                        [version, name, checksum],
                    )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        log.info("lake %s migrated to version %d", lake.shown, ref.version)
        return ref.version


def _lake_version(con: duckdb.DuckDBPyConnection) -> int:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables()"
        " WHERE database_name = current_database() AND table_name = 'schema_version'"
    ).fetchone()
    if not found or not found[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it already
        con.execute("ROLLBACK")


# -- writes ---------------------------------------------------------------------------------


def upsert_statement(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    source: str,
    *,
    ignore: bool = False,
) -> str:
    """``INSERT OR REPLACE`` (``ignore``: ``OR IGNORE``) of ``source`` (a ``SELECT`` or
    ``VALUES`` of ``columns``, in order) into ``table`` on a file; on a lake, which has no
    keys to replace on, a ``MERGE`` on ``key``: a row whose key is there takes the new
    values of ``columns`` (every caller names all the columns it means to set)."""
    names = ", ".join(columns)
    if not is_lake_connection(con):
        verb = "IGNORE" if ignore else "REPLACE"
        return f"INSERT OR {verb} INTO {table} ({names}) {source}"
    named = ", ".join(f'"{c}"' for c in columns)
    on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in key)
    values = ", ".join(f"s.{c}" for c in columns)
    merge = (
        f"MERGE INTO {table} t USING (SELECT * FROM ({source}) v({named})) s ON {on}"
        f" WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"
    )
    if ignore:
        return merge
    updates = ", ".join(f"{c} = s.{c}" for c in columns if c not in key)
    return merge.replace(
        " WHEN NOT MATCHED", f" WHEN MATCHED THEN UPDATE SET {updates} WHEN NOT MATCHED"
    )


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a lake commit that met another writer's change."""
    return isinstance(exc, duckdb.Error) and "transaction conflict" in str(exc).lower()


P = ParamSpec("P")
T = TypeVar("T")


def retry_on_conflict(fn: Callable[P, T]) -> Callable[P, T]:
    """Run a write function (its first argument a connection, its transaction its own)
    again, whole, when its commit meets another writer's change (see the module
    docstring): up to :data:`CONFLICT_RETRIES` times, after a random backoff that doubles
    (capped at :data:`CONFLICT_BACKOFF_CAP_S`). On a file nothing ever conflicts."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        delay = CONFLICT_BACKOFF_S
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                return fn(*args, **kwargs)
            except duckdb.Error as exc:
                if not is_conflict(exc) or attempt == CONFLICT_RETRIES:
                    if is_conflict(exc):
                        raise WarehouseError(
                            f"{fn.__name__}: the lake refused the write {attempt + 1} times"
                            " (other writers kept changing the same tables); try again"
                        ) from None
                    raise
                log.info("%s: transaction conflict, attempt %d", fn.__name__, attempt + 1)
                time.sleep(random.uniform(delay / 2, delay))
                delay = min(delay * 2, CONFLICT_BACKOFF_CAP_S)
        raise AssertionError("unreachable")

    return wrapper


# -- the sandbox of a query on a lake ----------------------------------------------------------

READ_FUNCTIONS = frozenset(
    {
        "ducklake_snapshots",
        "ducklake_table_info",
        "ducklake_table_changes",
        "ducklake_table_insertions",
        "ducklake_table_deletions",
        "ducklake_list_files",
        "ducklake_current_snapshot",
        "ducklake_last_committed_snapshot",
        "ducklake_options",
    }
)
"""The ducklake functions a sandboxed query may call: they read the lake's history."""


def _named(node: object, key: str) -> Iterator[str]:
    """Every value of ``key`` anywhere in a serialized statement."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _named(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _named(item, key)


def check_sandboxed_query(sql: str) -> None:
    """Refuse (one :class:`WarehouseError` line) a read-only query on a lake that would
    reach past the lake's tables.

    A lake is attached through DuckDB's postgres extension, whose functions
    (``postgres_execute``, ``postgres_query``, ``postgres_scan``) run any SQL on the
    catalog's PostgreSQL server, or any other one, whatever DuckDB's own sandbox says
    (``COPY … TO PROGRAM`` as the catalog's user: a shell on that server); the catalog's
    own tables are reachable as ``__ducklake_metadata_warehouse``; and some ducklake
    functions rewrite or delete data files. So only ``SELECT`` statements (``DESCRIBE``,
    ``SHOW``, ``SUMMARIZE``, ``FROM …`` are ones) are run, and each is parsed
    (``json_serialize_sql``) and refused if it names one of those functions, the catalog's
    tables, or ``query``/``query_table`` (which would run SQL built from strings)."""
    import json

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return  # not SQL: DuckDB says why when it runs it
    parser = duckdb.connect(":memory:")
    try:
        for statement in statements:
            if statement.type != duckdb.StatementType.SELECT:
                raise WarehouseError(
                    f"on a lake a query without --write may only read: {statement.type.name}"
                    " statements are refused (SELECT, DESCRIBE, SHOW, SUMMARIZE are fine)"
                )
            row = parser.execute("SELECT json_serialize_sql(?)", [statement.query]).fetchone()
            tree = json.loads(row[0]) if row else {"error": True}
            if tree.get("error"):
                raise WarehouseError(
                    "on a lake a query without --write must be a plain SELECT that can be"
                    f" checked ({tree.get('error_message', 'not a SELECT')})"
                )
            for name in _named(tree, "function_name"):
                low = name.lower()
                if (
                    low.startswith("postgres_")
                    or low in ("query", "query_table")
                    or (low.startswith("ducklake_") and low not in READ_FUNCTIONS)
                ):
                    raise WarehouseError(
                        f"on a lake a query without --write may not call {name}(): it reaches"
                        " past the lake's tables"
                    )
            for key in ("catalog_name", "schema_name", "table_name"):
                for name in _named(tree, key):
                    if name.lower().startswith("__ducklake_metadata"):
                        raise WarehouseError(
                            f"on a lake a query without --write may not read {name}:"
                            " the catalog's own tables"
                        )
    finally:
        parser.close()


# -- locks in the catalog's PostgreSQL --------------------------------------------------------


def _lock_key(name: str) -> int:
    """A 64-bit advisory-lock key for ``name`` (stable across machines and versions)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


def _pg_connect(lake: LakeSpec, application_name: str) -> Any:
    import psycopg

    try:
        return psycopg.connect(
            lake.conninfo, autocommit=True, application_name=application_name[:63]
        )
    except psycopg.Error as exc:
        raise WarehouseError(
            f"cannot reach the lake's catalog {lake.shown}: {_without_password(_first_line(exc))}"
        ) from None


@contextmanager
def catalog_lock(lake: LakeSpec, name: str, *, wait_s: float) -> Iterator[None]:
    """An advisory lock ``name`` of the lake's catalog, held for the block."""
    con = _pg_connect(lake, f"baolaocai {name}")
    try:
        deadline = time.monotonic() + wait_s
        key = _lock_key(f"baolaocai:{name}")
        while not con.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]:
            if time.monotonic() > deadline:
                raise WarehouseBusyError(
                    f"the lake {lake.shown} is busy ({name}) for {wait_s:.0f}s"
                )
            time.sleep(0.2)
        yield
    finally:
        con.close()


class LakeWriterLock:
    """One writer per site of a lake: an advisory lock (key: the lake's site) held on a
    PostgreSQL session of its own for the run's whole life. The session's
    ``application_name`` names the holder, so a second run can say for whom it waits
    (:meth:`holder`). The server drops the lock the moment the session ends: a run killed
    with ``kill -9`` leaves nothing behind."""

    PREFIX = "baolaocai|"

    def __init__(self, lake: LakeSpec, site_key: str, *, run_id: str = "", kind: str = "") -> None:
        self.lake = lake
        self.site_key = site_key
        self.run_id = run_id
        self.kind = kind
        self._con: Any = None

    @property
    def key(self) -> int:
        return _lock_key(f"baolaocai:writer:{self.site_key}")

    @property
    def held(self) -> bool:
        return self._con is not None

    def acquire(self, wait_s: float = 0.0, on_wait: Callable[[Holder], None] | None = None) -> None:
        if self._con is not None:
            return
        # PostgreSQL keeps 63 bytes of an application name: the host comes last, cut.
        since = datetime.now(UTC).astimezone(VIETNAM).strftime("%H:%M:%S")
        fields = (str(os.getpid()), self.kind[:10], self.run_id[:12], since, socket.gethostname())
        name = self.PREFIX + "|".join(f.replace("|", "/") for f in fields)
        con = _pg_connect(self.lake, name)
        told = False
        deadline = time.monotonic() + max(0.0, wait_s)
        try:
            while not con.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()[0]:
                holder = self.holder()
                if time.monotonic() >= deadline:
                    who = holder.describe() if holder else "another run"
                    raise WarehouseBusyError(
                        f"{self.site_key} in the lake {self.lake.shown} is being written by"
                        f" {who}; try again when it has finished"
                    )
                if on_wait is not None and holder is not None and not told:
                    on_wait(holder)
                    told = True
                time.sleep(0.25)
        except BaseException:
            con.close()
            raise
        self._con = con

    def holder(self) -> Holder | None:
        """Who holds the lock now (None: nobody, or a session that did not name itself)."""
        con = _pg_connect(self.lake, "baolaocai lock reader")
        try:
            high, low = divmod(self.key % (1 << 64), 1 << 32)
            rows = con.execute(
                "SELECT a.application_name FROM pg_locks l"
                " JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted"
                "  AND l.classid::bigint = %s AND l.objid::bigint = %s",
                [high, low],
            ).fetchall()
        finally:
            con.close()
        for (name,) in rows:
            if str(name).startswith(self.PREFIX):
                pid, kind, run, since, host = (str(name)[len(self.PREFIX) :].split("|") + [""] * 5)[
                    :5
                ]
                return Holder(int(pid) if pid.isdigit() else 0, host, run, kind, since)
        return None

    def release(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.close()


_PASSWORD = re.compile(r"(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\S+)", re.IGNORECASE)
"""A password in a libpq key=value string, bare or quoted (backslash escapes inside)."""
_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)
"""A password in a libpq URI (``postgresql://user:secret@host/db``)."""


def _without_password(text: str) -> str:
    return _URI_PASSWORD.sub(r"\1…@", _PASSWORD.sub(r"\1…", text))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
