"""First paint of every page kind of ``baolaocai web``, in chromium (issue #23's target:
≤ 300 ms on the demo's warehouse, ≤ 1 s at 100,000 articles).

Starts the real ``baolaocai web --db … --port <free>`` on 127.0.0.1 and loads each page
kind ``--loads`` times in Debian's chromium (Playwright, headless, a fresh browser
context per load: a first visit, nothing cached): home, search (a two-word query with
its snippets), article, versions, diff, the archived page's wrapper, its sandboxed
``/raw`` frame, browse (the index and one category) and removed; and, as the floor, a
one-line static page served by the standard library (what any page costs this browser on
this machine at that moment: ``floor_fcp_median_ms``). For each load it reads
the Performance API: ``first-contentful-paint`` (the first text or picture painted,
milliseconds from the start of the navigation) and ``responseStart - requestStart`` (the
server's time to the first byte of the answer: the queries and the template). Every
load must answer 200. Prints one line per page kind (median and max of both) and one
summary line::

    WEBPAINT warehouse=demo articles=22 loads=15 fcp_median_ms=… fcp_max_ms=…
      server_median_ms=… server_max_ms=… worst=<page>:<ms> target_ms=300 met=yes load=…
      <page>=<fcp median>/<fcp max> …

The warehouse:

* default: the demo's, made by ``baolaocai demo --db <temp>/demo.duckdb`` (its two passes:
  an edited article, a takedown);
* ``--db FILE``: a warehouse as it is (``baolaocai reindex --db FILE`` first when its search
  index is missing or behind);
* ``--articles N``: N generated articles stored through the real write path (WARC,
  parse, load, search index) by ``benchmarks/archive_scale.py``'s generator, then a
  second pass over a few of them as a recheck would find them (``--edits`` edited,
  ``--takedowns`` answering 404) so the versions, diff and removed pages have rows, then
  ``baolaocai reindex`` if the index is behind. ``--keep FOLDER`` keeps it, and reuses
  the one there (``FOLDER/scale.duckdb``, also what ``archive_scale.py --keep`` leaves).

Chromium: ``--chromium`` or ``BAOLAOCAI_CHROMIUM``, else ``chromium`` on ``PATH``.
Timings only, no assertions; the machine's load average is printed with them (a busy
machine paints later). The README quotes the figures::

    uv run python benchmarks/web_first_paint.py                        # the demo
    uv run python benchmarks/web_first_paint.py --articles 100000 --keep /tmp/web100k
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
BAOLAOCAI = str(Path(sys.executable).with_name("baolaocai"))
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    # No calls home: on a closed network their refused connections stall pages.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
VIEWPORT = {"width": 1280, "height": 800}
PAINT = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return {fcp: paint ? paint.startTime : null, server: nav.responseStart - nav.requestStart};
}"""
"""The first contentful paint (``null`` until there is one: the load event may come
first) and the server's part of the navigation, both in milliseconds. Synchronous: in
the sandboxed ``/raw`` page no timer or observer callback of ours would ever run."""


def paint_of(page: Any) -> dict[str, Any]:
    """:data:`PAINT`, asked again every 20 ms until the page has painted (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        result: dict[str, Any] = page.evaluate(PAINT)
        if result["fcp"] is not None or time.monotonic() > deadline:
            return result
        page.wait_for_timeout(20)


def child_env() -> dict[str, str]:
    """This environment without Prefect or baolaocai settings; Prefect's local server
    (``demo``) ends with the command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAOLAOCAI_", "PREFECT_"))}
    env["BAOLAOCAI_PREFECT_IDLE"] = "0"
    return env


