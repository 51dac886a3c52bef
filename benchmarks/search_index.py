"""Search-index benchmark: full build, query latency with snippets, a 500-article update.

Makes ``--docs`` synthetic Vietnamese articles (default 100,000, ~2,500 characters of body
each, with diacritics) with :func:`sitecopy.generate.make_articles`, bulk-inserts them into
a fresh warehouse (not timed), then times:

* ``build_s``: :func:`warehouse.search.rebuild_search_index` over the whole warehouse;
* ``p50_ms``/``p95_ms``: :func:`warehouse.search.search` as ``baolaocai search`` runs it
  (the index opened for each query, 20 hits with their snippets) for three queries,
  ``"lao cai"``, ``"mu cang chai"`` and ``"che shan tuyet"`` in one category,
  ``--repeat`` times each;
* ``update_500_s``: 500 stored articles changed in the warehouse, then
  :func:`warehouse.search.update_search_index` replacing them (delete + add + commit).

Prints one line::

    SEARCH docs=100000 build_s=... p50_ms=... p95_ms=... update_500_s=...

    uv run python benchmarks/search_index.py                  # 100,000 documents
    uv run python benchmarks/search_index.py --docs 5000 --repeat 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from sitecopy.generate import GeneratedArticle, make_articles
from warehouse.db import connect
from warehouse.search import (
    rebuild_search_index,
    search,
    search_index_dir,
    update_search_index,
)

QUERIES: tuple[tuple[str, str | None], ...] = (
    ("lao cai", None),
    ("mu cang chai", None),
    ("che shan tuyet", "kinh-te"),
)


def _row(a: GeneratedArticle, seen: datetime) -> dict[str, object]:
    body = "\n\n".join(a.paragraphs)
    return {
        "article_id": a.article_id,
        "url": a.url,
        "title": a.title,
        "sapo": a.sapo,
        "body": body,
        "published_at": a.published_at.isoformat(),
        "category": a.category,
        "tags": list(a.tags),
        "body_chars": len(body),
        "paragraph_count": len(a.paragraphs),
        "word_count": len(body.split()),
        "image_count": len(a.images),
        "content_hash": str(hash(body)),
        "seen": seen.isoformat(),
    }


def fill(con: duckdb.DuckDBPyConnection, articles: Sequence[GeneratedArticle], work: Path) -> None:
    """Bulk-insert the articles (through a JSON Lines file: seconds, not minutes)."""
    seen = datetime.now(UTC)
    source = work / "articles.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for a in articles:
            handle.write(json.dumps(_row(a, seen), ensure_ascii=False) + "\n")
    con.execute(
        "INSERT INTO articles (site, article_id, url, title, sapo, body, published_at, category,"
        " tags, body_chars, paragraph_count, missing_fields, word_count, image_count,"
        " content_hash, version, first_seen_at, last_seen_at, updated_at)"
        " SELECT 'baolaocai', article_id, url, title, sapo, body, published_at::TIMESTAMPTZ,"
        " category,"
        " tags, body_chars, paragraph_count, []::VARCHAR[], word_count, image_count,"
        " content_hash, 1, seen::TIMESTAMPTZ, seen::TIMESTAMPTZ, seen::TIMESTAMPTZ"
        " FROM read_json(?, format = 'newline_delimited', columns = {"
        " article_id: 'BIGINT', url: 'VARCHAR', title: 'VARCHAR', sapo: 'VARCHAR',"
        " body: 'VARCHAR', published_at: 'VARCHAR', category: 'VARCHAR',"
        " tags: 'VARCHAR[]', body_chars: 'INTEGER', paragraph_count: 'INTEGER',"
        " word_count: 'INTEGER', image_count: 'INTEGER', content_hash: 'VARCHAR',"
        " seen: 'VARCHAR'})",
        [str(source)],
    )
    source.unlink()


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30, help="runs of each query")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp:
        work = Path(tmp)
        db = work / "bench.duckdb"
        index = search_index_dir(db)
        articles = make_articles(args.docs, seed=args.seed)
        con = connect(db)
        try:
            fill(con, articles, work)

            started = time.perf_counter()
            documents = rebuild_search_index(con, index)
            build_s = time.perf_counter() - started

            latencies: list[float] = []
            found: dict[str, int] = {}
            for text, category in QUERIES:
                search(index, text, category=category)  # warm the page cache once
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    hits = search(index, text, limit=20, category=category)
                    latencies.append((time.perf_counter() - started) * 1000)
                    found[text] = len(hits)

            step = max(1, len(articles) // 500)
            changed = [a.article_id for a in articles[::step][:500]]
            con.execute(
                "UPDATE articles SET body = body || ' Cập nhật: Mù Cang Chải.',"
                " updated_at = now() WHERE list_contains(?, article_id)",
                [changed],
            )
            started = time.perf_counter()
            replaced = update_search_index(con, index, [("baolaocai", a) for a in changed])
            update_s = time.perf_counter() - started
        finally:
            con.close()

    print(
        f"# documents indexed {documents}, replaced {replaced}, hits {found}",
        file=sys.stderr,
    )
    print(
        f"SEARCH docs={documents} build_s={build_s:.1f}"
        f" p50_ms={statistics.median(latencies):.1f} p95_ms={percentile(latencies, 0.95):.1f}"
        f" update_500_s={update_s:.2f}"
    )


if __name__ == "__main__":
    main()
