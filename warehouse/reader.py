"""One article as a reader sees it: its fields, versions, captures, the archived page.

The read model shared by the CLI (``show``, ``history``, ``page``, ``removed``) and the web
app: plain functions over an open DuckDB connection (the caller opens it read-only and
closes it at once: a crawl in another process needs the file), returning frozen
dataclasses. No printing, no Prefect.

Every query is bounded by a key: an article by its primary key ``(site, article_id)``,
its versions and pictures by theirs, its captures by ``site`` and ``article_id`` (a few
rows an article), a list of takedowns by ``limit``. Times come back time-zone aware in
Vietnam time (Asia/Ho_Chi_Minh), whatever the connection's session zone.

The archived page is read from the WARC folder (:func:`warehouse.warc.read_capture`): a
capture that is a ``revisit`` (the page fetched again, unchanged: no body of its own) is
resolved to the ``response`` it refers to (the ``captures`` row whose ``record_id`` is its
``refers_to``). A missing or damaged WARC file is one :class:`~warehouse.warc.WarcError`
line.

Errors: :class:`~baolaocai.errors.NotFoundError` (an ``InputError``: exit 2 in the CLI,
404 on the web) for an unknown article, version or capture, with what does exist. The
queries need the newest schema: :func:`require_readable` says so in one line first.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baolaocai.dates import SITE_TZ
from baolaocai.errors import NotFoundError, WarehouseError

if TYPE_CHECKING:
    from warehouse.warc import Capture

MAX_LIMIT = 1000
"""The most takedowns one :func:`get_removed` call lists (a page of them)."""

GOOD_CAPTURE = "(status = 200 OR (status = 304 AND record_type = 'revisit'))"
"""A capture of the page as it was: a 200 answer, or a 304 recorded as a revisit of one
(the page seen again, unchanged). Not a takedown's 404, a redirect or an error page."""


def _tz(value: datetime | None) -> datetime | None:
    """A TIMESTAMPTZ as Vietnam time (a naive value, which DuckDB gives for none of our
    columns, is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SITE_TZ)


def _tz_set(value: datetime) -> datetime:
    """:func:`_tz` of a NOT NULL column."""
    shown = _tz(value)
    assert shown is not None
    return shown


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _json(getattr(obj, f.name)) for f in fields(obj)}


@dataclass(frozen=True, slots=True)
class CaptureView:
    """One row of ``captures``: a WARC record of the article's page (a ``response`` or a
    ``revisit``), where it lives, and what the server answered."""

    url: str
    fetched_at: datetime
    status: int
    content_type: str | None
    digest: str
    record_type: str
    """``response`` (the page as received) or ``revisit`` (the same answer again)."""
    record_id: str
    refers_to: str | None
    """A revisit's response (its ``record_id``); ``None`` for a response."""
    warc_file: str
    warc_offset: int
    warc_length: int
    run_id: str | None

    @property
    def timestamp(self) -> str:
        """``YYYYMMDDhhmmss`` in UTC: the WARC/Wayback timestamp that names this capture."""
        return self.fetched_at.astimezone(UTC).strftime("%Y%m%d%H%M%S")

    @property
    def is_revisit(self) -> bool:
        return self.record_type == "revisit"

    def to_dict(self) -> dict[str, Any]:
        return {**_as_dict(self), "timestamp": self.timestamp}


