"""The SQL of the collection pages (home, browse, removed): plain functions over an open
read-only connection, returning frozen dataclasses.

Every query is bounded so that a page stays fast at 100,000 articles and beyond: lists
are ``LIMIT``/``OFFSET`` pages (a top-N sort, never the whole table sent to Python), and
the aggregates (counts, coverage by month and category, authors, tags, days) are one
scan of the few columns they need, done by DuckDB. No query reads ``body``.

Values are always bound as parameters (a path segment of the URL is text from anyone);
only constant SQL fragments chosen here are put together. ``site=None`` means every site
of the warehouse. Times come back as DuckDB gives them (time-zone aware); the templates
show them in Vietnam time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import duckdb

Collection = Literal["category", "author", "tag", "day"]
"""What a browse page lists the articles of."""

AUTHOR_NAMES = "list_transform(string_split(author, ','), x -> trim(x))"
"""The people of a byline: ``author`` holds them comma-separated (``Lan Anh, Minh Huyền``)."""

_WHERE: dict[Collection, str] = {
    "category": "category = $value",
    # contains() first: a cheap test that leaves few rows for the split of the byline
    "author": f"contains(author, $value) AND list_contains({AUTHOR_NAMES}, $value)",
    "tag": "list_contains(tags, $value)",
    "day": "published_date = $value",
}
"""The filter of each browse page: constant SQL, the value bound."""


@dataclass(frozen=True, slots=True)
class Counts:
    """The figures at the top of the home page."""

    articles: int
    sites: int
    versions: int
    """Rows of ``article_revisions``: every version of every article, current included."""
    removed: int
    captures: int
    """Rows of ``captures``: WARC records, responses and revisits."""
    undated: int
    """Articles without a publication time (not on the coverage chart)."""
    last_crawl: datetime | None
    """When the newest crawl run ended (or started, while it runs)."""


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """An article in a list: what a line of it shows."""

    site: str
    article_id: int
    title: str | None
    published_at: datetime | None
    category: str | None
    author: str | None
    url: str
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class MonthCount:
    """Articles published in one month (Vietnam time) in one category."""

    month: date
    """The first day of the month."""
    category: str | None
    articles: int


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run of ``crawl_runs`` (crawl, backfill or reparse) and how it ended."""

    site: str
    run_id: str
    kind: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    articles_new: int
    articles_updated: int
    articles_failed: int
    removed: int
    requests: int
    error: str | None
    warning: str | None


@dataclass(frozen=True, slots=True)
class NameCount:
    name: str
    articles: int


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    articles: int


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its rows, and how many there are in all."""

    rows: tuple[ArticleRow, ...]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        """The 1-based position of the first row of this page in the whole list."""
        return (self.page - 1) * self.size + 1


def _site_clause(site: str | None, column: str = "site") -> str:
    return "" if site is None else f" AND {column} = $site"


def _params(site: str | None, **values: Any) -> dict[str, Any]:
    return {**values, **({} if site is None else {"site": site})}


def _int(value: Any) -> int:
    return int(value or 0)


def sites(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The keys of the sites that have articles in the warehouse."""
    return [
        str(r[0]) for r in con.execute("SELECT DISTINCT site FROM articles ORDER BY 1").fetchall()
    ]


def counts(con: duckdb.DuckDBPyConnection, site: str | None) -> Counts:
    """Articles, sites, versions, takedowns, captures and the last crawl, in one statement."""
    s = _site_clause(site)
    row = con.execute(
        "SELECT"
        f" (SELECT count(*) FROM articles WHERE TRUE{s}),"
        f" (SELECT count(DISTINCT site) FROM articles WHERE TRUE{s}),"
        f" (SELECT count(*) FROM article_revisions WHERE TRUE{s}),"
        f" (SELECT count(*) FROM articles WHERE removed_at IS NOT NULL{s}),"
        f" (SELECT count(*) FROM captures WHERE TRUE{s}),"
        f" (SELECT count(*) FROM articles WHERE published_at IS NULL{s}),"
        " (SELECT max(coalesce(finished_at, started_at)) FROM crawl_runs"
        f"  WHERE coalesce(kind, 'crawl') = 'crawl'{s})",
        _params(site),
    ).fetchone()
    assert row is not None
    return Counts(
        articles=_int(row[0]),
        sites=_int(row[1]),
        versions=_int(row[2]),
        removed=_int(row[3]),
        captures=_int(row[4]),
        undated=_int(row[5]),
        last_crawl=row[6],
    )


