"""From fetched pages to loadable records: parse, clean, validate. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable

from baolaocai.errors import ParseError
from baolaocai.models import Failure, FetchedPage, StagedArticle
from transforms.parse import parse_article
from transforms.profile import SiteProfile, load_profile
from transforms.validate import content_hash, problems


def process_pages(
    pages: Iterable[FetchedPage], profile: SiteProfile | None = None
) -> tuple[list[StagedArticle], list[Failure]]:
    """Turn pages into staged articles; every page that cannot be loaded becomes a Failure."""
    profile = profile or load_profile()
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
            article = parse_article(page.html, page.url, profile=profile)
        except ParseError as exc:
            failures.append(Failure(page.url, "parse", exc.message, page.status, page.attempts))
            continue
        found = problems(article)
        if found:
            failures.append(
                Failure(page.url, "validate", "; ".join(found), page.status, page.attempts)
            )
            continue
        staged.append(StagedArticle(article, content_hash(article)))
    return staged, failures
