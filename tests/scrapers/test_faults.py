"""The fetcher against scripted faults; assertions read the server's own request log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from scrapers.fetch import Fetcher, FetchStats, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SITE_DIR, SiteServer, serve_site
from sitecopy.faults import RESET, FaultPlan, hang, slow, status

PATH = "/cho-phien-bac-ha-diem-hen-cuoi-tuan-cua-du-khach-post376388.html"
URL = "https://baolaocai.vn" + PATH


def fetch(site: SiteServer, url: str = URL, **overrides: object) -> tuple[FetchedPage, FetchStats]:
    settings = Settings(base_url=site.url, rate=50.0, **overrides)  # type: ignore[arg-type]

    async def run() -> tuple[FetchedPage, FetchStats]:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(settings.rate), backoff_base=0.05)
            return await fetcher.fetch(url), fetcher.stats

    return asyncio.run(run())


def test_the_fixture_page_exists() -> None:
    assert (SITE_DIR / PATH.lstrip("/")).exists()


@pytest.mark.slow  # waits out a real 1 s Retry-After; test_fetch_rules.py proves it at once
def test_429_retry_after_is_honoured(site: SiteServer) -> None:
    site.override = FaultPlan({PATH: [status(429, Retry_After="1")]})
    page, stats = fetch(site)
    assert page.ok and stats.responses_429 == 1 and stats.retries == 1
    first, second = site.requests
    assert (first.status, second.status) == (429, 200)
    assert second.started - first.finished >= 0.95  # waited as told, not the usual backoff


def test_retry_after_as_http_date_beyond_the_cap_is_obeyed_not_shortened(
    site: SiteServer,
) -> None:
    site.override = FaultPlan({PATH: [status(503, Retry_After="Wed, 01 Jan 2100 00:00:00 GMT")]})
    settings = Settings(base_url=site.url, rate=50.0)

    async def run() -> FetchedPage:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(50.0), retry_after_cap=0.2)
            return await fetcher.fetch(URL)

    page = asyncio.run(run())
    # The site asked for decades: nothing more is sent, and the reason says why.
    assert not page.ok and page.transient and [r.status for r in site.requests] == [503]
    assert page.error is not None and "Retry-After" in page.error


def test_connection_reset_is_retried(site: SiteServer) -> None:
    site.override = FaultPlan({PATH: [RESET, RESET]})
    page, stats = fetch(site)
    assert page.ok and stats.retries == 2 and len(site.requests) == 3


def test_read_timeout_is_retried(site: SiteServer) -> None:
    site.override = FaultPlan({PATH: [hang(1.5)]})
    page, stats = fetch(site, read_timeout=0.5)
    assert page.ok and stats.retries == 1


def test_slow_but_in_time_is_fine(site: SiteServer) -> None:
    site.override = FaultPlan({PATH: [slow(0.3)]})
    page, stats = fetch(site, read_timeout=5.0)
    assert page.ok and stats.retries == 0


def test_410_is_gone_not_retried(site: SiteServer) -> None:
    site.override = FaultPlan({PATH: [status(410)]})
    page, _ = fetch(site)
    assert page.status == 410 and not page.transient and len(site.requests) == 1


def test_gzip_is_decoded_and_capped_after_decompression(tmp_path: Path) -> None:
    with serve_site(SITE_DIR, gzip=True) as site:
        page, stats = fetch(site)
        assert page.ok and "Bắc Hà" in (page.html or "")
        assert site.requests[0].headers.get("Accept-Encoding", "").startswith("gzip")
        assert 0 < stats.bytes < len((SITE_DIR / PATH.lstrip("/")).read_bytes())  # compressed
        # A page that inflates past the cap is refused, however small on the wire.
        page, _ = fetch(site, max_response_bytes=4096)
        assert not page.ok and "cap" in (page.error or "") and not page.transient


def test_transient_failure_is_marked(site: SiteServer) -> None:
    site.override = FaultPlan({PATH: [status(503)] * 10})
    page, _ = fetch(site, retries=1)
    assert page.transient and page.status == 503 and len(site.requests) == 2


@pytest.mark.slow  # a real hang and deadline; test_fetch_rules.py proves the rule at once
def test_a_hang_is_cut_at_the_request_deadline_before_the_read_timeout(
    site: SiteServer,
) -> None:
    site.override = FaultPlan({PATH: [hang(3.0)]})
    page, stats = fetch(site, read_timeout=30.0, request_deadline=0.5)
    assert page.ok and stats.retries == 1  # the retry got the page
    first, second = sorted(site.requests, key=lambda r: r.started)
    # Cut at the 0.5 s deadline: the retry came before the 3 s hang would have ended (and
    # long before the 30 s read timeout), with room for a busy machine.
    assert second.started - first.started < 2.9
