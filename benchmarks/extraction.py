"""Our extractor against trafilatura on the gold corpus: field accuracy, body F1, speed.

    uv run --group bench python benchmarks/extraction.py [SET …]
    uv run --group bench python benchmarks/extraction.py --speed [--pages N] [--rounds R]

``--speed`` times parsing only, ours against trafilatura in the same process, on big
generated pages (:mod:`sitecopy.generate` articles dressed with the inline scripts,
styles and icon sprites of real pages to 60-100 KB, as ``benchmarks/archive_scale.py``
makes them) and on every gold page, and prints per corpus::

    PARSE corpus=generated pages=200 kb_per_page=80.1 ours_ms=… trafilatura_ms=… ratio=…

Each corpus is parsed whole, ours then trafilatura, ``R`` rounds; the figures are the
best round's CPU time of this process per page (``time.process_time``: other processes
on a busy machine do not count, and each side's garbage is collected inside its own
loop), ``ratio`` is ours over trafilatura's (issue #21 asks for at most 0.5).

Every gold set of ``tests/parsing/gold.py`` (``GOLD_SETS``: the bundled site, the
independent and unseen sets, the per-site sets), reported separately, each page parsed as
the tests parse it (with its set's site). trafilatura is a benchmark-only dependency
(``bench`` group).
trafilatura's ``description`` is scored as its sapo; the fields it does not produce
(images with captions, source, page_kind, a publication time finer than a day) are
scored for ours only; its ``date`` is a day, so ``day`` compares both by day and
``published_at`` is ours to the second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baolaocai.site import Site, load_site  # noqa: E402
from baolaocai.text import normalize_text  # noqa: E402
from tests.parsing.gold import GOLD_SETS, GoldSet  # noqa: E402
from transforms.parse import parse_article  # noqa: E402
from transforms.scoring import boilerplate_leaks, token_f1  # noqa: E402

REPEATS = 5


def corpus(gold_set: GoldSet) -> list[tuple[str, str, dict[str, Any]]]:
    """(html, fallback URL, expected JSON) of every page of the set, read as the tests do."""
    return [(c.html(), c.fallback_url, c.expected()) for c in gold_set.cases()]


def ours_on(site: Site) -> Callable[[str, str], dict[str, Any]]:
    def ours(html: str, url: str) -> dict[str, Any]:
        record = parse_article(html, None, site=site, fallback_url=url).to_contract()
        record["day"] = (record["published_at"] or "")[:10] or None
        return record

    return ours


def trafilatura_extract(html: str, url: str) -> dict[str, Any]:
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        deduplicate=False,
    )
    if doc is None:
        return {}
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return {
        "title": normalize_text(data.get("title")) or None,
        "author": normalize_text(data.get("author")) or None,
        "day": data.get("date"),
        "body": "\n\n".join(
            normalize_text(line) for line in (data.get("text") or "").splitlines() if line.strip()
        ),
        "tags": [t for t in (data.get("tags") or []) if t],
        "category": (data.get("categories") or [None])[0],
        "sapo": normalize_text(data.get("description")) or None,
    }


def timed(
    extract: Callable[[str, str], dict[str, Any]], pages: list[tuple[str, str, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], float]:
    outputs = [extract(html, url) for html, url, _ in pages]  # warm-up, and the outputs
    runs = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        for html, url, _ in pages:
            extract(html, url)
        runs.append((time.perf_counter() - began) * 1000 / len(pages))
    return outputs, statistics.median(runs)


def score(
    outputs: list[dict[str, Any]],
    pages: list[tuple[str, str, dict[str, Any]]],
    fields: list[str],
    site: Site,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field in fields:
        hits = 0
        for out, (_, _, gold) in zip(outputs, pages, strict=True):
            expected = (gold["published_at"] or "")[:10] or None if field == "day" else gold[field]
            hits += out.get(field) == expected
        result[field] = hits / len(pages)
    f1s = [token_f1(o.get("body"), g["body"]) for o, (_, _, g) in zip(outputs, pages, strict=True)]
    result["body P"] = statistics.mean(f.precision for f in f1s)
    result["body R"] = statistics.mean(f.recall for f in f1s)
    result["body F1"] = statistics.mean(f.f1 for f in f1s)
    result["leaks"] = sum(
        len(boilerplate_leaks((o.get("body") or "").replace("\n\n", "\n"), g["body"], site.profile))
        for o, (_, _, g) in zip(outputs, pages, strict=True)
    )
    return result


SUMMARY_FIELDS = [
    "title",
    "sapo",
    "author",
    "day",
    "published_at",
    "category",
    "tags",
    "images",
    "source",
    "page_kind",
    "body F1",
    "leaks",
]


def report(gold_set: GoldSet) -> dict[str, dict[str, Any]]:
    pages = corpus(gold_set)
    site = load_site(gold_set.site)
    common = ["title", "author", "day", "tags", "category", "sapo"]
    ours_out, ours_ms = timed(ours_on(site), pages)
    ours_fields = [*common, "published_at", "images", "source", "page_kind"]
    rows = {"baolaocai": score(ours_out, pages, ours_fields, site)}
    rows["baolaocai"]["ms/page"] = ours_ms
    try:
        traf_out, traf_ms = timed(trafilatura_extract, pages)
    except ImportError:
        print("trafilatura is not installed: uv run --group bench python benchmarks/extraction.py")
        traf_out, traf_ms = [], 0.0
    if traf_out:
        rows["trafilatura"] = score(traf_out, pages, common, site)
        rows["trafilatura"]["ms/page"] = traf_ms
    measures = [
        "title",
        "author",
        "day",
        "published_at",
        "category",
        "tags",
        "sapo",
        "images",
        "source",
        "page_kind",
        "body P",
        "body R",
        "body F1",
        "leaks",
        "ms/page",
    ]
    print(f"\n{gold_set.name} ({gold_set.about}; site {site.key}): {len(pages)} pages\n")
    print("| measure | " + " | ".join(rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    for m in measures:
        cells = []
        for r in rows.values():
            v = r.get(m)
            cells.append("–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)))
        print(f"| {m} | " + " | ".join(cells) + " |")
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def generated_pages(n: int, seed: int = 3) -> list[str]:
    """``n`` article pages of 60-100 KB as a crawl stores them (see the module's doc)."""
    from benchmarks.archive_scale import pages

    return [html for batch in pages(n, seed=seed) for _, html in batch]


def _cpu_ms(parse: Callable[[], object], pages: int) -> float:
    """CPU time of this process per page for one pass of ``parse`` over ``pages``."""
    began = time.process_time()
    parse()
    return (time.process_time() - began) * 1000 / pages


def speed(n: int, rounds: int) -> None:
    """Parse time only, ours against trafilatura: a ``PARSE`` line per corpus."""
    site = load_site("baolaocai")
    fallback = site.url("/x-post1.html")
    Page = tuple[str, str | None, Site]
    generated: list[Page] = [(html, None, site) for html in generated_pages(n)]
    gold: list[Page] = [
        (html, url, load_site(gold_set.site))
        for gold_set in GOLD_SETS
        for html, url, _ in corpus(gold_set)
    ]
    for name, pages in (("generated", generated), ("gold", gold)):

        def ours(pages: list[Page] = pages) -> None:
            for html, url, page_site in pages:
                parse_article(html, None, site=page_site, fallback_url=url)

        def theirs(pages: list[Page] = pages) -> None:
            for html, url, _ in pages:
                trafilatura_extract(html, url or fallback)

        ours()  # warm-up: imports, compiled selectors, caches
        theirs()
        ours_ms = min(_cpu_ms(ours, len(pages)) for _ in range(rounds))
        theirs_ms = min(_cpu_ms(theirs, len(pages)) for _ in range(rounds))
        kb = statistics.mean(len(html.encode()) for html, _, _ in pages) / 1000
        print(
            f"PARSE corpus={name} pages={len(pages)} kb_per_page={kb:.1f} ours_ms={ours_ms:.2f}"
            f" trafilatura_ms={theirs_ms:.2f} ratio={ours_ms / theirs_ms:.3f}"
        )


def main() -> None:
    """Every gold set, or the sets named on the command line (``… extraction.py kinds-a``);
    with ``--speed``, parse time only (see the module's doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", help="gold sets to score (default: every set)")
    parser.add_argument("--speed", action="store_true", help="time parsing only")
    parser.add_argument("--pages", type=int, default=200, help="generated pages (--speed)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, best kept (--speed)")
    args = parser.parse_args()
    if args.speed:
        speed(args.pages, args.rounds)
        return
    wanted = set(args.sets)
    chosen = [g for g in GOLD_SETS if not wanted or g.name in wanted]
    results = {gold_set.name: (gold_set, report(gold_set)) for gold_set in chosen}
    print("\nEvery set, ours / trafilatura (– : trafilatura gives no such field):\n")
    print("| set (pages) | " + " | ".join(SUMMARY_FIELDS) + " |")
    print("|---" * (len(SUMMARY_FIELDS) + 1) + "|")
    for name, (gold_set, rows) in results.items():
        ours, theirs = rows["baolaocai"], rows.get("trafilatura", {})
        cells = [f"{_cell(ours.get(f))} / {_cell(theirs.get(f))}" for f in SUMMARY_FIELDS]
        size = len(gold_set.cases())
        print(f"| {name} ({size}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
