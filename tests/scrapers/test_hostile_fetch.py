"""A hostile server cannot hold one request for ever: the total request deadline, the
per-fetch size cap, and the settings behind them. Assertions read the server's own log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

import pytest

from baolaocai.errors import ConfigError
from baolaocai.models import FetchedPage
from baolaocai.settings import Settings, load_settings
from scrapers.fetch import TOO_LARGE, Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SiteServer
from sitecopy.server import send

PATH = "/cho-phien-bac-ha-diem-hen-cuoi-tuan-cua-du-khach-post376388.html"
URL = "https://baolaocai.vn" + PATH


def trickle(
    path: str, *, every: float = 0.2, headers_too: bool = False, times: int = 1_000_000
) -> Callable[[BaseHTTPRequestHandler, SiteServer], bool]:
    """An override that answers ``path`` one byte every ``every`` seconds (the body, or
    with ``headers_too`` the status line and headers as well), ``times`` times."""
    served = [0]

    def override(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        if handler.path.split("?", 1)[0] != path or served[0] >= times:
            return False
        served[0] += 1
        body = b"<html><body>" + b"x" * 5000 + b"</body></html>"
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        handler.close_connection = True
        handler._status_sent = 200  # type: ignore[attr-defined]
        try:
            if headers_too:
                slow = head + body
            else:
                handler.wfile.write(head)
                handler.wfile.flush()
                slow = body
            for i in range(len(slow)):
                handler.wfile.write(slow[i : i + 1])
                handler.wfile.flush()
                time.sleep(every)
        except OSError:  # the client gave up and closed the connection
            pass
        return True

    return override


def fetch(
    site: SiteServer, url: str = URL, max_bytes: int | None = None, **overrides: object
) -> tuple[FetchedPage, float]:
    settings = Settings(base_url=site.url, rate=50.0, **overrides)  # type: ignore[arg-type]

    async def run() -> FetchedPage:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(settings.rate), backoff_base=0.05)
            return await fetcher.fetch(url, max_bytes=max_bytes)

    started = time.monotonic()
    page = asyncio.run(run())
    return page, time.monotonic() - started


def test_a_server_trickling_the_body_is_cut_at_the_request_deadline(site: SiteServer) -> None:
    site.override = trickle(PATH)
    page, elapsed = fetch(site, request_deadline=1.5, read_timeout=10.0, retries=0)
    # Not 5,000 bytes x 0.2 s (1,000 s; a byte every 0.2 s never trips the read timeout).
    # A liveness bound, not a speed target: it takes about 1.6 s.
    assert elapsed < 30.0
    assert not page.ok and page.transient and page.status == 0
    assert page.error == (
        "no complete answer within the 1.5 s deadline (BAOLAOCAI_REQUEST_DEADLINE)"
    )
    assert len(site.requests) == 1


@pytest.mark.slow  # a real 1 s deadline; test_fetch_rules.py proves it in milliseconds
def test_a_server_trickling_its_headers_is_cut_too(site: SiteServer) -> None:
    site.override = trickle(PATH, headers_too=True)
    page, elapsed = fetch(site, request_deadline=1.0, read_timeout=10.0, retries=0)
    assert elapsed < 30.0  # a liveness bound (about 1 s; the trickle would take 1,000 s)
    assert page.error is not None and "1 s deadline" in page.error


@pytest.mark.slow  # a real 1 s deadline; test_fetch_rules.py proves it in milliseconds
def test_the_deadline_is_retried_like_a_timeout(site: SiteServer) -> None:
    site.override = trickle(PATH, times=1)  # trickles once, then answers normally
    page, elapsed = fetch(site, request_deadline=1.0, read_timeout=10.0, retries=2)
    assert page.ok and page.attempts == 2 and "Bắc Hà" in (page.html or "")
    # The trickled request is logged when its handler notices the client has gone (its
    # next write fails): maybe after the fetch returned (seen in CI: [200] only).
    deadline = time.monotonic() + 10
    while len(site.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.status for r in site.requests] == [200, 200]
    assert elapsed < 30.0  # a liveness bound (about 1.2 s; the trickle would take 1,000 s)


@pytest.mark.slow  # 5,000 bytes one at a time; test_fetch_rules.py has the same rule
def test_a_slow_complete_answer_within_the_deadline_is_fine(site: SiteServer) -> None:
    site.override = trickle(PATH, every=0.0001)
    page, _ = fetch(site, request_deadline=5.0, retries=0)
    assert page.ok and len(page.html or "") > 5000


def test_max_bytes_is_a_per_fetch_cap(site: SiteServer) -> None:
    big = b"<html><body>" + b"y" * 30_000 + b"</body></html>"

    def override(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        send(handler, 200, big, "text/html; charset=utf-8")
        return True

    site.override = override
    page, _ = fetch(site, max_response_bytes=20_000)
    assert not page.ok and not page.transient and page.status == 200
    assert page.error == (
        f"{TOO_LARGE}: {len(big):,} bytes (Content-Length), more than the cap of 20,000 bytes"
    )
    page, _ = fetch(site, max_bytes=64 * 1024, max_response_bytes=20_000)
    assert page.ok and len(page.html or "") == len(big)
    page, _ = fetch(site, max_bytes=1024 * 1024 // 64, max_response_bytes=1024 * 1024)
    assert page.error is not None and "16,384 bytes" in page.error  # the per-fetch cap wins


def test_the_new_settings_have_defaults_env_vars_and_checks() -> None:
    s = Settings()
    assert (s.request_deadline, s.max_crawl_delay, s.max_sitemap_bytes) == (
        60.0,
        30.0,
        50 * 1024 * 1024,
    )
    assert (s.max_sections, s.max_listing_requests, s.discovery_deadline) == (40, 400, 1800.0)
    env = {
        "BAOLAOCAI_REQUEST_DEADLINE": "12.5",
        "BAOLAOCAI_MAX_CRAWL_DELAY": "5",
        "BAOLAOCAI_MAX_SITEMAP_BYTES": "2048",
        "BAOLAOCAI_MAX_SECTIONS": "3",
        "BAOLAOCAI_MAX_LISTING_REQUESTS": "9",
        "BAOLAOCAI_DISCOVERY_DEADLINE": "60",
    }
    s = load_settings(env)
    assert (s.request_deadline, s.max_crawl_delay, s.max_sitemap_bytes) == (12.5, 5.0, 2048)
    assert (s.max_sections, s.max_listing_requests, s.discovery_deadline) == (3, 9, 60.0)
    assert Settings(max_crawl_delay=0).max_crawl_delay == 0  # no Crawl-delay accepted
    for bad in (
        {"request_deadline": 0},
        {"request_deadline": float("nan")},
        {"max_crawl_delay": -1},
        {"max_sitemap_bytes": 10},
        {"max_sections": 0},
        {"max_listing_requests": 0},
        {"discovery_deadline": float("inf")},
    ):
        with pytest.raises(ConfigError):
            Settings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="BAOLAOCAI_REQUEST_DEADLINE"):
        load_settings({"BAOLAOCAI_REQUEST_DEADLINE": "soon"})
