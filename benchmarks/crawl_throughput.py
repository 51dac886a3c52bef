"""A crawl with politeness off, on loopback: how many articles a second the whole path
takes (discovery, fetch, archive, parse, load, index) when the site is not the limit.

Writes a generated site of ``--articles`` articles (11 KB pages, as the generator makes),
serves it on 127.0.0.1 and crawls it once with the plain steps (no Prefect), at
``--rate`` requests per second and ``--concurrency`` in flight. Prints one line::

    CRAWL articles=N stored=… seconds=… articles_per_s=… requests=…

    uv run python benchmarks/crawl_throughput.py --articles 2000

Timings only, no assertions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baolaocai.settings import Settings
from pipeline.crawl import crawl_site
from sitecopy import serve_site
from sitecopy.generate import make_articles, write_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="baolaocai-crawl-"))
    try:
        write_site(folder / "site", make_articles(args.articles, seed=3))
        with serve_site(folder / "site") as site:
            settings = Settings(
                base_url=site.url,
                db_path=str(folder / "w.duckdb"),
                rate=args.rate,
                concurrency=args.concurrency,
                max_listing_pages=10_000,
            )
            started = time.perf_counter()
            summary = crawl_site(settings).summary
            seconds = time.perf_counter() - started
        stored = summary.articles_new
        print(
            f"CRAWL articles={args.articles} stored={stored} seconds={seconds:.1f}"
            f" articles_per_s={stored / seconds:.0f} requests={summary.requests}"
            f" status={summary.status}"
        )
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