def run(*args: str, cwd: Path) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [BAOLAOCAI, *args], cwd=cwd, env=child_env(), capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"baolaocai {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    print(f"# baolaocai {args[0]}: {time.perf_counter() - started:.0f} s", file=sys.stderr)


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from warehouse.db import connect

    con = connect(db, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# -- the warehouses ----------------------------------------------------------------------------


def index_is_current(db: Path) -> bool:
    from warehouse.db import connect
    from warehouse.search import index_info

    con = connect(db, read_only=True)
    try:
        info = index_info(con)
    finally:
        con.close()
    return info is not None and not info.stale


def ensure_index(db: Path) -> None:
    if not index_is_current(db):
        run("reindex", "--db", str(db), cwd=db.parent)


def build_generated(db: Path, n: int, batch: int, edits: int, takedowns: int) -> None:
    """``n`` generated articles through the real write path (archive_scale's), then a
    recheck of a few: ``edits`` come back edited, ``takedowns`` answer 404. A warehouse
    already there (``--keep``, or ``archive_scale.py --keep``) is reused as it is, and
    rechecked unless it has an edited article already."""
    from baolaocai.models import FetchedPage
    from baolaocai.settings import Settings
    from benchmarks.archive_scale import pages, store
    from pipeline import steps
    from sitecopy.generate import render_article
    from transforms.parallel import ParsePool
    from warehouse.session import WarehouseSession

    if not db.exists():
        started = time.perf_counter()
        store(db, n, batch)
        print(f"# stored {n} articles: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if rows(db, "SELECT 1 FROM articles WHERE version > 1 LIMIT 1"):
        return  # kept from an earlier run, rechecked already
    first = next(pages(n))  # the same articles, the same order (the generator is seeded)
    edited = [a for a, _ in first[:edits]]
    gone = [a for a, _ in first[edits : edits + takedowns]]
    settings = Settings(db_path=str(db))
    wh = WarehouseSession(db, settings.site)
    pool = ParsePool(1)
    wh.begin()
    try:
        now = datetime.now(UTC)
        recheck = [
            FetchedPage(
                a.url,
                a.url,
                200,
                now,
                html := render_article(a, revision=1),
                {"content-type": "text/html; charset=utf-8"},
                body=html.encode("utf-8"),
                response_headers=(("content-type", "text/html; charset=utf-8"),),
            )
            for a in edited
        ] + [FetchedPage(a.url, a.url, 404, now, None, error="HTTP 404") for a in gone]
        result = steps.load_pages(settings, wh, pool, str(uuid.uuid4()), recheck)
        print(f"# recheck: {result.counts}", file=sys.stderr)
    finally:
        pool.close()
        wh.close()


@dataclass(frozen=True)
class Warehouse:
    db: Path
    label: str


@contextmanager
def warehouse(args: argparse.Namespace) -> Iterator[Warehouse]:
    if args.db:
        db = Path(args.db).resolve()
        ensure_index(db)
        yield Warehouse(db, db.stem)
        return
    folder = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="webpaint-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if args.articles:
            db = folder / "scale.duckdb"  # archive_scale.py --keep's name: its folder works
            build_generated(db, args.articles, args.batch, args.edits, args.takedowns)
            label = "generated"
        else:
            db = folder / "demo.duckdb"
            if not db.exists():
                run("demo", "--db", str(db), cwd=folder)
            label = "demo"
        ensure_index(db)
        yield Warehouse(db, label)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def page_urls(db: Path, query: str) -> dict[str, str]:
    """One address per page kind, of rows the warehouse has (an edited article for the
    diff, the category with most articles for browse)."""

    def one(sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
        found = rows(db, sql, params)
        return found[0] if found else None

    latest = one(
        "SELECT site, article_id FROM articles WHERE removed_at IS NULL"
        " AND EXISTS (SELECT 1 FROM captures c WHERE c.site = articles.site"
        "  AND c.article_id = articles.article_id AND c.status = 200)"
        " ORDER BY published_at DESC LIMIT 1"
    )
    edited = one(
        "SELECT site, article_id, version FROM articles WHERE version > 1"
        " ORDER BY article_id LIMIT 1"
    )
    category = one(
        "SELECT category FROM articles WHERE category IS NOT NULL"
        " GROUP BY category ORDER BY count(*) DESC LIMIT 1"
    )
    assert latest, "no article with a capture in this warehouse"
    article = f"/a/{latest[0]}/{latest[1]}"
    urls = {
        "home": "/",
        "search": f"/search?q={quote(query)}",
        "article": article,
        "archived": f"{article}/page",
        "raw": f"{article}/raw",
        "browse": "/browse",
        "removed": "/removed",
    }
    if category:
        urls["browse-category"] = f"/browse/category/{quote(str(category[0]))}"
    if edited:
        base = f"/a/{edited[0]}/{edited[1]}"
        urls["versions"] = f"{base}/versions"
        urls["diff"] = f"{base}/diff?from=1&to={edited[2]}"
    else:
        print("# no edited article: no versions/diff pages measured", file=sys.stderr)
    return urls


# -- the server and the browser ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def web(db: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [BAOLAOCAI, "web", "--db", str(db), "--port", str(port)],
        cwd=db.parent,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                sys.exit(f"baolaocai web exited {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/static/style.css")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("baolaocai web did not answer within 120 s")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


FLOOR_PAGE = (
    b'<!doctype html><html lang="vi"><title>s\xc3\xa0n</title><p>Xin ch\xc3\xa0o</p></html>'
)


@contextmanager
def floor_server() -> Iterator[str]:
    """A one-line page served by the standard library: the paint of a page that costs
    nothing to make or draw, this machine's and this browser's floor at this moment."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Floor(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(FLOOR_PAGE)))
            self.end_headers()
            self.wfile.write(FLOOR_PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Floor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def chromium(chosen: str | None) -> str:
    found = chosen or os.environ.get("BAOLAOCAI_CHROMIUM") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    if not found:
        sys.exit("no chromium: apt-get install chromium, or --chromium PATH")
    return found


def measure(
    base: str, urls: dict[str, str], loads: int, executable: str
) -> dict[str, tuple[list[float], list[float]]]:
    """Per page kind: (first contentful paints, server times), ``loads`` of each, the
    kinds interleaved (a slow moment of the machine hits every kind alike)."""
    from playwright.sync_api import sync_playwright

    figures: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in urls}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for round_ in range(loads + 1):  # round 0 warms the server and the page cache
                for kind, path in urls.items():
                    context = browser.new_context(viewport=VIEWPORT, locale="vi-VN")
                    try:
                        page = context.new_page()
                        url = path if path.startswith("http") else base + path
                        response = page.goto(url, wait_until="load")
                        status = response.status if response else 0
                        if status != 200:
                            sys.exit(f"{kind} {path}: HTTP {status}")
                        result = paint_of(page)
                    finally:
                        context.close()
                    if result["fcp"] is None:
                        sys.exit(f"{kind} {path}: no first-contentful-paint entry")
                    if not round_:
                        print(f"# warm: {kind} {result['fcp']:.0f} ms", file=sys.stderr)
                    else:
                        figures[kind][0].append(float(result["fcp"]))
                        figures[kind][1].append(float(result["server"]))
        finally:
            browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", help="measure this warehouse as it is")
    parser.add_argument("--articles", type=int, default=0, help="generate N articles")
    parser.add_argument("--keep", help="build the warehouse here and keep it (reused)")
    parser.add_argument("--batch", type=int, default=500, help="pages per stored batch")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--takedowns", type=int, default=5)
    parser.add_argument("--loads", type=int, default=15, help="loads of each page kind")
    parser.add_argument("--query", default="lào cai", help="the search page's query")
    parser.add_argument("--chromium", help="the chromium executable")
    args = parser.parse_args()
    # Stopped (timeout, kill): still stop the server and the browser on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))
    executable = chromium(args.chromium)
    with warehouse(args) as wh:
        ((articles,),) = rows(wh.db, "SELECT count(*) FROM articles")
        urls = page_urls(wh.db, args.query)
        with web(wh.db) as base, floor_server() as floor:
            figures = measure(base, {**urls, "floor": floor}, args.loads, executable)
    floor_figures = figures.pop("floor")
    target = 300.0 if articles <= 1000 else 1000.0
    summary: list[str] = []
    for kind, (paints, servers) in figures.items():
        print(
            f"{kind:16} fcp median {statistics.median(paints):6.0f} ms  max {max(paints):6.0f} ms"
            f"   server median {statistics.median(servers):6.1f} ms  max {max(servers):6.1f} ms"
            f"   {urls[kind]}"
        )
        summary.append(f"{kind}={statistics.median(paints):.0f}/{max(paints):.0f}")
    paints = [p for fcp, _ in figures.values() for p in fcp]
    servers = [s for _, server in figures.values() for s in server]
    worst = max(figures, key=lambda k: statistics.median(figures[k][0]))
    medians_met = all(statistics.median(f) <= target for f, _ in figures.values())
    fields = {
        "warehouse": wh.label,
        "articles": articles,
        "loads": args.loads,
        "fcp_median_ms": f"{statistics.median(paints):.0f}",
        "fcp_max_ms": f"{max(paints):.0f}",
        "server_median_ms": f"{statistics.median(servers):.1f}",
        "server_max_ms": f"{max(servers):.1f}",
        "worst": f"{worst}:{statistics.median(figures[worst][0]):.0f}",
        "target_ms": f"{target:.0f}",
        "met": "yes" if medians_met else "no",
        "max_met": "yes" if max(paints) <= target else "no",
        "load": f"{os.getloadavg()[0]:.1f}",
    }
    fields["floor_fcp_median_ms"] = f"{statistics.median(floor_figures[0]):.0f}"
    print(
        f"{'(floor)':16} fcp median {statistics.median(floor_figures[0]):6.0f} ms"
        f"  max {max(floor_figures[0]):6.0f} ms   a one-line static page, same browser, same moment"
    )
    line = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"WEBPAINT {line} " + " ".join(summary), flush=True)


if __name__ == "__main__":
    main()
