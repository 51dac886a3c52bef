"""Quiet, self-contained Prefect for the CLI: set before ``prefect`` is first imported.

Prefect reads its settings from the environment once, when any ``prefect`` module is
first imported (``import prefect`` builds its global settings context), and keeps them:
a ``PREFECT_*`` variable set afterwards is silently ignored. So every command prepares
the environment first and imports Prefect only then; :func:`check_prefect_settings`
catches a regression (an import moved up) before it runs anything.

Without ``PREFECT_API_URL`` a flow runs against Prefect's ephemeral (temporary, local)
server. We give it its own ``PREFECT_HOME`` beside the warehouse, turn off telemetry
(offline machines, and its first write races the migrations into SQLite "database is
locked" tracebacks), and keep Prefect's own console logging at WARNING unless asked.
A user's explicit ``PREFECT_*`` variables always win.
"""

from __future__ import annotations

import os
from pathlib import Path

from baolaocai.errors import BaoLaoCaiError
from warehouse.spec import local_folder


def prepare_prefect_env(db_path: str, *, verbose: bool = False) -> None:
    env = os.environ
    if "PREFECT_API_URL" not in env and "PREFECT_HOME" not in env:
        env["PREFECT_HOME"] = str(local_folder(db_path) / ".prefect")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server migrates a fresh SQLite file at its first start; on a busy
    # 2-core machine that takes longer than Prefect's default 20 s.
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    env.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    env.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    env.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "WARNING")


def check_prefect_settings(api_url: str | None) -> None:
    """Raise unless Prefect's settings see ``api_url`` and this environment's
    ``PREFECT_HOME``: when Prefect was imported before the environment was final, it
    would quietly start a temporary server instead of using ours (and a temporary server
    cannot run schedules). Imports Prefect."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    problems = []
    if settings.api.url != api_url:
        problems.append(f"PREFECT_API_URL={settings.api.url} instead of {api_url}")
    home = os.environ.get("PREFECT_HOME")
    if home is not None and Path(settings.home).expanduser().resolve() != (
        Path(home).expanduser().resolve()
    ):
        problems.append(f"PREFECT_HOME={settings.home} instead of {home}")
    if problems:
        raise BaoLaoCaiError(
            "Prefect was imported before its environment was set and sees "
            + ", ".join(problems)
            + " (a bug: import prefect only after prepare_prefect_env)"
        )
