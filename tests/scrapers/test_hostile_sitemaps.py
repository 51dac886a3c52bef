"""Sitemaps may be bigger than pages: a valid 50,000-URL sitemap (12 MB, over the 10 MiB
page cap) is read whole; one over the sitemap cap is a recorded discovery failure that
gives the size and the cap, and the run goes on."""

from __future__ import annotations

import asyncio
import gzip
from datetime import date
from http.server import BaseHTTPRequestHandler

import pytest

from baolaocai.errors import CrawlError
from baolaocai.settings import Settings
from scrapers.archive import MonthSitemap, month_articles
from scrapers.discovery import DiscoveryOptions, DiscoveryOutcome, discover_site
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from sitecopy import SiteServer
from sitecopy.server import send

URLS = 50_000
FIRST_ID = 1_000_000
SITEMAP = "https://baolaocai.vn/sitemap.xml"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def big_sitemap() -> bytes:
    """A valid sitemap of 50,000 article URLs, about 12 MB."""
    slug = (
        "nguoi-dan-vung-cao-lao-cai-phat-trien-kinh-te-tu-cay-che-shan-tuyet-va-du-lich-cong-dong"
    )
    rows = "".join(
        f"<url><loc>https://baolaocai.vn/{slug}-{i}-post{FIRST_ID + i}.html</loc>"
        f"<lastmod>2024-05-{1 + i % 28:02d}T08:00:00+07:00</lastmod>"
        "<changefreq>monthly</changefreq><priority>0.5</priority></url>\n"
        for i in range(URLS)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{rows}</urlset>\n"
    ).encode()
    assert 11.5 * MIB < len(xml) < 13 * MIB  # bigger than the 10 MiB cap of a page
    return xml


def serve_sitemap(site: SiteServer, body: bytes, *, gzipped: bool = False) -> None:
    def override(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        if handler.path != "/sitemap.xml":
            return False
        if gzipped:
            send(
                handler,
                200,
                gzip.compress(body),
                "application/xml; charset=utf-8",
                {"Content-Encoding": "gzip"},
            )
        else:
            send(handler, 200, body, "application/xml; charset=utf-8")
        return True

    site.override = override


def run_discovery(site: SiteServer, **overrides: object) -> DiscoveryOutcome:
    settings = Settings(base_url=site.url, rate=500.0, **overrides)  # type: ignore[arg-type]

    async def go() -> DiscoveryOutcome:
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings, RequestPacer(settings.rate))
            return await discover_site(fetcher, DiscoveryOptions(), known=lambda _id: False)

    return asyncio.run(go())


def test_a_50000_url_sitemap_over_the_page_cap_is_read_whole(
    site: SiteServer, big_sitemap: bytes
) -> None:
    serve_sitemap(site, big_sitemap)
    outcome = run_discovery(site)
    found = outcome.found
    assert outcome.error is None and found.errors == []
    assert found.sources["sitemap"] == URLS
    assert set(range(FIRST_ID, FIRST_ID + URLS)) <= set(found.articles)
    assert [len(r.entries) for r in found.sitemaps_read] == [URLS]
    assert found.capped == []


def test_a_sitemap_over_its_cap_is_a_recorded_failure_with_size_and_cap(
    site: SiteServer, big_sitemap: bytes
) -> None:
    serve_sitemap(site, big_sitemap)
    outcome = run_discovery(site, max_sitemap_bytes=8 * MIB)
    found = outcome.found
    assert outcome.error is None  # the home page and the listings still answer
    assert found.articles and "sitemap" not in found.sources
    [failure] = [f for f in found.errors if f.url == SITEMAP]
    assert failure.error == (
        f"response too large: {len(big_sitemap):,} bytes (Content-Length), more than the cap"
        " of 8 MiB (8,388,608 bytes) (BAOLAOCAI_MAX_SITEMAP_BYTES)"
    )
    assert failure.status == 200 and failure.stage == "discover"


# About 10 s (a 12 MB sitemap generated, gzipped, served, inflated to the cap). The cap after
# decompression is proved with a gzip bomb in milliseconds in test_fetch_rules.py; the
# sitemap's failure record is proved by the uncompressed test above.
@pytest.mark.slow
def test_a_compressed_sitemap_is_capped_after_decompression(
    site: SiteServer, big_sitemap: bytes
) -> None:
    serve_sitemap(site, big_sitemap, gzipped=True)  # well under 1 MiB on the wire
    outcome = run_discovery(site, max_sitemap_bytes=8 * MIB)
    [failure] = [f for f in outcome.found.errors if f.url == SITEMAP]
    assert failure.error == (
        "response too large: more than the cap of 8 MiB (8,388,608 bytes) (after"
        " decompression; reading stopped there) (BAOLAOCAI_MAX_SITEMAP_BYTES)"
    )
    # At the default sitemap cap the same sitemap is read whole.
    outcome = run_discovery(site)
    assert outcome.found.sources["sitemap"] == URLS


