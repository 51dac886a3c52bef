"""Raw HTTP captures stored as WARC files (ISO 28500), append-only, and read back.

API
===

- :class:`WarcWriter` ``(folder, *, site_name, origin, prefix, max_file_bytes, software,
  gzip_level, clock, threads)``: ``append(url=, fetched_at=, status=, response_headers=, body=,
  request_headers=) -> CaptureRef``, ``append_many(Iterable[Exchange | Revisit]) ->
  list[CaptureRef]``, ``flush()``, ``close()``, context manager; ``repaired`` (a
  :class:`BrokenTail` or ``None``).
- :func:`read_capture` ``(folder, ref) -> Capture``; :func:`iter_captures` ``(folder, *,
  files=None, damage=None) -> Iterator[Capture]``; :func:`iter_index` (the same walk, the
  CDX fields of every response and revisit: :class:`IndexEntry`); :func:`warc_files`
  ``(folder) -> list[str]``.
- :class:`CaptureRef` (file, offset, length, digest, record_id, refers_to), :class:`Capture`,
  :class:`Exchange` and :class:`Revisit` (the input of ``append_many``), :class:`BrokenTail`,
  :class:`WarcError` (a :class:`~baolaocai.errors.WarehouseError`).

Layout
======

One folder holds files named ``<prefix>-<YYYYmmddTHHMMSSZ>-<seq:05d>.warc.gz`` (UTC time
the file was started, then a sequence number one above the highest in the folder), so
names sort in the order the files were written. Each file is ``WARC/1.1`` with **one gzip
member per record** (the ``.warc.gz`` convention every replay and indexing tool expects),
compressed at :data:`GZIP_LEVEL` 3 (2.5x faster than level 6 for 5-13% larger files;
configurable). Every file starts with a ``warcinfo`` record (software, format, and a
description naming the site whose pages it holds: ``site_name`` and ``origin``, given to
the writer; one writer, one site, so the warehouse gives each site its own prefix).
Records are built by :mod:`warcio` (headers, ``WARC-Block-Digest``, ``WARC-Payload-Digest``
as ``sha1:<base32>``, the usual CDX digest); this module only gzips each record itself,
because warcio's own gzip wrapper is fixed at level 9.

Each :meth:`WarcWriter.append` writes two records with one ``write``: the ``response``
(``WARC-Target-URI``, ``WARC-Date`` = the fetch time, ``HTTP/1.1`` status line, headers and
body), then its ``request`` (``GET <path> HTTP/1.1`` with ``Host`` and the request headers
given). Each names the other in ``WARC-Concurrent-To``. The :class:`CaptureRef` returned
points at the response member, like a Common Crawl CDX line: file, offset, compressed
length, payload digest and record id.

Revisits
========

A :class:`Revisit` (a page fetched again whose answer a stored response holds already)
is written as a ``revisit`` record, then its ``request``, like an exchange: WARC/1.1
``WARC-Profile`` ``…/1.1/revisit/identical-payload-digest`` (the same status, content type
and payload again) or ``…/1.1/revisit/server-not-modified`` (a ``304 Not Modified``),
``WARC-Refers-To`` (the response's record id), ``WARC-Refers-To-Target-URI``,
``WARC-Refers-To-Date``, ``WARC-Payload-Digest`` (the response's), and the HTTP status line
and headers of the new answer without a body (an identical-payload revisit states the
``Content-Length`` of the payload it repeats, so that replay tools serve these headers
with that body). The revisit is some 600 bytes gzipped, 1.1 KB with its request, where a
second copy of an 80 KB page took 23 KB (``benchmarks/revisit_growth.py``). Its
:class:`CaptureRef` has ``refers_to``.

Bodies
======

The body is stored **exactly as given**: the crawler hands over the *decoded* body (httpx
removes ``Content-Encoding``), so the stored HTTP headers drop ``Content-Encoding``,
``Transfer-Encoding`` and ``Content-Length`` and carry a new ``Content-Length`` equal to the
stored body. pywb, ReplayWeb.page, ``warcio index`` and ``warcio check`` then read the
record as an identity-encoded response. Header names must be HTTP tokens and values must
not contain CR, LF or NUL (``ValueError``); non-ASCII values are %-encoded by warcio (RFC
8187). ``Capture.headers`` has lower-case names; repeated headers are joined with ``", "``.

Durability and crashes
======================

``append`` returns once both records are in the operating system (they survive the
process being killed); :meth:`WarcWriter.flush` adds ``os.fsync`` (survives power loss),
:meth:`WarcWriter.append_many` flushes once per call. Only references returned before a
successful ``flush`` are guaranteed to survive a power cut.

A writer holds an exclusive ``flock`` on ``.<prefix>.warc.lock`` in the folder (a second
writer with the same prefix gets :class:`WarcError`), and after every flush writes a
checkpoint into it: ``<file> <offset>``, an offset known to end a complete record.

**Crash repair (chosen: truncate).** Opening a writer checks the newest file of its
prefix from the checkpoint (from the start when there is none): if the file ends in a
truncated gzip member, or in bytes that are not gzip at all and hold no complete member
further on (e.g. zeros), the file is truncated back to the end of its last complete record
and :attr:`WarcWriter.repaired` says how many bytes were dropped (also logged). Those
bytes never belonged to a reference that ``append`` returned. If a damaged region is
followed by complete members (corruption, not a crash), nothing is removed: the file is
left alone and the writer starts a new file. A file cut inside its ``warcinfo`` (nothing
complete) is emptied and gets a new ``warcinfo``. Otherwise the writer keeps appending to the
newest file until it reaches ``max_file_bytes``; it never modifies any other file, and new
files are created with ``O_EXCL``.

Rotation: a capture that would take the current file past ``max_file_bytes`` goes to a new
file (a file always takes at least one capture, so one larger than the limit is alone).

Readers
=======

:func:`iter_captures` streams every ``response`` record in file order (memory is one
record, whatever the file size); revisit records hold no page and are not among them
(:func:`iter_index` lists them, and a revisit's page is the response it refers to). A damaged tail (a truncated last member, or bytes that do
not decompress) is skipped, logged as a warning and reported as a :class:`BrokenTail` in
the optional ``damage`` list; reading goes on with the next file. :func:`read_capture`
reads one member at a reference after checking that the file name is a plain WARC name of
the folder (a reference is data from a database), that offset and length lie inside the
file, that the bytes are exactly one gzip member holding a response, and that its record
id and payload digest match the reference; anything else raises :class:`WarcError` (a
revisit reference too, naming the response to read instead). Readers open files without
following a symbolic link.

A writer object is not thread-safe; use one per process and prefix.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import logging
import os
import re
import uuid
import zlib
from base64 import b32encode
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self
from urllib.parse import urlsplit

from warcio.exceptions import ArchiveLoadFailed
from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException
from warcio.timeutils import iso_date_to_datetime
from warcio.warcwriter import WARCWriter

from baolaocai.errors import WarehouseError

log = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
GZIP_LEVEL = 3
"""zlib level of each member. Measured on 80 KB Vietnamese news HTML (one core): level 3
writes ~45 MB/s at ratio 3.5; level 6 ~18 MB/s at 4.0; level 9 slower still for ~1% more.
On the site's real pages the gap 3 vs 6 is ~5%. Pass ``gzip_level=6`` to favour size."""
SUFFIX = ".warc.gz"
DIGEST_ALGORITHM = "sha1"
"""``WARC-Payload-Digest`` / :attr:`CaptureRef.digest` are ``sha1:<base32>``, as in CDX."""

PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
"""``WARC-Profile`` of a revisit whose answer carried the very payload of the original."""
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
"""``WARC-Profile`` of a revisit recording a ``304 Not Modified`` answer."""

_GZIP_WBITS = zlib.MAX_WBITS | 16
_GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 16
"""Read size while walking members (small: each member end copies the rest of a chunk)."""
BATCH = 64
"""Exchanges built (gzipped) together by :meth:`WarcWriter.append_many`."""
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.warc\.gz")
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
_END_OF_RECORD = b"\r\n\r\n"


class WarcError(WarehouseError):
    """A WARC file or a reference to a record in one cannot be used."""


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """Where one response or revisit record lives: what a warehouse index row stores
    (cf. CDX)."""

    file: str
    """WARC file name, relative to the folder."""
    offset: int
    """Byte offset of the gzip member holding the response record."""
    length: int
    """Compressed length of that member."""
    digest: str
    """``sha1:<base32>`` of the body: the record's ``WARC-Payload-Digest``."""
    record_id: str
    """``WARC-Record-ID`` of the record, e.g. ``<urn:uuid:…>``."""
    refers_to: str | None = None
    """For a ``revisit`` record, the ``WARC-Record-ID`` of the response it repeats
    (``WARC-Refers-To``); ``None`` for a response."""

    @property
    def is_revisit(self) -> bool:
        return self.refers_to is not None


