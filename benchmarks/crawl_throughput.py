"""A crawl against a minimal Scrapy spider on the same loopback site (issue #21).

Writes a generated site (11 KB pages, as the generator makes) and serves it on 127.0.0.1
in this process; each crawler runs in a child process of its own, so the server's work
is never counted as the crawler's. Measured for each:

* **CPU per article**: the child's user + system time during the crawl, its own and that
  of every process it waited for (``RUSAGE_SELF`` + ``RUSAGE_CHILDREN``: our parsing
  workers, through the forkserver, which the child stops and waits for at its end);
* **articles per second**, wall time of the crawl.

*Ours* is :func:`pipeline.crawl.crawl_site` with the plain steps (no Prefect): discovery,
fetch, WARC archive, parse, load, search index, politeness off (``--rate`` 1000,
``--concurrency`` 8). *Scrapy* is the minimal spider of the issue: robots.txt obeyed, the
same sitemaps followed to the article pages, a few fields read with Scrapy selectors,
nothing stored.

Then a **polite** crawl of ours (``--polite-rate`` 20/s, concurrency 2, a few hundred
articles): from the server's request log, the largest gap between two request starts
while articles were being fetched, as a multiple of the interval asked (``1/rate``).
Batches of 25 used to leave a gap at each boundary (the batch was parsed and loaded
before the next was fetched).

    uv run python benchmarks/crawl_throughput.py --articles 2000 --repeat 3

Prints one line per crawl, then the medians::

    CRAWL ours_ms_cpu=… scrapy_ms_cpu=… ours_aps=… scrapy_aps=… max_gap_x_interval=…
        max_gap_anywhere_x_interval=…

(``max_gap_x_interval``: at batch boundaries; ``…_anywhere…``: any silence while articles
were fetched, which on a busy machine also catches a request thread kept off the CPU.)

Timings only, no assertions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SITE_ORIGIN = "https://baolaocai.vn"
"""The origin the generated site's sitemaps and links name (ours maps it onto the served
copy by itself; the spider's downloader middleware below does the same)."""


def cpu_seconds() -> float:
    """User + system CPU of this process and of every child it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# -- the children ----------------------------------------------------------------------------


def child_ours(url: str, workdir: Path, rate: float, concurrency: int) -> dict[str, Any]:
    import multiprocessing.forkserver

    from baolaocai.settings import Settings
    from pipeline.crawl import crawl_site

    settings = Settings(
        base_url=url,
        db_path=str(workdir / "w.duckdb"),
        rate=rate,
        concurrency=concurrency,
        max_listing_pages=10_000,
    )
    cpu, wall = cpu_seconds(), time.perf_counter()
    summary = crawl_site(settings).summary
    wall = time.perf_counter() - wall
    # The parsing workers are the forkserver's children (it reaps them); stopping and
    # waiting for it brings their CPU time into this process's RUSAGE_CHILDREN.
    server: Any = getattr(multiprocessing.forkserver, "_forkserver", None)
    if server is not None and getattr(server, "_forkserver_pid", None):
        server._stop()
    return {
        "articles": summary.articles_new,
        "seconds": wall,
        "cpu_s": cpu_seconds() - cpu,
        "status": summary.status,
        "requests": summary.requests,
    }


def child_scrapy(url: str, concurrency: int) -> dict[str, Any]:
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Request
    from scrapy.spiders import SitemapSpider

    class ToServedCopy:
        """Downloader middleware: the site's own origin onto the served copy."""

        def process_request(self, request: Request, spider: scrapy.Spider) -> Request | None:
            if request.url.startswith(SITE_ORIGIN):
                return request.replace(url=url + request.url[len(SITE_ORIGIN) :])
            return None

    class MinimalSpider(SitemapSpider):
        name = "minimal"
        sitemap_urls = (f"{url}/robots.txt",)
        sitemap_rules = ((r"-post\d+\.html", "parse_article"),)

        def parse_article(self, response: Any) -> Any:
            yield {
                "url": response.url,
                "title": response.css("h1::text").get(),
                "published": response.css(
                    "meta[property='article:published_time']::attr(content)"
                ).get(),
                "lead": response.css("meta[name='description']::attr(content)").get(),
                "text": " ".join(response.css("article p::text, .content p::text").getall()),
            }

    sys.modules["__main__"].ToServedCopy = ToServedCopy  # type: ignore[attr-defined]
    process = CrawlerProcess(
        settings={
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "LOG_LEVEL": "ERROR",
            "TELNETCONSOLE_ENABLED": False,
            "DOWNLOADER_MIDDLEWARES": {"__main__.ToServedCopy": 1},
        }
    )
    crawler = process.create_crawler(MinimalSpider)
    cpu, wall = cpu_seconds(), time.perf_counter()
    process.crawl(crawler)
    process.start()
    wall = time.perf_counter() - wall
    assert crawler.stats is not None
    return {
        "articles": crawler.stats.get_value("item_scraped_count", 0),
        "seconds": wall,
        "cpu_s": cpu_seconds() - cpu,
        "status": crawler.stats.get_value("finish_reason"),
        "requests": crawler.stats.get_value("downloader/request_count", 0),
    }


