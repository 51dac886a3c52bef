"""A run stops early when what it fetches keeps failing, whatever the kind: the batch's
transient rule (a site in trouble) and the run's window over its fetches of articles it
did not hold (listings that point at pages the site does not serve). A takedown of stored
articles, however many, is data and never stops a run. Judged with the pure rules, then on
sites served on 127.0.0.1 with the plain steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from baolaocai.site import default_site
from pipeline.crawl import crawl_site
from pipeline.run import ABORT_WINDOW, Attempt, attempts_of, failure_label, failure_stop
from sitecopy import SiteServer, serve_site
from sitecopy.generate import GeneratedArticle, make_articles, write_site

SITE = default_site()
DEAD_LINKS = 300


def fetched(url: str, status: int, *, error: str | None = None) -> FetchedPage:
    now = datetime.now(UTC)
    if 200 <= status < 300 and error is None:
        return FetchedPage(url, url, status, now, "<html></html>")
    return FetchedPage(
        url,
        url,
        status,
        now,
        None,
        error=error or f"HTTP {status}",
        transient=status >= 500 or status == 429,
    )


def gone(n: int) -> list[Attempt]:
    return [Attempt("404") for _ in range(n)]


# -- the rules --------------------------------------------------------------------------------


def test_the_window_needs_enough_fetches_a_large_share_and_nothing_stored() -> None:
    assert ABORT_WINDOW >= 50
    assert failure_stop([], gone(ABORT_WINDOW - 1)) is None  # too few to judge
    served = [Attempt()] * (ABORT_WINDOW // 10 + 1)
    assert failure_stop([], served + gone(ABORT_WINDOW - len(served))) is None  # < 90 %
    unreadable = [Attempt()] * (ABORT_WINDOW // 10)  # served, but not an article
    reason = failure_stop([], unreadable + gone(ABORT_WINDOW - len(unreadable)))
    failed = ABORT_WINDOW - len(unreadable)
    assert reason == (
        f"{failed} of the last {ABORT_WINDOW} article fetches failed (404 ×{failed});"
        " stopped early: the site's listings point at pages it does not serve"
    )
    # One article stored among them: the run is getting somewhere, it goes on.
    assert failure_stop([], [Attempt(stored=True), *gone(ABORT_WINDOW - 1)]) is None
    # Only the latest fetches count: a stored article long ago does not hold it back.
    assert failure_stop([], [Attempt(stored=True), *gone(ABORT_WINDOW)]) is not None


def test_the_reason_names_the_statuses_most_frequent_first() -> None:
    window = gone(30) + [Attempt("403")] * 15 + [Attempt("503", transient=True)] * 5
    assert failure_stop([], window) == (
        f"50 of the last {ABORT_WINDOW} article fetches failed (404 ×30, 403 ×15, 503 ×5);"
        " stopped early: the site does not serve the pages its listings point at"
    )


def test_the_transient_rule_of_a_batch_stays() -> None:
    batch = [fetched(f"https://baolaocai.vn/a-post{i}.html", 503) for i in range(8)]
    batch += [fetched(f"https://baolaocai.vn/b-post{i}.html", 200) for i in range(2)]
    assert failure_stop(batch) == (
        "8 of the last 10 article fetches failed (503 ×8); stopped early so as not to hammer"
        " the site"
    )
    assert failure_stop(batch[1:]) is None  # 7 of 9: too few to judge


def test_failures_are_named_by_status_or_by_kind() -> None:
    url = "https://baolaocai.vn/a-post1.html"
    assert failure_label(fetched(url, 410)) == "410"
    assert failure_label(fetched(url, 0, error="connection error: [Errno 104] reset")) == (
        "connection error"
    )
    assert failure_label(fetched(url, 0, error="timeout (ReadTimeout)")) == "timeout"
    assert failure_label(fetched(url, 0, error="disallowed by robots.txt")) == (
        "disallowed by robots.txt"
    )
    assert failure_label(fetched(url, 200, error="not a web page (application/pdf)")) == (
        "not a web page"
    )


def test_only_articles_not_held_when_the_run_began_are_weighed() -> None:
    pages = [
        fetched("https://baolaocai.vn/moi-post1.html", 404),  # new, gone
        fetched("https://baolaocai.vn/moi-post2.html", 200),  # new, stored
        fetched("https://baolaocai.vn/moi-post3.html", 200),  # new, unreadable
        fetched("https://baolaocai.vn/cu-post7.html", 404),  # stored: a takedown
        fetched("https://baolaocai.vn/cu-post8.html", 503),  # stored: the transient rule's
    ]
    unreadable = {"https://baolaocai.vn/moi-post3.html"}
    assert attempts_of(pages, unreadable, {7, 8}, SITE) == [
        Attempt("404"),
        Attempt(stored=True),
        Attempt(stored=False),
    ]


# -- whole runs on loopback sites ---------------------------------------------------------------


def settings_for(site: SiteServer, db: str, **more: Any) -> Settings:
    return Settings(base_url=site.url, db_path=db, rate=500.0, concurrency=4, **more)


def rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def article_paths(site: SiteServer) -> list[str]:
    return [r.path for r in site.requests if "-post" in r.path]


@pytest.fixture
def dead_links(tmp_path: Path) -> Iterator[SiteServer]:
    """A site whose sitemap lists 300 article URLs, none of which it serves."""
    root = tmp_path / "dead"
    root.mkdir()
    (root / "robots.txt").write_text(
        "User-agent: *\nSitemap: https://baolaocai.vn/sitemap.xml\n", encoding="utf-8"
    )
    (root / "index.html").write_text(
        "<html><head><title>Báo Lào Cai</title></head><body></body></html>", encoding="utf-8"
    )
    urls = "".join(
        f"<url><loc>https://baolaocai.vn/bai-viet-so-{i}-post{700000 + i}.html</loc></url>\n"
        for i in range(DEAD_LINKS)
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n',
        encoding="utf-8",
    )
    with serve_site(root) as server:
        yield server


def test_a_sitemap_of_dead_links_stops_the_run_after_the_window(
    dead_links: SiteServer, db_path: str
) -> None:
    run = crawl_site(settings_for(dead_links, db_path))
    s = run.summary
    reason = (
        f"{ABORT_WINDOW} of the last {ABORT_WINDOW} article fetches failed"
        f" (404 ×{ABORT_WINDOW}); stopped early: the site's listings point at pages it does"
        " not serve"
    )
    assert (s.status, s.error) == ("failed", reason)
    first = article_paths(dead_links)
    assert len(first) == ABORT_WINDOW  # two batches of 25, not 300 fetches
    assert (s.articles_failed, s.gone, s.articles_new) == (ABORT_WINDOW, ABORT_WINDOW, 0)
    assert rows(db_path, "SELECT status, error, articles_failed FROM crawl_runs") == [
        ("failed", reason, ABORT_WINDOW)
    ]
    assert rows(db_path, "SELECT count(*) FROM open_fetch_errors WHERE status = 404") == [
        (ABORT_WINDOW,)
    ]
    # The dead links tried are parked: the next run tries the next ones, then stops again.
    dead_links.requests.clear()
    again = crawl_site(settings_for(dead_links, db_path))
    assert again.summary.status == "failed"
    second = article_paths(dead_links)
    assert len(second) == ABORT_WINDOW and not set(second) & set(first)


@pytest.fixture(scope="module")
def articles() -> list[GeneratedArticle]:
    return make_articles(120, seed=20)


def test_a_site_where_three_in_ten_links_are_dead_is_crawled_to_the_end(
    tmp_path: Path, db_path: str, articles: list[GeneratedArticle]
) -> None:
    root = tmp_path / "site"
    write_site(root, articles, per_page=10)
    dead = [a for i, a in enumerate(articles) if i % 10 < 3]
    for a in dead:
        (root / a.path.lstrip("/")).unlink()
    with serve_site(root) as server:
        run = crawl_site(settings_for(server, db_path))
    s = run.summary
    assert s.status == "completed", s.error
    assert (s.articles_new, s.articles_failed, s.gone) == (
        len(articles) - len(dead),
        len(dead),
        len(dead),
    )


def test_a_mass_takedown_is_recorded_not_a_reason_to_stop(
    tmp_path: Path, db_path: str, articles: list[GeneratedArticle]
) -> None:
    root = tmp_path / "site"
    write_site(root, articles, per_page=10)
    with serve_site(root) as server:
        first = crawl_site(settings_for(server, db_path))
        assert first.summary.articles_new == len(articles)
        for a in articles:  # every article taken down at once; the sitemaps unchanged
            (root / a.path.lstrip("/")).unlink()
        run = crawl_site(settings_for(server, db_path, recheck_days=36500, recheck_interval_h=0))
    s = run.summary
    assert s.status == "completed", s.error
    assert (s.rechecked, s.removed, s.articles_failed) == (len(articles), len(articles), 0)
    assert rows(db_path, "SELECT count(*) FROM removed_articles") == [(len(articles),)]
