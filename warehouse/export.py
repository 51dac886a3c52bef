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

Memory. The rows are written :data:`CHUNK_ROWS` articles at a time, each chunk one
``COPY`` sorted on its own (Parquet: one file per chunk, ``data_0.parquet`` for a month
of up to that many articles, then ``data_1.parquet`` …; JSON Lines and CSV: the chunks
appended to the one file), inside one transaction, so that an export costs the same
memory whatever the size of the archive (with DuckDB's memory capped on a read-only
connection, :data:`warehouse.db.READ_MEMORY_LIMIT`).

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
import shutil
import tempfile
from collections.abc import Iterator
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


CHUNK_ROWS = 2000
"""Articles one ``COPY`` writes at most (about 10 MB of text). The export is written chunk
by chunk, each sorted on its own: one sort of every exported row, bodies included, held
the whole selection in memory (peak RSS 572 MiB at 20,000 articles, 231 at 5,000, and
DuckDB's sort of such wide rows failed rather than spill under a memory limit), while a
chunk costs the same however big the archive. Chunks are ranges of ``published_at`` cut
between two distinct times, so the rows of one time stay in one chunk and their order
(``site``, ``article_id``) is kept."""
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
FETCH_ROWS = 1000
"""Rows read from a cursor at a time (the chunks' bounds)."""


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A range of the selected articles: ``published_at`` from ``first`` to ``last`` (or
    ``None``: the undated ones), in the Parquet partition ``year``/``month``."""

    first: datetime | None
    last: datetime | None
    year: str
    month: str

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
        f"SELECT published_at, CAST(year({local}) AS VARCHAR), strftime({local}, '%m'),"
        f" count(*) FROM articles{where} GROUP BY ALL ORDER BY published_at NULLS LAST",
        params,
    )
    chunks: list[_Chunk] = []
    first: datetime | None = None
    last: datetime | None = None
    part = ("", "")
    rows = 0
    while batch := cursor.fetchmany(FETCH_ROWS):
        for published_at, year, month, count in batch:
            key = (year or HIVE_NULL, month or HIVE_NULL)
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
    about :data:`CHUNK_ROWS`, in key order (for the pictures, ordered by article)."""
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


def _append(target: Path, part: Path) -> None:
    """Add the file ``part`` to the end of ``target`` and delete it (a chunk's rows)."""
    with open(part, "rb") as source, open(target, "ab") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
    part.unlink()


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
    with _snapshot(con):
        if fmt == "parquet":
            _write_parquet(con, folder, where, params, manifest)
        elif fmt == "jsonl":
            _write_jsonl(con, folder, where, params, manifest)
        else:
            _write_csv(con, folder, where, params, manifest)


def _nested(where: str) -> str:
    """The exported rows with their pictures (a list of structs), in export order."""
    return (
        f"SELECT {', '.join(f'a.{c}' for c in EXPORTED_ARTICLE_COLUMNS)},"
        " coalesce((SELECT list({'position': i.position, 'src': i.src, 'caption': i.caption}"
        "   ORDER BY i.position) FROM article_images i"
        "   WHERE i.site = a.site AND i.article_id = a.article_id), []) AS images"
        f" FROM articles a{where} ORDER BY a.published_at, a.site, a.article_id"
    )


def _write_parquet(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    where: str,
    params: dict[str, object],
    manifest: Manifest,
) -> None:
    """``articles/year=…/month=…/data_<n>.parquet``: one file per chunk (``data_0`` for a
    month of up to :data:`CHUNK_ROWS` articles), Hive-partitioned by the Vietnam-time
    month of ``published_at`` (the partition columns are in the folder names only)."""
    target = folder / "articles"
    written: dict[Path, int] = {}
    files_in: dict[tuple[str, str], int] = {}
    for chunk in _article_chunks(con, where, params, by_month=True):
        n = files_in.get((chunk.year, chunk.month), 0)
        files_in[(chunk.year, chunk.month)] = n + 1
        path = target / f"year={chunk.year}" / f"month={chunk.month}" / f"data_{n}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        chunk_where, chunk_params = chunk.where(where)
        options = "FORMAT parquet, COMPRESSION zstd"
        written[path] = _copy(con, _nested(chunk_where), params | chunk_params, path, options)
    for path in sorted(written):
        _add(manifest, folder, path, "articles", written[path])


def _write_jsonl(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    where: str,
    params: dict[str, object],
    manifest: Manifest,
) -> None:
    target = folder / "articles.jsonl"
    part = folder / ".chunk.jsonl"
    target.touch()
    rows = 0
    for chunk in _article_chunks(con, where, params, by_month=False):
        chunk_where, chunk_params = chunk.where(where)
        rows += _copy(con, _nested(chunk_where), params | chunk_params, part, "FORMAT json")
        _append(target, part)
    _add(manifest, folder, target, "articles", rows)


def _write_csv(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    where: str,
    params: dict[str, object],
    manifest: Manifest,
) -> None:
    articles = folder / "articles.csv"
    part = folder / ".chunk.csv"
    flat = ", ".join(
        "to_json(a.tags) AS tags" if c == "tags" else _csv_column("a", c, ARTICLE_COLUMNS[c])
        for c in EXPORTED_ARTICLE_COLUMNS
    )
    # The header comes with the first chunk, or alone for an empty selection.
    chunks: list[_Chunk | None] = [*_article_chunks(con, where, params, by_month=False)]
    rows = 0
    for number, chunk in enumerate(chunks or [None]):
        chunk_where, chunk_params = chunk.where(where) if chunk else (_and(where, "FALSE"), {})
        query = (
            f"SELECT {flat} FROM articles a{chunk_where}"
            " ORDER BY a.published_at, a.site, a.article_id"
        )
        header = "TRUE" if number == 0 else "FALSE"
        rows += _copy(con, query, params | chunk_params, part, f"FORMAT csv, HEADER {header}")
        _append(articles, part)
    _add(manifest, folder, articles, "articles", rows)

    images = folder / "article_images.csv"
    columns = ", ".join(_csv_column("i", c, k) for c, k in IMAGE_COLUMNS.items())
    ranges: list[tuple[str, int, int] | None] = [*_key_chunks(con, where, params)]
    rows = 0
    for number, key_range in enumerate(ranges or [None]):
        range_params: dict[str, object] = {}
        in_range = "FALSE"  # an empty selection: the header alone
        if key_range is not None:
            in_range = "site = $chunk_site AND article_id BETWEEN $chunk_first AND $chunk_last"
            site, first, last = key_range
            range_params = {"chunk_site": site, "chunk_first": first, "chunk_last": last}
        # The range on the pictures too: their scan skips what lies outside it.
        query = (
            f"SELECT {columns} FROM (SELECT * FROM article_images WHERE {in_range}) i"
            f" SEMI JOIN (SELECT site, article_id FROM articles{_and(where, in_range)}) e"
            " USING (site, article_id) ORDER BY i.site, i.article_id, i.position"
        )
        header = "TRUE" if number == 0 else "FALSE"
        rows += _copy(con, query, params | range_params, part, f"FORMAT csv, HEADER {header}")
        _append(images, part)
    _add(manifest, folder, images, "article_images", rows)


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
