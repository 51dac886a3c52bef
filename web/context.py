"""What every page of the web view shares: configuration, connections, templates."""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.errors import WarehouseError

VIETNAM = ZoneInfo(VIETNAM_TIME_ZONE)
TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")

QUERY_TIMEOUT_S = 10.0
"""How long one page's queries may run before they are interrupted (a 503 page)."""
LOCK_WAIT_S = 5.0
"""How long a request waits for a writer's batch to let go of the warehouse file."""
PAGE_SIZE = 20
"""Rows per page of a list (search results, browse, removed)."""
WRITER_PAUSE_S = 0.05
"""How often a page waiting for a writer to get the file looks again."""
MAX_QUERY_CHARS = 500
"""The longest search text a page accepts (longer: a 414 page, before any work)."""


class QueryTimeout(WarehouseError):
    """A page's queries ran longer than :data:`QUERY_TIMEOUT_S` and were interrupted."""


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What ``baolaocai web`` was started on."""

    db_path: Path | str
    """The warehouse file, or a lake's spec (:mod:`warehouse.lake`: never made a Path)."""
    index_dir: Path
    warc_dir: Path
    site: str | None = None
    """The site whose rows the pages show by default (``None``: every site stored)."""
    variants: tuple[tuple[str, ...], ...] | None = None
    """Spelling variants for search; ``None``: those of the bundled site files of the
    sites in the index, as ``baolaocai search`` uses, looked up again when the index
    changes (:meth:`Web.variants`)."""
    query_timeout_s: float = QUERY_TIMEOUT_S
    lock_wait_s: float = LOCK_WAIT_S
    page_size: int = PAGE_SIZE
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]", "::1")

    @property
    def is_lake(self) -> bool:
        from warehouse.lake import is_lake

        return is_lake(self.db_path)

    @property
    def shown_path(self) -> str:
        """The warehouse as a page may name it: a lake's spec without its password."""
        if self.is_lake:
            from warehouse.lake import LakeSpec

            return LakeSpec.parse(str(self.db_path)).shown
        return str(self.db_path)

    @property
    def label(self) -> str:
        """The warehouse in the footer: the file's name; a lake's catalog database."""
        if not self.is_lake:
            return Path(self.db_path).name
        from warehouse.lake import LakeSpec

        database = LakeSpec.parse(str(self.db_path)).database
        return f"DuckLake {database}" if database else "DuckLake"


@dataclass(slots=True)
class Web:
    """The app's state (``request.app.state.web``): its configuration and templates."""

    config: WebConfig
    templates: Environment = field(init=False)
    _open: set[duckdb.DuckDBPyConnection] = field(init=False, default_factory=set)
    """The connections of the pages being built (:meth:`interrupt_all`)."""
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _variants: tuple[int, tuple[tuple[str, ...], ...]] | None = field(init=False, default=None)
    _building: int = field(init=False, default=0)
    _idle: threading.Condition = field(init=False, default_factory=threading.Condition)
    _lake: duckdb.DuckDBPyConnection | None = field(init=False, default=None)
    """A lake's connection, opened once and shared by every request (:meth:`reading`)."""
    _lake_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.templates = make_templates()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection for one request, closed at its end; its queries are
        interrupted after ``query_timeout_s`` (:class:`QueryTimeout`).

        On a lake, a cursor of one connection kept for the app's life (:meth:`_lake_cursor`)."""
        from warehouse.db import connect

        if self.config.is_lake:
            con = self._lake_cursor()
        else:
            self._let_writers_in()
            con = connect(self.config.db_path, read_only=True, lock_timeout=self.config.lock_wait_s)
        with self._lock:
            self._open.add(con)
        timer = threading.Timer(self.config.query_timeout_s, con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            yield con
        except duckdb.InterruptException:
            raise QueryTimeout(
                f"the query took longer than {self.config.query_timeout_s:g} s and was stopped"
            ) from None
        finally:
            timer.cancel()
            with self._lock:
                self._open.discard(con)
            con.close()

    def _lake_cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one request on a lake: a cursor of the app's lake
        connection. Opening a lake (two extensions loaded, the catalog attached) takes
        most of a second, a cursor a few milliseconds; nothing is lost by keeping it open,
        as a lake's readers never stand in a writer's way. Each query still reads the
        lake's newest snapshot, and each request can be interrupted alone."""
        from warehouse.db import connect, held_cursor

        with self._lake_lock:  # the first requests wait for one connection, not open many
            if self._lake is None:
                self._lake = connect(self.config.db_path, read_only=True)
            base = self._lake
        # The lake is attached as ``warehouse``, as the held file is. A restart of the
        # catalog's server is no reason to open it again: DuckDB reconnects by itself.
        return held_cursor(base)

    def close(self) -> None:
        """Close the lake's shared connection (the command is stopping)."""
        with self._lake_lock:
            con, self._lake = self._lake, None
        if con is not None:
            con.close()

    def _let_writers_in(self) -> None:
        """Wait while another process waits for the warehouse file (a crawl, a reindex:
        readers never wait for readers), at most ``lock_wait_s``. A view under a burst
        of requests opens the file back to back; without this pause a writer that needs
        every connection closed at once could wait in vain (a review saw a crawl fail)."""
        from warehouse.db import readers_waiting

        deadline = time.monotonic() + self.config.lock_wait_s
        while readers_waiting(self.config.db_path) and time.monotonic() < deadline:
            time.sleep(WRITER_PAUSE_S)

    @contextmanager
    def building(self) -> Iterator[None]:
        """Count a page as under way while its body runs (:meth:`wait_idle`)."""
        with self._idle:
            self._building += 1
        try:
            yield
        finally:
            with self._idle:
                self._building -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until no page is being built; whether none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._building == 0, timeout)

    def variants(self) -> tuple[tuple[str, ...], ...]:
        """The spelling variants a search uses (:attr:`WebConfig.variants`); when taken
        from the index's sites, found again once the index has changed (a ``reindex``
        while the view runs, a first index built after it started)."""
        if self.config.variants is not None:
            return self.config.variants
        from baolaocai.site import bundled_variants
        from warehouse.search import CURRENT_FILE, indexed_sites

        try:
            stamp = (self.config.index_dir / CURRENT_FILE).stat().st_mtime_ns
        except OSError:
            return ()
        with self._lock:
            if self._variants is not None and self._variants[0] == stamp:
                return self._variants[1]
        try:
            found = bundled_variants(indexed_sites(self.config.index_dir))
        except WarehouseError:
            return ()
        with self._lock:
            self._variants = (stamp, found)
        return found

    def interrupt_all(self) -> None:
        """Interrupt the queries of every page being built (the command is stopping)."""
        with self._lock:
            for con in list(self._open):
                con.interrupt()

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """The template ``name`` filled with ``context`` (plus ``request``, ``config`` and
        ``nav``, the current section for the menu) as an HTML response."""
        context.setdefault("nav", "")
        html = self.templates.get_template(name).render(
            request=request, config=self.config, **context
        )
        return HTMLResponse(html, status_code=status_code)


