"""The deployments ``baolaocai serve`` offers: crawl on a schedule, backfill and reparse
on demand.

Runs of the same deployment never overlap: each has a concurrency limit of one with
``CANCEL_NEW`` (:data:`NO_OVERLAP`). The Prefect server enforces it (Prefect 3.9): when
the runner of ``serve`` proposes ``Pending`` for a due run and the slot is taken, the run
becomes ``Cancelled`` ("Deployment concurrency limit reached.") instead of starting; a
run the late-runs service would mark ``Late`` meanwhile is cancelled the same way. So
nothing queues up behind a long crawl, and the next tick after it ends runs normally.
The running flow renews its slot's lease; a finished, crashed or cancelled run frees it.
Manual runs of a deployment (``prefect deployment run``) obey the same limit.
``tests/orchestration/test_no_overlap.py`` checks all this against a real server.

Importing this module imports Prefect: only once the environment is final (see
:mod:`flows.prefect_env`).
"""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval
from prefect.types.entrypoint import EntrypointType

from baolaocai.site import Site
from flows.backfill import backfill
from flows.crawl import crawl
from flows.reparse import reparse, reparse_part

NO_OVERLAP = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
CRAWL_DEPLOYMENT = "scheduled"
MANUAL_DEPLOYMENT = "manual"


def deployment_name(kind: str, site_key: str) -> str:
    """``scheduled-baolaocai``: one deployment of each flow per site, so the schedules of
    several papers served on one Prefect server never collide."""
    return f"{kind}-{site_key}"


def build_deployments(
    *,
    site: Site,
    cron: str | None,
    timezone: str,
    interval_s: float | None,
    parameters: dict[str, Any],
) -> list[RunnerDeployment]:
    schedule = Interval(interval_s) if interval_s else Cron(cron or "0 * * * *", timezone=timezone)
    common: dict[str, Any] = {
        "concurrency_limit": NO_OVERLAP,
        "entrypoint_type": EntrypointType.MODULE_PATH,
        "tags": ["baolaocai", f"site:{site.key}"],
    }
    crawl_params = {k: v for k, v in parameters.items() if v is not None}
    # The site file's path, unless the caller names the site as workers elsewhere find it
    # (``baolaocai deploy``: a bundled site's key, a path from the repository root).
    crawl_params.setdefault("site", site.path)
    # A run that meets another one writing the warehouse (a manual crawl, a backfill) is
    # cancelled at once, like a run that would overlap the deployment's previous one.
    crawl_params.setdefault("writer_wait", 0.0)
    made = [
        crawl.to_deployment(
            deployment_name(CRAWL_DEPLOYMENT, site.key),
            schedules=[schedule],
            parameters=crawl_params,
            description=f"Crawl {site.name} ({site.origin}) on a schedule.",
            **common,
        ),
        backfill.to_deployment(
            deployment_name(MANUAL_DEPLOYMENT, site.key),
            # A backfill fetches too: the same politeness as the crawl.
            parameters={
                k: v
                for k, v in crawl_params.items()
                if k in ("site", "base_url", "db_path", "rate", "concurrency", "writer_wait")
            },
            description="Fill the archive back to date_from (run it with parameters).",
            **common,
        ),
        reparse.to_deployment(
            deployment_name(MANUAL_DEPLOYMENT, site.key),
            parameters={
                k: v for k, v in crawl_params.items() if k in ("site", "db_path", "writer_wait")
            },
            description="Parse the stored raw pages again, offline (parameter parts=N: in"
            " N parts side by side on the pool's workers).",
            **common,
        ),
        # The parts of a reparse in parts run side by side: no overlap limit here (the
        # reparse run they belong to holds the site's writer lock for all of them).
        reparse_part.to_deployment(
            deployment_name(MANUAL_DEPLOYMENT, site.key),
            parameters={k: v for k, v in crawl_params.items() if k in ("site", "db_path")},
            description="One part of a reparse in parts (started by the reparse run).",
            entrypoint_type=EntrypointType.MODULE_PATH,
            tags=common["tags"],
        ),
    ]
    # Called from synchronous code, to_deployment returns the deployment itself.
    return [d for d in made if isinstance(d, RunnerDeployment)]
