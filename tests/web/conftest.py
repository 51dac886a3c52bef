"""The browser tests' furniture: Debian's chromium driven by Playwright, the real
``baolaocai demo`` warehouse, and the real ``baolaocai web`` serving it on 127.0.0.1.

- **Which chromium.** ``BAOLAOCAI_CHROMIUM`` (a path), else ``chromium`` or
  ``chromium-browser`` on ``PATH``. Never Playwright's own download (``playwright
  install`` needs the internet). None found: the tests are skipped with the reason, except
  when ``CI`` is set: a browser test that skips in CI proves nothing, so there it fails.
- **Screenshots.** Every test saves full-page screenshots (1280x800 viewport) to
  ``BAOLAOCAI_SCREENSHOTS`` (``docs/screenshots`` regenerates the README's), else to a
  pytest temporary folder.
- **One demo warehouse per run.** ``baolaocai demo`` takes most of a minute (a Prefect
  server, a crawl of the bundled copy); it runs once, whichever pytest-xdist worker gets
  there first builds it under a file lock, the others wait for it.
- **The server is the user's.** ``baolaocai web --db … --port …`` as a separate process;
  stopped with SIGTERM at the end, it must exit 0 with no traceback and no error line on
  its stderr (an error line is what the app prints for a 500).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from support import BAOLAOCAI, clean_env, run_cli

from sitecopy import SITE_DIR, serve_site

CHROMIUM_ARGS = (
    "--no-sandbox",  # root in a container: chromium's own sandbox cannot start
    "--disable-gpu",
    # No calls home (updates, sync, safe browsing lists): on a closed network chromium's
    # refused connections otherwise pile up and pages stall.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
VIEWPORT = {"width": 1280, "height": 800}
MAX_SHOT_HEIGHT = 2400
"""Full-page screenshots are cut at this height: the README needs the top of a page, and
PNGs of a whole long article weigh megabytes."""

HOSTILE_ID = 907925
"""The article of the bundled copy whose archived page the hostile warehouse spikes with
scripts (Mù Cang Chải rực rỡ mùa vàng…)."""
HOSTILE_MARK = "__archivedScriptRan"
"""The ``window`` property each hostile script sets, and the path fragment of the beacon
requests they send: present anywhere after the archived page is shown, a script ran."""
HOSTILE_HTML = f"""
<script>window.{HOSTILE_MARK} = "head"; document.title = "SCRIPT RAN";
fetch("/{HOSTILE_MARK}?from=head").catch(function () {{}});</script>
<script src="/{HOSTILE_MARK}.js"></script>
<meta http-equiv="refresh" content="0; url=/{HOSTILE_MARK}?from=refresh">
"""
HOSTILE_BODY = f"""
<div id="hostile-furniture">
<img src="/{HOSTILE_MARK}-missing.png" onerror="window.{HOSTILE_MARK} = 'onerror';
new Image().src = '/{HOSTILE_MARK}?from=onerror'" alt="">
<svg onload="window.{HOSTILE_MARK} = 'svg'"><circle r="1"/></svg>
<a id="hostile-link" href="javascript:window.{HOSTILE_MARK} = 'link'">Xem thêm</a>
<iframe srcdoc="&lt;script&gt;parent.{HOSTILE_MARK} = 'srcdoc'&lt;/script&gt;"></iframe>
<object data="/{HOSTILE_MARK}.swf"></object>
</div>
"""
"""A page as a hostile (or merely ad-laden) site serves it: scripts in every form a
browser runs (inline, external, event attributes, ``javascript:`` links, a refresh to a
beacon, a scripted ``srcdoc`` frame, a plug-in). Injected into the bundled copy's page
of :data:`HOSTILE_ID`, outside the article's own markup, so the article still parses."""


