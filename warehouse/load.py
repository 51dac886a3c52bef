"""Loading into the warehouse: idempotent, transactional, one statement per kind of write.

Write modes, declared per table:

=====================  ========  =======================================================
table                  mode      key and rule
=====================  ========  =======================================================
raw_pages              merge     ``(site, url)``; the latest fetch with a body replaces the last
                                 (validators, and where its capture is in the WARC files);
                                 one whose answer is the capture's own (status, content
                                 type, payload digest) only renews the validators
captures               append    one row per record archived in the WARC files (a
                                 response, or a revisit of a page fetched again with
                                 the answer already captured); a record indexed already
                                 is not added again
articles               merge     ``(site, article_id)``; a new ``content_hash`` bumps ``version``;
                                 the same hash only moves ``last_seen_at``
article_revisions      append    ``(site, article_id, version)``; one row per distinct version
article_images         replace   all rows of an article replaced when its version changes
fetch_errors           merge     ``(site, url, run_id)``
crawl_runs             merge     ``run_id``
=====================  ========  =======================================================

Each :func:`load_batch` call is one transaction: a crash leaves the batch wholly stored
or not at all, and re-running it leaves the same rows (idempotent).

A batch reaches DuckDB as Arrow tables (:func:`arrow_table`, scanned in place by the
statements that read them: :func:`registered`), one statement per kind of write, run only
when the batch has rows of that kind. A statement costs milliseconds whatever its rows,
so what a batch costs is mostly how many it runs: a reparse's batch of unchanged
articles runs three (classify, and resolve what its loading settles), a crawl's batch of
new articles about ten.

A batch is one site's (:class:`~baolaocai.site.Site`): every row it writes carries the
site's key in ``site``, every row it reads or changes is that site's, and article ids are
read from URLs with that site's rules (:func:`baolaocai.identity.article_id`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from baolaocai.identity import article_id as article_id_of
from baolaocai.identity import capture_url
from baolaocai.models import (
    IDENTITY_STAGE,
    REPARSE_SETTLES,
    RUN_COUNTERS,
    Failure,
    FetchedPage,
    StagedArticle,
)
from baolaocai.site import Site
from warehouse.db import SITE_TIME_ZONE, transaction
from warehouse.lake import retry_on_conflict, upsert_statement
from warehouse.schema import (
    CAPTURE_COLUMNS,
    IMAGE_COLUMNS,
    LOADED_ARTICLE_COLUMNS,
    RAW_PAGE_COLUMNS,
)
from warehouse.staging import staging_file
from warehouse.state import GONE_STATUSES
from warehouse.warc import CaptureRef, payload_digest


@dataclass
class LoadCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    """Pages that did not become an article, takedowns excepted (see ``taken_down``)."""
    removed: int = 0
    """Stored articles the site answered 404/410 for in this batch (newly removed)."""
    changed: list[tuple[int, str]] = field(default_factory=list)
    """``(article_id, 'new' | 'updated')`` of the articles this batch stored."""
    taken_down: list[str] = field(default_factory=list)
    """URLs of *stored* articles the site answered 404/410 for (removed now or before): a
    takedown is data, not a failure, so none of them counts in ``failed``. Their
    ``fetch_errors`` row is still written: it parks the URL and lets ``--retry-failed``
    ask again (a later 200 clears ``removed_at``)."""
    suspect: list[str] = field(default_factory=list)
    """URLs of *stored* articles whose page this batch refused as not being them (stage
    ``identity``: an error page, a redirect elsewhere, a collapsed text): the stored
    version kept, the capture archived, a note added to its ``field_conflicts``; not
    counted in ``failed``."""

    def add(self, other: LoadCounts) -> None:
        """Take in the counts of another part of the same batch (lists included)."""
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.removed += other.removed
        self.changed += other.changed
        self.taken_down += other.taken_down
        self.suspect += other.suspect


ARTICLE_TYPES = LOADED_ARTICLE_COLUMNS
"""The columns a batch writes for each article (see :mod:`warehouse.schema`)."""
RAW_TYPES = RAW_PAGE_COLUMNS
CAPTURE_TYPES = CAPTURE_COLUMNS
IMAGE_TYPES = IMAGE_COLUMNS


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def bulk_insert(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    types: Mapping[str, str],
    rows: Iterable[Sequence[object]],
) -> int:
    """``statement`` (e.g. ``INSERT INTO t``) fed from ``rows`` in one bulk read.

    Binding Python values row by row (``executemany``) costs about a millisecond per
    article; writing the batch as newline-delimited JSON to a temporary file and reading
    it with DuckDB's ``read_json`` is some thirty times faster and keeps types exact
    (:func:`insert_rows` hands DuckDB an Arrow table instead, without a file: the
    loader's way; this one serves writes of rows that need not be held at once).
    The file is a staging file of :mod:`warehouse.staging`: in the warehouse's folder,
    named after this process, so one left by a killed process is removed by the next
    writer of the warehouse.
    """
    names = list(types)
    count = 0
    handle = staging_file(con)  # beside the warehouse, named after this process
    try:
        with handle:
            for row in rows:
                record = {n: _json_value(v) for n, v in zip(names, row, strict=True)}
                handle.write(json.dumps(record, ensure_ascii=False))
                handle.write("\n")
                count += 1
        if count:
            spec = ", ".join(f"'{n}': '{t}'" for n, t in types.items())
            con.execute(
                f"{statement} ({', '.join(names)}) SELECT {', '.join(names)}"
                f" FROM read_json(?, format = 'newline_delimited', columns = {{{spec}}})",
                [handle.name],
            )
    finally:
        os.unlink(handle.name)
    return count


_ARROW_TYPES: Mapping[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    # Instants as UTC microseconds, DuckDB's own; a naive datetime is taken as UTC, as
    # DuckDB reads a time without an offset.
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DATE": pa.date32(),
    "VARCHAR[]": pa.list_(pa.string()),
}
"""The Arrow type of each DuckDB type a batch writes: a scan needs no cast."""

_URL_TYPES: Mapping[str, str] = {"url": "VARCHAR"}

_PLACEHOLDER_TYPES: Mapping[str, str] = {
    "site": "VARCHAR",
    "fingerprint": "VARCHAR",
    "first_url": "VARCHAR",
    "seen_at": "TIMESTAMPTZ",
}

FAILURE_TYPES: Mapping[str, str] = {
    "site": "VARCHAR",
    "url": "VARCHAR",
    "run_id": "VARCHAR",
    "status": "INTEGER",
    "error": "VARCHAR",
    "attempts": "INTEGER",
    "stage": "VARCHAR",
    "failed_at": "TIMESTAMPTZ",
}
"""The columns of ``fetch_errors`` a batch writes (``resolved_at`` is set later)."""


def arrow_table(types: Mapping[str, str], rows: Sequence[Sequence[object]]) -> pa.Table:
    """``rows`` (tuples in ``types`` order) as one Arrow table of the columns' types, for
    DuckDB to scan in place (:func:`registered`): one statement reads the whole batch,
    with no file and no value bound one by one.

    A value no column of that type can hold (an id past BIGINT, text with a lone
    surrogate) raises :class:`duckdb.ConversionException`, as DuckDB itself refuses such a
    value: the record's fault, which :func:`pipeline.steps.load_isolating` isolates."""
    names = list(types)
    columns: list[Sequence[object]] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = []
    for name, values in zip(names, columns, strict=True):
        try:
            arrays.append(pa.array(values, type=_ARROW_TYPES[types[name]]))
        except (pa.ArrowException, OverflowError, ValueError, TypeError) as exc:
            raise duckdb.ConversionException(
                f"a value of column {name} cannot be stored as {types[name]}: {exc}"
            ) from exc
    return pa.Table.from_arrays(arrays, names=names)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Each of ``tables`` readable by its name on ``con`` for the block (a view of the
    Arrow data, scanned without a copy), gone after it."""
    try:
        for name, table in tables.items():
            con.register(name, table)
        yield
    finally:
        for name in tables:
            con.unregister(name)


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    types: Mapping[str, str],
    rows: Sequence[Sequence[object]],
) -> int:
    """``statement`` (e.g. ``INSERT INTO t``) fed with ``rows`` (in ``types`` order) in
    one statement over an Arrow table; nothing is run for no rows."""
    if not rows:
        return 0
    names = ", ".join(types)
    with registered(con, batch_rows=arrow_table(types, rows)):
        con.execute(f"{statement} ({names}) SELECT {names} FROM batch_rows")
    return len(rows)


_SITE_TZ = ZoneInfo(SITE_TIME_ZONE)


def upsert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    types: Mapping[str, str],
    key: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    ignore: bool = False,
) -> int:
    """``rows`` (in ``types`` order) inserted into ``table``, replacing (``ignore``:
    keeping) the rows of the same ``key``: ``INSERT OR REPLACE`` on a file, a ``MERGE`` on a
    lake (:func:`warehouse.lake.upsert_statement`); nothing is run for no rows."""
    if not rows:
        return 0
    names = list(types)
    with registered(con, batch_rows=arrow_table(types, rows)):
        source = f"SELECT {', '.join(names)} FROM batch_rows"
        con.execute(upsert_statement(con, table, names, key, source, ignore=ignore))
    return len(rows)


def vietnam_day(moment: datetime | None) -> date | None:
    """The calendar day of ``moment`` in Vietnam time (``articles.published_date``)."""
    return moment.astimezone(_SITE_TZ).date() if moment is not None else None


def _article_row(
    site: Site,
    staged: StagedArticle,
    run_id: str,
    seen_at: datetime,
    *,
    version: int,
    last_seen_at: datetime | None,
) -> tuple[object, ...]:
    """One ``articles`` row, in :data:`ARTICLE_TYPES` order (``last_seen_at`` None: the
    stored one stays, a reparse's)."""
    a = staged.article
    values: dict[str, object] = {
        "site": site.key,
        "article_id": a.article_id,
        "url": a.url,
        "title": a.title,
        "sapo": a.sapo,
        "body": a.body,
        "author": a.author,
        "published_at": a.published_at,
        "published_date": vietnam_day(a.published_at),
        "modified_at": a.modified_at,
        "category": a.category,
        "tags": list(a.tags),
        "source": a.source,
        "extraction_method": a.extraction_method,
        "page_kind": a.page_kind,
        "category_source": a.category_source,
        "body_chars": len(a.body),
        "paragraph_count": len(a.paragraphs),
        "missing_fields": list(a.missing_fields),
        "field_conflicts": list(a.field_conflicts),
        "word_count": len(a.body.split()),
        "image_count": len(a.images),
        "content_hash": staged.content_hash,
        "version": version,
        "first_seen_at": seen_at,
        "last_seen_at": last_seen_at,
        "updated_at": seen_at,
        "run_id": run_id,
    }
    return tuple(values[name] for name in ARTICLE_TYPES)


@retry_on_conflict
def load_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    run_id: str,
    seen_at: datetime,
    pages: Sequence[FetchedPage],
    articles: Sequence[StagedArticle],
    failures: Sequence[Failure],
    touch_unchanged: bool = True,
    lastmods: Mapping[int, datetime] | None = None,
    captures: Mapping[str, CaptureRef] | None = None,
    kept: Mapping[str, CaptureRef] | None = None,
    placeholders: Mapping[str, str] | None = None,
) -> LoadCounts:
    """Store one batch of ``site`` (raw pages, articles, images, revisions, errors)
    atomically; other sites' rows are neither read nor changed.

    ``captures`` are where the pages were archived (URL -> its WARC capture, written and
    flushed before this call): each becomes a ``captures`` row and the ``raw_pages`` row
    of its URL points at it. A page with a body and no capture keeps its HTML in
    ``raw_pages.html`` (callers without an archive); pages read back from the archive
    (``FetchedPage.archived``, a reparse) are not stored again. ``kept`` are pages
    fetched again with the very answer their stored capture holds (URL -> that capture,
    see :func:`kept_captures`): not archived again in full; their ``raw_pages`` row keeps
    pointing at the capture and takes their new ``ETag`` and ``Last-Modified``, so the
    next conditional request sends what the site sends now. Their entry in ``captures``,
    when there is one, is the revisit record that proves they were seen again: a
    ``captures`` row with ``record_type`` 'revisit' (so is a ``304`` answer's). A kept
    page archived in full after all (its stored capture could not be read back) is
    stored as any new capture.

    ``touch_unchanged=False`` (a reparse, which sees no site) leaves ``last_seen_at``.

    ``counts.failed`` counts the ``failures`` but those of stored articles answered
    404/410 (``counts.taken_down``): a takedown counts once, as ``removed``; and those
    of stored articles whose page was refused as not being them (stage ``identity``,
    ``counts.suspect``): their stored version, and the ``raw_pages`` row that points at
    its capture, stay; the refused page is archived and indexed in ``captures`` only.
    A page that redirects led elsewhere (``FetchedPage.redirected_to``) is captured as
    the answer of that address and never becomes the ``raw_pages`` row of its URL.

    Pages answered ``304 Not Modified`` count as unchanged: their article's
    ``last_seen_at`` moves on. Loading a page resolves its earlier fetch errors.
    ``lastmods`` (article id -> the ``<lastmod>`` a sitemap or feed listed) is recorded as
    ``listed_lastmod`` of the articles this batch saw. A stored article answered 404/410
    keeps its row and versions and gets ``removed_at``; one seen again loses it.
    """
    counts = LoadCounts()
    # The last record wins when the same article appears twice in one batch.
    unique = list({s.article.article_id: s for s in articles}.values())
    not_modified = [p.url for p in pages if p.status == 304]
    refused = [f for f in failures if f.stage == IDENTITY_STAGE]
    with transaction(con):
        suspects = _stored_urls(con, site, [f.url for f in refused])
        _store_raw(
            con,
            site,
            run_id,
            [p for p in pages if not p.archived],
            captures or {},
            kept or {},
            suspects,
        )
        if unique:
            counts.changed = _merge_articles(
                con, site, run_id, seen_at, unique, touch_unchanged=touch_unchanged
            )
            counts.new = sum(1 for _, kind in counts.changed if kind == "new")
            counts.updated = sum(1 for _, kind in counts.changed if kind == "updated")
            counts.unchanged = len(unique) - len(counts.changed)
        if not_modified:
            con.execute(
                "UPDATE articles SET last_seen_at = ?"
                " WHERE site = ? AND article_id IN (SELECT unnest(?::BIGINT[]))",
                [seen_at, site.key, sorted(_ids(site, not_modified))],
            )
            counts.unchanged += len(not_modified)
        _record_failures(con, site, run_id, seen_at, failures)
        if placeholders:
            upsert_rows(
                con,
                "placeholder_pages",
                _PLACEHOLDER_TYPES,
                ("site", "fingerprint"),
                [(site.key, fp, url, seen_at) for fp, url in sorted(placeholders.items())],
                ignore=True,
            )
        _note_suspects(con, site, seen_at, [f for f in refused if f.url in suspects])
        counts.suspect = sorted(suspects)
        loaded = [url for s in unique if (url := s.article.url)] + not_modified
        # The URLs this batch loaded, scanned by the statements below (a bound list of a
        # reparse's 1,000 URLs cost more to bind than the statement to run).
        with registered(con, batch_loaded=arrow_table(_URL_TYPES, [(u,) for u in loaded])):
            # A reparse (``touch_unchanged=False``) reads pages back from the archive and
            # sees no site: a taken-down article is still taken down, and only its page's
            # parse-side errors are settled by parsing it again (it cleared ``removed_at``
            # and resolved the 404 that recorded the takedown).
            counts.removed, counts.taken_down = _mark_removed(
                con, site, seen_at, pages, bool(loaded) and touch_unchanged
            )
            if loaded:
                con.execute(
                    "UPDATE fetch_errors SET resolved_at = ?"
                    " WHERE site = ? AND resolved_at IS NULL"
                    "  AND url IN (SELECT url FROM batch_loaded)"
                    + ("" if touch_unchanged else " AND stage IN (SELECT unnest(?::VARCHAR[]))"),
                    [seen_at, site.key] + ([] if touch_unchanged else [list(REPARSE_SETTLES)]),
                )
        not_failed = set(counts.taken_down) | suspects
        counts.failed = sum(1 for f in failures if f.url not in not_failed)
        if loaded and lastmods:
            loaded_ids = _ids(site, loaded)
            seen = [(aid, lastmods[aid]) for aid in sorted(loaded_ids) if lastmods.get(aid)]
            if seen:
                con.execute(
                    "UPDATE articles a SET listed_lastmod = greatest(l.lastmod,"
                    "  coalesce(a.listed_lastmod, l.lastmod))"
                    " FROM (SELECT unnest(?::BIGINT[]) AS article_id,"
                    "  unnest(?::TIMESTAMPTZ[]) AS lastmod) l"
                    " WHERE a.site = ? AND a.article_id = l.article_id",
                    [[a for a, _ in seen], [w for _, w in seen], site.key],
                )
    return counts


def _stored_urls(con: duckdb.DuckDBPyConnection, site: Site, urls: Sequence[str]) -> set[str]:
    """Those of ``urls`` that are stored articles of ``site`` (by id)."""
    ids = _ids(site, urls)
    if not ids:
        return set()
    rows = con.execute(
        "SELECT article_id FROM articles WHERE site = ?"
        " AND article_id IN (SELECT unnest(?::BIGINT[]))",
        [site.key, sorted(ids)],
    ).fetchall()
    stored = {int(r[0]) for r in rows}
    return {u for u in urls if article_id_of(u, site) in stored}


def _note_suspects(
    con: duckdb.DuckDBPyConnection, site: Site, seen_at: datetime, refused: Sequence[Failure]
) -> None:
    """Add to each stored article's ``field_conflicts`` why the page fetched for it at
    ``seen_at`` was not taken as its new version (kept until a page of it is read)."""
    if not refused:
        return
    notes = {
        aid: f"page: {seen_at:%Y-%m-%dT%H:%M}Z {f.error}; the stored version was kept"
        for f in refused
        if (aid := article_id_of(f.url, site)) is not None
    }
    ids = sorted(notes)
    con.execute(
        "UPDATE articles a SET field_conflicts = list_append(coalesce(a.field_conflicts,"
        " []::VARCHAR[]), n.note)"
        " FROM (SELECT unnest(?::BIGINT[]) AS article_id, unnest(?::VARCHAR[]) AS note) n"
        " WHERE a.site = ? AND a.article_id = n.article_id",
        [ids, [notes[i] for i in ids], site.key],
    )


def _ids(site: Site, urls: Sequence[str]) -> set[int]:
    return {aid for u in urls if (aid := article_id_of(u, site)) is not None}


def _mark_removed(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    seen_at: datetime,
    pages: Sequence[FetchedPage],
    loaded: bool,
) -> tuple[int, list[str]]:
    """Set ``removed_at`` of stored articles answered 404/410; clear it for those seen
    (``loaded``: the batch loaded some, their URLs in ``batch_loaded``). Returns how many
    were newly removed, and the URLs of every stored article answered 404/410 (the
    takedowns, whether removed now or in an earlier run)."""
    if loaded:
        con.execute(
            "UPDATE articles SET removed_at = NULL"
            " WHERE site = ? AND removed_at IS NOT NULL"
            "  AND url IN (SELECT url FROM batch_loaded)",
            [site.key],
        )
    gone = [p.url for p in pages if p.status in GONE_STATUSES]
    if not gone:
        return 0, []
    stored = con.execute(
        "SELECT url FROM articles WHERE site = ? AND list_contains(?, url) ORDER BY url",
        [site.key, gone],
    ).fetchall()
    # The rows found first, then changed (a lake's UPDATE has no RETURNING); both inside
    # the batch's transaction, so they are the same rows.
    where = " WHERE site = ? AND removed_at IS NULL AND list_contains(?, url)"
    found = con.execute("SELECT count(*) FROM articles" + where, [site.key, gone]).fetchone()
    con.execute("UPDATE articles SET removed_at = ?" + where, [seen_at, site.key, gone])
    return int(found[0]) if found else 0, [str(r[0]) for r in stored]


@retry_on_conflict
def record_failures(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    run_id: str,
    at: datetime,
    failures: Sequence[Failure],
) -> None:
    """Store failures of ``site`` outside a batch (e.g. discovery sources that did not
    answer)."""
    with transaction(con):
        _record_failures(con, site, run_id, at, failures)


def _record_failures(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    run_id: str,
    at: datetime,
    failures: Sequence[Failure],
) -> None:
    # The last failure of a URL wins (the one a row-by-row replace would have left).
    last = {f.url: f for f in failures}
    upsert_rows(
        con,
        "fetch_errors",
        FAILURE_TYPES,
        ("site", "url", "run_id"),
        [
            (site.key, f.url, run_id, f.status, f.error, f.attempts, f.stage, at)
            for f in last.values()
        ],
    )


def _store_raw(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    run_id: str,
    pages: Sequence[FetchedPage],
    captures: Mapping[str, CaptureRef],
    kept: Mapping[str, CaptureRef],
    suspects: Set[str] = frozenset(),
) -> None:
    rows = []
    index = []
    renewed: dict[str, tuple[str | None, str | None]] = {}
    for p in pages:
        ref = captures.get(p.url)
        revisit = ref is not None and ref.is_revisit
        if p.html is None:
            if p.status == 304 and ref is not None and revisit:  # seen again, recorded
                index.append(
                    capture_row(
                        site.key,
                        p.url,
                        article_id_of(p.url, site),
                        p.fetched_at,
                        p.status,
                        p.headers.get("content-type"),
                        ref,
                        run_id,
                    )
                )
            continue
        answered = capture_url(p, site)
        if p.url in suspects or answered != p.url:
            # Not the article of its URL: a capture of what it is, the row of the URL
            # keeps pointing at the article's last page.
            if ref:
                index.append(
                    capture_row(
                        site.key,
                        answered,
                        article_id_of(answered, site),
                        p.fetched_at,
                        p.status,
                        p.headers.get("content-type"),
                        ref,
                        run_id,
                    )
                )
            continue
        aid = article_id_of(p.url, site)
        if p.url in kept and (ref is None or revisit):
            # The row keeps pointing at the response that holds the page; a revisit
            # record, if one was written, is a capture of its own.
            renewed[p.url] = (p.headers.get("etag"), p.headers.get("last-modified"))
            if ref is not None:
                index.append(
                    capture_row(
                        site.key,
                        p.url,
                        aid,
                        p.fetched_at,
                        p.status,
                        p.headers.get("content-type"),
                        ref,
                        run_id,
                    )
                )
            continue
        content_type = p.headers.get("content-type")
        rows.append(
            (
                site.key,
                p.url,
                aid,
                p.fetched_at,
                p.status,
                p.headers.get("etag"),
                p.headers.get("last-modified"),
                content_type,
                None if ref else p.html,
                hashlib.sha256(p.html.encode("utf-8")).hexdigest(),
                run_id,
                ref.file if ref else None,
                ref.offset if ref else None,
                ref.length if ref else None,
                ref.digest if ref else None,
                ref.record_id if ref else None,
            )
        )
        if ref:
            index.append(
                capture_row(site.key, p.url, aid, p.fetched_at, p.status, content_type, ref, run_id)
            )
    upsert_rows(con, "raw_pages", RAW_TYPES, ("site", "url"), rows)
    _insert_captures(con, site, index)
    if renewed:
        urls = sorted(renewed)
        con.execute(
            "UPDATE raw_pages r SET etag = v.etag, last_modified = v.last_modified"
            " FROM (SELECT unnest(?::VARCHAR[]) AS url, unnest(?::VARCHAR[]) AS etag,"
            "  unnest(?::VARCHAR[]) AS last_modified) v"
            " WHERE r.site = ? AND r.url = v.url",
            [urls, [renewed[u][0] for u in urls], [renewed[u][1] for u in urls], site.key],
        )


def _insert_captures(
    con: duckdb.DuckDBPyConnection, site: Site, rows: Sequence[Sequence[object]]
) -> None:
    """Append ``rows`` to ``captures``, but those whose record (``record_id``, unique to
    one WARC record) is indexed already: the same batch loaded twice adds no row. A row
    indexed already has its batch row's ``fetched_at``: the search skips the row groups
    of older captures (a few ms whatever the archive's size; ~60 ms at a million rows
    without it)."""
    if not rows:
        return
    names = ", ".join(CAPTURE_TYPES)
    earliest = min(r[3] for r in rows if isinstance(r[3], datetime))  # fetched_at
    with registered(con, batch_captures=arrow_table(CAPTURE_TYPES, rows)):
        con.execute(
            f"INSERT INTO captures ({names}) SELECT {names} FROM batch_captures b"
            " WHERE b.record_id NOT IN (SELECT record_id FROM captures WHERE site = ?"
            "  AND fetched_at >= ? AND record_id IN (SELECT record_id FROM batch_captures))",
            [site.key, earliest],
        )


def archived_payload(page: FetchedPage) -> bytes:
    """The body the web archive stores for ``page``: as received, else (a page known only
    as text) its text as UTF-8, as :func:`warehouse.session.exchange_of` archives it."""
    if page.body is not None:
        return page.body
    return (page.html or "").encode("utf-8")


def same_answer(
    page: FetchedPage, status: int, content_type: str | None, digest: str | None
) -> bool:
    """Whether ``page`` is the very answer a capture holds (its ``status``,
    ``content_type`` and payload ``digest``): then archiving it again adds a copy, not a
    capture. Validators are left out on purpose: a site whose ``ETag`` or
    ``Last-Modified`` changes at every request (a render stamp, one per cluster node)
    would otherwise add a WARC record and a ``captures`` row at every recheck."""
    return (
        digest is not None
        and page.status == status
        and page.headers.get("content-type") == content_type
        and payload_digest(archived_payload(page)) == digest
    )


def kept_captures(
    con: duckdb.DuckDBPyConnection, site: Site, pages: Sequence[FetchedPage]
) -> dict[str, CaptureRef]:
    """URL -> the stored capture of each page of ``site`` fetched again with the very
    answer that capture holds (:func:`same_answer`), or answered ``304 Not Modified``,
    for :func:`load_batch`'s ``kept`` (and the revisit records
    :meth:`~warehouse.session.WarehouseSession.archive` writes of them). Pages read
    back from the archive, other pages without a body, or whose URL has no capture in
    the web archive (none yet, or one kept in ``raw_pages.html``) are never kept."""
    fetched = {
        p.url: p
        for p in pages
        if (p.html is not None or p.status == 304) and not p.archived and not p.error
    }
    if not fetched:
        return {}
    rows = con.execute(
        "SELECT url, status, content_type, digest, warc_file, warc_offset, warc_length,"
        " record_id FROM raw_pages WHERE site = ? AND html IS NULL AND warc_file IS NOT NULL"
        " AND list_contains(?, url)",
        [site.key, sorted(fetched)],
    ).fetchall()
    return {
        str(url): CaptureRef(str(file), int(offset), int(length), str(digest), str(record_id))
        for url, status, content_type, digest, file, offset, length, record_id in rows
        if fetched[str(url)].status == 304
        or same_answer(fetched[str(url)], status, content_type, digest)
    }


def capture_row(
    site: str,
    url: str,
    article_id: int | None,
    fetched_at: datetime,
    status: int,
    content_type: str | None,
    ref: CaptureRef,
    run_id: str | None,
) -> tuple[object, ...]:
    """One ``captures`` row, in :data:`CAPTURE_TYPES` order (``site``: the site's key); a
    revisit record's (``ref.refers_to`` set) says so in ``record_type`` and ``refers_to``."""
    return (
        site,
        url,
        article_id,
        fetched_at,
        status,
        content_type,
        ref.digest,
        ref.file,
        ref.offset,
        ref.length,
        ref.record_id,
        run_id,
        "revisit" if ref.is_revisit else "response",
        ref.refers_to,
    )


_KEY_TYPES: Mapping[str, str] = {
    "site": "VARCHAR",
    "article_id": "BIGINT",
    "content_hash": "VARCHAR",
    "page_kind": "VARCHAR",
    "extraction_method": "VARCHAR",
    "field_conflicts": "VARCHAR[]",
    "last_seen_at": "TIMESTAMPTZ",
}
"""What classifying an article needs of it (and all an unchanged one writes): a full row
(its word count, its paragraphs) is built only for the new and changed ones."""

_CLASSIFY = (
    "SELECT s.article_id,"
    "  CASE WHEN a.article_id IS NULL THEN 'new'"
    "       WHEN a.content_hash <> s.content_hash THEN 'updated' ELSE 'unchanged' END,"
    "  coalesce(a.version, 0) + 1,"
    # an unchanged page read by a newer parser: its reading of the page (kind, reader,
    # conflicts) is refreshed without a new version (none of it is content)
    "  a.page_kind IS DISTINCT FROM s.page_kind"
    "  OR a.extraction_method IS DISTINCT FROM s.extraction_method"
    "  OR a.field_conflicts IS DISTINCT FROM s.field_conflicts"
    " FROM batch_keys s LEFT JOIN articles a ON a.site = s.site AND a.article_id = s.article_id"
)
"""Each article of the batch: its kind (new; updated: another hash; unchanged, a NULL
stored hash included), its next version, whether its reading of the page changed."""

_REVISION_COLUMNS = (
    "site, article_id, version, content_hash, title, sapo, body, author, published_at,"
    " modified_at, category, tags, source, seen_at, run_id"
)
_UPDATED_SET = ", ".join(
    f"{c} = s.{c}"
    for c in ARTICLE_TYPES
    if c not in {"site", "article_id", "first_seen_at", "last_seen_at"}
)


def _merge_articles(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    run_id: str,
    seen_at: datetime,
    staged: Sequence[StagedArticle],
    *,
    touch_unchanged: bool = True,
) -> list[tuple[int, str]]:
    """Store the batch's articles (one per id): a new one, or one whose content hash
    differs from the stored one, gets a revision and becomes the current version (its
    pictures replaced); an unchanged one only has its reading of the page refreshed and,
    unless ``touch_unchanged`` is False, its ``last_seen_at`` moved. Returns
    ``(article_id, 'new' | 'updated')`` of the stored ones, by id.

    One join classifies the batch (a ``MERGE`` cost some 0.1 ms an article even when it
    changed nothing: a reparse's articles are nearly all unchanged), then each kind is
    written by one statement over an Arrow table of its rows, and only when there are
    some: a reparse of an unchanged archive writes nothing here."""
    last_seen = seen_at if touch_unchanged else None
    keys = [
        (
            site.key,
            s.article.article_id,
            s.content_hash,
            s.article.page_kind,
            s.article.extraction_method,
            list(s.article.field_conflicts),
            last_seen,
        )
        for s in staged
    ]
    with registered(con, batch_keys=arrow_table(_KEY_TYPES, keys)):
        found = con.execute(_CLASSIFY).fetchall()
    kind = {int(aid): (str(k), int(version), bool(fresh)) for aid, k, version, fresh in found}
    new: list[tuple[object, ...]] = []
    updated: list[tuple[object, ...]] = []
    refreshed: list[tuple[object, ...]] = []
    for s, key in zip(staged, keys, strict=True):
        what, version, fresh = kind[s.article.article_id or 0]
        if what == "unchanged":
            if touch_unchanged or fresh:
                refreshed.append(key)
            continue
        if what == "new":  # first seen now, whatever the run
            new.append(_article_row(site, s, run_id, seen_at, version=1, last_seen_at=seen_at))
        else:
            updated.append(
                _article_row(site, s, run_id, seen_at, version=version, last_seen_at=last_seen)
            )
    names = ", ".join(ARTICLE_TYPES)
    changed_rows = new + updated
    if changed_rows:
        with registered(con, batch_changed=arrow_table(ARTICLE_TYPES, changed_rows)):
            con.execute(
                f"INSERT INTO article_revisions ({_REVISION_COLUMNS})"
                " SELECT site, article_id, version, content_hash, title, sapo, body, author,"
                "  published_at, modified_at, category, tags, source, updated_at, run_id"
                " FROM batch_changed"
            )
            if new:
                con.execute(
                    f"INSERT INTO articles ({names}) SELECT {names} FROM batch_changed"
                    " WHERE version = 1"
                )
            if updated:
                # a reparse (no last_seen_at staged) keeps when the site was last seen
                con.execute(
                    f"UPDATE articles a SET {_UPDATED_SET},"
                    "  last_seen_at = coalesce(s.last_seen_at, a.last_seen_at)"
                    " FROM batch_changed s"
                    " WHERE s.version > 1 AND a.site = s.site AND a.article_id = s.article_id"
                )
            con.execute(
                "DELETE FROM article_images i USING batch_changed s"
                " WHERE i.site = s.site AND i.article_id = s.article_id"
            )
        ids = {int(str(row[1])) for row in changed_rows}
        images = [
            (site.key, s.article.article_id, i, img.src, img.caption)
            for s in staged
            if s.article.article_id in ids
            for i, img in enumerate(s.article.images)
        ]
        insert_rows(con, "INSERT INTO article_images", IMAGE_TYPES, images)
    if refreshed:
        with registered(con, batch_keys=arrow_table(_KEY_TYPES, refreshed)):
            con.execute(
                "UPDATE articles a SET page_kind = s.page_kind,"
                " extraction_method = s.extraction_method, field_conflicts = s.field_conflicts,"
                " last_seen_at = coalesce(s.last_seen_at, a.last_seen_at)"
                " FROM batch_keys s WHERE a.site = s.site AND a.article_id = s.article_id"
            )
    return sorted((int(aid), what) for aid, (what, _, _) in kind.items() if what != "unchanged")


# -- crawl runs -------------------------------------------------------------------------------


@retry_on_conflict
def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    run_id: str,
    started_at: datetime,
    base_url: str,
    flow_run_id: str | None,
    kind: str = "crawl",
    pid: int | None = None,
    host: str | None = None,
) -> None:
    """Record a run of ``site`` as running (``base_url``: where it fetches from, the
    site's origin or a copy of it)."""
    with transaction(con):
        columns: tuple[str, ...] = ("site", "run_id", "flow_run_id", "started_at", "status")
        columns += ("base_url", "kind", "pid", "host")
        con.execute(
            upsert_statement(
                con, "crawl_runs", columns, ("run_id",), "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            [site.key, run_id, flow_run_id, started_at, "running", base_url, kind, pid, host],
        )


@retry_on_conflict
def finish_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    finished_at: datetime,
    status: str,
    counters: dict[str, int],
    error: str | None,
    warning: str | None = None,
) -> None:
    sets = ", ".join(f"{name} = ?" for name in RUN_COUNTERS)
    values = [int(counters.get(n, 0)) for n in RUN_COUNTERS]
    with transaction(con):
        con.execute(
            f"UPDATE crawl_runs SET finished_at = ?, status = ?, error = ?, warning = ?, {sets}"
            " WHERE run_id = ?",
            [finished_at, status, error, warning, *values, run_id],
        )


