"""Article URLs: recognise, canonicalise, and map between the site and a copy of it.

Every stored URL is canonical: ``https://baolaocai.vn/<path>``, no ``www.``, no
fragment, no tracking parameters. A crawl may *fetch* from another origin (a local copy
of the site, a mirror); :func:`to_fetch_url` maps a canonical URL onto that origin and
:func:`canonicalize` maps links found there back. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from baolaocai.settings import SITE_HOSTS, SITE_URL

if TYPE_CHECKING:
    from transforms.profile import SiteProfile

ARTICLE_PATH_RE = re.compile(r"^/(?:[\w-]+/)*[\w-]*?-?post(\d+)\.html$", re.IGNORECASE)
"""The current article address (``…-post<id>.html``). The full list of article and
non-article address patterns, era 1 (``/bai-viet/<id>-<slug>``) included, is data in the
site profile (``[urls]`` of ``transforms/baolaocai.toml``)."""
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


def _profile(profile: SiteProfile | None) -> SiteProfile:
    if profile is not None:
        return profile
    from transforms.profile import load_profile  # lazy: the profile is data for both layers

    return load_profile()


def article_id(url: str, profile: SiteProfile | None = None) -> int | None:
    """The integer id of an article URL, else ``None``.

    Article addresses come from the site profile: ``…-post<id>.html`` (since 2023) and
    ``/bai-viet/<id>-<slug>`` (up to 2022; the same id as the ``-post<id>.html`` address
    of the same article). Tag pages (``/<slug>-tag<id>.html``, ``/tu-khoa/…``) and
    categories are never articles.
    """
    path = urlsplit(url).path
    rules = _profile(profile)
    if any(p.search(path) for p in rules.not_article_res):
        return None
    for pattern in rules.article_res:
        match = pattern.match(path)
        if match:
            return int(match.group("id"))
    return None


def is_tag_page(url: str, profile: SiteProfile | None = None) -> bool:
    """A tag page (a list of articles: neither an article nor a category)."""
    path = urlsplit(url).path
    return any(p.search(path) for p in _profile(profile).tag_page_res)


def canonical_article_url(url: str, profile: SiteProfile | None = None) -> str | None:
    """Canonical article URL without any query string, or ``None`` if not an article."""
    canonical = canonicalize(url)
    if canonical is None or article_id(canonical, profile) is None:
        return None
    parts = urlsplit(canonical)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def to_fetch_url(canonical_url: str, base_url: str) -> str:
    """Where to request ``canonical_url`` when crawling the site at ``base_url``."""
    parts = urlsplit(canonical_url)
    base = urlsplit(base_url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
