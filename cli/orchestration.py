"""``baolaocai serve`` and ``baolaocai backfill``: schedules and long runs.

Registered on the main app by :func:`register` (see :mod:`cli.main`). Imports only
:mod:`cli.support` of the CLI, never :mod:`cli.main`.
"""

from __future__ import annotations

import math
import os
import zoneinfo
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import typer

from baolaocai import interrupts
from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.errors import BaoLaoCaiError, ConfigError, WarehouseBusyError
from cli.support import (
    DAY_RANGE,
    EXIT_FAILED,
    RUN_OK,
    SITE_HELP,
    WAREHOUSE_HELP,
    check_number,
    err,
    friendly_errors,
    out,
    parse_day,
    prefect_api,
    print_summary,
    settings_from,
)
from cli.writers import WaitOption, claim_warehouse

DEFAULT_CRON = "0 * * * *"
DEFAULT_TIMEZONE = VIETNAM_TIME_ZONE
MAX_INTERVAL_S = 366 * 24 * 3600.0
SERVE_STOP_GRACE_S = 120.0
"""Seconds ``serve`` has to stop after Ctrl-C or SIGTERM (a scheduled run under way is
recorded interrupted, the Prefect server stopped) before it is ended anyway."""
"""The longest ``serve --interval``: a year."""