def web_of(request: Request) -> Web:
    """The :class:`Web` of the app serving ``request``."""
    web = request.app.state.web
    assert isinstance(web, Web)
    return web


# ------------------------------------------------------------------ formatting (filters)


def vn_datetime(value: datetime | None) -> str:
    """``06/12/2026 09:10`` in Vietnam time (how Vietnamese papers print it); ``''`` for
    none. A naive value is taken as UTC (DuckDB returns TIMESTAMPTZ aware)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vn_seconds(value: datetime | None) -> str:
    """``07/12/2026 04:21:19``: a capture's time in Vietnam time, to the second (two
    captures of one minute must not look the same)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


DAY_ONLY_NOTE = "trang chỉ ghi ngày, không ghi giờ (the page gives only the day)"


def vn_published(value: datetime | None) -> Markup:
    """A page's own date (``published_at``, ``modified_at``) as a ``<time>`` element. A
    page that gives only the day (the legacy layout: "Thứ Bảy, 26/8/2023") is stored at
    00:00:00 Vietnam time: that is shown as the day alone with a note (:data:`DAY_ONLY_NOTE`
    as its ``title``), never as a made-up "00:00"; any other time as
    ``26/08/2023 09:10``. ``''`` for none."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    local = value.astimezone(VIETNAM)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return Markup('<time datetime="{}" title="{}">{}</time>').format(
            local.date().isoformat(), DAY_ONLY_NOTE, local.strftime("%d/%m/%Y")
        )
    return Markup('<time datetime="{}">{}</time>').format(
        local.isoformat(timespec="seconds"), local.strftime("%d/%m/%Y %H:%M")
    )


def vn_date(value: date | datetime | None) -> str:
    """``06/12/2026``: the day in Vietnam time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        value = value.astimezone(VIETNAM).date()
    return value.strftime("%d/%m/%Y")


def iso_time(value: datetime | None) -> str:
    """ISO 8601 with the +07:00 offset (for ``<time datetime=…>``)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(VIETNAM).isoformat(timespec="seconds")


def vn_number(value: int | float | None) -> str:
    """``123.456``: Vietnamese groups thousands with a dot."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return f"{int(value):,}".replace(",", ".")


def nfc(value: Any) -> str:
    return unicodedata.normalize("NFC", "" if value is None else str(value))


def make_templates() -> Environment:
    """The Jinja2 environment: autoescaped HTML, the filters above, strict undefined."""
    from jinja2 import StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        vn_datetime=vn_datetime, vn_date=vn_date, iso_time=iso_time, vn_number=vn_number, nfc=nfc
    )
    env.filters.update(vn_published=vn_published, vn_seconds=vn_seconds)
    return env