@dataclass(frozen=True, slots=True)
class Capture:
    """One response read back."""

    url: str
    fetched_at: datetime
    """UTC, time zone aware (``WARC-Date``)."""
    status: int
    headers: dict[str, str]
    """Stored HTTP headers, lower-case names (see the module docstring)."""
    body: bytes
    ref: CaptureRef


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange to store (what :meth:`WarcWriter.append_many` takes)."""

    url: str
    fetched_at: datetime
    status: int
    response_headers: Sequence[tuple[str, str]]
    body: bytes
    request_headers: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class Revisit:
    """A page fetched again whose answer a stored response holds already: stored as a
    ``revisit`` record (see *Revisits* in the module docstring) by
    :meth:`WarcWriter.append_many`.

    ``status`` 304 (the server said *not modified*) gives the ``server-not-modified``
    profile; any other status must be the original's, with the very payload it holds
    (``identical-payload-digest``)."""

    url: str
    fetched_at: datetime
    status: int
    response_headers: Sequence[tuple[str, str]]
    original: CaptureRef
    """The stored response this answer repeats (its record id and payload digest)."""
    original_url: str
    """Its ``WARC-Target-URI`` (``WARC-Refers-To-Target-URI``)."""
    original_date: datetime
    """Its ``WARC-Date`` (``WARC-Refers-To-Date``)."""
    payload_length: int
    """Length of its payload: the ``Content-Length`` the revisit's HTTP headers state
    (the replayed answer is these headers with the original's body)."""
    request_headers: Sequence[tuple[str, str]] = ()

    @property
    def profile(self) -> str:
        return PROFILE_NOT_MODIFIED if self.status == 304 else PROFILE_IDENTICAL


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One ``response`` or ``revisit`` record as a CDX(J) line describes it."""

    file: str
    offset: int
    length: int
    """Compressed length of the record's gzip member."""
    rec_type: str
    url: str
    date: datetime
    """``WARC-Date``, UTC."""
    status: int | None
    mime: str
    """The HTTP ``Content-Type`` without parameters; ``warc/revisit`` for a revisit."""
    digest: str
    record_id: str
    refers_to: str | None


@dataclass(frozen=True, slots=True)
class BrokenTail:
    """Bytes at the end of a file that hold no complete record (a crash, or damage)."""

    file: str
    offset: int
    """Where the unreadable bytes start: the end of the last complete record."""
    dropped_bytes: int
    """From ``offset`` to the end of the file."""
    reason: str

    @property
    def truncated(self) -> bool:
        """A gzip member cut short (what a crash mid-write leaves)."""
        return self.reason == _TRUNCATED


_TRUNCATED = "truncated gzip member"


@dataclass(frozen=True, slots=True)
class _Member:
    offset: int
    length: int
    data: bytes


@dataclass(frozen=True, slots=True)
class _Pair:
    blob: bytes
    """The response member followed by the request member."""
    response_length: int
    """Length of the first member (the response, or the revisit)."""
    record_id: str
    digest: str
    refers_to: str | None = None


# --------------------------------------------------------------------------- names


def is_warc_name(name: object) -> bool:
    """A plain WARC file name: no path separator, no ``..``, no leading dot."""
    return isinstance(name, str) and _FILE_NAME.fullmatch(name) is not None and ".." not in name


def check_warc_name(name: object) -> str:
    """``name`` itself, or :class:`WarcError` when it could leave the folder."""
    if not is_warc_name(name):
        raise WarcError(f"not a WARC file name of the archive folder: {name!r}")
    assert isinstance(name, str)
    return name


def parse_file_name(prefix: str, name: str) -> tuple[str, int] | None:
    """``(stamp, seq)`` of a name this prefix's writer made, else ``None``."""
    match = re.fullmatch(re.escape(prefix) + r"-(\d{8}T\d{6}Z)-(\d{5,})\.warc\.gz", name)
    return (match[1], int(match[2])) if match else None


def next_file_name(prefix: str, existing: Sequence[str], now: datetime) -> str:
    """A name that sorts after every existing file of ``prefix`` (even if the clock went
    back) with the next sequence number."""
    own = [p for p in (parse_file_name(prefix, n) for n in existing) if p]
    stamp = f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    seq = 1
    if own:
        stamp = max(stamp, max(s for s, _ in own))
        seq = max(n for _, n in own) + 1
    return f"{prefix}-{stamp}-{seq:05d}{SUFFIX}"


def warc_files(folder: Path) -> list[str]:
    """Names of the WARC files in ``folder``, sorted (the order they were written)."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return sorted(e.name for e in entries if is_warc_name(e.name) and e.is_file())


# --------------------------------------------------------------------------- building


def warc_date(moment: datetime) -> str:
    """``WARC-Date`` of an aware datetime: UTC, microseconds only when present."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"fetched_at must be time zone aware: {moment!r}")
    utc = moment.astimezone(UTC)
    micros = f".{utc.microsecond:06d}" if utc.microsecond else ""
    return f"{utc:%Y-%m-%dT%H:%M:%S}{micros}Z"


def payload_digest(body: bytes) -> str:
    """``sha1:<base32>``, as warcio writes ``WARC-Payload-Digest``."""
    return "sha1:" + b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _checked_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"bad HTTP header name: {name!r}")
        if _BAD_VALUE.search(value):
            raise ValueError(f"HTTP header {name} has a CR, LF or NUL in its value")
        out.append((name, value.strip(" \t")))
    return out


def stored_response_headers(
    headers: Iterable[tuple[str, str]], body_length: int
) -> list[tuple[str, str]]:
    """The headers as stored: no ``Content-Encoding``/``Transfer-Encoding``, and a
    ``Content-Length`` equal to the stored (decoded) body."""
    kept = [(n, v) for n, v in _checked_headers(headers) if n.lower() not in _DROPPED_HEADERS]
    return [*kept, ("Content-Length", str(body_length))]


def status_line(status: int) -> str:
    """``200 OK``: the part of the HTTP status line after the protocol."""
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        raise ValueError(f"bad HTTP status: {status!r}")
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"{status} {reason}"


