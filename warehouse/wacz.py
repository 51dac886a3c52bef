"""The web archive as one WACZ file (Web Archive Collection Zipped, version 1.1.1,
https://specs.webrecorder.net/wacz/1.1.1/): what ReplayWeb.page opens as it is, and
what a researcher hands on as one file.

:func:`export_wacz` ``(con, warc_dir, out_file, *, site=None, since=None, until=None)
-> WaczSummary`` writes a ZIP holding:

- ``archive/*.warc.gz``, stored (not deflated, so that a reader seeks into them):
  **without** ``since``/``until``, the WARC files that hold the selected captures
  (``site``'s, or every site's), whole and byte for byte, every record in them (a file
  only ever holds one site's captures). **With** ``since``/``until`` (Vietnam calendar
  days of ``captures.fetched_at``, both included), one new WARC file holding a copy of
  each selected capture's gzip member and of its ``request`` record, byte for byte (their
  digests and record ids unchanged), after a ``warcinfo`` naming the selection; a
  selected revisit brings the response it refers to along, whatever its date, so that
  every record in the file replays.
- ``indexes/index.cdx`` (CDXJ lines; the name pywb's ``--unpack-wacz`` reads): one line
  per ``response`` record and ``identical-payload-digest`` revisit of those files (a 304's
  revisit is kept in the WARC but not indexed: :func:`replayable`)
  (SURT key, 14-digit UTC timestamp, JSON with ``url``, ``mime`` (``warc/revisit`` for a
  revisit), ``status``, ``digest``, ``length``, ``offset``, ``filename``), sorted: the
  lines ``cdxj-indexer`` writes for the same files, those of 304 revisits aside (a test
  compares them).
- ``pages/pages.jsonl``: the ``json-pages-1.0`` header, then one line per article of the
  warehouse whose page is among the captures: its ``url``, ``ts`` (the latest capture of
  it in the export that replays, ISO UTC) and ``title`` (what ReplayWeb.page lists as the pages).
- ``datapackage.json`` (``wacz_version`` 1.1.1, every file with its ``sha256:`` hash and
  size) and ``datapackage-digest.json`` (the hash of ``datapackage.json``).

Only :mod:`warcio` (through :mod:`warehouse.warc`) and the standard library are used.
The file is written beside ``out_file`` under a temporary name and renamed over it once
complete, so a reader never sees half a WACZ; an existing ``out_file`` is replaced only
when it is a WACZ this module wrote (else :class:`~baolaocai.errors.InputError`), never
through a symbolic link. WARC file names come from the warehouse, i.e. are data: a name
that could leave the archive folder is refused (:func:`warehouse.warc.check_warc_name`)
and no WARC file is read through a symbolic link.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import urlsplit

import duckdb
from warcio.recordbuilder import RecordBuilder
from warcio.warcwriter import WARCWriter

from baolaocai import __version__
from baolaocai.errors import InputError
from warehouse.warc import (
    WARC_VERSION,
    IndexEntry,
    WarcError,
    check_warc_name,
    concurrent_request,
    gzip_member,
    index_member,
    iter_index,
    read_member,
    warc_date,
)

WACZ_VERSION = "1.1.1"
INDEX_PATH = "indexes/index.cdx"
"""The CDXJ index, under one of the names the spec and ``wacz validate`` accept
(``index.cdx``, ``index.cdx.gz``, ``index.idx``): pywb's ``wb-manager add --unpack-wacz``
takes only ``*.cdx`` and ``*.cdx.gz`` files from ``indexes/`` (an ``index.cdxj`` left
the collection empty, with a warning and exit 0)."""
SOFTWARE = f"baolaocai {__version__} (warehouse.wacz)"
"""``datapackage.json``'s ``software``: how an existing file is known to be ours."""
_COPY = 1 << 20
_CHUNK_ROWS = 10_000
_SORT_LINES = 200_000
_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True, slots=True)
class WaczSummary:
    """What one export wrote."""

    files: int
    """WARC files in ``archive/``."""
    pages: int
    """Lines of ``pages/pages.jsonl`` after its header (articles)."""
    captures: int
    """Lines of the index (responses and the revisits that replay)."""
    bytes: int
    """Size of the WACZ file."""