def run_child(kind: str, url: str, rate: float, concurrency: int) -> dict[str, Any]:
    """One crawl of ``kind`` in a child process of its own, on an empty warehouse."""
    workdir = Path(tempfile.mkdtemp(prefix=f"baolaocai-bench-{kind}-"))
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--url",
                url,
                "--workdir",
                str(workdir),
                "--rate",
                str(rate),
                "--concurrency",
                str(concurrency),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- the parent -----------------------------------------------------------------------------


def stream_gaps(starts: list[tuple[float, str]], rate: float, batch: int) -> tuple[float, float]:
    """``(at batch boundaries, anywhere)``: the largest gap before a request start while
    articles were being fetched, as a multiple of ``1/rate``. A boundary is the start of
    every ``batch``-th article request (a batch's requests are all answered before the
    next batch's are sent, then and now); the gap before it is counted from the request
    started just before it, whatever it was. Anywhere: between any two request starts
    from the first article request to the last (listing pages read between the two
    rounds of a crawl count as requests: only a silence is a gap)."""
    articles = [i for i, (_, path) in enumerate(starts) if "-post" in path]
    if len(articles) < 2:
        return 0.0, 0.0
    times = [t for t, _ in starts]
    boundaries = [articles[k] for k in range(batch, len(articles), batch)]
    at_boundaries = max((times[i] - times[i - 1] for i in boundaries), default=0.0)
    phase = times[articles[0] : articles[-1] + 1]
    anywhere = max(b - a for a, b in itertools.pairwise(phase))
    return at_boundaries * rate, anywhere * rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--polite-articles", type=int, default=300)
    parser.add_argument("--polite-rate", type=float, default=20.0)
    parser.add_argument("--polite-concurrency", type=int, default=2)
    parser.add_argument("--skip-scrapy", action="store_true")
    parser.add_argument("--polite-only", action="store_true", help="only the polite crawl")
    parser.add_argument("--child", choices=["ours", "scrapy"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(child_ours(args.url, args.workdir, args.rate, args.concurrency)))
        return
    if args.child == "scrapy":
        print(json.dumps(child_scrapy(args.url, args.concurrency)))
        return

    from baolaocai.settings import Settings
    from sitecopy import serve_site
    from sitecopy.generate import make_articles, write_site

    folder = Path(tempfile.mkdtemp(prefix="baolaocai-crawl-"))
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    gaps: list[float] = []
    gaps_anywhere: list[float] = []
    try:
        write_site(folder / "site", make_articles(0 if args.polite_only else args.articles, seed=3))
        write_site(folder / "polite", make_articles(args.polite_articles, seed=5))
        with serve_site(folder / "site") as site:
            for _ in range(0 if args.polite_only else args.repeat):
                # Back to back on the same served site: the machine's noise hits both.
                ours.append(run_child("ours", site.url, args.rate, args.concurrency))
                print("ours  ", json.dumps(ours[-1]), flush=True)
                if not args.skip_scrapy:
                    theirs.append(run_child("scrapy", site.url, args.rate, args.concurrency))
                    print("scrapy", json.dumps(theirs[-1]), flush=True)
        with serve_site(folder / "polite") as site:
            for _ in range(args.repeat):
                site.requests.clear()
                polite = run_child("ours", site.url, args.polite_rate, args.polite_concurrency)
                starts = sorted((r.started, r.path) for r in site.requests)
                boundary, anywhere = stream_gaps(starts, args.polite_rate, Settings().batch_size)
                gaps.append(boundary)
                gaps_anywhere.append(anywhere)
                print(
                    "polite",
                    json.dumps(polite),
                    f"max_gap_x_interval={boundary:.2f} (anywhere: {anywhere:.2f})",
                    flush=True,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def ms_cpu(runs: list[dict[str, Any]]) -> str:
        if not runs:
            return "-"
        return f"{statistics.median(r['cpu_s'] * 1000 / max(1, r['articles']) for r in runs):.1f}"

    def aps(runs: list[dict[str, Any]]) -> str:
        if not runs:
            return "-"
        return f"{statistics.median(r['articles'] / r['seconds'] for r in runs):.0f}"

    print(
        f"CRAWL ours_ms_cpu={ms_cpu(ours)} scrapy_ms_cpu={ms_cpu(theirs)}"
        f" ours_aps={aps(ours)} scrapy_aps={aps(theirs)}"
        f" max_gap_x_interval={statistics.median(gaps):.2f}"
        f" max_gap_anywhere_x_interval={statistics.median(gaps_anywhere):.2f}"
    )


if __name__ == "__main__":
    os.environ.setdefault("BAOLAOCAI_LOG_LEVEL", "WARNING")
    main()
