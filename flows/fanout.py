"""Runs of a deployment side by side on a work pool, each run again if its worker died.

A reparse in parts (:func:`pipeline.reparse.reparse_in_parts`) hands its parts to the
workers of the pool as flow runs of the site's ``reparse-part`` deployment
(:func:`run_parts_on_pool`) and waits for them. A worker killed with ``kill -9`` takes
its flow run's process with it, and nothing tells the Prefect server: the run would stay
*Running* for ever. So while it waits, the parent asks the lake about every part that
Prefect still calls running: a part holds a lock of its own in the lake's catalog
(``<site>#<run id>``, :class:`warehouse.lake.LakeWriterLock`) for its whole life, and the
PostgreSQL server drops it the moment the part's process dies. A part whose
``crawl_runs`` row says *running* while nobody holds its lock is dead: its flow run is
marked *Crashed* and the part is run again (:data:`MAX_ATTEMPTS` in all), on whichever
worker takes it. A part whose run ended Failed or Crashed by itself is run again the same
way. What a dead part committed stays; the part run again finds it unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Crashed

from baolaocai import progress
from baolaocai.errors import CrawlError
from baolaocai.settings import Settings
from baolaocai.site import SITES_DIR
from pipeline.reparse import ReparsePart, RunParts
from warehouse.db import connect
from warehouse.lake import LakeSpec, LakeWriterLock, is_lake

log = logging.getLogger(__name__)

POLL_S = 2.0
STUCK_PENDING_S = 180.0
"""A part taken by a worker (Pending) and not started after this long: that worker died
(a worker starts a flow run's process in seconds)."""
NO_WORKER_WARNING_S = 60.0
"""Said (and again every minute) when no part has left the queue for that long."""
MAX_ATTEMPTS = 3
"""Flow runs of one part at most (the first and two more after a death)."""


@dataclass
class _Tracked:
    part: ReparsePart
    flow_run_id: UUID
    attempts: int = 1
    done: bool = False
    history: list[str] = field(default_factory=list)
    queued_at: float = field(default_factory=time.monotonic)
    """When its flow run was (last) submitted."""


def part_started(settings: Settings, part: ReparsePart) -> bool:
    """Whether ``part`` has a ``crawl_runs`` row (its run opened)."""
    con = connect(settings.db_path, read_only=True)
    try:
        row = con.execute("SELECT 1 FROM crawl_runs WHERE run_id = ?", [part.run_id]).fetchone()
    finally:
        con.close()
    return row is not None


def part_is_dead(settings: Settings, part: ReparsePart) -> bool:
    """Whether ``part`` started and its process is gone: its ``crawl_runs`` row says
    'running' and nobody holds its lock (see the module docstring)."""
    if not is_lake(settings.db_path):
        return False
    con = connect(settings.db_path, read_only=True)
    try:
        row = con.execute(
            "SELECT status FROM crawl_runs WHERE run_id = ?", [part.run_id]
        ).fetchone()
    finally:
        con.close()
    if row is None or row[0] != "running":
        return False
    lock = LakeWriterLock(LakeSpec.parse(settings.db_path), f"{settings.site.key}#{part.run_id}")
    return lock.holder() is None


def run_parts_on_pool(
    settings: Settings,
    deployment: str,
    *,
    batch_size: int,
    is_dead: Callable[[Settings, ReparsePart], bool] = part_is_dead,
) -> RunParts:
    """``run_parts`` that submits each part as a flow run of ``deployment``
    (``reparse-part/manual-<site>``) and waits for all (see the module docstring)."""

    def submit(part: ReparsePart) -> UUID:
        flow_run: FlowRun = run_deployment(  # type: ignore[assignment]
            name=deployment,
            parameters={
                "site": site_parameter(settings),
                "db_path": settings.db_path,
                "batch_size": batch_size,
                **asdict(part),
            },
            timeout=0,  # submitted; waited for below
        )
        return flow_run.id

    def run(plan: Sequence[ReparsePart]) -> None:
        tracked = [_Tracked(part, submit(part)) for part in plan]
        waiting_since = time.monotonic()
        with get_client(sync_client=True) as client:
            while not all(t.done for t in tracked):
                time.sleep(POLL_S)
                states = [client.read_flow_run(t.flow_run_id).state for t in tracked]
                if any(
                    s is not None and not s.is_scheduled() and not s.is_pending() for s in states
                ):
                    waiting_since = time.monotonic()
                elif time.monotonic() - waiting_since > NO_WORKER_WARNING_S:
                    said = (
                        f"none of the {len(tracked)} parts started in"
                        f" {time.monotonic() - waiting_since:.0f} s: is a worker running on"
                        f" the pool of {deployment}? (prefect worker start --pool …)"
                    )
                    log.warning("%s", said)
                    progress.current().phase(f"waiting: {said}")
                    waiting_since = time.monotonic()
                for t, state in zip(tracked, states, strict=True):
                    if t.done:
                        continue
                    if state is not None and state.is_completed():
                        t.done = True
                        continue
                    # failed, crashed, cancelled (by hand, or by its worker's going)
                    ended = state is not None and state.is_final()
                    dead = not ended and state is not None and state.is_running()
                    dead = dead and is_dead(settings, t.part)
                    # Taken by a worker that died before it started the part's process:
                    # Prefect shows it Pending ("Submitting") for ever.
                    stuck = state is not None and state.is_pending()
                    stuck = stuck and time.monotonic() - t.queued_at > STUCK_PENDING_S
                    dead = dead or (stuck and not part_started(settings, t.part))
                    if not (ended or dead):
                        continue
                    what = str(state.name) if ended and state is not None else "its worker died"
                    t.history.append(what)
                    if dead:
                        client.set_flow_run_state(
                            t.flow_run_id,
                            Crashed(message="the worker running this part died (its lock is gone)"),
                            force=True,
                        )
                    if t.attempts >= MAX_ATTEMPTS:
                        t.done = True  # the parent reads its crawl_runs row and fails
                        continue
                    log.warning("part %s: %s; running it again", t.part.run_id, what)
                    t.attempts += 1
                    t.flow_run_id = submit(t.part)
                    t.queued_at = time.monotonic()
        retried = [t for t in tracked if t.attempts > 1]
        for t in retried:
            log.info("part %s ran %d times (%s)", t.part.run_id, t.attempts, ", ".join(t.history))

    return run


def deployment_exists(name: str) -> bool:
    """Whether the Prefect server knows deployment ``name`` (``flow/deployment``)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(name)
        except Exception as exc:  # ObjectNotFound, or a server that answers nothing
            if type(exc).__name__ == "ObjectNotFound":
                return False
            raise CrawlError(f"cannot ask the Prefect server about {name}: {exc}") from None
    return True


def site_parameter(settings: Settings) -> str:
    """The site as a worker on another machine finds it: a bundled site by its key (its
    file is in every checkout), another by its file's path (which must be there too)."""
    site = settings.site
    bundled = SITES_DIR / f"{site.key}.toml"
    return site.key if Path(site.path).resolve() == bundled.resolve() else site.path
