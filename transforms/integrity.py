"""Is the page the article its address names? Pure checks before a page may become an
article, or a new version of a stored one.

A site answers more than articles at an article's address: its error page served as 200
(a "soft 404"), a redirect to another article or to the home page, a placeholder that
every unknown address shares. Stored as the article, any of them would overwrite a real
text, or add an "article" that is none. The checks, each a class of such pages:

- **identity** (:func:`identity_problem`): the redirects led to another address (another
  article's, the home page); the page names another address as its own (canonical link,
  ``og:url``); the page is the site's error page (its texts are the site file's
  ``[boilerplate] error_pages``);
- **sameness** (:func:`shared_pages`): one page answered for several article ids in one
  batch (a placeholder is no article);
- **collapse** (:func:`collapsed`): a new version of a stored article whose body fell to a
  fraction of the stored one (a page that lost its text, not an edit of it).

A refused page is a :class:`~baolaocai.models.Failure` of stage :data:`IDENTITY_STAGE`: a
new address is parked like a 404; a stored article keeps its version (the loader records
the capture and counts it as a suspect page).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence, Set

from baolaocai.identity import article_id, redirected_elsewhere
from baolaocai.models import IDENTITY_STAGE, Article, Failure, FetchedPage, StagedArticle
from baolaocai.site import Site
from baolaocai.text import fold_key

ERROR_TITLE_SLACK = 12
"""Folded characters a title may have beyond an error text it starts with (``Lỗi 404 -
Trang không tồn tại``): more, and it is a headline that happens to start so."""
SHORT_PAGE_CHARS = 600
"""A page with a body this short that holds an error text is the error page."""
ERROR_TITLE_BODY_CHARS = 1500
"""... and one titled with an error text anywhere in its title, this short."""
COLLAPSE_MIN_CHARS = 400
"""A stored body shorter than this is never judged collapsed (a brief may be rewritten)."""
COLLAPSE_SHARE = 0.25
"""A new body under this share of the stored one has collapsed."""
REPLACED_SHARE = 0.1
"""Under this share of the stored body's three-word runs left, a page holds another text."""
_DIGITS_RE = re.compile(r"\d+")


def identity_problem(page: FetchedPage, article: Article, site: Site) -> str | None:
    """Why ``article``, read from ``page``, is not the article of ``page.url``; ``None``
    when it is."""
    wanted = article_id(page.url, site)
    if page.redirected_to is not None and redirected_elsewhere(page.redirected_to, page.url, site):
        reached = article_id(page.redirected_to, site)
        what = f"article {reached}" if reached is not None else "not an article"
        return f"redirected to {page.redirected_to} ({what}), not this article"
    declared = article.declared_url
    declared_id = article_id(declared, site) if declared is not None else wanted
    if declared_id != wanted:
        what = f"article {declared_id}" if declared_id is not None else "not an article"
        return f"the page names {declared} as its address ({what}), not this article"
    text = error_text(article, site)
    if text is not None:
        return f"the site's error page served as HTTP {page.status} ({text!r}), not an article"
    return None


def error_text(article: Article, site: Site) -> str | None:
    """The error text of the site's error page that ``article`` shows, if it is one."""
    keys = site.profile.error_page_keys
    if not keys:
        return None
    title = fold_key(article.title or "")
    body = fold_key(article.body)
    for key in keys:
        if title.startswith(key) and len(title) <= len(key) + ERROR_TITLE_SLACK:
            return article.title
        if key in title and len(body) < ERROR_TITLE_BODY_CHARS:
            return article.title
        if key in body and len(body) < SHORT_PAGE_CHARS:
            return _shown(article.body)
    return None


