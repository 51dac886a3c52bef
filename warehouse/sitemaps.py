"""Each site's sitemaps as we last read them: validators and which articles each listed.

A child sitemap whose ``<lastmod>`` in the index has not moved (or that answers 304 to a
conditional request) is not read again; one that changed is read in full, and a stored
article it listed before but lists no more is rechecked in that run (a takedown, most
often). Write mode: ``sitemaps`` merge on ``(site, url)``; ``sitemap_articles`` replace
per sitemap of the site. A memo is stored only once every article its sitemap lists is stored (or has
failed), so a run cut short (``--max-articles``, a failure) reads it again next time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from datetime import datetime

import duckdb

from baolaocai.models import SitemapMemo, SitemapRead
from baolaocai.site import Site
from warehouse.db import transaction
from warehouse.lake import retry_on_conflict, upsert_statement


def read_memos(con: duckdb.DuckDBPyConnection, site: Site) -> dict[str, SitemapMemo]:
    """Every child sitemap's memo of ``site`` (one row per month of its archive: a few
    hundred)."""
    rows = con.execute(
        "SELECT url, lastmod, etag, last_modified FROM sitemaps WHERE site = ?", [site.key]
    ).fetchall()
    return {str(u): SitemapMemo(str(u), lm, etag, lmod) for u, lm, etag, lmod in rows}


def listed_before(
    con: duckdb.DuckDBPyConnection, site: Site, sitemap_urls: Iterable[str]
) -> set[int]:
    """Article ids the given sitemaps of ``site`` listed when we last read them."""
    urls = sorted(set(sitemap_urls))
    if not urls:
        return set()
    rows = con.execute(
        "SELECT DISTINCT article_id FROM sitemap_articles"
        " WHERE site = ? AND list_contains(?, sitemap_url)",
        [site.key, urls],
    ).fetchall()
    return {int(r[0]) for r in rows}


SITEMAP_COLUMNS = (
    "site",
    "url",
    "lastmod",
    "etag",
    "last_modified",
    "articles",
    "read_at",
    "run_id",
)


@retry_on_conflict
def store_reads(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    run_id: str,
    at: datetime,
    reads: Sequence[SitemapRead],
    settled: Set[int] = frozenset(),
) -> int:
    """Remember the sitemaps of ``site`` read in a run whose articles are all stored (for
    that site) or ``settled`` (failed, or known gone). Returns how many memos were stored."""
    wanted = sorted({aid for read in reads for aid in read.entries} - set(settled))
    stored_ids: set[int] = set()
    if wanted:
        rows = con.execute(
            "SELECT article_id FROM articles WHERE site = ? AND list_contains(?, article_id)",
            [site.key, wanted],
        ).fetchall()
        stored_ids = {int(r[0]) for r in rows}
    done = 0
    with transaction(con):
        for read in reads:
            if read.dropped:
                con.execute(
                    "DELETE FROM sitemaps WHERE site = ? AND url = ?", [site.key, read.memo.url]
                )
                con.execute(
                    "DELETE FROM sitemap_articles WHERE site = ? AND sitemap_url = ?",
                    [site.key, read.memo.url],
                )
                done += 1
                continue
            ids = sorted(read.entries)
            if any(i not in stored_ids and i not in settled for i in ids):
                continue
            memo = read.memo
            con.execute(
                upsert_statement(
                    con,
                    "sitemaps",
                    SITEMAP_COLUMNS,
                    ("site", "url"),
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ),
                [
                    site.key,
                    memo.url,
                    memo.lastmod,
                    memo.etag,
                    memo.last_modified,
                    len(ids),
                    at,
                    run_id,
                ],
            )
            con.execute(
                "DELETE FROM sitemap_articles WHERE site = ? AND sitemap_url = ?",
                [site.key, memo.url],
            )
            if ids:
                con.execute(
                    "INSERT INTO sitemap_articles (site, sitemap_url, article_id, lastmod)"
                    " SELECT ?, ?, unnest(?::BIGINT[]), unnest(?::TIMESTAMPTZ[])",
                    [site.key, memo.url, ids, [read.entries[i] for i in ids]],
                )
            done += 1
    return done
