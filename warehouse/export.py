"""Exports of the warehouse for pandas, R, spreadsheets: Parquet, CSV or JSON Lines.

``export(con, out_dir, "parquet")`` writes::

    out_dir/articles/year=2025/month=03/data_0.parquet   Hive-style partitions of
    out_dir/articles/year=…/month=…/…                     published_at (Vietnam time)
    out_dir/manifest.json

Each article row carries its ``tags`` (a list) and its ``images`` (a list of
``{position, src, caption}`` structs, body order), so one dataset is self-contained:
``pd.read_parquet("out_dir/articles")`` or
``SELECT * FROM read_parquet('out_dir/articles/**/*.parquet', hive_partitioning = true)``.
Articles without a ``published_at`` land in ``year=__HIVE_DEFAULT_PARTITION__``.

``jsonl`` writes ``articles.jsonl`` (the same nested rows, one JSON object per line).
``csv`` cannot nest, so it writes ``articles.csv`` (tags as a JSON array) and
``article_images.csv`` (one row per picture) instead.

``since`` / ``until`` are days in Vietnam time, both inclusive, on ``published_at``;
with either one, articles without a date are left out. ``manifest.json`` lists every
file with its row count, the filters, the export time and the warehouse schema version.

The export is first written to a hidden folder beside ``out_dir`` and moved into place
when complete. ``out_dir`` must be missing, empty, or hold an earlier export (its
``manifest.json``), whose files are then replaced.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import duckdb

from baolaocai import __version__
from baolaocai.errors import InputError, WarehouseError
from warehouse.db import SITE_TIME_ZONE, schema_version

Format = Literal["parquet", "csv", "jsonl"]
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
MANIFEST = "manifest.json"
_SITE_TZ = ZoneInfo(SITE_TIME_ZONE)

ARTICLE_FIELDS = (
    "article_id, url, title, sapo, body, author, published_at, modified_at, category, tags,"
    " source, word_count, image_count, content_hash, version, first_seen_at, last_seen_at,"
    " updated_at, run_id"
)
"""Exported columns of ``articles`` (stable ones; internal bookkeeping columns are left out)."""


@dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    """Relative to the export folder, with ``/`` separators."""
    table: str
    rows: int


@dataclass(slots=True)
class Manifest:
    format: str
    exported_at: str
    """ISO 8601, UTC."""
    schema_version: int
    filters: dict[str, str | None]
    files: list[ManifestFile] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    """Total rows per table over all its files."""
    generator: str = f"baolaocai {__version__}, duckdb {duckdb.__version__}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        data["files"] = [ManifestFile(**f) for f in data.get("files", [])]
        return cls(**data)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_SITE_TZ)


def _filters(since: date | None, until: date | None) -> tuple[str, dict[str, datetime]]:
    if since and until and until < since:
        raise InputError(f"--until ({until}) is before --since ({since})")
    clauses, params = [], {}
    if since is not None:
        clauses.append("published_at >= $since")
        params["since"] = _day_start(since)
    if until is not None:
        clauses.append("published_at < $until_next")
        params["until_next"] = _day_start(until + timedelta(days=1))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise InputError(f"{out_dir}: folder is not empty and holds no earlier export")


def _replace_previous(out_dir: Path, staging: Path) -> None:
    """Move the finished export from ``staging`` into ``out_dir`` (replacing an old one)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / MANIFEST).is_file():
        try:
            old = Manifest.read(out_dir)
            tops = {f.path.split("/", 1)[0] for f in old.files}
        except (ValueError, TypeError, KeyError):
            tops = set()
        for name in tops | {MANIFEST}:
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    for entry in sorted(staging.iterdir()):
        os.replace(entry, out_dir / entry.name)
    staging.rmdir()


