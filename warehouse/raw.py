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
    con: duckdb.DuckDBPyConnection, *, site: Site, after_id: int, limit: int, warc_folder: Path
) -> list[FetchedPage]:
    """The next ``limit`` stored article pages of ``site`` with an id above ``after_id``.

    A reference that cannot be read (a WARC file deleted or damaged by hand) raises
    :class:`~warehouse.warc.WarcError`, one line naming the file."""
    rows = con.execute(
        "SELECT url, fetched_at, status, etag, last_modified, content_type, html,"
        " warc_file, warc_offset, warc_length, digest, record_id"
        " FROM raw_pages WHERE site = ? AND article_id > ?"
        "  AND (html IS NOT NULL OR warc_file IS NOT NULL)"
        " ORDER BY article_id LIMIT ?",
        [site.key, after_id, limit],
    ).fetchall()
    return [_page(warc_folder, *row) for row in rows]


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
