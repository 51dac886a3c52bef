"""Every setting in one place.

Precedence, lowest first: the defaults below < environment variables ``BAOLAOCAI_*`` <
CLI flags / flow parameters. :func:`load_settings` applies the first two;
:meth:`Settings.override` applies the last.

=========================  ==============================  ==================================
setting                    env var                         default
=========================  ==============================  ==================================
site                       BAOLAOCAI_SITE                  baolaocai: a bundled site's key or a
                                                           site file's path (see baolaocai.site)
base_url                   BAOLAOCAI_BASE_URL              the site's origin (its file's origin)
db_path                    BAOLAOCAI_DB                    warehouse/<site key>.duckdb
user_agent                 BAOLAOCAI_USER_AGENT            baolaocai-archiver/<ver> (+contact)
contact                    BAOLAOCAI_CONTACT               the project's home page
concurrency                BAOLAOCAI_CONCURRENCY           2 requests in flight per host
rate                       BAOLAOCAI_RATE                  1.0 request per second per host
connect_timeout            BAOLAOCAI_CONNECT_TIMEOUT       10 s
read_timeout               BAOLAOCAI_READ_TIMEOUT          30 s
retries                    BAOLAOCAI_RETRIES               3 extra attempts on transient errors
max_articles               BAOLAOCAI_MAX_ARTICLES          unlimited (0 = unlimited)
max_listing_pages          BAOLAOCAI_MAX_LISTING_PAGES     5 pages per category
listing_margin             BAOLAOCAI_LISTING_MARGIN        1 page of stored articles still read
recheck_days               BAOLAOCAI_RECHECK_DAYS          3: articles published in the 3 days up to
                                                           the site's newest one are "fresh"
recheck_interval_h         BAOLAOCAI_RECHECK_INTERVAL_H    1: a fresh article is rechecked when last
                                                           seen more than 1 hour ago
revisit_days               BAOLAOCAI_REVISIT_DAYS          30: older articles not seen for 30 days
                                                           are due for a revisit
revisit_share              BAOLAOCAI_REVISIT_SHARE         0.02 of the archive revisited per run at
revisit_max                BAOLAOCAI_REVISIT_MAX           most, and never more than 200 articles
drift_threshold            BAOLAOCAI_DRIFT_THRESHOLD       0.2 (share of degraded records that
                                                           warns)
batch_size                 BAOLAOCAI_BATCH_SIZE            25 articles per fetch/parse/load batch
parse_workers              BAOLAOCAI_PARSE_WORKERS         0 = one per core (at most 4), for
                                                           batches of 50 pages or more (reparse)
max_response_bytes         BAOLAOCAI_MAX_RESPONSE_BYTES    10 MiB per response (decompressed)
max_sitemap_bytes          BAOLAOCAI_MAX_SITEMAP_BYTES     50 MiB per sitemap or feed (the
                                                           sitemaps protocol's own limit)
request_deadline           BAOLAOCAI_REQUEST_DEADLINE      60 s for one whole request: connect,
                                                           headers and the entire body
max_crawl_delay            BAOLAOCAI_MAX_CRAWL_DELAY       30 s: a robots.txt Crawl-delay above
                                                           it means the run does not crawl
max_sections               BAOLAOCAI_MAX_SECTIONS          40 sections walked per run
max_links_per_page         BAOLAOCAI_MAX_LINKS_PER_PAGE    2000 article links taken from one listing page
max_listing_requests       BAOLAOCAI_MAX_LISTING_REQUESTS  400 section listing pages per run
discovery_deadline         BAOLAOCAI_DISCOVERY_DEADLINE    1800 s of discovery walking per run
run_deadline               BAOLAOCAI_RUN_DEADLINE          5 h: a crawl stops cleanly (failed, with
                                                           the reason) after the batch that passes it
=========================  ==============================  ==================================

Caps reached (sections, listing pages, the discovery deadline) do not fail a run: discovery
keeps what it found and says which cap it hit (``Discovery.capped``).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from baolaocai import __version__
from baolaocai.errors import ConfigError
from baolaocai.site import Site, default_site, load_site

DEFAULT_CONTACT = "https://github.com/baolaocai-archive/baolaocai"
DEFAULT_CONCURRENCY = 2
DEFAULT_RATE = 1.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_MAX_LISTING_PAGES = 5
DEFAULT_BATCH_SIZE = 25
DEFAULT_LISTING_MARGIN = 1
DEFAULT_RECHECK_DAYS = 3.0
DEFAULT_RECHECK_INTERVAL_H = 1.0
DEFAULT_REVISIT_DAYS = 30.0
DEFAULT_REVISIT_SHARE = 0.02
DEFAULT_REVISIT_MAX = 200
DEFAULT_DRIFT_THRESHOLD = 0.2
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_SITEMAP_BYTES = 50 * 1024 * 1024
DEFAULT_REQUEST_DEADLINE = 60.0
DEFAULT_MAX_CRAWL_DELAY = 30.0
DEFAULT_MAX_SECTIONS = 40
DEFAULT_MAX_LINKS_PER_PAGE = 2000
DEFAULT_MAX_LISTING_REQUESTS = 400
DEFAULT_DISCOVERY_DEADLINE = 1800.0
DEFAULT_RUN_DEADLINE = 5 * 3600.0
ENV_PREFIX = "BAOLAOCAI_"


def default_user_agent(contact: str = DEFAULT_CONTACT) -> str:
    return f"baolaocai-archiver/{__version__} (+{contact})"


@dataclass(frozen=True, slots=True)
class Settings:
    site: Site = field(default_factory=default_site)
    """The newspaper: every step's site knowledge (URLs, names, parser) comes from it."""
    base_url: str = ""
    """Where pages are fetched from: the site's origin unless a copy or mirror is given."""
    db_path: str = ""
    """The warehouse file: ``warehouse/<site key>.duckdb`` unless given."""
    contact: str = DEFAULT_CONTACT
    user_agent: str = ""
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float = DEFAULT_RATE
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_articles: int = 0
    max_listing_pages: int = DEFAULT_MAX_LISTING_PAGES
    listing_margin: int = DEFAULT_LISTING_MARGIN
    recheck_days: float = DEFAULT_RECHECK_DAYS
    recheck_interval_h: float = DEFAULT_RECHECK_INTERVAL_H
    revisit_days: float = DEFAULT_REVISIT_DAYS
    revisit_share: float = DEFAULT_REVISIT_SHARE
    revisit_max: int = DEFAULT_REVISIT_MAX
    drift_threshold: float = DEFAULT_DRIFT_THRESHOLD
    batch_size: int = DEFAULT_BATCH_SIZE
    # Processes that parse a big batch (a reparse's 200 pages); 0: one per core, at most 4.
    parse_workers: int = 0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # Sitemaps and feeds may be bigger than pages: 50,000 URLs can take 13 MB or more.
    max_sitemap_bytes: int = DEFAULT_MAX_SITEMAP_BYTES
    # Seconds one request may take in all (connect + headers + whole body), so a server
    # trickling bytes cannot hold a request for ever; beyond it, a transient failure.
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    # The longest robots.txt Crawl-delay obeyed (seconds); above it the run does not crawl.
    max_crawl_delay: float = DEFAULT_MAX_CRAWL_DELAY
    # Sections (categories from the home page's menus) whose listings are walked per run.
    max_sections: int = DEFAULT_MAX_SECTIONS
    # Article links taken from one listing page (home, section, pagination), in page
    # order; a page with more (a trap, or a broken template) is read to the cap, counted.
    max_links_per_page: int = DEFAULT_MAX_LINKS_PER_PAGE
    # Section listing pages (first pages and pagination) requested per run, in total.
    max_listing_requests: int = DEFAULT_MAX_LISTING_REQUESTS
    # Seconds discovery may walk (sitemaps, feeds, home, listings); then it keeps what it found.
    discovery_deadline: float = DEFAULT_DISCOVERY_DEADLINE
    run_deadline: float = DEFAULT_RUN_DEADLINE
    """A run stops between batches once this long (below the flows' own 6 h timeout, so
    the stop is ours: recorded with its reason, the next run goes on)."""

    def __post_init__(self) -> None:
        if not self.user_agent:
            object.__setattr__(self, "user_agent", default_user_agent(self.contact))
        if isinstance(self.site, str | os.PathLike):
            object.__setattr__(self, "site", load_site(self.site))
        if not isinstance(self.site, Site):
            raise ConfigError("site must be a site key, a site file's path or a Site")
        if not self.base_url:
            object.__setattr__(self, "base_url", self.site.origin)
        if not self.db_path:
            object.__setattr__(self, "db_path", self.site.default_db_path())
        object.__setattr__(self, "base_url", _check_base_url(self.base_url))
        _check(self.concurrency >= 1, "concurrency must be at least 1")
        _check(self.rate > 0, "rate must be a positive number of requests per second")
        _check(self.connect_timeout > 0 and self.read_timeout > 0, "timeouts must be positive")
        _check(self.retries >= 0, "retries must be 0 or more")
        _check(self.max_articles >= 0, "max_articles must be 0 (unlimited) or more")
        _check(self.max_listing_pages >= 1, "max_listing_pages must be at least 1")
        _check(self.batch_size >= 1, "batch_size must be at least 1")
        _check(0 <= self.parse_workers <= 64, "parse_workers must be between 0 and 64")
        _check(self.listing_margin >= 0, "listing_margin must be 0 or more")
        _check(self.recheck_days >= 0, "recheck_days must be 0 (no rechecks) or more")
        _check(self.recheck_interval_h >= 0, "recheck_interval_h must be 0 or more")
        _check(self.revisit_days > 0, "revisit_days must be a positive number of days")
        _check(0 <= self.revisit_share <= 1, "revisit_share must be between 0 and 1")
        _check(self.revisit_max >= 0, "revisit_max must be 0 (no revisits) or more")
        _check(0 <= self.drift_threshold <= 1, "drift_threshold must be between 0 and 1")
        _check(self.max_response_bytes >= 1024, "max_response_bytes must be at least 1024")
        _check(self.max_sitemap_bytes >= 1024, "max_sitemap_bytes must be at least 1024")
        _check(
            _positive(self.request_deadline),
            "request_deadline must be a positive number of seconds",
        )
        _check(
            _positive(self.max_crawl_delay) or self.max_crawl_delay == 0,
            "max_crawl_delay must be 0 (no Crawl-delay accepted) or a number of seconds",
        )
        _check(self.max_sections >= 1, "max_sections must be at least 1")
        _check(self.max_links_per_page >= 1, "max_links_per_page must be at least 1")
        _check(self.max_listing_requests >= 1, "max_listing_requests must be at least 1")
        _check(
            _positive(self.discovery_deadline),
            "discovery_deadline must be a positive number of seconds",
        )
        _check(_positive(self.run_deadline), "run_deadline must be a positive number of seconds")
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