def request_target(url: str) -> tuple[str, str]:
    """``(host, path?query)`` of an absolute http(s) URL fit for a WARC header line."""
    if not url or any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in url):
        raise ValueError(f"URL has whitespace or control characters: {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.netloc, target


def _serialize(record: ArcWarcRecord) -> bytes:
    buffer = io.BytesIO()
    WARCWriter(buffer, gzip=False, warc_version=WARC_VERSION).write_record(record)
    return buffer.getvalue()


def gzip_member(data: bytes, level: int = GZIP_LEVEL) -> bytes:
    """``data`` as one complete gzip member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(data) + compressor.flush()


def _warc_headers(fields: Sequence[tuple[str, str]]) -> StatusAndHeaders:
    return StatusAndHeaders("", list(fields), protocol=WARC_VERSION)


def build_pair(exchange: Exchange, *, level: int = GZIP_LEVEL) -> _Pair:
    """The gzipped response and request records of one exchange (pure, no I/O)."""
    request_target(exchange.url)
    date = warc_date(exchange.fetched_at)
    response_id = _new_id()
    request_id = _new_id()
    builder = RecordBuilder(warc_version=WARC_VERSION)
    body = bytes(exchange.body)

    response = builder.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        warc_headers=_warc_headers(
            [
                ("WARC-Type", "response"),
                ("WARC-Record-ID", response_id),
                ("WARC-Date", date),
                ("WARC-Target-URI", exchange.url),
                ("WARC-Concurrent-To", request_id),
            ]
        ),
        http_headers=StatusAndHeaders(
            status_line(exchange.status),
            stored_response_headers(exchange.response_headers, len(body)),
            protocol="HTTP/1.1",
        ),
    )
    request = _request_record(
        builder, exchange.url, exchange.request_headers, date, request_id, response_id
    )
    response_member = gzip_member(_serialize(response), level)
    request_member = gzip_member(_serialize(request), level)
    digest = response.rec_headers.get_header("WARC-Payload-Digest")
    return _Pair(response_member + request_member, len(response_member), response_id, digest)


def _request_record(
    builder: RecordBuilder,
    url: str,
    headers: Sequence[tuple[str, str]],
    date: str,
    record_id: str,
    concurrent_to: str,
) -> ArcWarcRecord:
    """The ``request`` record of the answer ``concurrent_to``: ``GET`` with ``headers``."""
    host, target = request_target(url)
    request_headers = _checked_headers(headers)
    if not any(n.lower() == "host" for n, _ in request_headers):
        request_headers.insert(0, ("Host", host))
    return builder.create_warc_record(
        url,
        "request",
        payload=io.BytesIO(b""),
        length=0,
        warc_headers=_warc_headers(
            [
                ("WARC-Type", "request"),
                ("WARC-Record-ID", record_id),
                ("WARC-Date", date),
                ("WARC-Target-URI", url),
                ("WARC-Concurrent-To", concurrent_to),
            ]
        ),
        http_headers=StatusAndHeaders(
            f"GET {target} HTTP/1.1", request_headers, is_http_request=True
        ),
    )


def build_revisit(revisit: Revisit, *, level: int = GZIP_LEVEL) -> _Pair:
    """The gzipped ``revisit`` and ``request`` records of a page fetched again (pure).

    The revisit holds the HTTP status line and headers of the new answer and no body;
    ``WARC-Refers-To`` (record id), ``WARC-Refers-To-Target-URI`` and
    ``WARC-Refers-To-Date`` name the response whose payload it repeats, and its
    ``WARC-Payload-Digest`` is that payload's."""
    request_target(revisit.url)  # the same checks as a response's URL
    original = revisit.original
    if not original.digest or not original.record_id or original.is_revisit:
        raise ValueError(f"a revisit must refer to a stored response: {original!r}")
    _check_value("original URL", revisit.original_url)
    date = warc_date(revisit.fetched_at)
    revisit_id = _new_id()
    request_id = _new_id()
    builder = RecordBuilder(warc_version=WARC_VERSION)
    if revisit.status == 304:  # no payload came: the headers as received, no length
        headers = [
            (n, v)
            for n, v in _checked_headers(revisit.response_headers)
            if n.lower() not in _DROPPED_HEADERS
        ]
    else:
        headers = stored_response_headers(revisit.response_headers, revisit.payload_length)
    record = builder.create_revisit_record(
        revisit.url,
        original.digest,
        revisit.original_url,
        warc_date(revisit.original_date),
        http_headers=StatusAndHeaders(status_line(revisit.status), headers, protocol="HTTP/1.1"),
        warc_headers_dict={
            "WARC-Record-ID": revisit_id,
            "WARC-Date": date,
            "WARC-Refers-To": original.record_id,
            "WARC-Concurrent-To": request_id,
        },
    )
    record.rec_headers.replace_header("WARC-Profile", revisit.profile)
    request = _request_record(
        builder, revisit.url, revisit.request_headers, date, request_id, revisit_id
    )
    revisit_member = gzip_member(_serialize(record), level)
    request_member = gzip_member(_serialize(request), level)
    return _Pair(
        revisit_member + request_member,
        len(revisit_member),
        revisit_id,
        original.digest,
        original.record_id,
    )


def _check_value(what: str, value: str) -> None:
    if not value or _BAD_VALUE.search(value):
        raise ValueError(f"bad WARC {what}: {value!r}")


def _new_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def build_warcinfo(
    name: str,
    *,
    software: str,
    site_name: str,
    origin: str,
    now: datetime,
    level: int = GZIP_LEVEL,
) -> bytes:
    """The gzipped ``warcinfo`` record that starts file ``name``: whose pages the file
    holds (``site_name``, at ``origin``) and how they were stored."""
    _check_value("site name", site_name)
    _check_value("origin", origin)
    builder = RecordBuilder(warc_version=WARC_VERSION)
    fields = {
        "software": f"{software} (warcio)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": f"Raw HTTP captures of {site_name} ({origin}) made by the baolaocai"
        " archive crawler; bodies are stored decoded (no Content-Encoding), Content-Length"
        " rewritten.",
        "isPartOf": name.rsplit("-", 2)[0],
    }
    record = builder.create_warcinfo_record(name, fields)
    record.rec_headers.replace_header("WARC-Date", warc_date(now))
    return gzip_member(_serialize(record), level)


# --------------------------------------------------------------------------- reading


def _iter_members(fh: BinaryIO, start: int, file: str) -> Iterator[_Member | BrokenTail]:
    """The gzip members of ``fh`` from ``start`` (a member boundary), then a
    :class:`BrokenTail` if the file does not end on a member boundary."""
    fh.seek(start)
    offset = start
    pending = b""
    while True:
        if not pending:
            pending = fh.read(_CHUNK)
            if not pending:
                return
        inflater = zlib.decompressobj(_GZIP_WBITS)
        parts: list[bytes] = []
        consumed = 0
        try:
            while True:
                parts.append(inflater.decompress(pending))
                if inflater.eof:
                    consumed += len(pending) - len(inflater.unused_data)
                    pending = inflater.unused_data
                    break
                consumed += len(pending)
                pending = fh.read(_CHUNK)
                if not pending:
                    yield BrokenTail(file, offset, consumed, _TRUNCATED)
                    return
        except zlib.error as exc:
            size = fh.seek(0, os.SEEK_END)
            yield BrokenTail(file, offset, size - offset, f"invalid gzip data: {exc}")
            return
        yield _Member(offset, consumed, b"".join(parts))
        offset += consumed


def _inflate_one(raw: bytes) -> bytes:
    """The content of ``raw`` when it is exactly one complete gzip member."""
    inflater = zlib.decompressobj(_GZIP_WBITS)
    try:
        data = inflater.decompress(raw)
    except zlib.error as exc:
        raise WarcError(f"not a gzip member: {exc}") from exc
    if not inflater.eof:
        raise WarcError("gzip member is truncated")
    if inflater.unused_data:
        raise WarcError("bytes after the gzip member: the length is wrong")
    return data


def _parse_record(data: bytes) -> tuple[ArcWarcRecord, bytes]:
    """The record in ``data`` (one whole record) and its payload."""
    stream = io.BytesIO(data)
    try:
        record = ArcWarcRecordLoader().parse_record_stream(stream, known_format="warc")
        payload = record.raw_stream.read()
    except (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, ValueError) as exc:
        raise WarcError(f"not a WARC record: {exc}") from exc
    if stream.read() != _END_OF_RECORD:
        raise WarcError("WARC record length does not match its content")
    return record, payload


def _capture(file: str, member: _Member) -> Capture | None:
    """The response in ``member``; ``None`` for any other record type."""
    try:
        record, body = _parse_record(member.data)
    except WarcError as exc:
        raise WarcError(f"{file} at {member.offset}: {exc}") from exc
    if record.rec_type != "response":
        return None
    where = f"{file} at {member.offset}"
    headers = record.rec_headers
    digest = headers.get_header("WARC-Payload-Digest") or ""
    if digest != payload_digest(body):
        raise WarcError(f"{where}: payload digest mismatch")
    http = record.http_headers
    try:
        status = int(http.get_statuscode()) if http else -1
        fetched_at = iso_date_to_datetime(headers.get_header("WARC-Date") or "", tz_aware=True)
    except (ValueError, TypeError) as exc:
        raise WarcError(f"{where}: bad status or WARC-Date: {exc}") from exc
    names: dict[str, str] = {}
    for name, value in http.headers if http else []:
        key = name.lower()
        names[key] = f"{names[key]}, {value}" if key in names else value
    ref = CaptureRef(
        file, member.offset, member.length, digest, headers.get_header("WARC-Record-ID") or ""
    )
    url = headers.get_header("WARC-Target-URI") or ""
    return Capture(url, fetched_at, status, names, body, ref)


def _report(tail: BrokenTail, damage: list[BrokenTail] | None) -> None:
    log.warning(
        "%s: skipped %d bytes at offset %d (%s)",
        tail.file,
        tail.dropped_bytes,
        tail.offset,
        tail.reason,
    )
    if damage is not None:
        damage.append(tail)


def iter_captures(
    folder: Path,
    *,
    files: Iterable[str] | None = None,
    damage: list[BrokenTail] | None = None,
) -> Iterator[Capture]:
    """Every response record of ``files`` (default: all, see :func:`warc_files`), in
    file order. A damaged tail is skipped, logged and appended to ``damage``."""
    for name, member in _members(folder, files, damage):
        capture = _capture(name, member)
        if capture is not None:
            yield capture


def _members(
    folder: Path, files: Iterable[str] | None, damage: list[BrokenTail] | None
) -> Iterator[tuple[str, _Member]]:
    """``(file name, member)`` of every gzip member of ``files`` (default: all), in file
    order, each file opened without following a symbolic link; a damaged tail ends its
    file, logged and appended to ``damage``."""
    names = warc_files(folder) if files is None else [check_warc_name(n) for n in files]
    for name in names:
        with _open_plain(folder, name) as fh:
            for item in _iter_members(fh, 0, name):
                if isinstance(item, BrokenTail):
                    _report(item, damage)
                    break
                yield name, item


def _index_entry(file: str, member: _Member) -> IndexEntry | None:
    """The CDX fields of the response or revisit in ``member``; ``None`` for others."""
    try:
        record, _ = _parse_record(member.data)
    except WarcError as exc:
        raise WarcError(f"{file} at {member.offset}: {exc}") from exc
    if record.rec_type not in ("response", "revisit"):
        return None
    headers = record.rec_headers
    http = record.http_headers
    try:
        status = int(http.get_statuscode()) if http and http.get_statuscode() else None
        date = iso_date_to_datetime(headers.get_header("WARC-Date") or "", tz_aware=True)
    except (ValueError, TypeError) as exc:
        raise WarcError(f"{file} at {member.offset}: bad status or WARC-Date: {exc}") from exc
    if record.rec_type == "revisit":
        mime = "warc/revisit"
    else:
        content_type = (http.get_header("Content-Type") if http else None) or ""
        mime = content_type.split(";", 1)[0].strip()
    return IndexEntry(
        file,
        member.offset,
        member.length,
        record.rec_type,
        headers.get_header("WARC-Target-URI") or "",
        date,
        status,
        mime,
        headers.get_header("WARC-Payload-Digest") or "",
        headers.get_header("WARC-Record-ID") or "",
        headers.get_header("WARC-Refers-To"),
    )


def index_member(file: str, offset: int, raw: bytes) -> IndexEntry | None:
    """The CDX fields of the record in ``raw`` (exactly one gzip member, found at
    ``offset`` of ``file``): ``None`` when it is neither a response nor a revisit."""
    try:
        data = _inflate_one(raw)
    except WarcError as exc:
        raise WarcError(f"{file} at {offset}: {exc}") from exc
    return _index_entry(file, _Member(offset, len(raw), data))


def iter_index(
    folder: Path,
    *,
    files: Iterable[str] | None = None,
    damage: list[BrokenTail] | None = None,
) -> Iterator[IndexEntry]:
    """What a CDX index holds of every ``response`` and ``revisit`` record of ``files``
    (default: all), in file order; a damaged tail as in :func:`iter_captures`. Files are
    opened without following a symbolic link."""
    for name, member in _members(folder, files, damage):
        entry = _index_entry(name, member)
        if entry is not None:
            yield entry


def _open_plain(folder: Path, name: str) -> BinaryIO:
    """``folder/name`` for reading, refused when it is a symbolic link (a file of the
    archive folder that points elsewhere is not the archive's)."""
    try:
        fd = os.open(folder / check_warc_name(name), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise WarcError(f"cannot open {name}: {exc.strerror or exc}") from exc
    return os.fdopen(fd, "rb")


def read_member(folder: Path, name: str, offset: int, length: int) -> bytes:
    """The raw bytes of the gzip member at ``offset`` (checked: exactly one complete
    member) of WARC file ``name``."""
    with _open_plain(folder, name) as fh:
        _check_span(CaptureRef(name, offset, length, "", ""), os.fstat(fh.fileno()).st_size)
        fh.seek(offset)
        raw = fh.read(length)
    try:
        _inflate_one(raw)
    except WarcError as exc:
        raise WarcError(f"{name} at {offset}: {exc}") from exc
    return raw


def concurrent_request(folder: Path, name: str, offset: int, record_id: str) -> bytes | None:
    """The raw gzip member at ``offset`` when it holds the ``request`` record of the
    record ``record_id`` (the writer puts it right after its response or revisit)."""
    with _open_plain(folder, name) as fh:
        item = next(_iter_members(fh, offset, name), None)
        if not isinstance(item, _Member):
            return None
        try:
            record, _ = _parse_record(item.data)
        except WarcError:
            return None
        if record.rec_type != "request":
            return None
        if record.rec_headers.get_header("WARC-Concurrent-To") != record_id:
            return None
        fh.seek(item.offset)
        return fh.read(item.length)


def _check_span(ref: CaptureRef, size: int) -> None:
    for field_name in ("offset", "length"):
        value = getattr(ref, field_name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise WarcError(f"{ref.file}: {field_name} is not an integer: {value!r}")
    if ref.offset < 0 or ref.length <= 0:
        raise WarcError(f"{ref.file}: bad offset/length {ref.offset}/{ref.length}")
    if ref.offset + ref.length > size:
        raise WarcError(
            f"{ref.file}: offset {ref.offset} + length {ref.length} is past the end ({size})"
        )


def read_capture(folder: Path, ref: CaptureRef) -> Capture:
    """The response at ``ref``: one seek, one read, one gzip member. A revisit holds no
    body: :class:`WarcError` names the response it refers to (the one to read; the
    warehouse's ``captures`` row whose ``record_id`` it is says where)."""
    name = check_warc_name(ref.file)
    if ref.refers_to is not None:
        raise WarcError(
            f"{name} at {ref.offset}: a revisit record; its page is the response {ref.refers_to}"
        )
    try:
        with _open_plain(folder, name) as fh:
            _check_span(ref, os.fstat(fh.fileno()).st_size)
            fh.seek(ref.offset)
            raw = fh.read(ref.length)
    except OSError as exc:
        raise WarcError(f"cannot read {name}: {exc}") from exc
    try:
        data = _inflate_one(raw)
    except WarcError as exc:
        raise WarcError(f"{name} at {ref.offset}: {exc}") from exc
    capture = _capture(name, _Member(ref.offset, ref.length, data))
    if capture is None:
        record, _ = _parse_record(data)
        if record.rec_type == "revisit":
            raise WarcError(
                f"{name} at {ref.offset}: a revisit record; its page is the response"
                f" {record.rec_headers.get_header('WARC-Refers-To')}"
            )
        raise WarcError(f"{name} at {ref.offset}: not a response record")
    if capture.ref != ref:
        raise WarcError(
            f"{name} at {ref.offset}: record {capture.ref.record_id} {capture.ref.digest}"
            f" is not the referenced {ref.record_id} {ref.digest}"
        )
    return capture


# --------------------------------------------------------------------------- repair


def _complete_member_after(fh: BinaryIO, start: int) -> bool:
    """Whether a complete gzip member starts anywhere after ``start``."""
    size = fh.seek(0, os.SEEK_END)
    position = start
    while position < size:
        fh.seek(position)
        window = fh.read(_CHUNK + len(_GZIP_MAGIC))
        hit = window.find(_GZIP_MAGIC)
        if hit < 0:
            position += _CHUNK
            continue
        candidate = position + hit
        item = next(_iter_members(fh, candidate, ""), None)
        if isinstance(item, _Member):
            return True
        position = candidate + 1
    return False


def scan_end(fh: BinaryIO, start: int, file: str) -> tuple[int, BrokenTail | None]:
    """The end of the last complete member from boundary ``start``, and the tail after it."""
    end = start
    for item in _iter_members(fh, start, file):
        if isinstance(item, BrokenTail):
            return end, item
        end = item.offset + item.length
    return end, None


def _read_checkpoint(fd: int) -> tuple[str, int] | None:
    try:
        text = os.pread(fd, 4096, 0).decode("ascii")
        name, offset = text.split()
        return name, int(offset)
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _write_checkpoint(fd: int, name: str, offset: int) -> None:
    data = f"{name} {offset}\n".encode("ascii")
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def repair_file(path: Path, *, start: int = 0) -> tuple[BrokenTail | None, bool]:
    """Truncate a crash-damaged tail of ``path``: ``(tail found, file can be appended to)``.

    ``start`` must be a member boundary (a checkpoint); when the scan fails right there,
    the whole file is scanned. A damaged region followed by a complete member is left
    alone (``False``: do not append to this file)."""
    with path.open("r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        start = start if 0 <= start <= size else 0
        end, tail = scan_end(fh, start, path.name)
        if tail is not None and tail.offset == start and start > 0 and not tail.truncated:
            end, tail = scan_end(fh, 0, path.name)
        if tail is None:
            return None, True
        if not tail.truncated and _complete_member_after(fh, tail.offset + 1):
            log.error(
                "%s: %d damaged bytes at offset %d are followed by complete records;"
                " file left alone, writing to a new file",
                path.name,
                size - end,
                end,
            )
            return tail, False
        fh.truncate(end)
        fh.flush()
        os.fsync(fh.fileno())
    log.warning(
        "%s: crash repair dropped %d bytes after offset %d (%s)",
        path.name,
        tail.dropped_bytes,
        end,
        tail.reason,
    )
    return tail, True


# --------------------------------------------------------------------------- writing


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WarcWriter:
    """Appends captures to the WARC files of one folder (see the module docstring)."""

    def __init__(
        self,
        folder: Path,
        *,
        site_name: str,
        origin: str,
        prefix: str = "baolaocai",
        max_file_bytes: int = 1 << 30,
        software: str = "baolaocai",
        gzip_level: int = GZIP_LEVEL,
        clock: Callable[[], datetime] = _utcnow,
        threads: int | None = None,
    ) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"bad WARC file prefix: {prefix!r}")
        if max_file_bytes <= 0:
            raise ValueError("max_file_bytes must be positive")
        self.folder = Path(folder)
        self.prefix = prefix
        self.max_file_bytes = max_file_bytes
        self.software = software
        _check_value("site name", site_name)
        _check_value("origin", origin)
        self.site_name = site_name
        self.origin = origin
        self.gzip_level = gzip_level
        self.threads = threads if threads is not None else min(4, len(os.sched_getaffinity(0)))
        self._clock = clock
        self._fd: int | None = None
        self._name: str | None = None
        self._size = 0
        self._has_captures = False
        self._closed = False
        self.repaired: BrokenTail | None = None
        """What crash repair found at the end of the newest file, if anything."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(
                self.folder / f".{prefix}.warc.lock", os.O_RDWR | os.O_CREAT, 0o644
            )
        except OSError as exc:
            raise WarcError(f"cannot open the WARC folder {self.folder}: {exc}") from exc
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self._lock)
            raise WarcError(f"another writer holds {self.folder} (prefix {prefix!r})") from exc
        try:
            self._resume()
        except BaseException:
            os.close(self._lock)
            raise

    # -- opening

    def _own_files(self) -> list[str]:
        return [n for n in warc_files(self.folder) if parse_file_name(self.prefix, n)]

    def _resume(self) -> None:
        own = self._own_files()
        if not own:
            return
        newest = own[-1]
        path = self.folder / newest
        checkpoint = _read_checkpoint(self._lock)
        start = checkpoint[1] if checkpoint and checkpoint[0] == newest else 0
        try:
            self.repaired, appendable = repair_file(path, start=start)
            size = path.stat().st_size
        except OSError as exc:
            raise WarcError(f"cannot check {newest}: {exc}") from exc
        if appendable and size < self.max_file_bytes:
            try:
                self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            except OSError as exc:
                raise WarcError(f"cannot open {newest}: {exc}") from exc
            self._name, self._size, self._has_captures = newest, size, size > 0
            if size == 0:  # a crash while its warcinfo was being written
                now = self._clock()
                self._write(self._warcinfo(newest, now))
            _write_checkpoint(self._lock, newest, self._size)

    def _start_file(self) -> None:
        self._finish_file()
        now = self._clock()
        for _ in range(100):
            name = next_file_name(self.prefix, warc_files(self.folder), now)
            try:
                fd = os.open(
                    self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644
                )
            except FileExistsError:
                continue
            except OSError as exc:
                raise WarcError(f"cannot create {name}: {exc}") from exc
            break
        else:
            raise WarcError(f"cannot find a free WARC file name in {self.folder}")
        self._fd, self._name, self._size, self._has_captures = fd, name, 0, False
        self._write(self._warcinfo(name, now))
        _fsync_dir(self.folder)

    def _warcinfo(self, name: str, now: datetime) -> bytes:
        return build_warcinfo(
            name,
            software=self.software,
            site_name=self.site_name,
            origin=self.origin,
            now=now,
            level=self.gzip_level,
        )

    def _finish_file(self) -> None:
        if self._fd is not None:
            self.flush()
            os.close(self._fd)
            self._fd = None

    # -- writing

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        try:
            _write_all(self._fd, data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise WarcError(f"cannot write {self._name}: {exc}") from exc
        self._size += len(data)

    def _check_open(self) -> None:
        if self._closed:
            raise WarcError("the WARC writer is closed")

    def _append(self, pair: _Pair) -> CaptureRef:
        if self._fd is None or (
            self._has_captures and self._size + len(pair.blob) > self.max_file_bytes
        ):
            self._start_file()
        assert self._name is not None
        offset = self._size
        self._write(pair.blob)
        self._has_captures = True
        return CaptureRef(
            self._name, offset, pair.response_length, pair.digest, pair.record_id, pair.refers_to
        )

    def _build(self, exchange: Exchange | Revisit) -> _Pair:
        if isinstance(exchange, Revisit):
            return build_revisit(exchange, level=self.gzip_level)
        return build_pair(exchange, level=self.gzip_level)

    def append(
        self,
        *,
        url: str,
        fetched_at: datetime,
        status: int,
        response_headers: Sequence[tuple[str, str]],
        body: bytes,
        request_headers: Sequence[tuple[str, str]] = (),
    ) -> CaptureRef:
        """Store one exchange (response + request records); no fsync (see :meth:`flush`)."""
        self._check_open()
        exchange = Exchange(url, fetched_at, status, response_headers, body, request_headers)
        return self._append(self._build(exchange))

    def append_many(self, captures: Iterable[Exchange | Revisit]) -> list[CaptureRef]:
        """Store several exchanges (a :class:`Revisit` as a revisit record), then flush
        and fsync once.

        Records are built and gzipped :data:`BATCH` at a time on ``threads`` threads (zlib
        releases the GIL) and written in order. Input that raises ``ValueError`` stops the
        call before its batch is written; earlier batches stay stored, unreferenced."""
        self._check_open()
        refs: list[CaptureRef] = []
        iterator = iter(captures)
        pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        try:
            while batch := list(islice(iterator, BATCH)):
                if pool is None or len(batch) == 1:
                    pairs = [self._build(e) for e in batch]
                else:
                    pairs = list(pool.map(self._build, batch))
                refs += [self._append(p) for p in pairs]
        finally:
            if pool is not None:
                pool.shutdown()
        self.flush()
        return refs

    def flush(self) -> None:
        """Make everything appended so far durable (``os.fsync``) and checkpoint it."""
        if self._fd is None or self._name is None:
            return
        try:
            os.fsync(self._fd)
            _write_checkpoint(self._lock, self._name, self._size)
        except OSError as exc:
            raise WarcError(f"cannot flush {self._name}: {exc}") from exc

    @property
    def current_file(self) -> str | None:
        """The file the next capture goes to (unless it rotates), if one is open."""
        return self._name if self._fd is not None else None

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._finish_file()
        finally:
            self._closed = True
            os.close(self._lock)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
