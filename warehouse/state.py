"""What the warehouse knows that decides a run's work (the incremental model).

A crawl fetches, in this order:

1. **new** articles: discovered ids not in ``articles``, minus *parked* URLs: those the
   site said are gone (404/410 on their latest attempt) and those whose page could not be
   parsed or validated (a poison page costs one attempt, not one per run; ``reparse``
   tries their stored page again after a parser change);
2. with ``--retry-failed``, every URL with an **open fetch error** (gone ones included);
3. **rechecks**, all *conditional* (``If-None-Match``/``If-Modified-Since`` with the
   validators stored in ``raw_pages``; a 304 only moves ``last_seen_at``, a changed page
   becomes a new version, a 404/410 sets ``removed_at`` and keeps every row):

   - *relisted*: a sitemap or feed lists the article with a ``<lastmod>``/``<updated>``
     later than the one it listed when we last fetched it (``articles.listed_lastmod``),
     or, never listed with one, later than the page's own modified/published time
     (:func:`relisted`);
   - *unlisted*: a sitemap that changed since we last read it (its ``<lastmod>`` in the
     index moved, *back* included: taking down a month's newest article does that; or,
     listed without one, it answered a conditional request with a new ``ETag``) no
     longer lists the article (a takedown, usually);
   - *fresh*: published within ``recheck_days`` of the **site's own newest date** (the
     newest ``published_at`` stored, never later than now: a copy of the site can be
     older than the wall clock), and last seen more than ``recheck_interval_h`` ago;
   - *revisits*: every other stored article not seen for ``revisit_days``, oldest
     ``last_seen_at`` first, at most ``revisit_share`` of the archive per run (at least
     one article, at most ``revisit_max``). With the defaults and an hourly schedule
     every article is seen again at least every 30 days plus the time the budget needs
     (200 a run: 4,800 a day), mostly as cheap 304 answers.

Removed articles (``removed_at`` set) are not rechecked; a later 200 for one (found
again in a listing, or ``--retry-failed``) clears ``removed_at``.

Everything here is one site's: a warehouse may hold several papers, and a run of one
never sees, rechecks or counts another's articles, errors or runs.

Discovery's listing pagination stops at pages whose articles are all stored, and child
sitemaps unchanged since they were last read are not fetched again, so a run with
nothing new costs a few requests and no article request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from baolaocai.models import CrawlState
from baolaocai.settings import Settings
from baolaocai.site import Site
from warehouse.db import require_sites, transaction
from warehouse.lake import retry_on_conflict

GONE_STATUSES = (404, 410)
PARKED_STAGES = ("unusable", "parse", "validate", "identity", "load")
"""A page that failed here is not fetched again until ``--retry-failed`` (or ``reparse``):
its failure is its own (an answer bigger than the size cap or not HTML, a poison page, an
error page served as 200, a redirect to another article, a value the warehouse refused),
and asking again each run would only repeat it."""
FOREIGN_RUN_STALE = timedelta(hours=24)
"""A 'running' run of another machine is taken for dead after this long."""

Validators = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True)
class RecheckPolicy:
    """When stored articles are fetched again (see the module docstring)."""

    fresh_days: float = 3.0
    fresh_interval: timedelta = timedelta(hours=1)
    revisit_after: timedelta = timedelta(days=30)
    revisit_share: float = 0.02
    revisit_max: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> RecheckPolicy:
        return cls(
            fresh_days=settings.recheck_days,
            fresh_interval=timedelta(hours=settings.recheck_interval_h),
            revisit_after=timedelta(days=settings.revisit_days),
            revisit_share=settings.revisit_share,
            revisit_max=settings.revisit_max,
        )

    def revisit_budget(self, archive_size: int) -> int:
        """Articles revisited per run: a share of the archive, at least 1, at most the cap."""
        if archive_size <= 0 or self.revisit_share <= 0 or self.revisit_max <= 0:
            return 0
        return min(self.revisit_max, max(1, math.ceil(self.revisit_share * archive_size)))


NO_RECHECKS = RecheckPolicy(fresh_days=0, revisit_share=0)


def read_crawl_state(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    policy: RecheckPolicy = NO_RECHECKS,
    now: datetime,
) -> CrawlState:
    """What decides the work of a run of ``site`` (its rows only; the revisit budget is a
    share of its own archive, "fresh" is relative to its own newest article)."""
    require_sites(con)  # a plan reads an old warehouse without migrating it
    key = site.key
    known = frozenset(
        int(r[0])
        for r in con.execute("SELECT article_id FROM articles WHERE site = ?", [key]).fetchall()
    )
    recheck: Validators = {}
    if policy.fresh_days > 0:
        rows = con.execute(
            "WITH ref AS (SELECT least(?::TIMESTAMPTZ, max(published_at)) AS newest"
            "  FROM articles WHERE site = ? AND removed_at IS NULL)"
            " SELECT a.url, r.etag, r.last_modified FROM articles a CROSS JOIN ref"
            " LEFT JOIN raw_pages r ON r.site = a.site AND r.url = a.url"
            " WHERE a.site = ? AND a.removed_at IS NULL"
            "  AND a.published_at >= ref.newest - to_microseconds(?) AND a.last_seen_at < ?"
            " ORDER BY a.published_at DESC, a.article_id",
            [now, key, key, int(policy.fresh_days * 86_400_000_000), now - policy.fresh_interval],
        ).fetchall()
        recheck = {str(url): (etag, lm) for url, etag, lm in rows}
    revisit: Validators = {}
    size_row = con.execute(
        "SELECT count(*) FROM articles WHERE site = ? AND removed_at IS NULL", [key]
    ).fetchone()
    budget = policy.revisit_budget(int(size_row[0]) if size_row else 0)
    if budget:
        rows = con.execute(
            "SELECT a.url, r.etag, r.last_modified FROM articles a"
            " LEFT JOIN raw_pages r ON r.site = a.site AND r.url = a.url"
            " WHERE a.site = ? AND a.removed_at IS NULL AND a.last_seen_at < ?"
            " ORDER BY a.last_seen_at, a.article_id LIMIT ?",
            [key, now - policy.revisit_after, budget + len(recheck)],
        ).fetchall()
        revisit = {str(url): (etag, lm) for url, etag, lm in rows if str(url) not in recheck}
        revisit = dict(list(revisit.items())[:budget])
    open_rows = con.execute(
        "SELECT url, status, stage FROM open_fetch_errors WHERE site = ?", [key]
    ).fetchall()
    gone = frozenset(
        str(u) for u, s, stage in open_rows if s in GONE_STATUSES or stage in PARKED_STAGES
    )
    open_failures = frozenset(str(u) for u, _, _ in open_rows)
    row = con.execute(
        "SELECT max(started_at) FROM crawl_runs WHERE site = ? AND status = 'completed'", [key]
    ).fetchone()
    return CrawlState(known, recheck, revisit, gone, open_failures, row[0] if row else None)


def relisted(
    con: duckdb.DuckDBPyConnection, site: Site, lastmods: Mapping[int, datetime]
) -> Validators:
    """Stored articles of ``site`` that its sitemaps or feeds list as modified after we
    last fetched them.

    The comparison uses only the site's own dates (its ``<lastmod>`` then and now, or the
    page's modified/published time), never our clock, so it holds for a copy of the site
    served with old dates. Cost grows with the entries listed, not with the archive.
    """
    if not lastmods:
        return {}
    ids, stamps = list(lastmods), [lastmods[i] for i in lastmods]
    rows = con.execute(
        "SELECT a.url, r.etag, r.last_modified"
        " FROM (SELECT unnest(?::BIGINT[]) AS article_id, unnest(?::TIMESTAMPTZ[]) AS lastmod) l"
        " JOIN articles a ON a.site = ? AND a.article_id = l.article_id"
        " LEFT JOIN raw_pages r ON r.site = a.site AND r.url = a.url"
        " WHERE a.removed_at IS NULL"
        "  AND l.lastmod > coalesce(a.listed_lastmod, greatest(a.modified_at, a.published_at))"
        " ORDER BY a.article_id",
        [ids, stamps, site.key],
    ).fetchall()
    return {str(url): (etag, lm) for url, etag, lm in rows}


def stored_validators(
    con: duckdb.DuckDBPyConnection, site: Site, article_ids: Iterable[int]
) -> Validators:
    """URL -> validators of the stored, not removed articles of ``site`` among
    ``article_ids``."""
    ids = sorted(set(article_ids))
    if not ids:
        return {}
    rows = con.execute(
        "SELECT a.url, r.etag, r.last_modified FROM articles a"
        " LEFT JOIN raw_pages r ON r.site = a.site AND r.url = a.url"
        " WHERE a.site = ? AND a.removed_at IS NULL AND list_contains(?, a.article_id)"
        " ORDER BY a.article_id",
        [site.key, ids],
    ).fetchall()
    return {str(url): (etag, lm) for url, etag, lm in rows}


@retry_on_conflict
def mark_interrupted_runs(
    con: duckdb.DuckDBPyConnection,
    *,
    now: datetime,
    except_run: str,
    host: str,
    alive: Callable[[int], bool],
) -> int:
    """Runs still 'running' whose process is dead were killed: say so (whatever their
    site: a dead process is dead for every paper).

    A run of this machine is dead when its process is; a run of another machine (or of
    an older version, with no process recorded) when it started over a day ago. A run
    going on at the same time in another live process (a backfill beside a scheduled
    crawl) is left alone.
    """
    rows = con.execute(
        "SELECT run_id, pid, host, started_at FROM crawl_runs"
        " WHERE status = 'running' AND run_id <> ?",
        [except_run],
    ).fetchall()
    dead = [
        run_id
        for run_id, pid, run_host, started in rows
        if pid is None
        or (run_host == host and not alive(int(pid)))
        or (run_host != host and started < now - FOREIGN_RUN_STALE)
    ]
    if dead:
        with transaction(con):
            con.execute(
                "UPDATE crawl_runs SET status = 'interrupted', finished_at = ?,"
                " error = coalesce(error, 'the process stopped before the run finished')"
                " WHERE list_contains(?, run_id)",
                [now, dead],
            )
    return len(dead)


def stored_versions(
    con: duckdb.DuckDBPyConnection, site: Site, ids: Sequence[int]
) -> dict[int, tuple[str | None, str]]:
    """``article_id -> (title, body)`` of the stored articles among ``ids``: what a new
    page of each must at least be (see :func:`transforms.integrity.collapsed`)."""
    if not ids:
        return {}
    rows = con.execute(
        "SELECT article_id, title, body FROM articles WHERE site = ?"
        " AND article_id IN (SELECT unnest(?::BIGINT[]))",
        [site.key, sorted(set(ids))],
    ).fetchall()
    return {int(aid): (title, str(body or "")) for aid, title, body in rows}


def known_placeholders(
    con: duckdb.DuckDBPyConnection, site: Site, fingerprints: Iterable[str]
) -> set[str]:
    """Those of ``fingerprints`` that earlier batches found answering several article
    addresses of ``site`` (``placeholder_pages``)."""
    wanted = sorted(set(fingerprints))
    if not wanted:
        return set()
    rows = con.execute(
        "SELECT fingerprint FROM placeholder_pages WHERE site = ?"
        " AND fingerprint IN (SELECT unnest(?::VARCHAR[]))",
        [site.key, wanted],
    ).fetchall()
    return {str(r[0]) for r in rows}


def listed_categories(
    con: duckdb.DuckDBPyConnection, site: Site, ids: Sequence[int]
) -> dict[int, str]:
    """``article_id -> category`` of the stored articles among ``ids`` whose category
    was taken from a section listing (their pages name none): kept when a later fetch
    comes by another way (a sitemap) and its page still names none."""
    if not ids:
        return {}
    rows = con.execute(
        "SELECT article_id, category FROM articles WHERE site = ? AND category_source ="
        " 'listing' AND category IS NOT NULL AND article_id IN (SELECT unnest(?::BIGINT[]))",
        [site.key, list(ids)],
    ).fetchall()
    return {int(aid): str(category) for aid, category in rows}


@retry_on_conflict
def set_listed_categories(
    con: duckdb.DuckDBPyConnection, site: Site, listed: Mapping[int, str]
) -> list[int]:
    """``category`` of the stored articles among ``listed`` that have none, from the
    section listing that linked them, marked ``category_source = 'listing'``; in one
    transaction. Returns the ids of the rows that took one."""
    ids = list(listed)
    names = [listed[i] for i in ids]
    # The rows found first, then changed (a lake's UPDATE has no RETURNING), in one
    # transaction: the same rows.
    with transaction(con):
        rows = con.execute(
            "SELECT article_id FROM articles WHERE site = ? AND category IS NULL"
            " AND article_id IN (SELECT unnest(?::BIGINT[])) ORDER BY article_id",
            [site.key, ids],
        ).fetchall()
        con.execute(
            "UPDATE articles SET category = l.name, category_source = 'listing'"
            " FROM (SELECT unnest(?::BIGINT[]) AS article_id, unnest(?::VARCHAR[]) AS name) l"
            " WHERE articles.site = ? AND articles.article_id = l.article_id"
            " AND articles.category IS NULL",
            [ids, names, site.key],
        )
    return [int(r[0]) for r in rows]
