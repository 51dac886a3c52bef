"""Plain data passed between the layers: no I/O, no behaviour beyond (de)serialising."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

PAGE_KINDS = (
    "amp",
    "print",
    "live",
    "e-magazine",
    "infographic",
    "podcast",
    "video",
    "gallery",
    "interview",
    "article",
)
"""Every ``page_kind`` a page can be told as, in the order the signals are tried (a copy's
kind, ``amp`` or ``print``, wins over its content's); ``unknown`` when none is told."""
UNKNOWN_KIND = "unknown"

CONTRACT_KEYS = (
    "url",
    "article_id",
    "title",
    "sapo",
    "body",
    "author",
    "published_at",
    "category",
    "tags",
    "images",
    "source",
    "page_kind",
)
"""The keys ``baolaocai parse`` promises, in order. Keys may be added, never renamed."""


@dataclass(frozen=True, slots=True)
class Image:
    """One picture of an article body: absolute ``src`` and its caption (or ``None``)."""

    src: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A parsed, cleaned article: the ``parse`` output contract.

    The keys of :meth:`to_contract` are a public contract: keys may be added, never renamed.
    """

    url: str | None
    article_id: int | None
    title: str | None
    sapo: str | None
    body: str
    author: str | None
    published_at: datetime | None
    category: str | None
    tags: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    source: str | None = None
    modified_at: datetime | None = None
    category_source: str | None = None
    """Where ``category`` came from: ``page`` (the page names it), ``listing`` (the
    section listing that linked the article, when the page names none), ``None``."""
    page_kind: str = "unknown"
    """What kind of page it was read from (:data:`PAGE_KINDS`): ``article``, ``live``,
    ``e-magazine`` …, ``amp``/``print`` for such copies of an article; ``unknown`` when
    no reader knew the markup, no signal of the site file told the kind and the reading
    lacks what an article has (counted by the drift alarm)."""
    extraction_method: str = "unknown"
    """Which reader of the cascade gave the body: ``epi`` (the EPI body containers),
    ``legacy`` (the 2023 layout), ``density`` (the text region of any other template) or
    ``epi+density`` (an EPI container held only part of the text: the region was read)."""
    images_dropped: int = 0
    """Quality signal: pictures past the parser's cap (``transforms.parse.MAX_IMAGES``) in
    a page that has more; ``images`` holds the first ones."""
    declared_url: str | None = None
    """The address the page gives itself (canonical link, else ``og:url``) on the site,
    canonical; ``None`` when it gives none or one on another site (a syndicated copy).
    Not in the contract: used to refuse a page that says it is another article."""
    field_conflicts: tuple[str, ...] = ()
    """Quality signal: per field, two sources that disagreed and which won, e.g.
    ``"published_at: json-ld 2025-03-01T08:00:00+07:00 vs visible 2025-03-04"``. Not
    content (the content hash ignores it); counted by the layout-drift alarm."""

    @property
    def missing_fields(self) -> tuple[str, ...]:
        """Quality signal: the fields a complete article has and this one lacks."""
        wanted = {
            "title": self.title,
            "published_at": self.published_at,
            "body": self.body,
            "category": self.category,
            "author": self.author,
        }
        return tuple(name for name, value in wanted.items() if not value)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.body.split("\n\n") if p]

    def to_contract(self) -> dict[str, Any]:
        """The JSON object printed by ``baolaocai parse`` (one per page)."""
        return {
            "url": self.url,
            "article_id": self.article_id,
            "title": self.title,
            "sapo": self.sapo,
            "body": self.body,
            "author": self.author,
            "published_at": _iso(self.published_at),
            "category": self.category,
            "tags": list(self.tags),
            "images": [{"src": i.src, "caption": i.caption} for i in self.images],
            "source": self.source,
            "page_kind": self.page_kind,
            "modified_at": _iso(self.modified_at),
            "extraction_method": self.extraction_method,
            "missing_fields": list(self.missing_fields),
            "field_conflicts": list(self.field_conflicts),
            "images_dropped": self.images_dropped,
            "category_source": self.category_source,
        }

    def replace(self, **changes: Any) -> Article:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """The raw answer to one HTTP request: archived as a WARC capture, indexed in
    ``captures`` and ``raw_pages``."""

    url: str
    """Canonical URL of the page (``https://baolaocai.vn/...``)."""
    fetched_url: str
    """The URL actually requested (differs when crawling a local copy)."""
    status: int
    fetched_at: datetime
    html: str | None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    elapsed_ms: float = 0.0
    attempts: int = 1
    transient: bool = False
    """The failure may pass (timeout, reset, 429, 5xx): worth retrying in a later run."""
    body: bytes | None = None
    """The body as received (after HTTP content decoding), for the web archive; ``None``
    when only ``html`` is known (then ``html`` is archived as UTF-8)."""
    response_headers: tuple[tuple[str, str], ...] = ()
    """Every response header as received (``headers`` keeps only the few the crawl uses)."""
    request_headers: tuple[tuple[str, str], ...] = ()
    """The headers of the request that got this answer."""
    archived: bool = False
    """Read back from the web archive (a reparse): not archived again."""
    redirected_to: str | None = None
    """Where redirects led, canonical, when that is not ``url`` (another article, the
    home page): the page is the answer of that address, never the article of ``url``."""

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300 and self.html is not None


@dataclass(frozen=True, slots=True)
class StagedArticle:
    """A validated article ready to load, with the hash that decides new/updated/unchanged."""

    article: Article
    content_hash: str


IDENTITY_STAGE = "identity"
"""A page refused as not being the article of its address (:mod:`transforms.integrity`)."""
LOAD_STAGE = "load"
"""A record the warehouse refused (a value out of its range): it costs its own page."""
REPARSE_SETTLES = ("parse", "validate", LOAD_STAGE)
"""The stages of the errors a reparse settles when it reads a page: those of reading it.
Not a fetch's (a 404 that recorded a takedown stays open: a reparse sees no site)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """A page that did not become an article, and why (stored in ``fetch_errors``)."""

    url: str
    stage: str
    """``fetch``, ``parse``, ``validate``, ``identity`` (not the article of its address:
    :mod:`transforms.integrity`) or ``load`` (a record the warehouse refused)."""
    error: str
    status: int | None = None
    attempts: int = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


RUN_COUNTERS = (
    "discovered",
    "already_stored",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_failed",
    "requests",
    "retries",
    "responses_429",
    "responses_304",
    "bytes_downloaded",
    "rechecked",
    "retried_failures",
    "gone",
    "records_fallback",
    "records_missing_date",
    "records_missing_title",
    "records_short_body",
    "records_with_conflicts",
    "revisited",
    "relisted",
    "unlisted",
    "removed",
    "held_back",
    "held_back_s",
    "suspect_pages",
)
"""The counters of a run: fields of :class:`CrawlSummary` and columns of ``crawl_runs``."""


@dataclass(slots=True)
class CrawlSummary:
    """What one crawl run did; also the row of ``crawl_runs`` and the CLI's summary."""

    run_id: str
    base_url: str
    status: str = "running"
    discovered: int = 0
    already_stored: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_failed: int = 0
    """Article pages that did not become an article (fetch, parse or validate failed),
    listed in ``fetch_errors``; a takedown of a stored article is not one (``removed``)."""
    requests: int = 0
    retries: int = 0
    responses_429: int = 0
    responses_304: int = 0
    bytes_downloaded: int = 0
    rechecked: int = 0
    retried_failures: int = 0
    gone: int = 0
    """Article fetches answered 404/410: pages never stored (also ``articles_failed``,
    and parked) and takedowns of stored articles (also ``removed`` when newly gone)."""
    records_fallback: int = 0
    records_missing_date: int = 0
    records_missing_title: int = 0
    records_short_body: int = 0
    records_with_conflicts: int = 0
    """Records whose sources disagreed on a field (``articles.field_conflicts``)."""
    revisited: int = 0
    """Stored articles not seen for ``revisit_days``, fetched again (conditionally)."""
    relisted: int = 0
    """Stored articles rechecked because a sitemap or feed lists a newer ``<lastmod>``."""
    unlisted: int = 0
    """Stored articles rechecked because a changed sitemap no longer lists them."""
    removed: int = 0
    """Stored articles the site now answers 404/410 for (kept, with ``removed_at``): a
    takedown counts here, never in ``articles_failed`` nor ``failures``."""
    held_back: int = 0
    """429/503 answers that held back every request to the site (``Retry-After``)."""
    held_back_s: int = 0
    """Seconds the site was held back in all."""
    suspect_pages: int = 0
    """Stored articles whose address answered with a page that is not them (an error
    page served as 200, a redirect to another article, a text collapsed to a fraction):
    the stored version kept, the page archived, the run ends in ``warning``."""
    elapsed_s: float = 0.0
    error: str | None = None
    warning: str | None = None
    failures: list[str] = field(default_factory=list)
    """A few ``url: reason`` lines for the summary (all of them are in ``fetch_errors``)."""
    notes: list[str] = field(default_factory=list)
    """One line per limit the run hit (discovery caps, deadlines) or side job that
    failed (the search index): what a user should know, though the run went on."""

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in RUN_COUNTERS}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CrawlState:
    """What the warehouse knows before a run (see :mod:`warehouse.state`)."""

    known_ids: frozenset[int] = frozenset()
    recheck: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """Canonical URL -> (ETag, Last-Modified) of the recently published articles due for a
    recheck."""
    revisit: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """The same for older articles not seen for a while (the revisit budget of the run)."""
    gone: frozenset[str] = frozenset()
    """Parked URLs: the latest fetch answered 404/410, or the page could not be parsed or
    validated. Not fetched again until ``--retry-failed``."""
    open_failures: frozenset[str] = frozenset()
    """URLs with an unresolved fetch error (gone ones included)."""
    last_completed_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class SitemapMemo:
    """A child sitemap as we last read it: its ``<lastmod>`` in the index, its validators."""

    url: str
    lastmod: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class SitemapRead:
    """A child sitemap read in full in this run (new, or changed since the memo)."""

    memo: SitemapMemo
    entries: dict[int, datetime | None] = field(default_factory=dict)
    """Article id -> the ``<lastmod>`` it lists for that article."""
    dropped: bool = False
    """No index names this sitemap any more: everything it listed is unlisted."""