@dataclass(frozen=True, slots=True)
class _Row:
    site: str
    url: str
    fetched_at: datetime
    warc_file: str
    offset: int
    length: int
    record_id: str


# --------------------------------------------------------------------------- pure parts


def surt_key(url: str) -> str:
    """The SURT form of ``url`` the CDXJ index sorts by, as the ``surt`` package writes
    it for the archive's URLs: lower case, no scheme, ``www.`` dropped, host labels
    reversed and joined by commas, default port dropped, no trailing slash, query
    parameters sorted, no fragment (``https://www.baolaocai.vn/A-post1.html?b=2&a=1``
    -> ``vn,baolaocai)/a-post1.html?a=1&b=2``)."""
    parts = urlsplit(url.strip().lower())
    host = parts.hostname or ""
    if host.startswith("www.") or (host.startswith("www") and host[3:4].isdigit()):
        host = host.split(".", 1)[1] if "." in host else host
    key = ",".join(reversed(host.split(".")))
    port = parts.port if parts.netloc and ":" in parts.netloc.rsplit("@", 1)[-1] else None
    if port is not None and str(port) != _DEFAULT_PORTS.get(parts.scheme):
        key += f":{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = "&".join(sorted(q for q in parts.query.split("&") if q))
    return f"{key}){path}" + (f"?{query}" if query else "")


def replayable(entry: IndexEntry) -> bool:
    """Whether the index lists ``entry``: a response, or a revisit of identical payload.
    A ``server-not-modified`` revisit (a 304) stays in the WARC file, the evidence that
    the page was unchanged on that day, but is not indexed: a replay tool that lands on
    it (pywb, asked for the page's latest capture) serves an empty 304 page."""
    return not (entry.rec_type == "revisit" and entry.status == 304)


def cdxj_line(entry: IndexEntry, filename: str) -> str:
    """One ``index.cdxj`` line of a response or revisit record of ``filename``."""
    fields: dict[str, str] = {"url": entry.url, "mime": entry.mime}
    if entry.status is not None:
        fields["status"] = str(entry.status)
    fields.update(
        digest=entry.digest,
        length=str(entry.length),
        offset=str(entry.offset),
        filename=filename,
    )
    stamp = f"{entry.date.astimezone(UTC):%Y%m%d%H%M%S}"
    return f"{surt_key(entry.url)} {stamp} {json.dumps(fields, ensure_ascii=False)}"


def pages_lines(title: str, pages: Iterable[tuple[str, datetime, str | None]]) -> Iterator[str]:
    """The lines of ``pages/pages.jsonl``: the ``json-pages-1.0`` header, then ``url``,
    ``ts`` and ``title`` of each page."""
    yield json.dumps({"format": "json-pages-1.0", "id": "pages", "title": title}) + "\n"
    for url, moment, page_title in pages:
        line: dict[str, Any] = {"url": url, "ts": _iso(moment)}
        if page_title:
            line["title"] = page_title
        yield json.dumps(line, ensure_ascii=False) + "\n"


