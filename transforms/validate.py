"""Validation of a cleaned article before it may be loaded. Pure functions."""

from __future__ import annotations

import hashlib
import json
import unicodedata

from baolaocai.models import Article

MIN_BODY_CHARS = 40
MAX_BODY_CHARS = 1_000_000
"""More text than any article has (a long live report runs to some 200,000 characters): a
page of one giant text node or of tens of thousands of paragraphs under the size cap is
a trap, refused (parked) rather than stored and indexed at megabytes a row."""


def problems(article: Article) -> list[str]:
    """What is wrong with ``article``; an empty list means it may be loaded."""
    found: list[str] = []
    if not isinstance(article.article_id, int) or article.article_id <= 0:
        found.append("no article id in the URL")
    if not article.title:
        found.append("no title")
    if len(article.body) < MIN_BODY_CHARS and not article.images:
        found.append(f"body shorter than {MIN_BODY_CHARS} characters and no pictures")
    if len(article.body) > MAX_BODY_CHARS:
        found.append(
            f"body of {len(article.body):,} characters, more than any article"
            f" ({MAX_BODY_CHARS:,}: a page's budget)"
        )
    for name in ("title", "sapo", "body", "author", "category", "source"):
        value = getattr(article, name)
        if value and not unicodedata.is_normalized("NFC", value):
            found.append(f"{name} is not NFC")
    if article.published_at is not None and article.published_at.tzinfo is None:
        found.append("published_at has no time zone")
    return found


def content_hash(article: Article) -> str:
    """sha256 of the cleaned fields: equal hashes mean the reader sees the same article."""
    record = article.to_contract()
    for volatile in (
        "url",
        "extraction_method",
        "page_kind",
        "category_source",
        "missing_fields",
        "field_conflicts",
        "images_dropped",
    ):
        record.pop(volatile, None)
    payload = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
