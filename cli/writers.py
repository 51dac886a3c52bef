"""Before a command writes a warehouse: is another run writing it?

A second ``crawl``, ``demo``, ``backfill`` or ``reparse`` on a warehouse that a run is
writing waits for it (``--wait``, the default, at most ``BAOLAOCAI_WRITER_WAIT`` seconds),
saying for whom on stderr, or is refused in one line (``--no-wait``, exit 75) -- before
its Prefect server starts and before anything is read from the network. The run itself
then takes the writer lock (:mod:`warehouse.writer`) with the same patience.
"""

from __future__ import annotations

from typing import Annotated

import typer

from baolaocai.settings import Settings
from cli.support import err

WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait",
        help="When another run is writing the warehouse: wait for it (at most"
        " BAOLAOCAI_WRITER_WAIT s, default 3600) or refuse at once (exit 75).",
    ),
]


def claim_warehouse(settings: Settings, wait: bool) -> Settings:
    """Wait until no other run writes ``settings.db_path`` (or refuse: one line, exit 75);
    returns the settings the run takes the writer lock with."""
    from warehouse.session import writer_lock
    from warehouse.writer import Holder

    patience = settings.writer_wait if wait else 0.0

    def say(holder: Holder) -> None:
        err.print(
            f"waiting for {holder.describe()} to finish writing {settings.db_path}"
            f" (at most {patience:g} s; Ctrl-C to give up, --no-wait to refuse at once) …",
            markup=False,
        )

    probe = writer_lock(settings.db_path, settings.site.key)
    probe.acquire(patience, say)
    probe.release()
    return settings.override(writer_wait=patience)
