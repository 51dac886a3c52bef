"""Exports of the warehouse for pandas, R, spreadsheets: Parquet, CSV or JSON Lines.

Every export writes five tables (:data:`TABLES`), each in the chosen format:

* ``articles``: every column of the table (:data:`warehouse.schema.EXPORTED_ARTICLE_COLUMNS`:
  ``removed_at``, ``version``, the extraction quality fields, ``published_date`` …), and
  in Parquet and JSON Lines its pictures as ``images``, a list of
  ``{position, src, caption}`` structs in body order, so that one dataset is
  self-contained;
* ``article_images`` (one row per picture) and ``article_revisions`` (every version,
  the current one included) of the exported articles;
* ``fetch_errors`` and ``crawl_runs``: the crawls' record, every column.

``export(con, out_dir, "parquet")`` writes::

    out_dir/articles/year=2025/month=3/data_0.parquet   Hive partitions of published_at
    out_dir/articles/year=0/month=0/data_0.parquet      (Vietnam time); 0/0: undated
    out_dir/article_images/data_0.parquet               one folder per other table
    out_dir/article_revisions/data_0.parquet
    out_dir/fetch_errors/data_0.parquet
    out_dir/crawl_runs/data_0.parquet
    out_dir/manifest.json

``pd.read_parquet("out_dir/articles")`` or ``SELECT * FROM read_parquet(
'out_dir/articles/**/*.parquet', hive_partitioning = true)``. The folders are named
``month=3``, not ``month=03``: DuckDB reads ``03`` as text, ``3`` as a BIGINT (pandas as
a categorical of integers either way). Undated articles are in ``year=0/month=0``: pandas
cannot read a dataset mixing numbered partitions and ``__HIVE_DEFAULT_PARTITION__``.
Every table has at least one file, of no rows when nothing was selected (the articles'
then in ``year=0/month=0``): its columns are there for a script that reads it.

``jsonl`` writes ``<table>.jsonl`` and ``csv`` writes ``<table>.csv``, one file per
table (CSV cannot nest: ``articles.csv`` has no ``images``; lists are JSON arrays).

Time. Every time is Vietnam time (Asia/Ho_Chi_Minh). Parquet files are written through
pyarrow with their timestamps tagged ``Asia/Ho_Chi_Minh`` in the file's Arrow schema (the
values are instants; DuckDB's own ``COPY`` tags none, so pandas showed UTC and put a
midnight article on the day before); a reader that ignores the tag (DuckDB, whose session
zone may be UTC) has ``published_date``, the Vietnam day as a DATE. CSV and JSON Lines
write ISO 8601 with the offset: ``2023-01-14T00:00:00+07:00``.

CSV. A CSV file is opened by spreadsheets, which run a cell starting with ``=``, ``+``,
``-``, ``@``, tab or CR as a formula (CSV injection): such a *text* cell gets a leading
``'`` (:func:`baolaocai.text.csv_safe`); numbers and times are never changed, and Parquet
and JSON Lines keep every text exactly as stored. CSV is UTF-8 without a BOM with LF line
ends; ``excel=True`` writes a BOM and CRLF line ends, so that a double-click opens the
Vietnamese text right in Excel.

Every file has the ``site`` column first (the key of the paper: a warehouse may hold
several); the per-article tables are keyed by ``(site, article_id, position|version)``.

Filters. ``site`` (a site key) keeps that paper's rows only, in every table; ``None``
exports every site. ``since`` / ``until`` are days in Vietnam time, both inclusive, on
``published_at``; with either one, articles without a date are left out. The pictures
and versions follow the exported articles; ``fetch_errors`` and ``crawl_runs`` are not
filtered by days (a crawl's day is not a publication day: what failed while 2025 was
crawled may have failed on any day). ``manifest.json`` lists every file with its table,
row count and sha256, the rows per table, the filters, the export time, the time zone,
whether CSV is for Excel, and the warehouse schema version.

Left out: ``captures`` and ``raw_pages`` (where each page is in the WARC files: of use
with those files, which a web-archive export carries), the crawler's bookkeeping
(``sitemaps``, ``sitemap_articles``, ``backfill_months``, ``placeholder_pages``).

Memory. Rows are written :data:`CHUNK_ROWS` articles at a time (their pictures and
versions by the same ranges of articles), each chunk one query sorted on its own
(Parquet: one file per chunk, ``data_0.parquet`` for a month of up to that many
articles, then ``data_1.parquet`` …; JSON Lines and CSV: the chunks appended to the one
file), inside one transaction (one snapshot of the warehouse for every file), so that
an export costs the same memory whatever the size of the archive (with DuckDB's memory
capped on a read-only connection, :data:`warehouse.db.READ_MEMORY_LIMIT`). The crawl
tables are small rows, each written by one query.

The export is first written to a hidden folder *inside* ``out_dir``
(``.baolaocai-export-…``) and moved into place when complete: nothing outside ``out_dir``
is ever created, written or deleted, and nothing is removed recursively.

``out_dir`` must be missing, empty, or hold an earlier export: a ``manifest.json`` that
``baolaocai export`` wrote (its ``generator`` says so), whose files still match the
sha256 it recorded for each (a file edited since is the user's now), and whose files all
have the names an export writes (``<table>.jsonl``, ``<table>.csv``,
``articles/year=…/month=…/*.parquet``, ``<table>/*.parquet``; earlier exports'
``month=01`` and ``__HIVE_DEFAULT_PARTITION__`` folders too). Only those files are
replaced or deleted, and only when they are regular files inside ``out_dir`` once
symbolic links are resolved; folders they leave empty are removed one by one. Anything
else (a foreign or edited manifest, a path that leaves the folder, a symbolic link, a
file of the user's where the new export would write) is refused with one
:class:`InputError` line before anything is touched. Other files in ``out_dir`` are left
alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import duckdb

from baolaocai import __version__
from baolaocai.errors import InputError, WarehouseError
from baolaocai.processes import process_alive
from baolaocai.text import CSV_FORMULA_STARTS
from warehouse.db import SITE_TIME_ZONE, require_sites, schema_version
from warehouse.schema import ARTICLE_COLUMNS, EXPORTED_ARTICLE_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

Format = Literal["parquet", "csv", "jsonl"]
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")
MANIFEST = "manifest.json"
GENERATOR = "baolaocai export"
"""How the ``generator`` of our manifests starts: the mark of a folder we may replace."""
_LEGACY_GENERATOR_RE = re.compile(r"^baolaocai [\w.+-]+, duckdb [\w.+-]+$")
"""Manifests written before the mark was ``baolaocai export …``."""
TABLES: tuple[str, ...] = (
    "articles",
    "article_images",
    "article_revisions",
    "fetch_errors",
    "crawl_runs",
)
"""What every export writes, in every format (the manifest's ``tables``)."""
_TABLES_RE = "|".join(TABLES)
_NOT_PARTITIONED_RE = "|".join(t for t in TABLES if t != "articles")
_EXPORT_FILE_RE = re.compile(
    rf"^(?:(?:{_TABLES_RE})\.(?:csv|jsonl)"
    r"|articles/year=(?:\d{1,4}|__HIVE_DEFAULT_PARTITION__)"
    r"/month=(?:\d{1,2}|__HIVE_DEFAULT_PARTITION__)/\w[\w.-]*\.parquet"
    rf"|(?:{_NOT_PARTITIONED_RE})/\w[\w.-]*\.parquet)$"
)
"""The relative paths an export writes (besides ``manifest.json``), and those earlier
exports wrote: ``month=01`` and ``__HIVE_DEFAULT_PARTITION__`` folders, replaced as ours."""
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
    time_zone: str = SITE_TIME_ZONE
    """The zone of every time in the files: text formats write its offset (``+07:00``),
    Parquet tags its timestamps with it."""
    excel: bool = False
    """CSV written for Excel: UTF-8 with a BOM and CRLF line ends."""

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
    excel: bool = False,
) -> Manifest:
    """Write the articles of ``site`` (a key; ``None``: every site), their pictures and
    versions, and the site's fetch errors and runs to ``out_dir``; ``excel``: CSV for
    Excel (BOM, CRLF). See the module docstring."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if excel and fmt != "csv":
        raise InputError(f"--excel is for --format csv, not {fmt}")
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
        excel=excel,
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
        _write(con, staging, fmt, (where, params), site, manifest, excel=excel)
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


CHUNK_ROWS = 2000
"""Articles one file write takes at most (about 10 MB of text). The export is written chunk
by chunk, each sorted on its own: one sort of every exported row, bodies included, held
the whole selection in memory (peak RSS 572 MiB at 20,000 articles, 231 at 5,000, and
DuckDB's sort of such wide rows failed rather than spill under a memory limit), while a
chunk costs the same however big the archive. Chunks of articles are ranges of
``published_at`` cut between two distinct times, so the rows of one time stay in one chunk
and their order (``site``, ``article_id``) is kept; their pictures and versions go by
ranges of ``(site, article_id)`` of that many articles."""
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
"""The partition name of undated articles in exports before #22 (still recognised as ours)."""
UNDATED = 0
"""``year``/``month`` of the partition of the articles without ``published_at``: no real
month is 0, and pandas (pyarrow) cannot read a dataset whose partitions mix values and
``__HIVE_DEFAULT_PARTITION__`` ("Cannot yet unify dictionaries with nulls")."""
FETCH_ROWS = 1000
"""Rows read from a cursor at a time (the chunks' bounds)."""
UTF8_BOM = b"\xef\xbb\xbf"
_TIMESTAMPTZ = frozenset({"TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"})


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A range of the selected articles: ``published_at`` from ``first`` to ``last`` (or
    ``None``: the undated ones), in the Parquet partition ``year``/``month``."""

    first: datetime | None
    last: datetime | None
    year: int
    month: int

    def where(self, where: str) -> tuple[str, dict[str, object]]:
        """``where`` (the export's filters, ``""`` or `` WHERE …``) narrowed to the chunk."""
        if self.first is None:
            return _and(where, "published_at IS NULL"), {}
        params: dict[str, object] = {"chunk_first": self.first, "chunk_last": self.last}
        return _and(where, "published_at BETWEEN $chunk_first AND $chunk_last"), params


def _and(where: str, clause: str) -> str:
    return f"{where} AND {clause}" if where else f" WHERE {clause}"


def _article_chunks(
    con: duckdb.DuckDBPyConnection, where: str, params: dict[str, object], *, by_month: bool
) -> list[_Chunk]:
    """The selected articles cut into chunks of about :data:`CHUNK_ROWS` (never across a
    month with ``by_month``), in export order (``published_at``, undated last). Only the
    distinct times and their counts are read, a few at a time; the list holds one entry
    per chunk."""
    local = f"timezone('{SITE_TIME_ZONE}', published_at)"
    cursor = con.execute(
        f"SELECT published_at, year({local}), month({local}), count(*)"
        f" FROM articles{where} GROUP BY ALL ORDER BY published_at NULLS LAST",
        params,
    )
    chunks: list[_Chunk] = []
    first: datetime | None = None
    last: datetime | None = None
    part = (-1, -1)
    rows = 0
    while batch := cursor.fetchmany(FETCH_ROWS):
        for published_at, year, month, count in batch:
            key = (UNDATED, UNDATED) if published_at is None else (int(year), int(month))
            starts = rows >= CHUNK_ROWS or (by_month and key != part)
            if rows and (starts or published_at is None):
                chunks.append(_Chunk(first, last, *part))
                rows = 0
            if rows == 0:
                first, part = published_at, key
            last = published_at
            rows += int(count)
    if rows:
        chunks.append(_Chunk(first, last, *part))
    return chunks


def _key_chunks(
    con: duckdb.DuckDBPyConnection, where: str, params: dict[str, object]
) -> list[tuple[str, int, int]]:
    """The selected articles as ``(site, first article_id, last article_id)`` ranges of
    about :data:`CHUNK_ROWS`, in key order (for their pictures and versions)."""
    cursor = con.execute(
        f"SELECT site, article_id FROM articles{where} ORDER BY site, article_id", params
    )
    ranges: list[tuple[str, int, int]] = []
    site: str | None = None
    first = last = rows = 0
    while batch := cursor.fetchmany(FETCH_ROWS):
        for row_site, article_id in batch:
            if site is not None and (row_site != site or rows >= CHUNK_ROWS):
                ranges.append((site, first, last))
                site = None
            if site is None:
                site, first, rows = row_site, article_id, 0
            last = article_id
            rows += 1
    if site is not None:
        ranges.append((site, first, last))
    return ranges


@contextlib.contextmanager
def _snapshot(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around the export's statements: every file, and every chunk of
    it, sees the same warehouse (the caller's transaction, when one is open)."""
    try:
        con.execute("BEGIN TRANSACTION")
        began = True
    except duckdb.TransactionException:  # already in one: that is the snapshot
        began = False
    try:
        yield
    finally:
        if began:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")  # nothing was written to the warehouse


def _copy(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, object],
    target: Path,
    options: str,
) -> int:
    """``COPY (query) TO target (options)``; the rows written."""
    row = con.execute(f"COPY ({query}) TO '{_sql_path(target)}' ({options})", params).fetchone()
    return int(row[0]) if row else 0


def _vietnam_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every zoned timestamp in Vietnam time. Only the zone's name
    changes (the values are UTC instants either way); pyarrow keeps it in the file's
    Arrow schema, so pandas reads Vietnam-time values whose ``.dt.date`` is the Vietnam
    day, whatever the time zone of DuckDB's session."""
    import pyarrow as pa

    fields = [
        f.with_type(pa.timestamp(f.type.unit, tz=SITE_TIME_ZONE))
        if pa.types.is_timestamp(f.type) and f.type.tz is not None
        else f
        for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def _parquet_file(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object], target: Path
) -> int:
    """The rows of ``query`` as one Parquet file (zstd), streamed through pyarrow in
    batches of up to :data:`CHUNK_ROWS` rows (a row group each); the rows written.

    Not DuckDB's ``COPY``: it writes zoned timestamps as UTC instants with no zone a
    reader sees, so pandas shows UTC and a midnight article lands on the day before."""
    import pyarrow as pa  # only here: a CSV or JSON Lines export does without (~40 MiB)
    import pyarrow.parquet as pq

    reader = con.execute(query, params).to_arrow_reader(CHUNK_ROWS)
    schema = _vietnam_schema(reader.schema)
    rows = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_table(pa.Table.from_batches([batch]).cast(schema))
            rows += batch.num_rows
    return rows


def _append(target: Path, part: Path) -> None:
    """Add the file ``part`` to the end of ``target`` and delete it (a chunk's rows)."""
    with open(part, "rb") as source, open(target, "ab") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
    part.unlink()


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    kind: str
    """The DuckDB type, spelled as :data:`warehouse.schema.ARTICLE_COLUMNS` does."""
    source: str
    """SQL for the value, from the table aliased ``t``."""


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """The columns of ``table`` in the warehouse, in table order: name -> type."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name ="
        " current_database() AND schema_name = 'main' AND table_name = ?"
        " ORDER BY column_index",
        [table],
    ).fetchall()
    return {str(name): "TIMESTAMPTZ" if kind in _TIMESTAMPTZ else str(kind) for name, kind in rows}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[_Column]:
    """What an export writes of ``table``: for ``articles`` the declared
    :data:`~warehouse.schema.EXPORTED_ARTICLE_COLUMNS` (a warehouse of an older schema,
    opened read-only, lacks some: ``published_date`` is then derived from
    ``published_at``, the others are NULL); of the other tables every column they have."""
    present = _table_columns(con, table)
    if table != "articles":
        return [_Column(name, kind, f't."{name}"') for name, kind in present.items()]
    columns: list[_Column] = []
    for name in EXPORTED_ARTICLE_COLUMNS:
        kind = ARTICLE_COLUMNS[name]
        if name in present:
            source = f't."{name}"'
        elif name == "published_date":
            source = f"CAST(timezone('{SITE_TIME_ZONE}', t.published_at) AS DATE)"
        else:
            source = f"CAST(NULL AS {kind})"
        columns.append(_Column(name, kind, source))
    return columns


def _iso8601(value: str) -> str:
    """SQL for the TIMESTAMPTZ ``value`` as ISO 8601 text in Vietnam time with its offset
    (``2023-01-14T00:00:00+07:00``; microseconds only when there are some, as Python's
    ``isoformat``), whatever the session's time zone. The offset is computed, not
    written as ``+07:00``: Asia/Ho_Chi_Minh was +08:00 in some earlier years."""
    local = f"timezone('{SITE_TIME_ZONE}', {value})"
    minutes = f"((epoch_us({local}) - epoch_us({value})) // 60000000)"
    return (
        f"strftime({local}, '%Y-%m-%dT%H:%M:%S')"
        f" || CASE WHEN microsecond({value}) % 1000000 <> 0"
        f" THEN strftime({local}, '.%f') ELSE '' END"
        f" || CASE WHEN {minutes} < 0 THEN '-' ELSE '+' END"
        f" || lpad(CAST(abs({minutes}) // 60 AS VARCHAR), 2, '0')"
        f" || ':' || lpad(CAST(abs({minutes}) % 60 AS VARCHAR), 2, '0')"
    )


def _cell(column: _Column, fmt: str) -> str:
    """The select item of ``column`` in format ``fmt``: Parquet keeps every type; the text
    formats write times as ISO 8601 with their offset (``+07:00``); CSV writes lists as
    JSON arrays and neutralises text a spreadsheet would run as a formula."""
    value = column.source
    if column.kind == "TIMESTAMPTZ" and fmt != "parquet":
        value = _iso8601(value)
    elif fmt == "csv" and column.kind.endswith("[]"):
        value = f"CAST(to_json({value}) AS VARCHAR)"
    elif fmt == "csv" and column.kind == "VARCHAR":
        value = _csv_safe(value)
    return f'{value} AS "{column.name}"'


_NESTED_IMAGES = (
    "coalesce((SELECT list({'position': i.position, 'src': i.src, 'caption': i.caption}"
    " ORDER BY i.position) FROM article_images i"
    " WHERE i.site = t.site AND i.article_id = t.article_id), []) AS images"
)
"""An article's pictures as a list of structs in body order (Parquet and JSON Lines)."""

_PER_ARTICLE_ORDER = {"article_images": "position", "article_revisions": "version"}
"""Tables of rows of the selected articles -> their key after ``(site, article_id)``."""
_CRAWL_ORDER = {
    "fetch_errors": "t.site, t.failed_at, t.url, t.run_id",
    "crawl_runs": "t.site, t.started_at, t.run_id",
}
"""Tables of the crawls (filtered by ``site`` only, not by days) -> their order."""


@dataclass(frozen=True, slots=True)
class _Part:
    """One chunk of a table: its query and, in Parquet, the folder of its file."""

    query: str
    params: dict[str, object]
    folder: str


def _parts(
    con: duckdb.DuckDBPyConnection,
    table: str,
    fmt: str,
    selection: tuple[str, dict[str, object]],
    site: str | None,
    keys: list[tuple[str, int, int]],
) -> list[_Part]:
    """The chunks of ``table`` to write, in order: at least one, so that every table has
    its file even when no row was selected (a CSV header, an empty JSON Lines file, a
    Parquet file of no rows: its columns; for the articles in ``year=0/month=0``).

    ``selection`` is the export's ``WHERE`` on ``articles`` and its parameters; ``keys``
    the selected articles' key ranges (:func:`_key_chunks`)."""
    where, params = selection
    cells = [_cell(c, fmt) for c in _columns(con, table)]
    if table == "articles" and fmt != "csv":
        cells.append(_NESTED_IMAGES)
    select = ", ".join(cells)
    if table == "articles":
        parts = []
        for chunk in _article_chunks(con, where, params, by_month=fmt == "parquet"):
            chunk_where, chunk_params = chunk.where(where)
            parts.append(
                _Part(
                    f"SELECT {select} FROM articles t{chunk_where}"
                    " ORDER BY t.published_at, t.site, t.article_id",
                    params | chunk_params,
                    f"articles/year={chunk.year}/month={chunk.month}",
                )
            )
        empty = f"SELECT {select} FROM articles t{_and(where, 'FALSE')}"
        return parts or [_Part(empty, params, f"articles/year={UNDATED}/month={UNDATED}")]
    if table in _PER_ARTICLE_ORDER:
        in_range = "site = $chunk_site AND article_id BETWEEN $chunk_first AND $chunk_last"
        # The range on the table too: its scan skips what lies outside it.
        query = (
            f"SELECT {select} FROM (SELECT * FROM {table} WHERE {in_range}) t"
            f" SEMI JOIN (SELECT site, article_id FROM articles{_and(where, in_range)}) e"
            " USING (site, article_id)"
            f" ORDER BY t.site, t.article_id, t.{_PER_ARTICLE_ORDER[table]}"
        )
        return [
            _Part(query, params | {"chunk_site": s, "chunk_first": a, "chunk_last": b}, table)
            for s, a, b in keys
        ] or [_Part(f"SELECT {select} FROM {table} t WHERE FALSE", {}, table)]
    if site is None:
        return [_Part(f"SELECT {select} FROM {table} t ORDER BY {_CRAWL_ORDER[table]}", {}, table)]
    query = f"SELECT {select} FROM {table} t WHERE t.site = $site ORDER BY {_CRAWL_ORDER[table]}"
    return [_Part(query, {"site": site}, table)]


def _write(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    fmt: str,
    selection: tuple[str, dict[str, object]],
    site: str | None,
    manifest: Manifest,
    *,
    excel: bool = False,
) -> None:
    """Every table of :data:`TABLES` into ``folder``, in one snapshot of the warehouse."""
    manifest.tables.update(dict.fromkeys(TABLES, 0))
    with _snapshot(con):
        keys = _key_chunks(con, *selection)
        for table in TABLES:
            parts = _parts(con, table, fmt, selection, site, keys)
            if fmt == "parquet":
                _write_parquet(con, folder, table, parts, manifest)
            else:
                _write_text(con, folder, table, fmt, parts, manifest, excel=excel)


def _write_parquet(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    table: str,
    parts: list[_Part],
    manifest: Manifest,
) -> None:
    """One file per chunk, ``data_<n>.parquet`` in its folder: ``articles/year=…/month=…``
    (Hive partitions by the Vietnam-time month of ``published_at``; the partition
    columns are in the folder names only) or the table's own folder."""
    files_in: dict[str, int] = {}
    for part in parts:
        n = files_in.get(part.folder, 0)
        files_in[part.folder] = n + 1
        path = folder / part.folder / f"data_{n}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        _add(manifest, folder, path, table, _parquet_file(con, part.query, part.params, path))


def _write_text(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    table: str,
    fmt: str,
    parts: list[_Part],
    manifest: Manifest,
    *,
    excel: bool,
) -> None:
    """``<table>.csv`` or ``<table>.jsonl``: the chunks appended to the one file (CSV: the
    header with the first; with ``excel``, a BOM first and CRLF line ends)."""
    target = folder / f"{table}.{fmt}"
    chunk = folder / f".chunk.{fmt}"
    target.write_bytes(UTF8_BOM if excel else b"")
    rows = 0
    for number, part in enumerate(parts):
        if fmt == "csv":
            options = f"FORMAT csv, HEADER {'TRUE' if number == 0 else 'FALSE'}"
            if excel:
                options += r", NEW_LINE '\r\n'"
        else:
            options = "FORMAT json"
        rows += _copy(con, part.query, part.params, chunk, options)
        _append(target, chunk)
    _add(manifest, folder, target, table, rows)


_FORMULA_STARTS_SQL = ", ".join(f"chr({ord(c)})" for c in CSV_FORMULA_STARTS)


def _csv_safe(value: str) -> str:
    """SQL for the VARCHAR ``value`` as a CSV cell: text a spreadsheet would run as a
    formula gets a leading ``'`` (as :func:`baolaocai.text.csv_safe`)."""
    return (
        f"CASE WHEN left({value}, 1) IN ({_FORMULA_STARTS_SQL}) THEN '''' || {value}"
        f" ELSE {value} END"
    )


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
