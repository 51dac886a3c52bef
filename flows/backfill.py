"""The ``backfill`` flow: :func:`pipeline.crawl.backfill_archive` with Prefect tasks, and
one sub-flow (``backfill-<month>``) per monthly sitemap for the Prefect UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State

from baolaocai.errors import WarehouseBusyError
from baolaocai.settings import load_settings
from flows.crawl import busy_state, current_flow_run_id, final_state, publish_report
from flows.host_gate import host_gate_for
from flows.tasks import TASK_STEPS
from pipeline.crawl import backfill_archive
from pipeline.steps import MonthResult
from scrapers.archive import MonthSitemap

MONTH_TIMEOUT_S = 4 * 3600  # a month of ~1,000 articles takes well under an hour at 1 req/s


@flow(
    name="backfill-month",
    flow_run_name="backfill-{sitemap.month}",
    log_prints=False,
    timeout_seconds=MONTH_TIMEOUT_S,
    validate_parameters=False,
)
def backfill_month(work: Callable[[], MonthResult], sitemap: MonthSitemap) -> MonthResult:
    return work()


@flow(name="backfill", log_prints=False, validate_parameters=True)
def backfill(
    date_from: date,
    date_to: date | None = None,
    site: str | None = None,
    base_url: str | None = None,
    db_path: str | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    writer_wait: float | None = None,
) -> State[Any]:
    """Fill the archive with the articles published from ``date_from`` to ``date_to``."""
    settings = load_settings().override(
        site=site,
        base_url=base_url,
        db_path=db_path,
        rate=rate,
        concurrency=concurrency,
        writer_wait=writer_wait,
    )
    gate = host_gate_for(settings)  # politeness shared with other workers, if wanted
    try:
        run = backfill_archive(
            settings,
            date_from,
            date_to,
            steps=replace(TASK_STEPS, month=backfill_month),
            flow_run_id=current_flow_run_id(),
            gate=gate,
        )
    except WarehouseBusyError as exc:
        return busy_state(exc)
    publish_report(run)
    extra: dict[str, Any] = {
        k: run.extra[k] for k in ("months", "months_skipped", "fallback") if k in run.extra
    }
    return final_state(run, extra)
