"""From fetched pages to loadable records: parse, clean, validate. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable

from baolaocai.errors import ParseError, internal_error
from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.site import Site
from transforms.parse import parse_article
from transforms.validate import content_hash, problems


def process_pages(
    pages: Iterable[FetchedPage], site: Site
) -> tuple[list[StagedArticle], list[Failure]]:
    """Turn pages into staged articles; every page that cannot be loaded becomes a Failure.

    A bad page costs only itself: a :class:`ParseError` keeps its message, and any other
    exception while parsing or validating a page (a parser bug, ``RecursionError``,
    ``MemoryError`` …) becomes a ``parse`` failure ``internal error: <Type>: <message>``
    while the rest of the batch goes on. ``KeyboardInterrupt`` and ``SystemExit`` are
    not caught.
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
                    "fetch",
                    page.error or f"HTTP {page.status}",
                    page.status or None,
                    page.attempts,
                )
            )
            continue
        try:
            article = parse_article(page.html, page.url, site=site)
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
