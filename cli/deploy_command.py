"""``baolaocai deploy``: several papers' deployments on a process work pool, for workers on
any number of machines.

What ``baolaocai serve`` runs in its own process (:mod:`cli.orchestration`), ``deploy``
puts on the Prefect server of ``PREFECT_API_URL`` for ``prefect worker start --pool
baolaocai`` processes to run: for each site the same deployments
(:func:`flows.deployments.build_deployments`: ``crawl/scheduled-<key>`` on the cron,
``backfill/manual-<key>`` and ``reparse/manual-<key>``, each with the no-overlap limit,
and ``reparse-part/manual-<key>``, the parts of a reparse in parts, side by side),
applied to the pool, and the per-host politeness limits that every worker's requests
to the site share (:func:`flows.host_gate.ensure_host_limits`). Idempotent: a second
deploy updates what the first made.

A worker runs a flow run as a process in its own working directory (job variable
``working_dir: "."``, which the worker resolves; without it, a new temporary folder per
run; no path, no pull step): the entrypoints are module paths
(``flows.crawl.crawl``) and a site is named as every worker finds it, a bundled site by
its key, a site file by its path from the repository root. So a worker needs a checkout
of the repository (``uv sync``) and is started from its root.

Parameters fixed at deploy time, the same for every worker: ``site``, ``rate`` and
``concurrency`` (the host's shared limits are made from them), and ``db_path``, the
warehouse (``--warehouse``, else ``BAOLAOCAI_WAREHOUSE`` / ``BAOLAOCAI_DB``), so every
worker writes the same one. Without one, each worker writes its own default warehouse.

Registered on the main app by :func:`register` (see :mod:`cli.main`). Imports Prefect
only inside the command, once the environment is final (:mod:`flows.prefect_env`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from baolaocai.errors import BaoLaoCaiError, ConfigError, InputError
from cli.orchestration import DEFAULT_CRON, DEFAULT_TIMEZONE, check_cron, check_timezone
from cli.support import friendly_errors, out, settings_from

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient
    from prefect.deployments.runner import RunnerDeployment

    from baolaocai.settings import Settings

DEFAULT_POOL = "baolaocai"
POOL_TYPE = "process"
REPO_ROOT = Path(__file__).resolve().parents[1]
"""The checkout this command runs from: a worker's working directory is its own one."""
WAREHOUSE_ENV = ("BAOLAOCAI_WAREHOUSE", "BAOLAOCAI_DB")
WORKING_DIR = "."
"""A flow run's working directory: the worker's own (resolved by the worker)."""


@dataclass(frozen=True)
class SitePlan:
    """One site to deploy: its settings, and the name workers find its site file by."""

    settings: Settings
    ref: str
    warehouse: str | None
    """The ``db_path`` every worker is given (None: each worker's own default)."""
    base_url: str | None = None
    """A copy of the site the workers fetch from instead of its origin (the benchmark's
    copies on loopback; the command has no flag for it: one copy is one site's)."""

    @property
    def host(self) -> str:
        """The host its requests go to, as the host gate keys it (``host[:port]``)."""
        return urlsplit(self.base_url or self.settings.site.origin).netloc


def site_names(sites: str) -> list[str]:
    """``a, b,c`` -> ``["a", "b", "c"]``, each once, in order."""
    names: list[str] = []
    for part in sites.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    if not names:
        raise InputError("--sites: name at least one site (a bundled site's key or a site file)")
    return names


def site_ref(name: str, settings: Settings, repo_root: Path = REPO_ROOT) -> str:
    """How every worker names the site: a bundled site by its key; a site file by its
    path from the repository root (the workers' working directory) when it is inside
    the checkout, else by its absolute path (which every worker must then have)."""
    from baolaocai.site import SITES_DIR

    path = Path(settings.site.path).resolve()
    if path == (SITES_DIR / f"{name}.toml").resolve():
        return name
    try:
        return path.relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return str(path)


def shown_spec(spec: str) -> str:
    """A warehouse as printed: a lake's spec without its password."""
    from warehouse.spec import is_lake

    if not is_lake(spec):
        return spec
    from warehouse.lake import LakeSpec

    return LakeSpec.parse(spec).shown


def make_warehouse(spec: str) -> None:
    """The warehouse every worker will write, made (or migrated) now, by the one who
    deploys: a lake's catalog unreachable, or a new lake without its data path
    (``BAOLAOCAI_LAKE_DATA``, which the workers then need not have), is one line here,
    not a failed first run on every worker."""
    from warehouse.db import connect

    connect(spec).close()


def warehouse_spec(flag: str | None) -> str | None:
    """The warehouse every worker writes: ``--warehouse``, else the environment's; a
    DuckDB file as an absolute path (a relative one would be each worker's own)."""
    spec = flag
    for var in WAREHOUSE_ENV:
        if spec is None or not spec.strip():
            spec = os.environ.get(var)
    if spec is None or not spec.strip():
        return None
    spec = spec.strip()
    from baolaocai.errors import WarehouseError
    from warehouse.lake import LakeSpec, is_lake

    if is_lake(spec):
        try:
            LakeSpec.parse(spec)  # a mistyped spec is one line now, not in every run
        except WarehouseError as exc:
            raise ConfigError(f"--warehouse: {exc.message}") from None
        return spec
    return str(Path(spec).expanduser().resolve())


