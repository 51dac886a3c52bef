"""Search relevance: precision@10 and recall of ``baolaocai search`` on judged query sets.

A set is a folder with ``articles.jsonl`` (one article a line: ``article_id``, ``site``,
``title``, ``sapo``, ``body``, ``author``, ``category``, ``published_at``) and
``queries.json`` (a list of ``id``, ``query``, ``mode`` = ``default``/``exact``/``words``,
``kind``, ``relevant`` = every article that matches, ``must_not`` = planted confusers,
``ranked_first`` = articles that must rank above the other relevant ones, ``note``).
Two sets are kept: ``tests/warehouse/relevance/`` (held out: written from the syntax
contract by someone who did not write the search) and ``tests/warehouse/relevance_dev/``
(written with the search). The articles are loaded into an in-memory DuckDB table and
indexed by :func:`warehouse.search.rebuild_search_index`, the same code a crawl runs;
the queries run through :func:`warehouse.search.search` with the spelling variants of the
site file (``baolaocai/sites/baolaocai.toml``), as ``baolaocai search`` does.

Per query: ``p@10``, the share of the first 10 hits (fewer if fewer are returned) that are
relevant (1 when nothing is returned: recall says what is missing); ``recall``, the
share of the relevant articles returned at all (up to 1,000 hits); the confusers returned;
and whether every ``ranked_first`` article ranks above the other relevant ones. Totals
are the means over the queries. Prints a table and one line per set::

    RELEVANCE set=relevance queries=70 p@10=1.000 recall=1.000 confusers=0 rank_errors=0

    uv run python benchmarks/relevance.py                    # both sets
    uv run python benchmarks/relevance.py tests/warehouse/relevance_dev -v
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from baolaocai.site import load_site  # noqa: E402
from warehouse.schema import INDEXED_ARTICLE_COLUMNS  # noqa: E402
from warehouse.search import rebuild_search_index, search  # noqa: E402

SETS = (ROOT / "tests/warehouse/relevance", ROOT / "tests/warehouse/relevance_dev")
TOP = 10
RECALL_LIMIT = 1000
MODES = ("default", "exact", "words")


@dataclass(frozen=True, slots=True)
class Judged:
    id: str
    query: str
    mode: str
    kind: str
    relevant: frozenset[int]
    must_not: frozenset[int]
    ranked_first: frozenset[int]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    judged: Judged
    returned: tuple[int, ...]
    precision: float
    recall: float
    confusers: tuple[int, ...]
    """``must_not`` articles returned."""
    missing: tuple[int, ...]
    rank_errors: tuple[tuple[int, int], ...]
    """``(ranked_first id, other relevant id)`` pairs in the wrong order."""
    error: str | None = None


def load_set(folder: Path) -> tuple[list[dict[str, Any]], list[Judged]]:
    """The articles and the judged queries of one set folder."""
    articles = [
        json.loads(line)
        for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    queries = []
    for q in json.loads((folder / "queries.json").read_text(encoding="utf-8")):
        if q["mode"] not in MODES:
            raise ValueError(f"{folder}: query {q['id']}: unknown mode {q['mode']!r}")
        queries.append(
            Judged(
                id=q["id"],
                query=q["query"],
                mode=q["mode"],
                kind=q.get("kind", ""),
                relevant=frozenset(q["relevant"]),
                must_not=frozenset(q.get("must_not", ())),
                ranked_first=frozenset(q.get("ranked_first", ())),
                note=q.get("note", ""),
            )
        )
    return articles, queries


def build_index(articles: Sequence[dict[str, Any]], index_dir: Path) -> int:
    """Index ``articles`` into ``index_dir`` through a warehouse-shaped DuckDB table."""
    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TABLE articles (site VARCHAR, article_id BIGINT, url VARCHAR,"
            " title VARCHAR, category VARCHAR, published_at TIMESTAMPTZ,"
            " updated_at TIMESTAMPTZ, removed_at TIMESTAMPTZ, sapo VARCHAR, body VARCHAR,"
            " author VARCHAR)"
        )
        rows = []
        for a in articles:
            published = datetime.fromisoformat(a["published_at"]) if a.get("published_at") else None
            values = {
                "site": a.get("site", "baolaocai"),
                "article_id": int(a["article_id"]),
                "url": a.get("url") or f"https://baolaocai.vn/bai-{a['article_id']}.html",
                "title": a.get("title"),
                "category": a.get("category"),
                "published_at": published,
                "updated_at": published,
                "removed_at": None,
                "sapo": a.get("sapo"),
                "body": a.get("body"),
                "author": a.get("author"),
            }
            rows.append([values[c] for c in INDEXED_ARTICLE_COLUMNS])
        columns = ", ".join(INDEXED_ARTICLE_COLUMNS)
        marks = ", ".join("?" for _ in INDEXED_ARTICLE_COLUMNS)
        con.executemany(f"INSERT INTO articles ({columns}) VALUES ({marks})", rows)
        return rebuild_search_index(con, index_dir)
    finally:
        con.close()


def judge(judged: Judged, returned: Sequence[int]) -> Outcome:
    top = returned[:TOP]
    precision = sum(1 for i in top if i in judged.relevant) / len(top) if top else 1.0
    found = set(returned)
    recall = len(found & judged.relevant) / len(judged.relevant) if judged.relevant else 1.0
    position = {article: rank for rank, article in enumerate(returned)}
    rank_errors = []
    for first in sorted(judged.ranked_first):
        for other in sorted(judged.relevant - judged.ranked_first):
            if other in position and position.get(first, len(returned)) > position[other]:
                rank_errors.append((first, other))
    return Outcome(
        judged=judged,
        returned=tuple(returned),
        precision=precision,
        recall=recall,
        confusers=tuple(i for i in returned if i in judged.must_not),
        missing=tuple(sorted(judged.relevant - found)),
        rank_errors=tuple(rank_errors),
    )


def evaluate(
    index_dir: Path, queries: Sequence[Judged], variants: Sequence[Sequence[str]]
) -> list[Outcome]:
    """Run every query as ``baolaocai search`` would (its mode's flag, the variants)."""
    outcomes = []
    for q in queries:
        try:
            hits = search(
                index_dir,
                q.query,
                limit=RECALL_LIMIT,
                words=q.mode == "words",
                exact=q.mode == "exact",
                variants=variants,
            )
        except Exception as exc:  # a refused query is a failed query, reported as such
            outcome = judge(q, [])
            outcomes.append(
                Outcome(q, (), 0.0, 0.0 if q.relevant else 1.0, (), outcome.missing, (), str(exc))
            )
            continue
        outcomes.append(judge(q, [h.article_id for h in hits]))
    return outcomes


@dataclass(frozen=True, slots=True)
class Totals:
    queries: int
    precision: float
    recall: float
    phrase_precision: float
    """Over the queries without ``OR`` or quotes of several phrases (``kind`` not
    ``boolean``): the figures the issue's targets are about."""
    phrase_recall: float
    confusers: int
    rank_errors: int
    errors: int


def totals(outcomes: Sequence[Outcome]) -> Totals:
    phrase = [o for o in outcomes if o.judged.kind != "boolean"] or list(outcomes)
    return Totals(
        queries=len(outcomes),
        precision=statistics.fmean(o.precision for o in outcomes),
        recall=statistics.fmean(o.recall for o in outcomes),
        phrase_precision=statistics.fmean(o.precision for o in phrase),
        phrase_recall=statistics.fmean(o.recall for o in phrase),
        confusers=sum(len(o.confusers) for o in outcomes),
        rank_errors=sum(len(o.rank_errors) for o in outcomes),
        errors=sum(1 for o in outcomes if o.error),
    )


def run_set(folder: Path) -> list[Outcome]:
    """Index one set in a temporary folder and evaluate its queries."""
    articles, queries = load_set(folder)
    variants = load_site("baolaocai").variants
    with tempfile.TemporaryDirectory(prefix="baolaocai-relevance-") as tmp:
        index_dir = Path(tmp) / "index"
        build_index(articles, index_dir)
        return evaluate(index_dir, queries, variants)


def _line(o: Outcome, verbose: bool) -> str:
    q = o.judged
    flag = {"default": "", "exact": " --exact", "words": " --words"}[q.mode]
    problems = []
    if o.missing:
        problems.append(f"missing {list(o.missing)}")
    if o.confusers:
        problems.append(f"confusers {list(o.confusers)}")
    wrong = [i for i in o.returned[:TOP] if i not in q.relevant and i not in q.must_not]
    if wrong:
        problems.append(f"not relevant {wrong}")
    if o.rank_errors:
        problems.append(f"rank {list(o.rank_errors)[:3]}")
    if o.error:
        problems.append(f"error: {o.error}")
    text = f"{q.query}{flag}"
    line = (
        f"{q.id:<5} {q.kind:<8} {text[:44]:<44} {len(q.relevant):>4} {len(o.returned):>4}"
        f" {o.precision:6.3f} {o.recall:6.3f}  {'; '.join(problems) or 'ok'}"
    )
    if verbose and problems and q.note:
        line += f"\n      note: {q.note}"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", type=Path, help="set folders (default: both)")
    parser.add_argument("-v", "--verbose", action="store_true", help="notes of failed queries")
    args = parser.parse_args(argv)
    failed = False
    for folder in args.sets or [s for s in SETS if (s / "queries.json").is_file()]:
        outcomes = run_set(folder)
        print(f"== {folder}")
        print(
            f"{'id':<5} {'kind':<8} {'query':<44} {'rel':>4} {'ret':>4} {'p@10':>6} {'recall':>6}"
        )
        for o in outcomes:
            print(_line(o, args.verbose))
        t = totals(outcomes)
        print(
            f"RELEVANCE set={folder.name} queries={t.queries} p@10={t.precision:.3f}"
            f" recall={t.recall:.3f} phrase_p@10={t.phrase_precision:.3f}"
            f" phrase_recall={t.phrase_recall:.3f} confusers={t.confusers}"
            f" rank_errors={t.rank_errors} errors={t.errors}"
        )
        failed |= t.precision < 0.95 or t.recall < 0.95
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
