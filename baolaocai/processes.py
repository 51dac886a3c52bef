"""Processes of this machine: is one still running?"""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine still runs (signal 0 only asks; another
    user's process is alive too). A zombie (ended, not yet reaped by its parent) is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: signal 0 is all we know
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