def plan_sites(
    names: list[str], *, warehouse: str | None, rate: float | None, concurrency: int | None
) -> list[SitePlan]:
    """Every site's settings, checked before anything is made (an unknown site or a bad
    value is one line, exit 2, and nothing on the server)."""
    plans = []
    for name in names:
        settings = settings_from(site=name, db_path=warehouse, rate=rate, concurrency=concurrency)
        plans.append(SitePlan(settings, site_ref(name, settings), warehouse))
    return plans


def host_caps(plans: list[SitePlan]) -> dict[str, tuple[float, int]]:
    """Each host's shared rate and in-flight cap; sites on one host get the strictest."""
    caps: dict[str, tuple[float, int]] = {}
    for plan in plans:
        rate, inflight = plan.settings.rate, plan.settings.concurrency
        if plan.host in caps:
            rate = min(rate, caps[plan.host][0])
            inflight = min(inflight, caps[plan.host][1])
        caps[plan.host] = (rate, inflight)
    return caps


def register(app: typer.Typer) -> None:
    @app.command("recover")
    @friendly_errors
    def recover_command(
        db: Annotated[
            str | None,
            typer.Option("--db", "--warehouse", help="The lake (env BAOLAOCAI_WAREHOUSE)."),
        ] = None,
        rerun: Annotated[
            bool, typer.Option("--rerun", help="Start each dead run's deployment again.")
        ] = False,
    ) -> None:
        """End the runs of a lake whose worker died (kill -9, a lost machine): their
        Prefect flow runs are marked Crashed (freeing their deployments' slots) and their
        crawl_runs rows interrupted; with --rerun each is started again."""
        settings = settings_from(db_path=db)
        api_url = os.environ.get("PREFECT_API_URL", "").strip()
        if not api_url:
            raise ConfigError(
                "recover needs the Prefect server of the workers: set PREFECT_API_URL"
            )
        from flows.prefect_env import check_prefect_settings, prepare_prefect_env

        prepare_prefect_env(settings.db_path)
        check_prefect_settings(api_url)
        from flows.recovery import recover

        done = recover(settings.db_path, rerun=rerun)
        if not done:
            out.print("no dead run: every run recorded as running holds its lock", markup=False)
        for run, said in done:
            out.print(
                f"{run.kind} run {run.run_id} of {run.site} (since"
                f" {run.started_at:%Y-%m-%d %H:%M:%S %Z}): {said}",
                markup=False,
            )

    @app.command("deploy")
    @friendly_errors
    def deploy_command(
        sites: Annotated[
            str | None,
            typer.Option(
                help="Required. Comma-separated sites: bundled site keys ('baolaocai sites')"
                " or site files' paths, e.g. baolaocai,nuimay."
            ),
        ] = None,
        pool: Annotated[
            str, typer.Option(help="The process work pool (created if missing).")
        ] = DEFAULT_POOL,
        warehouse: Annotated[
            str | None,
            typer.Option(
                help="The warehouse every worker writes: a DuckDB file (workers of this"
                " machine) or ducklake:postgres:<conninfo> (any machine); env"
                " BAOLAOCAI_WAREHOUSE or BAOLAOCAI_DB. Default: each worker's own."
            ),
        ] = None,
        cron: Annotated[str, typer.Option(help="When each site is crawled (cron).")] = DEFAULT_CRON,
        timezone: Annotated[str, typer.Option(help="Time zone of the cron.")] = DEFAULT_TIMEZONE,
        rate: Annotated[
            float | None,
            typer.Option(help="Requests per second per host, across all workers (default 1)."),
        ] = None,
        concurrency: Annotated[
            int | None,
            typer.Option(help="Requests in flight per host, across all workers (default 2)."),
        ] = None,
    ) -> None:
        """Deploy the sites' crawl, backfill and reparse flows to a process work pool on
        the Prefect server of PREFECT_API_URL, with each host's shared politeness limits.

        Then start workers, on any machine with a checkout of this repository, from its
        root: prefect worker start --pool baolaocai. Running it again updates what it made.
        """
        # Every check before anything is asked of the server: one line, exit 2.
        settings_from(rate=rate, concurrency=concurrency)  # numbers: the line names the flag
        if sites is None:
            raise InputError("deploy needs --sites (e.g. --sites baolaocai,nuimay)")
        if not pool.strip():
            raise InputError("--pool must not be empty")
        check_timezone(timezone)
        plans = plan_sites(
            site_names(sites),
            warehouse=warehouse_spec(warehouse),
            rate=rate,
            concurrency=concurrency,
        )
        api_url = os.environ.get("PREFECT_API_URL", "").strip()
        if not api_url:
            raise ConfigError(
                "deploy needs a Prefect server: set PREFECT_API_URL"
                " (e.g. http://127.0.0.1:4200/api)"
            )
        if plans[0].warehouse is not None:
            make_warehouse(plans[0].warehouse)
        from flows.prefect_env import check_prefect_settings, prepare_prefect_env

        prepare_prefect_env(plans[0].settings.db_path)
        check_cron(cron)  # imports Prefect: the environment is final
        check_prefect_settings(api_url)
        # Built here, outside any event loop: within one, Prefect's to_deployment hands
        # back coroutines instead (its sync/async dispatch).
        sites_made = [
            (plan, site_deployments(plan, cron=cron, timezone=timezone)) for plan in plans
        ]
        import asyncio

        for line in asyncio.run(
            deploy(sites_made, pool=pool.strip(), cron=cron, timezone=timezone)
        ):
            out.print(line, markup=False)


