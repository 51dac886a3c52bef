"""``baolaocai status``: what the warehouse holds and how the last runs went."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import require_sites, schema_version
from warehouse.lake import LakeSpec, is_lake, warc_folder
from warehouse.lake import data_dir as lake_data_dir

RECENT_RUNS = 5


def _file_size(db_path: Path) -> int:
    """Bytes of the database file plus its write-ahead log, if any."""
    total = 0
    for path in (db_path, db_path.with_name(db_path.name + ".wal")):
        if path.is_file():
            total += path.stat().st_size
    return total


# The web archive's folder and files, as warehouse.session.warc_dir and
# warehouse.warc.warc_files name them (tests/cli/test_startup.py keeps them equal):
# importing those modules costs ``status`` warcio, fsspec and pyarrow to list a folder.
_WARC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.warc\.gz")


def lake_storage(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What a lake's tables take under its data path: ``data_path``, ``files`` (Parquet
    data and delete files of the current snapshot) and ``size_bytes``. A lake is no file
    to measure; files of older snapshots (kept for time travel until expired) and rows
    small enough to be kept in the catalog are not counted."""
    row = con.execute(
        "SELECT coalesce(sum(file_count + delete_file_count), 0),"
        " coalesce(sum(file_size_bytes + delete_file_size_bytes), 0)"
        " FROM ducklake_table_info(current_database())"
    ).fetchone()
    files, size = (int(row[0]), int(row[1])) if row else (0, 0)
    return {"data_path": str(lake_data_dir(con)), "files": files, "size_bytes": size}


def _warc_dir(db_path: str | Path) -> Path:
    if is_lake(db_path):
        return warc_folder(str(db_path))
    path = Path(db_path)
    return path.with_name(f"{path.stem}.warc")


def _warc_files(folder: Path) -> list[str]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return sorted(
        e.name
        for e in entries
        if _WARC_NAME.fullmatch(e.name) and ".." not in e.name and e.is_file()
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _literal(text: str) -> str:
    """A SQL string literal. Not a parameter: DuckDB's binding of one imports pandas and
    pyarrow when they are installed (some 0.4 s of a command meant to answer at once)."""
    return "'" + text.replace("'", "''") + "'"


def status(
    con: duckdb.DuckDBPyConnection,
    db_path: str | Path,
    *,
    site: str | None = None,
    runs: int = RECENT_RUNS,
) -> dict[str, Any]:
    """The warehouse at a glance, as plain data (JSON-ready except for the datetimes).

    ``site``: one site's key, for its articles, errors, runs and captures only; ``None``
    for every site of the warehouse.

    Keys: ``db_path`` (a lake's spec without its password), ``db_size_bytes`` (the
    file's; ``None`` for a lake), ``lake`` (``None`` for a file, else
    :func:`lake_storage`), ``schema_version``, ``site`` (the filter),
    ``sites`` (site key -> articles stored, every site), ``articles``,
    ``newest_published_at``, ``open_fetch_errors``, ``runs`` (the last ``runs`` runs,
    newest first: ``site``, ``run_id``, ``started_at``, ``finished_at``, ``status``, ``new``,
    ``updated``, ``unchanged``, ``failed``, ``error``), ``search_index`` (``None`` when
    never built, else ``built_at``, ``documents``, ``stale``) and ``web_archive``
    (``path``, ``files``, ``size_bytes``, ``captures``: the WARC files of the raw pages).
    """
    from warehouse.search import index_info

    require_sites(con, db_path)
    where = f"WHERE site = {_literal(site)}" if site is not None else ""
    cursor = con.execute(
        "SELECT site, run_id, started_at, finished_at, status, articles_new, articles_updated,"
        f" articles_unchanged, articles_failed, error FROM crawl_runs {where}"
        f" ORDER BY started_at DESC, run_id DESC LIMIT {int(runs)}"
    )
    keys = ("site", "run_id", "started_at", "finished_at", "status", "new", "updated")
    recent = [
        dict(zip((*keys, "unchanged", "failed", "error"), row, strict=True))
        for row in cursor.fetchall()
    ]
    sites = {
        str(key): int(n)
        for key, n in con.execute(
            "SELECT site, count(*) FROM articles GROUP BY site ORDER BY site"
        ).fetchall()
    }
    info = index_info(con)
    folder = _warc_dir(db_path)
    files = _warc_files(folder) if folder.is_dir() else []
    captures = _scalar(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'captures'",
    )
    lake = is_lake(db_path)
    return {
        "db_path": LakeSpec.parse(str(db_path)).shown if lake else str(db_path),
        "db_size_bytes": None if lake else _file_size(Path(db_path)),
        "lake": lake_storage(con) if lake else None,
        "schema_version": schema_version(con),
        "site": site,
        "sites": sites,
        "articles": int(_scalar(con, f"SELECT count(*) FROM articles {where}")),
        "newest_published_at": _scalar(con, f"SELECT max(published_at) FROM articles {where}"),
        "open_fetch_errors": int(_scalar(con, f"SELECT count(*) FROM open_fetch_errors {where}")),
        "runs": recent,
        "web_archive": {
            "path": str(folder),
            "files": len(files),
            "size_bytes": sum((folder / f).stat().st_size for f in files),
            "captures": int(_scalar(con, f"SELECT count(*) FROM captures {where}"))
            if captures
            else 0,
        },
        "search_index": None
        if info is None
        else {"built_at": info.built_at, "documents": info.documents, "stale": info.stale},
    }
