"""Our extractor against trafilatura on the gold corpus: field accuracy, body F1, speed.

    uv run --group bench python benchmarks/extraction.py

Three sets, reported separately: the bundled site (``tests/parsing/expected/``), the first
independent set (``tests/parsing/independent/``) and the 44 pages written from SITE.md
alone (``tests/parsing/unseen/``). trafilatura is a benchmark-only dependency (``bench`` group).
Fields trafilatura does not produce (sapo, category as shown, images, source) are
scored for ours only; its ``date`` is a day, so dates are compared by day for both.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baolaocai.site import default_site  # noqa: E402
from baolaocai.text import normalize_text  # noqa: E402
from scrapers.fetch import decode_html  # noqa: E402
from sitecopy import SITE_DIR  # noqa: E402
from transforms.parse import parse_article  # noqa: E402
from transforms.scoring import boilerplate_leaks, token_f1  # noqa: E402

REPEATS = 5


SETS = {
    "bundled site": None,
    "independent": "independent",
    "unseen (SITE.md only)": "unseen",
}


def corpus(folder: str | None) -> list[tuple[str, str, dict[str, Any]]]:
    tests = ROOT / "tests" / "parsing"
    if folder is None:
        cases = [
            (SITE_DIR / f"{e.stem}.html", e) for e in sorted((tests / "expected").glob("*.json"))
        ]
    else:
        base = tests / folder
        cases = [
            (base / "pages" / f"{e.stem}.html", e)
            for e in sorted((base / "expected").glob("*.json"))
        ]
    return [
        (
            decode_html(p.read_bytes(), None),
            default_site().url(p.name),
            json.loads(e.read_text(encoding="utf-8")),
        )
        for p, e in cases
    ]


def ours(html: str, url: str) -> dict[str, Any]:
    record = parse_article(html, fallback_url=url).to_contract()
    record["day"] = (record["published_at"] or "")[:10] or None
    return record


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
    outputs: list[dict[str, Any]], pages: list[tuple[str, str, dict[str, Any]]], fields: list[str]
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
        len(
            boilerplate_leaks(
                (o.get("body") or "").replace("\n\n", "\n"), g["body"], default_site().profile
            )
        )
        for o, (_, _, g) in zip(outputs, pages, strict=True)
    )
    return result


def report(name: str, pages: list[tuple[str, str, dict[str, Any]]]) -> None:
    common = ["title", "author", "day", "tags", "category"]
    ours_out, ours_ms = timed(ours, pages)
    rows = {"baolaocai": score(ours_out, pages, [*common, "sapo", "images", "source"])}
    rows["baolaocai"]["ms/page"] = ours_ms
    try:
        traf_out, traf_ms = timed(trafilatura_extract, pages)
    except ImportError:
        print("trafilatura is not installed: uv run --group bench python benchmarks/extraction.py")
        traf_out, traf_ms = [], 0.0
    if traf_out:
        rows["trafilatura"] = score(traf_out, pages, common)
        rows["trafilatura"]["ms/page"] = traf_ms
    measures = [
        "title",
        "author",
        "day",
        "category",
        "tags",
        "sapo",
        "images",
        "source",
        "body P",
        "body R",
        "body F1",
        "leaks",
        "ms/page",
    ]
    print(f"\n{name}: {len(pages)} pages\n")
    print("| measure | " + " | ".join(rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    for m in measures:
        cells = []
        for r in rows.values():
            v = r.get(m)
            cells.append("–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v)))
        print(f"| {m} | " + " | ".join(cells) + " |")


def main() -> None:
    for name, folder in SETS.items():
        report(name, corpus(folder))


if __name__ == "__main__":
    main()