def check_timezone(timezone: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ConfigError(f"--timezone {timezone!r} is not a known time zone") from None


def check_cron(cron: str) -> None:
    """Prefect's own check (five fields, no random or hashed parts). It imports Prefect:
    call it only once the Prefect environment is final."""
    from prefect._internal.schemas.validators import validate_cron_string

    try:
        validate_cron_string(cron)
    except ValueError:
        raise ConfigError(f"--cron {cron!r} is not a valid cron expression") from None


def register(app: typer.Typer) -> None:
    @app.command("backfill")
    @friendly_errors
    def backfill_command(
        date_from: Annotated[
            str, typer.Option("--from", help=f"First day to fill (YYYY-MM-DD, {DAY_RANGE}).")
        ],
        date_to: Annotated[
            str | None,
            typer.Option("--to", help="Last day to fill (YYYY-MM-DD; default: today)."),
        ] = None,
        site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
        base_url: Annotated[
            str | None, typer.Option(help="Fetch from this copy (env BAOLAOCAI_BASE_URL).")
        ] = None,
        db: Annotated[str | None, typer.Option("--db", "--warehouse", help=WAREHOUSE_HELP)] = None,
        rate: Annotated[float | None, typer.Option(help="Requests per second (default 1).")] = None,
        concurrency: Annotated[int | None, typer.Option(help="Requests in flight (2).")] = None,
        wait: WaitOption = True,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="No progress display or progress lines.")
        ] = False,
        verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    ) -> None:
        """Fill the archive back to a date, month by month (resumable), with progress: a
        live display on a terminal, plain lines on stderr otherwise."""
        start = parse_day(date_from, "--from")
        end = parse_day(date_to, "--to")
        assert start is not None
        if end is not None and end < start:
            raise ConfigError("--to must not be before --from")
        settings = settings_from(
            site=site, base_url=base_url, db_path=db, rate=rate, concurrency=concurrency
        )
        from warehouse.db import check_warehouse

        check_warehouse(settings.db_path)
        settings = claim_warehouse(settings, wait)
        from cli.progress import watching

        with prefect_api(
            settings, verbose=verbose, quiet=quiet, check_site=True, flow="flows.backfill"
        ):
            from flows.backfill import backfill

            with watching(err, quiet=quiet):
                state = backfill(
                    date_from=start,
                    date_to=end,
                    site=settings.site.path,
                    base_url=settings.base_url,
                    db_path=settings.db_path,
                    rate=settings.rate,
                    concurrency=settings.concurrency,
                    writer_wait=settings.writer_wait,
                    return_state=True,
                )
            data: object = state.result(raise_on_failure=False)
        if isinstance(data, dict) and data.get("status") == "busy":
            raise WarehouseBusyError(str(data.get("error")))
        if not isinstance(data, dict):
            raise BaoLaoCaiError(f"the backfill ended in state {state.name}: {state.message}")
        print_summary(data, settings.db_path)
        out.print(
            f"months done: {len(data.get('months', []))},"
            f" already complete: {data.get('months_skipped', 0)}"
        )
        if data["status"] not in RUN_OK:
            raise typer.Exit(EXIT_FAILED)

    @app.command("serve")
    @friendly_errors
    def serve_command(
        cron: Annotated[str, typer.Option(help="When to crawl (cron).")] = DEFAULT_CRON,
        timezone: Annotated[str, typer.Option(help="Time zone of the cron.")] = DEFAULT_TIMEZONE,
        interval: Annotated[
            float | None,
            typer.Option(
                help=f"Crawl every N seconds instead of the cron (at most {MAX_INTERVAL_S:g})."
            ),
        ] = None,
        site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
        base_url: Annotated[
            str | None, typer.Option(help="Fetch from this copy (env BAOLAOCAI_BASE_URL).")
        ] = None,
        db: Annotated[str | None, typer.Option("--db", "--warehouse", help=WAREHOUSE_HELP)] = None,
        rate: Annotated[float | None, typer.Option(help="Requests per second (default 1).")] = None,
        concurrency: Annotated[int | None, typer.Option(help="Requests in flight (2).")] = None,
        port: Annotated[
            int | None,
            typer.Option(
                help="Port of the local Prefect server, 1 to 65535 (default: a free one)."
            ),
        ] = None,
    ) -> None:
        """Serve the crawl on a schedule (and backfill, reparse on demand) until stopped.

        Without PREFECT_API_URL, starts a local Prefect server on 127.0.0.1 (its own
        PREFECT_HOME beside the warehouse) and stops it on Ctrl-C or SIGTERM; with it,
        serves against that server. Runs of a deployment never overlap: a run due while
        the previous one is still going is cancelled.
        """
        settings = settings_from(
            site=site, base_url=base_url, db_path=db, rate=rate, concurrency=concurrency
        )
        if interval is not None and not (math.isfinite(interval) and interval > 0):
            raise ConfigError("--interval must be a positive number of seconds")
        check_number(interval, "--interval", 0, MAX_INTERVAL_S)
        check_number(port, "--port", 1, 65535)
        check_timezone(timezone)
        # Prefect reads its settings once, when it is first imported (any ``prefect.*``
        # module), and keeps them: the whole environment -- the API URL of the server we
        # are about to start, PREFECT_HOME, logging -- must be set before that. The local
        # server's port is chosen now, so its URL is known before it runs.
        from flows.prefect_server import LocalPrefectServer, claim_exclusive
        from warehouse.db import check_companions
        from warehouse.lake import is_lake

        # One serve per warehouse (per site of a lake: each site's runs are its own
        # writer), and one per local Prefect home (its folder); the locks go with this
        # process, however it ends.
        lake_claim = ExitStack()
        if is_lake(settings.db_path):
            # A lake has no folder of its own to keep serve's Prefect home in: the
            # current folder's warehouse/, as a file's default warehouse would have.
            folder = Path(DEFAULT_WAREHOUSE_FOLDER).resolve()
            lake_claim.enter_context(_serve_turn(settings.db_path, settings.site.key))
            claims = []
        else:
            db_path = Path(settings.db_path).resolve()
            check_companions(db_path)
            folder = db_path.parent
            claims = [claim_exclusive(db_path.with_name(f".{db_path.name}.serve"), str(db_path))]
        server = None
        if not os.environ.get("PREFECT_API_URL"):
            home = folder / ".prefect-server"
            claims.append(claim_exclusive(home / "serve.lock", f"the folder {folder}"))
            server = LocalPrefectServer(home, port)
            os.environ["PREFECT_API_URL"] = server.api_url
            os.environ.setdefault("PREFECT_HOME", str(home))
        from flows.prefect_env import prepare_prefect_env

        prepare_prefect_env(settings.db_path)
        api_url = os.environ["PREFECT_API_URL"]
        # From here on Prefect may be imported. A bad cron is still reported before any
        # server starts; so is Prefect not seeing this environment (imported too early, it
        # would run everything on a temporary server of its own, where no schedule fires).
        if interval is None:
            check_cron(cron)
        from flows.prefect_env import check_prefect_settings

        check_prefect_settings(api_url)

        # Ctrl-C and SIGTERM (a service manager's stop) are serve's ordinary end: both
        # arrive as KeyboardInterrupt (baolaocai.interrupts), the command exits 0.
        interrupts.stop_is_normal(grace=SERVE_STOP_GRACE_S)
        try:
            if server is not None:
                out.print(f"Starting a local Prefect server (PREFECT_HOME={server.home}) …")
                server.start()
                out.print(f"Prefect UI: {server.ui_url}   API: {server.api_url}")
            else:
                out.print(f"Using the Prefect server of PREFECT_API_URL: {api_url}")
            from prefect import serve

            from flows.deployments import build_deployments

            deployments = build_deployments(
                site=settings.site,
                cron=cron,
                timezone=timezone,
                interval_s=interval,
                parameters={
                    "base_url": settings.base_url,
                    "db_path": settings.db_path,
                    "rate": settings.rate,
                    "concurrency": settings.concurrency,
                },
            )
            when = f"every {interval:g} s" if interval else f"'{cron}' ({timezone})"
            key = settings.site.key
            out.print(
                f"Serving {settings.site.name}: crawl/scheduled-{key} {when},"
                f" backfill/manual-{key}, reparse/manual-{key}. Ctrl-C to stop."
            )
            serve(*deployments, print_starting_message=False)
        except KeyboardInterrupt:
            out.print("Stopping …")
        finally:
            if server is not None:
                server.stop()
                out.print("Prefect server stopped.")
            for fd in claims:
                os.close(fd)
            lake_claim.close()


DEFAULT_WAREHOUSE_FOLDER = "warehouse"
"""Where ``serve`` on a lake keeps its Prefect home: the current folder's ``warehouse/``."""


@contextmanager
def _serve_turn(spec: str, site_key: str) -> Iterator[None]:
    """One ``serve`` per site of a lake, on any machine: a lock in the lake's catalog,
    held while serve runs (the server frees it when serve's connection ends)."""
    from warehouse.lake import LakeSpec, catalog_lock

    lake = LakeSpec.parse(spec)
    with ExitStack() as held:
        try:
            held.enter_context(catalog_lock(lake, f"serve:{site_key}", wait_s=0.0))
        except WarehouseBusyError:
            raise WarehouseBusyError(
                f"another 'baolaocai serve' of {site_key} runs on the lake {lake.shown};"
                " stop it first"
            ) from None
        yield