def _iso(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def _title(site: str | None, since: date | None, until: date | None) -> str:
    what = f"site {site}" if site else "every site"
    if since is None and until is None:
        return f"baolaocai web archive: {what}"
    return f"baolaocai web archive: {what}, {since or '…'} to {until or '…'} (Vietnam days)"


# --------------------------------------------------------------------------- the warehouse


def _where(
    site: str | None, since: date | None, until: date | None, alias: str = ""
) -> tuple[str, list[object]]:
    col = f"{alias}." if alias else ""
    clauses: list[str] = []
    params: list[object] = []
    if site is not None:
        clauses.append(f"{col}site = ?")
        params.append(site)
    day = f"CAST(timezone('Asia/Ho_Chi_Minh', {col}fetched_at) AS DATE)"
    if since is not None:
        clauses.append(f"{day} >= ?")
        params.append(since)
    if until is not None:
        clauses.append(f"{day} <= ?")
        params.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


_SELECTED = (
    "WITH chosen AS (SELECT * FROM captures{where})"
    " SELECT site, url, fetched_at, warc_file, warc_offset, warc_length, record_id"
    " FROM chosen"
    " UNION"
    " SELECT c.site, c.url, c.fetched_at, c.warc_file, c.warc_offset, c.warc_length,"
    "  c.record_id FROM captures c JOIN chosen r"
    "  ON r.refers_to = c.record_id AND r.site = c.site"
)
"""The selected captures, plus the responses their revisits refer to."""


def _selected_files(
    con: duckdb.DuckDBPyConnection, site: str | None, since: date | None, until: date | None
) -> list[str]:
    """The WARC files holding the selected captures, each name checked (data from the
    warehouse: one that could leave the archive folder is refused before anything is
    written)."""
    where, params = _where(site, since, until)
    sql = f"SELECT DISTINCT warc_file FROM ({_SELECTED.format(where=where)}) ORDER BY 1"
    return [check_warc_name(name) for (name,) in con.execute(sql, params).fetchall()]


def _selected(
    con: duckdb.DuckDBPyConnection, site: str | None, since: date | None, until: date | None
) -> Iterator[_Row]:
    """The selected captures in file order, streamed (memory stays at one chunk)."""
    where, params = _where(site, since, until)
    cursor = _cursor(con)
    try:
        cursor.execute(f"{_SELECTED.format(where=where)} ORDER BY warc_file, warc_offset", params)
        while chunk := cursor.fetchmany(_CHUNK_ROWS):
            yield from (_Row(*row) for row in chunk)
    finally:
        cursor.close()


def _cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of ``con`` reading its database: a cursor starts in DuckDB's default one,
    which is the warehouse for a file but an empty in-memory one beside a lake (attached
    as ``warehouse``: :mod:`warehouse.lake`)."""
    row = con.execute("SELECT current_database()").fetchone()
    cursor = con.cursor()
    if row is not None:
        cursor.execute('USE "' + str(row[0]).replace('"', '""') + '"')
    return cursor


def _pages(
    con: duckdb.DuckDBPyConnection, site: str | None, since: date | None, until: date | None
) -> Iterator[tuple[str, datetime, str | None]]:
    """Each article whose page is among the selected captures: URL, its latest capture
    that replays (not a 304's revisit: :func:`replayable`), title (streamed)."""
    where, params = _where(site, since, until, "c")
    cursor = _cursor(con)
    try:
        cursor.execute(
            "SELECT a.url, max(c.fetched_at), any_value(a.title)"
            f" FROM captures c JOIN articles a ON a.site = c.site AND a.url = c.url{where}"
            f" {'AND' if where else 'WHERE'} NOT (c.record_type = 'revisit' AND c.status = 304)"
            " GROUP BY a.site, a.url ORDER BY a.url",
            params,
        )
        while chunk := cursor.fetchmany(_CHUNK_ROWS):
            yield from ((str(url), moment, title) for url, moment, title in chunk)
    finally:
        cursor.close()


class _SortedLines:
    """Lines gathered in any order and written out sorted, in bounded memory: every
    :data:`_SORT_LINES` lines are sorted and spilled to a file of ``folder``, and the
    files are merged at the end (an archive of millions of records is indexed in a few
    tens of MB)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.buffer: list[str] = []
        self.runs: list[Path] = []
        self.count = 0

    def add(self, line: str) -> None:
        self.buffer.append(line)
        self.count += 1
        if len(self.buffer) >= _SORT_LINES:
            self._spill()

    def _spill(self) -> None:
        path = self.folder / f"run-{len(self.runs):05d}.cdxj"
        self.buffer.sort()
        path.write_text("".join(f"{line}\n" for line in self.buffer), encoding="utf-8")
        self.runs.append(path)
        self.buffer = []

    def write(self, out: _Hashing) -> None:
        self.buffer.sort()
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(p.open(encoding="utf-8")) for p in self.runs]
            memory = (f"{line}\n" for line in self.buffer)
            for line in heapq.merge(*files, memory):
                out.write(line.encode("utf-8"))


# --------------------------------------------------------------------------- the file


def _is_ours(path: Path) -> bool:
    """Whether ``path`` is a WACZ this module wrote (its ``datapackage.json`` says so)."""
    try:
        with zipfile.ZipFile(path) as archive:
            package = json.loads(archive.read("datapackage.json"))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False
    return isinstance(package, dict) and package.get("software", "").startswith("baolaocai ")


def _check_out(out_file: Path) -> Path:
    out = Path(out_file)
    if out.is_symlink():
        raise InputError(f"{out} is a symbolic link: give the path of the WACZ file itself")
    if out.exists():
        if not out.is_file():
            raise InputError(f"{out} exists and is not a file")
        if not _is_ours(out):
            raise InputError(f"{out} exists and is not a WACZ written by baolaocai; not replaced")
    if not out.parent.is_dir():
        raise InputError(f"no folder {out.parent} to write {out.name} in")
    return out


class _Hashing(io.RawIOBase):
    """A write-only stream into a ZIP entry that hashes and counts what goes through."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.sink.write(view)
        self.sha.update(view)
        self.size += len(view)
        return len(view)


@dataclass(frozen=True, slots=True)
class _Resource:
    path: str
    sha256: str
    size: int

    def entry(self) -> dict[str, object]:
        return {
            "name": self.path.rsplit("/", 1)[-1].lower(),
            "path": self.path,
            "hash": f"sha256:{self.sha256}",
            "bytes": self.size,
        }


def _add_bytes(zf: zipfile.ZipFile, path: str, data: bytes) -> None:
    info = zipfile.ZipInfo(path, _zip_time())
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = datetime.now(UTC)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


def _stored_entry(zf: zipfile.ZipFile, path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, _zip_time())
    info.compress_type = zipfile.ZIP_STORED
    return info


def _copy_whole(zf: zipfile.ZipFile, warc_dir: Path, name: str) -> tuple[_Resource, int]:
    """WARC file ``name`` into ``archive/``, as it is now (the bytes up to its size when
    opened: a run appending meanwhile adds nothing half-written); returns the resource
    and the size copied."""
    try:
        fd = os.open(warc_dir / check_warc_name(name), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise WarcError(f"cannot open {name}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        with zf.open(_stored_entry(zf, f"archive/{name}"), "w", force_zip64=True) as sink:
            out = _Hashing(sink)
            left = size
            while left:
                chunk = fh.read(min(_COPY, left))
                if not chunk:
                    break
                out.write(chunk)
                left -= len(chunk)
    return _Resource(f"archive/{name}", out.sha.hexdigest(), out.size), out.size


def _warcinfo(name: str, description: str) -> bytes:
    builder = RecordBuilder(warc_version=WARC_VERSION)
    record = builder.create_warcinfo_record(
        name,
        {
            "software": f"{SOFTWARE} (warcio)",
            "format": "WARC File Format 1.1",
            "description": description,
        },
    )
    record.rec_headers.replace_header("WARC-Date", warc_date(datetime.now(UTC)))
    buffer = io.BytesIO()
    WARCWriter(buffer, gzip=False, warc_version=WARC_VERSION).write_record(record)
    return gzip_member(buffer.getvalue())


def _copy_records(
    zf: zipfile.ZipFile,
    warc_dir: Path,
    name: str,
    rows: Iterable[_Row],
    description: str,
    index: _SortedLines,
) -> _Resource:
    """A new WARC file ``name`` in ``archive/``: a ``warcinfo``, then each row's record
    and the request written with it, copied byte for byte; each record indexed."""
    with zf.open(_stored_entry(zf, f"archive/{name}"), "w", force_zip64=True) as sink:
        out = _Hashing(sink)
        out.write(_warcinfo(name, description))
        for row in rows:
            source = check_warc_name(row.warc_file)
            raw = read_member(warc_dir, source, row.offset, row.length)
            entry = index_member(name, out.size, raw)
            if entry is None or entry.record_id != row.record_id:
                raise WarcError(
                    f"{source} at {row.offset}: not the record {row.record_id} the"
                    " warehouse indexes there"
                )
            if replayable(entry):
                index.add(cdxj_line(entry, name))
            out.write(raw)
            request = concurrent_request(warc_dir, source, row.offset + row.length, row.record_id)
            if request is not None:
                out.write(request)
    return _Resource(f"archive/{name}", out.sha.hexdigest(), out.size)


def _whole_index(warc_dir: Path, name: str, size: int) -> Iterator[IndexEntry]:
    for entry in iter_index(warc_dir, files=[name]):
        if entry.offset + entry.length <= size:
            yield entry


def export_wacz(
    con: duckdb.DuckDBPyConnection,
    warc_dir: Path,
    out_file: Path,
    *,
    site: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> WaczSummary:
    """Write the captures of ``site`` (default: every site), fetched from ``since`` to
    ``until`` (Vietnam days, both included; default: all), with the articles they hold,
    as the WACZ file ``out_file`` (see the module docstring for what it holds)."""
    out = _check_out(out_file)
    if since is not None and until is not None and since > until:
        raise InputError(f"the first day {since} is after the last {until}")
    files = _selected_files(con, site, since, until)
    if not files:
        what = f"site {site!r}" if site else "the warehouse"
        raise InputError(f"nothing to export: {what} has no captures in that span")
    try:
        fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except OSError as exc:  # a folder that is missing, read-only, not ours: the user's to fix
        raise InputError(
            f"{out.parent}: cannot write there ({exc.strerror or type(exc).__name__})"
        ) from None
    temp = Path(temp_name)
    try:
        with (
            os.fdopen(fd, "w+b") as fh,
            tempfile.TemporaryDirectory(
                dir=out.parent, prefix=f".{out.name}.", suffix=".part"
            ) as scratch,
        ):
            summary = _write(fh, con, warc_dir, files, Path(scratch), site, since, until)
            fh.flush()
            os.fsync(fh.fileno())
            size = fh.tell()
        os.replace(temp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(out.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return WaczSummary(summary.files, summary.pages, summary.captures, size)


@contextlib.contextmanager
def _entry(zf: zipfile.ZipFile, path: str, resources: list[_Resource]) -> Iterator[_Hashing]:
    """A deflated ZIP entry to stream into; listed in ``resources`` once written."""
    info = zipfile.ZipInfo(path, _zip_time())
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as sink:
        out = _Hashing(sink)
        yield out
    resources.append(_Resource(path, out.sha.hexdigest(), out.size))


def _write(
    fh: BinaryIO,
    con: duckdb.DuckDBPyConnection,
    warc_dir: Path,
    files: Sequence[str],
    scratch: Path,
    site: str | None,
    since: date | None,
    until: date | None,
) -> WaczSummary:
    resources: list[_Resource] = []
    index = _SortedLines(scratch)
    title = _title(site, since, until)
    with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
        if since is None and until is None:
            names = list(files)
            for name in names:
                resource, size = _copy_whole(zf, warc_dir, name)
                resources.append(resource)
                for entry in _whole_index(warc_dir, name, size):
                    if replayable(entry):
                        index.add(cdxj_line(entry, name))
        else:
            names = [f"{site or 'baolaocai'}-{since or 'start'}-{until or 'now'}.warc.gz"]
            description = (
                f"Records of the captures of {site or 'every site'} fetched {since or '…'}"
                f" to {until or '…'} (Vietnam days), and the responses their revisits refer"
                " to, copied byte for byte from the baolaocai web archive."
            )
            rows = _selected(con, site, since, until)
            resources.append(_copy_records(zf, warc_dir, names[0], rows, description, index))
        with _entry(zf, INDEX_PATH, resources) as out:
            index.write(out)
        pages = -1  # the header is not a page
        with _entry(zf, "pages/pages.jsonl", resources) as out:
            for line in pages_lines(title, _pages(con, site, since, until)):
                out.write(line.encode("utf-8"))
                pages += 1
        package = {
            "profile": "data-package",
            "resources": [r.entry() for r in resources],
            "title": title,
            "created": _iso(datetime.now(UTC)),
            "wacz_version": WACZ_VERSION,
            "software": SOFTWARE,
        }
        package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
        _add_bytes(zf, "datapackage.json", package_bytes)
        digest = {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
        }
        _add_bytes(zf, "datapackage-digest.json", json.dumps(digest, indent=2).encode())
    return WaczSummary(len(names), pages, index.count, 0)