def test_a_monthly_sitemap_over_its_cap_fails_the_month_with_the_reason(
    site: SiteServer, big_sitemap: bytes
) -> None:
    serve_sitemap(site, big_sitemap)
    month = MonthSitemap(date(2024, 5, 1), SITEMAP)

    def read(**overrides: object) -> dict[str, object]:
        settings = Settings(base_url=site.url, rate=500.0, **overrides)  # type: ignore[arg-type]

        async def go() -> dict[str, object]:
            async with build_client(settings) as client:
                fetcher = Fetcher(client, settings, RequestPacer(settings.rate))
                return dict(await month_articles(fetcher, month))

        return asyncio.run(go())

    assert len(read()) == URLS
    with pytest.raises(CrawlError, match=r"more than the cap of 8 MiB .*MAX_SITEMAP_BYTES"):
        read(max_sitemap_bytes=8 * MIB)


STREAM_PROBE = r"""
import resource, sys
from scrapers.discovery import SitemapReader

def chunks():
    caption = "Ruộng bậc thang Mù Cang Chải mùa lúa chín, ảnh tư liệu " * 15  # ~800 bytes
    yield (b'<?xml version="1.0" encoding="UTF-8"?><urlset'
           b' xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
           b' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">')
    for i in range(50_000):
        yield (f"<url><loc>https://baolaocai.vn/bai-{i}-post{1_000_000 + i}.html</loc>"
               f"<lastmod>2024-05-01T08:00:00+07:00</lastmod><image:image><image:caption>"
               f"{caption}</image:caption></image:image></url>\n").encode()
    yield b"</urlset>"

def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

reader = SitemapReader()
size = 0
before = rss_mib()
buffer = b""
for piece in chunks():
    buffer += piece
    if len(buffer) >= 64 * 1024:
        size += len(buffer)
        reader.feed(buffer)
        buffer = b""
size += len(buffer)
reader.feed(buffer)
_, pages = reader.close()
print(len(pages), size, rss_mib() - before)
"""


def test_a_sitemap_is_parsed_as_it_streams_not_held_whole() -> None:
    """A 58 MiB sitemap (50,000 URLs with image captions) read in 64 KiB pieces: the
    process grows by the entries it keeps, far less than the document (a parser that
    held the bytes, their text and the tree would grow by several times the document)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", STREAM_PROBE], capture_output=True, text=True, check=True
    )
    urls, size, growth_mib = done.stdout.split()
    assert int(urls) == URLS
    assert int(size) > 50 * MIB
    assert float(growth_mib) < 20, f"peak RSS grew {growth_mib} MiB for {int(size) / MIB:.0f} MiB"


def test_a_sitemap_listing_more_than_50000_urls_is_read_to_the_limit_and_says_so(
    site: SiteServer, big_sitemap: bytes
) -> None:
    extra = "".join(
        f"<url><loc>https://baolaocai.vn/them-{i}-post{FIRST_ID + URLS + i}.html</loc></url>"
        for i in range(7)
    )
    serve_sitemap(site, big_sitemap.replace(b"</urlset>", extra.encode() + b"</urlset>"))
    found = run_discovery(site).found
    assert found.sources["sitemap"] == URLS
    assert FIRST_ID + URLS not in found.articles
    assert found.capped == [
        f"sitemap {SITEMAP}: lists {URLS + 7:,} URLs; the first {URLS:,} were read"
        " (the sitemaps protocol's limit)"
    ]


def test_a_sitemap_cut_off_mid_body_and_retried_is_read_once(
    site: SiteServer, big_sitemap: bytes
) -> None:
    """The first answer breaks off mid-body (a reset): the retry's entries are not added
    to the half-read ones of the first attempt (the streaming reader starts over)."""
    small = (
        big_sitemap[: big_sitemap.index(b"<url>")]
        + b"".join(big_sitemap.split(b"\n")[2 + i] + b"\n" for i in range(300))
        + b"</urlset>\n"
    )
    attempts = {"n": 0}

    def override(handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        if handler.path != "/sitemap.xml":
            return False
        attempts["n"] += 1
        if attempts["n"] == 1:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(small)))
            handler.end_headers()
            handler.wfile.write(small[: len(small) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return True
        send(handler, 200, small, "application/xml; charset=utf-8")
        return True

    site.override = override
    found = run_discovery(site).found
    assert attempts["n"] == 2
    assert [len(r.entries) for r in found.sitemaps_read] == [300]
    assert found.sources["sitemap"] == 300
