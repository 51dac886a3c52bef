"""The ``reparse`` flow: :func:`pipeline.crawl.reparse_archive` with Prefect tasks.

Parser improvements thus reach old data: a record whose cleaned content changed becomes
a new version (the old one stays in ``article_revisions``); unchanged records are left as
they are. The run is recorded in ``crawl_runs`` (kind ``reparse``) like any other.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from baolaocai.errors import WarehouseBusyError
from baolaocai.settings import load_settings
from flows.crawl import current_flow_run_id, publish_report
from flows.tasks import TASK_STEPS
from pipeline.reparse import REPARSE_BATCH, reparse_archive


@flow(name="reparse", log_prints=False)
def reparse(
    db_path: str | None = None,
    batch_size: int = REPARSE_BATCH,
    site: str | None = None,
    writer_wait: float | None = None,
) -> dict[str, Any]:
    """Re-run parse and clean over every stored raw article page of ``site`` (a bundled
    site's key or a site file's path; default ``baolaocai``); report what changed.
    Another run writing the warehouse: ``{"status": "busy", "error": …}`` (after
    ``writer_wait`` seconds of waiting for it)."""
    settings = load_settings().override(site=site, db_path=db_path, writer_wait=writer_wait)
    try:
        run = reparse_archive(
            settings, batch_size=batch_size, steps=TASK_STEPS, flow_run_id=current_flow_run_id()
        )
    except WarehouseBusyError as exc:
        return {"status": "busy", "error": exc.message}
    publish_report(run)
    s = run.summary
    get_run_logger().info("reparsed %d pages: %d changed", run.extra["pages"], s.articles_updated)
    return {
        "status": s.status,
        "error": s.error,
        "warning": s.warning,
        "pages": run.extra["pages"],
        "changed": s.articles_new + s.articles_updated,
        "unchanged": s.articles_unchanged,
        "failed": s.articles_failed,
        "fallback": run.quality.fallback,
        "degraded": run.quality.degraded,
        "examples": run.quality.examples,
        "elapsed_s": s.elapsed_s,
    }