_ENV_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "SITE": ("site", str),
    "BASE_URL": ("base_url", str),
    "DB": ("db_path", str),
    "CONTACT": ("contact", str),
    "USER_AGENT": ("user_agent", str),
    "CONCURRENCY": ("concurrency", int),
    "RATE": ("rate", float),
    "CONNECT_TIMEOUT": ("connect_timeout", float),
    "READ_TIMEOUT": ("read_timeout", float),
    "RETRIES": ("retries", int),
    "MAX_ARTICLES": ("max_articles", int),
    "MAX_LISTING_PAGES": ("max_listing_pages", int),
    "LISTING_MARGIN": ("listing_margin", int),
    "RECHECK_DAYS": ("recheck_days", float),
    "RECHECK_INTERVAL_H": ("recheck_interval_h", float),
    "REVISIT_DAYS": ("revisit_days", float),
    "REVISIT_SHARE": ("revisit_share", float),
    "REVISIT_MAX": ("revisit_max", int),
    "DRIFT_THRESHOLD": ("drift_threshold", float),
    "BATCH_SIZE": ("batch_size", int),
    "PARSE_WORKERS": ("parse_workers", int),
    "MAX_RESPONSE_BYTES": ("max_response_bytes", int),
    "MAX_SITEMAP_BYTES": ("max_sitemap_bytes", int),
    "REQUEST_DEADLINE": ("request_deadline", float),
    "MAX_CRAWL_DELAY": ("max_crawl_delay", float),
    "MAX_SECTIONS": ("max_sections", int),
    "MAX_LINKS_PER_PAGE": ("max_links_per_page", int),
    "MAX_LISTING_REQUESTS": ("max_listing_requests", int),
    "DISCOVERY_DEADLINE": ("discovery_deadline", float),
    "RUN_DEADLINE": ("run_deadline", float),
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults overridden by ``BAOLAOCAI_*`` environment variables."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for suffix, (name, convert) in _ENV_FIELDS.items():
        raw = env.get(ENV_PREFIX + suffix)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[name] = convert(raw.strip())
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{suffix}={raw!r} is not a valid {name}") from None
    if "site" in values:
        values["site"] = load_site(values["site"])
    return Settings(**values)


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
