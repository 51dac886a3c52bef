"""Helpers for tests that run ``baolaocai`` (or Prefect) as a separate process."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def clean_env(prefect_home: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without any BAOLAOCAI_* or PREFECT_* setting (a child
    must not inherit the test harness's Prefect server), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAOLAOCAI_", "PREFECT_"))}
    if prefect_home is not None:
        env["PREFECT_HOME"] = str(prefect_home)
    env.update(extra)
    return env


BAOLAOCAI = str(Path(sys.executable).with_name("baolaocai"))
"""The installed ``baolaocai`` command, as users run it."""
