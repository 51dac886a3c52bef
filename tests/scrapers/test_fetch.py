"""The fetcher against a real loopback server that misbehaves on purpose.

Assertions read the server's own request log, not the fetcher's opinion of itself.
"""

from __future__ import annotations

import asyncio
from http.server import BaseHTTPRequestHandler

from pacing import RecordingPacer, assert_arrivals_keep_the_schedule

from baolaocai.settings import Settings
from scrapers.fetch import Fetcher, build_client, decode_html, parse_retry_after
from scrapers.politeness import RequestPacer, RobotsRules
from sitecopy import SiteServer
from sitecopy.server import send

ARTICLE = (
    "https://baolaocai.vn/y-ty-vao-mua-lua-chin-tren-nhung-thua-ruong-bac-thang-post398207.html"
)


async def _no_sleep(_: float) -> None:
    return None


def _fetch(
    site: SiteServer,
    url: str,
    *,
    robots: RobotsRules | None = None,
    retries: int = 3,
    rate: float = 100.0,
    concurrency: int = 2,
):
    settings = Settings(base_url=site.url, rate=rate, retries=retries, concurrency=concurrency)

    async def run():
        async with build_client(settings) as client:
            fetcher = Fetcher(
                client, settings, RequestPacer(settings.rate), robots, sleep=_no_sleep
            )
            return await fetcher.fetch(url), fetcher.stats

    return asyncio.run(run())


def test_ok_page_is_decoded_and_keeps_validators(site: SiteServer) -> None:
    page, stats = _fetch(site, ARTICLE)
    assert page.ok and page.status == 200 and "Y Tý" in (page.html or "")
    assert page.url == ARTICLE and page.fetched_url.startswith(site.url)
    assert "etag" in page.headers
    assert stats.requests == 1 and len(site.requests) == 1
    assert site.requests[0].user_agent.startswith("baolaocai-archiver/")


def test_503_then_200_is_retried(site: SiteServer) -> None:
    calls = {"n": 0}

    def flaky(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        calls["n"] += 1
        if calls["n"] <= 2:
            send(handler, 503, b"busy", "text/plain", {"Retry-After": "0"})
            return True
        return False

    site.override = flaky
    page, stats = _fetch(site, ARTICLE)
    assert page.ok and page.attempts == 3
    assert [r.status for r in site.requests] == [503, 503, 200]
    assert stats.retries == 2


def test_404_is_terminal_and_not_retried(site: SiteServer) -> None:
    page, _ = _fetch(site, "https://baolaocai.vn/khong-co-bai-nay-post999999.html")
    assert not page.ok and page.status == 404 and "404" in (page.error or "")
    assert len(site.requests) == 1


def test_retries_give_up_after_the_limit(site: SiteServer) -> None:
    def always_down(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        send(handler, 500, b"down", "text/plain")
        return True

    site.override = always_down
    page, _stats = _fetch(site, ARTICLE, retries=2)
    assert not page.ok and page.status == 500 and page.attempts == 3
    assert len(site.requests) == 3


def test_redirect_within_site_is_followed_but_not_off_site(site: SiteServer) -> None:
    def redirect(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        if "old-post1" in handler.path:
            send(handler, 301, b"", None, {"Location": ARTICLE.replace("https://baolaocai.vn", "")})
            return True
        if "away-post2" in handler.path:
            send(handler, 302, b"", None, {"Location": "https://example.com/x"})
            return True
        return False

    site.override = redirect
    page, _ = _fetch(site, "https://baolaocai.vn/old-post1.html")
    assert page.ok and "Y Tý" in (page.html or "")
    page, _ = _fetch(site, "https://baolaocai.vn/away-post2.html")
    assert not page.ok and "off the site" in (page.error or "")
    assert not any("example.com" in r.path for r in site.requests)


def test_robots_disallow_means_no_request(site: SiteServer) -> None:
    robots = RobotsRules("baolaocai-archiver/0.1", "User-agent: *\nDisallow: /y-ty")
    page, _ = _fetch(site, ARTICLE, robots=robots)
    assert not page.ok and "robots.txt" in (page.error or "")
    assert site.requests == []


def test_pacing_spaces_request_starts(site: SiteServer) -> None:
    settings = Settings(base_url=site.url, rate=10.0, concurrency=2)
    urls = [
        ARTICLE,
        "https://baolaocai.vn/",
        "https://baolaocai.vn/kinh-te/",
        "https://baolaocai.vn/xa-hoi/",
    ]

    pacer = RecordingPacer(settings.rate)

    async def run():
        async with build_client(settings) as client:
            return await Fetcher(client, settings, pacer).fetch_many(urls)

    pages = asyncio.run(run())
    assert all(p.ok for p in pages)
    # 10 requests a second at most: slots 1/10 s apart (a little more), and no arrival at the
    # server ahead of its slot. Not the raw gaps between arrivals, which a busy machine can
    # bunch (tests/pacing.py).
    assert pacer.interval > 0.1
    assert_arrivals_keep_the_schedule([r.started for r in site.requests], pacer, 0.1)
    assert site.max_in_flight <= 2


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_charset_from_meta_when_header_has_none() -> None:
    html = '<html><head><meta charset="windows-1258"></head><body>Lào Cai</body></html>'
    raw = html.encode("cp1258")
    assert "Lào Cai" in decode_html(raw, "text/html")