def _shown(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fingerprint(article: Article) -> str:
    """What a placeholder page is known by: its title and text, folded, digits aside (a
    placeholder that echoes the address's id is still one page)."""
    text = f"{fold_key(article.title or '')}\0{fold_key(article.body)}"
    return hashlib.sha256(_DIGITS_RE.sub("", text).encode("utf-8")).hexdigest()


def shared_pages(staged: Sequence[StagedArticle]) -> dict[int, str]:
    """Article id -> :func:`fingerprint`, for every record whose page another id of the
    batch shares: one page answering several article addresses is a placeholder, none of
    them an article (the same article under two ids is not a thing a paper does)."""
    ids_by_print: dict[str, set[int]] = defaultdict(set)
    for s in staged:
        if s.article.article_id is not None:  # the id itself is part of the content hash
            ids_by_print[fingerprint(s.article)].add(s.article.article_id)
    return {i: fp for fp, ids in ids_by_print.items() if len(ids) > 1 for i in ids}


def collapsed(stored_title: str | None, stored_body: str, new: Article) -> str | None:
    """Why ``new`` may not replace the stored version (its title and body given), or
    ``None``: a title gone; a body fallen under :data:`COLLAPSE_SHARE` of a stored body of
    :data:`COLLAPSE_MIN_CHARS` or more; or another text altogether (next to nothing of
    the stored body left, and the title changed or the body halved: another article's
    page, a maintenance notice under the article's title). An edit keeps most words."""
    if stored_title and not new.title:
        return "the new page has no title, the stored version has one; not an edit"
    before = len(stored_body)
    if before < COLLAPSE_MIN_CHARS:
        return None
    if len(new.body) < before * COLLAPSE_SHARE:
        return f"the body collapsed from {before} to {len(new.body)} characters; not an edit"
    kept = _shared_share(stored_body, new.body)
    retitled = fold_key(stored_title or "") != fold_key(new.title or "")
    if kept < REPLACED_SHARE and (retitled or len(new.body) < before * 0.5):
        what = "title and body" if retitled else "body"
        return (
            f"the {what} of another text ({kept:.0%} of the stored body's word runs left);"
            " not an edit"
        )
    return None


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


def _shared_share(before: str, after: str) -> float:
    """Share of the three-word runs of the shorter text that the other one has too."""
    a, b = _shingles(before), _shingles(after)
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _words(text: str) -> list[str]:
    return [w for w in (fold_key(w) for w in text.split()) if w]


def refuse_impostors(
    pages: Sequence[FetchedPage],
    staged: Sequence[StagedArticle],
    site: Site,
    placeholders: Set[str] = frozenset(),
) -> tuple[list[StagedArticle], list[Failure], dict[str, str]]:
    """``staged`` without the records that are not the article of their address
    (:func:`identity_problem`; :func:`shared_pages`; a page whose :func:`fingerprint` is
    among the ``placeholders`` known from earlier batches), a failure of stage
    :data:`~baolaocai.models.IDENTITY_STAGE` for each, and the placeholders this batch
    found (fingerprint -> the first URL that answered it), to remember."""
    by_url = {p.url: p for p in pages}
    shared = shared_pages(staged)
    kept: list[StagedArticle] = []
    refused: list[Failure] = []
    found: dict[str, str] = {}
    for s in staged:
        page = by_url.get(s.article.url or "")
        if page is None:  # read from no page of this batch: nothing to judge it by
            kept.append(s)
            continue
        why = identity_problem(page, s.article, site)
        shared_print = shared.get(s.article.article_id or 0)
        if why is None and shared_print is not None:
            found.setdefault(shared_print, page.url)
            ids = sum(1 for fp in shared.values() if fp == shared_print)
            why = (
                f"the same page answered {ids} article addresses"
                " (a placeholder or an error page), not an article"
            )
        if why is None and placeholders and fingerprint(s.article) in placeholders:
            why = "the placeholder page other article addresses answered, not an article"
        if why is None:
            kept.append(s)
        else:
            refused.append(Failure(page.url, IDENTITY_STAGE, why, page.status, page.attempts))
    return kept, refused, found


def refuse_collapsed(
    pages: Sequence[FetchedPage],
    staged: Sequence[StagedArticle],
    stored: Mapping[int, tuple[str | None, str]],
) -> tuple[list[StagedArticle], list[Failure]]:
    """``staged`` without the new versions of stored articles that :func:`collapsed`
    refuses (``stored``: ``article_id -> (title, body)`` of the stored ones), and a
    failure of stage :data:`~baolaocai.models.IDENTITY_STAGE` for each."""
    by_url = {p.url: p for p in pages}
    kept: list[StagedArticle] = []
    refused: list[Failure] = []
    for s in staged:
        before = stored.get(s.article.article_id or 0)
        why = collapsed(before[0], before[1], s.article) if before is not None else None
        page = by_url.get(s.article.url or "")
        if why is None or page is None:
            kept.append(s)
        else:
            refused.append(Failure(page.url, IDENTITY_STAGE, why, page.status, page.attempts))
    return kept, refused