@dataclass(frozen=True, slots=True)
class ImageView:
    """A picture of the article: its place in the body, address and caption, and the
    capture of exactly that address with an ``image/*`` type if the archive holds one
    (the crawler does not fetch pictures today: mostly ``None``)."""

    position: int
    src: str
    caption: str | None
    archived: CaptureView | None

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class ArticleView:
    """The current version of an article: every column of ``articles``, its pictures, and
    how many versions and captures it has."""

    site: str
    article_id: int
    url: str
    title: str | None
    sapo: str | None
    body: str
    author: str | None
    published_at: datetime | None
    published_date: date | None
    modified_at: datetime | None
    category: str | None
    category_source: str | None
    tags: tuple[str, ...]
    source: str | None
    page_kind: str | None
    extraction_method: str | None
    body_chars: int
    paragraph_count: int
    word_count: int
    image_count: int
    missing_fields: tuple[str, ...]
    field_conflicts: tuple[str, ...]
    content_hash: str
    version: int
    """The current version's number."""
    first_seen_at: datetime
    last_seen_at: datetime
    updated_at: datetime
    listed_lastmod: datetime | None
    removed_at: datetime | None
    run_id: str | None
    images: tuple[ImageView, ...]
    versions: int
    """How many versions ``article_revisions`` holds."""
    captures: int
    """How many captures of the article ``captures`` holds (every status, both kinds)."""

    @property
    def removed(self) -> bool:
        return self.removed_at is not None

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class VersionView:
    """One version of an article (a row of ``article_revisions``)."""

    version: int
    content_hash: str
    title: str | None
    sapo: str | None
    body: str | None
    author: str | None
    published_at: datetime | None
    modified_at: datetime | None
    category: str | None
    tags: tuple[str, ...]
    source: str | None
    seen_at: datetime
    """When this version was first stored."""
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class ArchivedPage:
    """A page as archived: the capture asked for (maybe a revisit), the response whose
    body it is, and that body as the server sent it (undecoded bytes)."""

    capture: CaptureView
    response: CaptureView
    body: bytes
    content_type: str | None


@dataclass(frozen=True, slots=True)
class RemovedView:
    """A takedown: the article, when it was found gone, and its last capture before."""

    site: str
    article_id: int
    url: str
    title: str | None
    published_at: datetime | None
    removed_at: datetime
    version: int
    last_seen_at: datetime
    last_capture: CaptureView | None
    """The last capture of the page as it was (status 200, or a 304 revisit)."""

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


# -- queries ---------------------------------------------------------------------------------

_ARTICLE_COLUMNS = tuple(
    f.name for f in fields(ArticleView) if f.name not in ("images", "versions", "captures")
)
_VERSION_COLUMNS = tuple(f.name for f in fields(VersionView))
_CAPTURE_COLUMNS = tuple(f.name for f in fields(CaptureView))
_CAPTURE_SELECT = ", ".join(
    "coalesce(record_type, 'response') AS record_type" if c == "record_type" else c
    for c in _CAPTURE_COLUMNS
)
_ARTICLE_TIMES = {
    "published_at",
    "modified_at",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "listed_lastmod",
    "removed_at",
}
_ARTICLE_LISTS = {"tags", "missing_fields", "field_conflicts"}


def require_readable(con: Any, path: str | Path | None = None) -> None:
    """:class:`WarehouseError`, one line, unless the warehouse is at the schema version
    this code writes: the reader reads columns the latest migrations added, and a
    read-only connection cannot migrate an older file (a binder error otherwise). Said
    as ``status`` says it (:func:`warehouse.db.require_sites`): the version found and
    how to upgrade (``reindex`` or any crawl migrates it); a DuckDB file with no tables
    is not a warehouse yet; one by a newer baolaocai asks for an upgrade of baolaocai."""
    from warehouse.db import check_is_warehouse, check_schema, known_version

    where = f"the warehouse {path}" if path is not None else "the warehouse"
    check_is_warehouse(con, path)
    current = check_schema(con, path)
    if current == 0:
        raise WarehouseError(
            f"{where} has no warehouse tables (an empty DuckDB file, schema version 0):"
            " fill it with 'baolaocai crawl' or 'baolaocai demo', or give another --db"
        )
    if current < known_version():
        raise WarehouseError(
            f"{where} has schema version {current}, older than this baolaocai reads"
            f" ({known_version()}); run 'baolaocai reindex' (or any crawl) once to upgrade it"
        )


def article_name(site: str, article_id: int) -> str:
    """``baolaocai/395512``: how messages name an article."""
    return f"{site}/{article_id}"


def _capture(row: tuple[Any, ...]) -> CaptureView:
    values = dict(zip(_CAPTURE_COLUMNS, row, strict=True))
    values["fetched_at"] = _tz_set(values["fetched_at"])
    return CaptureView(**values)


def _when(value: datetime) -> str:
    """A time for a message: ``2025-03-10 08:00`` Vietnam time."""
    return value.astimezone(SITE_TZ).strftime("%Y-%m-%d %H:%M")


