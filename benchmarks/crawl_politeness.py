"""Politeness and efficiency of a crawl, measured from the server's side.

Generates a synthetic site (default 200 articles), serves it on 127.0.0.1 with seeded
random faults (503, 429 + Retry-After, connection resets, slow answers), crawls it with
the real ``crawl`` flow at the default politeness settings, then crawls again with
nothing new. Prints the figures the README quotes:

    uv run python benchmarks/crawl_politeness.py            # defaults: 200 articles, 1 req/s
    uv run python benchmarks/crawl_politeness.py --articles 50 --rate 5

Figures come from the server's request log, not from the crawler's own counters.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def max_per_window(starts: list[float], window: float = 1.0) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(starts):
        while t - starts[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def min_gap(starts: list[float]) -> float:
    return min((b - a for a, b in itertools.pairwise(starts)), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=None, help="requests/s (default: settings)")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="baolaocai-bench-"))
    os.environ.setdefault("PREFECT_HOME", str(workdir / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    from flows.crawl import crawl
    from sitecopy import serve_site
    from sitecopy.faults import RESET, FaultPlan, slow, status
    from sitecopy.generate import make_articles, write_site

    site_dir = workdir / "site"
    write_site(site_dir, make_articles(args.articles, seed=args.seed))
    db_path = str(workdir / "bench.duckdb")
    faults = FaultPlan(
        seed=args.seed,
        random_faults=[
            (status(503), 0.05),
            (status(429, Retry_After="2"), 0.03),
            (RESET, 0.03),
            (slow(0.8), 0.05),
        ],
        max_per_path=2,
    )
    params = {
        "base_url": None,
        "db_path": db_path,
        "rate": args.rate,
        "concurrency": args.concurrency,
    }
    with serve_site(site_dir) as server:
        server.override = faults
        params["base_url"] = server.url
        began = time.monotonic()
        state = crawl(**params, return_state=True)
        elapsed = time.monotonic() - began
        summary = state.result(raise_on_failure=False)
        log = list(server.requests)
        max_in_flight = server.max_in_flight

        server.requests.clear()
        server.override = None
        again = crawl(**params, return_state=True).result(raise_on_failure=False)
        second_log = list(server.requests)

    starts = sorted(r.started for r in log)
    # Requests that started while a 429's Retry-After (2 s) was running, counted from the
    # server's log; 50 ms allow for a request already on the wire when the 429 was sent.
    within_retry_after = sum(
        1
        for answer in log
        if answer.status == 429
        for r in log
        if answer.finished + 0.05 < r.started < answer.finished + 2.0
    )
    article_reqs = [r for r in log if "-post" in r.path]
    faults_served: dict[str, int] = {}
    for _, kind, code in faults.served:
        key = f"{kind} {code}" if kind == "status" else kind
        faults_served[key] = faults_served.get(key, 0) + 1
    rows = [
        ("articles on the site", args.articles),
        ("articles stored", summary["articles_new"]),
        ("failed", summary["articles_failed"]),
        ("faults injected", ", ".join(f"{k}: {v}" for k, v in sorted(faults_served.items()))),
        ("requests (server log)", len(log)),
        ("article requests", len(article_reqs)),
        ("requests per stored article", f"{len(log) / max(1, summary['articles_new']):.2f}"),
        ("retries (crawler)", summary["retries"]),
        ("max requests started in any 1 s window", max_per_window(starts)),
        ("smallest gap between request starts", f"{min_gap(starts):.3f} s"),
        ("max requests in flight", max_in_flight),
        ("requests started within a Retry-After window", within_retry_after),
        ("host held back (429/503)", f"{summary['held_back']} times, {summary['held_back_s']} s"),
        ("elapsed", f"{elapsed:.0f} s"),
        ("second run: requests", len(second_log)),
        ("second run: article-page fetches", sum(1 for r in second_log if "-post" in r.path)),
        ("second run: new articles", again["articles_new"]),
    ]
    print(f"status: {summary['status']}  {summary.get('error') or ''}")
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
