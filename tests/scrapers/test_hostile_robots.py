"""robots.txt from a hostile or broken site: an unreachable file means *disallow
everything* (RFC 9309 §2.3.1.4) and a run that requests nothing else; a 4xx means no
rules; a Crawl-delay is obeyed up to a cap and refused above it. Assertions read the
server's own request log."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from http.server import BaseHTTPRequestHandler

import pytest
from pacing import RecordingPacer, assert_arrivals_keep_the_schedule

from baolaocai.errors import CrawlError
from baolaocai.settings import Settings
from scrapers.archive import month_sitemaps
from scrapers.discovery import DiscoveryOptions, DiscoveryOutcome, discover_site
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SiteServer
from sitecopy.faults import RESET, Fault, FaultPlan, hang, status
from sitecopy.server import send

UNREACHABLE = "RFC 9309: assume everything is disallowed; not crawling"


def settings_for(site: SiteServer, **overrides: object) -> Settings:
    values: dict[str, object] = {"rate": 200.0, "read_timeout": 0.3, "retries": 1}
    values.update(overrides)
    return Settings(base_url=site.url, **values)  # type: ignore[arg-type]


def run_discovery(
    site: SiteServer, pacer: RequestPacer | None = None, **overrides: object
) -> tuple[DiscoveryOutcome, Fetcher]:
    settings = settings_for(site, **overrides)

    async def go() -> tuple[DiscoveryOutcome, Fetcher]:
        async with build_client(settings) as client:
            paced = pacer or RequestPacer(settings.rate)
            fetcher = Fetcher(client, settings, paced, backoff_base=0.05)
            outcome = await discover_site(fetcher, DiscoveryOptions(), known=lambda _id: False)
            return outcome, fetcher

    return asyncio.run(go())


def robots_txt(text: str):
    def override(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        if handler.path != "/robots.txt":
            return False
        send(handler, 200, text.encode("utf-8"), "text/plain; charset=utf-8")
        return True

    return override


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        # The hang waits out the read timeout for real; the same rule is proved in
        # milliseconds in test_fetch_rules.py.
        pytest.param(hang(1.0), "timeout (ReadTimeout)", marks=pytest.mark.slow),
        (RESET, "connection error"),
        (status(503), "HTTP 503"),
        (status(500), "HTTP 500"),
        (status(429), "HTTP 429"),
    ],
    ids=["hang", "reset", "503", "500", "429"],
)
def test_an_unreachable_robots_txt_means_nothing_else_is_requested(
    site: SiteServer, fault: Fault, reason: str
) -> None:
    site.override = FaultPlan({r"^/robots\.txt$": [fault] * 5})
    outcome, fetcher = run_discovery(site)
    paths = [r.path for r in site.requests]
    assert paths == ["/robots.txt", "/robots.txt"]  # the first try and the one retry
    assert outcome.error is not None and "\n" not in outcome.error
    assert outcome.error.startswith(
        f"the site at {site.url} could not be reached (robots.txt: {reason}"
        if reason in ("timeout (ReadTimeout)", "connection error")
        else f"robots.txt of {site.url} could not be fetched ({reason}"
    )
    assert outcome.error.endswith(UNREACHABLE)
    assert not outcome.found.articles
    # What the run is left with allows nothing, should anything try.
    assert not outcome.robots.allowed("https://baolaocai.vn/thoi-su/")
    assert fetcher.robots is not None and not fetcher.robots.allowed("https://baolaocai.vn/")


@pytest.mark.slow  # waits out a real deadline; the rules are in test_fetch_rules.py too
def test_a_robots_txt_cut_by_the_request_deadline_is_unreachable(site: SiteServer) -> None:
    site.override = FaultPlan({r"^/robots\.txt$": [hang(2.0)] * 3})
    outcome, _ = run_discovery(site, read_timeout=30.0, request_deadline=0.4, retries=0)
    assert [r.path for r in site.requests] == ["/robots.txt"]
    assert outcome.error is not None and "0.4 s deadline" in outcome.error
    assert outcome.error.endswith(UNREACHABLE)


@pytest.mark.parametrize("code", [404, 403, 410, 401])
def test_a_4xx_robots_txt_means_no_restrictions(site: SiteServer, code: int) -> None:
    site.override = FaultPlan({r"^/robots\.txt$": [status(code)]})
    outcome, _ = run_discovery(site)
    paths = [r.path for r in site.requests]
    assert outcome.error is None and outcome.found.articles
    assert paths[0] == "/robots.txt" and "/" in paths and "/kinh-te/" in paths
    assert paths.count("/robots.txt") == 1  # a 4xx is an answer, not retried
    warned = [n for n in outcome.found.capped if n.startswith(f"robots.txt answered HTTP {code}")]
    assert len(warned) == (1 if code in (401, 403) else 0)  # a refusal is said, in the notes


def test_a_backfill_stops_on_an_unreachable_robots_txt(site: SiteServer) -> None:
    site.override = FaultPlan({r"^/robots\.txt$": [status(503)] * 5})
    settings = settings_for(site)

    async def go() -> None:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(200.0), backoff_base=0.05)
            await month_sitemaps(fetcher, date(2024, 1, 1), date(2024, 3, 1))

    with pytest.raises(CrawlError, match="RFC 9309: assume everything is disallowed"):
        asyncio.run(go())
    assert {r.path for r in site.requests} == {"/robots.txt"}


CRAWL_DELAY_3600 = (
    "robots.txt asks for a Crawl-delay of 3600 s, more than the 30 s this crawler accepts"
    " (BAOLAOCAI_MAX_CRAWL_DELAY); not crawling"
)


def test_a_crawl_delay_above_the_cap_means_no_crawl(site: SiteServer) -> None:
    site.override = robots_txt(
        "User-agent: *\nCrawl-delay: 3600\nSitemap: https://baolaocai.vn/sitemap.xml\n"
    )
    outcome, _ = run_discovery(site)
    assert outcome.error == CRAWL_DELAY_3600
    assert [r.path for r in site.requests] == ["/robots.txt"]


def test_a_backfill_refuses_a_crawl_delay_above_the_cap(site: SiteServer) -> None:
    site.override = robots_txt("User-agent: *\nCrawl-delay: 3600\n")
    settings = settings_for(site)

    async def go() -> None:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(200.0))
            await month_sitemaps(fetcher, date(2024, 1, 1), date(2024, 3, 1))

    with pytest.raises(CrawlError) as caught:
        asyncio.run(go())
    assert caught.value.message == CRAWL_DELAY_3600
    assert [r.path for r in site.requests] == ["/robots.txt"]


@pytest.mark.slow  # a real Crawl-delay between a discovery's requests (about 3 s)
def test_a_crawl_delay_within_the_cap_is_obeyed_and_logged(
    site: SiteServer, caplog: pytest.LogCaptureFixture
) -> None:
    site.override = robots_txt(
        "User-agent: *\nCrawl-delay: 0.25\nSitemap: https://baolaocai.vn/sitemap.xml\n"
    )
    caplog.set_level(logging.WARNING, logger="scrapers.robots")
    pacer = RecordingPacer(200.0)
    outcome, fetcher = run_discovery(site, pacer, max_crawl_delay=0.5)
    assert outcome.error is None and outcome.found.articles
    assert fetcher.pacer.interval >= 0.25
    warnings = [r.getMessage() for r in caplog.records if r.name == "scrapers.robots"]
    assert len(warnings) == 1 and "Crawl-delay of 0.25 s" in warnings[0]
    starts = [r.started for r in site.requests]
    assert len(starts) > 5
    # Spaced by the Crawl-delay, not the rate's 5 ms, from the request after robots.txt on:
    # slots 0.25 s apart and no arrival ahead of its slot. (The raw gaps between arrivals,
    # which a busy machine can bunch, are not what the pacer promises; tests/pacing.py.)
    assert_arrivals_keep_the_schedule(starts, pacer, 0.25)


def test_the_crawl_delay_cap_is_a_setting(site: SiteServer) -> None:
    site.override = robots_txt("User-agent: *\nCrawl-delay: 0.25\n")
    outcome, _ = run_discovery(site, max_crawl_delay=0.1)
    assert outcome.error == (
        "robots.txt asks for a Crawl-delay of 0.25 s, more than the 0.1 s this crawler"
        " accepts (BAOLAOCAI_MAX_CRAWL_DELAY); not crawling"
    )
    assert len(site.requests) == 1
