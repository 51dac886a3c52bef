"""Parsing a big batch on several processes gives exactly what one process gives, and a
worker that dies costs speed, never pages."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

from baolaocai.models import FetchedPage
from baolaocai.processes import process_alive
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


def test_a_small_batch_stays_in_process_without_a_deadline() -> None:
    pages = batch()[: MIN_PAGES - 1]
    with ParsePool(workers=2) as pool:
        assert pool.process(pages, default_site()) == process_pages(pages, default_site())
        assert pool.pids == []  # no worker was started for it


def test_with_a_deadline_a_small_batch_is_parsed_on_one_worker_all_the_same() -> None:
    pages = batch()[:25]
    alone = process_pages(pages, default_site())
    with ParsePool(workers=2) as pool:
        assert pool.process(pages, default_site(), deadline=30) == alone
        first = pool.pids
        assert len(first) == 1
        assert pool.process(pages, default_site(), deadline=30) == alone
        assert pool.pids == first  # the worker is reused
    assert pool.pids == []
    assert not any(process_alive(pid) for pid in first)  # and stopped with the pool


def test_a_dead_worker_costs_speed_never_pages() -> None:
    pages = batch()
    alone = process_pages(pages, default_site())
    with ParsePool(workers=2) as pool:
        assert pool.process(pages, default_site()) == alone
        victim = pool.pids[0]
        os.kill(victim, signal.SIGKILL)
        assert pool.process(pages, default_site()) == alone  # a fresh worker took its page
        assert not pool.broken and len(pool.pids) == 2 and victim not in pool.pids
        assert pool.process(pages, default_site(), deadline=30) == alone
