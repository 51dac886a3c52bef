"""Quiet, self-contained Prefect for the CLI: set before ``prefect`` is first imported.

Without ``PREFECT_API_URL`` a flow runs against Prefect's ephemeral (temporary, local)
server. We give it its own ``PREFECT_HOME`` beside the warehouse, turn off telemetry
(offline machines, and its first write races the migrations into SQLite "database is
locked" tracebacks), and keep Prefect's own console logging at WARNING unless asked.
A user's explicit ``PREFECT_*`` variables always win.
"""

from __future__ import annotations

import os
from pathlib import Path


def prepare_prefect_env(db_path: str, *, verbose: bool = False) -> None:
    env = os.environ
    if "PREFECT_API_URL" not in env and "PREFECT_HOME" not in env:
        env["PREFECT_HOME"] = str(Path(db_path).resolve().parent / ".prefect")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server migrates a fresh SQLite file at its first start; on a busy
    # 2-core machine that takes longer than Prefect's default 20 s.
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    env.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    env.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    env.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "WARNING")
