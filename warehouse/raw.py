"""Reading stored raw pages back (for ``reparse``), in batches, without the network.

The latest capture of each article page is found through ``raw_pages`` (keyset pagination
on ``article_id``: memory stays at one batch however large the archive is) and read from
the web archive by its reference: one seek and one gzip member per page. A page stored
before the web archive and not moved yet is read from ``raw_pages.html``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from baolaocai.decoding import decode_html
from baolaocai.models import FetchedPage
from baolaocai.site import Site
from warehouse.warc import CaptureRef, read_capture


def read_raw_article_pages(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    after_id: int,
    limit: int,
    warc_folder: Path,
    upto_id: int | None = None,
) -> list[FetchedPage]:
    """The next ``limit`` stored article pages of ``site`` with an id above ``after_id``
    (and at most ``upto_id``: a part of a reparse, :func:`reparse_parts`).

    A reference that cannot be read (a WARC file deleted or damaged by hand) raises
    :class:`~warehouse.warc.WarcError`, one line naming the file."""
    rows = con.execute(
        "SELECT url, fetched_at, status, etag, last_modified, content_type, html,"
        " warc_file, warc_offset, warc_length, digest, record_id"
        f" FROM raw_pages WHERE site = ? AND article_id > ?{_STORED}"
        + ("" if upto_id is None else " AND article_id <= ?")
        + " ORDER BY article_id LIMIT ?",
        [site.key, after_id, *([] if upto_id is None else [upto_id]), limit],
    ).fetchall()
    return [_page(warc_folder, *row) for row in rows]


_STORED = " AND (html IS NOT NULL OR warc_file IS NOT NULL)"


def reparse_parts(con: duckdb.DuckDBPyConnection, site: Site, parts: int) -> list[tuple[int, int]]:
    """The stored article pages of ``site`` cut into at most ``parts`` ranges of article
    ids (``(first, last)``, both included) holding as many pages each as can be: the parts
    of a reparse run side by side. Every article is in exactly one range, so two parts
    never write the same article (a lake has no key that would refuse a duplicate)."""
    rows = con.execute(
        "SELECT min(article_id), max(article_id) FROM (SELECT article_id,"
        "  ntile(?) OVER (ORDER BY article_id) AS part FROM raw_pages"
        f"  WHERE site = ? AND article_id IS NOT NULL{_STORED})"
        " GROUP BY part ORDER BY 1",
        [max(1, parts), site.key],
    ).fetchall()
    return [(int(lo), int(hi)) for lo, hi in rows]


def _page(
    folder: Path,
    url: str,
    fetched_at: datetime,
    status: int,
    etag: str | None,
    last_modified: str | None,
    content_type: str | None,
    html: str | None,
    warc_file: str | None,
    warc_offset: int | None,
    warc_length: int | None,
    digest: str | None,
    record_id: str | None,
) -> FetchedPage:
    headers = {
        k: v
        for k, v in (
            ("etag", etag),
            ("last-modified", last_modified),
            ("content-type", content_type),
        )
        if v
    }
    if html is None:
        assert warc_file is not None and warc_offset is not None and warc_length is not None
        capture = read_capture(
            folder, CaptureRef(warc_file, warc_offset, warc_length, digest or "", record_id or "")
        )
        html = decode_html(capture.body, capture.headers.get("content-type"))
    # Without its bytes (``body``): a page read back from the archive is never archived
    # again, and a reparse holds hundreds of pages in flight.
    return FetchedPage(url, url, status, fetched_at, html, headers, archived=True)
