"""Warehouse benchmark: bulk loading, a no-change reload, queries and full-text search.

Builds ``--articles`` synthetic articles (default 100,000; realistic bodies of 4-9
paragraphs, about 550 words) with :func:`sitecopy.generate.make_articles`,
turns them straight into :class:`baolaocai.models.Article` records (no HTML rendering or
parsing: that is the transforms' cost, not the warehouse's), and loads them through the
real loader, :func:`warehouse.load.load_batch`, ``--batch`` articles per transaction.
Then it loads the same batches again (every article unchanged), builds the search index,
and times a few representative queries on a read-only connection. Prints a markdown table
(the README quotes it)::

    uv run python benchmarks/warehouse_load.py                 # 100,000 articles
    uv run python benchmarks/warehouse_load.py --articles 5000 --repeat 10

Raw pages are not stored (``pages=[]``): the figures are for articles, pictures and
revisions. Timings only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from baolaocai.models import Article, Image, StagedArticle
from baolaocai.site import default_site
from sitecopy.generate import GeneratedArticle, make_articles
from transforms.validate import content_hash
from warehouse.db import connect
from warehouse.load import load_batch
from warehouse.search import refresh_search_index, search

QUERIES: dict[str, str] = {
    "articles per category per month": (
        "SELECT category, date_trunc('month', published_at) AS month, count(*)"
        " FROM articles GROUP BY ALL ORDER BY month, category"
    ),
    "ILIKE '%cửa khẩu%' on body (count)": (
        "SELECT count(*) FROM articles WHERE body ILIKE '%cửa khẩu%'"
    ),
    "latest 20 (view latest_articles)": "SELECT * FROM latest_articles LIMIT 20",
    "one article with its pictures": (
        "SELECT a.title, i.position, i.src FROM articles a"
        " LEFT JOIN article_images i USING (article_id)"
        " WHERE a.article_id = (SELECT max(article_id) FROM articles)"
    ),
}
SEARCHES: dict[str, dict[str, object]] = {
    'search "lao cai"': {"text": "lao cai"},
    'search "mu cang chai" (Yên Bái, after 2025)': {"text": "mu cang chai"},
    'search "che shan tuyet" --category kinh-te': {"text": "che shan tuyet", "category": "kinh-te"},
}


def to_article(g: GeneratedArticle) -> Article:
    return Article(
        url=g.url,
        article_id=g.article_id,
        title=g.title,
        sapo=g.sapo,
        body="\n\n".join(g.paragraphs),
        author=g.author,
        published_at=g.published_at,
        category=g.category,
        tags=g.tags,
        images=tuple(Image(src, caption) for src, caption in g.images),
    )


def load_all(
    con: duckdb.DuckDBPyConnection, batches: list[list[StagedArticle]], run_id: str
) -> tuple[float, list[float], dict[str, int]]:
    totals = {"new": 0, "updated": 0, "unchanged": 0}
    per_batch: list[float] = []
    started = time.perf_counter()
    for batch in batches:
        t = time.perf_counter()
        counts = load_batch(
            con,
            site=default_site(),
            run_id=run_id,
            seen_at=datetime.now(UTC),
            pages=[],
            articles=batch,
            failures=[],
        )
        per_batch.append(time.perf_counter() - t)
        totals["new"] += counts.new
        totals["updated"] += counts.updated
        totals["unchanged"] += counts.unchanged
    return time.perf_counter() - started, per_batch, totals


def latencies(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    run()  # warm-up (first use loads the extension, fills caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


def file_size(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500, help="articles per load_batch call")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--db", type=Path, help="warehouse file (default: a temporary one)")
    args = parser.parse_args()

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="baolaocai-bench-")
        args.db = Path(tmp.name) / "bench.duckdb"
    elif args.db.exists():
        sys.exit(f"{args.db} exists; give a new file")

    t = time.perf_counter()
    generated = make_articles(args.articles, seed=args.seed)
    staged = [StagedArticle(a, content_hash(a)) for a in map(to_article, generated)]
    images = sum(len(g.images) for g in generated)
    words = statistics.mean(len(s.article.body.split()) for s in staged)
    del generated
    prep = time.perf_counter() - t
    batches = [staged[i : i + args.batch] for i in range(0, len(staged), args.batch)]
    print(
        f"generated {len(staged):,} articles ({images:,} pictures, {words:.0f} words/body)"
        f" in {prep:.1f} s; loading in {len(batches)} batches of {args.batch}",
        file=sys.stderr,
    )

    con = connect(args.db)
    load_s, per_batch, first = load_all(con, batches, "bench-1")
    print(f"first load: {load_s:.1f} s {first}", file=sys.stderr)
    reload_s, _, second = load_all(con, batches, "bench-2")
    print(f"no-change reload: {reload_s:.1f} s {second}", file=sys.stderr)
    t = time.perf_counter()
    documents = refresh_search_index(con)
    index_s = time.perf_counter() - t
    con.execute("CHECKPOINT")
    con.close()
    size = file_size(args.db)
    print(f"search index: {documents:,} documents in {index_s:.1f} s", file=sys.stderr)

    ro = connect(args.db, read_only=True)
    rows: list[tuple[str, str]] = []
    n = len(staged)
    per_batch.sort()
    rows.append(
        (
            f"first load of {n:,} articles ({images:,} pictures)",
            f"{load_s:.1f} s ({n / load_s:,.0f} articles/s)",
        )
    )
    rows.append(
        (
            f"one batch of {args.batch} (p50 / p95)",
            f"{statistics.median(per_batch) * 1000:.0f} / "
            f"{per_batch[round(0.95 * (len(per_batch) - 1))] * 1000:.0f} ms",
        )
    )
    rows.append(
        ("no-change reload (same batches)", f"{reload_s:.1f} s ({n / reload_s:,.0f} articles/s)")
    )
    rows.append(("search index rebuild (`reindex`)", f"{index_s:.1f} s"))
    rows.append(("database file (after checkpoint)", f"{size / 2**20:,.0f} MiB"))
    for name, sql in QUERIES.items():
        p50, p95 = latencies(lambda sql=sql: ro.execute(sql).fetchall(), args.repeat)
        rows.append((name, f"{p50:.1f} / {p95:.1f} ms"))
    for name, kwargs in SEARCHES.items():
        p50, p95 = latencies(lambda kw=kwargs: search(ro, limit=20, **kw), args.repeat)  # type: ignore[arg-type]
        rows.append((name + ", top 20", f"{p50:.1f} / {p95:.1f} ms"))
    ro.close()

    print(
        f"\n{n:,} synthetic articles, batches of {args.batch}, duckdb {duckdb.__version__},"
        f" Python {platform.python_version()}, {os.cpu_count()} CPUs;"
        f" query latencies are p50 / p95 of {args.repeat} runs\n"
    )
    print("| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