_ARTICLE_ROW = "site, article_id, title, published_at, category, author, url, removed_at"


def _article_rows(rows: Sequence[tuple[Any, ...]]) -> tuple[ArticleRow, ...]:
    return tuple(ArticleRow(*r) for r in rows)


def latest_articles(
    con: duckdb.DuckDBPyConnection, site: str | None, limit: int = 10
) -> tuple[ArticleRow, ...]:
    """The newest articles by publication time (undated ones last)."""
    rows = con.execute(
        f"SELECT {_ARTICLE_ROW} FROM articles WHERE TRUE{_site_clause(site)}"
        " ORDER BY published_at DESC NULLS LAST, site, article_id DESC LIMIT $limit",
        _params(site, limit=limit),
    ).fetchall()
    return _article_rows(rows)


def coverage_by_month(con: duckdb.DuckDBPyConnection, site: str | None) -> list[MonthCount]:
    """Articles per month of publication (Vietnam day, ``published_date``) and category,
    oldest month first; one row per month and category that has any."""
    rows = con.execute(
        "SELECT date_trunc('month', published_date)::DATE AS month, category, count(*)"
        f" FROM articles WHERE published_date IS NOT NULL{_site_clause(site)}"
        " GROUP BY ALL ORDER BY month, category NULLS LAST",
        _params(site),
    ).fetchall()
    return [MonthCount(r[0], r[1], int(r[2])) for r in rows]


def recent_runs(
    con: duckdb.DuckDBPyConnection, site: str | None, limit: int = 10
) -> tuple[RunRow, ...]:
    """The last runs (crawls, backfills, reparses), newest first."""
    rows = con.execute(
        "SELECT site, run_id, kind, status, started_at, finished_at, articles_new,"
        " articles_updated, articles_failed, coalesce(removed, 0), requests, error, warning"
        f" FROM crawl_runs WHERE TRUE{_site_clause(site)}"
        " ORDER BY started_at DESC, run_id LIMIT $limit",
        _params(site, limit=limit),
    ).fetchall()
    return tuple(
        RunRow(
            site=r[0],
            run_id=r[1],
            kind=r[2],
            status=r[3],
            started_at=r[4],
            finished_at=r[5],
            articles_new=_int(r[6]),
            articles_updated=_int(r[7]),
            articles_failed=_int(r[8]),
            removed=_int(r[9]),
            requests=_int(r[10]),
            error=r[11],
            warning=r[12],
        )
        for r in rows
    )


def removed_count(
    con: duckdb.DuckDBPyConnection, site: str | None, since: datetime | None = None
) -> int:
    """How many articles are taken down (removed at or after ``since``, if given)."""
    when = "" if since is None else " AND removed_at >= $since"
    row = con.execute(
        f"SELECT count(*) FROM articles WHERE removed_at IS NOT NULL{when}{_site_clause(site)}",
        _params(site, **({} if since is None else {"since": since})),
    ).fetchone()
    return _int(row[0] if row else 0)


def recent_takedowns(
    con: duckdb.DuckDBPyConnection, site: str | None, since: datetime, limit: int = 20
) -> tuple[ArticleRow, ...]:
    """The articles taken down at or after ``since``, the latest first (the home page's
    list: no capture is looked up, :func:`warehouse.reader.get_removed` does that for the
    takedowns page)."""
    rows = con.execute(
        f"SELECT {_ARTICLE_ROW} FROM articles WHERE removed_at >= $since{_site_clause(site)}"
        " ORDER BY removed_at DESC, site, article_id LIMIT $limit",
        _params(site, since=since, limit=limit),
    ).fetchall()
    return _article_rows(rows)


