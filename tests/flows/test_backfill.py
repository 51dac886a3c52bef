"""Backfill month by month from a generated site with monthly sitemaps; resume after failure."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.backfill import backfill
from sitecopy import SiteServer, serve_site
from sitecopy.faults import FaultPlan, status
from sitecopy.generate import GeneratedArticle, make_articles, write_site

START, END = date(2025, 1, 1), date(2025, 6, 30)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GeneratedArticle]]:
    root = tmp_path_factory.mktemp("archive")
    articles = make_articles(48, seed=3, start=START, end=END)
    write_site(root, articles, per_page=6)
    return root, articles


def run(site: SiteServer, db_path: str, **params: Any) -> dict[str, Any]:
    state = backfill(
        base_url=site.url, db_path=db_path, rate=500.0, concurrency=4, return_state=True, **params
    )
    data = state.result(raise_on_failure=False)
    assert isinstance(data, dict), data
    return data


def in_range(articles: list[GeneratedArticle], start: date, end: date) -> set[int]:
    return {a.article_id for a in articles if start <= a.published_at.date().replace(day=1) <= end}


def test_backfill_fetches_only_the_months_asked(archive, db_path: str) -> None:
    root, articles = archive
    with serve_site(root) as site:
        data = run(site, db_path, date_from=date(2025, 3, 1), date_to=date(2025, 4, 30))
        months = sorted({r.path for r in site.requests if r.path.startswith("/sitemaps/")})
    assert data["status"] == "completed"
    assert months == ["/sitemaps/2025-03.xml", "/sitemaps/2025-04.xml"]
    with duckdb.connect(db_path, read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()}
        done = con.execute(
            "SELECT month, articles, completed_at IS NOT NULL FROM backfill_months ORDER BY month"
        ).fetchall()
    assert stored == in_range(articles, date(2025, 3, 1), date(2025, 4, 1))
    assert [(m.isoformat(), ok) for m, _, ok in done] == [
        ("2025-03-01", True),
        ("2025-04-01", True),
    ]


def test_backfill_resumes_after_an_interruption(
    archive, db_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, articles = archive
    may = [a for a in articles if a.published_at.month == 5]
    monkeypatch.setenv("BAOLAOCAI_RETRIES", "0")
    with serve_site(root) as site:
        # First attempt: two May articles keep failing (the server is having a bad day).
        broken = "|".join(a.path for a in may[:2])
        site.override = FaultPlan({broken: [status(503)] * 10})
        first = run(site, db_path, date_from=START, date_to=END)
        assert first["articles_failed"] == 2
        site.override = None
        site.requests.clear()
        second = run(site, db_path, date_from=START, date_to=END)
        requested = [r.path for r in site.requests]
    assert second["months_skipped"] == 5  # every month but May was done
    assert [p for p in requested if p.startswith("/sitemaps/")] == ["/sitemaps/2025-05.xml"]
    assert sorted(p for p in requested if "-post" in p) == sorted(a.path for a in may[:2])
    with duckdb.connect(db_path, read_only=True) as con:
        total = con.execute("SELECT count(*) FROM articles").fetchone()
        open_months = con.execute(
            "SELECT count(*) FROM backfill_months WHERE completed_at IS NULL"
        ).fetchone()
    assert total == (len(articles),) and open_months == (0,)
