"""The ``reparse`` flow: :func:`pipeline.crawl.reparse_archive` with Prefect tasks.

Parser improvements thus reach old data: a record whose cleaned content changed becomes
a new version (the old one stays in ``article_revisions``); unchanged records are left as
they are. The run is recorded in ``crawl_runs`` (kind ``reparse``) like any other.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow, get_run_logger

from baolaocai.errors import CrawlError, WarehouseBusyError
from baolaocai.settings import Settings, load_settings
from flows.crawl import current_flow_run_id, publish_report
from flows.tasks import TASK_STEPS
from pipeline.reparse import (
    REPARSE_BATCH,
    ReparsePart,
    RunParts,
    reparse_archive,
    reparse_in_parts,
    run_parts_here,
)
from warehouse.lake import is_lake

PART_FLOW = "reparse-part"


@flow(name="reparse", log_prints=False)
def reparse(
    db_path: str | None = None,
    batch_size: int = REPARSE_BATCH,
    site: str | None = None,
    writer_wait: float | None = None,
    parts: int = 1,
) -> dict[str, Any]:
    """Re-run parse and clean over every stored raw article page of ``site`` (a bundled
    site's key or a site file's path; default ``baolaocai``); report what changed.
    Another run writing the warehouse: ``{"status": "busy", "error": …}`` (after
    ``writer_wait`` seconds of waiting for it).

    ``parts`` > 1: in that many parts side by side (:func:`pipeline.reparse.reparse_in_parts`),
    each a flow run of the site's ``reparse-part`` deployment on the work pool when the
    Prefect server has one (``baolaocai deploy``), else one after another here."""
    settings = load_settings().override(site=site, db_path=db_path, writer_wait=writer_wait)
    try:
        if parts > 1:
            run = reparse_in_parts(
                settings,
                parts=parts,
                run_parts=_run_parts(settings, batch_size),
                steps=TASK_STEPS,
                flow_run_id=current_flow_run_id(),
            )
        else:
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
        "parts": len(run.extra.get("parts", [])) or 1,
        "changed": s.articles_new + s.articles_updated,
        "unchanged": s.articles_unchanged,
        "failed": s.articles_failed,
        "fallback": run.quality.fallback,
        "degraded": run.quality.degraded,
        "examples": run.quality.examples,
        "elapsed_s": s.elapsed_s,
    }


def _run_parts(settings: Settings, batch_size: int) -> RunParts:
    """The parts on the pool (the site's part deployment), or here."""
    from flows.deployments import MANUAL_DEPLOYMENT, deployment_name
    from flows.fanout import deployment_exists, run_parts_on_pool

    name = f"{PART_FLOW}/{deployment_name(MANUAL_DEPLOYMENT, settings.site.key)}"
    if is_lake(settings.db_path) and os.environ.get("PREFECT_API_URL") and deployment_exists(name):
        return run_parts_on_pool(settings, name, batch_size=batch_size)
    get_run_logger().info("no %s deployment on a Prefect server: the parts run here", name)
    return run_parts_here(settings, batch_size=batch_size, steps=TASK_STEPS)


@flow(name=PART_FLOW, log_prints=False)
def reparse_part(
    run_id: str,
    first_id: int,
    last_id: int,
    part_of: str,
    db_path: str | None = None,
    batch_size: int = REPARSE_BATCH,
    site: str | None = None,
) -> dict[str, Any]:
    """One part of a reparse in parts: the stored pages of article ids ``first_id`` to
    ``last_id``, reparsed as run ``run_id`` (the ``reparse`` run ``part_of`` holds the
    site's writer lock for it)."""
    settings = load_settings().override(site=site, db_path=db_path)
    part = ReparsePart(run_id, first_id, last_id, part_of)
    run = reparse_archive(
        settings,
        batch_size=batch_size,
        steps=TASK_STEPS,
        flow_run_id=current_flow_run_id(),
        part=part,
    )
    s = run.summary
    if s.status != "completed":
        raise CrawlError(f"part {run_id} ended {s.status}: {s.error}")
    return {
        "status": s.status,
        "pages": run.extra["pages"],
        "changed": s.articles_new + s.articles_updated,
    }
