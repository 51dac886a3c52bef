"""The deployments ``baolaocai serve`` offers: crawl on a schedule, backfill and reparse
on demand. Runs of the same deployment never overlap (a new one is cancelled while the
previous is still going)."""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval

from flows.backfill import backfill
from flows.crawl import crawl
from flows.reparse import reparse

NO_OVERLAP = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
CRAWL_DEPLOYMENT = "scheduled"
MANUAL_DEPLOYMENT = "manual"


def build_deployments(
    *, cron: str | None, timezone: str, interval_s: float | None, parameters: dict[str, Any]
) -> list[RunnerDeployment]:
    schedule = Interval(interval_s) if interval_s else Cron(cron or "0 * * * *", timezone=timezone)
    common: dict[str, Any] = {
        "concurrency_limit": NO_OVERLAP,
        "entrypoint_type": EntrypointType.MODULE_PATH,
        "tags": ["baolaocai"],
    }
    crawl_params = {k: v for k, v in parameters.items() if v is not None}
    return [
        crawl.to_deployment(
            CRAWL_DEPLOYMENT,
            schedules=[schedule],
            parameters=crawl_params,
            description="Crawl baolaocai.vn on a schedule.",
            **common,
        ),
        backfill.to_deployment(
            MANUAL_DEPLOYMENT,
            parameters={k: v for k, v in crawl_params.items() if k in ("base_url", "db_path")},
            description="Fill the archive back to date_from (run it with parameters).",
            **common,
        ),
        reparse.to_deployment(
            MANUAL_DEPLOYMENT,
            parameters={k: v for k, v in crawl_params.items() if k == "db_path"},
            description="Parse the stored raw pages again, offline.",
            **common,
        ),
    ]
