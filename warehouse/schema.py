"""The columns of the warehouse tables that Python writes or reads by name, declared once.

The tables themselves are made by the SQL migrations (``warehouse/migrations``); these
declarations follow the latest one (a test compares them with the migrated tables).
The loader (:mod:`warehouse.load`), the export (:mod:`warehouse.export`) and the search
index (:mod:`warehouse.search`) take their column lists from here.

Every table starts with ``site``: the key of the site file whose paper the row belongs to
(``baolaocai``); every key of a per-article table starts with it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

ARTICLE_COLUMNS: Final = MappingProxyType(
    {
        "site": "VARCHAR",
        "article_id": "BIGINT",
        "url": "VARCHAR",
        "title": "VARCHAR",
        "sapo": "VARCHAR",
        "body": "VARCHAR",
        "author": "VARCHAR",
        "published_at": "TIMESTAMPTZ",
        "modified_at": "TIMESTAMPTZ",
        "category": "VARCHAR",
        "tags": "VARCHAR[]",
        "source": "VARCHAR",
        "extraction_method": "VARCHAR",
        "body_chars": "INTEGER",
        "paragraph_count": "INTEGER",
        "missing_fields": "VARCHAR[]",
        "word_count": "INTEGER",
        "image_count": "INTEGER",
        "content_hash": "VARCHAR",
        "version": "INTEGER",
        "first_seen_at": "TIMESTAMPTZ",
        "last_seen_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
        "run_id": "VARCHAR",
        "listed_lastmod": "TIMESTAMPTZ",
        "removed_at": "TIMESTAMPTZ",
        "field_conflicts": "VARCHAR[]",
        "page_kind": "VARCHAR",
        "category_source": "VARCHAR",
        "published_date": "DATE",
    }
)
"""``articles``, in table order: name -> DuckDB type. ``published_date`` is the Vietnam
day of ``published_at`` (what any tool, whatever its time zone, should group by)."""

ARTICLE_KEY: Final = ("site", "article_id")

SET_AFTER_LOAD: Final = frozenset({"listed_lastmod", "removed_at"})
"""Columns a batch sets by later statements (what the site listed, takedowns)."""

LOADED_ARTICLE_COLUMNS: Final = MappingProxyType(
    {name: kind for name, kind in ARTICLE_COLUMNS.items() if name not in SET_AFTER_LOAD}
)
"""The columns :func:`warehouse.load.load_batch` writes for every article it stores."""

INTERNAL_ARTICLE_COLUMNS: Final = frozenset[str]()
"""Columns of ``articles`` an export leaves out: none. The crawler's bookkeeping is data
to a researcher too: ``removed_at`` (taken down), ``version``, the extraction quality
(``extraction_method``, ``body_chars``, ``paragraph_count``, ``missing_fields``,
``field_conflicts``, ``page_kind``, ``category_source``) and ``listed_lastmod`` (#22)."""

EXPORTED_ARTICLE_COLUMNS: Final = tuple(
    name for name in ARTICLE_COLUMNS if name not in INTERNAL_ARTICLE_COLUMNS
)
"""The columns of ``articles`` that an export writes, in table order, ``site`` first."""

INDEXED_ARTICLE_COLUMNS: Final = (
    "site",
    "article_id",
    "url",
    "title",
    "category",
    "published_at",
    "updated_at",
    "removed_at",
    "sapo",
    "body",
    "author",
)
"""What the search index reads of each article (a projection of :data:`ARTICLE_COLUMNS`)."""

IMAGE_COLUMNS: Final = MappingProxyType(
    {
        "site": "VARCHAR",
        "article_id": "BIGINT",
        "position": "INTEGER",
        "src": "VARCHAR",
        "caption": "VARCHAR",
    }
)
"""``article_images``, in table order."""

RAW_PAGE_COLUMNS: Final = MappingProxyType(
    {
        "site": "VARCHAR",
        "url": "VARCHAR",
        "article_id": "BIGINT",
        "fetched_at": "TIMESTAMPTZ",
        "status": "INTEGER",
        "etag": "VARCHAR",
        "last_modified": "VARCHAR",
        "content_type": "VARCHAR",
        "html": "VARCHAR",
        "html_sha256": "VARCHAR",
        "run_id": "VARCHAR",
        "warc_file": "VARCHAR",
        "warc_offset": "BIGINT",
        "warc_length": "BIGINT",
        "digest": "VARCHAR",
        "record_id": "VARCHAR",
    }
)
"""``raw_pages``, in table order."""

CAPTURE_COLUMNS: Final = MappingProxyType(
    {
        "site": "VARCHAR",
        "url": "VARCHAR",
        "article_id": "BIGINT",
        "fetched_at": "TIMESTAMPTZ",
        "status": "INTEGER",
        "content_type": "VARCHAR",
        "digest": "VARCHAR",
        "warc_file": "VARCHAR",
        "warc_offset": "BIGINT",
        "warc_length": "BIGINT",
        "record_id": "VARCHAR",
        "run_id": "VARCHAR",
        "record_type": "VARCHAR",
        "refers_to": "VARCHAR",
    }
)
"""``captures``, in table order. ``record_type``: ``response`` (the page as received) or
``revisit`` (the same answer again, a WARC revisit record whose ``refers_to`` is the
``WARC-Record-ID`` of the response it repeats)."""

DECLARED: Final = MappingProxyType(
    {
        "articles": ARTICLE_COLUMNS,
        "article_images": IMAGE_COLUMNS,
        "raw_pages": RAW_PAGE_COLUMNS,
        "captures": CAPTURE_COLUMNS,
    }
)
"""Table -> its declared columns (checked against the migrated warehouse by the tests)."""