def site_deployments(plan: SitePlan, *, cron: str, timezone: str) -> list[RunnerDeployment]:
    """The site's deployments (:func:`flows.deployments.build_deployments`, as
    ``serve`` makes them), with the parameters every worker shares. Call it outside an
    event loop."""
    from flows.deployments import build_deployments

    settings = plan.settings
    parameters: dict[str, Any] = {
        "site": plan.ref,
        "rate": settings.rate,
        "concurrency": settings.concurrency,
        "db_path": plan.warehouse,
        "base_url": plan.base_url,
    }
    made = build_deployments(
        site=settings.site, cron=cron, timezone=timezone, interval_s=None, parameters=parameters
    )
    if not made:  # a bug: built inside an event loop (see the command)
        raise BaoLaoCaiError(f"{settings.site.key}: no deployment was built")
    for deployment in made:
        # Without it a process worker runs each flow run in a new temporary folder, where
        # a relative path (a site file, the default warehouse) is lost with the folder.
        deployment.job_variables.setdefault("working_dir", WORKING_DIR)
    return made


async def deploy(
    sites: list[tuple[SitePlan, list[RunnerDeployment]]], *, pool: str, cron: str, timezone: str
) -> list[str]:
    """Make (or update) the pool, the sites' deployments and the hosts' limits on the
    Prefect server of this process's settings; one line for each thing made."""
    from prefect.client.orchestration import get_client

    from flows.host_gate import ensure_host_limits, inflight_limit_name, rate_limit_name

    async with get_client() as client:
        failure = await client.api_healthcheck()
        if failure is not None:
            reason = str(failure).strip().splitlines()[0][:200] if str(failure).strip() else ""
            raise BaoLaoCaiError(
                f"the Prefect server at {client.api_url} does not answer:"
                f" {reason or type(failure).__name__}"
            )
        lines = [await ensure_pool(client, pool)]
        for plan, deployments in sites:
            for deployment in deployments:
                lines.append(await apply_deployment(client, deployment, plan, pool=pool))
        for host, (rate, inflight) in host_caps([plan for plan, _ in sites]).items():
            await ensure_host_limits(client, host, rate=rate, inflight=inflight)
            lines.append(
                f"host limits {host}: {rate:g} request(s)/s, {inflight} in flight, across"
                f" all workers ({rate_limit_name(host)}, {inflight_limit_name(host)})"
            )
    lines.append(
        f"Start workers from a checkout's root, on any machine: prefect worker start --pool {pool}"
    )
    return lines


async def ensure_pool(client: PrefectClient, pool: str) -> str:
    """The process work pool ``pool``, created with the process worker's own job
    template (what ``prefect work-pool create --type process`` makes) if missing."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        existing = await client.read_work_pool(pool)
    except ObjectNotFound:
        try:
            await client.create_work_pool(
                WorkPoolCreate(
                    name=pool,
                    type=POOL_TYPE,
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                )
            )
            return f"work pool {pool} ({POOL_TYPE}): created"
        except ObjectAlreadyExists:  # another deploy made it meanwhile
            existing = await client.read_work_pool(pool)
    if existing.type != POOL_TYPE:
        raise ConfigError(
            f"work pool {pool!r} is a {existing.type!r} pool; these deployments run on a"
            f" {POOL_TYPE!r} pool (choose another --pool)"
        )
    return f"work pool {pool} ({POOL_TYPE}): exists"


async def apply_deployment(
    client: PrefectClient, deployment: RunnerDeployment, plan: SitePlan, *, pool: str
) -> str:
    """Apply one deployment to ``pool``; its line (created or updated)."""
    from prefect.exceptions import ObjectNotFound

    name = f"{deployment.flow_name}/{deployment.name}"
    try:
        await client.read_deployment_by_name(name)
        done = "updated"
    except ObjectNotFound:
        done = "created"
    await deployment.aapply(work_pool_name=pool)
    when = "on demand"
    for schedule in deployment.schedules or []:
        cron = getattr(schedule.schedule, "cron", None)
        if cron:
            when = f"cron '{cron}' ({getattr(schedule.schedule, 'timezone', None)})"
    warehouse = shown_spec(plan.warehouse) if plan.warehouse else "each worker's own"
    return f"deployment {name}: {done}, {when}, site {plan.ref}, warehouse {warehouse}"
