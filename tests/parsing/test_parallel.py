"""Parsing a big batch on several processes gives exactly what one process gives, and a
worker that dies costs speed, never pages."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

from baolaocai.models import FetchedPage
from baolaocai.site import default_site
from sitecopy import SITE_DIR
from transforms.parallel import MIN_PAGES, ParsePool
from transforms.pipeline import process_pages

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def batch() -> list[FetchedPage]:
    pages = []
    for path in sorted(SITE_DIR.glob("*-post*.html")):
        url = f"https://baolaocai.vn/{path.name}"
        html = path.read_text(encoding="utf-8")
        pages.append(FetchedPage(url, url, 200, NOW, html, body=html.encode()))
    bad = [
        FetchedPage("https://baolaocai.vn/rong-post1.html", "x", 200, NOW, "   "),
        FetchedPage("https://baolaocai.vn/mat-post2.html", "x", 404, NOW, None, error="HTTP 404"),
        FetchedPage("https://baolaocai.vn/sau-post3.html", "x", 200, NOW, "<div>" * 5000 + "x"),
    ]
    out = (pages + bad) * 3
    assert len(out) >= MIN_PAGES
    return out


def test_two_workers_give_the_same_records_and_failures_in_the_same_order() -> None:
    pages = batch()
    alone = process_pages(pages, default_site())
    with ParsePool(workers=2) as pool:
        together = pool.process(pages, default_site())
        assert pool.process(pages, default_site()) == together  # the workers are reused
    assert together == alone
    assert len(together[1]) == 9  # empty, gone and too deep: each batch copy


def test_a_small_batch_stays_in_process() -> None:
    pages = batch()[: MIN_PAGES - 1]
    with ParsePool(workers=2) as pool:
        assert pool.process(pages, default_site()) == process_pages(pages, default_site())
        assert pool._executor is None  # no worker was started for it


def test_a_dead_worker_costs_speed_never_pages() -> None:
    pages = batch()
    alone = process_pages(pages, default_site())
    with ParsePool(workers=2) as pool:
        assert pool.process(pages, default_site()) == alone
        assert pool._executor is not None
        victim = next(iter(pool._executor._processes.values()))
        os.kill(victim.pid, signal.SIGKILL)
        victim.join()
        assert pool.process(pages, default_site()) == alone  # parsed here instead
        assert pool.broken and pool._executor is None
        assert pool.process(pages, default_site()) == alone  # and from then on
