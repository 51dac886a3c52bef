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
``article_images.csv`` (one row per picture) instead. A CSV file is opened by
spreadsheets, which run a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR as a
formula (CSV injection): such a *text* cell gets a leading ``'``
(:func:`baolaocai.text.csv_safe`); numbers and times are never changed, and Parquet and
JSON Lines keep every text exactly as stored.

Every file has the ``site`` column first (the key of the paper: a warehouse may hold
several), and ``article_images.csv`` rows are keyed by ``(site, article_id, position)``.

``site`` (a site key) keeps that paper's articles only; ``None`` exports every site.
``since`` / ``until`` are days in Vietnam time, both inclusive, on ``published_at``;
with either one, articles without a date are left out. ``manifest.json`` lists every
file with its row count, the filters, the export time and the warehouse schema version.

The export is first written to a hidden folder *inside* ``out_dir``
(``.baolaocai-export-…``) and moved into place when complete: nothing outside ``out_dir``
is ever created, written or deleted, and nothing is removed recursively.

``out_dir`` must be missing, empty, or hold an earlier export: a ``manifest.json`` that
``baolaocai export`` wrote (its ``generator`` says so), whose files still match the
sha256 it recorded for each (a file edited since is the user's now), and whose files all
have the names an export writes (``articles.jsonl``, ``articles.csv``, ``article_images.csv``,
``articles/year=…/month=…/*.parquet``). Only those files are replaced or deleted, and
only when they are regular files inside ``out_dir`` once symbolic links are resolved;
folders they leave empty are removed one by one. Anything else (a foreign or edited
manifest, a path that leaves the folder, a symbolic link, a file of the user's where
the new export would write) is refused with one :class:`InputError` line before
anything is touched. Other files in ``out_dir`` are left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import duckdb

from baolaocai import __version__
from baolaocai.errors import InputError, WarehouseError
from baolaocai.processes import process_alive
from baolaocai.text import CSV_FORMULA_STARTS
from warehouse.db import SITE_TIME_ZONE, require_sites, schema_version
from warehouse.schema import ARTICLE_COLUMNS, EXPORTED_ARTICLE_COLUMNS, IMAGE_COLUMNS

Format = Literal["parquet", "csv", "jsonl"]
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
MANIFEST = "manifest.json"
GENERATOR = "baolaocai export"
"""How the ``generator`` of our manifests starts: the mark of a folder we may replace."""
_LEGACY_GENERATOR_RE = re.compile(r"^baolaocai [\w.+-]+, duckdb [\w.+-]+$")
"""Manifests written before the mark was ``baolaocai export …``."""
_EXPORT_FILE_RE = re.compile(
    r"^(?:articles\.jsonl|articles\.csv|article_images\.csv"
    r"|articles/year=(?:\d{1,4}|__HIVE_DEFAULT_PARTITION__)"
    r"/month=(?:\d{2}|__HIVE_DEFAULT_PARTITION__)/\w[\w.-]*\.parquet)$"
)
"""The relative paths an export writes (besides ``manifest.json``)."""
STAGING_PREFIX = ".baolaocai-export-"
"""Staging folders are ``.baolaocai-export-<pid>-<random>``: one left by a killed export
is removed by the next export into the same folder."""
_SITE_TZ = ZoneInfo(SITE_TIME_ZONE)

ARTICLE_FIELDS = ", ".join(EXPORTED_ARTICLE_COLUMNS)
"""Exported columns of ``articles`` (stable ones; internal bookkeeping columns are left out;
see :data:`warehouse.schema.EXPORTED_ARTICLE_COLUMNS`)."""


@dataclass(frozen=True, slots=True)
class ManifestFile:
    path: str
    """Relative to the export folder, with ``/`` separators."""
    table: str
    rows: int
    sha256: str | None = None
    """Checksum of the file as written: a later export replaces it only while it still
    matches (``None`` in manifests written before checksums, and while one is replaced)."""


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
    generator: str = f"{GENERATOR} {__version__}, duckdb {duckdb.__version__}"
    """Marks the folder as ours: a later export may replace exactly these files."""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        data["files"] = [ManifestFile(**f) for f in data.get("files", [])]
        return cls(**data)


def is_export_file(path: str) -> bool:
    """True for a relative path (``/`` separators) that an export writes."""
    return bool(_EXPORT_FILE_RE.match(path))


def _is_our_generator(value: object) -> bool:
    return isinstance(value, str) and (
        value.startswith(GENERATOR + " ") or bool(_LEGACY_GENERATOR_RE.match(value))
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_SITE_TZ)


def _filters(
    since: date | None, until: date | None, site: str | None = None
) -> tuple[str, dict[str, object]]:
    if since and until and until < since:
        raise InputError(f"--until ({until}) is before --since ({since})")
    clauses: list[str] = []
    params: dict[str, object] = {}
    if site is not None:
        clauses.append("site = $site")
        params["site"] = site
    if since is not None:
        clauses.append("published_at >= $since")
        params["since"] = _day_start(since)
    if until is not None:
        clauses.append("published_at < $until_next")
        params["until_next"] = _day_start(until + timedelta(days=1))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _not_ours(out_dir: Path, why: str = "") -> InputError:
    return InputError(
        f"{out_dir} is not empty and was not written by baolaocai export{why}; choose another --out"
    )


def _previous_files(out_dir: Path) -> list[str] | None:
    """The files of the earlier export in ``out_dir`` that exist (relative paths).

    ``None`` when ``out_dir`` is missing or empty (stale staging folders of an interrupted
    export aside). :class:`InputError`, touching nothing, unless ``out_dir`` holds a
    manifest of ours whose every file is one an export writes and lies, as a regular
    file, inside ``out_dir`` after symbolic links are resolved.
    """
    if not out_dir.exists():
        if out_dir.is_symlink():
            raise InputError(f"{out_dir}: is a symbolic link to nothing; choose another --out")
        return None
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    entries = [e for e in os.listdir(out_dir) if not e.startswith(STAGING_PREFIX)]
    if not entries:
        return None
    manifest = out_dir / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        raise _not_ours(out_dir)
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise _not_ours(out_dir, " (its manifest.json cannot be read)") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not _is_our_generator(data.get("generator") if isinstance(data, dict) else None):
        raise _not_ours(out_dir, " (its manifest.json is another program's)")
    if not isinstance(files, list):
        raise _not_ours(out_dir, " (its manifest.json lists no files)")
    root = os.path.realpath(out_dir)
    found: list[str] = []
    for entry in files:
        rel = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(rel, str) or not is_export_file(rel):
            raise _not_ours(out_dir, f" (its manifest.json lists {str(rel)[:120]!r})")
        target = out_dir / rel
        if not os.path.lexists(target):
            continue  # deleted by the user since: nothing to replace
        if target.is_symlink() or not target.is_file():
            raise InputError(
                f"{target}: not a regular file, and baolaocai export writes no other kind;"
                " choose another --out"
            )
        if os.path.realpath(target) != os.path.join(root, *rel.split("/")):
            raise InputError(
                f"{target}: lies outside {out_dir} through a symbolic link; choose another --out"
            )
        expected = entry.get("sha256")
        if expected is not None and (not isinstance(expected, str) or _sha256(target) != expected):
            raise InputError(
                f"{target}: changed since baolaocai export wrote it (its checksum differs from"
                " manifest.json); move it away or choose another --out"
            )
        found.append(rel)
    return found


def _check_targets(out_dir: Path, new: list[str], old: list[str]) -> None:
    """Every file the new export will write must be free, or a file of the old export;
    every folder on its way a real folder inside ``out_dir`` (or missing)."""
    root = os.path.realpath(out_dir)
    replaceable = {*old, MANIFEST}
    for rel in new:
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            folder = out_dir.joinpath(*parts[:depth])
            if not os.path.lexists(folder):
                break
            if folder.is_symlink() or not folder.is_dir():
                raise InputError(
                    f"{folder}: not a folder of an earlier export (a file or a symbolic"
                    " link); choose another --out"
                )
            if os.path.realpath(folder) != os.path.join(root, *parts[:depth]):
                raise InputError(f"{folder}: lies outside {out_dir}; choose another --out")
        target = out_dir / rel
        if os.path.lexists(target) and rel not in replaceable:
            raise InputError(
                f"{target}: exists and was not written by baolaocai export; choose another --out"
            )


def _files_of(folder: Path) -> list[str]:
    """Every file under ``folder``, relative, ``/``-separated, sorted."""
    found = []
    for top, _dirs, names in os.walk(folder):
        for name in names:
            found.append((Path(top) / name).relative_to(folder).as_posix())
    return sorted(found)


def _remove_empty_parents(out_dir: Path, rel: str) -> None:
    """Remove the folders of ``rel`` below ``out_dir`` that are now empty (never others)."""
    parts = rel.split("/")[:-1]
    while parts:
        try:
            out_dir.joinpath(*parts).rmdir()
        except OSError:
            return  # not empty (a file of the user's, or of the new export)
        parts.pop()


def _remove_dead_staging(out_dir: Path) -> None:
    """Remove the staging folders an export killed before its end left in ``out_dir``
    (``.baolaocai-export-<pid>-…`` of a process that no longer runs); a live export's,
    and anything else, are kept."""
    try:
        entries = list(os.scandir(out_dir))
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if (
            entry.name.startswith(STAGING_PREFIX)
            and pid.isdigit()
            and int(pid) != os.getpid()
            and not process_alive(int(pid))
            and entry.is_dir(follow_symlinks=False)
        ):
            _remove_staging(Path(entry.path))


def _remove_staging(staging: Path) -> None:
    """Delete our own staging folder (made by mkdtemp in this run) file by file."""
    if not staging.is_dir() or staging.is_symlink():
        return
    for top, dirs, names in os.walk(staging, topdown=False):
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(top, name))
        for name in dirs:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(top, name))
    with contextlib.suppress(OSError):
        staging.rmdir()


def _replace_previous(out_dir: Path, staging: Path, old: list[str]) -> None:
    """Move the finished export from ``staging`` into ``out_dir``, replacing the old one.

    Order, so that an interruption never leaves files of ours that no manifest lists:
    a manifest listing the old and the new files first, then the old files the new
    export does not write are deleted, the new ones moved in, and the final manifest
    written last.
    """
    new = [rel for rel in _files_of(staging) if rel != MANIFEST]
    _check_targets(out_dir, new, old)
    final = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    interim = dict(
        final, files=[{"path": rel, "table": "", "rows": 0} for rel in sorted({*old, *new})]
    )
    interim_file = staging / f"{MANIFEST}.interim"
    interim_file.write_text(json.dumps(interim, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(interim_file, out_dir / MANIFEST)
    for rel in old:
        if rel not in new:
            (out_dir / rel).unlink(missing_ok=True)
            _remove_empty_parents(out_dir, rel)
    for rel in new:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, target)
    os.replace(staging / MANIFEST, out_dir / MANIFEST)


def export(
    con: duckdb.DuckDBPyConnection,
    out_dir: str | Path,
    fmt: Format | str,
    *,
    since: date | None = None,
    until: date | None = None,
    site: str | None = None,
) -> Manifest:
    """Write the articles (and their pictures) of ``site`` (a key; ``None``: every site)
    to ``out_dir``; see the module docstring."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out_dir = Path(out_dir)
    where, params = _filters(since, until, site)
    require_sites(con)
    try:
        old = _previous_files(out_dir) or []
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot read the folder ({exc.strerror or exc})") from None
    exported_at = datetime.now(UTC)
    manifest = Manifest(
        format=fmt,
        exported_at=exported_at.isoformat(timespec="seconds"),
        schema_version=schema_version(con),
        filters={
            "site": site,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _remove_dead_staging(out_dir)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out_dir))
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write there ({exc.strerror or exc})") from None
    done = False
    try:
        _write(con, staging, fmt, where, params, manifest)
        _write_manifest(staging, manifest)
        _replace_previous(out_dir, staging, old)
        done = True
    except duckdb.Error as exc:
        raise WarehouseError(f"export failed: {_first_line(exc)}") from None
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot write the export ({exc.strerror or exc})") from None
    finally:
        _remove_staging(staging)
        if created and not done:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # the folder this call made, if it is still empty
    return manifest


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    fmt: str,
    where: str,
    params: dict[str, object],
    manifest: Manifest,
) -> None:
    tables = ("articles", "article_images") if fmt == "csv" else ("articles",)
    manifest.tables.update(dict.fromkeys(tables, 0))
    # One snapshot for every file: the selected keys are fixed first.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE export_ids AS SELECT site, article_id FROM articles{where}",
        params,
    )
    nested = (
        f"SELECT {', '.join(f'a.{c}' for c in EXPORTED_ARTICLE_COLUMNS)},"
        " coalesce((SELECT list({'position': i.position, 'src': i.src, 'caption': i.caption}"
        "   ORDER BY i.position) FROM article_images i"
        "   WHERE i.site = a.site AND i.article_id = a.article_id), []) AS images"
        " FROM articles a SEMI JOIN export_ids e USING (site, article_id)"
    )
    if fmt == "parquet":
        local = f"timezone('{SITE_TIME_ZONE}', published_at)"
        target = folder / "articles"
        con.execute(
            f"COPY (SELECT *, year({local}) AS year, strftime({local}, '%m') AS month"
            f" FROM ({nested}) ORDER BY published_at, site, article_id)"
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
            f"COPY ({nested} ORDER BY a.published_at, a.site, a.article_id)"
            f" TO '{_sql_path(target)}' (FORMAT json)"
        )
        _add(manifest, folder, target, "articles", _count(con, "export_ids"))
    else:
        articles = folder / "articles.csv"
        flat = ", ".join(
            "to_json(a.tags) AS tags" if c == "tags" else _csv_column("a", c, ARTICLE_COLUMNS[c])
            for c in EXPORTED_ARTICLE_COLUMNS
        )
        con.execute(
            f"COPY (SELECT {flat} FROM articles a SEMI JOIN export_ids e USING (site, article_id)"
            " ORDER BY a.published_at, a.site, a.article_id)"
            f" TO '{_sql_path(articles)}' (FORMAT csv, HEADER)"
        )
        _add(manifest, folder, articles, "articles", _count(con, "export_ids"))
        images = folder / "article_images.csv"
        con.execute(
            f"COPY (SELECT {', '.join(_csv_column('i', c, k) for c, k in IMAGE_COLUMNS.items())}"
            " FROM article_images i SEMI JOIN export_ids e USING (site, article_id)"
            " ORDER BY i.site, i.article_id, i.position)"
            f" TO '{_sql_path(images)}' (FORMAT csv, HEADER)"
        )
        row = con.execute(
            "SELECT count(*) FROM article_images SEMI JOIN export_ids USING (site, article_id)"
        ).fetchone()
        _add(manifest, folder, images, "article_images", int(row[0]) if row else 0)
    con.execute("DROP TABLE IF EXISTS export_ids")


_FORMULA_STARTS_SQL = ", ".join(f"chr({ord(c)})" for c in CSV_FORMULA_STARTS)


def _csv_column(alias: str, column: str, kind: str) -> str:
    """``alias.column`` as a CSV cell: a VARCHAR that a spreadsheet would run as a formula
    gets a leading ``'`` (as :func:`baolaocai.text.csv_safe`); other types as they are."""
    value = f"{alias}.{column}"
    if kind != "VARCHAR":
        return value
    return (
        f"CASE WHEN left({value}, 1) IN ({_FORMULA_STARTS_SQL}) THEN '''' || {value}"
        f" ELSE {value} END AS {column}"
    )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def _add(manifest: Manifest, folder: Path, file: Path, table: str, rows: int) -> None:
    manifest.files.append(
        ManifestFile(file.relative_to(folder).as_posix(), table, rows, _sha256(file))
    )
    manifest.tables[table] = manifest.tables.get(table, 0) + rows


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST).write_text(
        json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
