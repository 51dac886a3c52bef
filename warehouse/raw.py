"""Reading stored raw pages back (for ``reparse``), in batches, without the network."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb

from baolaocai.models import FetchedPage


def iter_raw_article_pages(
    con: duckdb.DuckDBPyConnection, *, batch_size: int = 200
) -> Iterator[list[FetchedPage]]:
    """The latest stored HTML of every article page, ``batch_size`` pages at a time."""
    cursor = con.execute(
        "SELECT url, fetched_at, status, etag, last_modified, content_type, html"
        " FROM raw_pages WHERE article_id IS NOT NULL AND html IS NOT NULL ORDER BY article_id"
    )
    while rows := cursor.fetchmany(batch_size):
        yield [_page(*row) for row in rows]


def read_raw_article_pages(
    con: duckdb.DuckDBPyConnection, *, after_id: int, limit: int
) -> list[FetchedPage]:
    """The next ``limit`` stored article pages with an id above ``after_id`` (keyset
    pagination: memory stays at one batch however large the archive is)."""
    rows = con.execute(
        "SELECT url, fetched_at, status, etag, last_modified, content_type, html"
        " FROM raw_pages WHERE article_id > ? AND html IS NOT NULL"
        " ORDER BY article_id LIMIT ?",
        [after_id, limit],
    ).fetchall()
    return [_page(*row) for row in rows]


def _page(
    url: str,
    fetched_at: datetime,
    status: int,
    etag: str | None,
    last_modified: str | None,
    content_type: str | None,
    html: str,
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
    return FetchedPage(url, url, status, fetched_at, html, headers)
