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


def _finite_positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _finite_at_least(low: float) -> Check:
    return lambda value: math.isfinite(value) and value >= low


def _between(low: float, high: float) -> Check:
    return lambda value: math.isfinite(value) and low <= value <= high


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


def _header_safe(value: str) -> bool:
    """Sent in the User-Agent header: printable ASCII only (HTTP header values)."""
    return value == "" or (value.isascii() and value.isprintable())


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
        rule="printable ASCII (it is sent in a header)",
        shown="project home page",
    )
    user_agent: str = _setting(
        "",
        "whole User-Agent",
        check=_header_safe,
        rule="printable ASCII (it is sent in a header)",
        shown="`baolaocai-archiver/<version> (+<contact>)`",
    )
    concurrency: int = _setting(
        2,
        "requests in flight per host",
        check=lambda v: 1 <= v <= 64,
        rule="1 to 64",
        flag="--concurrency",
    )
    rate: float = _setting(
        1.0,
        "requests per second per host",
        check=lambda v: math.isfinite(v) and 0 < v <= 100_000,
        rule="a positive, finite number of requests per second (at most 100000)",
        flag="--rate",
    )
    connect_timeout: float = _setting(
        10.0, "connect timeout, seconds", check=_finite_positive, rule="a positive number"
    )
    read_timeout: float = _setting(
        30.0, "read timeout, seconds", check=_finite_positive, rule="a positive number"
    )
    retries: int = _setting(
        3, "extra attempts on transient errors", check=lambda v: 0 <= v <= 20, rule="0 to 20"
    )
    max_articles: int = _setting(
        0,
        "new articles per run",
        check=lambda v: v >= 0,
        rule="0 (unlimited) or more",
        flag="--max-articles",
        shown="0 (no limit)",
    )
    max_listing_pages: int = _setting(
        5,
        "listing pages per category",
        check=lambda v: v >= 1,
        rule="at least 1",
        flag="--max-listing-pages",
    )
    listing_margin: int = _setting(
        1,
        "extra listing pages of stored articles still read",
        check=lambda v: v >= 0,
        rule="0 or more",
    )
    recheck_days: float = _setting(
        3.0,
        '"fresh" window: days before the site\'s newest article',
        check=_finite_at_least(0),
        rule="0 (no rechecks) or a number of days",
        flag="--recheck-days",
    )
    recheck_interval_h: float = _setting(
        1.0,
        "recheck a fresh article at most every N hours",
        check=_finite_at_least(0),
        rule="0 or more hours",
    )
    revisit_days: float = _setting(
        30.0,
        "revisit older articles not seen for N days",
        check=_finite_positive,
        rule="a positive number of days",
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
        check=lambda v: v >= 0,
        rule="0 (no revisits) or more",
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
        check=lambda v: 1 <= v <= 10_000,
        rule="1 to 10000",
    )
    parse_workers: int = _setting(
        0,
        "processes parsing a batch of 50 pages or more (reparse)",
        check=lambda v: 0 <= v <= 64,
        rule="between 0 and 64",
        shown="0 = one per core, at most 4",
    )
    max_response_bytes: int = _setting(
        10 * MiB,
        "response size cap (decompressed)",
        check=lambda v: v >= 1024,
        rule="at least 1024",
        shown="10 MiB",
    )
    # Sitemaps and feeds may be bigger than pages: 50,000 URLs can take 13 MB or more.
    max_sitemap_bytes: int = _setting(
        50 * MiB,
        "sitemap and feed size cap",
        check=lambda v: v >= 1024,
        rule="at least 1024",
        shown="50 MiB (the sitemaps protocol's limit)",
    )
    # One request in all (connect + headers + whole body), so a server trickling bytes
    # cannot hold a request for ever; beyond it, a transient failure.
    request_deadline: float = _setting(
        60.0,
        "total deadline per request, seconds",
        check=_finite_positive,
        rule="a positive number of seconds",
    )
    max_crawl_delay: float = _setting(
        30.0,
        "longest robots.txt Crawl-delay accepted, seconds (above it the run does not crawl)",
        check=_finite_at_least(0),
        rule="0 (no Crawl-delay accepted) or a number of seconds",
    )
    max_sections: int = _setting(
        40, "sections walked per discovery", check=lambda v: v >= 1, rule="at least 1"
    )
    # In page order; a page with more (a trap, or a broken template) is read to the cap.
    max_links_per_page: int = _setting(
        2000,
        "article links taken from one listing page",
        check=lambda v: v >= 1,
        rule="at least 1",
    )
    max_listing_requests: int = _setting(
        400,
        "section listing pages requested per run",
        check=lambda v: v >= 1,
        rule="at least 1",
    )
    discovery_deadline: float = _setting(
        1800.0,
        "seconds of discovery walking per run",
        check=_finite_positive,
        rule="a positive number of seconds",
    )
    run_deadline: float = _setting(
        5 * 3600.0,
        "a crawl stops cleanly (failed, with the reason) after this long (not a backfill)",
        check=_finite_positive,
        rule="a positive number of seconds",
        shown="5 h",
    )
    """Below the flows' own 6 h timeout, so the stop is ours: recorded with its reason,
    the next run goes on."""
    writer_wait: float = _setting(
        3600.0,
        "seconds a run waits for another run writing the same warehouse (`--no-wait`: 0)",
        check=_between(0, 7 * 24 * 3600),
        rule="0 (refuse at once) to 604800 seconds",
        flag="--wait/--no-wait",
        shown="3600 (`serve`'s scheduled runs: 0)",
    )
    """A second writer waits, saying for whom, or is refused in one line before it reads
    anything from the network (:mod:`warehouse.writer`)."""
    query_timeout: float = _setting(
        QUERY_TIMEOUT_DEFAULT,
        "seconds a `sql` or `search` query may run before it is stopped",
        check=lambda v: math.isfinite(v) and 0 < v <= QUERY_TIMEOUT_MAX,
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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults overridden by ``BAOLAOCAI_*`` environment variables."""
    env = os.environ if environ is None else environ
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
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base URL {url!r} must be an http(s) URL such as https://example.vn")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
