"""What each table, view and column of the warehouse holds, in one line each: the one
source of ``baolaocai tables`` and ``baolaocai describe`` (:mod:`cli.schema_commands`).

The tables are made by the SQL migrations (``warehouse/migrations``); a test checks that
every table and view of a freshly migrated warehouse has a description here, so a new
migration comes with its line. The README's "Tables" section says the same at length.
Pure data: no DuckDB, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

TABLE_DESCRIPTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "articles": "the current version of every article, one row per (site, article_id)",
        "article_images": "the pictures of each article's current version, in body order",
        "article_revisions": "every distinct version of every article, the current one included",
        "raw_pages": "the latest capture of every fetched page and where it is in the web archive",
        "captures": "every capture in the web archive (WARC), as Common Crawl's CDX index; appended only",
        "crawl_runs": "one row per run (crawl, backfill, reparse): what it did and how it ended",
        "sitemaps": "each child sitemap as last read",
        "sitemap_articles": "which articles each child sitemap listed",
        "fetch_errors": "pages that did not become articles, and why",
        "backfill_months": "backfill progress, one row per site and month",
        "placeholder_pages": "pages found answering several article addresses (placeholders, error pages), refused since",
        "schema_version": "the migrations applied to this warehouse",
        "latest_articles": "the newest articles first, with their Vietnam day",
        "articles_per_day": "articles per day (Vietnam time) and category",
        "articles_with_images": "each article with its pictures as a list of {position, src, caption}",
        "open_fetch_errors": "the unresolved fetch errors, the latest attempt per URL",
        "removed_articles": "the articles the site took down (404/410 on a later visit)",
    }
)
"""Table or view -> one line."""

SHARED_COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "site": "the site file's key (baolaocai, nuimay, ...): whose paper the row is",
        "article_id": "the id the site file's article pattern reads from the URL (...-post<id>.html)",
        "url": "the page's canonical URL on the site's origin",
        "run_id": "the run that wrote the row (crawl_runs.run_id)",
        "title": "headline",
        "sapo": "lead paragraph (NULL when the page has none)",
        "body": "body paragraphs joined by one blank line",
        "author": "person(s), comma-separated; NULL when absent",
        "published_at": "publication time (an instant; shown in Asia/Ho_Chi_Minh)",
        "published_date": "the calendar day of published_at in Vietnam time, whatever the reader's time zone",
        "modified_at": "last modification time the page gives",
        "category": "section name, e.g. Kinh tế; NULL when none is known",
        "tags": "tag texts in page order",
        "source": "the credited source, e.g. baolaocai.vn, TTXVN",
        "version": "1, then +1 at each content change",
        "content_hash": "sha256 of the cleaned record; a new hash makes a new version",
        "status": "HTTP status of the answer",
        "fetched_at": "when the page was fetched",
        "content_type": "the answer's Content-Type",
        "digest": "WARC-Payload-Digest (sha1:<base32>)",
        "warc_file": "the WARC file holding the capture",
        "warc_offset": "where the capture's gzip member starts in warc_file",
        "warc_length": "the length of the capture's gzip member",
        "record_id": "the capture's WARC-Record-ID",
        "etag": "the ETag of the latest fetch",
        "last_modified": "the Last-Modified of the latest fetch",
        "lastmod": "the <lastmod> the sitemap gave",
        "error": "what went wrong, in one line",
    }
)
"""Columns that mean the same in every table that has them."""

COLUMN_DESCRIPTIONS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "articles": MappingProxyType(
            {
                "article_id": "the id from the URL (...-post<id>.html); with site, the primary key",
                "body": "body paragraphs joined by one blank line; no captions, related lists, author or source line",
                "category": "section name (the page's, else its listing's: see category_source); NULL when none is known",
                "extraction_method": "the reader that gave the body: epi, legacy, density or epi+density",
                "page_kind": "article, live, e-magazine, gallery, video, podcast, interview, infographic, amp, print or unknown",
                "category_source": "where category came from: page or listing; NULL when there is none",
                "word_count": "words in the body",
                "image_count": "pictures",
                "body_chars": "body length in characters (a quality signal)",
                "paragraph_count": "body paragraphs (a quality signal)",
                "missing_fields": "fields the page did not yield, of title, published_at, body, category, author",
                "field_conflicts": "sources of one field that disagreed (e.g. two dates)",
                "first_seen_at": "when the article was first stored",
                "last_seen_at": "when a crawl last saw it",
                "updated_at": "when the current version was stored",
                "run_id": "the run that stored the current version",
                "listed_lastmod": "the newest <lastmod>/<updated> a sitemap or feed listed when it was last fetched",
                "removed_at": "when the site first answered 404/410 on a later visit (NULL while online)",
            }
        ),
        "article_images": MappingProxyType(
            {
                "position": "0-based, in body order",
                "src": "the picture's absolute URL",
                "caption": "its caption (NULL if none)",
            }
        ),
        "article_revisions": MappingProxyType(
            {"seen_at": "when this version was stored", "run_id": "the run that stored it"}
        ),
        "raw_pages": MappingProxyType(
            {
                "html": "empty since schema 5: the pages live in the web archive",
                "html_sha256": "sha256 of the page as received",
            }
        ),
        "captures": MappingProxyType(
            {
                "record_type": "response, or revisit (the same answer again, refers to an earlier response)",
                "refers_to": "a revisit's: the WARC-Record-ID of the response it repeats",
            }
        ),
        "crawl_runs": MappingProxyType(
            {
                "run_id": "the run's id; the primary key",
                "flow_run_id": "the Prefect flow run",
                "kind": "crawl, backfill or reparse",
                "pid": "the process that ran it",
                "host": "the machine it ran on",
                "started_at": "when it started",
                "finished_at": "when it ended (NULL while running)",
                "status": "running, completed, warning, failed or interrupted",
                "base_url": "where the pages were fetched from",
                "discovered": "article URLs discovered",
                "already_stored": "discovered URLs already in the warehouse",
                "articles_new": "articles stored for the first time",
                "articles_updated": "articles stored as a new version",
                "articles_unchanged": "articles fetched again and unchanged",
                "articles_failed": "articles that failed",
                "requests": "HTTP requests made",
                "retries": "requests retried",
                "responses_429": "429 Too Many Requests answers",
                "responses_304": "304 Not Modified answers",
                "bytes_downloaded": "bytes downloaded",
                "rechecked": "conditional rechecks (relisted + unlisted + revisited + fresh)",
                "relisted": "rechecks of articles a listing showed again",
                "unlisted": "rechecks of articles no listing showed",
                "revisited": "rechecks of older articles (revisits)",
                "retried_failures": "URLs with an open fetch error fetched again",
                "gone": "404/410 answers",
                "removed": "stored articles newly found gone",
                "held_back": "429/503 answers that held the whole site back",
                "held_back_s": "seconds the site was held back",
                "suspect_pages": "stored articles answered with a page that is not them (version kept)",
                "records_fallback": "articles read by the fallback extractor",
                "records_missing_date": "articles without a publication time",
                "records_missing_title": "articles without a title",
                "records_short_body": "articles with a short body",
                "records_with_conflicts": "articles whose sources of a field disagreed",
                "error": "why the run failed",
                "warning": "what the run warned about (layout drift)",
            }
        ),
        "sitemaps": MappingProxyType(
            {
                "url": "the child sitemap's URL",
                "lastmod": "its <lastmod> in the sitemap index",
                "articles": "articles it listed",
                "read_at": "when it was read",
            }
        ),
        "sitemap_articles": MappingProxyType(
            {"sitemap_url": "the child sitemap", "lastmod": "the <lastmod> it gave the article"}
        ),
        "fetch_errors": MappingProxyType(
            {
                "status": "HTTP status (NULL for network errors)",
                "attempts": "attempts made",
                "stage": "discover, fetch, parse or validate",
                "failed_at": "when it failed",
                "resolved_at": "when a later run stored the page (NULL while open)",
            }
        ),
        "open_fetch_errors": MappingProxyType(
            {
                "status": "HTTP status (NULL for network errors)",
                "attempts": "attempts made",
                "stage": "discover, fetch, parse or validate",
                "failed_at": "when the latest attempt failed",
                "resolved_at": "NULL: the error is open",
            }
        ),
        "backfill_months": MappingProxyType(
            {
                "month": "the month (its first day)",
                "sitemap_url": "the month's sitemap",
                "articles": "articles the sitemap lists",
                "stored": "of which stored",
                "failed": "of which failed",
                "completed_at": "when every article of the month was stored (NULL until then)",
            }
        ),
        "placeholder_pages": MappingProxyType(
            {
                "fingerprint": "the page's title and text, folded, digits aside",
                "first_url": "the first address found answering it",
                "seen_at": "when it was found",
            }
        ),
        "schema_version": MappingProxyType(
            {
                "version": "the migration's number (warehouse/migrations/NNN_*.sql)",
                "name": "its file name",
                "applied_at": "when it was applied",
                "checksum": "the file's checksum when applied",
            }
        ),
        "articles_per_day": MappingProxyType(
            {"day": "the day in Vietnam time", "articles": "articles published that day"}
        ),
        "articles_with_images": MappingProxyType(
            {"images": "the article's pictures: a list of {position, src, caption}"}
        ),
        "removed_articles": MappingProxyType(
            {
                "removed_at": "when the site first answered 404/410",
                "version": "the version kept",
                "last_seen_at": "when a crawl last saw it online",
            }
        ),
    }
)
"""Table -> column -> one line, where a column means something of its own there."""


def table_description(table: str) -> str | None:
    """The one line of ``table`` (a table or view), or ``None`` for one we did not make."""
    return TABLE_DESCRIPTIONS.get(table)


def column_description(table: str, column: str) -> str | None:
    """The one line of ``column`` of ``table``: the table's own, else the shared one (only
    for tables and views we made: a user's table's ``url`` may mean anything)."""
    if table not in TABLE_DESCRIPTIONS:
        return None
    own = COLUMN_DESCRIPTIONS.get(table, {})
    return own.get(column) or SHARED_COLUMNS.get(column)