def stored_texts_changed(
    con: duckdb.DuckDBPyConnection, site: Site, staged: Sequence[StagedArticle]
) -> dict[int, tuple[str | None, str]]:
    """``article_id -> (title, body)`` of the stored articles among ``staged`` whose
    stored content hash is not the staged one: what a new version of each must at least
    be (:func:`transforms.integrity.collapsed`). One staged with its stored hash is its
    stored text (title and body are hashed): there is nothing to compare, and a reparse's
    articles, nearly all unchanged, cost no read of their bodies."""
    keys = [(site.key, s.article.article_id or 0, s.content_hash) for s in staged]
    if not keys:
        return {}
    with registered(con, batch_hashes=arrow_table(_HASH_TYPES, keys)):
        rows = con.execute(
            "SELECT a.article_id, a.title, a.body FROM batch_hashes s JOIN articles a"
            " ON a.site = s.site AND a.article_id = s.article_id"
            " WHERE a.content_hash IS DISTINCT FROM s.content_hash"
        ).fetchall()
    return {int(aid): (title, str(body or "")) for aid, title, body in rows}


_HASH_TYPES: Mapping[str, str] = {
    "site": "VARCHAR",
    "article_id": "BIGINT",
    "content_hash": "VARCHAR",
}


def any_placeholders(con: duckdb.DuckDBPyConnection, site: Site) -> bool:
    """Whether any page of ``site`` is remembered as a placeholder (``placeholder_pages``):
    without one, no record needs its fingerprint to be matched against them."""
    return (
        con.execute("SELECT 1 FROM placeholder_pages WHERE site = ? LIMIT 1", [site.key]).fetchone()
        is not None
    )
