"""A static HTTP server for a copy of the site, on 127.0.0.1 only.

URL path -> file: ``/`` -> ``index.html``; ``/thoi-su/`` -> ``thoi-su/index.html``;
``/x.html`` -> ``x.html``; any other path -> the file of that name (``/chuyen-trang/x.htm``,
``/chuyen-trang/x/trang-2.htm``, ``/sitemap/bai-viet-2025-01.xml``). Query strings are ignored (tracking parameters reach the same
page, as on the real site). Every request is logged with its time, so tests can assert
what the crawler *did* (how many requests, how fast, which paths), not what it says.
"""

from __future__ import annotations

import email.utils
import gzip as gzip_module
import hashlib
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from sitecopy.overlay import Overlay

SITE_DIR = Path(__file__).with_name("site")
"""The hand-written copy of baolaocai.vn."""
SITES_DIR = Path(__file__).with_name("sites")
"""Generated copies of other papers, one folder per site key (``sites/nuimay``)."""
DEFAULT_COPY = "baolaocai"
_COPY_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def bundled_copies() -> list[str]:
    """The site keys that have a bundled offline copy, sorted."""
    others = (p.name for p in SITES_DIR.iterdir() if (p / "index.html").is_file())
    return sorted({DEFAULT_COPY, *others})


def copy_dir(site_key: str) -> Path:
    """The bundled offline copy of a site: ``baolaocai`` -> ``sitecopy/site`` (written by
    hand), any other key -> ``sitecopy/sites/<key>`` (generated, see
    :mod:`sitecopy.generate`). A key without a copy is a :class:`LookupError` naming the
    bundled ones."""
    if site_key == DEFAULT_COPY:
        return SITE_DIR
    root = SITES_DIR / site_key
    if not _COPY_KEY_RE.match(site_key) or not (root / "index.html").is_file():
        known = ", ".join(bundled_copies())
        raise LookupError(f"no bundled copy of site {site_key!r} (bundled: {known})")
    return root


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (or a reset we caused on purpose) is not news."""


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    started: float
    finished: float
    status: int
    user_agent: str
    headers: dict[str, str]
    response_headers: dict[str, str] = field(default_factory=dict)
    """The headers the server answered with (``ETag``, ``Last-Modified`` …), as sent."""


Override = Callable[[BaseHTTPRequestHandler, "SiteServer"], bool]
"""A hook that may answer a request itself (return True) — the tests' fault injection."""


class SiteServer:
    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        gzip: bool = False,
        changes: Overlay | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the site copy is served on loopback only")
        self.root = root.resolve()
        self.gzip = gzip
        self.changes = changes
        """The copy's later state served over it (:mod:`sitecopy.overlay`); settable
        between two crawls, as the demo does: the same site, a few days later."""
        self._requests: list[RequestRecord] = []
        self.override: Override | None = None
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "baolaocai-sitecopy/1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                server._serve(self)

            def do_HEAD(self) -> None:
                server._serve(self)

        self._httpd = _QuietServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._stopped = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, daemon=True, name="sitecopy-server"
        )

    @property
    def requests(self) -> list[RequestRecord]:
        """The request log, read once no request is being answered (the last record is
        appended after its response is sent, so a client can finish before it lands)."""
        deadline = time.monotonic() + 5
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.005)
        return self._requests

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def resolve(self, path: str) -> Path | None:
        rel = unquote(urlsplit(path).path).lstrip("/")
        candidate = (self.root / rel).resolve()
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        status = 500
        # A kept-alive connection's handler answers many requests: forget the last one's.
        handler._headers_sent = {}  # type: ignore[attr-defined]
        try:
            if self.override is not None and self.override(handler, self):
                status = getattr(handler, "_status_sent", 200)
                return
            status = self._answer(handler)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._requests.append(
                    RequestRecord(
                        handler.command,
                        handler.path,
                        started,
                        time.monotonic(),
                        status,
                        handler.headers.get("User-Agent", ""),
                        dict(handler.headers.items()),
                        dict(getattr(handler, "_headers_sent", {})),
                    )
                )

    def _answer(self, handler: BaseHTTPRequestHandler) -> int:
        """The file of the request's path, or its changed bytes or a 404 when the
        overlay (:attr:`changes`) says the site changed it or took it down."""
        file = self.resolve(handler.path)
        overlay = self.changes
        if file is None or overlay is None:
            return self.send_file(handler, file)
        changed = overlay.lookup(file.relative_to(self.root).as_posix())
        if changed is None:
            return self.send_file(handler, None)
        if changed is False:
            return self.send_file(handler, file)
        mtime = email.utils.formatdate(overlay.changes.last_modified.timestamp(), usegmt=True)
        return self.send_body(handler, changed, file.suffix, mtime)

    def send_file(
        self,
        handler: BaseHTTPRequestHandler,
        file: Path | None,
        validators: dict[str, str] | None = None,
    ) -> int:
        """Answer with ``file`` (404 when ``None``), honouring a conditional request.

        Its validators are an ``ETag`` from the content and the file's mtime as
        ``Last-Modified``, unless ``validators`` (both keys) are given: a fault may serve
        the same body under validators of its own (see :func:`sitecopy.faults.churn`)."""
        if file is None:
            body = b"<html><body><h1>404</h1></body></html>"
            send(handler, 404, body, "text/html; charset=utf-8")
            return 404
        body = file.read_bytes()
        if validators is None:
            mtime = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
            return self.send_body(handler, body, file.suffix, mtime, name=file.name)
        return self.send_body(handler, body, file.suffix, "", validators, name=file.name)

    def send_body(
        self,
        handler: BaseHTTPRequestHandler,
        body: bytes,
        suffix: str,
        mtime: str,
        validators: dict[str, str] | None = None,
        *,
        name: str = "",
    ) -> int:
        """Answer 200 with ``body`` (a file's bytes, ``suffix`` its type), or 304 when
        the request's validators match: an ``ETag`` from the content and ``mtime`` as
        ``Last-Modified``, unless ``validators`` (both keys) are given."""
        if validators is None:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            validators = {"ETag": etag, "Last-Modified": mtime}
        else:
            validators = dict(validators)
            etag, mtime = validators["ETag"], validators["Last-Modified"]
        if handler.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in handler.headers
            and handler.headers.get("If-Modified-Since") == mtime
        ):
            send(handler, 304, b"", None, validators)
            return 304
        ctype = (
            CONTENT_TYPES.get(suffix)
            or mimetypes.guess_type(name or f"x{suffix}")[0]
            or "application/octet-stream"
        )
        if self.gzip and "gzip" in handler.headers.get("Accept-Encoding", ""):
            body = gzip_module.compress(body)
            validators["Content-Encoding"] = "gzip"
        send(handler, 200, body, ctype, validators)
        return 200


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD" and status != 304:
        handler.wfile.write(body)
    handler._status_sent = status  # type: ignore[attr-defined]
    handler._headers_sent = dict(headers or {})  # type: ignore[attr-defined]


@contextmanager
def serve_site(
    root: Path = SITE_DIR, port: int = 0, *, gzip: bool = False, changes: Overlay | None = None
) -> Iterator[SiteServer]:
    """Serve ``root`` on 127.0.0.1 (a free port by default) for the ``with`` block;
    with ``changes``, its later state (:mod:`sitecopy.overlay`)."""
    server = SiteServer(root, port=port, gzip=gzip, changes=changes).start()
    try:
        yield server
    finally:
        server.stop()
