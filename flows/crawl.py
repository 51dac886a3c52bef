"""The ``crawl`` flow: :func:`pipeline.crawl.crawl_site` with Prefect tasks as its steps.

All the rules of a run (plan, batches, counters, the failure stop, the drift alarm,
status) live in :mod:`pipeline.run`; this module only names the flow, its parameters
and timeout, publishes the report artifacts and maps the run's status to a state.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, Failed

from baolaocai.errors import WarehouseBusyError
from baolaocai.settings import load_settings
from flows.host_gate import host_gate_for
from flows.tasks import TASK_STEPS
from pipeline.crawl import crawl_site
from pipeline.report import drift_report, run_report
from pipeline.run import Run

CRAWL_TIMEOUT_S = 6 * 3600  # a run that takes longer is stuck; the next scheduled one goes on


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(run: Run) -> None:
    summary = run.summary
    create_markdown_artifact(
        key="crawl-report",
        markdown=run_report(summary, run.changed),
        description=f"{run.kind} {summary.run_id}: {summary.status}",
    )
    if summary.warning:
        create_markdown_artifact(
            key="layout-drift",
            markdown=drift_report(summary, run.quality.examples),
            description="the site's layout seems to have changed",
        )


class _OurStateIsNoCrash(logging.Filter):
    """Prefect's engine, running a deployment's flow run in a process of its own (under
    ``serve``), asks the final state for its result; a Failed or Cancelled state of ours
    holds the run's summary (a dict), not an exception, so the engine logs "Engine
    execution exited with unexpected exception" with a ``TypeError`` traceback. The run
    ended as it says (its state, its message, ``crawl_runs``): that record is noise, and
    ``serve``'s output must carry no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (
            isinstance(exc, TypeError)
            and str(exc).startswith("Unexpected result for failed state: {")
            and "'status': " in str(exc)
        )


_QUIET = _OurStateIsNoCrash()


def _quiet_engine() -> None:
    """Install :class:`_OurStateIsNoCrash` on the logger Prefect's engine reports with."""
    logger = logging.getLogger("prefect.flow_runs")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)


def final_state(run: Run, data: dict[str, Any] | None = None) -> State[Any]:
    """The run's status as a Prefect state holding its summary (and ``data``)."""
    s = run.summary
    data = {**s.to_dict(), **(data or {})}
    if s.status in ("failed", "interrupted"):
        _quiet_engine()
        return Failed(message=s.error or f"{run.kind} {s.status}", data=data)
    if s.status == "warning":
        return Completed(name="Warning", message=s.warning, data=data)
    return Completed(message=f"{run.kind} completed", data=data)


def busy_state(exc: WarehouseBusyError) -> State[Any]:
    """Another run writes the warehouse and this one was not to wait (``serve``'s
    scheduled runs, ``--no-wait``) or waited in vain: the run never started, nothing was
    fetched or recorded. Cancelled, like a run of a deployment that would overlap its
    previous one, with the reason (who writes) as its message."""
    _quiet_engine()
    return Cancelled(message=exc.message, data={"status": "busy", "error": exc.message})


def current_flow_run_id() -> str | None:
    return str(flow_run.id) if flow_run.id else None


@flow(name="crawl", log_prints=False, validate_parameters=True, timeout_seconds=CRAWL_TIMEOUT_S)
def crawl(
    site: str | None = None,
    base_url: str | None = None,
    db_path: str | None = None,
    max_articles: int | None = None,
    concurrency: int | None = None,
    rate: float | None = None,
    max_listing_pages: int | None = None,
    since: date | None = None,
    retry_failed: bool = False,
    recheck_days: float | None = None,
    recheck_interval_h: float | None = None,
    revisit_days: float | None = None,
    writer_wait: float | None = None,
) -> State[Any]:
    """Crawl the site once: new articles in, edits and takedowns caught, nothing lost.

    Every parameter defaults to the settings (``BAOLAOCAI_*`` env vars, then defaults).
    ``site`` is a bundled site's key or a site file's path (default ``baolaocai``).
    ``since`` bounds discovery; ``retry_failed`` fetches again every URL with an open
    fetch error; ``writer_wait``: seconds to wait for another run writing the warehouse.
    Returns a Completed state holding the run summary as a dict (named ``Warning`` on a
    layout-drift alarm), a Failed state with the reason, or a Cancelled one when another
    run writes the warehouse (:func:`busy_state`).
    """
    settings = load_settings().override(
        site=site,
        base_url=base_url,
        db_path=db_path,
        max_articles=max_articles,
        concurrency=concurrency,
        rate=rate,
        max_listing_pages=max_listing_pages,
        recheck_days=recheck_days,
        recheck_interval_h=recheck_interval_h,
        revisit_days=revisit_days,
        writer_wait=writer_wait,
    )
    gate = host_gate_for(settings)  # politeness shared with other workers, if wanted
    try:
        run = crawl_site(
            settings,
            since=since,
            retry_failed=retry_failed,
            steps=TASK_STEPS,
            flow_run_id=current_flow_run_id(),
            gate=gate,
        )
    except WarehouseBusyError as exc:
        return busy_state(exc)
    publish_report(run)
    return final_state(run)