def export(
    con: duckdb.DuckDBPyConnection,
    out_dir: str | Path,
    fmt: Format | str,
    *,
    since: date | None = None,
    until: date | None = None,
) -> Manifest:
    """Write the articles (and their pictures) to ``out_dir``; see the module docstring."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir)
    where, params = _filters(since, until)
    exported_at = datetime.now(UTC)
    manifest = Manifest(
        format=fmt,
        exported_at=exported_at.isoformat(timespec="seconds"),
        schema_version=schema_version(con),
        filters={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write there ({exc.strerror})") from None
    try:
        _write(con, staging, fmt, where, params, manifest)
        _write_manifest(staging, manifest)
        _replace_previous(out_dir, staging)
    except duckdb.Error as exc:
        shutil.rmtree(staging, ignore_errors=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"export failed: {first}") from None
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"{out_dir}: cannot write the export ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    fmt: str,
    where: str,
    params: dict[str, datetime],
    manifest: Manifest,
) -> None:
    tables = ("articles", "article_images") if fmt == "csv" else ("articles",)
    manifest.tables.update(dict.fromkeys(tables, 0))
    # One snapshot for every file: the selected ids are fixed first.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE export_ids AS SELECT article_id FROM articles{where}",
        params,
    )
    nested = (
        f"SELECT {', '.join(f'a.{c.strip()}' for c in ARTICLE_FIELDS.split(','))},"
        " coalesce((SELECT list({'position': i.position, 'src': i.src, 'caption': i.caption}"
        "   ORDER BY i.position) FROM article_images i WHERE i.article_id = a.article_id),"
        "  []) AS images"
        " FROM articles a SEMI JOIN export_ids e USING (article_id)"
    )
    if fmt == "parquet":
        local = f"timezone('{SITE_TIME_ZONE}', published_at)"
        target = folder / "articles"
        con.execute(
            f"COPY (SELECT *, year({local}) AS year, strftime({local}, '%m') AS month"
            f" FROM ({nested}) ORDER BY published_at, article_id)"
            f" TO '{_sql_path(target)}' (FORMAT parquet, PARTITION_BY (year, month),"
            " COMPRESSION zstd)"
        )
        for file in sorted(target.rglob("*.parquet")):
            row = con.execute(
                "SELECT count(*) FROM read_parquet(?, hive_partitioning = false)", [str(file)]
            ).fetchone()
            _add(manifest, folder, file, "articles", int(row[0]) if row else 0)
    elif fmt == "jsonl":
        target = folder / "articles.jsonl"
        con.execute(
            f"COPY ({nested} ORDER BY a.published_at, a.article_id)"
            f" TO '{_sql_path(target)}' (FORMAT json)"
        )
        _add(manifest, folder, target, "articles", _count(con, "export_ids"))
    else:
        articles = folder / "articles.csv"
        flat = ", ".join(
            "to_json(a.tags) AS tags" if c.strip() == "tags" else f"a.{c.strip()}"
            for c in ARTICLE_FIELDS.split(",")
        )
        con.execute(
            f"COPY (SELECT {flat} FROM articles a SEMI JOIN export_ids e USING (article_id)"
            " ORDER BY a.published_at, a.article_id)"
            f" TO '{_sql_path(articles)}' (FORMAT csv, HEADER)"
        )
        _add(manifest, folder, articles, "articles", _count(con, "export_ids"))
        images = folder / "article_images.csv"
        con.execute(
            "COPY (SELECT i.article_id, i.position, i.src, i.caption FROM article_images i"
            " SEMI JOIN export_ids e USING (article_id) ORDER BY i.article_id, i.position)"
            f" TO '{_sql_path(images)}' (FORMAT csv, HEADER)"
        )
        row = con.execute(
            "SELECT count(*) FROM article_images SEMI JOIN export_ids USING (article_id)"
        ).fetchone()
        _add(manifest, folder, images, "article_images", int(row[0]) if row else 0)
    con.execute("DROP TABLE IF EXISTS export_ids")


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _add(manifest: Manifest, folder: Path, file: Path, table: str, rows: int) -> None:
    manifest.files.append(ManifestFile(file.relative_to(folder).as_posix(), table, rows))
    manifest.tables[table] = manifest.tables.get(table, 0) + rows


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST).write_text(
        json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
