"""The ``reparse`` flow: run parse and clean again over the stored raw pages, offline.

Parser improvements thus reach old data. A record whose cleaned content changed becomes
a new version (the old one stays in ``article_revisions``); unchanged records are left
as they are (``last_seen_at`` is not touched: the site was not seen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from baolaocai.settings import load_settings
from flows.crawl import refresh_search
from transforms.pipeline import process_pages
from transforms.quality import QualityReport, assess
from warehouse.db import connect, write_connection
from warehouse.load import load_batch
from warehouse.raw import iter_raw_article_pages

REPARSE_RUN_PREFIX = "reparse-"


@dataclass
class ReparseSummary:
    pages: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    fallback: int = 0
    elapsed_s: float = 0.0


@task(name="reparse-all", cache_policy=NO_CACHE)
def reparse_pages(db_path: str, batch_size: int) -> tuple[ReparseSummary, QualityReport]:
    summary, quality = ReparseSummary(), QualityReport()
    run_id = REPARSE_RUN_PREFIX + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    # Read everything first with a short-lived connection, then write batch by batch:
    # the write lock is held only while a batch is stored.
    reader = connect(db_path, read_only=True)
    try:
        batches = list(iter_raw_article_pages(reader, batch_size=batch_size))
    finally:
        reader.close()
    for pages in batches:
        staged, failures = process_pages(pages)
        with write_connection(db_path) as con:
            counts = load_batch(
                con,
                run_id=run_id,
                seen_at=datetime.now(UTC),
                pages=[],
                articles=staged,
                failures=failures,
                touch_unchanged=False,
            )
        summary.pages += len(pages)
        summary.changed += counts.new + counts.updated
        summary.unchanged += counts.unchanged
        summary.failed += counts.failed
        quality.add(assess(s.article for s in staged))
    summary.fallback = quality.fallback
    return summary, quality


@flow(name="reparse", log_prints=False)
def reparse(db_path: str | None = None, batch_size: int = 200) -> dict[str, Any]:
    """Re-run parse and clean over every stored raw article page; report what changed."""
    started = time.monotonic()
    settings = load_settings().override(db_path=db_path)
    summary, quality = reparse_pages(settings.db_path, batch_size)
    if summary.changed:
        refresh_search(settings)
    summary.elapsed_s = round(time.monotonic() - started, 2)
    get_run_logger().info("reparsed %d pages: %d changed", summary.pages, summary.changed)
    return {**summary.__dict__, "degraded": quality.degraded, "examples": quality.examples}
