"""Article identity: recognise, canonicalise, and map URLs between a site and a copy of it.

Every stored URL is canonical: the site's origin (``site.origin``) and path, no alias
host, no fragment, no tracking parameters. A crawl may *fetch* from another origin (a
local copy of the site, a mirror); :func:`to_fetch_url` maps a canonical URL onto that
origin and :func:`canonicalize` maps links found there back. Which addresses are articles,
and their ids, is the site file's ``[urls]``. Pure functions of a :class:`Site`, no I/O.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from baolaocai.models import FetchedPage
from baolaocai.site import Site

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "zarsrc", "zaloid", "_gl", "mc_cid", "mc_eid"})
TRACKING_PREFIXES = ("utm_",)
MAX_ARTICLE_ID = 2**63 - 1
"""Ids are stored as BIGINT: a longer or larger number in a URL is not an article id."""


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


def is_site_url(url: str, site: Site, base_url: str | None = None) -> bool:
    """True for the site's own hosts (any scheme) and the crawl's ``base_url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    netloc = parts.netloc.lower()
    host = (parts.hostname or "").lower()
    return (
        host in site.hosts
        or netloc in site.hosts
        or (base_url is not None and netloc == _netloc(base_url))
    )


def _clean_query(query: str) -> str:
    kept = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlencode(kept)


def canonicalize(
    href: str, site: Site, page_url: str | None = None, base_url: str | None = None
) -> str | None:
    """Resolve ``href`` against ``page_url`` and return its canonical form on ``site``.

    Returns ``None`` for links that leave the site (other hosts, ``mailto:``,
    ``javascript:``). Links to the crawl's ``base_url`` are mapped onto the site's origin.
    """
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    absolute = urljoin(page_url or site.url("/"), href)
    if not is_site_url(absolute, site, base_url):
        return None
    parts = urlsplit(absolute)
    path = parts.path or "/"
    if base_url is not None:
        base_path = urlsplit(base_url).path.rstrip("/")
        if base_path and parts.netloc.lower() == _netloc(base_url) and path.startswith(base_path):
            path = path[len(base_path) :] or "/"
    path = site.article_path(path)  # an AMP or print copy stands for its article
    origin = urlsplit(site.origin)
    return urlunsplit((origin.scheme, origin.netloc, path, _clean_query(parts.query), ""))


def article_id(url: str, site: Site) -> int | None:
    """The integer id of an article URL of ``site``, else ``None``.

    The id is the ``(?P<id>…)`` group of the first of the site's article patterns that
    matches the path; tag pages and the site's ``not_article`` addresses never are
    articles, and an id that is not a whole number a BIGINT holds is none either.
    """
    path = urlsplit(url).path
    if any(p.search(path) for p in (*site.tag_page_res, *site.not_article_res)):
        return None
    for pattern in site.article_res:
        match = pattern.match(path)
        if match:
            return _id_of(match.group("id"))
    return None


def _id_of(text: str | None) -> int | None:
    if not text or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ARTICLE_ID else None


def redirected_elsewhere(redirected_to: str | None, url: str, site: Site) -> bool:
    """Whether redirects from ``url`` led to another page than its article (another
    article's address, the home page): what was fetched then is that page's answer,
    never the article of ``url``."""
    return redirected_to is not None and article_id(redirected_to, site) != article_id(url, site)


def capture_url(page: FetchedPage, site: Site) -> str:
    """The address a fetched page is the answer of: where redirects led, when that is
    elsewhere than its article (:func:`redirected_elsewhere`), else its URL."""
    if page.redirected_to is not None and redirected_elsewhere(page.redirected_to, page.url, site):
        return page.redirected_to
    return page.url


def is_tag_page(url: str, site: Site) -> bool:
    """A tag page (a list of articles: neither an article nor a category)."""
    path = urlsplit(url).path
    return any(p.search(path) for p in site.tag_page_res)


def canonical_article_url(url: str, site: Site, base_url: str | None = None) -> str | None:
    """Canonical article URL without any query string, or ``None`` if not an article."""
    canonical = canonicalize(url, site, base_url=base_url)
    if canonical is None or article_id(canonical, site) is None:
        return None
    parts = urlsplit(canonical)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def to_fetch_url(canonical_url: str, base_url: str) -> str:
    """Where to request ``canonical_url`` when crawling the site at ``base_url``."""
    parts = urlsplit(canonical_url)
    base = urlsplit(base_url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
