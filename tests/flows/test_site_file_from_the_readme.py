"""A third paper, described only by its domain, URL forms and names, archived through a
site file written by someone who had only the README (``sites/doiche.toml``, unedited):
every article stored with its fields, a rerun that fetches no article, and nothing of
another paper in the warehouse.

The paper's copy is generated here with its own URL forms (``/<slug>-a<id>.html``,
sections ``/muc/<slug>/`` paged ``/page/<n>/``, tag pages ``/the/<slug>-<n>``, monthly
sitemaps ``/sitemaps/news-YYYY-MM.xml`` behind ``/sitemap_index.xml``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from baolaocai.settings import Settings
from baolaocai.site import Site, load_site
from pipeline.crawl import backfill_archive, crawl_site, plan_site
from sitecopy import SiteServer, serve_site
from sitecopy.generate import GeneratedArticle, make_articles, paper_spec, write_site

pytestmark = pytest.mark.slow

SITE_FILE = Path(__file__).with_name("sites") / "doiche.toml"
DOICHE = paper_spec("doiche")
"""The paper the site file describes (its spec lives in :mod:`sitecopy.generate`: the
scale-out benchmark serves it too)."""


@pytest.fixture(scope="module")
def articles() -> list[GeneratedArticle]:
    return make_articles(30, seed=31, start=date(2024, 10, 1), end=date(2025, 3, 30), spec=DOICHE)


@pytest.fixture
def served(tmp_path: Path, articles: list[GeneratedArticle]) -> Iterator[SiteServer]:
    write_site(tmp_path / "doiche", articles, per_page=4, spec=DOICHE)
    with serve_site(tmp_path / "doiche") as server:
        yield server


def newest_of_each_month(articles: list[GeneratedArticle]) -> list[GeneratedArticle]:
    """The articles whose edit moves their monthly sitemap's <lastmod> on in the index,
    and whose removal moves it *back* (the copy dates an edit a few hours after
    publication, so only the newest of a month moves the month's date)."""
    by_month: dict[str, GeneratedArticle] = {}
    for a in articles:
        by_month[f"{a.published_at:%Y-%m}"] = a  # oldest first: the last one wins
    return sorted(by_month.values(), key=lambda a: a.published_at)


@pytest.fixture
def site() -> Site:
    return load_site(SITE_FILE)


def test_a_paper_archived_through_a_site_file_written_from_the_readme(
    site: Site, served: SiteServer, articles: list[GeneratedArticle], tmp_path: Path
) -> None:
    db = str(tmp_path / "doiche.duckdb")
    settings = Settings(site=site, base_url=served.url, db_path=db, rate=50.0, concurrency=2)
    first = crawl_site(settings)
    assert first.summary.status == "completed", first.summary
    assert first.summary.articles_new == len(articles)
    with duckdb.connect(db, read_only=True) as con:
        stored = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT article_id, site, url, title, category, published_at, sapo FROM articles"
            ).fetchall()
        }
        foreign = con.execute(
            "SELECT count(*) FROM captures WHERE url NOT LIKE 'https://doiche.example.vn/%'"
        ).fetchone()
    assert set(stored) == {a.article_id for a in articles}
    for a in articles:
        key, url, title, category, published_at, sapo = stored[a.article_id]
        assert (key, url, title) == ("doiche", DOICHE.url(a.path), a.title)
        assert category == a.category
        assert published_at == a.published_at
        assert sapo is not None and not sapo.startswith("ĐC")
    assert foreign == (0,)

    served.requests.clear()
    again = crawl_site(settings)
    assert again.summary.status == "completed"
    assert again.summary.articles_new == 0
    assert not [r.path for r in served.requests if r.path.endswith(".html")]

    # An edit (its sitemap's <lastmod> moves on): one new version, one page fetched.
    root = Path(served.root)
    edited, gone = newest_of_each_month(articles)[2], newest_of_each_month(articles)[1]
    write_site(root, articles, per_page=4, revisions={edited.article_id: 1}, spec=DOICHE)
    served.requests.clear()
    third = crawl_site(settings)
    assert (third.summary.articles_new, third.summary.articles_updated) == (0, 1)
    assert [r.path for r in served.requests if r.path.endswith(".html")] == [edited.path]

    # A takedown of a month's newest article: 404, gone from the listings and the
    # sitemap, whose <lastmod> moves back. Seen on the next run, counted once.
    remaining = [a for a in articles if a is not gone]
    write_site(root, remaining, per_page=4, revisions={edited.article_id: 1}, spec=DOICHE)
    (root / gone.path.lstrip("/")).unlink()
    fourth = crawl_site(settings)
    assert fourth.summary.removed == 1
    with duckdb.connect(db, read_only=True) as con:
        removed = con.execute("SELECT article_id FROM removed_articles").fetchall()
    assert removed == [(gone.article_id,)]


def test_the_backfill_reads_its_monthly_sitemaps(
    site: Site, served: SiteServer, articles: list[GeneratedArticle], tmp_path: Path
) -> None:
    db = str(tmp_path / "doiche.duckdb")
    settings = Settings(site=site, base_url=served.url, db_path=db, rate=50.0, concurrency=2)
    run = backfill_archive(settings, date(2025, 2, 1), date(2025, 3, 31))
    assert run.summary.status == "completed", run.summary
    months = [m["month"] for m in run.extra["months"]]
    assert [str(m)[:7] for m in months] == ["2025-02", "2025-03"]
    in_range = {a.article_id for a in articles if a.published_at.date() >= date(2025, 2, 1)}
    with duckdb.connect(db, read_only=True) as con:
        got = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
    assert got == in_range


def test_a_site_file_that_matches_no_article_fails_every_run_kind(
    served: SiteServer, tmp_path: Path
) -> None:
    """The same file with a wrong article pattern: the site answers, its sitemaps and
    pages list 30 articles, none matches. A crawl, a backfill (month by month) and a plan
    each say so and fail; none is 'completed' with 0 stored."""
    wrong = tmp_path / "doiche-wrong.toml"
    wrong.write_text(
        SITE_FILE.read_text(encoding="utf-8").replace("-a(?P<id>", "-x(?P<id>"), encoding="utf-8"
    )
    settings = Settings(
        site=load_site(wrong),
        base_url=served.url,
        db_path=str(tmp_path / "wrong.duckdb"),
        rate=50.0,
        concurrency=2,
    )
    crawl = crawl_site(settings)
    assert crawl.summary.status == "failed"
    assert "matched the article patterns" in (crawl.summary.error or "")
    backfill = backfill_archive(settings, date(2025, 2, 1), date(2025, 3, 31))
    assert backfill.summary.status == "failed"
    assert "news-2025-02.xml" in (backfill.summary.error or "")
    assert "0 of 5 links and sitemap entries" in (backfill.summary.error or "")
    preview = plan_site(settings.override(db_path=str(tmp_path / "plan.duckdb")))
    assert preview.error is not None and "matched the article patterns" in preview.error
    with duckdb.connect(settings.db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
