"""DuckDB: the one module that opens the warehouse file and migrates it.

Writers open the file only for the length of one batch (:func:`write_connection`), so
readers (``baolaocai sql``) can get in between. DuckDB allows one writing process per
file; a locked file is retried for a bounded time, then reported as
:class:`~baolaocai.errors.WarehouseLockedError`.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from baolaocai.errors import WarehouseError, WarehouseLockedError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_MIGRATION_RE = re.compile(r"^(\d{3})_[\w-]+\.sql$")
DEFAULT_LOCK_TIMEOUT = 30.0
SITE_TIME_ZONE = "Asia/Ho_Chi_Minh"


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def connect(
    path: str | Path, *, read_only: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting up to ``lock_timeout`` s for another writer to finish."""
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: run 'baolaocai crawl' or 'baolaocai demo' first"
        )
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(f"cannot create the folder of {path}: {exc.strerror}") from None
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise WarehouseError(
                    f"cannot open the warehouse {path}: {_first_line(exc)}"
                ) from None
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"the warehouse {path} is locked by another process (a crawl?) "
                    f"for more than {lock_timeout:.0f}s; try again when it has finished"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    load_bundled_extension(con, "icu")
    con.execute(f"SET TimeZone = '{SITE_TIME_ZONE}'")
    if not read_only:
        migrate(con)
    return con


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


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations, each in its own transaction; returns the new version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    current = schema_version(con)
    for version, name, sql in migrations():
        if version <= current:
            continue
        try:
            with transaction(con):
                con.execute(sql)
                con.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name]
                )
        except duckdb.Error as exc:
            raise WarehouseError(f"migration {name} failed: {_first_line(exc)}") from None
        log.info("warehouse migrated to version %d (%s)", version, name)
        current = version
    return current


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