def categories(con: duckdb.DuckDBPyConnection, site: str | None) -> list[NameCount]:
    """Every category with its articles, the largest first."""
    rows = con.execute(
        "SELECT category, count(*) FROM articles"
        f" WHERE category IS NOT NULL{_site_clause(site)}"
        " GROUP BY 1 ORDER BY 2 DESC, 1",
        _params(site),
    ).fetchall()
    return [NameCount(str(r[0]), int(r[1])) for r in rows]


def top_authors(
    con: duckdb.DuckDBPyConnection, site: str | None, limit: int = 40
) -> list[NameCount]:
    """The people who signed the most articles (a byline of several counts for each)."""
    rows = con.execute(
        f"SELECT name, count(*) FROM (SELECT unnest({AUTHOR_NAMES}) AS name FROM articles"
        f"  WHERE author IS NOT NULL{_site_clause(site)})"
        " WHERE name <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $limit",
        _params(site, limit=limit),
    ).fetchall()
    return [NameCount(str(r[0]), int(r[1])) for r in rows]


def top_tags(con: duckdb.DuckDBPyConnection, site: str | None, limit: int = 60) -> list[NameCount]:
    """The tags on the most articles."""
    rows = con.execute(
        "SELECT tag, count(*) FROM (SELECT unnest(tags) AS tag FROM articles"
        f"  WHERE len(tags) > 0{_site_clause(site)})"
        " WHERE tag <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $limit",
        _params(site, limit=limit),
    ).fetchall()
    return [NameCount(str(r[0]), int(r[1])) for r in rows]


def recent_days(
    con: duckdb.DuckDBPyConnection, site: str | None, limit: int = 120
) -> list[DayCount]:
    """The last ``limit`` days (Vietnam time) that have articles, newest first."""
    rows = con.execute(
        "SELECT published_date, count(*) FROM articles"
        f" WHERE published_date IS NOT NULL{_site_clause(site)}"
        " GROUP BY 1 ORDER BY 1 DESC LIMIT $limit",
        _params(site, limit=limit),
    ).fetchall()
    return [DayCount(r[0], int(r[1])) for r in rows]


def neighbour_days(
    con: duckdb.DuckDBPyConnection, site: str | None, day: date
) -> tuple[date | None, date | None]:
    """The nearest days before and after ``day`` that have articles."""
    s = _site_clause(site)
    row = con.execute(
        f"SELECT (SELECT max(published_date) FROM articles WHERE published_date < $day{s}),"
        f" (SELECT min(published_date) FROM articles WHERE published_date > $day{s})",
        _params(site, day=day),
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def articles_of(
    con: duckdb.DuckDBPyConnection,
    site: str | None,
    collection: Collection,
    value: str | date,
    *,
    page: int,
    size: int,
) -> Page:
    """A page of the articles of a category, an author, a tag or a day, newest first,
    with how many there are in all (``total`` 0: none, the caller says "not found")."""
    where = _WHERE[collection] + _site_clause(site)
    params = _params(site, value=value)
    row = con.execute(f"SELECT count(*) FROM articles WHERE {where}", params).fetchone()
    total = _int(row[0] if row else 0)
    rows: list[tuple[Any, ...]] = []
    if total and (page - 1) * size < total:
        rows = con.execute(
            f"SELECT {_ARTICLE_ROW} FROM articles WHERE {where}"
            " ORDER BY published_at DESC NULLS LAST, site, article_id DESC"
            " LIMIT $limit OFFSET $offset",
            {**params, "limit": size, "offset": (page - 1) * size},
        ).fetchall()
    return Page(rows=_article_rows(rows), total=total, page=page, size=size)