def chromium_executable() -> str | None:
    """The chromium to drive: ``BAOLAOCAI_CHROMIUM``, else the one on ``PATH``."""
    chosen = os.environ.get("BAOLAOCAI_CHROMIUM")
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            pytest.fail(f"BAOLAOCAI_CHROMIUM={chosen} is not an executable file")
        return chosen
    return shutil.which("chromium") or shutil.which("chromium-browser")


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every pytest-xdist worker of this run sees (each has its own basetemp)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows from the warehouse, read-only, the connection closed at once (the server
    reads the same file meanwhile)."""
    from warehouse.db import connect

    con = connect(db, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# -- the warehouses ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse the quick start makes: ``baolaocai demo --db <tmp>/demo.duckdb``,
    run once per test run as a user runs it."""
    root = shared_root(tmp_path_factory)
    folder = root / "web-demo"
    db = folder / "demo.duckdb"
    with FileLock(str(root / "web-demo.lock")):
        if not (folder / "built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done = run_cli("demo", "--db", str(db), cwd=folder, timeout=600)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            assert "Traceback" not in done.stderr, done.stderr
            (folder / "built").write_text(datetime.now(UTC).isoformat(), encoding="utf-8")
    return db


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse crawled (the real pipeline, in this process) from a copy of the bundled
    site in which the page of :data:`HOSTILE_ID` carries :data:`HOSTILE_HTML` and
    :data:`HOSTILE_BODY`: the archived page holds every script a hostile page can."""
    from baolaocai.settings import Settings
    from pipeline.crawl import crawl_site

    folder = tmp_path_factory.mktemp("web-hostile")
    site = folder / "site"
    shutil.copytree(SITE_DIR, site)
    (page,) = site.glob(f"*-post{HOSTILE_ID}.html")
    html = page.read_text(encoding="utf-8")
    assert "</head>" in html and "<body" in html
    html = html.replace("</head>", HOSTILE_HTML + "</head>", 1)
    body_at = html.index(">", html.index("<body")) + 1
    page.write_text(html[:body_at] + HOSTILE_BODY + html[body_at:], encoding="utf-8")
    db = folder / "hostile.duckdb"
    with serve_site(site) as served:
        settings = Settings(base_url=served.url, db_path=str(db), rate=200.0, concurrency=4)
        summary = crawl_site(settings).summary
    assert summary.status == "completed", summary
    stored = query(db, "SELECT count(*) FROM articles WHERE article_id = ?", [HOSTILE_ID])
    assert stored == [(1,)], "the spiked page must still parse as its article"
    # The archive holds the page as served, every script in it.
    from warehouse.db import connect
    from warehouse.reader import archived_page
    from warehouse.session import warc_dir

    con = connect(db, read_only=True)
    try:
        body = archived_page(con, warc_dir(db), "baolaocai", HOSTILE_ID).body
    finally:
        con.close()
    assert f"window.{HOSTILE_MARK} = " in body.decode("utf-8")
    assert "onerror=" in body.decode("utf-8")
    return db


# -- the server --------------------------------------------------------------------------------


@dataclass
class WebServer:
    """``baolaocai web`` running on 127.0.0.1:``port``, its output gathered as it comes."""

    db: Path
    port: int
    proc: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of the warehouse it serves (:func:`query`)."""
        return query(self.db, sql, params)

    def raw_get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
        """``path`` requested as written (a browser or Playwright's request API would
        resolve ``..`` before sending it): status, headers (lower-case names), body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path)
            answer = conn.getresponse()
            body = answer.read().decode("utf-8", "replace")
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, body
        finally:
            conn.close()


def _gather(stream: Any, into: list[str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def running_web(db: Path, cwd: Path) -> Iterator[WebServer]:
    """``baolaocai web --db DB --port <free>`` until the block ends, then SIGTERM: it
    must stop by itself with exit status 0 and nothing wrong on stderr."""
    port = free_port()
    proc = subprocess.Popen(
        [BAOLAOCAI, "web", "--db", str(db), "--port", str(port)],
        cwd=cwd,
        env=clean_env(cwd / ".prefect-home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    server = WebServer(db, port, proc)
    readers = [_gather(proc.stdout, server.stdout), _gather(proc.stderr, server.stderr)]
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"web exited {proc.returncode}: {server.stderr}"
            assert time.monotonic() < deadline, "web did not answer within 120 s"
            try:
                server.raw_get("/static/style.css")
                break
            except OSError:
                time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"web did not stop within 60 s of SIGTERM: {server.stderr}")
        for reader in readers:
            reader.join(timeout=10)
    errors = "".join(server.stderr)
    assert code == 0, f"web exited {code}: {errors}"
    assert "Traceback" not in errors, errors
    assert not [line for line in server.stderr if line.startswith("error:")], errors


@pytest.fixture(scope="session")
def demo_web(demo_db: Path) -> Iterator[WebServer]:
    with running_web(demo_db, demo_db.parent) as server:
        yield server


@dataclass(frozen=True)
class Hostile:
    """What the hostile warehouse's spiked page is (for the tests' checks)."""

    article_id: int = HOSTILE_ID
    mark: str = HOSTILE_MARK
    head_html: str = HOSTILE_HTML


@pytest.fixture(scope="session")
def hostile() -> Hostile:
    return Hostile()


@pytest.fixture(scope="session")
def hostile_web(hostile_db: Path) -> Iterator[WebServer]:
    with running_web(hostile_db, hostile_db.parent) as server:
        yield server


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, launched once per worker."""
    executable = chromium_executable()
    if executable is None:
        reason = (
            "no chromium: install Debian's (apt-get install chromium) or set"
            " BAOLAOCAI_CHROMIUM to a chromium executable"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the browser tests, not skip them")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("BAOLAOCAI_SCREENSHOTS")
    folder = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Tab:
    """One test's page in a fresh browser context (an empty profile), with what the
    page reported: console messages, uncaught errors, every request it made."""

    page: Any
    folder: Path
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def snap(self, name: str) -> Path:
        """A screenshot of the page as it is now, ``<folder>/<name>.png``: the whole page
        down to :data:`MAX_SHOT_HEIGHT` pixels."""
        height = min(
            int(self.page.evaluate("document.documentElement.scrollHeight")), MAX_SHOT_HEIGHT
        )
        path = self.folder / f"{name}.png"
        self.page.screenshot(
            path=str(path),
            full_page=True,
            clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": max(height, 1)},
        )
        return path

    def goto(self, url: str) -> Any:
        """Open ``url`` and wait for its load event; the response (status, headers)."""
        response = self.page.goto(url, wait_until="load")
        assert response is not None, url
        return response


@pytest.fixture
def tab(browser: Any, screenshots: Path) -> Iterator[Tab]:
    """A page in a new browser context: nothing carried over from another test (cookies,
    cache, storage), JavaScript on (our own pages may use some; the archived page's
    sandbox must hold with it on), Vietnamese locale and Vietnam's time zone."""
    context = browser.new_context(
        viewport=VIEWPORT,
        java_script_enabled=True,
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    opened = Tab(page, screenshots)
    page.on("console", lambda m: opened.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    context.on("request", lambda r: opened.requests.append(r.url))
    try:
        yield opened
    finally:
        context.close()
    # Our own pages never throw (the archived page's scripts never get the chance).
    assert not opened.errors, opened.errors