def _exists(con: Any, site: str, article_id: int) -> None:
    row = con.execute(
        "SELECT 1 FROM articles WHERE site = ? AND article_id = ?", [site, article_id]
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no article {article_name(site, article_id)} in the warehouse")


def sites_with(con: Any, article_id: int) -> list[str]:
    """The keys of the papers that have an article numbered ``article_id`` (an id is
    unique within a paper, not across papers), sorted."""
    rows = con.execute(
        "SELECT DISTINCT site FROM articles WHERE article_id = ? ORDER BY site", [article_id]
    ).fetchall()
    return [str(r[0]) for r in rows]


def get_article(con: Any, site: str, article_id: int) -> ArticleView:
    """The article ``(site, article_id)`` as stored now; :class:`NotFoundError` if none."""
    row = con.execute(
        f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM articles WHERE site = ? AND article_id = ?",
        [site, article_id],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no article {article_name(site, article_id)} in the warehouse")
    values: dict[str, Any] = dict(zip(_ARTICLE_COLUMNS, row, strict=True))
    for name in _ARTICLE_TIMES:
        values[name] = _tz(values[name])
    for name in _ARTICLE_LISTS:
        values[name] = tuple(values[name] or ())
    key = [site, article_id]
    counted = con.execute(
        "SELECT (SELECT count(*) FROM article_revisions WHERE site = ? AND article_id = ?),"
        " (SELECT count(*) FROM captures WHERE site = ? AND article_id = ?)",
        key + key,
    ).fetchone()
    return ArticleView(
        **values,
        images=_images(con, site, article_id),
        versions=int(counted[0]),
        captures=int(counted[1]),
    )


def _images(con: Any, site: str, article_id: int) -> tuple[ImageView, ...]:
    rows = con.execute(
        "SELECT position, src, caption FROM article_images WHERE site = ? AND article_id = ?"
        " ORDER BY position",
        [site, article_id],
    ).fetchall()
    if not rows:
        return ()
    archived = _image_captures(con, site, sorted({src for _, src, _ in rows}))
    return tuple(
        ImageView(position=position, src=src, caption=caption, archived=archived.get(src))
        for position, src, caption in rows
    )


def _image_captures(con: Any, site: str, urls: list[str]) -> dict[str, CaptureView]:
    """The latest good capture with an ``image/*`` type of each of ``urls``."""
    marks = ", ".join("?" for _ in urls)
    rows = con.execute(
        f"SELECT {_CAPTURE_SELECT} FROM captures"
        f" WHERE site = ? AND url IN ({marks}) AND {GOOD_CAPTURE}"
        " AND lower(content_type) LIKE 'image/%'"
        " QUALIFY row_number() OVER (PARTITION BY url ORDER BY fetched_at DESC) = 1",
        [site, *urls],
    ).fetchall()
    return {c.url: c for c in map(_capture, rows)}


def get_versions(con: Any, site: str, article_id: int) -> list[VersionView]:
    """Every version of the article, oldest first; :class:`NotFoundError` if the article
    is unknown."""
    _exists(con, site, article_id)
    rows = con.execute(
        f"SELECT {', '.join(_VERSION_COLUMNS)} FROM article_revisions"
        " WHERE site = ? AND article_id = ? ORDER BY version",
        [site, article_id],
    ).fetchall()
    return [_version(row) for row in rows]


def _version(row: tuple[Any, ...]) -> VersionView:
    values: dict[str, Any] = dict(zip(_VERSION_COLUMNS, row, strict=True))
    for name in ("published_at", "modified_at", "seen_at"):
        values[name] = _tz(values[name])
    values["tags"] = tuple(values["tags"] or ())
    return VersionView(**values)


def get_version(con: Any, site: str, article_id: int, version: int) -> VersionView:
    """Version ``version`` of the article; :class:`NotFoundError` naming those that exist."""
    row = con.execute(
        f"SELECT {', '.join(_VERSION_COLUMNS)} FROM article_revisions"
        " WHERE site = ? AND article_id = ? AND version = ?",
        [site, article_id, version],
    ).fetchone()
    if row is not None:
        return _version(row)
    _exists(con, site, article_id)
    numbers = [
        n
        for (n,) in con.execute(
            "SELECT version FROM article_revisions WHERE site = ? AND article_id = ?"
            " ORDER BY version",
            [site, article_id],
        ).fetchall()
    ]
    raise NotFoundError(
        f"article {article_name(site, article_id)} has no version {version};"
        f" it has {_numbers(numbers)}"
    )


def _numbers(numbers: list[int]) -> str:
    if not numbers:
        return "none stored"
    if len(numbers) == 1:
        return f"version {numbers[0]} only"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"versions {numbers[0]} to {numbers[-1]}"
    return "versions " + ", ".join(map(str, numbers))


def get_captures(con: Any, site: str, article_id: int) -> list[CaptureView]:
    """Every capture of the article, oldest first, every status and both record types
    (an unknown article has none: an empty list)."""
    rows = con.execute(
        f"SELECT {_CAPTURE_SELECT} FROM captures WHERE site = ? AND article_id = ?"
        " ORDER BY fetched_at, record_id",
        [site, article_id],
    ).fetchall()
    return [_capture(row) for row in rows]


def archived_page(
    con: Any,
    warc_folder: Path,
    site: str,
    article_id: int,
    *,
    at: datetime | None = None,
    timestamp: str | None = None,
) -> ArchivedPage:
    """The article's page as archived, read from ``warc_folder``.

    ``timestamp``: the capture of that :attr:`CaptureView.timestamp` (the latest if two
    share the second). ``at``: the latest capture at or before that instant, whatever it
    answered (a takedown's 404 page is what was there). Neither: the latest capture of the
    page as it was (:data:`GOOD_CAPTURE`), or the latest of all if none is. A revisit is
    resolved to the response it refers to.

    :class:`NotFoundError`: an unknown article, no capture, no capture of that timestamp
    (naming the nearest), or ``at`` before the first capture (naming its date).
    :class:`~warehouse.warc.WarcError`: the WARC file is missing or damaged."""
    if at is not None and timestamp is not None:
        raise ValueError("give at or timestamp, not both")
    captures = get_captures(con, site, article_id)
    name = article_name(site, article_id)
    if not captures:
        _exists(con, site, article_id)
        raise NotFoundError(f"article {name} has no capture in the archive")
    chosen = _choose(captures, name, at=at, timestamp=timestamp)
    response = chosen
    if chosen.is_revisit:
        response = _response_of(con, site, chosen)
    capture = _read(Path(warc_folder), response, f"the page of {name}")
    content_type = capture.headers.get("content-type") or response.content_type
    return ArchivedPage(
        capture=chosen, response=response, body=capture.body, content_type=content_type
    )


def _choose(
    captures: list[CaptureView], name: str, *, at: datetime | None, timestamp: str | None
) -> CaptureView:
    if timestamp is not None:
        same = [c for c in captures if c.timestamp == timestamp]
        if same:
            return same[-1]
        listed = ", ".join(c.timestamp for c in captures[-5:])
        raise NotFoundError(
            f"article {name} has no capture of {timestamp!r}; its captures: {listed}"
            + (f" (the last {5} of {len(captures)})" if len(captures) > 5 else "")
        )
    if at is not None:
        if at.tzinfo is None:
            raise ValueError("at must be time-zone aware")
        before = [c for c in captures if c.fetched_at <= at]
        if not before:
            raise NotFoundError(
                f"article {name} has no capture at or before {_when(at)};"
                f" the first is of {_when(captures[0].fetched_at)}"
            )
        return before[-1]
    good = [c for c in captures if c.status == 200 or (c.status == 304 and c.is_revisit)]
    return (good or captures)[-1]


def _read(folder: Path, response: CaptureView, what: str) -> Capture:
    """The response record of ``response`` from ``folder``; a missing or damaged file is
    one :class:`WarcError` line that says what was being read, from where."""
    from warehouse.warc import CaptureRef, WarcError, read_capture

    ref = CaptureRef(
        file=response.warc_file,
        offset=response.warc_offset,
        length=response.warc_length,
        digest=response.digest,
        record_id=response.record_id,
    )
    try:
        return read_capture(folder, ref)
    except WarcError as exc:
        raise WarcError(
            f"cannot read {what} (captured {_when(response.fetched_at)}) from the web archive"
            f" {folder}: {exc.message}"
        ) from exc


def _response_of(con: Any, site: str, revisit: CaptureView) -> CaptureView:
    row = con.execute(
        f"SELECT {_CAPTURE_SELECT} FROM captures WHERE site = ? AND record_id = ?"
        " AND coalesce(record_type, 'response') = 'response' LIMIT 1",
        [site, revisit.refers_to],
    ).fetchone()
    if row is None:
        raise WarehouseError(
            f"the capture of {_when(revisit.fetched_at)} is a revisit of {revisit.refers_to},"
            " which the capture index does not hold"
        )
    return _capture(row)


def image_bytes(
    con: Any, warc_folder: Path, site: str, article_id: int, position: int
) -> tuple[bytes, str]:
    """The archived picture at ``position`` of the article: its bytes and content type.
    :class:`NotFoundError` if the article has no such picture or the archive does not
    hold it (:class:`~warehouse.warc.WarcError` if its WARC file is damaged)."""
    row = con.execute(
        "SELECT src FROM article_images WHERE site = ? AND article_id = ? AND position = ?",
        [site, article_id, position],
    ).fetchone()
    name = article_name(site, article_id)
    if row is None:
        _exists(con, site, article_id)
        raise NotFoundError(f"article {name} has no picture at position {position}")
    found = _image_captures(con, site, [row[0]]).get(row[0])
    if found is None:
        raise NotFoundError(f"picture {position} of article {name} is not in the archive")
    response = _response_of(con, site, found) if found.is_revisit else found
    capture = _read(Path(warc_folder), response, f"picture {position} of {name}")
    kind = capture.headers.get("content-type") or response.content_type or ""
    return capture.body, kind


def get_removed(
    con: Any,
    *,
    site: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[RemovedView]:
    """Takedowns (articles with ``removed_at``), newest removal first, of ``site`` (or
    every site), removed at or after ``since``: ``limit`` of them (at most
    :data:`MAX_LIMIT`) from ``offset``, each with its last capture before it went."""
    if not 0 <= limit <= MAX_LIMIT or offset < 0:
        raise ValueError(f"limit must be from 0 to {MAX_LIMIT} and offset at least 0")
    where = ["removed_at IS NOT NULL"]
    params: list[Any] = []
    if site is not None:
        where.append("site = ?")
        params.append(site)
    if since is not None:
        where.append("removed_at >= ?")
        params.append(since)
    rows = con.execute(
        "SELECT site, article_id, url, title, published_at, removed_at, version, last_seen_at"
        f" FROM articles WHERE {' AND '.join(where)}"
        " ORDER BY removed_at DESC, site, article_id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    last = _last_good_captures(con, [(r[0], r[1]) for r in rows])
    return [
        RemovedView(
            site=s,
            article_id=aid,
            url=url,
            title=title,
            published_at=_tz(published),
            removed_at=_tz_set(removed),
            version=version,
            last_seen_at=_tz_set(seen),
            last_capture=last.get((s, aid)),
        )
        for s, aid, url, title, published, removed, version, seen in rows
    ]


def _last_good_captures(
    con: Any, keys: list[tuple[str, int]]
) -> dict[tuple[str, int], CaptureView]:
    """The last :data:`GOOD_CAPTURE` of each article, one query per site (a page of them)."""
    found: dict[tuple[str, int], CaptureView] = {}
    by_site: dict[str, list[int]] = {}
    for s, aid in keys:
        by_site.setdefault(s, []).append(aid)
    for s, ids in by_site.items():
        marks = ", ".join("?" for _ in ids)
        rows = con.execute(
            f"SELECT article_id, {_CAPTURE_SELECT} FROM captures"
            f" WHERE site = ? AND article_id IN ({marks}) AND {GOOD_CAPTURE}"
            " QUALIFY row_number() OVER (PARTITION BY article_id"
            " ORDER BY fetched_at DESC, record_id DESC) = 1",
            [s, *ids],
        ).fetchall()
        for row in rows:
            found[(s, row[0])] = _capture(row[1:])
    return found
