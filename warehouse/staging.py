"""Staging files: the batch data a write hands to DuckDB as a file, beside the warehouse.

:func:`warehouse.load.bulk_insert` writes a batch's rows (page data: titles, bodies,
URLs) as newline-delimited JSON for DuckDB's ``read_json``, and deletes the file when
the statement is done. A process killed in between (``kill -9``, the OOM killer, a power
cut) cannot delete it: in ``$TMPDIR`` such a file stayed for good, unseen. So a staging
file lives in the warehouse's own folder and its name says whose it is::

    .<warehouse name>.staging.<pid>.<random>.ndjson

and :func:`remove_dead` (called by the next writer of the warehouse:
:meth:`warehouse.session.WarehouseSession.begin`) removes those whose process is gone.
A process that leaves by the last resort of :mod:`baolaocai.interrupts` removes its own.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO

import duckdb

from baolaocai import interrupts
from baolaocai.processes import process_alive

SUFFIX = ".ndjson"


def prefix(db_path: str | Path, pid: int | None = None) -> str:
    """``.<name>.staging.<pid>.`` (without ``pid``: ``.<name>.staging.``)."""
    name = Path(db_path).name
    return f".{name}.staging." + ("" if pid is None else f"{pid}.")


def database_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of ``con``'s current database (None: an in-memory one)."""
    try:
        row = con.execute(
            "SELECT path, type FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
    except duckdb.Error:
        return None
    if not row or not row[0] or str(row[0]) == ":memory:" or row[1] == "ducklake":
        return None  # a lake's catalog is no file: staging goes to the temporary folder
    return Path(str(row[0]))


def staging_file(con: duckdb.DuckDBPyConnection) -> IO[str]:
    """A new staging file for a write on ``con``, open for writing text (the caller
    deletes it): beside the warehouse, named after it and this process (see the module
    docstring); in the system's temporary folder for an in-memory database."""
    db = database_path(con)
    if db is None:
        folder, start = Path(tempfile.gettempdir()), f".baolaocai.staging.{os.getpid()}."
    else:
        folder, start = db.parent, prefix(db, os.getpid())
        _clean_at_last_resort(folder, start)
    return tempfile.NamedTemporaryFile(
        "w", dir=folder, prefix=start, suffix=SUFFIX, encoding="utf-8", delete=False
    )


def _clean_at_last_resort(folder: Path, start: str) -> None:
    """Have the last resort of :mod:`baolaocai.interrupts` remove this process's
    staging files of this folder (registered once per folder)."""
    interrupts.at_last_resort_once(f"staging:{folder / start}", lambda: _remove(folder, start))


def _remove(folder: Path, start: str) -> None:
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(start) and entry.name.endswith(SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def remove_dead(db_path: str | Path) -> list[Path]:
    """Remove the staging files of ``db_path`` whose process no longer runs (left by a
    process killed while it wrote); returns them. Another live process's are kept."""
    db_path = Path(db_path)
    start = prefix(db_path)
    removed = []
    try:
        entries = list(os.scandir(db_path.parent))
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if not (name.startswith(start) and name.endswith(SUFFIX)):
            continue
        pid = name[len(start) :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or process_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed
