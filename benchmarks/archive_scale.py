"""The whole write path at archive scale: fetched pages -> WARC -> parse -> load -> index.

Builds ``--articles`` synthetic article pages with :mod:`sitecopy.generate`, padded with the
furniture real pages carry (inline scripts, styles, an SVG sprite, a long menu) to
60-100 KB each, and stores them as a crawl would: :func:`pipeline.steps.load_pages` per
batch of ``--batch`` pages, inside one run (one
:class:`~warehouse.session.WarehouseSession`: the warehouse held open, every page archived
as a WARC capture, the search index updated per batch). Then it times searches with snippets, an index update of 500 articles, and a full ``reparse`` in a
child process (its wall time and peak RSS). Prints one line::

    SCALE articles=N load_per_s=… pipeline_per_s=… disk_written_per_article_kib=…
          stored_per_article_kib=… warehouse_mib=… warc_mib=… search_p50_ms=…
          search_p95_ms=… index_update_500_s=… reparse_s=… reparse_per_s=…
          reparse_load_per_s=… reparse_peak_rss_mib=…
          store_peak_rss_mib=…

``load_per_s``: articles per second through the loader's transaction alone (archive,
parse and index excluded), in a crawl's batches of 25; ``reparse_load_per_s``: the same
in a reparse's load batches (``--reparse-batch``, default the reparse's 1,000);
``reparse_per_s``: the whole reparse, articles per second; ``pipeline_per_s``: through
the whole batch step.

``--keep FOLDER`` keeps the warehouse; ``--reparse-only FOLDER [--root CHECKOUT]`` then
times just a reparse of a copy of it, with another checkout's code if asked (the same
pages, before and after a change)::

    uv run python benchmarks/archive_scale.py --articles 10000 --keep /tmp/scale
    uv run python benchmarks/archive_scale.py --reparse-only /tmp/scale --root ../before
``disk_written_per_article_kib``: bytes this process wrote to disk (``/proc/self/io``
``write_bytes``, after a final ``sync``) per article; ``stored_per_article_kib``: the
warehouse file, the WARC files and the search index per article at the end.

    uv run python benchmarks/archive_scale.py --articles 10000

Timings only, no assertions (machines are noisy); the README quotes the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from pipeline import steps
from sitecopy.generate import GeneratedArticle, make_articles, render_article
from transforms.parallel import ParsePool
from warehouse.db import connect
from warehouse.search import search, search_index_dir, update_search_index
from warehouse.session import WarehouseSession, warc_dir

ROOT = Path(__file__).resolve().parents[1]
QUERIES = (("lao cai", None), ("mu cang chai", None), ("che shan tuyet", "kinh-te"))
CHUNK = 250


def written_bytes() -> int:
    with open("/proc/self/io", encoding="ascii") as f:
        for line in f:
            if line.startswith("write_bytes"):
                return int(line.split()[1])
    return 0


def peak_rss_mib() -> float:
    """This process's peak resident memory (``VmHWM``: unlike ``ru_maxrss``, not
    inherited from the parent across ``exec``)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return 0.0


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def furniture(rng: random.Random, target: int) -> str:
    """Head furniture of a real page: tracking config, styles, an icon sprite."""
    words = ["menu", "banner", "footer", "header", "item", "icon", "slider", "ads", "zone"]
    parts = ["<script>window.__CONFIG__ = {"]
    size = 0

    def add(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)

    while size < target * 0.45:
        key = f"{rng.choice(words)}_{rng.randrange(10**6)}"
        add(f'"{key}": {{"id": {rng.randrange(10**9)}, "on": true, "w": {rng.random():.6f}}},')
    add("};</script><style>")
    while size < target * 0.8:
        name = f".{rng.choice(words)}-{rng.randrange(10**5)}"
        add(f"{name}{{margin:{rng.randrange(40)}px;color:#{rng.randrange(16**6):06x}}}")
    add('</style><svg style="display:none">')
    while size < target:
        d = " ".join(f"L{rng.randrange(999)} {rng.randrange(999)}" for _ in range(12))
        add(f'<symbol id="i{rng.randrange(10**6)}"><path d="M0 0 {d}Z"/></symbol>')
    add("</svg>")
    return "".join(parts)


def pages(n: int, seed: int = 7) -> Iterator[list[tuple[GeneratedArticle, str]]]:
    """The pages, ``CHUNK`` articles at a time (memory stays flat)."""
    rng = random.Random(seed)
    first_id = 910_000
    for start in range(0, n, CHUNK):
        batch = make_articles(min(CHUNK, n - start), seed=seed + start, first_id=first_id)
        first_id = batch[-1].article_id + 1
        rendered = []
        for i, article in enumerate(batch):
            html = render_article(article, related=batch[max(0, i - 6) : i])
            pad = furniture(rng, rng.randrange(50_000, 88_000))
            rendered.append((article, html.replace("</head>", pad + "</head>", 1)))
        yield rendered


def store(db: Path, n: int, batch: int) -> dict[str, float]:
    settings = Settings(db_path=str(db), batch_size=batch)
    wh = WarehouseSession(db, settings.site)
    pool = ParsePool(settings.parse_workers)
    wh.begin()
    run_id = str(uuid.uuid4())
    load_s = 0.0
    started = time.perf_counter()
    io_before = written_bytes()
    raw_bytes = 0
    real_load = steps.load_batch

    def timed_load(*args: object, **kwargs: object) -> object:
        nonlocal load_s
        t = time.perf_counter()
        try:
            return real_load(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            load_s += time.perf_counter() - t

    steps.load_batch = timed_load  # type: ignore[assignment]
    try:
        for chunk in pages(n):
            for k in range(0, len(chunk), batch):
                now = datetime.now(UTC)
                fetched = []
                for article, html in chunk[k : k + batch]:
                    url = article.url
                    body = html.encode("utf-8")
                    raw_bytes += len(body)
                    headers = {
                        "content-type": "text/html; charset=utf-8",
                        "etag": f'"{article.article_id}"',
                    }
                    fetched.append(
                        FetchedPage(
                            url,
                            url,
                            200,
                            now,
                            html,
                            headers,
                            body=body,
                            response_headers=tuple(headers.items()),
                        )
                    )
                result = steps.load_pages(settings, wh, pool, run_id, fetched)
                assert result.counts.failed == 0, result.failures[:3]
    finally:
        steps.load_batch = real_load  # type: ignore[assignment]
        pool.close()
        wh.close()
    os.sync()
    elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "load_s": load_s,
        "written": written_bytes() - io_before,
        "raw_bytes": raw_bytes,
    }


def time_searches(db: Path, repeat: int) -> list[float]:
    index = search_index_dir(db)
    times = []
    for _ in range(repeat):
        for text, category in QUERIES:
            t = time.perf_counter()
            hits = search(index, text, limit=20, category=category)
            times.append((time.perf_counter() - t) * 1000)
            assert hits or category, text
    return times


def time_index_update(db: Path) -> float:
    con = connect(db)
    try:
        ids = [
            (str(r[0]), int(r[1]))
            for r in con.execute(
                "SELECT site, article_id FROM articles USING SAMPLE 500 ROWS"
            ).fetchall()
        ]
        t = time.perf_counter()
        update_search_index(con, search_index_dir(db), ids)
        return time.perf_counter() - t
    finally:
        con.close()


REPARSE = """
import sys, time
sys.path.insert(0, {root!r})
from baolaocai.settings import Settings
from pipeline import steps
from pipeline.crawl import reparse_archive
loading = [0.0]
real = steps.load_batch
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return real(*args, **kwargs)
    finally:
        loading[0] += time.perf_counter() - t
steps.load_batch = timed
t = time.perf_counter()
if __name__ == "__main__":
    batch = {batch!r}
    options = {{"batch_size": batch}} if batch else {{}}
    summary = reparse_archive(Settings(db_path={db!r}), **options).summary
    peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    print(summary.status, loading[0], time.perf_counter() - t, int(peak) / 1024)
"""


def time_reparse(db: Path, batch: int = 0, root: Path = ROOT) -> tuple[float, float, float]:
    """(seconds, seconds in the loader, peak RSS MiB) of a reparse in a child process, with
    the code of ``root`` (another checkout: the same measure before a change), ``batch``
    pages per load (0: the reparse's default)."""
    code = REPARSE.format(root=str(root), db=str(db), batch=batch)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, loading, seconds, rss = out.stdout.split()[-4:]
    assert status == "completed", out.stdout + out.stderr
    return float(seconds), float(loading), float(rss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=25, help="pages per batch (a crawl's 25)")
    parser.add_argument("--repeat", type=int, default=20, help="rounds of the 3 searches")
    parser.add_argument("--keep", type=Path, help="build here (kept) instead of a temp folder")
    parser.add_argument("--no-reparse", action="store_true")
    parser.add_argument(
        "--reparse-batch", type=int, default=0, help="pages per reparse load (0: its default)"
    )
    parser.add_argument(
        "--reparse-only",
        type=Path,
        metavar="FOLDER",
        help="only time a reparse of a copy of FOLDER/scale.duckdb (kept by --keep)",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout whose reparse --reparse-only runs"
    )
    args = parser.parse_args()
    if args.reparse_only:
        reparse_only(args.reparse_only, args.reparse_batch, args.root)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="baolaocai-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "scale.duckdb"
    n = args.articles
    stored = store(db, n, args.batch)
    store_rss = peak_rss_mib()
    searches = sorted(time_searches(db, args.repeat))
    update_s = time_index_update(db)
    reparse_s, reparse_load_s, reparse_rss = (
        (0.0, 0.0, 0.0) if args.no_reparse else time_reparse(db, args.reparse_batch)
    )
    sizes = {
        "warehouse": folder_bytes(db)
        + (
            folder_bytes(db.with_suffix(".duckdb.wal"))
            if db.with_suffix(".duckdb.wal").exists()
            else 0
        ),
        "warc": folder_bytes(warc_dir(db)),
        "index": folder_bytes(search_index_dir(db)),
    }
    mib = 1024 * 1024
    fields = {
        "articles": n,
        "load_per_s": f"{n / stored['load_s']:.0f}",
        "pipeline_per_s": f"{n / stored['elapsed']:.0f}",
        "disk_written_per_article_kib": f"{stored['written'] / n / 1024:.1f}",
        "stored_per_article_kib": f"{sum(sizes.values()) / n / 1024:.1f}",
        "raw_page_kib": f"{stored['raw_bytes'] / n / 1024:.1f}",
        "warehouse_mib": f"{sizes['warehouse'] / mib:.0f}",
        "warc_mib": f"{sizes['warc'] / mib:.0f}",
        "index_mib": f"{sizes['index'] / mib:.0f}",
        "search_p50_ms": f"{statistics.median(searches):.1f}",
        "search_p95_ms": f"{searches[int(len(searches) * 0.95) - 1]:.1f}",
        "index_update_500_s": f"{update_s:.2f}",
        "reparse_s": f"{reparse_s:.0f}",
        "reparse_per_s": f"{n / reparse_s:.0f}" if reparse_s else "-",
        "reparse_load_per_s": f"{n / reparse_load_s:.0f}" if reparse_load_s else "-",
        "reparse_peak_rss_mib": f"{reparse_rss:.0f}",
        "store_peak_rss_mib": f"{store_rss:.0f}",
    }
    print("SCALE " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)
    if args.keep:
        print(f"(kept in {folder})")
    else:
        shutil.rmtree(folder)


def reparse_only(folder: Path, batch: int, root: Path) -> None:
    """Time a reparse of a copy of a kept benchmark warehouse (the copy is removed), with
    ``root``'s code: before and after a change, on the same pages and the same machine."""
    with tempfile.TemporaryDirectory(prefix="baolaocai-reparse-") as tmp:
        db = Path(tmp) / "scale.duckdb"
        shutil.copy(folder / "scale.duckdb", db)
        shutil.copytree(warc_dir(folder / "scale.duckdb"), warc_dir(db))
        con = connect(db, read_only=True)
        try:
            row = con.execute("SELECT count(*) FROM articles").fetchone()
            n = int(row[0]) if row else 0
        finally:
            con.close()
        seconds, loading, rss = time_reparse(db, batch, root)
    fields = {
        "root": root,
        "articles": n,
        "reparse_s": f"{seconds:.1f}",
        "reparse_per_s": f"{n / seconds:.0f}",
        "reparse_load_per_s": f"{n / loading:.0f}" if loading else "-",
        "reparse_peak_rss_mib": f"{rss:.0f}",
    }
    print("REPARSE " + " ".join(f"{k}={v}" for k, v in fields.items()), flush=True)


if __name__ == "__main__":
    main()
