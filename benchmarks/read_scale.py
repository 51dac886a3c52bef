"""Read-side scale benchmark: search, index build and update, export memory at N and 4N.

Builds two warehouses of ``--articles`` N and 4N synthetic articles (default 5,000 and
20,000; :func:`sitecopy.generate.make_articles`, ~2,500 characters of Vietnamese body
each, with their pictures), bulk-inserted (not timed), then for each size:

* ``build_s`` and ``build_x``: :func:`warehouse.search.rebuild_search_index` over the
  whole warehouse, and its time (``build_cpu_x``: CPU time, every thread) over a plain
  tantivy index of the same rows (tantivy's own ``default`` tokenizer on the raw title
  and body, the body stored; no folding);
* ``p50_ms``/``p95_ms`` (and ``_cpu_ms``, CPU time): :func:`warehouse.search.search` as
  ``baolaocai search`` runs it (the index opened for each query, 20 hits with their
  snippets), the queries of ``benchmarks/search_index.py``, ``--repeat`` times each;
* ``update_500_s``: 500 stored articles spread over the archive changed, then
  :func:`warehouse.search.update_search_index` (the median of ``--updates`` rounds, wall
  and ``_cpu_s`` CPU time: the machine may be shared); ``update_new_500_s``: the same for
  the newest 500 articles (what a crawl's batches change);
* ``export_mib``: the peak RSS of ``baolaocai export --format F`` in a child process,
  for parquet, jsonl and csv (``resource.getrusage`` of the child).

Prints one line per size and a summary line::

    READ_SCALE n=5000/20000 p50_ms=…/… p95_ms=…/… p50_cpu_ms=…/… p95_cpu_ms=…/…
      build_s=…/… build_x=…/… build_cpu_x=…/…
      update_500_s=…/… update_500_cpu_s=…/… update_new_500_s=…/… update_new_500_cpu_s=…/…
      export_mib parquet=…/… jsonl=…/… csv=…/…

    uv run python benchmarks/read_scale.py                       # 5,000 and 20,000
    uv run python benchmarks/read_scale.py --articles 2000 --repeat 10 --skip-export
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb
import tantivy

from benchmarks.search_index import QUERIES, fill, percentile
from sitecopy.generate import GeneratedArticle, make_articles
from warehouse.db import connect
from warehouse.search import rebuild_search_index, search, search_index_dir, update_search_index

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("parquet", "jsonl", "csv")
_RSS_CHILD = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "if done.returncode: sys.exit(done.returncode)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
"""Runs a command and prints its peak RSS in KiB (a fresh process each time: the maximum
``RUSAGE_CHILDREN`` keeps is over every child waited for)."""


def add_images(
    con: duckdb.DuckDBPyConnection, articles: Sequence[GeneratedArticle], work: Path
) -> None:
    source = work / "images.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for a in articles:
            for position, (src, caption) in enumerate(a.images):
                row = {"id": a.article_id, "p": position, "src": src, "caption": caption}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    con.execute(
        "INSERT INTO article_images (site, article_id, position, src, caption)"
        " SELECT 'baolaocai', id, p, src, caption FROM read_json(?, format ="
        " 'newline_delimited', columns = {id: 'BIGINT', p: 'INTEGER', src: 'VARCHAR',"
        " caption: 'VARCHAR'})",
        [str(source)],
    )
    source.unlink()


def plain_tantivy_build(con: duckdb.DuckDBPyConnection, folder: Path) -> float:
    """Seconds to index the same rows with tantivy alone (its own tokenizer, no folding)."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("article_id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", stored=True, index_option="position")
    builder.add_text_field("body", stored=True, index_option="position")
    folder.mkdir()
    started = time.perf_counter()
    index = tantivy.Index(builder.build(), path=str(folder), reuse=False)
    writer = index.writer(heap_size=256_000_000, num_threads=max(1, min(4, os.cpu_count() or 1)))
    cursor = con.execute(
        "SELECT site, article_id, title, sapo, body FROM articles ORDER BY site, article_id"
    )
    while rows := cursor.fetchmany(1000):
        for site, article_id, title, sapo, body in rows:
            doc = tantivy.Document()
            doc.add_text("key", f"{site}/{article_id}")
            doc.add_integer("article_id", article_id)
            doc.add_text("title", title or "")
            doc.add_text("body", f"{sapo or ''}\n\n{body or ''}")
            writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter() - started


def export_rss_mib(db: Path, fmt: str, out: Path) -> float:
    # ``baolaocai export`` of this checkout (the entry point's code, from this folder).
    command = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
    command += ["export", "--format", fmt, "--db", str(db), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, *command],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return int(done.stdout.split()[-1]) / 1024


