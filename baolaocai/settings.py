"""Every setting in one place.

Precedence, lowest first: the defaults below < environment variables ``BAOLAOCAI_*`` <
CLI flags / flow parameters. :func:`load_settings` applies the first two;
:meth:`Settings.override` applies the last.

Each setting is declared once, as a field of :class:`Settings` with its default, help,
check and flag; the environment variables, the checks and the README's table
(:func:`settings_table`, kept equal by a test) all come from those declarations.

Caps reached (sections, listing pages, the discovery deadline) do not fail a run: discovery
keeps what it found and says which cap it hit (``Discovery.capped``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from baolaocai import __version__
from baolaocai.errors import ConfigError
from baolaocai.site import Site, default_site, load_site

DEFAULT_CONTACT = "https://github.com/baolaocai-archive/baolaocai"
ENV_PREFIX = "BAOLAOCAI_"
MiB = 1024 * 1024


def default_user_agent(contact: str = DEFAULT_CONTACT) -> str:
    return f"baolaocai-archiver/{__version__} (+{contact})"


Check = Callable[[Any], bool]


def _setting(
    default: Any,
    help: str,
    *,
    check: Check | None = None,
    rule: str = "",
    flag: str = "",
    shown: str = "",
    env: bool = True,
    factory: Callable[[], Any] | None = None,
) -> Any:
    """One setting, declared once: its default (the field's, or made by ``factory``), its
    help, its check (with the rule it states), its CLI flag and whether
    ``BAOLAOCAI_<NAME>`` sets it. The env vars, the checks and the README's table all come
    from these."""
    meta = {"help": help, "check": check, "rule": rule, "flag": flag, "shown": shown, "env": env}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _finite(value: float) -> bool:
    """An int (any size: ``math.isfinite`` of a huge int overflows) or a finite float."""
    return isinstance(value, int) or math.isfinite(value)


def _between(low: float, high: float) -> Check:
    """From ``low`` to ``high``, both included."""
    return lambda value: _finite(value) and low <= value <= high


def _above(low: float, high: float) -> Check:
    """More than ``low``, at most ``high``."""
    return lambda value: _finite(value) and low < value <= high


DAY_S = 24 * 3600
WEEK_S = 7 * DAY_S
GiB = 1024 * MiB


PAGE_ELEMENTS_DEFAULT = 100_000
"""Elements a page may have (``max_page_elements``): parsing a page costs about 80 µs and
1.5 KB an element (100,000: some 8 s and 170 MB); the saved pages have at most a few
hundred, real article pages a few thousand."""
PARSE_DEADLINE_DEFAULT = 30.0
"""Seconds one page may take to parse (``parse_deadline``): an ordinary page takes tens of
milliseconds, a page at the element budget under 10 s."""
QUERY_TIMEOUT_DEFAULT = 60.0
"""Seconds a ``sql`` or ``search`` query may run (``--timeout``)."""
QUERY_TIMEOUT_MAX = 24 * 3600.0
QUERY_MEMORY_DEFAULT = "1GB"
"""DuckDB memory a sandboxed ``sql`` query may use (``--memory-limit``)."""
QUERY_MEMORY_MIN = 16 * 1000**2
QUERY_MEMORY_MAX = 1000**4
_MEMORY_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_MEMORY_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b)\s*", re.IGNORECASE)


def memory_bytes(value: object) -> int | None:
    """``"1GB"`` -> 1000000000 (DuckDB's units: ``KB``/``MB``/``GB``/``TB`` are powers of
    1000, ``KiB``/``MiB``/``GiB``/``TiB`` of 1024, case ignored); ``None`` for anything
    else (no unit, ``nan``, a negative amount)."""
    match = _MEMORY_RE.fullmatch(value) if isinstance(value, str) else None
    unit = _MEMORY_UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        return None
    return int(float(match.group(1)) * unit)


def _query_memory(value: object) -> bool:
    amount = memory_bytes(value)
    return amount is not None and QUERY_MEMORY_MIN <= amount <= QUERY_MEMORY_MAX


MIN_RATE = 0.001
"""Fewer requests per second than this is no crawl (``1e-300`` would wait for ever)."""
MAX_HEADER_CHARS = 512
"""A User-Agent longer than this is refused by servers (HTTP 431), not by us too late."""


def _header_safe(value: str) -> bool:
    """Sent in the User-Agent header: printable ASCII only (HTTP header values), at most
    :data:`MAX_HEADER_CHARS` characters."""
    return value == "" or (
        value.isascii() and value.isprintable() and len(value) <= MAX_HEADER_CHARS
    )


@dataclass(frozen=True, slots=True)
class Settings:
    site: Site = _setting(
        None,
        "the newspaper: a bundled site's key or a site file's path",
        flag="--site",
        shown="`baolaocai`",
        factory=default_site,
    )
    """The newspaper: every step's site knowledge (URLs, names, parser) comes from it."""
    base_url: str = _setting(
        "",
        "where pages are fetched from (a copy or mirror of the site)",
        flag="--base-url",
        shown="the site's `origin`",
    )
    db_path: str = _setting(
        "",
        "warehouse file",
        flag="--db",
        shown="`warehouse/<site key>.duckdb` (demo: `warehouse/demo.duckdb`)",
    )
    contact: str = _setting(
        DEFAULT_CONTACT,
        "contact in the User-Agent",
        check=_header_safe,
        rule="printable ASCII, at most 512 characters (it is sent in a header)",
        shown="project home page",
    )
    user_agent: str = _setting(
        "",
        "whole User-Agent",
        check=_header_safe,
        rule="printable ASCII, at most 512 characters (it is sent in a header)",
        shown="`baolaocai-archiver/<version> (+<contact>)`",
    )
    concurrency: int = _setting(
        2,
        "requests in flight per host",
        check=_between(1, 64),
        rule="1 to 64",
        flag="--concurrency",
    )
    rate: float = _setting(
        1.0,
        "requests per second per host",
        check=_between(MIN_RATE, 100_000),
        rule="from 0.001 (one request every 1000 s) to 100000 requests per second",
        flag="--rate",
    )
    shared_politeness: str = _setting(
        "auto",
        "hold `rate`, `concurrency` and Retry-After per host across every worker, on the"
        " Prefect server's concurrency limits (`auto`: in flow runs of a deployment on the"
        " server of `PREFECT_API_URL`; `on`; `off`)",
        check=lambda value: value in ("auto", "on", "off"),
        rule="auto, on or off",
    )
    """Each process paces its own requests; workers crawling one host share the host's
    limits only through a Prefect server (:mod:`flows.host_gate`). ``auto`` turns it on
    where several workers can meet: runs of a deployment dispatched by a real server;
    a command's own run on one machine (its private API, or Prefect's temporary one) has
    no one to share with. ``on`` without a Prefect server is refused before any request."""
    connect_timeout: float = _setting(
        10.0,
        "connect timeout, seconds",
        check=_above(0, 3600),
        rule="a positive number of seconds, at most 3600",
    )
    read_timeout: float = _setting(
        30.0,
        "read timeout, seconds",
        check=_above(0, 3600),
        rule="a positive number of seconds, at most 3600",
    )
    retries: int = _setting(
        3, "extra attempts on transient errors", check=_between(0, 20), rule="0 to 20"
    )
    max_articles: int = _setting(
        0,
        "new articles per run",
        check=_between(0, 10_000_000),
        rule="0 (unlimited) to 10000000",
        flag="--max-articles",
        shown="0 (no limit)",
    )
    max_listing_pages: int = _setting(
        5,
        "listing pages per category",
        check=_between(1, 10_000),
        rule="1 to 10000",
        flag="--max-listing-pages",
    )
    listing_margin: int = _setting(
        1,
        "extra listing pages of stored articles still read",
        check=_between(0, 1000),
        rule="0 to 1000",
    )
    recheck_days: float = _setting(
        3.0,
        '"fresh" window: days before the site\'s newest article',
        check=_between(0, 36_500),
        rule="0 (no rechecks) to 36500 days",
        flag="--recheck-days",
    )
    recheck_interval_h: float = _setting(
        1.0,
        "recheck a fresh article at most every N hours",
        check=_between(0, 87_600),
        rule="0 to 87600 hours",
    )
    revisit_days: float = _setting(
        30.0,
        "revisit older articles not seen for N days",
        check=_above(0, 36_500),
        rule="a positive number of days, at most 36500",
    )
    revisit_share: float = _setting(
        0.02,
        "revisit budget per run: share of the archive",
        check=_between(0, 1),
        rule="between 0 and 1",
    )
    revisit_max: int = _setting(
        200,
        "revisit budget per run: at most N articles",
        check=_between(0, 1_000_000),
        rule="0 (no revisits) to 1000000",
    )
    drift_threshold: float = _setting(
        0.2,
        "share of degraded records that raises the drift warning",
        check=_between(0, 1),
        rule="between 0 and 1",
    )
    batch_size: int = _setting(
        25,
        "articles per fetch/parse/load batch",
        check=_between(1, 10_000),
        rule="1 to 10000",
    )
    parse_workers: int = _setting(
        0,
        "processes parsing a batch of 50 pages or more (reparse)",
        check=_between(0, 64),
        rule="between 0 and 64",
        shown="0 = one per core, at most 4",
    )
    # Counted on the page's text before it is parsed (markup openings ``<`` less closing
    # tags ``</``): a few milliseconds for 10 MB, where building a tree for a tag bomb
    # costs minutes and gigabytes. Real pages have a few thousand elements.
    max_page_elements: int = _setting(
        PAGE_ELEMENTS_DEFAULT,
        "elements a page may have; a page with more is a parse failure (parked)",
        check=_between(1000, 10_000_000),
        rule="1000 to 10000000",
    )
    parse_deadline: float = _setting(
        PARSE_DEADLINE_DEFAULT,
        "seconds a page may take to parse, in a worker process (0: no deadline, no worker);"
        " a slower page is a parse failure (parked)",
        check=lambda v: v == 0 or _between(1, 3600)(v),
        rule="0 (no deadline) or 1 to 3600 seconds",
    )
    parse_memory: int = _setting(
        1024,
        "address space of a parsing worker process, MiB; a page needing more is a parse"
        " failure (parked)",
        check=_between(256, 65536),
        rule="256 to 65536 MiB",
        shown="1024 (1 GiB)",
    )
    """A worker parses one page in about 60 MB; the costliest page under the element
    budget (a million attributes) about 450 MB. Beyond this cap the page's parse fails
    with ``MemoryError`` (or its worker dies) instead of the machine running out."""
    max_response_bytes: int = _setting(
        10 * MiB,
        "response size cap (decompressed)",
        check=_between(1024, GiB),
        rule="1024 to 1073741824 (1 GiB)",
        shown="10 MiB",
    )
    # Sitemaps and feeds may be bigger than pages: 50,000 URLs can take 13 MB or more.
    max_sitemap_bytes: int = _setting(
        50 * MiB,
        "sitemap and feed size cap",
        check=_between(1024, GiB),
        rule="1024 to 1073741824 (1 GiB)",
        shown="50 MiB (the sitemaps protocol's limit)",
    )
    # One request in all (connect + headers + whole body), so a server trickling bytes
    # cannot hold a request for ever; beyond it, a transient failure.
    request_deadline: float = _setting(
        60.0,
        "total deadline per request, seconds",
        check=_above(0, DAY_S),
        rule="a positive number of seconds, at most 86400",
    )
    max_crawl_delay: float = _setting(
        30.0,
        "longest robots.txt Crawl-delay accepted, seconds (above it the run does not crawl)",
        check=_between(0, DAY_S),
        rule="0 (no Crawl-delay accepted) to 86400 seconds",
    )
    max_sections: int = _setting(
        40, "sections walked per discovery", check=_between(1, 10_000), rule="1 to 10000"
    )
    # In page order; a page with more (a trap, or a broken template) is read to the cap.
    max_links_per_page: int = _setting(
        2000,
        "article links taken from one listing page",
        check=_between(1, 1_000_000),
        rule="1 to 1000000",
    )
    max_listing_requests: int = _setting(
        400,
        "section listing pages requested per run",
        check=_between(1, 1_000_000),
        rule="1 to 1000000",
    )
    discovery_deadline: float = _setting(
        1800.0,
        "seconds of discovery walking per run",
        check=_above(0, WEEK_S),
        rule="a positive number of seconds, at most 604800 (a week)",
    )
    run_deadline: float = _setting(
        5 * 3600.0,
        "a crawl stops cleanly (failed, with the reason) after this long (not a backfill)",
        check=_above(0, WEEK_S),
        rule="a positive number of seconds, at most 604800 (a week)",
        shown="5 h",
    )
    """Below the flows' own 6 h timeout, so the stop is ours: recorded with its reason,
    the next run goes on."""
    writer_wait: float = _setting(
        3600.0,
        "seconds a run waits for another run writing the same warehouse (`--no-wait`: 0)",
        check=_between(0, WEEK_S),
        rule="0 (refuse at once) to 604800 seconds",
        flag="--wait/--no-wait",
        shown="3600 (`serve`'s scheduled runs: 0)",
    )
    """A second writer waits, saying for whom, or is refused in one line before it reads
    anything from the network (:mod:`warehouse.writer`)."""
    query_timeout: float = _setting(
        QUERY_TIMEOUT_DEFAULT,
        "seconds a `sql` or `search` query may run before it is stopped",
        check=_above(0, QUERY_TIMEOUT_MAX),
        rule="a positive number of seconds, at most 86400 (a day)",
        flag="--timeout",
    )
    query_memory: str = _setting(
        QUERY_MEMORY_DEFAULT,
        "memory a `sql` query may use (DuckDB's `memory_limit`; it never spills to disk)",
        check=_query_memory,
        rule="an amount of memory such as 512MB or 2GB, from 16MB to 1TB",
        flag="--memory-limit",
    )
    """Both bound what one read-only query can cost the machine: it is stopped with one
    line saying which limit it hit (``--write`` queries get the timeout only)."""
    prefect_idle: float = _setting(
        600.0,
        "seconds the local Prefect API server stays up after the last command using it"
        " (0: stopped when that command ends)",
        check=_between(0, WEEK_S),
        rule="0 (stop with the last command) to 604800 seconds",
    )
    """The server takes some 15 s to start: kept up, the next ``crawl``, ``demo``,
    ``backfill`` or ``reparse`` of the folder uses it at once. A watchdog process
    (:mod:`flows.prefect_idle`) stops it when it has had no command for this long, or
    when its folder is gone."""

    def __post_init__(self) -> None:
        given: object = self.site
        if isinstance(given, str | os.PathLike):
            object.__setattr__(self, "site", load_site(os.fspath(given)))
        if not isinstance(self.site, Site):
            raise ConfigError("site must be a site key, a site file's path or a Site")
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            value = getattr(self, f.name)
            if isinstance(value, bool) or (
                f.type in ("int", "float") and not isinstance(value, int | float)
            ):
                raise ConfigError(f"{f.name} must be a number, not {value!r}")
            if check is not None and not check(value):
                raise ConfigError(f"{f.name} must be {f.metadata['rule']}, not {value!r}")
        if not self.user_agent:
            object.__setattr__(self, "user_agent", default_user_agent(self.contact))
        if not self.base_url:
            object.__setattr__(self, "base_url", self.site.origin)
        if not self.db_path:
            object.__setattr__(self, "db_path", self.site.default_db_path())
        object.__setattr__(self, "base_url", _check_base_url(self.base_url))
        _check(bool(str(self.db_path).strip()), "the database path must not be empty")

    def override(self, **values: Any) -> Settings:
        """Apply CLI flags / flow parameters; ``None`` means "not given"."""
        given = {k: v for k, v in values.items() if v is not None}
        unknown = set(given) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "contact" in given and "user_agent" not in given:
            given["user_agent"] = ""
        if "site" in given:
            site = given["site"]
            new = site if isinstance(site, Site) else load_site(site)
            given["site"] = new
            # A site's own defaults follow the site; values set on purpose stay.
            if "base_url" not in given and self.base_url == self.site.origin:
                given["base_url"] = new.origin
            if "db_path" not in given and self.db_path == self.site.default_db_path():
                given["db_path"] = new.default_db_path()
        return dataclasses.replace(self, **given)


def env_var(name: str) -> str:
    return ENV_PREFIX + ("DB" if name == "db_path" else name.upper())


WAREHOUSE_ENV = ENV_PREFIX + "WAREHOUSE"
"""Another name of ``BAOLAOCAI_DB``, the one a lake's users expect (``ducklake:…``)."""


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults overridden by ``BAOLAOCAI_*`` environment variables (``BAOLAOCAI_WAREHOUSE``
    is ``BAOLAOCAI_DB`` by another name; both, different: a :class:`ConfigError`)."""
    env = os.environ if environ is None else environ
    db, warehouse = (env.get(v, "").strip() for v in (env_var("db_path"), WAREHOUSE_ENV))
    if db and warehouse and db != warehouse:
        raise ConfigError(
            f"{env_var('db_path')} and {WAREHOUSE_ENV} name two warehouses; set only one"
        )
    if warehouse and not db:
        env = {**env, env_var("db_path"): warehouse}
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if not f.metadata.get("env"):
            continue
        var = env_var(f.name)
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            continue
        convert: Callable[[str], Any] = {"int": int, "float": float}.get(str(f.type), str)
        try:
            values[f.name] = convert(raw.strip())
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not a valid {f.name}") from None
    if "site" in values:
        values["site"] = load_site(values["site"])
    try:
        return Settings(**values)
    except ConfigError as exc:
        name = exc.message.split(" ", 1)[0]
        if name in values:
            raise ConfigError(f"{env_var(name)}: {exc.message}") from None
        raise


def settings_table() -> str:
    """The README's table of settings, generated from their declarations."""
    lines = ["| setting | env var | flag | default |", "|---|---|---|---|"]
    for f in dataclasses.fields(Settings):
        meta = f.metadata
        shown = meta.get("shown") or (
            f"`{f.default}`" if f.default not in ("", dataclasses.MISSING) else ""
        )
        flag = f"`{meta['flag']}`" if meta.get("flag") else ""
        lines.append(f"| {meta['help']} | `{env_var(f.name)}` | {flag} | {shown} |")
    return "\n".join(lines) + "\n"


def _positive(value: float) -> bool:
    """A finite number above 0 (``nan`` and ``inf`` from an env var are not)."""
    return math.isfinite(value) and value > 0


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_base_url(url: str) -> str:
    """``scheme://host[:port][/path]``, printable, a port from 1 to 65535, no user,
    query or fragment: anything else is one ConfigError line (never a traceback deep in
    a run, nor a header smuggled in through a line break)."""
    example = "an http(s) URL such as https://example.vn or http://127.0.0.1:8000"
    shown = url[:200]
    if not url.strip().isprintable():
        raise ConfigError(f"base URL {shown!r} must be {example} (no control characters)")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname
    except ValueError as exc:  # a port past 65535, an unclosed [IPv6 …
        raise ConfigError(f"base URL {shown!r} must be {example} ({exc})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"base URL {shown!r} must be {example}")
    if port == 0 or parts.username is not None or parts.query or parts.fragment:
        raise ConfigError(
            f"base URL {shown!r} must be {example}: a host, a port from 1 to 65535 and a"
            " path, no user, query or fragment"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
