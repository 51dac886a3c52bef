"""Article URLs: recognise, canonicalise, and map between the site and a copy of it.

Every stored URL is canonical: ``https://baolaocai.vn/<path>``, no ``www.``, no
fragment, no tracking parameters. A crawl may *fetch* from another origin (a local copy
of the site, a mirror); :func:`to_fetch_url` maps a canonical URL onto that origin and
:func:`canonicalize` maps links found there back. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from baolaocai.settings import SITE_HOSTS, SITE_URL

ARTICLE_PATH_RE = re.compile(r"^/(?:[\w-]+/)*[\w-]*?-?post(\d+)\.html$", re.IGNORECASE)
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "zarsrc", "zaloid", "_gl", "mc_cid", "mc_eid"})
TRACKING_PREFIXES = ("utm_",)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def is_site_url(url: str, base_url: str = SITE_URL) -> bool:
    """True for the site's own hosts (any scheme, with or without ``www.``) and ``base_url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    return host in SITE_HOSTS or parts.netloc.lower() == _origin(base_url)[1]


def _clean_query(query: str) -> str:
    kept = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlencode(kept)


def canonicalize(href: str, page_url: str = SITE_URL, base_url: str = SITE_URL) -> str | None:
    """Resolve ``href`` against ``page_url`` and return its canonical form.

    Returns ``None`` for links that leave the site (other hosts, ``mailto:``,
    ``javascript:``). Links to the crawl's ``base_url`` are mapped to the canonical site.
    """
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    absolute = urljoin(page_url, href)
    if not is_site_url(absolute, base_url):
        return None
    parts = urlsplit(absolute)
    path = parts.path or "/"
    base_path = urlsplit(base_url).path.rstrip("/")
    if base_path and parts.netloc.lower() == _origin(base_url)[1] and path.startswith(base_path):
        path = path[len(base_path) :] or "/"
    site = urlsplit(SITE_URL)
    return urlunsplit((site.scheme, site.netloc, path, _clean_query(parts.query), ""))


def article_id(url: str) -> int | None:
    """The integer id of an article URL (``…-post<id>.html``), else ``None``."""
    match = ARTICLE_PATH_RE.match(urlsplit(url).path)
    return int(match.group(1)) if match else None


def canonical_article_url(url: str) -> str | None:
    """Canonical article URL without any query string, or ``None`` if not an article."""
    canonical = canonicalize(url)
    if canonical is None or article_id(canonical) is None:
        return None
    parts = urlsplit(canonical)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def to_fetch_url(canonical_url: str, base_url: str) -> str:
    """Where to request ``canonical_url`` when crawling the site at ``base_url``."""
    parts = urlsplit(canonical_url)
    base = urlsplit(base_url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