def one_size(n: int, args: argparse.Namespace, work: Path) -> dict[str, float]:
    db = work / f"n{n}.duckdb"
    index = search_index_dir(db)
    articles = make_articles(n, seed=args.seed)
    figures: dict[str, float] = {}
    con = connect(db)
    try:
        fill(con, articles, work)
        add_images(con, articles, work)
        con.execute("CHECKPOINT")

        used = time.process_time()
        plain = plain_tantivy_build(con, work / f"plain-{n}")
        plain_cpu = time.process_time() - used
        started, used = time.perf_counter(), time.process_time()
        rebuild_search_index(con, index)
        figures["build_s"] = time.perf_counter() - started
        figures["plain_s"] = plain
        figures["build_x"] = figures["build_s"] / plain
        figures["build_cpu_x"] = (time.process_time() - used) / plain_cpu

        latencies: list[float] = []
        cpu_ms: list[float] = []
        for text, category in QUERIES:
            search(index, text, category=category)  # warm the page cache once
            for _ in range(args.repeat):
                started, used = time.perf_counter(), time.process_time()
                search(index, text, limit=20, category=category)
                latencies.append((time.perf_counter() - started) * 1000)
                cpu_ms.append((time.process_time() - used) * 1000)
        figures["p50_ms"] = statistics.median(latencies)
        figures["p95_ms"] = percentile(latencies, 0.95)
        figures["p50_cpu_ms"] = statistics.median(cpu_ms)
        figures["p95_cpu_ms"] = percentile(cpu_ms, 0.95)

        # 500 articles spread over the archive (as benchmarks/search_index.py), then the
        # newest 500 (what a crawl's batches change): wall and CPU seconds, medians.
        step = max(1, len(articles) // 500)
        spread = [[a.article_id for a in articles[r::step][:500]] for r in range(args.updates)]
        newest = [[a.article_id for a in articles[-500:]]] * args.updates
        for name, rounds in (("update_500", spread), ("update_new_500", newest)):
            wall: list[float] = []
            cpu: list[float] = []
            for changed in rounds:
                con.execute(
                    "UPDATE articles SET body = body || ' Cập nhật: Mù Cang Chải.',"
                    " updated_at = now() WHERE list_contains(?, article_id)",
                    [changed],
                )
                started, used = time.perf_counter(), time.process_time()
                update_search_index(con, index, [("baolaocai", a) for a in changed])
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - used)
            figures[f"{name}_s"] = statistics.median(wall)
            figures[f"{name}_cpu_s"] = statistics.median(cpu)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if not args.skip_export:
        for fmt in FORMATS:
            figures[f"export_{fmt}_mib"] = export_rss_mib(db, fmt, work / f"export-{n}-{fmt}")
    line = " ".join(f"{k}={v:.3g}" for k, v in figures.items())
    print(f"# n={n} {line}", file=sys.stderr, flush=True)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000, help="N (and 4N are built)")
    parser.add_argument("--repeat", type=int, default=20, help="runs of each query")
    parser.add_argument("--updates", type=int, default=3, help="500-article update rounds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="read-scale-") as tmp:
        sizes = (args.articles, 4 * args.articles)
        small, large = (one_size(n, args, Path(tmp)) for n in sizes)

    def pair(key: str, fmt: str = "{:.1f}") -> str:
        return f"{fmt.format(small[key])}/{fmt.format(large[key])}"

    summary = (
        f"READ_SCALE n={sizes[0]}/{sizes[1]} p50_ms={pair('p50_ms')} p95_ms={pair('p95_ms')}"
        f" p50_cpu_ms={pair('p50_cpu_ms')} p95_cpu_ms={pair('p95_cpu_ms')}"
        f" build_s={pair('build_s')} build_x={pair('build_x', '{:.2f}')}"
        f" build_cpu_x={pair('build_cpu_x', '{:.2f}')}"
        f" update_500_s={pair('update_500_s', '{:.2f}')}"
        f" update_500_cpu_s={pair('update_500_cpu_s', '{:.2f}')}"
        f" update_new_500_s={pair('update_new_500_s', '{:.2f}')}"
        f" update_new_500_cpu_s={pair('update_new_500_cpu_s', '{:.2f}')}"
    )
    if not args.skip_export:
        summary += " export_mib " + " ".join(
            f"{fmt}={pair(f'export_{fmt}_mib', '{:.0f}')}" for fmt in FORMATS
        )
    print(summary)


if __name__ == "__main__":
    main()
