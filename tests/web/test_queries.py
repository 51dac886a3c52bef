"""The collection pages' SQL (:mod:`web.queries`) over a warehouse filled by the real
write path: two papers, two runs, an edit and a takedown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.web.pages_warehouse import (
    EDITED_ID,
    EDITED_TITLE,
    FIRST_RUN,
    ODD_TAG,
    SECOND_RUN,
    build,
)
from warehouse.db import connect
from web import queries


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return build(tmp_path_factory.mktemp("pages"))


@pytest.fixture
def con(built: tuple[Path, dict[str, Any]]) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(built[0], read_only=True)
    yield c
    c.close()


def test_counts_of_every_site_and_of_one(con: duckdb.DuckDBPyConnection) -> None:
    every = queries.counts(con, None)
    assert (every.articles, every.sites, every.versions) == (41, 2, 42)
    assert (every.removed, every.captures, every.undated) == (1, 30, 0)
    assert every.last_crawl == SECOND_RUN + timedelta(minutes=2)
    other = queries.counts(con, "baoyenbai")
    assert (other.articles, other.sites, other.versions, other.removed) == (2, 1, 2, 0)
    assert other.last_crawl is None  # that paper was never crawled, only loaded
    assert queries.sites(con) == ["baolaocai", "baoyenbai"]


def test_latest_articles_are_the_newest_published(con: duckdb.DuckDBPyConnection) -> None:
    latest = queries.latest_articles(con, None, 10)
    every = con.execute("SELECT published_at FROM articles ORDER BY published_at DESC").fetchall()
    assert [a.published_at for a in latest] == [r[0] for r in every[:10]]
    assert len(queries.latest_articles(con, "baoyenbai", 10)) == 2


def test_coverage_counts_every_dated_article_on_its_vietnam_month(
    con: duckdb.DuckDBPyConnection,
) -> None:
    months = queries.coverage_by_month(con, "baolaocai")
    assert sum(m.articles for m in months) == 39
    assert [m.month for m in months] == sorted(m.month for m in months)
    # Article 109: 00:30 on 1 January 2025 in Vietnam (still December 2024 in UTC).
    january = {m.category: m.articles for m in months if m.month == date(2025, 1, 1)}
    row = con.execute(
        "SELECT count(*) FROM articles WHERE site = 'baolaocai' AND category = 'Thời sự'"
        " AND published_date BETWEEN DATE '2025-01-01' AND DATE '2025-01-31'"
    ).fetchone()
    assert row is not None and january.get("Thời sự") == row[0] >= 1


def test_runs_newest_first_with_their_counters(con: duckdb.DuckDBPyConnection) -> None:
    runs = queries.recent_runs(con, None)
    assert [(r.run_id, r.status) for r in runs] == [("r2", "warning"), ("r1", "completed")]
    assert (runs[0].articles_updated, runs[0].removed, runs[1].articles_new) == (1, 1, 39)
    assert runs[1].started_at == FIRST_RUN
    assert queries.recent_runs(con, "baoyenbai") == ()


def test_takedowns_are_counted_and_listed_since_a_moment(
    con: duckdb.DuckDBPyConnection, built: tuple[Path, dict[str, Any]]
) -> None:
    taken = built[1]["taken_down"]
    [row] = queries.recent_takedowns(con, None, SECOND_RUN - timedelta(days=1))
    assert (row.site, row.article_id, row.removed_at) == ("baolaocai", taken.article_id, SECOND_RUN)
    assert queries.recent_takedowns(con, None, SECOND_RUN + timedelta(seconds=1)) == ()
    assert queries.recent_takedowns(con, "baoyenbai", FIRST_RUN) == ()
    assert queries.removed_count(con, None) == 1
    assert queries.removed_count(con, None, SECOND_RUN - timedelta(days=1)) == 1
    assert queries.removed_count(con, None, SECOND_RUN + timedelta(seconds=1)) == 0
    assert queries.removed_count(con, "baoyenbai") == 0


def test_categories_authors_and_tags_with_their_counts(con: duckdb.DuckDBPyConnection) -> None:
    cats = queries.categories(con, None)
    assert sum(c.articles for c in cats) == 41
    assert [c.articles for c in cats] == sorted((c.articles for c in cats), reverse=True)
    authors = {a.name: a.articles for a in queries.top_authors(con, None)}
    # The edited byline "Lò Văn Minh, Minh Huyền" counts for each of its two people.
    assert authors["Minh Huyền"] == 1
    assert authors["Lò Văn Minh"] == 9  # the hand-written articles, the edited one included
    assert authors["Hà Yên"] == 2 and not any("," in name for name in authors)
    tags = {t.name: t.articles for t in queries.top_tags(con, None, limit=500)}
    assert tags["Lào Cai"] == 11 and tags[ODD_TAG] == 1


def test_a_page_of_a_collection_is_newest_first_and_knows_its_total(
    con: duckdb.DuckDBPyConnection,
) -> None:
    total = queries.categories(con, "baolaocai")[0]
    first = queries.articles_of(con, "baolaocai", "category", total.name, page=1, size=3)
    assert first.total == total.articles and len(first.rows) == 3 and first.has_next
    every = [
        a.article_id
        for p in range(1, first.pages + 1)
        for a in queries.articles_of(con, "baolaocai", "category", total.name, page=p, size=3).rows
    ]
    assert len(every) == len(set(every)) == total.articles
    last = queries.articles_of(con, "baolaocai", "category", total.name, page=first.pages, size=3)
    assert not last.has_next and last.first_number == (first.pages - 1) * 3 + 1
    stamps = [a.published_at for a in first.rows]
    assert stamps == sorted(stamps, reverse=True)


def test_author_tag_and_day_collections(con: duckdb.DuckDBPyConnection) -> None:
    by_author = queries.articles_of(con, None, "author", "Minh Huyền", page=1, size=20)
    assert [(a.article_id, a.title) for a in by_author.rows] == [(EDITED_ID, EDITED_TITLE)]
    assert queries.articles_of(con, None, "author", "Minh", page=1, size=20).total == 0
    assert queries.articles_of(con, None, "tag", ODD_TAG, page=1, size=20).total == 1
    # Both papers have an article 101 and 102: the site chooses.
    both = queries.articles_of(con, None, "author", "Hà Yên", page=1, size=20)
    assert {(a.site, a.article_id) for a in both.rows} == {("baoyenbai", 101), ("baoyenbai", 102)}
    new_year = queries.articles_of(con, "baolaocai", "day", date(2025, 1, 1), page=1, size=20)
    assert 109 in [a.article_id for a in new_year.rows]
    eve = queries.articles_of(con, "baolaocai", "day", date(2024, 12, 31), page=1, size=20)
    assert 109 not in [a.article_id for a in eve.rows]


def test_values_are_bound_never_spliced(con: duckdb.DuckDBPyConnection) -> None:
    for hostile in ("x' OR '1'='1", "'; DROP TABLE articles; --", "%", "../../etc/passwd"):
        for kind in ("category", "author", "tag"):
            assert queries.articles_of(con, None, kind, hostile, page=1, size=5).total == 0
    assert queries.counts(con, None).articles == 41


def test_days_and_their_neighbours(con: duckdb.DuckDBPyConnection) -> None:
    days = queries.recent_days(con, None, limit=5)
    assert len(days) == 5 and [d.day for d in days] == sorted((d.day for d in days), reverse=True)
    before, after = queries.neighbour_days(con, None, days[2].day)
    assert (before, after) == (days[3].day, days[1].day)
    assert queries.neighbour_days(con, None, date(1990, 1, 1))[0] is None


def test_a_page_past_the_end_has_no_rows_but_its_total(con: duckdb.DuckDBPyConnection) -> None:
    page = queries.articles_of(con, None, "tag", "Lào Cai", page=99, size=20)
    assert page.rows == () and page.total == 11 and page.pages == 1
