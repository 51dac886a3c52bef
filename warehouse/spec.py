"""What names a warehouse: a DuckDB file's path or a lake's spec (``ducklake:…``).

Imports nothing heavy (no DuckDB): the command line asks this before it decides anything
else (where its Prefect home goes, whether a path is a file)."""

from __future__ import annotations

from pathlib import Path

LAKE_PREFIX = "ducklake:"


def is_lake(spec: object) -> bool:
    """Whether a warehouse spec names a lake (``ducklake:…``) rather than a file."""
    return str(spec).startswith(LAKE_PREFIX)


def local_folder(db_path: str | Path) -> Path:
    """The folder of this machine where the commands on a warehouse keep their own files
    (a Prefect home, ``serve``'s locks): beside a file; for a lake, which has no folder
    of its own here, the current folder's ``warehouse/`` (never a path made of the spec)."""
    if is_lake(db_path):
        return Path("warehouse").resolve()
    return Path(db_path).resolve().parent
