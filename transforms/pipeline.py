"""From fetched pages to loadable records: parse, clean, validate. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable

from baolaocai.errors import ParseError, internal_error
from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.settings import PAGE_ELEMENTS_DEFAULT
from baolaocai.site import Site
from transforms.parse import parse_article
from transforms.validate import content_hash, problems

UNUSABLE_STAGE = "unusable"
"""A fetch that got an answer no article page can be (bigger than the size cap, not HTML,
a redirect off the site or round in circles): the page's own failure, parked like a 404
(``--retry-failed`` asks again, after the cap is raised for instance)."""


def fetch_stage(page: FetchedPage) -> str:
    """``fetch`` for a failure that may pass or is the site's to answer (a timeout, a
    reset, a 5xx, a 403, robots.txt), :data:`UNUSABLE_STAGE` for an answer that is the
    page's own and would be the same at every run (see above)."""
    answered = page.status == 0 or 200 <= page.status < 400
    robots = "robots.txt" in (page.error or "")
    return UNUSABLE_STAGE if answered and not page.transient and not robots else "fetch"


def process_pages(
    pages: Iterable[FetchedPage], site: Site, *, max_elements: int = PAGE_ELEMENTS_DEFAULT
) -> tuple[list[StagedArticle], list[Failure]]:
    """Turn pages into staged articles; every page that cannot be loaded becomes a Failure.

    A bad page costs only itself: a :class:`ParseError` keeps its message, and any other
    exception while parsing or validating a page (a parser bug, ``RecursionError``,
    ``MemoryError`` …) becomes a ``parse`` failure ``internal error: <Type>: <message>``
    while the rest of the batch goes on. ``KeyboardInterrupt`` and ``SystemExit`` are
    not caught. A page of more than ``max_elements`` elements is a ``parse`` failure,
    refused before it is parsed (:func:`~transforms.parse.parse_article`).
    """
    staged: list[StagedArticle] = []
    failures: list[Failure] = []
    for page in pages:
        if page.status == 304:
            continue
        if not page.ok or page.html is None:
            failures.append(
                Failure(
                    page.url,
                    fetch_stage(page),
                    page.error or f"HTTP {page.status}",
                    page.status or None,
                    page.attempts,
                )
            )
            continue
        try:
            article = parse_article(page.html, page.url, site=site, max_elements=max_elements)
            found = problems(article)
            record = None if found else StagedArticle(article, content_hash(article))
        except ParseError as exc:
            failures.append(Failure(page.url, "parse", exc.message, page.status, page.attempts))
            continue
        except Exception as exc:  # one poison page must not sink the batch
            failures.append(
                Failure(page.url, "parse", internal_error(exc), page.status, page.attempts)
            )
            continue
        if record is None:
            failures.append(
                Failure(page.url, "validate", "; ".join(found), page.status, page.attempts)
            )
            continue
        staged.append(record)
    return staged, failures
